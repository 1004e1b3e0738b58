"""Parsing messages into JMAP Email properties (RFC 8621 §4.1) and storage index fields, over the corpus in
tests/fixtures/mail, generated extremes (deep nesting, a 5 MB attachment) and random mutations of the corpus."""

from __future__ import annotations

import base64
import json
import random
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from protocols.formats.mime import (
    MAX_DEPTH,
    MAX_ITEMS,
    ParsedMessage,
    base_subject,
    extract_part,
    parse_attached,
    parse_message,
    part_blob_id,
    split_part_blob_id,
)
from protocols.jmap.types.email import BODY_PART_PROPERTIES, SUMMARY

CORPUS = Path(__file__).parent.parent / "fixtures" / "mail"
FILES = sorted(CORPUS.glob("*.eml"))
# Every Email property the parser computes: all but the metadata the store keeps in columns.
EVERYTHING = ["headers", *SUMMARY, "bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"]
JMAP_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def fixture(name: str) -> ParsedMessage:
    return parse_message((CORPUS / name).read_bytes())


def props(parsed: ParsedMessage, *names: str, **options: Any) -> dict[str, Any]:
    return parsed.properties(names, blob_id="Bmsg", **options)


def ids(parts: list[dict[str, Any]]) -> list[str]:
    return [part["partId"] for part in parts]


def exercise(raw: bytes) -> None:
    """Everything a server asks of a message: must not raise, must give JSON."""
    parsed = parse_message(raw)
    header_props = [f"header:{name}:{form}:all" for name, _ in parsed.root.headers for form in ("asRaw", "asText")]
    header_props += [f"header:{name}" for name, _ in parsed.root.headers]
    result = parsed.properties(
        [*EVERYTHING, *(prop for prop in header_props if "Received" not in prop and ":asText" not in prop)],
        blob_id="Bmsg",
        body_properties=[*BODY_PART_PROPERTIES, "header:Content-Type:asText"],
        fetch_all_body_values=True,
        max_body_value_bytes=100,
    )
    write = parsed.email_write(blob_id="Bmsg", received_at=0, mailbox_ids=frozenset({1}), keywords=frozenset())
    json.dumps([result, write.summary, write.search.__dict__ if hasattr(write.search, "__dict__") else None])
    json.dumps([write.search.body, write.search.headers], ensure_ascii=False).encode("utf-8")
    for part in result["attachments"]:
        assert extract_part(raw, part["partId"]) is not None


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_corpus_parses(path: Path) -> None:
    exercise(path.read_bytes())


def test_mutations_never_raise() -> None:
    rng = random.Random(8621)
    samples = [path.read_bytes() for path in FILES if path.name != "deep-nesting.eml"]
    tokens = [b"\r\n", b"\n", b"--", b"=?utf-8?q?", b"?=", b"boundary=", b'"', b"(", b"<", b":", b";", b"=", b"\x00"]
    for _ in range(600):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(data) + 1)
            choice = rng.random()
            if choice < 0.3:
                data[pos:pos] = rng.choice(tokens)
            elif choice < 0.5 and data:
                data[pos : pos + rng.randint(1, 40)] = b""
            elif choice < 0.7:
                data[pos:pos] = data[rng.randrange(len(data) + 1) :][: rng.randint(1, 200)]
            else:
                data[pos : pos + 1] = bytes([rng.randrange(256)])
        exercise(bytes(data))


@pytest.mark.parametrize("raw", [b"", b"\r\n", b"\x00" * 10, b"Subject", b"Subject:", b":", b"\r\n\r\n--", b"From x\n"])
def test_degenerate_input(raw: bytes) -> None:
    exercise(raw)
    assert parse_message(raw).looks_like_message is (raw == b"Subject:")


def test_looks_like_message() -> None:
    assert all(parse_message(path.read_bytes()).looks_like_message for path in FILES if path.name != "garbage.eml")
    assert not fixture("garbage.eml").looks_like_message
    assert not parse_message(b"\x89PNG\r\n\x1a\n binary").looks_like_message


