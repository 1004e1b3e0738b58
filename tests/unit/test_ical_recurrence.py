"""Recurrence sets stay cheap: fast-forwarded rules give dateutil's own answers, and dense rules are capped."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from protocols.formats.ical import CalendarDataError, component_overlaps, expand, index_calendar_object, parse_calendar

NEW_YORK = ZoneInfo("America/New_York")


def ics(*lines: str) -> bytes:
    body = ["BEGIN:VEVENT", "UID:r", "DTSTAMP:20240101T000000Z", *lines, "END:VEVENT"]
    return (
        "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *body, "END:VCALENDAR"]) + "\r\n"
    ).encode()


RULES = [
    ("FREQ=YEARLY;BYMONTH=2;BYDAY=-1MO", "20000228T093000"),
    ("FREQ=YEARLY", "20000229T093000"),  # implicit BYMONTH/BYMONTHDAY: leap days only
    ("FREQ=MONTHLY", "20000131T120000"),  # implicit BYMONTHDAY=31 skips short months
    ("FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU,-1FR", "20000111T080000"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "20000131T170000"),
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,TH;WKST=SU", "20000104T073000"),
    ("FREQ=WEEKLY;INTERVAL=2", "20000105T180000"),
    ("FREQ=DAILY;INTERVAL=7", "20000101T060000"),
    ("FREQ=DAILY;BYMONTH=3,11", "20000301T020000"),  # wall-clock times around the DST changes
    ("FREQ=HOURLY;INTERVAL=5;BYMINUTE=15", "20000101T000000"),
    ("FREQ=MINUTELY;INTERVAL=97", "20000101T000100"),
]


@pytest.mark.parametrize(("rule", "start"), RULES, ids=[rule for rule, _ in RULES])
def test_fast_forwarded_rules_match_dateutil(rule: str, start: str) -> None:
    """Windows a decade after DTSTART: the instances are exactly those dateutil finds walking from DTSTART."""
    data = ics(f"DTSTART;TZID=America/New_York:{start}", "DURATION:PT30M", f"RRULE:{rule}")
    calendar = parse_calendar(data)
    dtstart = datetime.strptime(start, "%Y%m%dT%H%M%S").replace(tzinfo=NEW_YORK)
    reference = rrulestr(rule, dtstart=dtstart)
    for year in (2010, 2031):
        low, high = datetime(year, 2, 20, tzinfo=UTC), datetime(year, 4, 10, tzinfo=UTC)
        expected = [moment for moment in reference.between(low - timedelta(minutes=30), high) if moment < high]
        expected = [moment for moment in expected if moment + timedelta(minutes=30) > low]
        expanded = expand(calendar, low, high, UTC)
        found = [component.decoded("DTSTART") for component in expanded.subcomponents]
        assert found == [moment.astimezone(UTC) for moment in expected], (rule, year)
        assert [c.decoded("RECURRENCE-ID") for c in expanded.subcomponents] == found


def test_fast_forward_keeps_overrides_and_exdates() -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=America/New_York:19900101T090000\r\n"
        b"DURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEXDATE;TZID=America/New_York:20300311T090000\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID;TZID=America/New_York:20300312T090000\r\n"
        b"DTSTART;TZID=America/New_York:20300312T150000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    calendar = parse_calendar(data)
    started = time.perf_counter()
    expanded = expand(calendar, datetime(2030, 3, 9, tzinfo=UTC), datetime(2030, 3, 14, tzinfo=UTC), UTC)
    assert time.perf_counter() - started < 0.5  # 40 years of days are not walked
    assert [(str(c.decoded("RECURRENCE-ID")), str(c.decoded("DTSTART"))) for c in expanded.subcomponents] == [
        ("2030-03-09 14:00:00+00:00", "2030-03-09 14:00:00+00:00"),  # EST
        ("2030-03-10 13:00:00+00:00", "2030-03-10 13:00:00+00:00"),  # EDT from Mar 10
        ("2030-03-12 13:00:00+00:00", "2030-03-12 19:00:00+00:00"),  # Mar 11 excluded, Mar 12 moved
        ("2030-03-13 13:00:00+00:00", "2030-03-13 13:00:00+00:00"),
    ]


def test_dense_rules_are_capped() -> None:
    data = ics("DTSTART:20240101T000000Z", "RRULE:FREQ=SECONDLY")
    calendar, _ = index_calendar_object(data, frozenset({"VEVENT"}))
    (master,) = calendar.subcomponents
    started = time.perf_counter()
    assert component_overlaps(calendar, master, datetime(2024, 1, 5, tzinfo=UTC), datetime(2024, 2, 5, tzinfo=UTC), UTC)
    far = datetime(9999, 1, 1, tzinfo=UTC), datetime(9999, 12, 1, tzinfo=UTC)
    assert component_overlaps(calendar, master, *far, UTC)
    assert not component_overlaps(
        calendar, master, datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC), UTC
    )
    with pytest.raises(CalendarDataError) as caught:
        expand(calendar, datetime(2024, 1, 5, tzinfo=UTC), datetime(2024, 2, 5, tzinfo=UTC), UTC)
    assert caught.value.condition == "max-instances"
    assert (
        len(
            expand(
                calendar, datetime(2030, 1, 5, tzinfo=UTC), datetime(2030, 1, 5, 0, 1, tzinfo=UTC), UTC
            ).subcomponents
        )
        == 60
    )
    assert time.perf_counter() - started < 2.0


def test_huge_windows_over_everyday_events_stay_cheap() -> None:
    calendar = parse_calendar(ics("DTSTART;VALUE=DATE:19700101", "RRULE:FREQ=DAILY"))
    (master,) = calendar.subcomponents
    started = time.perf_counter()
    assert component_overlaps(calendar, master, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), UTC)
    with pytest.raises(CalendarDataError):
        expand(calendar, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), UTC)
    assert time.perf_counter() - started < 2.0
