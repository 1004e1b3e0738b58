"""vCard 3.0 <-> 4.0 conversion: every documented mapping both ways, what is lossy, and corpus round trips that
compare structurally (3 -> 4 -> 3 and 4 -> 3 -> 4 give back every property value)."""

from __future__ import annotations

import base64
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from protocols.formats.vcard import (
    SUPPORTED,
    Property,
    PropertyValue,
    VCardDataError,
    convert,
    index_vcard,
    parse_vcard,
    property_values,
)

CORPUS = Path(__file__).parent.parent / "fixtures" / "vcf"
REFUSED = {"android-stock-21.vcf", "outlook-21.vcf", "google-export-3-cards.vcf"}
ACCEPTED = [path for path in sorted(CORPUS.glob("*.vcf")) if path.name not in REFUSED]
BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
TOKENS = {"TYPE", "ENCODING", "VALUE"}
"""Parameters whose values are case-insensitive tokens."""

JPEG = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(40))).decode()
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()
GIF = base64.b64encode(b"GIF89a" + bytes(range(40))).decode()


def vcf(*lines: str, version: str) -> bytes:
    return ("\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", "UID:u1", *lines, "END:VCARD"]) + "\r\n").encode()


def props(data: bytes) -> list[Property]:
    """The properties after UID, exactly as parsed (order, parameter order and spelling included)."""
    return [prop for prop in parse_vcard(data).properties if prop.key != "UID"]


def structure(data: bytes) -> Counter[tuple[object, ...]]:
    """A card as a multiset of (group, name, value, parameters), modulo the documented, meaning-preserving
    changes: parameter case and order, TYPE lists, base64 white space, binary media-type spelling, VALUE=uri on
    URIs, and tel: URIs versus phone-number text."""
    card = parse_vcard(data)
    items: Counter[tuple[object, ...]] = Counter()
    for key in {prop.key for prop in card.properties}:
        instances = [prop for prop in card.properties if prop.key == key]
        for prop, value in zip(instances, property_values(card, key), strict=True):
            items[(prop.group, key, *_canonical(key, value))] += 1
    return items


def _canonical(key: str, value: PropertyValue) -> tuple[object, ...]:
    text, params = value.text, dict(value.params)
    if key in BINARY:
        text = "".join(text.split(",", 1)[-1].split()) if text.startswith("data:") or "ENCODING" in params else text
        for name in ("ENCODING", "VALUE", "MEDIATYPE", "TYPE"):
            params.pop(name, None)
    elif key == "TEL" and text.lower().startswith("tel:"):
        text = text[4:]
        params.pop("VALUE", None)
    canonical = {name: sorted(v.casefold() if name in TOKENS else v for v in values) for name, values in params.items()}
    return text, tuple(sorted((name, tuple(values)) for name, values in canonical.items()))


# -- corpus round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda path: path.name)
def test_corpus_round_trip_is_lossless(path: Path) -> None:
    data = path.read_bytes()
    card, index = index_vcard(data)
    other = "4.0" if card.version == "3.0" else "3.0"
    converted = convert(data, other)
    converted_card, converted_index = index_vcard(converted)
    assert converted_card.version == other
    assert (converted_index.uid, converted_index.kind) == (index.uid, index.kind)
    assert set(converted_index.terms) == set(index.terms)
    back = convert(converted, card.version)
    assert structure(back) == structure(data)


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda path: path.name)
def test_corpus_conversion_is_stable(path: Path) -> None:
    """A second round trip changes nothing at all: the first one reached the canonical form."""
    data = path.read_bytes()
    version = parse_vcard(data).version
    other = "4.0" if version == "3.0" else "3.0"
    once = convert(convert(data, other), version)
    assert convert(convert(once, other), version) == once


def test_corpus_groups_convert_both_ways() -> None:
    apple = convert((CORPUS / "apple-group.vcf").read_bytes(), "4.0")
    card = parse_vcard(apple)
    assert [value.text for value in property_values(card, "KIND")] == ["group"]
    assert len(property_values(card, "MEMBER")) == 3
    assert not property_values(card, "X-ADDRESSBOOKSERVER-MEMBER")
    davx5 = parse_vcard(convert((CORPUS / "davx5-group-40.vcf").read_bytes(), "3.0"))
    assert [value.text for value in property_values(davx5, "X-ADDRESSBOOKSERVER-KIND")] == ["group"]
    members = property_values(davx5, "X-ADDRESSBOOKSERVER-MEMBER")
    assert [member.text for member in members] == [
        "urn:uuid:d7e2f3a4-5b6c-4d8e-9f01-23456789abcd",
        "urn:uuid:7a3f9c2e-1d4b-4e8a-b6c5-0f9e8d7c6b5a",
    ]


