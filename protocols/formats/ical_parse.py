"""iCalendar bytes to icalendar objects, with every TZID resolved against the object that uses it.

icalendar's own ``Calendar.from_ical`` is not used because it files each unknown VTIMEZONE in one process-wide
table keyed by TZID, first come first served: one user's "Customized Time Zone" would then decide the times of
another user's. This parser resolves no zone while reading. Afterwards each TZID is looked up, in this order:

1. an IANA name known to zoneinfo: the tz database (clients generate their VTIMEZONEs from it, often trimmed);
2. a VTIMEZONE defined in the same object (Outlook's "W. Europe Standard Time", "Customized Time Zone", ...),
   built once per distinct definition and cached by its text;
3. a Windows zone name, or a libical-style "/vendor/.../Area/City" identifier, mapped to its IANA zone;
4. otherwise the value stays floating and is read in the collection's zone. RFC 5545 requires a VTIMEZONE for
   every TZID, but a client that omits one (old exporters do) most likely meant its user's local zone, which is
   what the collection's zone stands for; UTC would shift every such event by the user's offset.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, cast

from icalendar import Calendar, Component, Timezone
from icalendar.cal.component_factory import ComponentFactory
from icalendar.parser import Parameters
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.prop import vBroken, vDDDLists
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

VALID_DATA = "valid-calendar-data"
MAX_DEPTH = 8
"""VCALENDAR > VAVAILABILITY > AVAILABLE > VALARM is 4 deep; deeper nesting is rejected, not walked."""

TIME_PROPERTIES = frozenset(
    {
        "DTSTART", "DTEND", "DUE", "DURATION", "RECURRENCE-ID", "RRULE", "EXRULE", "RDATE", "EXDATE",
        "COMPLETED", "CREATED", "DTSTAMP", "LAST-MODIFIED", "TRIGGER", "REPEAT", "FREEBUSY",
        "TZOFFSETFROM", "TZOFFSETTO",
    }
)  # fmt: skip
"""A value of these that does not parse makes the object unusable for time queries, so it is refused; any
other unparseable value is kept as text (clients round-trip their own extensions)."""

FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
ZONED_PROPERTIES = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "RDATE", "EXDATE")
"""The properties whose TZID parameter applies to their values (RFC 5545 §3.2.19)."""


class _Components(ComponentFactory):
    """icalendar's component classes. icalendar registers a new class for every unknown (X- or IANA) component
    name it meets, for the life of the process; here such a class is made per use, so that random names sent
    by clients cannot grow memory without bound."""

    def get_component_class(self, name: str) -> type[Component]:
        known = self.get(name)
        if known is not None:
            return cast(type[Component], known)
        return cast(
            type[Component], type(re.sub(r"\W+", "", name) or "Extension", (Component,), {"name": name.upper()})
        )


_FACTORY = _Components()
_FOLD = re.compile(rb"\r?\n[ \t]")
"""Unfolded as bytes, before decoding: simple writers fold inside a multi-octet character (RFC 5545 §3.1)."""


class CalendarDataError(ValueError):
    """Refused calendar data: ``condition`` is the CalDAV precondition's local name (valid-calendar-data,
    valid-calendar-object-resource, supported-calendar-component, max-instances), ``message`` is for clients."""

    def __init__(self, condition: str, message: str) -> None:
        super().__init__(message)
        self.condition = condition
        self.message = message


class _Parser(CalendarIcalParser):
    """icalendar's parser, strict about structure and blind to time zones (they are resolved per object)."""

    def __init__(self, text: str) -> None:
        super().__init__(text, _FACTORY, Calendar.types_factory)
        self.timezone_sources: dict[str, str] = {}
        """TZID -> source text of each VTIMEZONE in a VCALENDAR (or alone): a cheap, exact cache key."""
        self._zone_lines: list[str] | None = None
        self._zone_depth = 0

    def handle_line_parse_error(self, exception: Exception) -> None:
        raise exception  # a line without a name and a colon means broken folding or truncation, not a quirk

    def handle_begin_component(self, vals: str) -> None:
        if len(self._stack) >= MAX_DEPTH:
            raise ValueError("components are nested too deeply")
        if vals.upper() == "VTIMEZONE" and len(self._stack) <= 1:
            self._zone_lines, self._zone_depth = [], len(self._stack)
        if self._zone_lines is not None:
            self._zone_lines.append(f"BEGIN:{vals.upper()}")
        super().handle_begin_component(vals)

    def handle_end_component(self, vals: str) -> None:
        name = vals.upper()
        if not self._stack or self._stack[-1].name != name:
            raise ValueError(f"END:{vals} does not match the open component")
        component = self._stack.pop()
        if self._stack:
            self._stack[-1].add_component(component)
        else:
            self._components.append(component)
        if self._zone_lines is not None:
            self._zone_lines.append(f"END:{name}")
            if len(self._stack) == self._zone_depth:
                if "TZID" in component:
                    self.timezone_sources[str(component["TZID"])] = "\r\n".join(self._zone_lines)
                self._zone_lines = None

    def handle_property(self, name: str, params: Parameters, vals: str, line: Any) -> None:
        if self._zone_lines is not None:
            self._zone_lines.append(str(line))
        super().handle_property(name, params, vals, line)

    def parse_and_add_property(self, name: str, params: Parameters, val: str, tzid: str | None, line: Any) -> None:
        super().parse_and_add_property(name, params, val, None, line)

    def handle_property_parse_error(
        self, exception: Exception, name: str, params: Parameters, val: str, line: Any
    ) -> None:
        if name in TIME_PROPERTIES:
            raise exception
        component = self.component
        assert component is not None  # a property outside any component fails before its value is parsed
        broken = vBroken.from_parse_error(
            raw_value=val, params=params, property_name=name, expected_type="", error=exception
        )
        component.errors.append((name, str(exception)))
        component.add(name, broken, encode=False)

    def prepare_components(self) -> None:
        """Nothing to redo: the base class re-parses to fix VTIMEZONEs defined after their use, zones come later."""