def test_rfc_8621_worked_example() -> None:
    """§4.1.4: textBody A B C D K, htmlBody A E K, attachments C F G H J."""
    letters = {"1": "A", "2.1.1.1": "B", "2.1.1.2": "C", "2.1.1.3": "D", "2.1.2.1": "E", "2.1.2.2": "F"}
    letters |= {"2.2": "G", "2.3": "H", "2.4": "J", "3": "K"}
    result = props(fixture("rfc8621-example.eml"), "textBody", "htmlBody", "attachments")
    assert [letters[part] for part in ids(result["textBody"])] == list("ABCDK")
    assert [letters[part] for part in ids(result["htmlBody"])] == list("AEK")
    assert [letters[part] for part in ids(result["attachments"])] == list("CFGHJ")


def structure(*parts: tuple[str, str]) -> bytes:
    """A multipart/mixed message of (content-type line, extra header lines) parts, each body its own index."""
    body = "".join(
        f"--b\r\nContent-Type: {ctype}\r\n{extra}\r\npart {index}\r\n" for index, (ctype, extra) in enumerate(parts, 1)
    )
    return f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{body}--b--\r\n".encode()


def nested(subtype: str, boundary: str, *parts: str) -> str:
    inner = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
    return f"multipart/{subtype}; boundary={boundary}\r\n\r\n{inner}--{boundary}--"


@pytest.mark.parametrize(
    ("raw", "text_body", "html_body", "attachments"),
    [
        (structure(("text/plain", "")), ["1"], ["1"], []),
        (structure(("text/plain", ""), ("image/png", "")), ["1", "2"], ["1", "2"], []),  # inline media
        (structure(("text/plain", ""), ("image/png", "Content-Disposition: attachment\r\n")), ["1"], ["1"], ["2"]),
        (
            structure(("text/plain", ""), ("text/plain", 'Content-Disposition: inline; filename="a.txt"\r\n')),
            ["1"],
            ["1"],
            ["2"],
        ),
        (structure(("application/pdf", "")), [], [], ["1"]),
        (structure(("text/html", ""), ("text/calendar", "")), ["1"], ["1"], ["2"]),
        (
            structure(
                (
                    nested(
                        "alternative", "alt", "Content-Type: text/plain\r\n\r\nt", "Content-Type: text/html\r\n\r\nh"
                    ),
                    "",
                )
            ),
            ["1.1"],
            ["1.2"],
            [],
        ),
        (  # an alternative with HTML only: the plain list gets the HTML too
            structure((nested("alternative", "alt", "Content-Type: text/html\r\n\r\nh"), "")),
            ["1.1"],
            ["1.1"],
            [],
        ),
        (  # related: only the first part is a body; the image is an attachment
            structure(
                (nested("related", "rel", "Content-Type: text/html\r\n\r\nh", "Content-Type: image/png\r\n\r\ni"), "")
            ),
            ["1.1"],
            ["1.1"],
            ["1.2"],
        ),
        (  # inline image inside an alternative: in the HTML list and in attachments
            structure(
                (
                    nested(
                        "alternative",
                        "alt",
                        "Content-Type: text/plain\r\n\r\nt",
                        "Content-Type: "
                        + nested("mixed", "mx", "Content-Type: text/html\r\n\r\nh", "Content-Type: image/gif\r\n\r\ng"),
                    ),
                    "",
                )
            ),
            ["1.1"],
            ["1.2.1", "1.2.2"],
            ["1.2.2"],
        ),
    ],
)
def test_body_lists(raw: bytes, text_body: list[str], html_body: list[str], attachments: list[str]) -> None:
    result = props(parse_message(raw), "textBody", "htmlBody", "attachments")
    assert (ids(result["textBody"]), ids(result["htmlBody"]), ids(result["attachments"])) == (
        text_body,
        html_body,
        attachments,
    )