def test_corpus_photos_convert_both_ways() -> None:
    apple = (CORPUS / "apple-ios-17.vcf").read_bytes()
    [photo3] = property_values(parse_vcard(apple), "PHOTO")
    [photo4] = property_values(parse_vcard(convert(apple, "4.0")), "PHOTO")
    assert photo4.text == "data:image/jpeg;base64," + photo3.text and photo4.params == {}
    thunderbird = (CORPUS / "thunderbird-115.vcf").read_bytes()
    [photo4] = property_values(parse_vcard(thunderbird), "PHOTO")
    [photo3] = property_values(parse_vcard(convert(thunderbird, "3.0")), "PHOTO")
    assert photo3.params == {"ENCODING": ["b"], "TYPE": ["PNG"]}
    assert "data:image/png;base64," + photo3.text == photo4.text


# -- each mapping, both ways -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v3", "v4"),
    [
        (["TEL;TYPE=CELL;TYPE=pref:+1 555"], ["TEL;TYPE=CELL;PREF=1:+1 555"]),
        (["EMAIL;TYPE=INTERNET,WORK;TYPE=pref:a@b"], ["EMAIL;TYPE=INTERNET,WORK;PREF=1:a@b"]),
        (["EMAIL;TYPE=pref:a@b", "EMAIL;PREF=2:c@d"], ["EMAIL;PREF=1:a@b", "EMAIL;PREF=2:c@d"]),
        ([f"PHOTO;ENCODING=b;TYPE=JPEG:{JPEG}"], [f"PHOTO:data:image/jpeg;base64,{JPEG}"]),
        ([f"LOGO;ENCODING=b;TYPE=PNG;TYPE=pref:{PNG}"], [f"LOGO;PREF=1:data:image/png;base64,{PNG}"]),
        (["SOUND;ENCODING=b;TYPE=OGG:T2dnUw=="], ["SOUND:data:audio/ogg;base64,T2dnUw=="]),
        (["KEY;ENCODING=b;TYPE=PGP:mQINBF=="], ["KEY:data:application/pgp-keys;base64,mQINBF=="]),
        (["KEY;ENCODING=b;TYPE=X509:MIIC"], ["KEY:data:application/pkix-cert;base64,MIIC"]),
        (["PHOTO;VALUE=uri;TYPE=JPEG:https://x.example/p.jpg"], ["PHOTO;MEDIATYPE=image/jpeg:https://x.example/p.jpg"]),
        (["PHOTO;VALUE=uri:https://x.example/p"], ["PHOTO:https://x.example/p"]),
        (
            ["X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a"],
            ["KIND:group", "MEMBER:urn:uuid:a"],
        ),
        (["N:Yamada;Taro;;;", "SORT-STRING:Yamada Taro"], ["N;SORT-AS=Yamada Taro:Yamada;Taro;;;"]),
        (
            ["ADR;TYPE=WORK:;;Main St 1;Town;;1234;", r'LABEL;TYPE=WORK:Main St 1\n1234 Town\, "North"'],
            ["ADR;TYPE=WORK;LABEL=\"Main St 1^n1234 Town, ^'North^'\":;;Main St 1;Town;;1234;"],
        ),
        (["GEO:37.386013;-122.082932"], ["GEO:geo:37.386013,-122.082932"]),
        (["BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15"], ["BDAY:--0315"]),
        (["BDAY:1985-04-12"], ["BDAY:1985-04-12"]),
        (["X-ANNIVERSARY:2010-06-12", "X-GENDER:F", "X-LANG:de"], ["ANNIVERSARY:2010-06-12", "GENDER:F", "LANG:de"]),
        (["X-RELATED;TYPE=spouse:urn:uuid:b"], ["RELATED;TYPE=spouse:urn:uuid:b"]),
        (["X-SOCIALPROFILE;TYPE=twitter:x-apple:jo"], ["SOCIALPROFILE;TYPE=twitter:x-apple:jo"]),
        (["item1.EMAIL;TYPE=INTERNET:a@b", "item1.X-ABLabel:_$!<Other>!$_"], None),
        (["CLASS:PUBLIC", "MAILER:PigeonMail", "X-CUSTOM;X-P=1:v", "NOTE;LANGUAGE=de:a\\, b\\; c\\n"], None),
    ],
)
def test_mapping_both_ways(v3: list[str], v4: list[str] | None) -> None:
    """Each row: the 3.0 lines convert to exactly the 4.0 lines and back (None: copied unchanged)."""
    three, four = vcf(*v3, version="3.0"), vcf(*(v4 or v3), version="4.0")
    assert props(convert(three, "4.0")) == props(four)
    assert props(convert(four, "3.0")) == props(three)


