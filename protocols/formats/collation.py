"""RFC 4790 collation canonical forms shared by every protocol: i;ascii-casemap and RFC 5051 i;unicode-casemap.

A collation here is a canonicalisation followed by an octet comparison, so each is a function ``str -> str``.
Both are computed one code point at a time: ``key(a + b) == key(a) + key(b)`` (no composition, no reordering,
nothing that looks at neighbours). That is what lets an index built from these keys answer equality and
"starts-with" exactly: when ``key(needle)`` is a prefix of ``key(text)`` the needle is a collation-prefix of the
text by definition, and when a needle is a prefix of a text as written its key is a prefix of the text's key.
No XML, HTTP or storage in here.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["ascii_casemap", "unicode_casemap_key"]

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_casemap(text: str) -> str:
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


def unicode_casemap_key(text: str) -> str:
    """RFC 5051 "titlecased canonicalized UTF-8": two texts are equal under i;unicode-casemap when their keys are.

    Deliberately not ``str.casefold`` + NFKD: full case folding equates ß with "ss", which the RFC's simple
    titlecase mapping does not, and two servers should agree on what a filter returns. The Unicode version
    is the one Python's ``unicodedata`` carries (the RFC names none). For ASCII it is ascii_casemap, so an
    ASCII-only text takes the fast path with the same result as the per-character one.
    """
    if text.isascii():
        return ascii_casemap(text)
    return "".join(_canonical_char(char) for char in text)
