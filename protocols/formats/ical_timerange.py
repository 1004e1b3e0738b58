"""Time ranges over iCalendar components: RFC 4791 §9.9 overlap tests, recurrence instances, the span index.

Times are compared as UTC epoch seconds (floats, ±inf for open ends) once floating date-times and DATEs have been
placed in the reader's zone, so zoned, UTC, floating and all-day values mix freely. A recurring master (RRULE or
RDATE) is expanded with recurring-ical-events' ``Series``, over a window only as wide as the question needs;
every other component, overrides included, has exactly one instance: its own.

EXRULE (removed from iCalendar by RFC 5545) is not applied, so it can only make a match or a span too wide.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from icalendar import Calendar, Component
from icalendar.prop import vDDDLists

from protocols.formats.ical_parse import all_of
from protocols.formats.ical_recurrence import (
    DAY,
    RECURRING,
    Instance,
    RecurrenceSet,
    epoch,
    is_floating,
    is_recurring_master,
    moment_of,
    own_instance,
    plus,
    value_of,
)

OPEN_START = -(2**53)
"""Span start meaning "since forever"."""
OPEN_END = 2**53
"""Span end meaning "forever"."""
MAX_SPANS = 500
"""An object with more instances than this is indexed as one span covering all of them."""
FLOATING_SLACK = 86_400.0
"""Every tzinfo offset is below 24 hours (the tz database reaches ±15:56 in the 19th century, a client's
calendar-timezone may say anything up to ±23:59), so the instant of a floating time lies within a day of it."""


@dataclass(frozen=True, slots=True)
class _Shape:
    """An instance reduced to its RFC 4791 §9.9 row: which test, the one or two instants it compares."""

    test: str
    a: float = 0.0
    b: float = 0.0
    floating: bool = False


_TESTS: dict[str, Callable[[float, float, float, float], bool]] = {
    "interval": lambda a, b, start, end: start < b and end > a,
    "instant": lambda a, _, start, end: start <= a < end,
    "closed": lambda a, b, start, end: start <= b and end > a,  # VFREEBUSY with DTSTART and DTEND
    "todo-duration": lambda a, b, start, end: start <= b and (end > a or end >= b),
    "todo-due": lambda a, b, start, end: (start < b or start <= a) and (end > a or end >= b),
    "due": lambda a, _, start, end: start < a <= end,
    "created-completed": lambda a, b, start, end: (start <= a or start <= b) and (end >= a or end >= b),
    "completed": lambda a, _, start, end: start <= a <= end,
    "created": lambda a, _, start, end: end > a,
    "always": lambda *_: True,
}


def bounds(start: datetime | None, end: datetime | None) -> tuple[float, float]:
    """A time-range as epoch seconds, None meaning open; a naive bound is taken as UTC."""
    return (
        -math.inf if start is None else epoch(start if start.tzinfo else start.replace(tzinfo=UTC), UTC),
        math.inf if end is None else epoch(end if end.tzinfo else end.replace(tzinfo=UTC), UTC),
    )


def shapes(instance: Instance, zone: tzinfo) -> list[_Shape]:
    """The §9.9 row(s) for an instance; several for a VFREEBUSY with FREEBUSY periods, none if it never matches."""
    component, start, end = instance.component, instance.start, instance.end
    name = component.name
    if name == "VFREEBUSY":
        return _freebusy_shapes(component, zone)
    if name == "VAVAILABILITY":
        return [_availability_shape(component, zone)]
    if name == "VTODO" and start is None:
        return [_undated_todo_shape(component, zone)]
    if name not in RECURRING or start is None or end is None:
        return []
    a, b = epoch(start, zone), epoch(end, zone)
    floating = is_floating(start) or is_floating(end)
    if name == "VTODO":
        if not isinstance(value_of(component, "DTSTART"), date):
            return [_Shape("due", a, a, floating)]
        if isinstance(value_of(component, "DUE"), date):
            return [_Shape("todo-due", a, b, floating)]
        if isinstance(value_of(component, "DURATION"), timedelta):
            return [_Shape("todo-duration", a, b, floating)]
        return [_Shape("instant", a, a, floating)]
    if name == "VJOURNAL" and not isinstance(start, datetime):
        return [_Shape("interval", a, epoch(start + DAY, zone), floating)]
    if b != a or "DTEND" in component:  # DTEND, a positive DURATION, a DATE, or an RDATE period
        return [_Shape("interval", a, b, floating)]
    return [_Shape("instant", a, a, floating)]


def _undated_todo_shape(component: Component, zone: tzinfo) -> _Shape:
    """The last four VTODO rows: neither DTSTART nor DUE, so COMPLETED and CREATED decide."""
    completed, created = value_of(component, "COMPLETED"), value_of(component, "CREATED")
    if isinstance(completed, date) and isinstance(created, date):
        return _Shape("created-completed", epoch(created, zone), epoch(completed, zone), is_floating(completed))
    if isinstance(completed, date):
        when = epoch(completed, zone)
        return _Shape("completed", when, when, is_floating(completed))
    if isinstance(created, date):
        when = epoch(created, zone)
        return _Shape("created", when, when, is_floating(created))
    return _Shape("always")


def _freebusy_shapes(component: Component, zone: tzinfo) -> list[_Shape]:
    start, end = value_of(component, "DTSTART"), value_of(component, "DTEND")
    if isinstance(start, date) and isinstance(end, date):
        return [_Shape("closed", epoch(start, zone), epoch(end, zone), is_floating(start) or is_floating(end))]
    return [
        _Shape("interval", epoch(period_start, zone), epoch(period_end, zone), is_floating(period_start))
        for period_start, period_end, _ in freebusy_values(component)
    ]


def _availability_shape(component: Component, zone: tzinfo) -> _Shape:
    """RFC 7953 §3.1: a missing DTSTART is the infinite past, a missing DTEND and DURATION the infinite future."""
    start, end = value_of(component, "DTSTART"), value_of(component, "DTEND")
    duration = value_of(component, "DURATION")
    if not isinstance(end, date) and isinstance(start, date) and isinstance(duration, timedelta):
        end = plus(start, duration)
    return _Shape(
        "interval",
        epoch(start, zone) if isinstance(start, date) else -math.inf,
        epoch(end, zone) if isinstance(end, date) else math.inf,
        any(isinstance(value, date) and is_floating(value) for value in (start, end)),
    )


def freebusy_values(component: Component) -> list[tuple[datetime, datetime, str]]:
    """(start, end, FBTYPE) of every FREEBUSY period of a VFREEBUSY; FBTYPE defaults to BUSY."""
    periods = []
    for prop in all_of(component, "FREEBUSY"):
        fbtype = str(prop.params.get("FBTYPE", "BUSY")).upper()
        for item in prop.dts if isinstance(prop, vDDDLists) else [prop]:
            period = moment_of(item)
            if isinstance(period, tuple) and isinstance(period[0], datetime):
                start, end = period
                periods.append((start, start + end if isinstance(end, timedelta) else end, fbtype))
    return periods


def interval_overlaps(low: float, high: float, start: float, end: float) -> bool:
    """§9.9 for a plain [low, high) interval, an instant when empty (the VEVENT rows without DTEND)."""
    return _TESTS["interval" if high > low else "instant"](low, high, start, end)


def instance_overlaps(instance: Instance, zone: tzinfo, start: float, end: float) -> bool:
    """RFC 4791 §9.9 for one instance and the range [start, end) in epoch seconds."""
    return any(_TESTS[shape.test](shape.a, shape.b, start, end) for shape in shapes(instance, zone))


def overlapping_instances(
    calendar: Calendar, component: Component, zone: tzinfo, start: float, end: float
) -> list[Instance]:
    """The component's instances (its own, or those its rules generate) overlapping a finite [start, end)."""
    if is_recurring_master(component):
        candidates = RecurrenceSet(calendar, component).generated(start, end, zone)
    else:
        candidates = [own_instance(component)]
    return [instance for instance in candidates if instance_overlaps(instance, zone, start, end)]