# -- one-way rewrites and the documented losses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("v3", "v4"),
    [
        (["TEL;CELL;VOICE:1"], ["TEL;TYPE=CELL;TYPE=VOICE:1"]),
        (['TEL;TYPE="cell,voice":1'], ["TEL;TYPE=cell,voice:1"]),
        ([f"PHOTO;BASE64:{JPEG}"], [f"PHOTO:data:image/jpeg;base64,{JPEG}"]),
        ([f"PHOTO;ENCODING=B:{PNG}"], [f"PHOTO:data:image/png;base64,{PNG}"]),
        ([f"PHOTO;ENCODING=b:{GIF}"], [f"PHOTO:data:image/gif;base64,{GIF}"]),
        (["PHOTO;ENCODING=b:AAAAAAAA"], ["PHOTO:data:application/octet-stream;base64,AAAAAAAA"]),
        (["PHOTO;ENCODING=b:!"], ["PHOTO:data:application/octet-stream;base64,!"]),
        ([f"PHOTO;ENCODING=b;TYPE=JPEG: {JPEG[:8]} {JPEG[8:]}"], [f"PHOTO:data:image/jpeg;base64,{JPEG}"]),
        (["PHOTO;ENCODING=b;TYPE=image/webp:UklG"], ["PHOTO:data:image/webp;base64,UklG"]),
        (["KEY;TYPE=PGP:-----BEGIN PGP"], ["KEY;TYPE=PGP:-----BEGIN PGP"]),
        (["LABEL;TYPE=HOME:no address"], ["LABEL;TYPE=HOME:no address"]),
        (["ADR;TYPE=HOME:;;a;;;;", "LABEL;TYPE=WORK:b"], ["ADR;TYPE=HOME:;;a;;;;", "LABEL;TYPE=WORK:b"]),
        (["SORT-STRING:alone"], ["SORT-STRING:alone"]),
        (["N;SORT-AS=a:A;;;;", "SORT-STRING:kept"], ["N;SORT-AS=a:A;;;;", "SORT-STRING:kept"]),
        (["X-ADDRESSBOOKSERVER-KIND:group", "KIND:group"], ["KIND:group"]),
        (["GEO:not a position"], ["GEO:not a position"]),
        (["BDAY;X-APPLE-OMIT-YEAR=1604:1985-03-15"], ["BDAY;X-APPLE-OMIT-YEAR=1604:1985-03-15"]),
    ],
)
def test_to_v4_only(v3: list[str], v4: list[str]) -> None:
    assert props(convert(vcf(*v3, version="3.0"), "4.0")) == props(vcf(*v4, version="4.0"))


