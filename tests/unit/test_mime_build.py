"""Generating messages from JMAP Email create objects (RFC 8621 §4.6): the output is valid MIME, parses back to the
same JMAP values, and every rule of Email/set create is enforced."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest

from protocols.formats.mime import ParsedMessage, extract_part, parse_message
from protocols.formats.mime_build import BlobNotFound, InvalidEmail, build_message

NOW = 1704186000.0  # 2024-01-02T09:00:00Z
BLOBS: dict[str, tuple[bytes, str | None]] = {
    "Bpdf": (b"%PDF-1.4\n\x00\xff binary \r\n", "application/pdf"),
    "Bpng": (b"\x89PNG\r\n\x1a\n....", "image/png"),
    "Bnote": (b"plain note\n", None),
    "Beml": (b"From: a@example.com\nSubject: attached\n\nbody \xc3\xa9\n", "message/rfc822"),
    "Bmulti": (b"--x--", "multipart/mixed; boundary=x"),
}
ADDRESS_PROPERTIES = ("from", "to", "cc", "bcc", "replyTo", "sender")


def build(email: dict[str, Any]) -> bytes:
    return build_message(email, resolve_blob=BLOBS.get, now=NOW, message_id_domain="example.org")


def parsed(email: dict[str, Any]) -> ParsedMessage:
    raw = build(email)
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    return parse_message(raw)


def body(text: str = "Hello") -> dict[str, Any]:
    return {"textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": text}}}


def invalid(email: dict[str, Any], prop: str) -> None:
    with pytest.raises(InvalidEmail) as caught:
        build(email)
    assert caught.value.args == (caught.value.property, caught.value.description)
    assert caught.value.property == prop, caught.value


def test_round_trip_of_envelope_and_header_forms() -> None:
    email = {
        "mailboxIds": {"m1": True},
        "keywords": {"$draft": True},
        "receivedAt": "2024-01-02T09:00:00Z",
        "from": [{"name": "J\u00fcrgen M\u00fcller", "email": "juergen@example.de"}],
        "sender": [{"name": None, "email": "secretary@example.de"}],
        "to": [{"name": "Smith, John", "email": "john@example.com"}, {"name": None, "email": "jane@example.com"}],
        "cc": [{"name": 'Dave "The Rave" O\'Brien', "email": "dave@example.com"}],
        "bcc": [{"name": "\u5c71\u7530\u592a\u90ce", "email": "taro@example.jp"}],
        "replyTo": [{"name": "List", "email": "list@example.com"}],
        "subject": "Re: Caf\u00e9 meeting \u2014 agenda" + " long words" * 30,
        "sentAt": "2024-01-02T10:00:00+01:00",
        "messageId": ["unique-1@example.de"],
        "inReplyTo": ["parent@example.com"],
        "references": ["root@example.com", "parent@example.com"],
        "header:X-Text:asText": "=?not an encoded word?= and \u00fcml\u00e4uts",
        "header:X-Raw": " raw value,\r\n folded",
        "header:X-Date:asDate": "2023-12-24T18:00:00-05:00",
        "header:List-Unsubscribe:asURLs": ["mailto:list-leave@example.com", "https://example.com/u?x=1"],
        "header:Resent-To:asGroupedAddresses": [
            {"name": "Friends", "addresses": [{"name": "A", "email": "a@example.com"}]},
            {"name": None, "addresses": [{"name": None, "email": "b@example.com"}]},
            {"name": "Nobody", "addresses": []},
        ],
        "header:X-Many:asText:all": ["first", "second"],
        **body(),
    }
    result = parsed(email).properties(
        [*ADDRESS_PROPERTIES, "subject", "sentAt", "messageId", "inReplyTo", "references"]
        + [key for key in email if key.startswith("header:")],
        blob_id="B",
    )
    for key, value in result.items():
        assert value == email[key], key


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "x" * 2000,
        "word " * 400,
        "\u00e9" * 500,
        "=?utf-8?q?looks_encoded?=",
        "mixed \U0001f382 emoji and e\u0301 combining",
        "tab\tinside",
    ],
)
def test_subjects_round_trip(value: str) -> None:
    assert parsed({"subject": value, **body()}).summary["subject"] == unicodedata.normalize("NFC", value).strip()


@pytest.mark.parametrize(
    "address",
    [
        {"name": None, "email": "a@example.com"},
        {"name": "Plain Name", "email": "a@example.com"},
        {"name": "Name, With Comma", "email": "a@example.com"},
        {"name": 'back\\slash "quote"', "email": "a@example.com"},
        {"name": "\u00c9lodie \u00c0 la plage " * 10, "email": "a@example.com"},
        {"name": "=?utf-8?q?x?=", "email": "a@example.com"},
        {"name": "Draft", "email": "incomplete"},
        {"name": "Quoted", "email": '"john doe"@example.com'},
        {"name": "Literal", "email": "x@[192.0.2.1]"},
    ],
)
def test_addresses_round_trip(address: dict[str, Any]) -> None:
    result = parsed({"to": [address], **body()}).summary["to"]
    expected = {**address, "name": address["name"].strip() if address["name"] else None}
    assert result == [expected]


def test_address_encoding_details() -> None:
    result = parsed({"to": [{"name": None, "email": "carol@b\u00fccher.example"}], **body()}).summary["to"]
    assert result == [{"name": None, "email": "carol@xn--bcher-kva.example"}]
    assert parsed({"to": [{"name": None, "email": "john doe@example.com"}], **body()}).summary["to"] == [
        {"name": None, "email": '"john doe"@example.com'}
    ]
    assert parsed({"to": [], **body()}).summary["to"] == []


def test_defaults_and_wire_format() -> None:
    raw = build(body("Hello\nworld"))
    head, _, content = raw.partition(b"\r\n\r\n")
    assert re.search(rb"^Date: Tue, 02 Jan 2024 09:00:00 \+0000\r$", head + b"\r", re.M)
    assert re.search(rb"^Message-ID: <[0-9a-f]{32}@example\.org>\r$", head + b"\r", re.M)
    assert b"MIME-Version: 1.0" in head and b"Content-Type: text/plain; charset=utf-8" in head
    assert content == b"Hello\r\nworld" and raw.isascii()
    message = parse_message(raw)
    assert message.summary["sentAt"] == "2024-01-02T09:00:00Z"
    assert message.summary["messageId"] is not None and message.summary["messageId"][0].endswith("@example.org")
    assert b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\r\n" not in build({})
    assert parse_message(build({})).properties(["textBody"], blob_id="B")["textBody"][0]["type"] == "text/plain"


def test_text_encodings() -> None:
    cases = {
        "ascii\nlines": "7bit",
        "caf\u00e9": "quoted-printable",
        "x" * 1200: "quoted-printable",
        "nul\0": "quoted-printable",
    }
    for value, encoding in cases.items():
        raw = build(body(value))
        assert f"Content-Transfer-Encoding: {encoding}".encode() in raw
        values = parse_message(raw).properties(["bodyValues"], blob_id="B", fetch_all_body_values=True)
        assert values["bodyValues"]["1"]["value"] == value


def structure(message: ParsedMessage) -> tuple[list[str], list[str], list[str]]:
    result = message.properties(["textBody", "htmlBody", "attachments"], blob_id="B", body_properties=["type"])
    return tuple([part["type"] for part in result[key]] for key in ("textBody", "htmlBody", "attachments"))  # type: ignore[return-value]


def test_body_shapes() -> None:
    html: dict[str, Any] = {
        "htmlBody": [{"partId": "h"}],
        "bodyValues": {"h": {"value": "<p>Hi <img src='cid:logo'></p>"}},
    }
    both = {**body(), "htmlBody": html["htmlBody"], "bodyValues": {**body()["bodyValues"], **html["bodyValues"]}}
    pdf = {"blobId": "Bpdf", "name": "report.pdf"}
    logo = {"blobId": "Bpng", "cid": "logo", "disposition": "inline", "name": "logo.png"}
    assert structure(parsed(body())) == (["text/plain"], ["text/plain"], [])
    assert structure(parsed(html)) == (["text/html"], ["text/html"], [])
    assert parse_message(build(both)).message.get_content_type() == "multipart/alternative"
    assert structure(parsed(both)) == (["text/plain"], ["text/html"], [])
    with_files = parsed({**both, "attachments": [pdf, logo]})
    assert with_files.message.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in with_files.message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    assert structure(with_files) == (["text/plain"], ["text/html"], ["image/png", "application/pdf"])
    attachments = with_files.properties(["attachments", "hasAttachment"], blob_id="B")
    assert [(part["name"], part["disposition"], part["cid"]) for part in attachments["attachments"]] == [
        ("logo.png", "inline", "logo"),
        ("report.pdf", "attachment", None),
    ]
    assert attachments["hasAttachment"] is True
    only_files = parsed({"attachments": [pdf, {"blobId": "Bnote"}]})
    assert structure(only_files) == ([], [], ["application/pdf", "application/octet-stream"])


def test_attachments_keep_their_octets() -> None:
    names = ["r\u00e9sum\u00e9 " * 12 + ".pdf", 'quote".txt', "plain.bin"]
    email = {
        **body(),
        "attachments": [
            {"blobId": "Bpdf", "name": names[0], "type": "application/pdf"},
            {"blobId": "Bnote", "name": names[1], "type": "text/plain", "charset": "us-ascii"},
            {"blobId": "Beml", "name": names[2]},
        ],
    }
    raw = build(email)
    attachments = parse_message(raw).properties(["attachments"], blob_id="B")["attachments"]
    assert [part["name"] for part in attachments] == names
    assert [part["type"] for part in attachments] == ["application/pdf", "text/plain", "message/rfc822"]
    assert attachments[1]["charset"] == "us-ascii"
    assert extract_part(raw, attachments[0]["partId"]) == (BLOBS["Bpdf"][0], "application/pdf", names[0])
    assert extract_part(raw, attachments[1]["partId"]) == (BLOBS["Bnote"][0], "text/plain", names[1])
    attached = extract_part(raw, attachments[2]["partId"])
    assert attached is not None and attached[0] == BLOBS["Beml"][0].replace(b"\n", b"\r\n")
    assert b"Content-Transfer-Encoding: 8bit" in raw


def test_body_structure() -> None:
    """The draft of RFC 8621 §4.6's example: a bodyStructure with the HTML first."""
    email = {
        "from": [{"name": "Joe Bloggs", "email": "joe@example.com"}],
        "to": [{"name": "John", "email": "john@example.com"}],
        "subject": "World domination",
        "sentAt": "2018-07-10T11:05:08+10:00",
        "bodyStructure": {
            "type": "multipart/alternative",
            "header:X-Part:asText": "root field",
            "subParts": [
                {"partId": "49db", "type": "text/html", "language": ["en", "de-CH"], "location": "https://x/y"},
                {"partId": "bd48", "type": "text/plain", "header:Content-Description": " the text"},
            ],
        },
        "bodyValues": {
            "bd48": {"value": "I have the most brilliant plan.", "isTruncated": False},
            "49db": {"value": "<div>I have the most brilliant plan.</div>", "isEncodingProblem": False},
        },
    }
    message = parsed(email)
    assert message.summary["sentAt"] == "2018-07-10T11:05:08+10:00"
    assert message.properties(["header:X-Part:asText"], blob_id="B") == {"header:X-Part:asText": "root field"}
    result = message.properties(
        ["textBody", "htmlBody", "bodyValues"],
        blob_id="B",
        body_properties=["partId", "type", "language", "location", "header:Content-Description"],
        fetch_all_body_values=True,
    )
    assert result["textBody"] == [
        {
            "partId": "2",
            "type": "text/plain",
            "language": None,
            "location": None,
            "header:Content-Description": " the text",
        }
    ]
    assert result["htmlBody"][0]["language"] == ["en", "de-CH"] and result["htmlBody"][0]["location"] == "https://x/y"
    assert result["bodyValues"]["2"]["value"] == "I have the most brilliant plan."