def test_apple_related_inline_image() -> None:
    parsed = fixture("apple-related-inline.eml")
    result = props(parsed, "textBody", "htmlBody", "attachments", "hasAttachment", "preview")
    assert ids(result["textBody"]) == ["1"] and ids(result["htmlBody"]) == ["2.1"]
    assert result["attachments"] == [
        {
            "partId": "2.2",
            "blobId": "Bmsg_2-2",
            "size": 73,
            "name": "view.png",
            "type": "image/png",
            "charset": None,
            "disposition": "inline",
            "cid": "photo-1@example.net",
            "language": None,
            "location": None,
        }
    ]
    assert result["hasAttachment"] is False  # an embedded image is nothing to download
    assert result["preview"] == "Look at this view!"


def test_body_structure_and_body_properties() -> None:
    parsed = fixture("thunderbird-alternative.eml")
    tree = props(parsed, "bodyStructure")["bodyStructure"]
    assert tree["partId"] is None and tree["blobId"] is None and tree["size"] == 0
    assert tree["type"] == "multipart/alternative" and tree["charset"] is None
    assert [(part["partId"], part["type"], part["charset"]) for part in tree["subParts"]] == [
        ("1", "text/plain", "UTF-8"),
        ("2", "text/html", "UTF-8"),
    ]
    chosen = props(parsed, "textBody", body_properties=["type", "header:Content-Type:asText", "headers"])["textBody"]
    assert chosen == [
        {
            "type": "text/plain",
            "header:Content-Type:asText": "text/plain; charset=UTF-8; format=flowed",
            "headers": [
                {"name": "Content-Type", "value": " text/plain; charset=UTF-8; format=flowed"},
                {"name": "Content-Transfer-Encoding", "value": " quoted-printable"},
            ],
        }
    ]
    assert props(parse_message(b"\r\nbody"), "textBody")["textBody"][0]["charset"] == "us-ascii"
    with pytest.raises(ValueError, match="bogus"):
        props(parsed, "textBody", body_properties=["bogus"])
    with pytest.raises(ValueError, match="asNothing"):
        props(parsed, "textBody", body_properties=["header:Content-Type:asNothing"])


def test_header_properties() -> None:
    parsed = fixture("groups.eml")
    result = props(
        parsed,
        "header:To:asGroupedAddresses",
        "header:to",
        "header:Subject:asText:all",
        "header:X-Missing",
        "header:X-Missing:all",
        "header:Date:asDate",
        "header:Bcc:asGroupedAddresses",
        "headers",
    )
    assert result["header:To:asGroupedAddresses"][1]["name"] == "Friends"
    assert result["header:To:asGroupedAddresses"][2] == {"name": "undisclosed-recipients", "addresses": []}
    assert result["header:to"].startswith(' "  James Smythe" <james@example.com>, Friends: jane@example.com,\r\n =?UTF')
    assert result["header:Subject:asText:all"] == ["groups in address lists"]
    assert result["header:X-Missing"] is None and result["header:X-Missing:all"] == []
    assert result["header:Date:asDate"] == "2024-01-12T10:00:00Z"
    assert result["header:Bcc:asGroupedAddresses"] == [{"name": "Empty Group", "addresses": []}]
    assert result["headers"][0] == {"name": "From", "value": ' "Smythe, James" <james@example.com>'}
    for invalid in ("header:From:asDate", "header:Received:asText", "header:X:asBogus"):
        with pytest.raises(ValueError, match=re.escape(invalid)):
            props(parsed, invalid)
    mailing = props(fixture("mailman-digest.eml"), "header:List-Post:asURLs", "header:List-Archive:asURLs")
    assert mailing == {
        "header:List-Post:asURLs": ["mailto:example-list@example.com"],
        "header:List-Archive:asURLs": None,
    }
    received = props(fixture("thunderbird-alternative.eml"), "header:Received:all")["header:Received:all"]
    assert len(received) == 1 and received[0].endswith("(CET)")