@pytest.mark.parametrize(
    ("v4", "v3"),
    [
        (["TEL;VALUE=uri;TYPE=cell:tel:+1-555-0100"], ["TEL;TYPE=cell:+1-555-0100"]),
        (["TEL:tel:+1-555-0100;ext=7"], ["TEL:+1-555-0100;ext=7"]),
        (["TEL;VALUE=TEXT:0221 987654"], ["TEL;VALUE=TEXT:0221 987654"]),
        (["PHOTO;VALUE=URL:data:image/png;base64,AAAA"], ["PHOTO;ENCODING=b;TYPE=PNG:AAAA"]),
        (["PHOTO:data:application/octet-stream;base64,AAAA"], ["PHOTO;ENCODING=b:AAAA"]),
        (["PHOTO;MEDIATYPE=image/jpeg:data:image/png;base64,AAAA"], ["PHOTO;ENCODING=b;TYPE=PNG:AAAA"]),
        (["PHOTO:data:image/svg+xml,%3Csvg%3E"], ["PHOTO;VALUE=uri:data:image/svg+xml,%3Csvg%3E"]),
        (
            ["LOGO;MEDIATYPE=text/x-custom:https://x.example/l"],
            ["LOGO;VALUE=uri;TYPE=text/x-custom:https://x.example/l"],
        ),
        (["KEY;VALUE=text:-----BEGIN PGP"], ["KEY;VALUE=text:-----BEGIN PGP"]),
        (["GEO:geo:35.6852,139.7528,40;u=10"], ["GEO:35.6852;139.7528"]),
        (["BDAY:--03-15"], ["BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15"]),
        (["BDAY;VALUE=text:circa 1800"], ["BDAY;VALUE=text:circa 1800"]),
        (["N;SORT-AS=Mann,James:Mann;James;;;"], ["N:Mann;James;;;", "SORT-STRING:Mann James"]),
        (["N;SORT-AS=a:A;;;;", "SORT-STRING:kept"], ["N;SORT-AS=a:A;;;;", "SORT-STRING:kept"]),
        (
            ["N;ALTID=1;SORT-AS=yamada:山田;;;;", "N;ALTID=1;SORT-AS=Yamada:Yamada;;;;"],
            ["N;ALTID=1:山田;;;;", "SORT-STRING:yamada", "N;ALTID=1;SORT-AS=Yamada:Yamada;;;;"],
        ),
        (["ORG;SORT-AS=ACME:The ACME Corp."], ["ORG;SORT-AS=ACME:The ACME Corp."]),
        (["KIND:individual"], ["X-ADDRESSBOOKSERVER-KIND:individual"]),
        (["MEMBER:mailto:a@example.org"], ["X-ADDRESSBOOKSERVER-MEMBER:mailto:a@example.org"]),
        (["KIND:group", "X-ADDRESSBOOKSERVER-KIND:group"], ["X-ADDRESSBOOKSERVER-KIND:group"]),
        (["FN;ALTID=1;LANGUAGE=ja:山田", "FN;ALTID=1;LANGUAGE=en:Yamada"], None),
        (["EMAIL;PID=1.1:a@b", "CLIENTPIDMAP:1;urn:uuid:c"], ["EMAIL;PID=1.1:a@b", "X-CLIENTPIDMAP:1;urn:uuid:c"]),
    ],
)
def test_to_v3_only(v4: list[str], v3: list[str] | None) -> None:
    assert props(convert(vcf(*v4, version="4.0"), "3.0")) == props(vcf(*(v3 or v4), version="3.0"))


def test_same_version_and_unsupported_targets() -> None:
    data = vcf("FN:a", version="3.0")
    assert convert(data, "3.0") is data
    for version in ("2.1", "4", "", "4.0 "):
        with pytest.raises(VCardDataError) as caught:
            convert(data, version)
        assert caught.value.condition == SUPPORTED


def test_output_is_folded_and_crlf() -> None:
    note = "Ünïcödé " * 40
    for version, other in (("3.0", "4.0"), ("4.0", "3.0")):
        converted = convert(vcf(f"NOTE:{note}", f"PHOTO;ENCODING=b;TYPE=JPEG:{JPEG * 20}", version=version), other)
        lines = converted.split(b"\r\n")
        assert lines[-1] == b"" and b"\n" not in b"".join(lines)
        assert all(len(line) <= 75 and line.decode() for line in lines[:-1])
        assert property_values(parse_vcard(converted), "NOTE")[0].text == note


def test_large_photo_converts_quickly_and_intact() -> None:
    payload = base64.b64encode(b"\xff\xd8\xff" + random.Random(3).randbytes(2 * 1024 * 1024)).decode()
    data = vcf("FN:Big", f"PHOTO;ENCODING=b;TYPE=JPEG:{payload}", version="3.0")
    started = time.perf_counter()
    four = convert(data, "4.0")
    back = convert(four, "3.0")
    assert time.perf_counter() - started < 1.0  # about 70 ms for both on a laptop
    assert property_values(parse_vcard(four), "PHOTO")[0].text == "data:image/jpeg;base64," + payload
    assert property_values(parse_vcard(back), "PHOTO")[0].text == payload
