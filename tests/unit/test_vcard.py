"""Parsing, RFC 6352 validation, the search index, property questions and address-data subsets of vCards;
the real-world corpus in tests/fixtures/vcf, and fuzzing of it."""

from __future__ import annotations

import base64
import random
import time
import unicodedata
from pathlib import Path

import pytest

from protocols.formats.vcard import (
    CAPPED_TERM,
    MAX_TERMS,
    SUPPORTED,
    VALID,
    VCardDataError,
    convert,
    index_vcard,
    normalise_tel,
    normalise_term,
    parse_vcard,
    property_values,
    select_properties,
    serialize,
)

CORPUS = Path(__file__).parent.parent / "fixtures" / "vcf"
FILES = sorted(CORPUS.glob("*.vcf"))
REFUSED = {
    "android-stock-21.vcf": SUPPORTED,
    "outlook-21.vcf": SUPPORTED,
    "google-export-3-cards.vcf": VALID,
}
ACCEPTED = [path for path in FILES if path.name not in REFUSED]
FULLWIDTH = {ord(char): ord(char) + 0xFEE0 for char in "0123456789+"}
"""Japanese phones write fullwidth digits."""


def vcf(*lines: str, version: str = "3.0", uid: str | None = "u1") -> bytes:
    head = [f"VERSION:{version}"] + ([f"UID:{uid}"] if uid is not None else [])
    return ("\r\n".join(["BEGIN:VCARD", *head, *lines, "END:VCARD"]) + "\r\n").encode()


def refused(data: bytes) -> VCardDataError:
    with pytest.raises(VCardDataError) as caught:
        index_vcard(data)
    return caught.value


def terms(data: bytes) -> tuple[tuple[str, str], ...]:
    return index_vcard(data)[1].terms


# -- the corpus ------------------------------------------------------------------------------------------------


def test_corpus_is_complete() -> None:
    assert len(ACCEPTED) >= 14
    assert set(REFUSED) <= {path.name for path in FILES}


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda path: path.name)
def test_corpus_card_is_indexed(path: Path) -> None:
    data = path.read_bytes()
    card, index = index_vcard(data)
    assert index.version == card.version in ("3.0", "4.0")
    assert index.uid and ("UID", normalise_term(index.uid)) in index.terms
    assert all(value == normalise_term(value) or field == "TEL" for field, value in index.terms)
    assert any(field == "FN" for field, _ in index.terms)
    assert convert(data, index.version) is data  # same version: the stored bytes, untouched
    assert select_properties(data, None) is data


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_refusals(name: str) -> None:
    assert refused((CORPUS / name).read_bytes()).condition == REFUSED[name]


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda path: path.name)
def test_serialize_round_trips_every_property(path: Path) -> None:
    card = parse_vcard(path.read_bytes())
    written = serialize(card)
    assert parse_vcard(written) == card
    for line in written.split(b"\r\n")[:-1]:
        assert len(line) <= 75
        line.decode()  # never folded inside a UTF-8 sequence


def test_corpus_quirks_survive() -> None:
    naive = (CORPUS / "japanese-40-naive-fold.vcf").read_bytes()
    assert any(not _decodes(line) for line in naive.split(b"\r\n"))  # the fixture does fold inside characters
    card, index = index_vcard(naive)
    assert [value.text for value in property_values(card, "fn")] == ["山田 太郎", "Taro Yamada"]
    assert property_values(card, "NICKNAME")[0].text == "タロちゃん🍣"
    legacy, _ = index_vcard((CORPUS / "apple-macos-legacy.vcf").read_bytes())
    [photo] = property_values(legacy, "PHOTO")
    assert photo.params == {"ENCODING": ["BASE64"]}
    assert base64.b64decode("".join(photo.text.split())).startswith(b"\xff\xd8\xff")
    assert property_values(legacy, "URL")[0].text == "http://www.mueller-soehne.example"
    handmade, index = index_vcard((CORPUS / "handedited-lf.vcf").read_bytes())
    assert index.uid == "hand-edited-0001"
    assert "allows as folding" in property_values(handmade, "NOTE")[0].text
    assert property_values(handmade, "TEL")[0].params == {"TYPE": ["CELL"]}


