"""free-busy-query (RFC 4791 §7.10): busy time from TRANSP and STATUS, recurring instances clipped to the range."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http import unique
from tests.http.caldav_support import NAMESPACES, PROLOG, event, new_calendar, report, store, unfolded
from tests.testing import LiveServer


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


def freebusy(client: httpx.Client, path: str, start: str, end: str) -> httpx.Response:
    body = f'{PROLOG}<C:free-busy-query {NAMESPACES}><C:time-range start="{start}" end="{end}"/></C:free-busy-query>'
    return report(client, path, body)


def busy_lines(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/calendar")
    text = unfolded(response.text)
    assert text.startswith("BEGIN:VCALENDAR") and "BEGIN:VFREEBUSY" in text
    return sorted(line for line in text.splitlines() if line.startswith("FREEBUSY"))


def periods(lines: list[str]) -> dict[str, str]:
    """``{period: FBTYPE}`` from FREEBUSY lines (several periods may share a line)."""
    found: dict[str, str] = {}
    for line in lines:
        head, values = line.split(":", 1)
        fbtype = "BUSY"
        for param in head.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.upper() == "FBTYPE":
                fbtype = value.upper()
        for value in values.split(","):
            found[value] = fbtype
    return found


@pytest.fixture
def busy_calendar(alice: httpx.Client) -> str:
    calendar = new_calendar(alice)
    store(alice, calendar + "busy.ics", event(unique("uid"), "20240110T090000Z", "20240110T100000Z"))
    store(
        alice,
        calendar + "tentative.ics",
        event(unique("uid"), "20240110T110000Z", "20240110T120000Z", "STATUS:TENTATIVE"),
    )
    store(
        alice,
        calendar + "transparent.ics",
        event(unique("uid"), "20240110T130000Z", "20240110T140000Z", "TRANSP:TRANSPARENT"),
    )
    store(
        alice,
        calendar + "cancelled.ics",
        event(unique("uid"), "20240110T150000Z", "20240110T160000Z", "STATUS:CANCELLED"),
    )
    store(
        alice,
        calendar + "confirmed.ics",
        event(unique("uid"), "20240110T170000Z", "20240110T173000Z", "STATUS:CONFIRMED", "TRANSP:OPAQUE"),
    )
    return calendar


def test_busy_and_tentative_but_not_transparent_or_cancelled(alice: httpx.Client, busy_calendar: str) -> None:
    found = periods(busy_lines(freebusy(alice, busy_calendar, "20240110T000000Z", "20240111T000000Z")))
    assert found == {
        "20240110T090000Z/20240110T100000Z": "BUSY",
        "20240110T110000Z/20240110T120000Z": "BUSY-TENTATIVE",
        "20240110T170000Z/20240110T173000Z": "BUSY",
    }


def test_the_answer_states_its_range(alice: httpx.Client, busy_calendar: str) -> None:
    text = unfolded(freebusy(alice, busy_calendar, "20240110T000000Z", "20240111T000000Z").text)
    assert "DTSTART:20240110T000000Z" in text
    assert "DTEND:20240111T000000Z" in text
    assert "\r\n" in text


def test_nothing_outside_the_range(alice: httpx.Client, busy_calendar: str) -> None:
    assert busy_lines(freebusy(alice, busy_calendar, "20240111T000000Z", "20240112T000000Z")) == []


def test_recurring_instances_are_clipped_to_the_range(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(
        alice,
        calendar + "daily.ics",
        event(unique("uid"), "20240101T220000Z", "20240102T020000Z", "RRULE:FREQ=DAILY;COUNT=30"),
    )
    found = periods(busy_lines(freebusy(alice, calendar, "20240105T000000Z", "20240107T000000Z")))
    assert found == {
        "20240105T000000Z/20240105T020000Z": "BUSY",
        "20240105T220000Z/20240106T020000Z": "BUSY",
        "20240106T220000Z/20240107T000000Z": "BUSY",
    }


def test_recurring_exceptions_keep_their_own_status(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    uid = unique("uid")
    body = (
        event(uid, "20240301T100000Z", "20240301T110000Z", "RRULE:FREQ=DAILY;COUNT=3")
        .replace(b"END:VCALENDAR\r\n", b"")
        .decode()
        + "\r\n".join(
            [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                "DTSTAMP:20240101T000000Z",
                "RECURRENCE-ID:20240302T100000Z",
                "DTSTART:20240302T100000Z",
                "DTEND:20240302T110000Z",
                "STATUS:CANCELLED",
                "SUMMARY:Cancelled once",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        )
    ).encode()
    store(alice, calendar + "series.ics", body)
    found = periods(busy_lines(freebusy(alice, calendar, "20240301T000000Z", "20240304T000000Z")))
    assert set(found) == {"20240301T100000Z/20240301T110000Z", "20240303T100000Z/20240303T110000Z"}


def test_all_day_events_are_busy_for_the_day(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "day.ics", event(unique("uid"), ";VALUE=DATE:20240401", ";VALUE=DATE:20240402"))
    found = periods(busy_lines(freebusy(alice, calendar, "20240401T000000Z", "20240403T000000Z")))
    assert found == {"20240401T000000Z/20240402T000000Z": "BUSY"}


@pytest.mark.parametrize(
    "body",
    [
        f"<C:free-busy-query {NAMESPACES}/>",
        f'<C:free-busy-query {NAMESPACES}><C:time-range start="20240101T000000Z"/></C:free-busy-query>',
        f'<C:free-busy-query {NAMESPACES}><C:time-range start="junk" end="20240101T000000Z"/></C:free-busy-query>',
    ],
    ids=["no-range", "no-end", "bad-start"],
)
def test_bad_ranges_are_4xx(alice: httpx.Client, body: str) -> None:
    calendar = new_calendar(alice)
    response = report(alice, calendar, PROLOG + body)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