def parse_calendar(data: bytes) -> Calendar:
    """One VCALENDAR from UTF-8 bytes (a byte-order mark, LF line ends and folded lines are tolerated)."""
    if not data.strip():
        raise CalendarDataError(VALID_DATA, "the calendar data is empty")
    try:
        text = _FOLD.sub(b"", data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CalendarDataError(VALID_DATA, "calendar data must be UTF-8") from None
    parser = _Parser(text)
    try:
        components = parser.parse()
    except ValueError as error:
        raise CalendarDataError(VALID_DATA, f"not parseable iCalendar: {str(error)[:160]}") from None
    except Exception:  # icalendar signals some malformed input with other types; to a client it is all the same
        raise CalendarDataError(VALID_DATA, "not parseable iCalendar") from None
    if len(components) != 1 or components[0].name != "VCALENDAR":
        raise CalendarDataError(VALID_DATA, "expected exactly one VCALENDAR")
    calendar = components[0]
    assert isinstance(calendar, Calendar)
    _resolve_times(calendar, parser.timezone_sources)
    return calendar


def vtimezone_tzinfo(text: str) -> tzinfo | None:
    """The zone of a CALDAV:calendar-timezone value (RFC 4791 §5.2.2): a VCALENDAR holding one VTIMEZONE.

    A bare VTIMEZONE is accepted too. None when the text is not usable as a time zone."""
    parser = _Parser(text)
    try:
        components = parser.parse()
    except Exception:  # unusable is unusable, whatever icalendar raised
        return None
    if len(components) == 1 and components[0].name == "VCALENDAR":
        components = components[0].subcomponents
    zones = [component for component in components if component.name == "VTIMEZONE"]
    if len(zones) != 1 or len(components) != 1 or "TZID" not in zones[0]:
        return None
    return resolve_zone(str(zones[0]["TZID"]), parser.timezone_sources)


def resolve_zone(tzid: str, sources: Mapping[str, str]) -> tzinfo | None:
    """The zone a TZID names in an object whose VTIMEZONEs have ``sources``; None means floating."""
    names = _iana_names()
    if tzid in names:
        return zoneinfo.ZoneInfo(tzid)
    source = sources.get(tzid)
    if source is not None and (zone := _zone_from_source(source)) is not None:
        return zone
    alias = WINDOWS_TO_OLSON.get(tzid) or _vendor_prefixed(tzid)
    return zoneinfo.ZoneInfo(alias) if alias in names else None


@functools.cache
def _iana_names() -> frozenset[str]:
    """Looked up as a set, so that a TZID never becomes a file-system path probe."""
    return frozenset(zoneinfo.available_timezones())


def _vendor_prefixed(tzid: str) -> str | None:
    """ "/mozilla.org/20050126_1/America/New_York" (libical and Lightning) ends in an IANA name."""
    if not tzid.startswith("/"):
        return None
    parts = tzid.strip("/").split("/")
    candidates = ("/".join(parts[first:]) for first in range(len(parts)))
    return next((name for name in candidates if name in _iana_names()), None)


@functools.lru_cache(maxsize=256)
def _zone_from_source(source: str) -> tzinfo | None:
    """A tzinfo built from one VTIMEZONE's text (about half a millisecond, hence cached), or None if unusable."""
    try:
        components = _Parser(source).parse()
        vtimezone = components[0]
        return vtimezone.to_tz(lookup_tzid=False) if isinstance(vtimezone, Timezone) else None
    except Exception:  # a VTIMEZONE dateutil cannot interpret is treated as absent, not as an error
        return None


def _is_date(value: Any) -> bool:
    return isinstance(value, date)


def _is_period(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], datetime)
        and isinstance(value[1], (datetime, timedelta))
    )


