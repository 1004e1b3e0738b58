"""Parsing, RFC 4791 §4.1 validation and the span index of calendar objects; corpus round trip and fuzzing."""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Component
from icalendar.prop import vDDDLists

from protocols.formats.ical import (
    MAX_SPANS,
    OPEN_END,
    OPEN_START,
    CalendarDataError,
    CalendarIndex,
    component_overlaps,
    expand,
    index_calendar_object,
    parse_calendar,
    serialize,
    vtimezone_tzinfo,
)

CORPUS = Path(__file__).parent.parent / "fixtures" / "ics"
FILES = sorted(CORPUS.glob("*.ics"))
ALL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"})
DAY = 86_400
SLACK = 86_400  # floating values are widened by a day on each side


def ics(*lines: str, head: tuple[str, ...] = ("VERSION:2.0", "PRODID:-//test//EN")) -> bytes:
    body = [line.strip() for text in lines for line in text.strip().splitlines()]
    return ("\r\n".join(["BEGIN:VCALENDAR", *head, *body, "END:VCALENDAR"]) + "\r\n").encode()


def event(*lines: str, uid: str = "e1") -> str:
    return "\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240101T000000Z", *lines, "END:VEVENT"])


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def index(data: bytes, allowed: frozenset[str] = ALL) -> CalendarIndex:
    return index_calendar_object(data, allowed)[1]


def refused(data: bytes, allowed: frozenset[str] = ALL) -> CalendarDataError:
    with pytest.raises(CalendarDataError) as caught:
        index_calendar_object(data, allowed)
    return caught.value


# -- parsing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"  \r\n",
        "BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9\r\nEND:VCALENDAR\r\n".encode("latin-1"),
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n",
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",  # truncated
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nno colon here\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        b"SUMMARY:outside\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\n" + b"BEGIN:X-A\r\n" * 20 + b"END:X-A\r\n" * 20 + b"END:VCALENDAR\r\n",
        b"\x00\x01\x02garbage",
    ],
    ids=[
        "empty",
        "blank",
        "latin-1",
        "vcard",
        "two-calendars",
        "truncated",
        "mismatched-end",
        "no-colon",
        "property-outside",
        "too-deep",
        "binary",
    ],
)
def test_unparseable_is_valid_calendar_data(data: bytes) -> None:
    with pytest.raises(CalendarDataError) as caught:
        parse_calendar(data)
    assert caught.value.condition == "valid-calendar-data"
    assert caught.value.message


def test_lenient_where_clients_are_sloppy() -> None:
    sloppy = (
        "BEGIN:VCALENDAR\nbegin:vevent\nuid:x\ndtstart:20240101T100000Z\nsummary:a long\n  folded line\n"
        "END:VEVENT\nEND:VCALENDAR\n"
    )
    calendar = parse_calendar(b"\xef\xbb\xbf" + sloppy.encode())  # BOM, LF, lower case, no VERSION/PRODID
    assert str(calendar.subcomponents[0]["SUMMARY"]) == "a long folded line"
    assert index(sloppy.encode()).uid == "x"


def test_fold_inside_a_utf8_sequence() -> None:
    calendar = parse_calendar((CORPUS / "naive-fold-mid-utf8.ics").read_bytes())
    summary = str(calendar.subcomponents[0]["SUMMARY"])
    expected = "Grüße aus Zürich morgen \u2013 Übergabe der Schlüssel für das Büro in der Bahnhofstraße und München"
    assert summary == expected


def test_unparseable_extension_values_are_kept_but_time_values_refused() -> None:
    kept = parse_calendar(ics("BEGIN:VTODO", "UID:t", "GEO:not;a;geo", "X-NUMBER;VALUE=INTEGER:abc", "END:VTODO"))
    assert str(kept.subcomponents[0]["GEO"]) == "not;a;geo"
    for bad in ("DTSTART:2024-01-01", "RRULE:FREQ=SOMETIMES", "DUE:tomorrow", "TRIGGER:-15 minutes"):
        with pytest.raises(CalendarDataError) as caught:
            parse_calendar(ics(event("DTSTART:20240101T100000Z" if "DTSTART" not in bad else bad, bad)))
        assert caught.value.condition == "valid-calendar-data"


