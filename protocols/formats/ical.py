"""iCalendar for every protocol: parse and validate calendar objects, index their time spans, answer RFC 4791
time-range questions, and cut calendar data to what a report asked for. No XML, HTTP or storage in here.

The work is split by concern into ``ical_parse`` (bytes to objects, per-object time zones), ``ical_timerange``
(§9.9 tests, recurrence, spans) and ``ical_output`` (expand, limit-recurrence-set, select, free/busy); this
module adds the calendar-object rules of RFC 4791 §4.1 and is the one to import.

Floating date-times and DATEs are read in the zone the caller passes (the collection's); the index, which
cannot know that zone, widens their spans by FLOATING_SLACK instead.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from icalendar import Calendar, Component

from protocols.formats.ical_output import (
    CompSpec,
    expand,
    freebusy_calendar,
    freebusy_periods,
    limit_recurrence_set,
    select,
    serialize,
)
from protocols.formats.ical_parse import VALID_DATA, CalendarDataError, parse_calendar, vtimezone_tzinfo
from protocols.formats.ical_timerange import (
    MAX_SPANS,
    OPEN_END,
    OPEN_START,
    RecurrenceSet,
    alarm_overlaps,
    component_overlaps,
    epoch,
    instance_spans,
    is_floating,
    is_recurring_master,
    merge_spans,
    own_instance,
    property_overlaps,
    recurrence_spans,
    value_of,
)

__all__ = [
    "MAX_SPANS",
    "OPEN_END",
    "OPEN_START",
    "CalendarDataError",
    "CalendarIndex",
    "CompSpec",
    "alarm_overlaps",
    "component_overlaps",
    "expand",
    "freebusy_calendar",
    "freebusy_periods",
    "index_calendar_object",
    "limit_recurrence_set",
    "parse_calendar",
    "property_overlaps",
    "select",
    "serialize",
    "vtimezone_tzinfo",
]

VALID_OBJECT = "valid-calendar-object-resource"
SUPPORTED_COMPONENT = "supported-calendar-component"
COMPONENTS = ("VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY")
SINGLE_VALUED = ("UID", "DTSTART", "DTEND", "DUE", "DURATION", "RECURRENCE-ID")
DATE_VALUED = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID")


@dataclass(frozen=True, slots=True)
class CalendarIndex:
    """What storage keeps of a calendar object. ``spans`` are UTC epoch-second [start, end) ranges covering
    every instance, a superset: if component_overlaps() holds for a range [s, e) in any zone, some span (a, b)
    has a < e and b > s. An empty tuple means no time-range can match (a VJOURNAL without DTSTART)."""

    uid: str
    component: str
    spans: tuple[tuple[int, int], ...]


def index_calendar_object(data: bytes, allowed_components: frozenset[str]) -> tuple[Calendar, CalendarIndex]:
    """Parse, validate (RFC 4791 §4.1, §5.3.2.1) and index a calendar object resource.

    Raises CalendarDataError only: valid-calendar-data for data that is not (usable) iCalendar,
    valid-calendar-object-resource for a §4.1 violation, supported-calendar-component for a component type
    outside ``allowed_components``."""
    calendar = parse_calendar(data)
    components = _checked_components(calendar, frozenset(name.upper() for name in allowed_components))
    try:
        spans = []
        for component in components:
            if is_recurring_master(component):
                spans += recurrence_spans(RecurrenceSet(calendar, component))
            else:
                spans += instance_spans(own_instance(component))
    except (ValueError, TypeError, LookupError, ArithmeticError, AttributeError) as error:
        if isinstance(error, CalendarDataError):
            raise
        raise CalendarDataError(VALID_DATA, "the recurrence set cannot be computed") from None
    index = CalendarIndex(str(components[0]["UID"]), str(components[0].name), merge_spans(spans))
    return calendar, index


def _checked_components(calendar: Calendar, allowed: frozenset[str]) -> list[Component]:
    """The object's components (VTIMEZONEs aside), after the checks of RFC 4791 §4.1."""
    if "METHOD" in calendar:
        raise CalendarDataError(VALID_OBJECT, "a calendar object resource must not have a METHOD property")
    components = [component for component in calendar.subcomponents if component.name != "VTIMEZONE"]
    names = sorted({str(component.name) for component in components})
    if not names:
        raise CalendarDataError(VALID_OBJECT, f"no calendar component ({', '.join(COMPONENTS)})")
    if len(names) > 1:
        raise CalendarDataError(VALID_OBJECT, f"one component type per resource, found {', '.join(names)}")
    if names[0] not in COMPONENTS or names[0] not in allowed:
        raise CalendarDataError(SUPPORTED_COMPONENT, f"{names[0]} is not supported in this calendar")
    for component in components:
        _check_values(component)
    uids = {str(component.get("UID", "")).strip() for component in components}
    if "" in uids:
        raise CalendarDataError(VALID_OBJECT, f"every {names[0]} needs a UID")
    if len(uids) > 1:
        raise CalendarDataError(VALID_OBJECT, "all components of a resource must share one UID")
    seen: set[Hashable] = set()
    for component in components:
        recurrence_id = component.get("RECURRENCE-ID")
        key = "master" if recurrence_id is None else _instant_key(value_of(component, "RECURRENCE-ID"))
        if key in seen:
            what = "component without RECURRENCE-ID" if key == "master" else "override with this RECURRENCE-ID"
            raise CalendarDataError(VALID_OBJECT, f"more than one {what}")
        seen.add(key)
    return components


def _check_values(component: Component) -> None:
    """Time properties are single and of the right type, and a VEVENT has a DTSTART (RFC 5545 §3.6.1)."""
    for name in SINGLE_VALUED:
        if isinstance(component.get(name), list):
            raise CalendarDataError(VALID_DATA, f"{name} appears more than once in a {component.name}")
    for name in DATE_VALUED:
        if name in component and not isinstance(value_of(component, name), date):
            raise CalendarDataError(VALID_DATA, f"{name} must be a DATE or DATE-TIME")
    if "DURATION" in component and not isinstance(value_of(component, "DURATION"), timedelta):
        raise CalendarDataError(VALID_DATA, "DURATION must be a duration")
    if component.name == "VEVENT" and "DTSTART" not in component:
        raise CalendarDataError(VALID_DATA, "a VEVENT needs a DTSTART")


def _instant_key(value: date) -> Hashable:
    """Two RECURRENCE-IDs name the same instance when they are the same instant (or the same floating value)."""
    return value if is_floating(value) else epoch(value, UTC)