VALUE_TYPES: dict[str, Callable[[Any], bool]] = {
    **dict.fromkeys(("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "EXDATE"), _is_date),
    **dict.fromkeys(("COMPLETED", "CREATED", "DTSTAMP", "LAST-MODIFIED"), _is_date),
    "DURATION": lambda value: isinstance(value, timedelta),
    "TRIGGER": lambda value: isinstance(value, (timedelta, datetime)),
    "RDATE": lambda value: _is_date(value) or _is_period(value),
    "FREEBUSY": _is_period,
}
"""What each time property must hold once parsed: icalendar reads "20240405/101112Z" as a period of a date and a
time of day, say, which nothing downstream (nor icalendar's own writer) can use."""


def _resolve_times(calendar: Calendar, sources: Mapping[str, str]) -> None:
    """Check every time value and rule, and give each date-time that carries a TZID its zone (values with an
    unresolvable TZID stay floating)."""
    zones: dict[str, tzinfo | None] = {}
    for top in calendar.subcomponents:
        if top.name == "VTIMEZONE":
            continue
        for component in top.walk():
            _check_rules(component)
            for name, valid in VALUE_TYPES.items():
                for prop in all_of(component, name):
                    if not all(valid(getattr(item, "dt", None)) for item in _items(prop)):
                        raise CalendarDataError(VALID_DATA, f"{name} has a value of the wrong type")
                    if name in ZONED_PROPERTIES:
                        _apply_tzid(prop, zones, sources)


def _check_rules(component: Component) -> None:
    for name in ("RRULE", "EXRULE"):
        for rule in all_of(component, name):
            if str(rule.get("FREQ", [""])[0]).upper() not in FREQUENCIES:
                raise CalendarDataError(VALID_DATA, f"{name} needs a valid FREQ")


def all_of(component: Component, name: str) -> list[Any]:
    """Every instance of a property; icalendar hands back a list only when the property is repeated."""
    found = component.get(name)
    return found if isinstance(found, list) else [] if found is None else [found]


def _items(prop: Any) -> list[Any]:
    return prop.dts if isinstance(prop, vDDDLists) else [prop]


def _apply_tzid(prop: Any, zones: dict[str, tzinfo | None], sources: Mapping[str, str]) -> None:
    tzid = prop.params.get("TZID")
    if not tzid:
        return
    if not isinstance(tzid, str):  # "TZID=a,b" parses as a list
        raise CalendarDataError(VALID_DATA, "a TZID parameter has more than one value")
    if tzid not in zones:
        zones[tzid] = resolve_zone(tzid, sources)
    zone = zones[tzid]
    if zone is not None:
        for item in _items(prop):
            item.dt = _in_zone(item.dt, zone)


def _in_zone(value: Any, zone: tzinfo) -> Any:
    if isinstance(value, tuple):  # a PERIOD: (start, end or duration)
        return tuple(_in_zone(part, zone) for part in value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value
