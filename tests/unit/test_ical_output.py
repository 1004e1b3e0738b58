"""calendar-data as reports hand it out: expand, limit-recurrence-set, comp/prop subsets, free/busy, serialize."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from protocols.formats.ical import (
    CompSpec,
    expand,
    freebusy_calendar,
    freebusy_periods,
    limit_recurrence_set,
    parse_calendar,
    select,
    serialize,
)

CORPUS = Path(__file__).parent.parent / "fixtures" / "ics"
BERLIN = ZoneInfo("Europe/Berlin")


def load(name: str) -> Calendar:
    return parse_calendar((CORPUS / name).read_bytes())


def at(day: int, hour: int = 0, minute: int = 0, month: int = 1, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ical(component: Component, name: str) -> str:
    """A property's value as it is written, e.g. ``20240108T143000Z``."""
    value = component[name].to_ical()
    return value.decode() if isinstance(value, bytes) else str(value)


def summary(calendar: Calendar) -> list[tuple[str, str, str]]:
    """(RECURRENCE-ID, DTSTART, DTEND or DUE) of every component, as written."""
    return [
        (ical(c, "RECURRENCE-ID"), ical(c, "DTSTART"), ical(c, "DTEND" if "DTEND" in c else "DUE"))
        for c in calendar.subcomponents
    ]


# -- expand (RFC 4791 §9.6.5) ----------------------------------------------------------------------------------


def test_expand_weekly_with_overrides_exdate_and_rdate() -> None:
    expanded = expand(load("apple-weekly-exceptions.ics"), at(8), at(6, month=2), UTC)
    assert summary(expanded) == [
        ("20240108T143000Z", "20240108T143000Z", "20240108T150000Z"),
        ("20240115T143000Z", "20240115T160000Z", "20240115T163000Z"),  # moved; Jan 22 is excluded
        ("20240129T143000Z", "20240129T143000Z", "20240129T150000Z"),
        ("20240131T190000Z", "20240131T190000Z", "20240131T193000Z"),  # the RDATE
        ("20240205T143000Z", "20240205T143000Z", "20240205T150000Z"),
    ]
    text = serialize(expanded).decode()
    for gone in ("RRULE", "RDATE", "EXDATE", "VTIMEZONE", "TZID"):
        assert gone not in text
    generated, moved = expanded.subcomponents[0], expanded.subcomponents[1]
    assert [sub.name for sub in generated.subcomponents] == ["VALARM"]
    assert str(moved["SUMMARY"]) == "Weekly sync (moved to 11:00)"
    assert ical(generated, "DTSTAMP") == "20240102T150405Z"


def test_expand_keeps_dates_and_converts_floating_times() -> None:
    (birthday,) = expand(load("birthday-allday-yearly.ics"), at(1), at(1, year=2025), UTC).subcomponents
    assert (ical(birthday, "RECURRENCE-ID"), ical(birthday, "DTSTART"), ical(birthday, "DTEND")) == (
        "20240314",
        "20240314",
        "20240315",
    )
    assert b"DTSTART;VALUE=DATE:20240314" in bytes(birthday.to_ical())  # DATEs stay DATEs
    (yoga,) = expand(load("floating-evolution.ics"), at(15, month=6), at(16, month=6), BERLIN).subcomponents
    assert (ical(yoga, "DTSTART"), ical(yoga, "DTEND")) == ("20240615T073000Z", "20240615T083000Z")
    assert "RECURRENCE-ID" not in yoga  # not part of a recurrence set


def test_expand_thisandfuture() -> None:
    expanded = expand(load("thisandfuture.ics"), at(5), at(9), UTC)
    assert [(ical(c, "RECURRENCE-ID"), ical(c, "DTSTART"), ical(c, "DURATION")) for c in expanded.subcomponents] == [
        ("20240105T100000Z", "20240105T100000Z", "PT1H"),
        ("20240106T100000Z", "20240106T140000Z", "PT30M"),
        ("20240107T100000Z", "20240107T140000Z", "PT30M"),
        ("20240108T100000Z", "20240108T140000Z", "PT30M"),
    ]
    assert "RANGE" not in serialize(expanded).decode()


