"""CalDAV ``calendar-query`` filters (RFC 4791 §9.7): parsed once into frozen dataclasses, then evaluated.

Parsing turns every problem into a FilterError naming the CalDAV precondition to answer with. Evaluation follows
§9.7 literally: a comp-filter holds when SOME component of its name passes all of its tests together (so a
recurring event whose override alone lies in the range, and carries the text, matches through that override),
and a prop-filter when SOME instance of the property passes all of its tests together (the same ATTENDEE must
have the address and the PARTSTAT). Time ranges are decided by the formats module, which knows recurrence,
VTIMEZONE and the §9.9 tables; here icalendar objects are only walked through their duck-typed interface
(``name``, ``subcomponents``, ``get``, ``params``), so ical.py stays the one runtime icalendar import.

The store pre-selects candidates with ``index_hint`` and every candidate is then checked with ``matches``; the
hint therefore only ever widens the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from lxml import etree

from protocols.formats.ical import alarm_overlaps, component_overlaps, property_overlaps
from protocols.webdav.filtering import Condition, FilterError, ParamFilter, children_by_tag
from protocols.webdav.textmatch import ASCII_CASEMAP, TextMatch, UnsupportedCollation, parse_text_match
from protocols.webdav.xml import CALDAV, clark

if TYPE_CHECKING:
    from icalendar import Calendar


FILTER = clark(CALDAV, "filter")
COMP_FILTER = clark(CALDAV, "comp-filter")
PROP_FILTER = clark(CALDAV, "prop-filter")
PARAM_FILTER = clark(CALDAV, "param-filter")
IS_NOT_DEFINED = clark(CALDAV, "is-not-defined")
TIME_RANGE = clark(CALDAV, "time-range")
TEXT_MATCH = clark(CALDAV, "text-match")

TIME_RANGE_COMPONENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VALARM"})
"""The components §9.9 defines an overlap for; a time-range on any other cannot be evaluated."""

INDEXED_COMPONENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"})
"""Types the store records as an object's component; VTIMEZONE or VALARM never are, so never push them down."""

_UTC_STAMP = re.compile(r"\d{8}T\d{6}Z")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """UTC bounds, ``None`` meaning open (§9.9: -infinity / +infinity); end is exclusive."""

    start: datetime | None
    end: datetime | None

    def __post_init__(self) -> None:
        if self.start is None and self.end is None:
            raise FilterError("valid-filter", "time-range needs a start or an end")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise FilterError("valid-filter", "time-range start must be before its end")


