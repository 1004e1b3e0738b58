"""The parsed-body cache of the query reports: hits by ETag, bounded by bytes, never serving another body."""

from __future__ import annotations

import pytest

from protocols.formats import ical, vcard
from protocols.webdav.parsed import ParsedBodies
from storage.api import Item, etag_for


def event(uid: str, padding: int = 0) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//parsed//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        "DTSTART:20260105T090000Z",
        f"DESCRIPTION:{'x' * padding}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


def item_of(data: bytes) -> Item:
    return Item(1, 1, "e.ics", etag_for(data), "text/calendar", len(data), None, 1, 0.0, 0.0, {})


def uid_of(calendar: ical.Calendar) -> str:
    return str(calendar.walk("VEVENT")[0]["UID"])


def test_same_body_is_parsed_once() -> None:
    cache = ParsedBodies(ical.parse_calendar)
    data = event("a")
    first = cache.get(item_of(data), data)
    assert cache.get(item_of(data), data) is first
    assert uid_of(first) == "a"


def test_changed_body_is_parsed_again() -> None:
    cache = ParsedBodies(ical.parse_calendar)
    old, new = event("a"), event("b")
    cache.get(item_of(old), old)
    assert uid_of(cache.get(item_of(new), new)) == "b"


def test_bytes_held_stay_within_the_budget() -> None:
    bodies = [event(f"uid-{n}", padding=1000) for n in range(20)]
    cache = ParsedBodies(ical.parse_calendar, budget_bytes=5 * len(bodies[0]))
    for data in bodies:
        cache.get(item_of(data), data)
        assert cache.held_bytes <= cache.budget_bytes
    oldest, newest = bodies[0], bodies[-1]
    assert cache.get(item_of(newest), newest) is cache.get(item_of(newest), newest)
    assert uid_of(cache.get(item_of(oldest), oldest)) == "uid-0"  # evicted, parsed again


def test_large_bodies_are_not_kept() -> None:
    cache = ParsedBodies(ical.parse_calendar, largest_bytes=1000)
    data = event("big", padding=2000)
    assert cache.get(item_of(data), data) is not cache.get(item_of(data), data)
    assert cache.held_bytes == 0


def test_unparseable_body_raises_every_time_and_is_not_kept() -> None:
    cache = ParsedBodies(vcard.parse_vcard)
    data = b"BEGIN:VCARD\r\nthis is not a vCard\r\n"
    for _ in range(2):
        with pytest.raises(vcard.VCardDataError):
            cache.get(item_of(data), data)
    assert cache.held_bytes == 0