def test_expand_recurring_todo() -> None:
    expanded = expand(load("todo-recurring.ics"), at(4, month=3), at(12, month=3), UTC)
    assert summary(expanded) == [
        ("20240304T070000Z", "20240304T070000Z", "20240304T190000Z"),
        ("20240307T070000Z", "20240307T070000Z", "20240307T190000Z"),
        ("20240311T070000Z", "20240311T070000Z", "20240311T190000Z"),
    ]
    assert str(expanded.subcomponents[1]["STATUS"]) == "COMPLETED"


def test_expand_rdate_period_gets_its_own_end() -> None:
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:p\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20240110T100000Z\r\nDURATION:PT1H\r\nRDATE;VALUE=PERIOD:20240120T080000Z/PT3H\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    first, period = expand(parse_calendar(data.encode()), at(1), at(31), UTC).subcomponents
    assert ical(first, "DURATION") == "PT1H" and "DTEND" not in first
    assert (ical(period, "DTSTART"), ical(period, "DTEND")) == ("20240120T080000Z", "20240120T110000Z")
    assert "DURATION" not in period


def test_expand_outside_the_range_is_empty() -> None:
    expanded = expand(load("apple-weekly-exceptions.ics"), at(1, year=2030), at(2, year=2030), UTC)
    assert expanded.subcomponents == []
    assert str(expanded["PRODID"]) == "-//Apple Inc.//macOS 14.4//EN"


# -- limit-recurrence-set (RFC 4791 §9.6.6) --------------------------------------------------------------------


def kept(calendar: Calendar) -> list[str]:
    return [
        f"{c.name} {ical(c, 'RECURRENCE-ID')}" if "RECURRENCE-ID" in c else str(c.name) for c in calendar.subcomponents
    ]


def test_limit_recurrence_set() -> None:
    apple = load("apple-weekly-exceptions.ics")
    feb = limit_recurrence_set(apple, at(1, month=2), at(10, month=2), UTC)
    assert kept(feb) == ["VTIMEZONE", "VEVENT", "VEVENT 20240205T093000"]
    # the Jan 15 override now starts at 16:00Z, but the instance it replaced was at 14:30Z
    original = limit_recurrence_set(apple, at(15, 14), at(15, 15), UTC)
    assert kept(original) == ["VTIMEZONE", "VEVENT", "VEVENT 20240115T093000"]
    assert "RRULE" in original.subcomponents[1]
    daily = load("thisandfuture.ics")
    assert kept(limit_recurrence_set(daily, at(9), at(10), UTC)) == ["VEVENT", "VEVENT 20240106T100000Z"]
    assert kept(limit_recurrence_set(daily, at(2), at(3), UTC)) == ["VEVENT"]


# -- comp/prop subsets (RFC 4791 §9.6.1) -----------------------------------------------------------------------


def test_select_components_and_properties() -> None:
    spec = CompSpec(
        "VCALENDAR",
        allprop=False,
        props=(("VERSION", False),),
        allcomp=False,
        comps=(
            CompSpec(
                "VEVENT", allprop=False, props=(("SUMMARY", False), ("uid", False), ("LOCATION", True)), allcomp=False
            ),
            CompSpec("VTIMEZONE"),
        ),
    )
    selected = select(load("outlook-single-windows-tzid.ics"), spec)
    assert list(selected.keys()) == ["VERSION"]
    timezone, event = selected.subcomponents
    assert timezone.name == "VTIMEZONE" and len(timezone.subcomponents) == 2
    assert sorted(event.keys()) == ["LOCATION", "SUMMARY", "UID"]
    assert event.subcomponents == []
    text = serialize(selected).decode()
    assert "LOCATION:\r\n" in text
    assert "SUMMARY;LANGUAGE=de-de:Quartalsabschluss – Abstimmung\r\n" in text  # noqa: RUF001


def test_select_novalue_keeps_parameters_and_repeats() -> None:
    spec = CompSpec("VCALENDAR", allcomp=False, comps=(CompSpec("VEVENT", allprop=False, props=(("ATTENDEE", True),)),))
    calendar = select(load("attachments.ics"), spec)
    (event,) = calendar.subcomponents
    text = bytes(event.to_ical()).decode()
    assert 'ATTENDEE;CN="Lukas Gruber";PARTSTAT=ACCEPTED;ROLE=CHAIR:\r\n' in text
    assert text.count("ATTENDEE") == 2
    assert "VALARM" in text  # allcomp inside the VEVENT