def test_summary_of_a_realistic_message() -> None:
    summary = fixture("outlook-mixed-attachments.eml").summary
    assert summary == {
        "messageId": ["AM0PR07MB4098E1C2A3B4C5D6E7F8A9B0C1D2E@AM0PR07MB4098.eurprd07.prod.outlook.com"],
        "inReplyTo": None,
        "references": None,
        "sender": None,
        "from": [{"name": "J\u00fcrgen M\u00fcller", "email": "juergen.mueller@example.de"}],
        "to": [{"name": "Team", "email": "team@example.com"}, {"name": None, "email": "carol@example.com"}],
        "cc": [{"name": "O'Brien, Dave", "email": "dave@example.com"}],
        "bcc": None,
        "replyTo": None,
        "subject": "Quartalsbericht f\u00fcr Q4",
        "sentAt": "2024-01-03T08:15:42Z",
        "hasAttachment": True,
        "preview": "Hallo zusammen, anbei der Bericht f\u00fcr das vierte Quartal und das Diagramm. "
        "Gr\u00fc\u00dfe J\u00fcrgen",
    }


def test_hostile_headers_and_encodings() -> None:
    encoded = fixture("encoded-words.eml").summary
    assert encoded["from"] == [{"name": "\u5c71\u7530\u592a\u90ce", "email": "taro@example.jp"}]
    assert encoded["subject"] == "\U0001f382 party \U0001f3c9 invite and glued=?utf-8?q?word?= and =?utf-8?q?open"
    assert [item["name"] for item in encoded["cc"]] == ["=?unknown-8bit?q?broken?=", "=?utf-8?b?!!notbase64?="]
    eight_bit = fixture("8bit-headers.eml")
    assert eight_bit.summary["subject"] == "R\u00e9union de l'\u00e9quipe"
    assert [item["name"] for item in eight_bit.summary["to"]] == ["\u00c9lodie", "Fran\u00e7ois"]
    assert props(eight_bit, "header:X-Nul")["header:X-Nul"] == " ab"
    missing = fixture("missing-headers.eml").summary
    assert (missing["from"], missing["sentAt"], missing["messageId"]) == (None, None, None)
    assert fixture("invalid-dates.eml").summary["sentAt"] is None
    assert props(fixture("invalid-dates.eml"), "header:X-Date-Two-Digit:asDate") == {
        "header:X-Date-Two-Digit:asDate": "1999-01-01T00:00:00-05:00"
    }


def test_body_values() -> None:
    parsed = fixture("broken-transfer-encodings.eml")
    values = props(parsed, "bodyValues", fetch_all_body_values=True)["bodyValues"]
    assert values == {
        "1": {"value": "Hello world", "isEncodingProblem": True, "isTruncated": False},
        "2": {
            "value": "caf\u00e9 with a broken escape =ZZ and a lone ",
            "isEncodingProblem": True,
            "isTruncated": False,
        },
        "3": {"value": "Uryyb", "isEncodingProblem": True, "isTruncated": False},
    }
    charsets = props(fixture("unknown-charset.eml"), "bodyValues", fetch_text_body_values=True)["bodyValues"]
    assert [(value["value"], value["isEncodingProblem"]) for value in charsets.values()] == [
        ("nuqneH", True),
        ("Caf\u00e9 cr\u00e8me", True),
        ("bad \ufffd\ufffd utf-8", True),
        ("not a text codec", True),
        ("\u4f60\u597d\u9555", False),
    ]
    thunderbird = fixture("thunderbird-alternative.eml")
    assert props(thunderbird, "bodyValues")["bodyValues"] == {}
    text_only = props(thunderbird, "bodyValues", fetch_text_body_values=True)["bodyValues"]
    assert list(text_only) == ["1"] and "\r" not in text_only["1"]["value"]
    assert text_only["1"]["value"].startswith("Hi Bob,\n\nShall we try the caf\u00e9")
    html_only = props(thunderbird, "bodyValues", fetch_html_body_values=True)["bodyValues"]
    assert list(html_only) == ["2"]