# -- RFC 4791 §4.1 and §5.3.2.1 --------------------------------------------------------------------------------


UTC_ZONE = """BEGIN:VTIMEZONE
TZID:UTC
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0000
TZOFFSETTO:+0000
END:STANDARD
END:VTIMEZONE"""
AT_TEN = "DTSTART:20240101T100000Z"
OBJECT = "valid-calendar-object-resource"
DATA = "valid-calendar-data"
COMPONENT = "supported-calendar-component"
REFUSED = {
    "method": (ics(event(AT_TEN), head=("VERSION:2.0", "METHOD:PUBLISH")), ALL, OBJECT),
    "only-vtimezone": (ics(UTC_ZONE), ALL, OBJECT),
    "two-types": (ics(event(AT_TEN), "BEGIN:VTODO\nUID:e1\nEND:VTODO"), ALL, OBJECT),
    "two-uids": (ics(event(AT_TEN), event(AT_TEN, uid="e2")), ALL, OBJECT),
    "no-uid": (ics(f"BEGIN:VEVENT\n{AT_TEN}\nEND:VEVENT"), ALL, OBJECT),
    "two-masters": (ics(event(AT_TEN), event("DTSTART:20240102T100000Z")), ALL, OBJECT),
    "same-recurrence-id": (
        ics(
            event(AT_TEN, "RRULE:FREQ=DAILY"),
            event("RECURRENCE-ID:20240102T100000Z", "DTSTART:20240102T110000Z"),
            event("RECURRENCE-ID;TZID=Europe/Berlin:20240102T110000", "DTSTART:20240102T120000Z"),  # same instant
        ),
        ALL,
        OBJECT,
    ),
    "not-allowed": (ics("BEGIN:VTODO\nUID:t\nEND:VTODO"), frozenset({"VEVENT"}), COMPONENT),
    "unknown-component": (ics("BEGIN:X-POLL\nUID:t\nEND:X-POLL"), ALL, COMPONENT),
    "vevent-without-dtstart": (ics(event("SUMMARY:no start")), ALL, DATA),
    "two-dtstart": (ics(event(AT_TEN, "DTSTART:20240101T110000Z")), ALL, DATA),
    "dtstart-duration": (ics(event("DTSTART:P1D")), ALL, DATA),
    "duration-date": (ics(event(AT_TEN, "DURATION:20240101")), ALL, DATA),
    "rule-never-matches": (ics(event(AT_TEN, "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")), ALL, DATA),
    "count-too-high": (ics(event(AT_TEN, "RRULE:FREQ=SECONDLY;COUNT=1000000000")), ALL, "max-instances"),
}


