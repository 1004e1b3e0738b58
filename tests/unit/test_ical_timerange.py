"""RFC 4791 §9.9 time-range semantics: every table row with hand-computed answers, recurrence, zones, alarms."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component

from protocols.formats.ical import (
    OPEN_END,
    alarm_overlaps,
    component_overlaps,
    index_calendar_object,
    parse_calendar,
    property_overlaps,
)

CORPUS = Path(__file__).parent.parent / "fixtures" / "ics"
ALL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"})
BERLIN, NEW_YORK, LOS_ANGELES = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")


def ics(*lines: str) -> bytes:
    body = [line.strip() for text in lines for line in text.strip().splitlines()]
    return (
        "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *body, "END:VCALENDAR"]) + "\r\n"
    ).encode()


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def first(parent: Component, name: str) -> Component:
    return next(component for component in parent.subcomponents if component.name == name)


def overlaps(data: bytes, start: datetime | None, end: datetime | None, zone: tzinfo = UTC, name: str = "") -> bool:
    """Whether the first component (or the first named one) of ``data`` overlaps [start, end)."""
    calendar = parse_calendar(data)
    component = first(calendar, name) if name else calendar.subcomponents[0]
    return component_overlaps(calendar, component, start, end, zone)


def event(*lines: str) -> bytes:
    return ics("BEGIN:VEVENT", "UID:e1", "DTSTAMP:20240101T000000Z", *lines, "END:VEVENT")


def todo(*lines: str) -> bytes:
    return ics("BEGIN:VTODO", "UID:t1", "DTSTAMP:20240101T000000Z", *lines, "END:VTODO")


# -- VEVENT rows -----------------------------------------------------------------------------------------------

TEN_TO_ELEVEN = event("DTSTART:20240110T100000Z", "DTEND:20240110T110000Z")
ONE_HOUR = event("DTSTART:20240110T100000Z", "DURATION:PT1H")
ZERO_DURATION = event("DTSTART:20240110T100000Z", "DURATION:PT0S")
ZERO_DTEND = event("DTSTART:20240110T100000Z", "DTEND:20240110T100000Z")
NO_END = event("DTSTART:20240110T100000Z")
ALL_DAY = event("DTSTART;VALUE=DATE:20240110")


@pytest.mark.parametrize(
    ("data", "start", "end", "expected"),
    [
        # Y N N *: (start < DTEND AND end > DTSTART)
        (TEN_TO_ELEVEN, at(10, 10, 30), at(10, 10, 45), True),
        (TEN_TO_ELEVEN, at(10, 9), at(10, 10), False),
        (TEN_TO_ELEVEN, at(10, 9), at(10, 10, 0, 1), True),
        (TEN_TO_ELEVEN, at(10, 11), at(10, 12), False),
        (TEN_TO_ELEVEN, at(10, 10, 59, 59), at(10, 12), True),
        (ZERO_DTEND, at(10, 10), at(10, 11), False),  # start < DTEND fails when both equal DTSTART
        (ZERO_DTEND, at(10, 9), at(10, 11), True),
        # N Y Y *: (start < DTSTART+DURATION AND end > DTSTART)
        (ONE_HOUR, at(10, 10, 59), at(10, 12), True),
        (ONE_HOUR, at(10, 11), at(10, 12), False),
        (ONE_HOUR, at(10, 9), at(10, 10), False),
        # N Y N *: (start <= DTSTART AND end > DTSTART)
        (ZERO_DURATION, at(10, 10), at(10, 10, 0, 1), True),
        (ZERO_DURATION, at(10, 9), at(10, 10), False),
        (ZERO_DURATION, at(10, 10, 0, 1), at(10, 11), False),
        # N N N Y: (start <= DTSTART AND end > DTSTART)
        (NO_END, at(10, 10), at(10, 11), True),
        (NO_END, at(10, 9), at(10, 10), False),
        # N N N N: (start < DTSTART+P1D AND end > DTSTART)
        (ALL_DAY, at(10, 23), at(11), True),
        (ALL_DAY, at(11), at(12), False),
        (ALL_DAY, at(9, 23), at(10), False),
        (ALL_DAY, at(9, 23), at(10, 0, 0, 1), True),
        (ALL_DAY, None, None, True),
    ],
)
def test_vevent_rows(data: bytes, start: datetime, end: datetime, expected: bool) -> None:
    assert overlaps(data, start, end) is expected


def test_all_day_and_floating_follow_the_readers_zone() -> None:
    # 2024-01-10 in Berlin (UTC+1) is [2024-01-09 23:00Z, 2024-01-10 23:00Z)
    assert overlaps(ALL_DAY, at(9, 23, 30), at(9, 23, 45), BERLIN)
    assert not overlaps(ALL_DAY, at(9, 23, 30), at(9, 23, 45), UTC)
    assert not overlaps(ALL_DAY, at(10, 23, 30), at(10, 23, 45), BERLIN)
    floating = event("DTSTART:20240110T100000", "DTEND:20240110T110000")
    assert overlaps(floating, at(10, 9), at(10, 9, 30), BERLIN)  # 10:00 Berlin is 09:00Z
    assert not overlaps(floating, at(10, 9), at(10, 9, 30), UTC)
    assert overlaps(floating, at(10, 15), at(10, 15, 30), NEW_YORK)  # 10:00 New York is 15:00Z


def test_zoned_and_utc_do_not_depend_on_the_readers_zone() -> None:
    zoned = event("DTSTART;TZID=America/New_York:20240110T100000", "DURATION:PT1H")
    for zone in (UTC, BERLIN, LOS_ANGELES):
        assert overlaps(zoned, at(10, 15), at(10, 15, 1), zone)
        assert not overlaps(zoned, at(10, 10), at(10, 11), zone)
        assert overlaps(TEN_TO_ELEVEN, at(10, 10), at(10, 10, 1), zone)


def test_open_ranges() -> None:
    assert overlaps(TEN_TO_ELEVEN, None, at(10, 10, 0, 1))
    assert not overlaps(TEN_TO_ELEVEN, None, at(10, 10))
    assert overlaps(TEN_TO_ELEVEN, at(10, 10, 59), None)
    assert not overlaps(TEN_TO_ELEVEN, at(10, 11), None)


# -- VTODO rows ------------------------------------------------------------------------------------------------

START_DURATION = todo("DTSTART:20240110T100000Z", "DURATION:PT1H")
START_DUE = todo("DTSTART:20240110T100000Z", "DUE:20240110T120000Z")
START_ONLY = todo("DTSTART:20240110T100000Z")
DUE_ONLY = todo("DUE:20240110T120000Z")
CREATED_COMPLETED = todo("CREATED:20240101T100000Z", "COMPLETED:20240105T100000Z")
COMPLETED_ONLY = todo("COMPLETED:20240105T100000Z")
CREATED_ONLY = todo("CREATED:20240101T100000Z")
UNDATED = todo("SUMMARY:someday")


@pytest.mark.parametrize(
    ("data", "start", "end", "expected"),
    [
        # Y Y N * *: (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION))
        (START_DURATION, at(10, 11), at(10, 12), True),  # a VEVENT would not match here
        (START_DURATION, at(10, 11, 0, 1), at(10, 12), False),
        (START_DURATION, at(10, 9), at(10, 10), False),
        (START_DURATION, at(10, 9), at(10, 10, 0, 1), True),
        # Y N Y * *: ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE))
        (START_DUE, at(10, 11, 59), at(10, 13), True),
        (START_DUE, at(10, 12), at(10, 13), False),
        (START_DUE, at(10, 9), at(10, 10), False),
        (START_DUE, at(10, 9), at(10, 10, 0, 1), True),
        # Y N N * *: (start <= DTSTART) AND (end > DTSTART)
        (START_ONLY, at(10, 10), at(10, 10, 0, 1), True),
        (START_ONLY, at(10, 9), at(10, 10), False),
        (START_ONLY, at(10, 10, 0, 1), at(10, 11), False),
        # N N Y * *: (start < DUE) AND (end >= DUE)
        (DUE_ONLY, at(10, 11), at(10, 12), True),  # the end bound is inclusive here
        (DUE_ONLY, at(10, 12), at(10, 13), False),
        (DUE_ONLY, at(10, 10), at(10, 11, 59), False),
        # N N N Y Y: ((start <= CREATED) OR (start <= COMPLETED)) AND ((end >= CREATED) OR (end >= COMPLETED))
        (CREATED_COMPLETED, at(3), at(4), True),
        (CREATED_COMPLETED, at(5, 10), at(6), True),
        (CREATED_COMPLETED, at(5, 10, 0, 1), at(6), False),
        (CREATED_COMPLETED, at(30, month=12, year=2023), at(1, 10), True),
        (CREATED_COMPLETED, at(30, month=12, year=2023), at(1, 9), False),
        # N N N Y N: (start <= COMPLETED) AND (end >= COMPLETED)
        (COMPLETED_ONLY, at(5, 9), at(5, 10), True),
        (COMPLETED_ONLY, at(5, 10), at(5, 11), True),
        (COMPLETED_ONLY, at(5, 10, 0, 1), at(5, 11), False),
        (COMPLETED_ONLY, at(5, 9), at(5, 9, 59), False),
        # N N N N Y: (end > CREATED)
        (CREATED_ONLY, at(1, 9), at(1, 10), False),
        (CREATED_ONLY, at(1, 9), at(1, 10, 0, 1), True),
        (CREATED_ONLY, at(1, year=2090), at(2, year=2090), True),
        # N N N N N: TRUE
        (UNDATED, at(1, year=1900), at(2, year=1900), True),
        (UNDATED, None, None, True),
    ],
)
def test_vtodo_rows(data: bytes, start: datetime, end: datetime, expected: bool) -> None:
    assert overlaps(data, start, end) is expected


# -- VJOURNAL, VFREEBUSY, VAVAILABILITY --------------------------------------------------------------------------


def journal(*lines: str) -> bytes:
    return ics("BEGIN:VJOURNAL", "UID:j1", "DTSTAMP:20240101T000000Z", *lines, "END:VJOURNAL")


@pytest.mark.parametrize(
    ("data", "start", "end", "expected"),
    [
        (journal("DTSTART:20240110T100000Z"), at(10, 10), at(10, 10, 0, 1), True),
        (journal("DTSTART:20240110T100000Z"), at(10, 9), at(10, 10), False),
        (journal("DTSTART;VALUE=DATE:20240110"), at(10, 23, 59), at(11, 1), True),
        (journal("DTSTART;VALUE=DATE:20240110"), at(11), at(11, 1), False),
        (journal("SUMMARY:no date"), None, None, False),
    ],
)
def test_vjournal_rows(data: bytes, start: datetime | None, end: datetime | None, expected: bool) -> None:
    assert overlaps(data, start, end) is expected


def test_vfreebusy_rows() -> None:
    published = (CORPUS / "freebusy-published.ics").read_bytes()  # DTSTART 2024-04-01, DTEND 2024-04-08
    assert overlaps(published, at(8, month=4), at(9, month=4))  # (start <= DTEND): the end is inclusive
    assert not overlaps(published, at(8, 0, 0, 1, month=4), at(9, month=4))
    assert not overlaps(published, at(31, month=3), at(1, month=4))
    periods = ics(
        "BEGIN:VFREEBUSY",
        "UID:fb",
        "DTSTAMP:20240101T000000Z",
        "FREEBUSY:20240402T090000Z/PT1H,20240402T140000Z/20240402T160000Z",
        "END:VFREEBUSY",
    )
    assert overlaps(periods, at(2, 9, 59, month=4), at(2, 10, month=4))
    assert not overlaps(periods, at(2, 10, month=4), at(2, 14, month=4))
    assert overlaps(periods, at(2, 15, month=4), at(2, 17, month=4))
    empty = ics("BEGIN:VFREEBUSY", "UID:fb", "DTSTAMP:20240101T000000Z", "END:VFREEBUSY")
    assert not overlaps(empty, None, None)


def test_vavailability_open_ends() -> None:
    since = ics(
        "BEGIN:VAVAILABILITY", "UID:a", "DTSTAMP:20240101T000000Z", "DTSTART:20240110T000000Z", "END:VAVAILABILITY"
    )
    assert overlaps(since, at(1, year=2100), at(2, year=2100))
    assert not overlaps(since, at(1), at(10))
    forever = ics("BEGIN:VAVAILABILITY", "UID:a", "DTSTAMP:20240101T000000Z", "END:VAVAILABILITY")
    assert overlaps(forever, at(1, year=1800), at(2, year=1800))


# -- recurrence ------------------------------------------------------------------------------------------------

APPLE = (CORPUS / "apple-weekly-exceptions.ics").read_bytes()


def components(data: bytes) -> tuple[Calendar, Component, list[Component]]:
    calendar = parse_calendar(data)
    items = [c for c in calendar.subcomponents if c.name != "VTIMEZONE"]
    master = next(c for c in items if "RECURRENCE-ID" not in c)
    return calendar, master, [c for c in items if c is not master]


def test_recurring_master_with_exdate_rdate_and_overrides() -> None:
    # Mondays 09:30-10:00 New York from 2024-01-08, COUNT=10; EXDATE Jan 22; RDATE Jan 31 14:00;
    # Jan 15 moved to 11:00; Feb 5 overridden in place. EST is 14:30Z, EDT (from Mar 10) 13:30Z.
    calendar, master, (moved, in_place) = components(APPLE)

    def master_in(start: datetime | None, end: datetime | None) -> bool:
        return component_overlaps(calendar, master, start, end, UTC)

    assert master_in(at(8, 14, 30), at(8, 14, 31))
    assert not master_in(at(22, 14), at(22, 16))  # EXDATE
    assert not master_in(at(15, 14), at(15, 17))  # overridden: the override's business
    assert component_overlaps(calendar, moved, at(15, 16), at(15, 16, 10), UTC)
    assert not component_overlaps(calendar, moved, at(15, 14, 30), at(15, 15), UTC)
    assert master_in(at(31, 19), at(31, 19, 1))  # RDATE, 30 minutes like DTSTART/DTEND
    assert not master_in(at(31, 19, 30), at(31, 20))
    assert component_overlaps(calendar, in_place, at(5, 14, 30, month=2), at(5, 15, month=2), UTC)
    assert master_in(at(11, 13, 30, month=3), at(11, 13, 31, month=3))  # after the DST change
    assert not master_in(at(11, 14, 30, month=3), at(11, 15, month=3))
    assert not master_in(at(18, month=3), at(1, year=2025))  # COUNT=10 ended on Mar 11
    assert master_in(at(1, month=3), None)
    assert not master_in(at(12, month=3), None)
    assert master_in(None, at(8, 14, 31))
    assert not master_in(None, at(8, 14, 30))


def test_dst_in_a_zone_defined_only_by_its_vtimezone() -> None:
    # "Eastern-Legacy" switches to daylight time on the first Sunday of April (2024-04-07), not on Mar 10 as
    # America/New_York does: 09:00 is 14:00Z on Mar 20, Mar 27 and Apr 3, and 13:00Z on Apr 10.
    calendar, master, _ = components((CORPUS / "custom-zone-dst.ics").read_bytes())
    for day, month, hour in ((20, 3, 14), (27, 3, 14), (3, 4, 14), (10, 4, 13)):
        start = at(day, hour, month=month)
        assert component_overlaps(calendar, master, start, start + timedelta(minutes=1), UTC)
        assert not component_overlaps(calendar, master, start - timedelta(hours=1), start, UTC)


def test_thisandfuture_moves_later_instances() -> None:
    # Daily 10:00Z for one hour from Jan 2; from Jan 6 on at 14:00Z for 30 minutes.
    calendar, master, (future,) = components((CORPUS / "thisandfuture.ics").read_bytes())
    assert component_overlaps(calendar, master, at(5, 10), at(5, 10, 1), UTC)
    assert not component_overlaps(calendar, master, at(8, 10), at(8, 11), UTC)
    assert component_overlaps(calendar, master, at(8, 14, 15), at(8, 14, 20), UTC)
    assert not component_overlaps(calendar, master, at(8, 14, 30), at(8, 15), UTC)
    assert component_overlaps(calendar, future, at(6, 14), at(6, 14, 1), UTC)
    assert not component_overlaps(calendar, master, at(12), at(13), UTC)  # COUNT=10: Jan 2 to Jan 11


def test_unbounded_rule() -> None:
    birthday = (CORPUS / "birthday-allday-yearly.ics").read_bytes()  # yearly all-day from 1980-03-14
    assert overlaps(birthday, at(14, 12, month=3, year=2124), at(14, 13, month=3, year=2124))
    assert not overlaps(birthday, at(15, month=3, year=2124), at(16, month=3, year=2124))
    assert overlaps(birthday, at(1, year=3000), None)
    assert not overlaps(birthday, None, at(14, month=3, year=1980))
    assert overlaps(birthday, None, at(14, 0, 0, 1, month=3, year=1980))


def test_recurring_todo_and_its_completed_override() -> None:
    # Mondays and Thursdays 08:00-20:00 Berlin (07:00Z-19:00Z in March), COUNT=8; Mar 7 completed.
    calendar, master, (done,) = components((CORPUS / "todo-recurring.ics").read_bytes())
    assert component_overlaps(calendar, master, at(4, 18, 59, month=3), at(4, 19, month=3), UTC)
    assert not component_overlaps(calendar, master, at(4, 19, month=3), at(4, 20, month=3), UTC)  # start < DUE
    assert not component_overlaps(calendar, master, at(7, 8, month=3), at(7, 9, month=3), UTC)
    assert component_overlaps(calendar, done, at(7, 8, month=3), at(7, 9, month=3), UTC)
    assert component_overlaps(calendar, master, at(28, 12, month=3), at(28, 13, month=3), UTC)
    assert not component_overlaps(calendar, master, at(1, month=4), at(1, month=5), UTC)  # 8th was Mar 28


def test_override_without_master_is_its_own_instance() -> None:
    data = event("RECURRENCE-ID:20240110T100000Z", "DTSTART:20240110T120000Z", "DURATION:PT1H")
    assert overlaps(data, at(10, 12), at(10, 12, 1))
    assert not overlaps(data, at(10, 10), at(10, 11))


def test_unknown_tzid_is_floating() -> None:
    data = event("DTSTART;TZID=Nowhere Standard Time:20240110T100000", "DURATION:PT1H")
    assert overlaps(data, at(10, 9), at(10, 9, 1), BERLIN)
    assert overlaps(data, at(10, 10), at(10, 10, 1), UTC)


def test_same_custom_tzid_means_what_each_object_defines() -> None:
    """icalendar caches custom zones process-wide by TZID; here each object's own definition counts."""

    def fixed(offset: str) -> bytes:
        return ics(
            "BEGIN:VTIMEZONE",
            "TZID:Office Time",
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            "END:STANDARD",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
            "UID:o",
            "DTSTAMP:20240101T000000Z",
            "DTSTART;TZID=Office Time:20240110T120000",
            "DURATION:PT1H",
            "END:VEVENT",
        )

    assert overlaps(fixed("+0300"), at(10, 9), at(10, 9, 1), name="VEVENT")
    assert overlaps(fixed("+0500"), at(10, 7), at(10, 7, 1), name="VEVENT")
    assert not overlaps(fixed("+0500"), at(10, 9), at(10, 9, 1), name="VEVENT")


