"""RFC 4790 / RFC 5051 collations and the RFC 6352 match types shared by CalDAV and CardDAV text-match."""

from __future__ import annotations

import pytest
from lxml import etree

from protocols.webdav.textmatch import (
    SUPPORTED_COLLATIONS,
    TextMatch,
    UnsupportedCollation,
    parse_text_match,
)
from protocols.webdav.xml import CALDAV, CARDDAV

OCTET, ASCII, UNICODE = "i;octet", "i;ascii-casemap", "i;unicode-casemap"
VALUE = "Team Meeting"

# (collation, match type, text, expected against VALUE)
GRID = [
    (OCTET, "equals", "Team Meeting", True),
    (OCTET, "equals", "team meeting", False),
    (OCTET, "contains", "m Mee", True),
    (OCTET, "contains", "MEET", False),
    (OCTET, "starts-with", "Team", True),
    (OCTET, "starts-with", "team", False),
    (OCTET, "ends-with", "Meeting", True),
    (OCTET, "ends-with", "meeting", False),
    (ASCII, "equals", "TEAM MEETING", True),
    (ASCII, "equals", "TEAM", False),
    (ASCII, "contains", "m mEE", True),
    (ASCII, "contains", "lunch", False),
    (ASCII, "starts-with", "tEAM", True),
    (ASCII, "starts-with", "Meeting", False),
    (ASCII, "ends-with", "MEETING", True),
    (ASCII, "ends-with", "TEAM", False),
    (UNICODE, "equals", "team MEETING", True),
    (UNICODE, "equals", "team", False),
    (UNICODE, "contains", "M MEE", True),
    (UNICODE, "contains", "lunch", False),
    (UNICODE, "starts-with", "TEAM", True),
    (UNICODE, "starts-with", "eam", False),
    (UNICODE, "ends-with", "ing", True),
    (UNICODE, "ends-with", "Team", False),
]


@pytest.mark.parametrize(("collation", "match_type", "text", "expected"), GRID)
def test_collation_by_match_type(collation: str, match_type: str, text: str, expected: bool) -> None:
    assert TextMatch(text, collation, match_type).matches(VALUE) is expected
    assert TextMatch(text, collation, match_type, negate=True).matches(VALUE) is not expected


def test_defaults_are_caldav_defaults() -> None:
    match = TextMatch("MEET")
    assert (match.collation, match.match_type, match.negate) == (ASCII, "contains", False)
    assert match.matches(VALUE)


def test_supported_collations() -> None:
    assert {OCTET, ASCII, UNICODE} == SUPPORTED_COLLATIONS


def test_empty_text_is_contained_in_everything() -> None:
    assert TextMatch("").matches("")
    assert TextMatch("").matches(VALUE)
    assert not TextMatch("", negate=True).matches(VALUE)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("é", "É", False),  # only a-z fold; other characters compare as octets
        ("é", "é", True),
        ("strasse", "STRASSE", True),
        ("ß", "SS", False),
    ],
)
def test_ascii_casemap_leaves_non_ascii_alone(text: str, value: str, expected: bool) -> None:
    assert TextMatch(text, ASCII, "equals").matches(value) is expected


@pytest.mark.parametrize(
    ("text", "value", "match_type", "expected"),
    [
        ("é", "É", "equals", True),
        ("Müller", "MÜLLER", "equals", True),
        ("CAFE", "café", "starts-with", True),  # decomposition puts the bare letter first (RFC 5051 §2)
        ("cafe", "café", "equals", False),  # ... but the accent is still there
        ("straße", "STRAßE", "equals", True),
        ("ß", "ss", "equals", False),  # simple titlecase keeps ß: not folded to "ss" as casefold would
        ("ß", "ẞ", "equals", False),  # UnicodeData gives capital sharp s no mapping to ß either
        ("\u0131", "I", "equals", True),  # dotless i (U+0131) titlecases to I
        ("\u0131", "i", "equals", True),
        ("İ", "i", "equals", False),  # dotted capital I decomposes to I + U+0307
        ("istanbul", "İSTANBUL", "contains", False),
        ("ﬁle", "FILE", "equals", True),  # compatibility decomposition of the ligature
        ("ǆ", "Ǆ", "equals", True),  # titlecase digraph
        ("\u03c3", "Σ", "equals", True),  # small sigma
        ("ς", "Σ", "equals", True),  # final sigma titlecases to Σ
        ("Ⅻ", "xii", "equals", True),  # roman numeral, compatibility
        ("ПРИВЕТ", "привет", "equals", True),
    ],
)
def test_unicode_casemap(text: str, value: str, match_type: str, expected: bool) -> None:
    assert TextMatch(text, UNICODE, match_type).matches(value) is expected


def test_octet_is_case_and_accent_sensitive() -> None:
    assert not TextMatch("meeting", OCTET, "equals").matches("Meeting")
    assert not TextMatch("É", OCTET, "equals").matches("é")
    assert TextMatch("é", OCTET, "contains").matches("café")
    # precomposed and decomposed forms are different octets
    assert not TextMatch("é", OCTET, "equals").matches("e\u0301")
    assert TextMatch("é", UNICODE, "equals").matches("e\u0301")


def test_matches_any_negates_the_whole() -> None:
    not_work = TextMatch("work", negate=True)
    assert not not_work.matches_any(["work", "home"])
    assert not_work.matches_any(["home", "travel"])
    assert not_work.matches_any([])
    assert TextMatch("HOME").matches_any(["work", "home"])
    assert not TextMatch("HOME").matches_any([])


def test_invalid_arguments() -> None:
    with pytest.raises(UnsupportedCollation):
        TextMatch("x", collation="i;basic")
    with pytest.raises(ValueError, match="match-type"):
        TextMatch("x", match_type="regex")


def _element(attributes: str, text: str = "Meeting", namespace: str = CALDAV) -> etree._Element:
    return etree.fromstring(f'<C:text-match xmlns:C="{namespace}" {attributes}>{text}</C:text-match>')


def test_parse_defaults() -> None:
    assert parse_text_match(_element(""), ASCII) == TextMatch("Meeting")
    assert parse_text_match(_element("", namespace=CARDDAV), UNICODE) == TextMatch("Meeting", UNICODE)


def test_parse_attributes() -> None:
    parsed = parse_text_match(
        _element('collation="I;Unicode-Casemap" match-type="starts-with" negate-condition="yes"'), ASCII
    )
    assert parsed == TextMatch("Meeting", UNICODE, "starts-with", negate=True)
    assert parse_text_match(_element('negate-condition="no"'), ASCII).negate is False


def test_parse_keeps_text_exactly() -> None:
    assert parse_text_match(_element("", text=" a&amp;b "), ASCII).text == " a&b "
    assert parse_text_match(_element("", text=""), ASCII).text == ""


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        ('collation="i;basic"', UnsupportedCollation),
        ('match-type="regex"', ValueError),
        ('negate-condition="true"', ValueError),
    ],
)
def test_parse_errors(attributes: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_text_match(_element(attributes), ASCII)