def test_select_everything_is_the_object() -> None:
    original = load("google-export.ics")
    assert serialize(select(original, CompSpec("VCALENDAR"))) == serialize(original)


# -- free/busy (RFC 4791 §7.10) --------------------------------------------------------------------------------


def test_freebusy_from_events() -> None:
    periods = freebusy_periods(load("apple-weekly-exceptions.ics"), at(8, 14, 45), at(10, month=2), UTC)
    assert periods == [
        (at(8, 14, 45), at(8, 15), "BUSY"),  # clipped to the range
        (at(15, 16), at(15, 16, 30), "BUSY"),
        (at(29, 14, 30), at(29, 15), "BUSY"),
        (at(31, 19), at(31, 19, 30), "BUSY"),
        (at(5, 14, 30, month=2), at(5, 15, month=2), "BUSY-TENTATIVE"),
    ]


def test_freebusy_skips_transparent_and_cancelled() -> None:
    periods = freebusy_periods(load("google-export.ics"), at(8, month=5), at(21, month=6), UTC)
    assert periods == [
        (at(9, 1, month=5), at(9, 2, month=5), "BUSY"),  # the override moved to Tokyo
        (at(15, 15, month=5), at(15, 16, month=5), "BUSY"),
        (at(22, 15, month=5), at(22, 16, month=5), "BUSY"),
        (at(29, 15, month=5), at(29, 16, month=5), "BUSY"),
        (at(5, 15, month=6), at(5, 16, month=6), "BUSY"),
        (at(12, 15, month=6), at(12, 16, month=6), "BUSY"),  # not the cancelled breakfast at 07:00
        (at(19, 15, month=6), at(19, 16, month=6), "BUSY"),
    ]
    assert freebusy_periods(load("birthday-allday-yearly.ics"), at(1), at(1, year=2025), UTC) == []


def test_freebusy_all_day_in_the_readers_zone() -> None:
    data = load("allday-multiday.ics").copy(recursive=True)
    event = data.subcomponents[0]
    event.pop("TRANSP")
    assert freebusy_periods(data, at(1, month=7), at(10, month=8), BERLIN) == [
        (at(21, 22, month=7), at(2, 22, month=8), "BUSY")  # Jul 22 00:00 to Aug 3 00:00, Berlin
    ]


def test_freebusy_from_vfreebusy() -> None:
    periods = freebusy_periods(load("freebusy-published.ics"), at(1, month=4), at(8, month=4), UTC)
    assert periods == [
        (at(2, 9, month=4), at(2, 10, month=4), "BUSY"),
        (at(2, 14, month=4), at(2, 16, month=4), "BUSY"),
        (at(3, 10, month=4), at(3, 10, 30, month=4), "BUSY-TENTATIVE"),
    ]


def test_freebusy_calendar() -> None:
    periods = [
        (at(8, 14), at(8, 15), "BUSY"),
        (at(8, 14, 30), at(8, 16), "BUSY"),
        (at(9, 9), at(9, 10), "BUSY-TENTATIVE"),
    ]
    calendar = parse_calendar(freebusy_calendar(periods, at(8), at(10)))
    (freebusy,) = calendar.subcomponents
    assert (ical(freebusy, "DTSTART"), ical(freebusy, "DTEND")) == ("20240108T000000Z", "20240110T000000Z")
    found = freebusy.get("FREEBUSY")
    assert [(bytes(p.to_ical()).decode(), dict(p.params)) for p in found] == [
        ("20240108T140000Z/20240108T160000Z", {}),
        ("20240109T090000Z/20240109T100000Z", {"FBTYPE": "BUSY-TENTATIVE"}),
    ]
    assert "DTSTAMP" in freebusy


# -- serialize ---------------------------------------------------------------------------------------------------


def test_serialize_crlf_and_order() -> None:
    data = (CORPUS / "journal.ics").read_bytes()
    text = serialize(parse_calendar(data))
    assert text.count(b"\r\n") == text.count(b"\n")
    assert text.splitlines()[:3] == [b"BEGIN:VCALENDAR", b"VERSION:2.0", b"PRODID:-//jtx Board//DAVx5//EN"]
    assert serialize(parse_calendar(text)) == text