def component_overlaps(
    calendar: Calendar, component: Component, start: datetime | None, end: datetime | None, floating_tz: tzinfo
) -> bool:
    """RFC 4791 §9.9 for a component of ``calendar`` and [start, end) (None = open).

    A recurring master matches when one of the instances its rules generate does (overridden ones are the
    overrides' business); an override or a non-recurring component when its own instance does. Floating times
    and DATEs are read in ``floating_tz``."""
    low, high = bounds(start, end)
    if not is_recurring_master(component):
        return instance_overlaps(own_instance(component), floating_tz, low, high)
    recurrence = RecurrenceSet(calendar, component)
    window_end = recurrence.last(floating_tz) if math.isinf(high) else high
    if math.isinf(window_end):
        return True  # an unbounded set has instances after any start
    window_start = recurrence.first(floating_tz) if math.isinf(low) else low
    return recurrence.any_generated(
        window_start, window_end, floating_tz, lambda instance: instance_overlaps(instance, floating_tz, low, high)
    )


def alarm_overlaps(
    calendar: Calendar,
    parent: Component,
    alarm: Component,
    start: datetime | None,
    end: datetime | None,
    floating_tz: tzinfo,
) -> bool:
    """RFC 4791 §9.9 for a VALARM of ``parent``: a trigger time (each REPEAT included) in [start, end).

    A relative TRIGGER is taken from the start (or, RELATED=END, the end) of each of the parent's instances,
    counted as in component_overlaps; an absolute one is a single instant."""
    low, high = bounds(start, end)
    trigger = alarm.get("TRIGGER")
    offset = moment_of(trigger)
    repeat = alarm.get("REPEAT")
    step = value_of(alarm, "DURATION")
    count = int(repeat) if isinstance(repeat, int) and isinstance(step, timedelta) else 0
    every = step.total_seconds() if isinstance(step, timedelta) else 0.0
    if isinstance(offset, date):
        return _repeats_hit(epoch(offset, floating_tz), every, count, low, high)
    if trigger is None or not isinstance(offset, timedelta):
        return False
    at_end = str(trigger.params.get("RELATED", "START")).upper() == "END"
    shift = offset.total_seconds()

    def fires(instance: Instance) -> bool:
        anchor = instance.end if at_end else instance.start
        return anchor is not None and _repeats_hit(epoch(anchor, floating_tz) + shift, every, count, low, high)

    if not is_recurring_master(parent):
        return fires(own_instance(parent))
    recurrence = RecurrenceSet(calendar, parent)
    window_end = recurrence.last(floating_tz) if math.isinf(high) else high
    if math.isinf(window_end):
        return True  # an unbounded set keeps firing
    window_start = recurrence.first(floating_tz) if math.isinf(low) else low - max(0.0, shift + every * count)
    return recurrence.any_generated(window_start, window_end + max(0.0, -shift), floating_tz, fires)