def test_windows_and_vendor_tzids() -> None:
    windows = event("DTSTART;TZID=W. Europe Standard Time:20240710T120000", "DURATION:PT1H")
    assert overlaps(windows, at(10, 10, month=7), at(10, 10, 1, month=7))  # Berlin summer time, no VTIMEZONE
    calendar = parse_calendar((CORPUS / "attachments.ics").read_bytes())
    start = first(calendar, "VEVENT").decoded("DTSTART")
    assert start.utcoffset() == timedelta(hours=1)  # "/freeassociation.sourceforge.net/Europe/Vienna"


# -- VALARM ----------------------------------------------------------------------------------------------------


def alarm_data(*alarm: str, rule: str = "") -> bytes:
    lines = ["DTSTART:20240110T100000Z", "DTEND:20240110T110000Z"] + ([rule] if rule else [])
    return event(*lines, "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:x", *alarm, "END:VALARM")


def alarm_in(data: bytes, start: datetime | None, end: datetime | None, zone: tzinfo = UTC) -> bool:
    calendar = parse_calendar(data)
    parent = first(calendar, "VEVENT")
    return alarm_overlaps(calendar, parent, first(parent, "VALARM"), start, end, zone)


@pytest.mark.parametrize(
    ("alarm", "start", "end", "expected"),
    [
        (["TRIGGER:-PT15M"], at(10, 9, 45), at(10, 9, 46), True),
        (["TRIGGER:-PT15M"], at(10, 9, 40), at(10, 9, 45), False),
        (["TRIGGER;RELATED=END:-PT5M"], at(10, 10, 55), at(10, 10, 56), True),
        (["TRIGGER;RELATED=END:-PT5M"], at(10, 9, 55), at(10, 9, 56), False),
        (["TRIGGER;VALUE=DATE-TIME:20240101T080000Z"], at(1, 8), at(1, 8, 1), True),
        (["TRIGGER;VALUE=DATE-TIME:20240101T080000Z"], at(10, 9), at(10, 11), False),
        # REPEAT:2 every 5 minutes: 09:45, 09:50, 09:55
        (["TRIGGER:-PT15M", "REPEAT:2", "DURATION:PT5M"], at(10, 9, 54), at(10, 9, 56), True),
        (["TRIGGER:-PT15M", "REPEAT:2", "DURATION:PT5M"], at(10, 9, 51), at(10, 9, 54), False),
        (["TRIGGER:-PT15M", "REPEAT:2", "DURATION:PT5M"], at(10, 9, 56), at(10, 10), False),
        (["TRIGGER:-PT15M"], None, None, True),
        (["TRIGGER:-P1W"], at(3, 10), at(3, 10, 1), True),
    ],
)
def test_alarm_trigger_times(alarm: list[str], start: datetime, end: datetime, expected: bool) -> None:
    assert alarm_in(alarm_data(*alarm), start, end) is expected


