"""Header parsed forms of RFC 8621 §4.1.2, the forms table, MIME parameters, charsets, transfer encodings and
HTML text; hostile values must stay linear."""

from __future__ import annotations

import time

import pytest

from protocols.formats.mime_headers import (
    addresses,
    allowed_forms,
    date,
    decode_octets,
    decode_text,
    decode_transfer,
    decode_words,
    grouped_addresses,
    html_text,
    jmap_date,
    message_ids,
    parameterized,
    parse_header_property,
    parsed_value,
    text,
    urls,
)

RFC_EXAMPLE = (
    ' "  James Smythe" <james@example.com>, Friends:\r\n jane@example.com, =?UTF-8?Q?John_Sm=C3=AEth?=\r\n'
    " <john@example.com>;"
)


def test_rfc_8621_address_example() -> None:
    assert addresses(RFC_EXAMPLE) == [
        {"name": "James Smythe", "email": "james@example.com"},
        {"name": None, "email": "jane@example.com"},
        {"name": "John Sm\u00eeth", "email": "john@example.com"},
    ]
    assert grouped_addresses(RFC_EXAMPLE) == [
        {"name": None, "addresses": [{"name": "James Smythe", "email": "james@example.com"}]},
        {
            "name": "Friends",
            "addresses": [
                {"name": None, "email": "jane@example.com"},
                {"name": "John Sm\u00eeth", "email": "john@example.com"},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" a@example.com", [{"name": None, "email": "a@example.com"}]),
        (" john@example.com (John Smith)", [{"name": "John Smith", "email": "john@example.com"}]),
        (" <@relay.example:route@example.com>", [{"name": None, "email": "route@example.com"}]),
        (' "quoted \\"name\\"" <q@example.com>', [{"name": 'quoted "name"', "email": "q@example.com"}]),
        (" John Q. Public <jqp@example.com>", [{"name": "John Q. Public", "email": "jqp@example.com"}]),
        (" broken <unterminated@example.com", [{"name": "broken", "email": "unterminated@example.com"}]),
        (" a@x; b@y", [{"name": None, "email": "a@x"}, {"name": None, "email": "b@y"}]),
        (" ,,, , ", []),
        (" (only a comment)", []),
        (" Name <>", [{"name": "Name", "email": ""}]),
        (" no address here", [{"name": None, "email": "no address here"}]),
        (' "=?utf-8?q?Zo=C3=AB?=" <z@x>', [{"name": "Zo\u00eb", "email": "z@x"}]),
        (' "a =?utf-8?q?x?=" <z@x>', [{"name": "a =?utf-8?q?x?=", "email": "z@x"}]),
        (" =?utf-8?q?Z=C3=B6e?= =?utf-8?q?_Smith?= <z@x>", [{"name": "Z\u00f6e Smith", "email": "z@x"}]),
        (" Smith, John <j@x>", [{"name": None, "email": "Smith"}, {"name": "John", "email": "j@x"}]),
    ],
)
def test_addresses(raw: str, expected: list[dict[str, str | None]]) -> None:
    assert addresses(raw) == expected


def test_grouped_addresses_keep_empty_and_unterminated_groups() -> None:
    assert grouped_addresses(" undisclosed-recipients:;") == [{"name": "undisclosed-recipients", "addresses": []}]
    assert grouped_addresses(" a@x, Team: b@x, c@x; d@x, e@x") == [
        {"name": None, "addresses": [{"name": None, "email": "a@x"}]},
        {"name": "Team", "addresses": [{"name": None, "email": "b@x"}, {"name": None, "email": "c@x"}]},
        {"name": None, "addresses": [{"name": None, "email": "d@x"}, {"name": None, "email": "e@x"}]},
    ]
    assert grouped_addresses(" Open: a@x") == [{"name": "Open", "addresses": [{"name": None, "email": "a@x"}]}]
    assert addresses(" undisclosed-recipients:;") == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" plain text ", "plain text"),
        (" folded\r\n  line", "folded  line"),
        (" =?utf-8?q?caf=C3=A9?=", "caf\u00e9"),
        (" =?UTF-8?B?Y2Fmw6k=?= x", "caf\u00e9 x"),
        (" =?utf-8?q?a?=  =?utf-8?q?b?= c", "ab c"),  # white space between encoded words goes
        (" =?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "caf\u00e9"),  # a character split across two words
        (" =?iso-8859-1?q?caf=E9?= =?koi8-r?b?8NLJ18XU?=", "caf\u00e9\u041f\u0440\u0438\u0432\u0435\u0442"),
        (" glued=?utf-8?q?x?=", "glued=?utf-8?q?x?="),  # not a whole word: not decoded
        (" =?x-unknown?q?x?=", "=?x-unknown?q?x?="),
        (" =?utf-8?b?!!!?=", "=?utf-8?b?!!!?="),
        (" =?utf-8?q?bad=ZZ?=", "=?utf-8?q?bad=ZZ?="),
        (" =?utf-8?q?open", "=?utf-8?q?open"),
        (" =?utf-8*en?q?lang?=", "lang"),
        (" =?utf-8?q?nul=00ctl=07?=", "nulctl"),
        (" e\u0301", "\u00e9"),  # NFC
    ],
)
def test_text(raw: str, expected: str) -> None:
    assert text(raw) == expected