def test_truncation_respects_characters_and_tags() -> None:
    raw = "Content-Type: text/plain; charset=utf-8\r\n\r\n\u00e9\u00e9\u00e9".encode()
    value = props(parse_message(raw), "bodyValues", fetch_all_body_values=True, max_body_value_bytes=3)["bodyValues"]
    assert value["1"] == {"value": "\u00e9", "isEncodingProblem": False, "isTruncated": True}
    html = b'Content-Type: text/html\r\n\r\n<p>Hi <a href="https://example.com">link</a></p>'
    value = props(parse_message(html), "bodyValues", fetch_all_body_values=True, max_body_value_bytes=20)["bodyValues"]
    assert value["1"] == {"value": "<p>Hi ", "isEncodingProblem": False, "isTruncated": True}
    value = props(parse_message(html), "bodyValues", fetch_all_body_values=True, max_body_value_bytes=500)["bodyValues"]
    assert value["1"]["isTruncated"] is False


def test_part_blob_ids() -> None:
    blob = part_blob_id("B0123abcd", "2.10.3")
    assert blob == "B0123abcd_2-10-3" and JMAP_ID.fullmatch(blob)
    assert split_part_blob_id(blob) == ("B0123abcd", "2.10.3")
    nested_blob = part_blob_id(blob, "1")
    assert split_part_blob_id(nested_blob) == (blob, "1")
    for other in ("B0123abcd", "_1", "B_x", "B_1-", "B_1--2", "B_"):
        assert split_part_blob_id(other) is None


def test_extract_part_and_attached_messages() -> None:
    raw = (CORPUS / "outlook-mixed-attachments.eml").read_bytes()
    content, media_type, name = extract_part(raw, "2") or (b"", "", None)
    assert content.startswith(b"%PDF-1.4") and media_type == "application/pdf"
    assert name == "Bericht Q4 \u00fcbersicht.pdf"
    assert extract_part(raw, "9") is None
    forward = (CORPUS / "forward-rfc822.eml").read_bytes()
    assert extract_part(forward, "") is None  # the multipart root has no blob
    attached = parse_attached(forward, "2")
    assert attached is not None
    assert attached.summary["subject"] == "Original question" and attached.summary["messageId"] == [
        "original-1@example.com"
    ]
    result = attached.properties(["textBody", "htmlBody"], blob_id=part_blob_id("Bfwd", "2"))
    assert [part["blobId"] for part in result["textBody"]] == ["Bfwd_2_1"]
    assert [part["type"] for part in result["htmlBody"]] == ["text/html"]
    assert attached.raw == (extract_part(forward, "2") or (b"",))[0]  # the original octets, not a re-serialisation
    assert parse_attached(forward, "1") is None  # a text part is no message