def test_alarms_of_a_recurring_event() -> None:
    daily = alarm_data("TRIGGER:-PT30M", rule="RRULE:FREQ=DAILY;COUNT=5")  # alarms at 09:30Z, Jan 10 to 14
    assert alarm_in(daily, at(13, 9, 30), at(13, 9, 31))
    assert not alarm_in(daily, at(15, 9, 30), at(15, 9, 31))
    assert not alarm_in(daily, at(13, 10), at(13, 11))
    assert alarm_in(daily, at(14, 9), None)
    assert not alarm_in(daily, at(14, 9, 31), None)
    forever = alarm_data("TRIGGER:-P1D", rule="RRULE:FREQ=YEARLY")
    assert alarm_in(forever, at(9, 10, year=2150), at(9, 11, year=2150))
    assert alarm_in(forever, at(1, year=2500), None)


def test_alarm_of_an_all_day_event_in_the_readers_zone() -> None:
    data = event("DTSTART;VALUE=DATE:20240110", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1H", "END:VALARM")
    assert alarm_in(data, at(9, 22), at(9, 22, 1), BERLIN)  # 23:00 on the 9th, Berlin
    assert alarm_in(data, at(9, 23), at(9, 23, 1), UTC)


# -- prop-filter time-range ------------------------------------------------------------------------------------


def test_property_overlaps() -> None:
    calendar = parse_calendar(
        event(
            "DTSTART;VALUE=DATE:20240110",
            "EXDATE:20240110T100000Z,20240112T100000Z",
            "RDATE;VALUE=PERIOD:20240120T100000Z/PT2H",
            "COMPLETED:20240105T100000Z",
        )
    )
    component = first(calendar, "VEVENT")
    assert property_overlaps(component["DTSTAMP"], at(1), at(1, 0, 0, 1), UTC)
    assert not property_overlaps(component["DTSTAMP"], at(1, 0, 0, 1), at(2), UTC)
    assert property_overlaps(component["DTSTART"], at(10, 23), at(11), UTC)
    assert not property_overlaps(component["DTSTART"], at(10, 23), at(11), BERLIN)  # the day ends 23:00Z
    assert property_overlaps(component["EXDATE"], at(12, 10), at(12, 11), UTC)
    assert not property_overlaps(component["EXDATE"], at(11), at(12), UTC)
    assert property_overlaps(component["RDATE"], at(20, 11, 59), at(21), UTC)
    assert not property_overlaps(component["RDATE"], at(20, 12), at(21), UTC)
    assert property_overlaps(component["COMPLETED"], None, None, UTC)
    assert not property_overlaps(component["UID"], None, None, UTC)


# -- the index is a superset of the exact answer -----------------------------------------------------------------

READER_ZONES = [UTC, BERLIN, LOS_ANGELES, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")]
INDEXED = [
    "apple-weekly-exceptions.ics",
    "allday-multiday.ics",
    "birthday-allday-yearly.ics",
    "custom-zone-dst.ics",
    "floating-evolution.ics",
    "freebusy-published.ics",
    "journal.ics",
    "outlook-single-windows-tzid.ics",
    "thisandfuture.ics",
    "todo-due-only.ics",
    "todo-recurring.ics",
    "todo-reminders-undated.ics",
    "attachments.ics",
    "naive-fold-mid-utf8.ics",
]


@pytest.mark.parametrize("name", INDEXED)
def test_index_is_a_superset(name: str) -> None:
    """Wherever any component matches a range in any reader's zone, some span overlaps that range."""
    calendar, index = index_calendar_object((CORPUS / name).read_bytes(), ALL)
    rng = random.Random(name)
    edges = [edge for low, high in index.spans for edge in (low, high) if abs(edge) < OPEN_END]
    probes = [rng.randrange(1_700_000_000, 1_730_000_000) for _ in range(60)]
    probes += [edge + rng.choice((-90_000, -3600, -2, -1, 0, 1, 2, 3600, 90_000)) for edge in edges[:40]]
    for probe in probes:
        for length in (1, 900, 86_400, 7 * 86_400):
            start = datetime.fromtimestamp(probe, UTC)
            end = start + timedelta(seconds=length)
            indexed = any(low < end.timestamp() and high > start.timestamp() for low, high in index.spans)
            for zone in READER_ZONES:
                matched = any(
                    component_overlaps(calendar, component, start, end, zone)
                    for component in calendar.subcomponents
                    if component.name != "VTIMEZONE"
                )
                assert indexed or not matched, (name, start, end, zone)