def test_words_in_parameters_may_be_glued() -> None:
    assert decode_words("=?utf-8?q?r=C3=A9sum=C3=A9?=.txt", anywhere=True) == "r\u00e9sum\u00e9.txt"
    assert decode_words("=?utf-8?q?r=C3=A9sum=C3=A9?=.txt") == "=?utf-8?q?r=C3=A9sum=C3=A9?=.txt"


def test_message_ids_and_urls() -> None:
    assert message_ids(" <a@b> (comment)\r\n <c@d>") == ["a@b", "c@d"]
    assert message_ids(' "<not@id>" <x@y>') == ["x@y"]
    assert message_ids(" bare@id") == ["bare@id"]
    assert message_ids(" garbage") is None
    assert message_ids(" two bare@ids here") is None
    assert urls(" <mailto:l@x?subject=help> (one click),\r\n <https://x/a_(b)>") == [
        "mailto:l@x?subject=help",
        "https://x/a_(b)",
    ]
    assert urls(" NO (posting not allowed)") is None
    assert urls(" <https://x/\r\n folded>") == ["https://x/folded"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Tue, 2 Jan 2024 10:00:00 +0100", "2024-01-02T10:00:00+01:00"),
        ("Tue, 02 Jan 2024 10:00:00 +0000 (UTC)", "2024-01-02T10:00:00Z"),
        ("2 Jan 2024 10:00 -0730", "2024-01-02T10:00:00-07:30"),
        ("Tue, 2 Jan 24 10:00:00 EST", "2024-01-02T10:00:00-05:00"),
        ("1 Jan 99 00:00:00 GMT", "1999-01-01T00:00:00Z"),
        ("Sat, 31 Dec 2016 23:59:60 +0000", "2016-12-31T23:59:59Z"),
        ("Tue, 2 January 2024 10:00:00 +0100", "2024-01-02T10:00:00+01:00"),
        ("Tue,\r\n 2 Jan 2024 10:00:00 +0100", "2024-01-02T10:00:00+01:00"),
        ("2024-01-02T10:00:00+01:00", "2024-01-02T10:00:00+01:00"),
        ("Mon, 31 Feb 2024 10:00:00 +0000", None),
        ("Tue, 2 Jan 2024 25:00:00 +0000", None),
        ("Tue, 2 Jan 2024 10:00:00 +0099", None),
        ("Tue, 2 Foo 2024 10:00:00 +0000", None),
        ("yesterday afternoon", None),
        ("", None),
    ],
)
def test_dates(raw: str, expected: str | None) -> None:
    assert parsed_value("asDate", raw) == expected


def test_date_gives_the_instant() -> None:
    moment = date(" Tue, 2 Jan 2024 10:00:00 +0100")
    assert moment is not None and moment.timestamp() == 1704186000
    assert jmap_date(moment) == "2024-01-02T10:00:00+01:00"


def test_header_property_names() -> None:
    spec = parse_header_property("header:Resent-To:asAddresses:all")
    assert (spec.name, spec.form, spec.all) == ("Resent-To", "asAddresses", True)
    assert parse_header_property("header:subject").form == "asRaw"
    assert parse_header_property("header:X-Custom:asDate").form == "asDate"
    assert parse_header_property("header:List-Id:asText").form == "asText"
    for invalid in (
        "header:From:asDate",
        "header:Subject:asAddresses",
        "header:Received:asText",
        "header:Message-ID:asText",
        "header:List-Post:asDate",
        "header:Date:asURLs",
        "header:X:asFoo",
        "header:X:all:asText",
        "header::asText",
        "header:Sp ace",
        "headers",
    ):
        with pytest.raises(ValueError, match=r"header|form"):
            parse_header_property(invalid)