def _decodes(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


# -- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b" \r\n\r\n",
        b"\x00\x01\x02garbage",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        vcf("FN:a") + vcf("FN:b", uid="u2"),
        vcf("FN:a")[:-12],  # truncated: no END
        vcf("FN:a", "BEGIN:VCARD", "VERSION:3.0", "FN:agent", "END:VCARD"),
        vcf("FN:a", "no colon here"),
        vcf("FN:a", ";TYPE=x:no name"),
        vcf("FN:a", 'EMAIL;TYPE="unterminated:a@b'),
        b"FN:before\r\n" + vcf("FN:a"),
        vcf("FN:a") + b"NOTE:after\r\n",
        b"BEGIN:VCARD\r\nUID:u1\r\nFN:no version\r\nEND:VCARD\r\n",
        vcf("FN:a", "VERSION:3.0"),
        vcf("FN:caf\xe9").replace("é".encode(), b"\xe9"),
        vcf("FN:a\x01b"),
        vcf("NOTE:a\x0bb"),
        vcf("NOTE:\ufffe"),
        vcf("NOTE:del\x7f"),
        vcf("FN:a", uid=None),
        vcf("FN:a", uid=""),
        vcf("FN:a", "UID:u2"),
    ],
    ids=[
        "empty", "blank", "binary", "vcalendar", "two-cards", "truncated", "nested", "no-colon", "no-name",
        "unterminated-quote", "before-begin", "after-end", "no-version", "two-versions", "latin-1", "control",
        "vertical-tab", "non-character", "delete", "no-uid", "empty-uid", "two-uids",
    ],
)  # fmt: skip
def test_invalid_address_data(data: bytes) -> None:
    error = refused(data)
    assert error.condition == VALID
    assert error.message and len(error.message) < 100


@pytest.mark.parametrize(
    "data",
    [
        vcf("FN:Björn", version="2.1"),
        vcf("FN;CHARSET=Windows-1252:Björn", version="2.1").replace("ö".encode(), b"\xf6"),
        vcf("N;ENCODING=QUOTED-PRINTABLE:=4D=C3=BC;=0A=", "ller", version="2.1"),
        vcf("FN:x", version="5.0"),
        vcf("FN:x", version=""),
    ],
)
def test_unsupported_versions(data: bytes) -> None:
    assert refused(data).condition == SUPPORTED


def test_leniency() -> None:
    """What real address books hold is accepted: no FN or N, lower-case names, "_" in names, valueless
    parameters, LF and CR line ends, a byte-order mark, blank lines, a CHARSET parameter."""
    assert index_vcard(vcf("EMAIL:a@example.org"))[1].uid == "u1"
    assert index_vcard(b"begin:vcard\nversion:4.0\nuid:u1\nx_lotus_name:y\nend:vcard\n")[1].version == "4.0"
    assert index_vcard(b"\xef\xbb\xbfBEGIN:VCARD\rVERSION:3.0\rUID:u1\r\rEND:VCARD\r")[1].uid == "u1"
    card, _ = index_vcard(vcf("TEL;WORK;VOICE:1", "N;CHARSET=UTF-8:D;J;;;", "X-EMPTY:", "NOTE;X-P=:v"))
    assert property_values(card, "TEL")[0].params == {"TYPE": ["WORK", "VOICE"]}
    assert property_values(card, "N")[0].params == {"CHARSET": ["UTF-8"]}
    assert property_values(card, "X-EMPTY")[0].text == ""
    assert property_values(card, "NOTE")[0].params == {"X-P": [""]}