def test_email_write() -> None:
    parsed = fixture("html-only.eml")
    write = parsed.email_write(
        blob_id="Bhtml", received_at=123.0, mailbox_ids=frozenset({4}), keywords=frozenset({"$seen"})
    )
    assert (write.blob_id, write.size, write.received_at) == ("Bhtml", len(parsed.raw), 123.0)
    assert write.message_ids == ("news-2024-03@example.com",)
    assert write.reference_ids == ("news-2024-02@example.com", "news-2024-01@example.com")
    assert write.thread_subject == write.sort_subject == "weekly update"
    assert (write.sort_from, write.sort_to) == ("newsletter", "subscriber@example.com")
    assert write.sent_at == 1705388400.0 and write.has_attachment is False and write.delivered is False
    assert write.summary["preview"] == "This week Prices \u20ac 10 & more news. logo image Bye"
    assert "hidden" not in write.search.body and "Weekly" not in write.search.body
    assert "\u20ac 10 & more" in write.search.body
    assert write.search.headers.splitlines()[2] == "subject: Re: RE: Fwd: [News] Weekly update (fwd)"
    mixed = fixture("outlook-mixed-attachments.eml").email_write(
        blob_id="B", received_at=0, mailbox_ids=frozenset({1}), keywords=frozenset(), delivered=True
    )
    assert mixed.search.attachments == "Bericht Q4 \u00fcbersicht.pdf\nchart.png"
    assert mixed.search.from_ == "J\u00fcrgen M\u00fcller <juergen.mueller@example.de>"
    assert mixed.search.to == "Team <team@example.com>, carol@example.com"
    assert mixed.has_attachment is True and mixed.delivered is True
    assert json.loads(json.dumps(mixed.summary)) == mixed.summary


def test_search_body_is_capped() -> None:
    raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "\u00e9".encode() * 400_000
    search = (
        parse_message(raw).email_write(blob_id="B", received_at=0, mailbox_ids=frozenset(), keywords=frozenset()).search
    )
    assert len(search.body.encode("utf-8")) <= 512 * 1024


@pytest.mark.parametrize(
    ("subject", "base"),
    [
        ("Re: Lunch", "lunch"),
        ("RE: re:Fwd: FW: lunch", "lunch"),
        ("Aw: Sv: Antw: Lunch", "lunch"),
        ("Re[2]: Lunch", "lunch"),
        ("[list] Re: [list] Lunch", "lunch"),
        ("[list]", "[list]"),
        ("Lunch (fwd)", "lunch"),
        ("Lunch (fwd) (FWD)", "lunch"),
        ("[Fwd: Re: Lunch]", "lunch"),
        ("  Lunch\t  at   noon ", "lunch at noon"),
        ("Re: ", ""),
        ("", ""),
        ("Reply all", "reply all"),
    ],
)
def test_base_subject(subject: str, base: str) -> None:
    assert base_subject(subject) == base


def test_base_subject_hostile() -> None:
    started = time.perf_counter()
    base_subject("re: " * 100_000 + "[x] " * 100_000 + "(fwd)" * 100_000)
    base_subject("[fwd: " * 50_000 + "x" + "]" * 50_000)
    assert time.perf_counter() - started < 10


def test_deep_nesting_fixture() -> None:
    parsed = fixture("deep-nesting.eml")
    result = props(parsed, "textBody", "attachments")
    assert len(result["textBody"]) == MAX_DEPTH
    opaque = result["attachments"][-1]
    assert opaque["type"] == "multipart/mixed" and opaque["partId"].count(".") == MAX_DEPTH - 1
    assert JMAP_ID.fullmatch(opaque["blobId"])


@pytest.mark.parametrize("kind", ["multipart", "message"])
def test_extreme_nesting_does_not_recurse_away(kind: str) -> None:
    body = b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for level in range(5000):
        if kind == "multipart":
            boundary = b"b%d" % level
            body = b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary + b"\r\n" + body
            body += b"\r\n--" + boundary + b"--\r\n"
        else:
            body = b"Content-Type: message/rfc822\r\n\r\n" + body
    started = time.perf_counter()
    exercise(body)
    print(f"5000 nested {kind} levels: {time.perf_counter() - started:.2f} s")


def test_five_megabyte_attachment() -> None:
    payload = random.Random(5).randbytes(5 * 1024 * 1024)
    raw = (
        b"From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=big\r\n\r\n"
        b"--big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--big\r\n"
        b'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="big.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(payload).replace(b"\n", b"\r\n")
        + b"--big--\r\n"
    )
    started = time.perf_counter()
    parsed = parse_message(raw)
    result = props(parsed, "textBody", "attachments", "bodyStructure", "preview", "hasAttachment")
    parsed.email_write(blob_id="B", received_at=0, mailbox_ids=frozenset({1}), keywords=frozenset())
    print(f"5 MB attachment: parse and all properties in {time.perf_counter() - started:.3f} s")
    assert result["attachments"][0]["size"] == len(payload)
    assert extract_part(raw, "2") == (payload, "application/octet-stream", "big.bin")


