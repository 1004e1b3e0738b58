"""iCalendar for every protocol: parse and validate calendar objects, index their time spans, answer RFC 4791
time-range questions, and cut calendar data to what a report asked for. No XML, HTTP or storage in here.

The work is split by concern into ``ical_parse`` (bytes to objects, per-object time zones), ``ical_recurrence``
(recurrence sets, bounded in cost), ``ical_timerange`` (§9.9 tests, spans) and ``ical_output`` (expand,
limit-recurrence-set, select, free/busy); this module adds the calendar-object rules of RFC 4791 §4.1 and is the
one to import.

Choices where the RFCs leave room, and why:

- Floating date-times and DATEs are read in the zone the caller passes (the collection's). The index cannot know
  that zone (it may change), so their spans are widened by a day on each side, more than any UTC offset.
- A TZID without a VTIMEZONE is accepted: an IANA name or a Windows name means that zone, anything else is read
  as floating, i.e. in the collection's zone (see ical_parse for the order of lookups).
- METHOD is refused (RFC 4791 §4.1 says MUST NOT); importers such as vdirsyncer drop it when they split a file.
- Overrides without a master are accepted (invitations to single instances do this); overrides with no
  matching rule instance are simply extra instances.
- Time values that do not parse, and RRULEs whose date filters match no date at all, are refused as
  valid-calendar-data: they cannot be indexed, and the latter cost seconds of CPU on every query. A COUNT above
  SCAN_LIMIT is refused as max-instances (RFC 4791 §5.3.2.1). Unbounded rules, however dense, are accepted.
- Questions are bounded instead: a query never expands more than MAX_INSTANCES instances of one object, and
  raises CalendarDataError when it would (callers skip or hand out such an object unexpanded).
- Unparseable values of other properties are kept as text: clients round-trip extensions of their own.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date

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
from protocols.formats.ical_recurrence import (
    MAX_INSTANCES_CONDITION,
    SCAN_LIMIT,
    RecurrenceSet,
    epoch,
    is_floating,
    is_recurring_master,
    own_instance,
    value_of,
)
from protocols.formats.ical_timerange import (
    MAX_SPANS,
    OPEN_END,
    OPEN_START,
    alarm_overlaps,
    component_overlaps,
    instance_spans,
    merge_spans,
    property_overlaps,
    recurrence_spans,
)

__all__ = [
    "MAX_INSTANCES_CONDITION",
    "MAX_SPANS",
    "OPEN_END",
    "OPEN_START",
    "SCAN_LIMIT",
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
    except CalendarDataError:
        raise
    except (ValueError, TypeError, LookupError, ArithmeticError, AttributeError):  # from dateutil or r-i-e
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
    """Time properties appear once (parse_calendar checked their types), and a VEVENT has a DTSTART (RFC 5545
    §3.6.1)."""
    for name in SINGLE_VALUED:
        if isinstance(component.get(name), list):
            raise CalendarDataError(VALID_DATA, f"{name} appears more than once in a {component.name}")
    if component.name == "VEVENT" and "DTSTART" not in component:
        raise CalendarDataError(VALID_DATA, "a VEVENT needs a DTSTART")


def _instant_key(value: date) -> Hashable:
    """Two RECURRENCE-IDs name the same instance when they are the same instant (or the same floating value)."""
    return value if is_floating(value) else epoch(value, UTC)