def test_folds_inside_utf8_sequences() -> None:
    """Folding at every byte position of a line with 2-, 3- and 4-byte characters changes nothing."""
    line = "FN:Jürgen 山田 🍣 Weiß".encode()
    expected = terms(vcf("FN:Jürgen 山田 🍣 Weiß"))
    for cut in range(4, len(line)):
        folded = line[:cut] + b"\r\n " + line[cut:]
        data = vcf("FN:x").replace(b"FN:x", folded)
        assert terms(data) == expected, cut
        assert terms(data.replace(b"\r\n", b"\n").replace(b"\n ", b"\n\t")) == expected


def test_pathological_parameters_stay_linear() -> None:
    """vobject's line expression needs minutes for these (exponential backtracking); here they fail at once."""
    lines = ["FN" + ";A=b" * 5000 + ";", "FN;A" + "=" * 5000 + "\x20", 'FN;A="' + ',"' * 5000, "FN;" + ";" * 5000]
    started = time.perf_counter()
    for line in lines:
        assert refused(vcf(line)).condition == VALID
    assert time.perf_counter() - started < 1.0


def test_large_photo_is_fast_and_kept_as_written() -> None:
    payload = base64.b64encode(random.Random(7).randbytes(2 * 1024 * 1024)).decode()
    folded = "\r\n ".join(payload[index : index + 74] for index in range(0, len(payload), 74))
    data = vcf("FN:Big Photo", f"PHOTO;ENCODING=b;TYPE=JPEG:{folded}")
    started = time.perf_counter()
    card, index = index_vcard(data)
    elapsed = time.perf_counter() - started
    assert property_values(card, "PHOTO")[0].text == payload
    assert index.terms == (("UID", "U1"), ("FN", "BIG PHOTO"))
    assert elapsed < 0.5, elapsed  # about 16 ms on a laptop; decoding is never needed


# -- the index -------------------------------------------------------------------------------------------------


def test_terms_answer_prefix_searches() -> None:
    found = terms(vcf("FN:John Doe", "N:Doe;John;;;", "EMAIL;TYPE=work:jo@example.org", "NICKNAME:Johnny,JD"))
    assert found == (
        ("UID", "U1"),
        ("FN", "JOHN DOE"),
        ("N", "DOE"),
        ("N", "JOHN"),
        ("NICKNAME", "JOHNNY"),
        ("NICKNAME", "JD"),
        ("EMAIL", "JO@EXAMPLE.ORG"),
    )
    needle = normalise_term("Jo")
    assert {field for field, value in found if value.startswith(needle)} == {"FN", "N", "NICKNAME", "EMAIL"}
    assert any(value.startswith(normalise_term("DOE")) for _, value in found)


def test_terms_structured_and_non_ascii() -> None:
    found = terms(
        vcf(
            "FN:Dr. Jürgen Weiß",
            r"N:Weiß;Jürgen;Karl\, Maria,Otto;Dr.;",
            "ORG:Müller & Söhne\\, GmbH;Vertrieb",
            "FN:Zoe\u0308",  # decomposed: the same term as NFC "Zoë"
            "FN:  ZOË  ",
            "FN:\ufb01ne \u00b9",  # compatibility forms: the ligature and the superscript decompose
        )
    )
    # RFC 5051 keys: titlecased and fully decomposed, ß kept (simple titlecase has no mapping for it)
    assert [value for field, value in found if field == "N"] == ["WEIß", "JU\u0308RGEN", "KARL, MARIA", "OTTO", "DR."]
    assert [value for field, value in found if field == "ORG"] == ["MU\u0308LLER & SO\u0308HNE, GMBH", "VERTRIEB"]
    assert [value for field, value in found if field == "FN"] == ["DR. JU\u0308RGEN WEIß", "ZOE\u0308", "FINE 1"]
    assert all(unicodedata.is_normalized("NFKD", value) for _, value in found)


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("+1 (555) 123-4567", "+15551234567"),
        ("tel:+1-555-555-5555;ext=5555", "+15555555555"),
        ("TEL:+49-30-1234", "+49301234"),
        ("+49 (0)30 123456-0", "+490301234560"),
        ("090-1234-5678".translate(FULLWIDTH), "09012345678"),
        ("+81 90 1234".translate(FULLWIDTH), "+81901234"),
        ("1-800-FLOWERS", "1800"),
        ("  + 44 20 7946 0958 ", "+442079460958"),
        ("+81-3-1234-5678;ext=102", "+81312345678"),
        ("+1 555 0100;4711", "+15550100"),
        ("n/a", ""),
    ],
)
def test_tel_normalisation(text: str, digits: str) -> None:
    assert normalise_tel(text) == digits