def _repeats_hit(first: float, every: float, count: int, start: float, end: float) -> bool:
    """Whether one of first, first + every, ..., first + count * every lies in [start, end), in O(1)."""
    if every <= 0 or count <= 0 or first >= start:
        return start <= first < end
    step = math.ceil((start - first) / every)
    return step <= count and first + step * every < end


def property_overlaps(prop_value: Any, start: datetime | None, end: datetime | None, floating_tz: tzinfo) -> bool:
    """A prop-filter time-range (RFC 4791 §9.9): a DATE-TIME value is an instant, a DATE the whole day, a
    PERIOD its interval; for a list value (EXDATE, RDATE, repeated properties) any one of them."""
    low, high = bounds(start, end)
    for prop in prop_value if isinstance(prop_value, list) else [prop_value]:
        for item in prop.dts if isinstance(prop, vDDDLists) else [prop]:
            value = item if isinstance(item, date) else moment_of(item)
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], date):
                period_start, period_end = value
                if isinstance(period_end, timedelta):
                    period_end = plus(period_start, period_end)
                if _TESTS["interval"](epoch(period_start, floating_tz), epoch(period_end, floating_tz), low, high):
                    return True
            elif isinstance(value, datetime):
                if _TESTS["instant"](epoch(value, floating_tz), 0.0, low, high):
                    return True
            elif isinstance(value, date):
                day = epoch(value, floating_tz), epoch(value + DAY, floating_tz)
                if _TESTS["interval"](*day, low, high):
                    return True
    return False


def instance_spans(instance: Instance) -> list[tuple[int, int]]:
    """Index spans of one instance: [earliest - 1 s, latest + 1 s) of the instants its §9.9 row compares, so that
    a range matching by an inclusive bound also overlaps the half-open span; floating values widen it by
    FLOATING_SLACK on both sides (they are computed as if UTC)."""
    spans = []
    for shape in shapes(instance, UTC):
        if shape.test == "always":
            spans.append((OPEN_START, OPEN_END))
            continue
        low, high = min(shape.a, shape.b), max(shape.a, shape.b)
        if shape.test == "created":
            high = math.inf
        spans.append(_span(low, high, shape.floating))
    return spans


def _span(low: float, high: float, floating: bool) -> tuple[int, int]:
    slack = FLOATING_SLACK if floating else 0.0
    return (
        OPEN_START if math.isinf(low) else max(OPEN_START, math.floor(low - slack) - 1),
        OPEN_END if math.isinf(high) else min(OPEN_END, math.ceil(high + slack) + 1),
    )


def recurrence_spans(recurrence: RecurrenceSet) -> list[tuple[int, int]]:
    """Index spans of the instances a master's rules generate (its overrides are indexed on their own): each
    instance, or one span when there are more than MAX_SPANS, or one open-ended span for an unbounded rule."""
    recurrence.probe()
    master_start = own_instance(recurrence.master).start
    assert master_start is not None
    floating = is_floating(master_start)
    first, last = recurrence.first(UTC), recurrence.last(UTC)
    if math.isinf(last) or recurrence.count() > MAX_SPANS:
        return [_span(first, last, floating)]
    return [span for instance in recurrence.generated(first, last, UTC) for span in instance_spans(instance)]


def merge_spans(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, with overlapping and touching spans joined; more than MAX_SPANS become one covering span."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    if len(merged) > MAX_SPANS:
        return ((merged[0][0], max(high for _, high in merged)),)
    return tuple(merged)
