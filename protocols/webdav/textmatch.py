"""Text matching for CalDAV and CardDAV filters: RFC 4790 collations and the RFC 6352 §10.5.4 match types.

A collation is a canonicalisation of both strings followed by an octet comparison, so each collation here is
a function ``str -> str`` and every match type is plain ``str`` equality, prefix, suffix or substring on the
canonical forms. Comparing code points is the same as comparing UTF-8 octets for these four operations
because UTF-8 is self-synchronising (a valid substring can only start on a character boundary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from protocols.formats.collation import ascii_casemap, unicode_casemap_key

OCTET = "i;octet"
ASCII_CASEMAP = "i;ascii-casemap"
UNICODE_CASEMAP = "i;unicode-casemap"

MATCH_TYPES = frozenset({"equals", "contains", "starts-with", "ends-with"})


class UnsupportedCollation(ValueError):
    """The client named a collation this server does not implement (CalDAV/CardDAV ``supported-collation``)."""


def _octet(text: str) -> str:
    return text


_COLLATIONS: dict[str, Callable[[str], str]] = {
    OCTET: _octet,
    ASCII_CASEMAP: ascii_casemap,
    UNICODE_CASEMAP: unicode_casemap_key,
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