def test_forms_table() -> None:
    assert allowed_forms("received") == {"asRaw"}
    assert allowed_forms("FROM") == {"asRaw", "asAddresses", "asGroupedAddresses"}
    assert allowed_forms("Resent-Message-ID") == {"asRaw", "asMessageIds"}
    assert allowed_forms("X-Anything") == {
        "asRaw",
        "asText",
        "asAddresses",
        "asGroupedAddresses",
        "asMessageIds",
        "asDate",
        "asURLs",
    }


def test_parameters() -> None:
    assert parameterized(' Text/Plain; Charset="utf-8"; format=flowed (comment)') == (
        "text/plain",
        {"charset": "utf-8", "format": "flowed"},
    )
    value, params = parameterized(" attachment; filename*0*=utf-8''r%C3%A9s; filename*1=ume.pdf; filename=old.pdf")
    assert (value, params["filename"]) == ("attachment", "r\u00e9sume.pdf")
    assert parameterized(" a; name=first; name=second")[1] == {"name": "first"}
    assert parameterized(' a; q="semi;colon \\"x\\""')[1] == {"q": 'semi;colon "x"'}
    assert parameterized(" a; f*=iso-8859-1'de'%FCber")[1] == {"f": "\u00fcber"}
    assert parameterized(' a; b="unterminated')[1] == {"b": "unterminated"}
    assert parameterized(" ;;;=;") == ("", {})


def test_charsets() -> None:
    assert decode_text(b"caf\xc3\xa9", "UTF-8") == ("caf\u00e9", False)
    assert decode_text(b"caf\xc3\xa9", None) == ("caf\u00e9", False)  # mislabelled US-ASCII that is UTF-8
    assert decode_text(b"caf\xe9", "us-ascii") == ("caf\u00e9", True)
    assert decode_text(b"nuqneH", "x-klingon") == ("nuqneH", True)
    assert decode_text(b"text", "rot13") == ("text", True)  # a codec, but no charset
    assert decode_text(b"bad \xff", "utf-8") == ("bad \ufffd", True)
    assert decode_text("\u4f60\u597d\u9555".encode("gb18030"), "gb2312") == ("\u4f60\u597d\u9555", False)
    assert decode_text(b"+2D3-", "utf-7")[0] == "\ufffd"  # half a surrogate pair never escapes
    assert decode_octets(b"\xc3\x89lodie, Fran\xe7ois\x00") == "\u00c9lodie, Fran\u00e7ois"


def test_transfer_encodings() -> None:
    assert decode_transfer(b"QUJD\r\nRA==\r\n", "base64") == (b"ABCD", False)
    assert decode_transfer(b"QUJD\r\nRA", " Base64 ") == (b"ABCD", False)
    assert decode_transfer(b"QU!JD*", "base64") == (b"ABC", True)
    assert decode_transfer(b"QUJDR", "base64") == (b"ABC", True)
    assert decode_transfer(b"caf=C3=A9 soft=\r\nbreak", "quoted-printable") == (b"caf\xc3\xa9 softbreak", False)
    assert decode_transfer(b"bad =ZZ", "quoted-printable") == (b"bad =ZZ", True)
    assert decode_transfer(b"raw", "8bit") == (b"raw", False)
    assert decode_transfer(b"raw", "x-uuencode") == (b"raw", True)


def test_html_text() -> None:
    markup = (
        "<html><head><title>T</title><style>p{}</style></head><body><!-- hidden --><script>var x = '<p>no</p>';"
        "</script><h1>Title</h1><p>A &amp; B&nbsp;C</p><img src=x alt='a logo'><b>bo</b>ld</body></html>"
    )
    assert " ".join(html_text(markup).split()) == "Title A & B C a logo bold"
    assert html_text("a < b and <unclosed") == "a < b and <unclosed"
    assert html_text("<script>never closed") == " "


@pytest.mark.parametrize(
    "raw",
    [
        ";" * 200_000,
        "(" * 200_000,
        "<" * 200_000,
        '"' * 200_000,
        "=?utf-8?q?a?= " * 20_000,
        "a@b, " * 40_000,
        "\\" * 200_000,
        "[" * 200_000,
        "x" * 200_000,
        "<!--" * 50_000,
        "<script" * 30_000,
        "<a b=c>" * 30_000,
    ],
)
def test_hostile_values_stay_linear(raw: str) -> None:
    started = time.perf_counter()
    for form in ("asText", "asAddresses", "asGroupedAddresses", "asMessageIds", "asDate", "asURLs"):
        parsed_value(form, raw)
    parameterized(raw)
    parameterized("text/plain; " + raw)
    html_text(raw)
    elapsed = time.perf_counter() - started
    print(f"{raw[:12]!r}...: {elapsed:.3f} s")
    assert elapsed < 10  # a quadratic parser takes minutes here
