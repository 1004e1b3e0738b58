"""The shared collation keys (RFC 4790 i;ascii-casemap, RFC 5051 i;unicode-casemap) and the properties the CardDAV
term index relies on: keys are computed per code point, and the term normalisations keep equality and prefixes."""

from __future__ import annotations

import random
import sys

import pytest

from protocols.formats.collation import ascii_casemap, unicode_casemap_key
from protocols.formats.vcard import normalise_tel, normalise_term
from protocols.webdav.textmatch import TextMatch

AWKWARD = (
    "aZ09 ;,+-:\t\u00a0\u2003\u3000\u00b4\u00a8\u037e\uff1b\uff0c\uff0b\u00df\u1e9e\u0130\u0131iI\u01c4\u01c5\u01c6"
    "\ufb01\ufb03\u00b9\u00b2\u2075\u2460\u2167\uff10\uff21\uff41\u0301\u0308\u0323\u0345\u1f80\u03a3\u03c2"
    "\u212b\u00c5\u2126\ud55c\u1112\u0663tTeEl"
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("abc", "ABC"),
        ("Jos\u00e9", "JOSE\u0301"),
        ("\u01c6e", "DZ\u030cE"),
        ("\ufb01", "FI"),
        ("stra\u00dfe", "STRA\u00dfE"),
        ("\u0131", "I"),
        ("\u0130", "I\u0307"),
        ("\u00b2", "2"),
        ("\uff2a", "J"),
        ("\ud55c", "\ud55c"),  # Hangul syllables have no UnicodeData mapping: they stay composed
    ],
)
def test_unicode_casemap_key(text: str, key: str) -> None:
    assert unicode_casemap_key(text) == key


def test_ascii_is_casemapped_the_same_way_on_both_paths() -> None:
    """The ASCII fast path agrees with the per-character one, so the key is per code point for every text."""
    for point in range(128):
        char = chr(point)
        assert unicode_casemap_key(char + "\u00e9")[:1] == ascii_casemap(char) == unicode_casemap_key(char)


def test_key_is_computed_per_code_point() -> None:
    rng = random.Random(5051)
    for _ in range(2000):
        left = "".join(rng.choice(AWKWARD) for _ in range(rng.randrange(6)))
        right = "".join(rng.choice(AWKWARD) for _ in range(rng.randrange(6)))
        assert unicode_casemap_key(left + right) == unicode_casemap_key(left) + unicode_casemap_key(right)


def test_white_space_keys_are_white_space() -> None:
    """What str.strip removes from a value only ever has a white-space key, so normalise_term may strip first."""
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if char.isspace():
            assert not unicode_casemap_key(char).split(), hex(point)


def test_normalised_terms_keep_equality_and_prefixes() -> None:
    """A needle equal to, or a collation-prefix of, a text under any collation gives an equal or prefix term."""
    rng = random.Random(6352)
    for _ in range(3000):
        text = "".join(rng.choice(AWKWARD) for _ in range(rng.randrange(12)))
        key = unicode_casemap_key(text)
        forms = {text[:end] for end in range(len(text) + 1)} | {key[:end] for end in range(len(key) + 1)}
        for needle in forms | {text.swapcase(), text.upper()}:
            for collation in ("i;octet", "i;ascii-casemap", "i;unicode-casemap"):
                if TextMatch(needle, collation, "equals").matches(text):
                    assert normalise_term(needle) == normalise_term(text)
                    assert normalise_tel(needle) == normalise_tel(text)
                if TextMatch(needle, collation, "starts-with").matches(text):
                    assert normalise_term(text).startswith(normalise_term(needle))
                    tel = normalise_tel(needle)
                    assert not tel or normalise_tel(text).startswith(tel), (needle, text)