@pytest.mark.parametrize(
    ("email", "prop"),
    [
        ({"headers": []}, "headers"),
        ({"id": "x"}, "id"),
        ({"preview": "x"}, "preview"),
        ({"from": [{"email": "a@x"}], "header:From:asAddresses": [{"email": "b@x"}]}, "header:From:asAddresses"),
        ({"header:Subject": " a", "header:subject:asText": "b"}, "header:subject:asText"),
        ({"header:From:asDate": "2024-01-02T10:00:00Z"}, "header:From:asDate"),
        ({"header:Content-Type": " text/plain"}, "header:Content-Type"),
        ({"header:X:asBogus": "x"}, "header:X:asBogus"),
        ({"header:X:all": "not a list"}, "header:X:all"),
        ({"header:X": " caf\u00e9"}, "header:X"),
        ({"header:X": " bare\nnewline"}, "header:X"),
        ({"header:X": " " + "x" * 1000}, "header:X"),
        ({"header:X-" + "n" * 1000 + ":asText": "v"}, "header:X-" + "n" * 1000 + ":asText"),
        ({"subject": 5}, "subject"),
        ({"subject": "line\nbreak"}, "subject"),
        ({"sentAt": "yesterday"}, "sentAt"),
        ({"sentAt": "2024-02-30T10:00:00Z"}, "sentAt"),
        ({"messageId": ["<bracketed>"]}, "messageId"),
        ({"messageId": []}, "messageId"),
        ({"header:List-Post:asURLs": ["has space"]}, "header:List-Post:asURLs"),
        ({"to": [{"name": "x", "email": "j\u00f6rg@example.com"}]}, "to"),
        ({"to": [{"name": "x", "email": "a@exa mple.com"}]}, "to"),
        ({"to": "a@example.com"}, "to"),
        ({"to": [{"name": "x"}]}, "to"),
        ({"header:To:asGroupedAddresses": [{"name": "g"}]}, "header:To:asGroupedAddresses"),
        ({**body(), "bodyStructure": {"partId": "t"}}, "bodyStructure"),
        ({"textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "x"}, "u": {"value": "y"}}}, "bodyValues/u"),
        ({"textBody": [{"partId": "missing"}]}, "textBody/0/partId"),
        ({"textBody": [{"partId": "t"}, {"partId": "t"}], "bodyValues": {"t": {"value": "x"}}}, "textBody"),
        ({"textBody": [{"partId": "t", "type": "text/html"}], "bodyValues": {"t": {"value": "x"}}}, "textBody/0/type"),
        (
            {"textBody": [{"partId": "t", "charset": "utf-8"}], "bodyValues": {"t": {"value": "x"}}},
            "textBody/0/charset",
        ),
        ({"textBody": [{"partId": "t", "size": 1}], "bodyValues": {"t": {"value": "x"}}}, "textBody/0/size"),
        ({"textBody": [{"partId": "t", "blobId": "Bpdf"}], "bodyValues": {"t": {"value": "x"}}}, "textBody/0"),
        ({"textBody": [{"partId": "t", "headers": []}], "bodyValues": {"t": {"value": "x"}}}, "textBody/0/headers"),
        ({"textBody": [{"partId": "t", "bogus": 1}], "bodyValues": {"t": {"value": "x"}}}, "textBody/0/bogus"),
        (
            {
                "textBody": [{"partId": "t", "header:Content-Transfer-Encoding": " base64"}],
                "bodyValues": {"t": {"value": "x"}},
            },
            "textBody/0/header:Content-Transfer-Encoding",
        ),
        (
            {
                "textBody": [{"partId": "t", "cid": "a", "header:Content-ID": " <b>"}],
                "bodyValues": {"t": {"value": "x"}},
            },
            "textBody/0/header:Content-ID",
        ),
        ({**body(), "bodyValues": {"t": {"value": "x", "isTruncated": True}}}, "bodyValues/t/isTruncated"),
        ({**body(), "bodyValues": {"t": {"value": "x", "isEncodingProblem": True}}}, "bodyValues/t/isEncodingProblem"),
        ({"attachments": [{"blobId": "Bpdf", "type": "not a type"}]}, "attachments/0/type"),
        ({"attachments": [{"blobId": "Bpdf", "disposition": "in line"}]}, "attachments/0/disposition"),
        ({"attachments": [{"blobId": "Bpng", "cid": "<x>"}]}, "attachments/0/cid"),
        ({"attachments": [{"blobId": "Bpng", "language": ["not a tag"]}]}, "attachments/0/language"),
        ({"attachments": [{"blobId": "Bpdf", "type": "multipart/mixed"}]}, "attachments/0"),
        ({"bodyStructure": {"type": "multipart/mixed", "subParts": []}}, "bodyStructure/subParts"),
        ({"bodyStructure": {"type": "text/plain", "subParts": [{"blobId": "Bpdf"}]}}, "bodyStructure/subParts"),
        ({"bodyStructure": {"type": "multipart/mixed", "blobId": "Bpdf", "subParts": [{}]}}, "bodyStructure"),
        (
            {
                "header:X:asText": "top",
                "bodyStructure": {"partId": "t", "header:X:asText": "part"},
                "bodyValues": {"t": {"value": "v"}},
            },
            "bodyStructure",
        ),
        ({"attachments": [{"blobId": "Bline"}]}, "attachments/0/blobId"),
    ],
)
def test_invalid_creations(email: dict[str, Any], prop: str) -> None:
    BLOBS["Bline"] = (b"Subject: x\r\n\r\n" + b"y" * 1000, "message/rfc822")
    invalid(email, prop)


def test_nesting_limit() -> None:
    spec: dict[str, Any] = {"partId": "t"}
    for _ in range(200):
        spec = {"type": "multipart/mixed", "subParts": [spec]}
    invalid({"bodyStructure": spec, "bodyValues": {"t": {"value": "x"}}}, "bodyStructure" + "/subParts/0" * 100)


def test_missing_blobs_are_reported_together_after_validation() -> None:
    with pytest.raises(BlobNotFound) as caught:
        build({**body(), "attachments": [{"blobId": "Bgone"}, {"blobId": "Bpdf"}, {"blobId": "Balso-gone"}]})
    assert caught.value.blob_ids == caught.value.args == ("Bgone", "Balso-gone")
    with pytest.raises(InvalidEmail):
        build({"attachments": [{"blobId": "Bgone"}], "subject": 1})


def test_null_properties_count_as_absent() -> None:
    spec = {"type": "multipart/mixed", "partId": None, "subParts": [{"partId": "t", "blobId": None, "name": None}]}
    message = parsed({"bodyStructure": spec, "textBody": None, "subject": None, "bodyValues": {"t": {"value": "x"}}})
    assert message.summary["subject"] is None
    assert message.properties(["textBody"], blob_id="B", body_properties=["partId"]) == {"textBody": [{"partId": "1"}]}


def test_resolved_types() -> None:
    message = parsed({"attachments": [{"blobId": "Bmulti"}, {"blobId": "Bpng"}]})
    types = message.properties(["attachments"], blob_id="B", body_properties=["type"])["attachments"]
    assert types == [{"type": "application/octet-stream"}, {"type": "image/png"}]