def test_many_parts_and_fields() -> None:
    parts = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % index for index in range(5_000))
    headers = b"".join(b"X-H%d: %s\r\n" % (index, b"v" * 50) for index in range(5_000))
    raw = headers + b"Content-Type: multipart/mixed; boundary=p\r\n\r\n" + parts + b"--p--\r\n"
    started = time.perf_counter()
    assert len(props(parse_message(raw), "textBody")["textBody"]) == 5_000
    print(f"5,000 parts and 5,000 header fields: {time.perf_counter() - started:.2f} s")


@pytest.mark.parametrize(
    "raw",
    [
        b"a: b\n" * 1_000_000,
        b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\n" * 500_000,
        b"Content-Type: multipart/mixed; boundary=b\n\n"
        + b"--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\n--c\n" * 9_000,
    ],
    ids=["million-fields", "half-million-parts", "many-small-multiparts"],
)
def test_hostile_amounts_are_cut_short(raw: bytes) -> None:
    started = time.perf_counter()
    parsed = parse_message(raw)
    parsed.email_write(blob_id="B", received_at=0, mailbox_ids=frozenset(), keywords=frozenset())
    result = props(parsed, "bodyStructure", "textBody", "attachments", body_properties=["partId", "size"])
    print(f"{len(raw):,} octets: {time.perf_counter() - started:.2f} s")
    assert len(parsed.root.headers) + len(result["textBody"]) + len(result["attachments"]) <= MAX_ITEMS + 1


def test_mbox_and_bare_lf() -> None:
    mbox = fixture("mbox-from-line.eml")
    assert mbox.message.get_unixfrom() == "From alice@example.org Tue Jan  2 10:00:00 2024"
    assert mbox.summary["subject"] == "exported from an mbox"
    bare = props(fixture("bare-lf.eml"), "bodyValues", "attachments", fetch_all_body_values=True)
    assert bare["bodyValues"]["1"]["value"] == "cron output\nline two"
    assert bare["attachments"][0]["name"] == "cron.log"


def test_digest_and_delivery_status() -> None:
    digest = props(fixture("mailman-digest.eml"), "attachments")["attachments"]
    assert [(part["partId"], part["type"]) for part in digest] == [(f"2.{i}", "message/rfc822") for i in (1, 2, 3)]
    report = props(fixture("delivery-status.eml"), "attachments")["attachments"]
    assert [part["type"] for part in report] == ["message/delivery-status", "text/rfc822-headers"]


def test_broken_multiparts_become_leaves() -> None:
    result = props(fixture("broken-multiparts.eml"), "bodyStructure", body_properties=["partId", "type", "subParts"])
    leaves = [(part["partId"], part["type"], part["subParts"] is None) for part in result["bodyStructure"]["subParts"]]
    assert leaves == [
        ("1", "multipart/alternative", True),
        ("2", "multipart/related", True),
        (None, "multipart/mixed", False),
        ("4", "text/plain", True),
        ("5", "text/plain", True),
    ]


def test_email_message_tree() -> None:
    parsed = fixture("apple-related-inline.eml")
    assert isinstance(parsed.message, EmailMessage)
    assert [part.get_content_type() for part in parsed.message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    assert parsed.message["Subject"] == "Holiday photo"
    forward = fixture("forward-rfc822.eml").message
    attached = forward.get_payload(1)
    assert isinstance(attached, EmailMessage) and attached.get_content_type() == "message/rfc822"
    inner = attached.get_payload(0)
    assert isinstance(inner, EmailMessage) and inner["Subject"] == "Original question"
