"""calendar-multiget (RFC 4791 §7.9): hrefs echoed exactly, missing ones 404, calendar-data byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from lxml import etree

from tests.http import dav, unique
from tests.http.caldav_support import (
    cal,
    event,
    multiget_body,
    new_calendar,
    report,
    store,
    unfolded,
)
from tests.testing import LiveServer


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


def by_href(response: httpx.Response) -> dict[str, etree._Element]:
    """``{href exactly as answered: <D:response>}``."""
    assert response.status_code == 207, (response.status_code, response.text)
    root = etree.fromstring(response.content)
    return {(node.findtext(dav("href")) or ""): node for node in root.findall(dav("response"))}


def status_of(node: etree._Element) -> str:
    return (node.findtext(dav("status")) or node.findtext(f"{dav('propstat')}/{dav('status')}") or "").strip()


def data_of(node: etree._Element) -> str:
    return node.findtext(f"{dav('propstat')}/{dav('prop')}/{cal('calendar-data')}") or ""


def test_multiget_returns_the_stored_bytes_and_etags(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    bodies = {
        f"e{n}.ics": event(
            unique("uid"),
            f"2024010{n}T100000Z",
            None,
            "DESCRIPTION:A long description that a careful client folds at seventy-five octets to be safe\r\n and on",
            summary=f"Event {n}",
        )
        for n in range(1, 4)
    }
    etags = {name: store(alice, calendar + name, data) for name, data in bodies.items()}
    found = by_href(report(alice, calendar, multiget_body([calendar + name for name in bodies])))
    assert set(found) == {calendar + name for name in bodies}
    for name, data in bodies.items():
        node = found[calendar + name]
        assert status_of(node) == "HTTP/1.1 200 OK"
        assert node.findtext(f"{dav('propstat')}/{dav('prop')}/{dav('getetag')}") == etags[name]
        assert data_of(node).encode() == data, "CRLF and folding intact"


def test_unknown_hrefs_are_404_responses(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "here.ics", event(unique("uid"), "20240101T100000Z"))
    other = new_calendar(alice)
    hrefs = [
        calendar + "here.ics",
        calendar + "gone.ics",
        other + "elsewhere.ics",
        "/dav/calendars/bob/calendar/secret.ics",
        "/dav/files/alice/x.ics",
        calendar,
    ]
    found = by_href(report(alice, calendar, multiget_body(hrefs)))
    assert set(found) == set(hrefs)
    assert status_of(found[calendar + "here.ics"]) == "HTTP/1.1 200 OK"
    for href in hrefs[1:]:
        assert status_of(found[href]) == "HTTP/1.1 404 Not Found", href


@pytest.mark.parametrize("name", ["with space.ics", "ümlaut-ß.ics", "a+b&c=d.ics", "semi;colon@at.ics"])
def test_hrefs_are_echoed_exactly_as_sent(alice: httpx.Client, name: str) -> None:
    """Evolution matches hrefs as strings (clients.md §0.9): whatever spelling came in goes back out."""
    calendar = new_calendar(alice)
    encoded = quote(name)
    data = event(unique("uid"), "20240101T100000Z")
    assert alice.put(calendar + encoded, content=data, headers={"Content-Type": "text/calendar"}).status_code == 201
    lower = encoded.lower() if "%" in encoded else encoded
    spellings = {calendar + encoded, calendar + lower}
    if quote(name, safe="") != encoded:
        spellings.add(calendar + quote(name, safe=""))
    for spelling in spellings:
        found = by_href(report(alice, calendar, multiget_body([spelling])))
        assert list(found) == [spelling]
        assert status_of(found[spelling]) == "HTTP/1.1 200 OK", spelling
        assert data_of(found[spelling]).encode() == data


def test_absolute_urls_are_echoed(alice: httpx.Client, server: LiveServer) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "abs.ics", event(unique("uid"), "20240101T100000Z"))
    absolute = server.base_url + calendar + "abs.ics"
    found = by_href(report(alice, calendar, multiget_body([absolute])))
    assert list(found) == [absolute]
    assert status_of(found[absolute]) == "HTTP/1.1 200 OK"


@pytest.mark.parametrize("depth", ["0", "1", None])
def test_depth_is_ignored(alice: httpx.Client, depth: str | None) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "d.ics", event(unique("uid"), "20240101T100000Z"))
    found = by_href(report(alice, calendar, multiget_body([calendar + "d.ics"]), depth=depth))
    assert status_of(found[calendar + "d.ics"]) == "HTTP/1.1 200 OK"


def test_hundred_hrefs_in_one_request(alice: httpx.Client) -> None:
    """Thunderbird and Evolution fetch in batches of 100 (clients.md §3, §4)."""
    calendar = new_calendar(alice)
    for n in range(100):
        store(alice, calendar + f"m{n:03d}.ics", event(unique("uid"), "20240101T100000Z", summary=f"M{n}"))
    hrefs = [calendar + f"m{n:03d}.ics" for n in range(100)]
    found = by_href(report(alice, calendar, multiget_body(hrefs)))
    assert set(found) == set(hrefs)
    assert all(status_of(node) == "HTTP/1.1 200 OK" for node in found.values())
    assert "SUMMARY:M42" in unfolded(data_of(found[calendar + "m042.ics"]))


def test_etag_only_multiget_has_no_calendar_data(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "e.ics", event(unique("uid"), "20240101T100000Z"))
    found = by_href(report(alice, calendar, multiget_body([calendar + "e.ics"], "<D:getetag/>")))
    assert data_of(found[calendar + "e.ics"]) == ""


def test_duplicate_hrefs_do_not_fail(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "dup.ics", event(unique("uid"), "20240101T100000Z"))
    response = report(alice, calendar, multiget_body([calendar + "dup.ics", calendar + "dup.ics"]))
    assert response.status_code == 207
    assert calendar + "dup.ics" in by_href(response)


def test_multiget_on_an_object_resource(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    data = event(unique("uid"), "20240101T100000Z")
    store(alice, calendar + "self.ics", data)
    found = by_href(report(alice, calendar + "self.ics", multiget_body([calendar + "self.ics"]), depth="0"))
    assert data_of(found[calendar + "self.ics"]).encode() == data


def test_multiget_with_partial_calendar_data(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    uid = unique("uid")
    store(alice, calendar + "p.ics", event(uid, "20240101T100000Z", None, "LOCATION:Room 1", summary="Partial"))
    prop = (
        '<C:calendar-data><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/>'
        '<C:prop name="SUMMARY"/></C:comp></C:comp></C:calendar-data>'
    )
    found = by_href(report(alice, calendar, multiget_body([calendar + "p.ics"], prop)))
    data = unfolded(data_of(found[calendar + "p.ics"]))
    assert f"UID:{uid}" in data and "SUMMARY:Partial" in data
    assert "LOCATION" not in data and "DTSTART" not in data