def test_tel_terms() -> None:
    found = terms(vcf("TEL;TYPE=cell:+1 (555) 123-4567", "TEL;VALUE=uri:tel:+1-555-123-4567", "TEL:unknown"))
    assert [value for field, value in found if field == "TEL"] == ["+15551234567"]


def test_terms_are_capped() -> None:
    data = vcf("FN:List", *(f"EMAIL:member{number}@example.org" for number in range(500)))
    found = terms(data)
    assert len(found) == MAX_TERMS
    assert found[:2] == (("UID", "U1"), ("FN", "LIST"))
    assert found[-1] == CAPPED_TERM and CAPPED_TERM not in found[:-1]
    exactly = terms(vcf("FN:List", *(f"EMAIL:m{number}@x" for number in range(MAX_TERMS - 2))))
    assert len(exactly) == MAX_TERMS and CAPPED_TERM not in exactly


@pytest.mark.parametrize(
    ("lines", "version", "kind"),
    [
        ((), "3.0", "individual"),
        ((), "4.0", "individual"),
        (("KIND:group",), "4.0", "group"),
        (("KIND:Org",), "4.0", "org"),
        (("KIND:location",), "4.0", "location"),
        (("KIND:device",), "4.0", "device"),
        (("X-ADDRESSBOOKSERVER-KIND:group",), "3.0", "group"),
        (("x-addressbookserver-kind:GROUP",), "3.0", "group"),
        (("KIND:org", "X-ADDRESSBOOKSERVER-KIND:group"), "4.0", "org"),
        (("KIND:",), "4.0", "individual"),
    ],
)
def test_kinds(lines: tuple[str, ...], version: str, kind: str) -> None:
    assert index_vcard(vcf("FN:x", *lines, version=version))[1].kind == kind


@pytest.mark.parametrize(("name", "kind"), [("apple-group.vcf", "group"), ("davx5-group-40.vcf", "group")])
def test_corpus_groups(name: str, kind: str) -> None:
    card, index = index_vcard((CORPUS / name).read_bytes())
    assert index.kind == kind
    members = property_values(card, "X-ADDRESSBOOKSERVER-MEMBER") or property_values(card, "MEMBER")
    assert len(members) >= 2 and all(member.text.startswith("urn:uuid:") for member in members)


# -- property questions ----------------------------------------------------------------------------------------


def test_property_values() -> None:
    card, _ = index_vcard(
        vcf(
            r"N:Doe;John;Philip,Paul;Dr.;",
            r"ADR;TYPE=home:;;Calle 42\, 3º B;Madrid;;28014;España",
            "item1.EMAIL;type=INTERNET;type=pref:jo@example.org",
            "item1.X-ABLabel:_$!<Other>!$_",
            'TEL;TYPE="voice,home";PREF=1:+1 555',
            "NOTE;X-QUOTE=say ^'hi^'^nbye ^^:line 1\\nline 2\\, with \\; and \\\\",
            "CATEGORIES:a\\,b,c",
            "PHOTO;BASE64:AAAA",
        )
    )
    [name] = property_values(card, "n")
    assert (name.text, name.parts) == ("Doe;John;Philip,Paul;Dr.;", ("Doe", "John", "Philip", "Paul", "Dr."))
    [adr] = property_values(card, "ADR")
    assert adr.text == ";;Calle 42, 3º B;Madrid;;28014;España"
    assert adr.parts == ("Calle 42, 3º B", "Madrid", "28014", "España")
    [email] = property_values(card, "Email")
    assert (email.text, email.params) == ("jo@example.org", {"TYPE": ["INTERNET", "pref"]})
    [tel] = property_values(card, "TEL")
    assert tel.params == {"TYPE": ["voice", "home"], "PREF": ["1"]}
    [note] = property_values(card, "NOTE")
    assert note.text == "line 1\nline 2, with ; and \\"
    assert note.params == {"X-QUOTE": ['say "hi"\nbye ^']}
    assert property_values(card, "CATEGORIES")[0].parts == ("a,b", "c")
    assert property_values(card, "PHOTO")[0].params == {"ENCODING": ["BASE64"]}
    assert property_values(card, "X-ABLABEL")[0].text == "_$!<Other>!$_"
    assert property_values(card, "GEO") == []


