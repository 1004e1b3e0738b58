"""What reports hand out: calendar-data subsets (RFC 4791 §9.6), expanded instances, free/busy time (§7.10).

Every function returns a new Calendar and leaves its input untouched; property values are shared with the input
only where they are not changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from icalendar import Calendar, Component, FreeBusy
from icalendar.parser import Parameters
from icalendar.prop import vDDDLists, vDDDTypes, vPeriod, vText

from protocols.formats.ical_recurrence import RECURRING, Instance, epoch, moment_of, own_instance, value_of
from protocols.formats.ical_timerange import (
    bounds,
    component_overlaps,
    freebusy_values,
    interval_overlaps,
    overlapping_instances,
)

PRODID = "-//groupware-gateway//CalDAV//EN"
RULE_PROPERTIES = ("RRULE", "RDATE", "EXDATE", "EXRULE")


@dataclass(frozen=True)
class CompSpec:
    """A calendar-data ``comp`` element (RFC 4791 §9.6.1); ``props`` are (name, novalue) pairs."""

    name: str
    allprop: bool = True
    props: tuple[tuple[str, bool], ...] = ()
    allcomp: bool = True
    comps: tuple[CompSpec, ...] = ()


def serialize(calendar: Calendar) -> bytes:
    """iCalendar bytes with CRLF line ends, properties in the order they came in."""
    return bytes(calendar.to_ical(sorted=False))


def _shell(calendar: Calendar) -> Calendar:
    """A new VCALENDAR with the same calendar properties and no components."""
    shell = Calendar()
    for name, value in calendar.items():
        shell[name] = value
    return shell


def select(calendar: Calendar, spec: CompSpec) -> Calendar:
    """Only the components and properties ``spec`` names (§9.6.1); novalue keeps a property, parameters
    included, with an empty value."""
    selected = _select(calendar, spec)
    assert isinstance(selected, Calendar)
    return selected


def _select(component: Component, spec: CompSpec) -> Component:
    copy = type(component)()
    wanted = {name.upper(): novalue for name, novalue in spec.props}
    for name, value in component.items():
        if spec.allprop or (name in wanted and not wanted[name]):
            copy[name] = value
        elif name in wanted:
            copy[name] = [_emptied(v) for v in value] if isinstance(value, list) else _emptied(value)
    children = {child.name.upper(): child for child in spec.comps}
    for sub in component.subcomponents:
        if spec.allcomp:
            copy.add_component(sub)
        elif sub.name in children:
            copy.add_component(_select(sub, children[sub.name]))
    return copy


def _emptied(value: Any) -> vText:
    return vText("", params=dict(getattr(value, "params", {})))


def expand(calendar: Calendar, start: datetime, end: datetime, floating_tz: tzinfo) -> Calendar:
    """§9.6.5: one component per instance overlapping [start, end), each with a RECURRENCE-ID when it belongs
    to a recurrence set, without RRULE/RDATE/EXDATE, every DATE-TIME in UTC (DATEs stay DATEs), no VTIMEZONE."""
    low, high = bounds(start, end)
    expanded = _shell(calendar)
    instances: list[Instance] = []
    for component in calendar.subcomponents:
        if component.name in RECURRING:
            instances += overlapping_instances(calendar, component, floating_tz, low, high)
        elif component.name != "VTIMEZONE" and component_overlaps(calendar, component, start, end, floating_tz):
            expanded.add_component(_in_utc(component.copy(), component, floating_tz))
    instances.sort(key=lambda instance: _sort_key(instance, floating_tz))
    for instance in instances:
        expanded.add_component(_instance_component(instance, floating_tz))
    return expanded


def _sort_key(instance: Instance, zone: tzinfo) -> float:
    return -1e300 if instance.start is None else epoch(instance.start, zone)


def _instance_component(instance: Instance, zone: tzinfo) -> Component:
    source = instance.component
    copy = source.copy()
    for name in RULE_PROPERTIES:
        copy.pop(name, None)
    if "RECURRENCE-ID" in source:
        copy["RECURRENCE-ID"] = vDDDTypes(value_of(source, "RECURRENCE-ID"))  # RANGE dropped: one instance
    if instance.recurrence_id is not None:
        copy["RECURRENCE-ID"] = vDDDTypes(instance.recurrence_id)
        _move(copy, source, instance)
    return _in_utc(copy, source, zone)


def _move(copy: Component, source: Component, instance: Instance) -> None:
    """Put a generated instance's times into the copy of the component it was generated from."""
    start, end = instance.start, instance.end
    assert start is not None and end is not None  # generated instances have both
    if "DTSTART" not in source:  # a VTODO recurring on its DUE
        copy["DUE"] = vDDDTypes(start)
        return
    copy["DTSTART"] = vDDDTypes(start)
    if "DUE" in source:
        copy["DUE"] = vDDDTypes(end)
    elif "DTEND" in source or (source.name == "VEVENT" and own_instance(copy).end != end):  # an RDATE period
        copy.pop("DURATION", None)
        copy["DTEND"] = vDDDTypes(end)


def _in_utc(copy: Component, source: Component, zone: tzinfo) -> Component:
    """``copy`` (a shallow copy of ``source``) with its DATE-TIME values in UTC, subcomponents converted too."""
    for name, value in list(copy.items()):
        copy[name] = [_utc_value(v, zone) for v in value] if isinstance(value, list) else _utc_value(value, zone)
    copy.subcomponents = [_in_utc(sub.copy(), sub, zone) for sub in source.subcomponents]
    return copy