@dataclass(frozen=True, slots=True)
class PropFilter:
    """No ``test`` attribute: CalDAV prop-filter tests are always all-of, and CardDAV's prop-filter differs anyway
    (several text-matches under ``test``), so a shared shape would only add a field CalDAV must ignore."""

    name: str
    is_not_defined: bool = False
    time_range: TimeRange | None = None
    text_match: TextMatch | None = None
    param_filters: tuple[ParamFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class CompFilter:
    name: str
    is_not_defined: bool = False
    time_range: TimeRange | None = None
    prop_filters: tuple[PropFilter, ...] = ()
    comp_filters: tuple[CompFilter, ...] = ()


@dataclass(frozen=True, slots=True)
class Filter:
    """A whole ``CALDAV:filter``; ``root`` is always the VCALENDAR comp-filter."""

    root: CompFilter


@dataclass(frozen=True, slots=True)
class IndexHint:
    """What the store may pre-select by: component type and an epoch-second ``[start, end)``; None = anything."""

    component: str | None
    start: int | None
    end: int | None


# -- parsing -------------------------------------------------------------------------------------------------


def parse_filter(element: etree._Element) -> Filter:
    """Parse ``CALDAV:filter``. Elements outside the CalDAV namespace are ignored (RFC 4918 extensibility);
    unknown CalDAV elements, a missing or repeated part, or a root other than VCALENDAR are ``valid-filter``."""
    if element.tag != FILTER:
        raise FilterError("valid-filter", "expected a CALDAV:filter element")
    parts = _parts(element, {COMP_FILTER})
    roots = parts[COMP_FILTER]
    if len(roots) != 1:
        raise FilterError("valid-filter", "CALDAV:filter must hold exactly one comp-filter")
    root = _parse_comp_filter(roots[0])
    if root.name != "VCALENDAR":
        raise FilterError("valid-filter", "the outermost comp-filter must name VCALENDAR")
    return Filter(root)


def _parts(element: etree._Element, allowed: set[str]) -> dict[str, list[etree._Element]]:
    return children_by_tag(element, CALDAV, allowed)


def _name(element: etree._Element) -> str:
    """iCalendar names are case-insensitive; they are kept upper-case."""
    raw = element.get("name")
    if raw is None or not raw.strip():
        raise FilterError("valid-filter", f"{element.tag} needs a name attribute")
    return raw.strip().upper()


def _is_not_defined(parts: Mapping[str, Sequence[etree._Element]]) -> bool:
    """``is-not-defined`` must stand alone (the DTD's ``is-not-defined | (...)``)."""
    if not parts.get(IS_NOT_DEFINED):
        return False
    if sum(len(found) for found in parts.values()) != 1:
        raise FilterError("valid-filter", "is-not-defined must be the only child of its filter")
    return True


def _at_most_one(found: Sequence[etree._Element], what: str) -> etree._Element | None:
    if len(found) > 1:
        raise FilterError("valid-filter", f"more than one {what}")
    return found[0] if found else None


def _parse_comp_filter(element: etree._Element) -> CompFilter:
    name = _name(element)
    parts = _parts(element, {IS_NOT_DEFINED, TIME_RANGE, PROP_FILTER, COMP_FILTER})
    if _is_not_defined(parts):
        return CompFilter(name, is_not_defined=True)
    range_element = _at_most_one(parts[TIME_RANGE], "time-range")
    time_range = None if range_element is None else _parse_time_range(range_element)
    if time_range is not None and name not in TIME_RANGE_COMPONENTS:
        condition: Condition = "valid-filter" if name == "VCALENDAR" else "supported-filter"
        raise FilterError(condition, f"time-range is not defined for {name}")
    return CompFilter(
        name,
        time_range=time_range,
        prop_filters=tuple(_parse_prop_filter(child) for child in parts[PROP_FILTER]),
        comp_filters=tuple(_parse_comp_filter(child) for child in parts[COMP_FILTER]),
    )


def _parse_prop_filter(element: etree._Element) -> PropFilter:
    name = _name(element)
    parts = _parts(element, {IS_NOT_DEFINED, TIME_RANGE, TEXT_MATCH, PARAM_FILTER})
    if _is_not_defined(parts):
        return PropFilter(name, is_not_defined=True)
    test = _at_most_one([*parts[TIME_RANGE], *parts[TEXT_MATCH]], "time-range or text-match")
    return PropFilter(
        name,
        time_range=_parse_time_range(test) if test is not None and test.tag == TIME_RANGE else None,
        text_match=_parse_text_match(test) if test is not None and test.tag == TEXT_MATCH else None,
        param_filters=tuple(_parse_param_filter(child) for child in parts[PARAM_FILTER]),
    )


def _parse_param_filter(element: etree._Element) -> ParamFilter:
    name = _name(element)
    parts = _parts(element, {IS_NOT_DEFINED, TEXT_MATCH})
    if _is_not_defined(parts):
        return ParamFilter(name, is_not_defined=True)
    test = _at_most_one(parts[TEXT_MATCH], "text-match")
    return ParamFilter(name, text_match=None if test is None else _parse_text_match(test))


def _parse_text_match(element: etree._Element) -> TextMatch:
    try:
        return parse_text_match(element, ASCII_CASEMAP)
    except UnsupportedCollation as exc:
        raise FilterError("supported-collation", f"unsupported collation {exc}") from None
    except ValueError as exc:
        raise FilterError("valid-filter", str(exc)) from None


def _parse_time_range(element: etree._Element) -> TimeRange:
    return TimeRange(_utc(element.get("start")), _utc(element.get("end")))


def _utc(raw: str | None) -> datetime | None:
    """§9.9: "date with UTC time" (``YYYYMMDDTHHMMSSZ``); anything else is refused rather than guessed."""
    if raw is None:
        return None
    value = raw.strip()
    if not _UTC_STAMP.fullmatch(value):
        raise FilterError("valid-filter", f"time-range value {raw!r} is not a UTC date-time")
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise FilterError("valid-filter", f"time-range value {raw!r} is not a date") from None


# -- evaluation ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    calendar: Any
    floating_tz: tzinfo


def matches(filter: Filter, calendar: Calendar, floating_tz: tzinfo) -> bool:
    """Whether a calendar object resource passes the filter; floating times are read in ``floating_tz``."""
    root = filter.root
    present = str(calendar.name or "").upper() == root.name
    if root.is_not_defined:
        return not present
    return present and _component_matches(root, calendar, None, _Scope(calendar, floating_tz))


def _component_matches(comp_filter: CompFilter, component: Any, parent: Any, scope: _Scope) -> bool:
    """All tests of one comp-filter against one component; cheap property tests run before any expansion."""
    if not all(_prop_filter_matches(test, component, scope) for test in comp_filter.prop_filters):
        return False
    time_range = comp_filter.time_range
    if time_range is not None and not _overlaps(comp_filter.name, component, parent, time_range, scope):
        return False
    return all(_comp_filter_matches(test, component, scope) for test in comp_filter.comp_filters)


def _overlaps(name: str, component: Any, parent: Any, time_range: TimeRange, scope: _Scope) -> bool:
    """VALARM triggers are relative to the component holding the alarm, so that one is passed along."""
    start, end = time_range.start, time_range.end
    if name == "VALARM":
        return alarm_overlaps(scope.calendar, parent, component, start, end, scope.floating_tz)
    return component_overlaps(scope.calendar, component, start, end, scope.floating_tz)


def _comp_filter_matches(comp_filter: CompFilter, parent: Any, scope: _Scope) -> bool:
    found = [child for child in parent.subcomponents if str(child.name or "").upper() == comp_filter.name]
    if comp_filter.is_not_defined:
        return not found
    return any(_component_matches(comp_filter, child, parent, scope) for child in found)


def _instances(component: Any, name: str) -> list[Any]:
    """Every instance of a property; icalendar hands back a list only when the property is repeated."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _prop_filter_matches(prop_filter: PropFilter, component: Any, scope: _Scope) -> bool:
    instances = _instances(component, prop_filter.name)
    if prop_filter.is_not_defined:
        return not instances
    return any(_property_matches(prop_filter, value, scope) for value in instances)


def _property_matches(prop_filter: PropFilter, value: Any, scope: _Scope) -> bool:
    time_range = prop_filter.time_range
    if time_range is not None and not property_overlaps(value, time_range.start, time_range.end, scope.floating_tz):
        return False
    if prop_filter.text_match is not None and not prop_filter.text_match.matches_any(_text_values(value)):
        return False
    params: Mapping[str, Any] = getattr(value, "params", None) or {}
    return all(_param_filter_matches(test, params) for test in prop_filter.param_filters)


def _param_filter_matches(param_filter: ParamFilter, params: Mapping[str, Any]) -> bool:
    raw = params.get(param_filter.name)
    if param_filter.is_not_defined:
        return raw is None
    if raw is None:
        return False
    if param_filter.text_match is None:
        return True
    values = [str(item) for item in raw] if isinstance(raw, list | tuple) else [str(raw)]
    return param_filter.text_match.matches_any(values)


def _text_values(value: Any) -> list[str]:
    """A property's values as text: TEXT unescaped, each CATEGORIES item apart, anything else as written."""
    items = getattr(value, "cats", None)
    if items is not None:
        return [str(item) for item in items]
    if isinstance(value, str):
        return [str(value)]
    to_ical = getattr(value, "to_ical", None)
    if to_ical is None:
        return [str(value)]
    written = to_ical()
    return [written.decode("utf-8", "replace") if isinstance(written, bytes) else str(written)]


# -- index pushdown ------------------------------------------------------------------------------------------


def index_hint(filter: Filter) -> IndexHint:
    """The part of a filter the index can answer without ever dropping a match.

    Only the one component type required directly under VCALENDAR is pushed down, with that comp-filter's own
    time-range: nested ranges (a VALARM's trigger, a property's date) say nothing about the object's span.
    """
    anything = IndexHint(None, None, None)
    root = filter.root
    if root.is_not_defined:
        return anything
    required = [test for test in root.comp_filters if not test.is_not_defined]
    if len(required) != 1 or required[0].name not in INDEXED_COMPONENTS:
        return anything
    target = required[0]
    time_range = target.time_range
    if time_range is None:
        return IndexHint(target.name, None, None)
    return IndexHint(target.name, _epoch(time_range.start), _epoch(time_range.end))


def _epoch(moment: datetime | None) -> int | None:
    """Whole seconds already (the wire format has no fractions), so no rounding can narrow the range."""
    return None if moment is None else int(moment.timestamp())
