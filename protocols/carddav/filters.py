"""CardDAV ``addressbook-query`` filters (RFC 6352 §10.5): parsed once into frozen dataclasses, then evaluated.

Parsing turns every problem into a FilterError naming the CardDAV precondition to answer with (§8.6). Evaluation
follows §10.5 and is decided per property instance: a prop-filter holds when SOME instance of the property
passes its text-matches and param-filters, combined by the prop-filter's own ``test`` (so with ``allof`` the
same EMAIL must both contain the text and carry TYPE=work), and the filter combines its prop-filters by its
``test``. A negated text-match therefore asks for an instance that does not match, never for the absence of a
property, and a param-filter's ``is-not-defined`` for an instance without the parameter. Property names compare
case-insensitively and without their group (``item1.EMAIL`` is an EMAIL); text-matches read the instance's text
as the formats module gives it (``PropertyValue.text``: unescaped, structured values joined by ";"), so vcard.py
stays the one module that reads vCard syntax.

Index pushdown: ``index_terms`` names terms of the store's term index (written by vcard.index_vcard) to pre-select
candidates by, only when every card the filter accepts carries one of them; the candidates are then a superset of
the answer and ``matches`` decides on those.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from protocols.formats.collation import unicode_casemap_key
from protocols.formats.vcard import PropertyValue, VCard, normalise_tel, normalise_term, property_values
from protocols.webdav.filtering import FilterError, ParamFilter, children_by_tag
from protocols.webdav.textmatch import (
    ASCII_CASEMAP,
    OCTET,
    UNICODE_CASEMAP,
    TextMatch,
    UnsupportedCollation,
    parse_text_match,
)
from protocols.webdav.xml import CARDDAV, clark

Test = Literal["anyof", "allof"]

FILTER = clark(CARDDAV, "filter")
PROP_FILTER = clark(CARDDAV, "prop-filter")
PARAM_FILTER = clark(CARDDAV, "param-filter")
IS_NOT_DEFINED = clark(CARDDAV, "is-not-defined")
TEXT_MATCH = clark(CARDDAV, "text-match")

_NAME = re.compile(r"[A-Za-z0-9-]+")
"""RFC 6350 §3.3 ``iana-token`` / ``x-name``: the shape of property and parameter names."""
_GROUPED_NAME = re.compile(r"[A-Za-z0-9-]+\.[A-Za-z0-9-]+")


@dataclass(frozen=True, slots=True)
class PropFilter:
    """``name`` is upper-case and ungrouped; ``test`` combines the text-matches and param-filters of one instance.

    Several text-matches are accepted although the RFC's DTD says ``text-match?``: its prose and the ``test``
    attribute speak of text-matches in the plural, and clients send them.
    """

    name: str
    test: Test = "anyof"
    is_not_defined: bool = False
    text_matches: tuple[TextMatch, ...] = ()
    param_filters: tuple[ParamFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class Filter:
    """A whole ``CARDDAV:filter``; without prop-filters it matches every address object."""

    test: Test = "anyof"
    prop_filters: tuple[PropFilter, ...] = ()


# -- parsing -------------------------------------------------------------------------------------------------


def parse_filter(element: etree._Element) -> Filter:
    """Parse ``CARDDAV:filter``. Elements outside the CardDAV namespace are ignored (RFC 4918 extensibility);
    unknown or misplaced CardDAV elements and bad names or attributes are ``valid-filter``, an unsupported
    collation ``supported-collation``, a group-qualified property name (``item1.EMAIL``) ``supported-filter``."""
    if element.tag != FILTER:
        raise FilterError("valid-filter", "expected a CARDDAV:filter element")
    parts = _parts(element, {PROP_FILTER})
    return Filter(_test(element), tuple(_parse_prop_filter(child) for child in parts[PROP_FILTER]))


def _parts(element: etree._Element, allowed: set[str]) -> dict[str, list[etree._Element]]:
    return children_by_tag(element, CARDDAV, allowed)


def _test(element: etree._Element) -> Test:
    raw = element.get("test", "anyof")
    if raw == "anyof":
        return "anyof"
    if raw == "allof":
        return "allof"
    raise FilterError("valid-filter", f"test must be 'anyof' or 'allof', not {raw!r}")


def _name(element: etree._Element, *, property_name: bool) -> str:
    """vCard names are case-insensitive; they are kept upper-case."""
    name = (element.get("name") or "").strip()
    if _NAME.fullmatch(name):
        return name.upper()
    if property_name and _GROUPED_NAME.fullmatch(name):
        raise FilterError("supported-filter", f"group-qualified property names are not supported: {name!r}")
    raise FilterError("valid-filter", f"{element.tag} needs a vCard name, not {name!r}")


def _is_not_defined(parts: Mapping[str, Sequence[etree._Element]]) -> bool:
    """``is-not-defined`` must stand alone (the DTD's ``is-not-defined | (...)``)."""
    if not parts.get(IS_NOT_DEFINED):
        return False
    if sum(len(found) for found in parts.values()) != 1:
        raise FilterError("valid-filter", "is-not-defined must be the only child of its filter")
    return True


def _parse_prop_filter(element: etree._Element) -> PropFilter:
    name = _name(element, property_name=True)
    test = _test(element)
    parts = _parts(element, {IS_NOT_DEFINED, TEXT_MATCH, PARAM_FILTER})
    if _is_not_defined(parts):
        return PropFilter(name, test, is_not_defined=True)
    return PropFilter(
        name,
        test,
        text_matches=tuple(_parse_text_match(child) for child in parts[TEXT_MATCH]),
        param_filters=tuple(_parse_param_filter(child) for child in parts[PARAM_FILTER]),
    )


def _parse_param_filter(element: etree._Element) -> ParamFilter:
    """``(is-not-defined | text-match)?``: at most one child."""
    name = _name(element, property_name=False)
    parts = _parts(element, {IS_NOT_DEFINED, TEXT_MATCH})
    if _is_not_defined(parts):
        return ParamFilter(name, is_not_defined=True)
    found = parts[TEXT_MATCH]
    if len(found) > 1:
        raise FilterError("valid-filter", "a param-filter holds at most one text-match")
    return ParamFilter(name, text_match=_parse_text_match(found[0]) if found else None)


def _parse_text_match(element: etree._Element) -> TextMatch:
    """§10.5.4: the collation defaults to i;unicode-casemap (CalDAV's is i;ascii-casemap), match-type to contains."""
    try:
        return parse_text_match(element, UNICODE_CASEMAP)
    except UnsupportedCollation as exc:
        raise FilterError("supported-collation", f"unsupported collation {exc}") from None
    except ValueError as exc:
        raise FilterError("valid-filter", str(exc)) from None


# -- evaluation ----------------------------------------------------------------------------------------------


def matches(filter: Filter, card: VCard) -> bool:
    """Whether an address object passes the filter."""
    if not filter.prop_filters:
        return True
    results = (_prop_filter_matches(test, card) for test in filter.prop_filters)
    return any(results) if filter.test == "anyof" else all(results)


def _prop_filter_matches(prop_filter: PropFilter, card: VCard) -> bool:
    instances = property_values(card, prop_filter.name)
    if prop_filter.is_not_defined:
        return not instances
    return any(_instance_matches(prop_filter, value) for value in instances)


def _instance_matches(prop_filter: PropFilter, value: PropertyValue) -> bool:
    """One property instance against all tests of a prop-filter; with none, its presence is enough."""
    if not prop_filter.text_matches and not prop_filter.param_filters:
        return True
    results = _instance_results(prop_filter, value)
    return any(results) if prop_filter.test == "anyof" else all(results)


def _instance_results(prop_filter: PropFilter, value: PropertyValue) -> Iterator[bool]:
    """Lazily, so ``any``/``all`` stop at the first decisive test."""
    for text_match in prop_filter.text_matches:
        yield text_match.matches(value.text)
    for param_filter in prop_filter.param_filters:
        yield _param_filter_matches(param_filter, value.params)


def _param_filter_matches(param_filter: ParamFilter, params: Mapping[str, Sequence[str]]) -> bool:
    """A list parameter (``TYPE=work,voice``) matches when one of its values does; a negation covers the whole
    list, so "TYPE not containing work" rejects ``TYPE=work,voice``."""
    values = params.get(param_filter.name)
    if param_filter.is_not_defined:
        return values is None
    if values is None:
        return False
    if param_filter.text_match is None:
        return True
    return param_filter.text_match.matches_any(values or [""])


# -- index pushdown ------------------------------------------------------------------------------------------

INDEXED_FIELDS = frozenset({"FN", "N", "NICKNAME", "EMAIL", "TEL", "ORG", "UID"})
"""What vcard.index_vcard stores terms for, under the property's name as ``field``: TEL as normalise_tel()
(digits, "+" first), the others as normalise_term() (the RFC 5051 key, white space collapsed), N, NICKNAME and ORG
one term per component and list item, the others one per instance."""

PUSHDOWN_MATCH_TYPES = frozenset({"equals", "starts-with"})
"""What a B-tree answers: equality and prefix ranges (contains / ends-with would scan anyway)."""

KEY_COLLATIONS = frozenset({OCTET, ASCII_CASEMAP, UNICODE_CASEMAP})
"""Collations whose equals / starts-with matches the index key can never miss. The key is built on the RFC 5051
i;unicode-casemap form U, which is computed per code point (``U(a + b) == U(a) + U(b)``, no composition or
reordering), so:

- i;unicode-casemap: a match is by definition ``U(value) == U(needle)`` or ``U(value).startswith(U(needle))``.
- i;octet and i;ascii-casemap: equal texts, or texts differing in ASCII letter case only, have equal U (U agrees
  with i;ascii-casemap on every ASCII character), and so do the value's first ``len(needle)`` characters and the
  needle for a prefix match. The index is then a widening (candidates equal under RFC 5051, "José" for "JOSE\u0301"),
  never a narrowing; ``matches`` decides on the candidates.

White space collapsing and the TEL digit extraction keep both equality and prefixes (see vcard.normalise_term and
vcard.normalise_tel), so no prefix has to be cut short."""

_PART_SEPARATORS = frozenset(";,")
"""Where N, NICKNAME and ORG are cut into indexed parts: a text-match whose key holds one has no term to look for.
Looked for in the key, not the needle: U+037E (Greek question mark) and U+FF1B (fullwidth) have ";" as their key."""


@dataclass(frozen=True, slots=True)
class TermQuery:
    """Items with an indexed ``field`` value equal to ``value`` (``equals``) or starting with it (``starts-with``)."""

    field: str
    match_type: str
    value: str


def index_terms(filter: Filter) -> tuple[TermQuery, ...] | None:
    """Term queries whose union holds every card the filter can accept, or None when no such set exists.

    ``anyof`` needs every prop-filter pushable (one that is not could accept a card without any term); ``allof``
    needs only one, and the cheapest is taken. A prop-filter is pushable when it names an indexed property and a
    matching instance must satisfy a non-negated equals / starts-with text-match (any supported collation): with
    ``allof`` any one such text-match will do; with ``anyof`` all its text-matches must be such and it must have
    no param-filter. Never returns an empty tuple.

    Sound for the cards whose terms are all in the index: vcard.index_vcard keeps at most MAX_TERMS per card and
    marks a card cut short with vcard.CAPPED_TERM, which the store query must add as one more candidate term
    (reports.term_matches does).
    """
    if not filter.prop_filters:
        return None
    pushed = [_prop_filter_terms(prop_filter) for prop_filter in filter.prop_filters]
    if filter.test == "allof":
        usable = [terms for terms in pushed if terms is not None]
        return min(usable, key=_cost) if usable else None
    if any(terms is None for terms in pushed):
        return None
    return tuple(dict.fromkeys(term for terms in pushed if terms is not None for term in terms))


def _prop_filter_terms(prop_filter: PropFilter) -> tuple[TermQuery, ...] | None:
    if prop_filter.is_not_defined or prop_filter.name not in INDEXED_FIELDS or not prop_filter.text_matches:
        return None
    terms = [_term(prop_filter.name, text_match) for text_match in prop_filter.text_matches]
    if prop_filter.test == "allof":
        usable = [(term,) for term in terms if term is not None]
        return min(usable, key=_cost) if usable else None
    if prop_filter.param_filters or any(term is None for term in terms):
        return None
    return tuple(dict.fromkeys(term for term in terms if term is not None))


def _term(field: str, text_match: TextMatch) -> TermQuery | None:
    """The term every matching instance's index value equals or starts with, if there is one (see KEY_COLLATIONS).

    For N, NICKNAME and ORG the match is against the whole value (components joined by ";"), the terms are its
    parts: a needle whose key holds no separator and starts the value's key starts the key of its first part, and
    one equal to the value's key is a value of one part. An empty key is not pushed: it would select only the
    cards with some term, not those whose property is empty.
    """
    if (
        text_match.negate
        or text_match.match_type not in PUSHDOWN_MATCH_TYPES
        or text_match.collation not in KEY_COLLATIONS
    ):
        return None
    needle = text_match.text
    if field == "TEL":
        value = normalise_tel(needle)
    elif field in ("N", "NICKNAME", "ORG") and not _PART_SEPARATORS.isdisjoint(unicode_casemap_key(needle)):
        return None
    else:
        value = normalise_term(needle)
    return TermQuery(field, text_match.match_type, value) if value else None


def _cost(terms: tuple[TermQuery, ...]) -> tuple[int, int]:
    """Fewer terms first, then fewer prefix scans: both bound the candidates better."""
    return len(terms), sum(term.match_type != "equals" for term in terms)