@pytest.mark.parametrize(("data", "allowed", "condition"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_with_the_right_condition(data: bytes, allowed: frozenset[str], condition: str) -> None:
    error = refused(data, allowed)
    assert error.condition == condition
    assert error.message and len(error.message) < 200


def test_impossible_rule_is_refused_quickly() -> None:
    started = time.perf_counter()
    refused(ics(event("DTSTART:20240101T100000Z", "RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=31;COUNT=3")))
    assert time.perf_counter() - started < 1.0  # dateutil alone would search to year 9999 for seconds


def test_master_with_overrides_is_one_object() -> None:
    _, found = index_calendar_object((CORPUS / "apple-weekly-exceptions.ics").read_bytes(), frozenset({"vevent"}))
    assert (found.uid, found.component) == ("5FC53010-1267-4F8E-BC28-1D7AE55A7C99", "VEVENT")


def test_undefined_tzids_are_accepted() -> None:
    iana = index(ics(event("DTSTART;TZID=Europe/Berlin:20240110T100000", "DURATION:PT1H")))
    assert iana.spans == ((ts(2024, 1, 10, 9) - 1, ts(2024, 1, 10, 10) + 1),)
    unknown = index(ics(event("DTSTART;TZID=Mars/Olympus_Mons:20240110T100000", "DURATION:PT1H")))
    assert unknown.spans == ((ts(2024, 1, 10, 10) - SLACK - 1, ts(2024, 1, 10, 11) + SLACK + 1),)


# -- spans -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "spans"),
    [
        (["DTSTART:20240110T100000Z", "DTEND:20240110T110000Z"], [(ts(2024, 1, 10, 10) - 1, ts(2024, 1, 10, 11) + 1)]),
        (["DTSTART:20240110T100000Z"], [(ts(2024, 1, 10, 10) - 1, ts(2024, 1, 10, 10) + 1)]),
        (["DTSTART;VALUE=DATE:20240110"], [(ts(2024, 1, 10) - SLACK - 1, ts(2024, 1, 11) + SLACK + 1)]),
        (
            ["DTSTART:20240110T100000", "DURATION:PT30M"],
            [(ts(2024, 1, 10, 10) - SLACK - 1, ts(2024, 1, 10, 10, 30) + SLACK + 1)],
        ),
        (
            ["DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20240111T100000Z"],
            [(ts(2024, 1, 10, 10) - 1, ts(2024, 1, 10, 11) + 1), (ts(2024, 1, 12, 10) - 1, ts(2024, 1, 12, 11) + 1)],
        ),
        (
            ["DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=HOURLY;COUNT=3"],  # adjacent: merged
            [(ts(2024, 1, 10, 10) - 1, ts(2024, 1, 10, 13) + 1)],
        ),
        (
            ["DTSTART:20240110T100000Z", "DURATION:PT1H", "RDATE;VALUE=PERIOD:20240120T080000Z/PT3H"],
            [(ts(2024, 1, 10, 10) - 1, ts(2024, 1, 10, 11) + 1), (ts(2024, 1, 20, 8) - 1, ts(2024, 1, 20, 11) + 1)],
        ),
        (["DTSTART:20240110T100000Z", "RRULE:FREQ=WEEKLY"], [(ts(2024, 1, 10, 10) - 1, OPEN_END)]),
        (["DTSTART;VALUE=DATE:20240110", "RRULE:FREQ=YEARLY"], [(ts(2024, 1, 10) - SLACK - 1, OPEN_END)]),
        (
            ["DTSTART:20240110T100000Z", "RRULE:FREQ=MINUTELY;UNTIL=20240131T000000Z"],  # 30,000 instances
            [(ts(2024, 1, 10, 10) - 1, ts(2024, 1, 31) + DAY + 1)],
        ),
    ],
    ids=[
        "dtend", "instant", "all-day", "floating", "exdate", "merged", "rdate-period", "unbounded", "yearly-date",
        "long-until",
    ],
)  # fmt: skip
def test_event_spans(lines: list[str], spans: list[tuple[int, int]]) -> None:
    assert list(index(ics(event(*lines))).spans) == spans


def test_override_spans_replace_their_instance() -> None:
    data = ics(
        event("DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3"),
        event("RECURRENCE-ID:20240111T100000Z", "DTSTART:20240111T150000Z", "DURATION:PT1H"),
    )
    assert index(data).spans == (
        (ts(2024, 1, 10, 10) - 1, ts(2024, 1, 10, 11) + 1),
        (ts(2024, 1, 11, 15) - 1, ts(2024, 1, 11, 16) + 1),
        (ts(2024, 1, 12, 10) - 1, ts(2024, 1, 12, 11) + 1),
    )


def test_more_than_max_spans_become_one() -> None:
    count = MAX_SPANS + 100
    found = index(ics(event("DTSTART:20240110T100000Z", "DURATION:PT1H", f"RRULE:FREQ=DAILY;COUNT={count}")))
    (span,) = found.spans
    last_end = ts(2024, 1, 10, 11) + (count - 1) * DAY
    assert span[0] == ts(2024, 1, 10, 10) - 1
    assert last_end <= span[1] <= last_end + 2 * DAY
    exactly = index(ics(event("DTSTART:20240110T100000Z", "DURATION:PT1H", f"RRULE:FREQ=DAILY;COUNT={MAX_SPANS}")))
    assert len(exactly.spans) == MAX_SPANS


@pytest.mark.parametrize(
    ("name", "spans"),
    [
        ("todo-due-only.ics", [(ts(2024, 7, 31) - SLACK - 1, ts(2024, 7, 31) + SLACK + 1)]),  # DUE;VALUE=DATE
        ("todo-reminders-undated.ics", [(ts(2024, 2, 12, 7, 10, 3) - 1, ts(2024, 2, 20, 18, 15, 12) + 1)]),
        ("journal.ics", [(ts(2024, 2, 20) - SLACK - 1, ts(2024, 2, 21) + SLACK + 1)]),
        ("freebusy-published.ics", [(ts(2024, 4, 1) - 1, ts(2024, 4, 8) + 1)]),
        ("birthday-allday-yearly.ics", [(ts(1980, 3, 14) - SLACK - 1, OPEN_END)]),
        ("custom-zone-dst.ics", [(ts(2024, 3, d, h) - 1, ts(2024, 3, d, h + 1) + 1) for d, h in ((20, 14), (27, 14))]
         + [(ts(2024, 4, 3, 14) - 1, ts(2024, 4, 3, 15) + 1), (ts(2024, 4, 10, 13) - 1, ts(2024, 4, 10, 14) + 1)]),
    ],
)  # fmt: skip
def test_corpus_spans(name: str, spans: list[tuple[int, int]]) -> None:
    assert list(index((CORPUS / name).read_bytes()).spans) == spans


def test_todo_and_journal_edge_spans() -> None:
    undated = index(ics("BEGIN:VTODO", "UID:t", "END:VTODO"))
    assert undated.spans == ((OPEN_START, OPEN_END),)
    created = index(ics("BEGIN:VTODO", "UID:t", "CREATED:20240101T000000Z", "END:VTODO"))
    assert created.spans == ((ts(2024, 1, 1) - 1, OPEN_END),)
    journal = index(ics("BEGIN:VJOURNAL", "UID:j", "SUMMARY:no date", "END:VJOURNAL"))
    assert (journal.component, journal.spans) == ("VJOURNAL", ())


def test_apple_corpus_spans() -> None:
    """Mondays 09:30-10:00 New York, COUNT=10, minus Jan 22, plus Jan 31 14:00, Jan 15 moved to 11:00."""
    found = index((CORPUS / "apple-weekly-exceptions.ics").read_bytes())
    starts = [low + 1 for low, _ in found.spans]
    est = [ts(2024, 1, 8, 14, 30), ts(2024, 1, 15, 16), ts(2024, 1, 29, 14, 30), ts(2024, 1, 31, 19)]
    est += [ts(2024, 2, d, 14, 30) for d in (5, 12, 19, 26)] + [ts(2024, 3, 4, 14, 30), ts(2024, 3, 11, 13, 30)]
    assert starts == est
    assert all(high - low == 1800 + 2 for low, high in found.spans)


# -- time zones for calendar-timezone --------------------------------------------------------------------------


def test_vtimezone_tzinfo() -> None:
    outlook = (CORPUS / "outlook-single-windows-tzid.ics").read_text()
    vtimezone = outlook[outlook.index("BEGIN:VTIMEZONE") : outlook.index("END:VTIMEZONE") + len("END:VTIMEZONE")]
    wrapped = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{vtimezone}\r\nEND:VCALENDAR\r\n"
    for text in (wrapped, vtimezone):
        zone = vtimezone_tzinfo(text)
        assert zone is not None
        assert datetime(2024, 7, 1, 12, tzinfo=zone).utcoffset() == timedelta(hours=2)
        assert datetime(2024, 1, 1, 12, tzinfo=zone).utcoffset() == timedelta(hours=1)
    iana = vtimezone_tzinfo(wrapped.replace("W. Europe Standard Time", "America/New_York"))
    assert iana == ZoneInfo("America/New_York")
    assert vtimezone_tzinfo("garbage") is None
    assert vtimezone_tzinfo(wrapped.replace(vtimezone, vtimezone + "\r\n" + vtimezone)) is None
    assert (
        vtimezone_tzinfo("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Nowhere\r\nEND:VTIMEZONE\r\nEND:VCALENDAR") is None
    )


# -- the corpus: parse -> serialize -> parse loses nothing -----------------------------------------------------


def structure(component: Component) -> tuple[Any, ...]:
    """A comparable form of a component: name, every property with its parameters and value, subcomponents."""
    props = []
    for name, value in component.property_items(recursive=False, sorted=False)[1:]:
        props.append((name, tuple(sorted(getattr(value, "params", {}).items())), _value(value)))
    return (component.name, tuple(sorted(props, key=repr)), tuple(structure(sub) for sub in component.subcomponents))


def _value(value: Any) -> Any:
    if isinstance(value, vDDDLists):
        return tuple(_value(item) for item in value.dts)
    moment = getattr(value, "dt", None)
    return moment if moment is not None else value.to_ical() if hasattr(value, "to_ical") else value


def content_lines(data: bytes) -> int:
    """Property lines in the file, after unfolding; FREEBUSY lists count once per period (icalendar splits them)."""
    text = re.sub(r"\r?\n[ \t]", "", data.decode("utf-8-sig", errors="replace"))
    lines = [line for line in text.splitlines() if line and not re.match(r"(?i)(BEGIN|END):", line)]
    return sum(line.count(",") + 1 if line.upper().startswith("FREEBUSY") else 1 for line in lines)


def property_count(component: Component) -> int:
    own = len(component.property_items(recursive=False, sorted=False)) - 2  # BEGIN and END
    return own + sum(property_count(sub) for sub in component.subcomponents)


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_corpus_round_trip(path: Path) -> None:
    data = path.read_bytes()
    calendar = parse_calendar(data)
    assert property_count(calendar) == content_lines(data)
    again = serialize(calendar)
    assert again.endswith(b"\r\n") and b"\n" not in again.replace(b"\r\n", b"")
    assert structure(parse_calendar(again)) == structure(calendar)


def test_exports_split_into_valid_objects() -> None:
    """Outlook and Google exports hold many UIDs and METHOD:PUBLISH; split per UID (as vdirsyncer does) each
    part is a valid calendar object resource."""
    for name in ("outlook-export.ics", "google-export.ics"):
        data = (CORPUS / name).read_bytes()
        assert refused(data).condition == "valid-calendar-object-resource"
        calendar = parse_calendar(data)
        timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
        uids = {str(c["UID"]) for c in calendar.subcomponents if c.name == "VEVENT"}
        for uid in uids:
            part = parse_calendar(data)
            part.pop("METHOD")
            part.subcomponents = timezones + [c for c in part.subcomponents if c.get("UID") == uid]
            found = index(serialize(part))
            assert found.uid == uid and found.spans


# -- fuzzing: parse and index raise CalendarDataError and nothing else -------------------------------------------


def mangled(data: bytes, rng: random.Random) -> Iterator[bytes]:
    lines = data.split(b"\r\n") if b"\r\n" in data else data.split(b"\n")
    for cut in range(1, len(data), max(1, len(data) // 25)):
        yield data[:cut]
    for _ in range(30):
        index = rng.randrange(len(data))
        yield data[:index] + bytes([rng.randrange(256)]) + data[index + 1 :]
    for _ in range(15):
        copy = list(lines)
        operation = rng.randrange(4)
        where = rng.randrange(len(copy))
        if operation == 0:
            del copy[where]
        elif operation == 1:
            copy.insert(where, copy[rng.randrange(len(copy))])
        elif operation == 2:
            copy[where] = copy[where].replace(b":", b"", 1)
        else:
            other = rng.randrange(len(copy))
            copy[where], copy[other] = copy[other], copy[where]
        yield b"\r\n".join(copy)


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_fuzzed_corpus_raises_only_calendar_data_error(path: Path) -> None:
    """Mangled objects are refused with CalendarDataError, or accepted and then usable by every query."""
    rng = random.Random(path.name)
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 12, 1, tzinfo=UTC)
    for data in mangled(path.read_bytes(), rng):
        with contextlib.suppress(CalendarDataError):
            parse_calendar(data)
        for allowed in (ALL, frozenset({"VEVENT"})):
            try:
                calendar, _ = index_calendar_object(data, allowed)
            except CalendarDataError as error:
                assert error.condition in (
                    "valid-calendar-data",
                    "valid-calendar-object-resource",
                    "supported-calendar-component",
                    "max-instances",
                )
                continue
            with contextlib.suppress(CalendarDataError):  # queries may give up on an object, but no other way
                for component in calendar.subcomponents:
                    component_overlaps(calendar, component, start, end, UTC)
                serialize(expand(calendar, start, end, UTC))
