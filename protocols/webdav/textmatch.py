"""Text matching for CalDAV and CardDAV filters: RFC 4790 collations and the RFC 6352 §10.5.4 match types.

A collation is a canonicalisation of both strings followed by an octet comparison, so each collation here is
a function ``str -> str`` and every match type is plain ``str`` equality, prefix, suffix or substring on the
canonical forms. Comparing code points is the same as comparing UTF-8 octets for these four operations
because UTF-8 is self-synchronising (a valid substring can only start on a character boundary).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

OCTET = "i;octet"
ASCII_CASEMAP = "i;ascii-casemap"
UNICODE_CASEMAP = "i;unicode-casemap"

MATCH_TYPES = frozenset({"equals", "contains", "starts-with", "ends-with"})


class UnsupportedCollation(ValueError):
    """The client named a collation this server does not implement (CalDAV/CardDAV ``supported-collation``)."""


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _octet(text: str) -> str:
    return text


def _ascii_casemap(text: str) -> str:
    """RFC 4790 §9.2: only a-z fold to A-Z; every other octet compares as itself."""
    return text.translate(_ASCII_UPPER)


def _simple_titlecase(char: str) -> str:
    """The UnicodeData.txt titlecase mapping (RFC 5051 asks for that one, not SpecialCasing).

    ``str.title`` applies the full mapping; where that differs from the simple one it yields several
    characters (ß -> Ss, ﬁ -> Fi), and for exactly those characters UnicodeData.txt has no simple
    titlecase mapping, so the character is kept as it is.
    """
    titled = char.title()
    return titled if len(titled) == 1 else char


@lru_cache(maxsize=4096)
def _canonical_char(char: str) -> str:
    """RFC 5051 §2 for one code point: titlecase, then the UnicodeData decomposition, repeated until stable.

    Decomposition mappings from UnicodeData.txt (canonical and compatibility alike, tags dropped) are
    applied recursively without the canonical reordering of NFKD, and Hangul syllables, which have no
    mapping there, stay composed: both exactly as the RFC says.
    """
    titled = _simple_titlecase(char)
    mapping = unicodedata.decomposition(titled)
    if not mapping:
        return titled
    points = [part for part in mapping.split() if not part.startswith("<")]
    return "".join(_canonical_char(chr(int(point, 16))) for point in points)


def _unicode_casemap(text: str) -> str:
    """RFC 5051 "titlecased canonicalized UTF-8".

    Deliberately not ``str.casefold`` + NFKD: full case folding equates ß with "ss", which the RFC's simple
    titlecase mapping does not, and two servers should agree on what a filter returns. The Unicode version
    is the one Python's ``unicodedata`` carries (the RFC names none).
    """
    if text.isascii():
        return _ascii_casemap(text)
    return "".join(_canonical_char(char) for char in text)


_COLLATIONS: dict[str, Callable[[str], str]] = {
    OCTET: _octet,
    ASCII_CASEMAP: _ascii_casemap,
    UNICODE_CASEMAP: _unicode_casemap,
}

SUPPORTED_COLLATIONS: frozenset[str] = frozenset(_COLLATIONS)


def _compare(match_type: str, needle: str, haystack: str) -> bool:
    if match_type == "contains":
        return needle in haystack
    if match_type == "equals":
        return needle == haystack
    if match_type == "starts-with":
        return haystack.startswith(needle)
    return haystack.endswith(needle)


@dataclass(frozen=True, slots=True)
class TextMatch:
    """One ``text-match``: ``text`` compared to a value under ``collation``, optionally negated."""

    text: str
    collation: str = ASCII_CASEMAP
    match_type: str = "contains"
    negate: bool = False
    _needle: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.collation not in _COLLATIONS:
            raise UnsupportedCollation(self.collation)
        if self.match_type not in MATCH_TYPES:
            raise ValueError(f"unknown match-type {self.match_type!r}")
        object.__setattr__(self, "_needle", _COLLATIONS[self.collation](self.text))

    def _hit(self, value: str) -> bool:
        return _compare(self.match_type, self._needle, _COLLATIONS[self.collation](value))

    def matches(self, value: str) -> bool:
        return self._hit(value) != self.negate

    def matches_any(self, values: Iterable[str]) -> bool:
        """For multi-valued data (CATEGORIES, a list parameter): the negation applies to the whole.

        "Not containing work" must reject ``CATEGORIES:work,home``; negating each value and taking any
        would accept it because "home" does not contain "work".
        """
        return any(self._hit(value) for value in values) != self.negate


def _collation_name(raw: str | None, default: str) -> str:
    """Collation identifiers compare case-insensitively (RFC 4790 §3.1 restricts them to ASCII)."""
    if raw is None:
        return default
    name = raw.strip().lower()
    if name not in _COLLATIONS:
        raise UnsupportedCollation(raw)
    return name


def _negate(raw: str | None) -> bool:
    if raw is None or raw == "no":
        return False
    if raw == "yes":
        return True
    raise ValueError(f"negate-condition must be 'yes' or 'no', not {raw!r}")


def parse_text_match(element: etree._Element, default_collation: str) -> TextMatch:
    """Read a CalDAV or CardDAV ``text-match`` element; the text is taken exactly as sent, whitespace included.

    Raises UnsupportedCollation for an unknown collation and ValueError for a bad ``match-type`` or
    ``negate-condition``; the caller turns those into its own precondition names.
    """
    return TextMatch(
        text=element.text or "",
        collation=_collation_name(element.get("collation"), default_collation),
        match_type=element.get("match-type", "contains"),
        negate=_negate(element.get("negate-condition")),
    )