# -- address-data subsets --------------------------------------------------------------------------------------


def test_select_properties_keeps_stored_lines() -> None:
    data = (CORPUS / "apple-ios-17.vcf").read_bytes()
    selected = select_properties(data, ("email", "PHOTO"))
    card = parse_vcard(selected)
    assert {prop.key for prop in card.properties} == {"EMAIL", "PHOTO", "UID"}
    assert len(card.properties) == 4
    photo_start = data.index(b"PHOTO;")
    photo = data[photo_start : data.index(b"\r\nUID:", photo_start) + 2]
    assert photo in selected  # folds and all, byte for byte
    assert selected.startswith(b"BEGIN:VCARD\r\nVERSION:3.0\r\n") and selected.endswith(b"END:VCARD\r\n")


def test_select_properties_edge_cases() -> None:
    data = b"\xef\xbb\xbfBEGIN:VCARD\nVERSION:4.0\nFN:A\nUID:u\n\nNOTE:x\n y\nEND:VCARD\n"
    assert select_properties(data, ()) == b"BEGIN:VCARD\nVERSION:4.0\nUID:u\nEND:VCARD\n"
    assert select_properties(data, ("note", "NOPE")) == b"BEGIN:VCARD\nVERSION:4.0\nUID:u\nNOTE:x\n y\nEND:VCARD\n"


# -- fuzzing ---------------------------------------------------------------------------------------------------


def _mutations(data: bytes, rng: random.Random) -> list[bytes]:
    lines = data.split(b"\r\n")
    out = [data[: rng.randrange(len(data))] for _ in range(20)]  # truncations
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(mutated))
            choice = rng.random()
            if choice < 0.4:
                mutated[position] = rng.choice(b':;,="\\\r\n \t^.\x00\xc3\xff')
            elif choice < 0.7:
                del mutated[position : position + rng.randint(1, 8)]
            else:
                mutated[position:position] = rng.randbytes(rng.randint(1, 4))
        out.append(bytes(mutated))
    for _ in range(20):
        shuffled = list(lines)
        index = rng.randrange(len(shuffled))
        operation = rng.random()
        if operation < 0.3:
            del shuffled[index]
        elif operation < 0.6:
            shuffled.insert(rng.randrange(len(shuffled)), shuffled[index])
        else:
            shuffled[index] = shuffled[index].upper() if operation < 0.8 else shuffled[index][::-1]
        out.append(b"\r\n".join(shuffled))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_fuzzed_corpus_raises_only_vcard_data_errors(path: Path) -> None:
    rng = random.Random(path.name)
    for data in _mutations(path.read_bytes(), rng):
        try:
            _, index = index_vcard(data)
        except VCardDataError as error:
            assert error.condition in (VALID, SUPPORTED)
            continue
        for version in ("3.0", "4.0"):
            converted = convert(data, version)
            again, converted_index = index_vcard(converted)
            assert again.version == version
            assert (converted_index.uid, converted_index.kind) == (index.uid, index.kind)
        assert index_vcard(select_properties(data, ("FN",)))[1].uid == index.uid