def _utc_value(value: Any, zone: tzinfo) -> Any:
    moment = moment_of(value)
    if isinstance(value, vDDDLists):
        return vDDDLists([_utc_value(item, zone) for item in value.dts])
    if isinstance(moment, datetime) and ("TZID" in value.params or moment.utcoffset() != timedelta(0)):
        params = {key: item for key, item in value.params.items() if key not in ("TZID", "VALUE")}
        return vDDDTypes(_utc(moment, zone), params)
    if isinstance(moment, tuple) and isinstance(moment[0], datetime):
        period: Any = tuple(_utc(part, zone) if isinstance(part, datetime) else part for part in moment)
        return vDDDTypes(period, {key: item for key, item in value.params.items() if key != "TZID"})
    return value


def _utc(moment: datetime, zone: tzinfo) -> datetime:
    return (moment if moment.utcoffset() is not None else moment.replace(tzinfo=zone)).astimezone(UTC)


def limit_recurrence_set(calendar: Calendar, start: datetime, end: datetime, floating_tz: tzinfo) -> Calendar:
    """§9.6.6: everything but the overrides that do not impact [start, end). An override impacts the range if
    its own instance or the instance it replaces overlaps it, or if it is a RANGE=THISANDFUTURE override whose
    shifted instances can start before the range ends."""
    low, high = bounds(start, end)
    limited = _shell(calendar)
    for component in calendar.subcomponents:
        if "RECURRENCE-ID" not in component or _impacts(calendar, component, floating_tz, low, high):
            limited.add_component(component)
    return limited


def _impacts(calendar: Calendar, override: Component, zone: tzinfo, low: float, high: float) -> bool:
    own = own_instance(override)
    recurrence_id = override["RECURRENCE-ID"]
    original = epoch(value_of(override, "RECURRENCE-ID"), zone)
    if overlapping_instances(calendar, override, zone, low, high):
        return True
    if str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE":
        starts = [original] + ([epoch(own.start, zone)] if own.start is not None else [])
        if min(starts) < high:
            return True
    master = next(
        (
            component
            for component in calendar.subcomponents
            if component.name == override.name
            and component.get("UID") == override.get("UID")
            and "RECURRENCE-ID" not in component
        ),
        None,
    )
    if master is None:
        return False
    master_own = own_instance(master)
    if master_own.start is None or master_own.end is None:
        return False
    length = epoch(master_own.end, zone) - epoch(master_own.start, zone)
    return interval_overlaps(original, original + length, low, high)


def freebusy_periods(
    calendar: Calendar, start: datetime, end: datetime, floating_tz: tzinfo
) -> list[tuple[datetime, datetime, str]]:
    """RFC 4791 §7.10: busy time in [start, end) as (start, end, FBTYPE) in UTC, sorted, clipped to the range.

    VEVENT instances count unless TRANSP:TRANSPARENT or STATUS:CANCELLED (STATUS:TENTATIVE is BUSY-TENTATIVE);
    VFREEBUSY periods count with their FBTYPE, FREE ones excepted. VAVAILABILITY is not consulted: it says when
    someone can be booked, not when they are busy, and folding it in (RFC 7953 §4) is left for scheduling."""
    low, high = bounds(start, end)
    periods: list[tuple[float, float, str]] = []
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            for instance in overlapping_instances(calendar, component, floating_tz, low, high):
                fbtype = _busy_type(instance.component)
                if fbtype and instance.start is not None and instance.end is not None:
                    periods.append((epoch(instance.start, floating_tz), epoch(instance.end, floating_tz), fbtype))
        elif component.name == "VFREEBUSY":
            periods += [
                (epoch(period_start, floating_tz), epoch(period_end, floating_tz), fbtype)
                for period_start, period_end, fbtype in freebusy_values(component)
                if fbtype != "FREE"
            ]
    clipped = [(max(a, low), min(b, high), fbtype) for a, b, fbtype in periods]
    return sorted(
        (datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC), fbtype) for a, b, fbtype in clipped if b > a
    )


def _busy_type(event: Component) -> str | None:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    status = str(event.get("STATUS", "")).upper()
    if status == "CANCELLED":
        return None
    return "BUSY-TENTATIVE" if status == "TENTATIVE" else "BUSY"


def freebusy_calendar(periods: Iterable[tuple[datetime, datetime, str]], start: datetime, end: datetime) -> bytes:
    """The free-busy-query answer: one VFREEBUSY for [start, end), overlapping periods of one FBTYPE merged."""
    by_type: dict[str, list[tuple[datetime, datetime]]] = {}
    for period_start, period_end, fbtype in sorted(periods):
        merged = by_type.setdefault(fbtype, [])
        if merged and period_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], period_end))
        else:
            merged.append((period_start, period_end))
    freebusy = FreeBusy()
    freebusy.add("DTSTAMP", datetime.now(UTC).replace(microsecond=0))
    freebusy.add("DTSTART", start.astimezone(UTC))
    freebusy.add("DTEND", end.astimezone(UTC))
    for fbtype, merged in sorted(by_type.items()):
        for period in merged:
            prop = vPeriod(period)
            prop.params = Parameters({} if fbtype == "BUSY" else {"FBTYPE": fbtype})  # as RFC 4791's example
            freebusy.add("FREEBUSY", prop, encode=False)
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add_component(freebusy)
    return serialize(calendar)
