"""Isolation on calendars: bob gets 404 for alice's calendars and objects, whatever the method or REPORT."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http import unique
from tests.http.caldav_support import (
    NAMESPACES,
    PROLOG,
    XML,
    event,
    events_in,
    mkcalendar_body,
    multiget_body,
    new_calendar,
    query_body,
    report,
    store,
    sync_body,
)
from tests.testing import LiveServer

SECRET = "Alice-private-meeting"


@pytest.fixture(scope="module")
def alice_space(server: LiveServer) -> dict[str, str]:
    """Paths of alice's that exist, and twins that do not; bob must not tell them apart."""
    with server.client("alice") as alice:
        calendar = new_calendar(alice, f"<D:displayname>{SECRET}</D:displayname>")
        store(alice, calendar + "secret.ics", event(unique("uid"), "20240101T100000Z", summary=SECRET))
    missing = "/dav/calendars/alice/" + unique("nothing") + "/"
    return {
        "calendar": calendar,
        "object": calendar + "secret.ics",
        "default": "/dav/calendars/alice/calendar/",
        "home": "/dav/calendars/alice/",
        "missing_calendar": missing,
        "missing_object": calendar + "missing.ics",
        "object_in_missing": missing + "secret.ics",
    }


@pytest.fixture
def bob(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("bob") as client:
        yield client


REPORTS = {
    "calendar-query": query_body(events_in("20000101T000000Z", "20300101T000000Z"), "<C:calendar-data/>"),
    "calendar-multiget": "",
    "free-busy-query": (
        f'{PROLOG}<C:free-busy-query {NAMESPACES}><C:time-range start="20000101T000000Z" end="20300101T000000Z"/>'
        "</C:free-busy-query>"
    ),
    "sync-collection": sync_body("", "<D:getetag/><C:calendar-data/>"),
}


def attempt(client: httpx.Client, method: str, path: str, base_url: str) -> httpx.Response:
    bodies = {
        "PROPFIND": '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
        "PROPPATCH": (
            f"<D:propertyupdate {NAMESPACES}><D:set><D:prop><D:displayname>pwned</D:displayname></D:prop></D:set>"
            "</D:propertyupdate>"
        ),
        "MKCALENDAR": mkcalendar_body("<D:displayname>pwned</D:displayname>"),
        "PUT": event(unique("uid"), "20240101T100000Z").decode(),
        "LOCK": (
            '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
            "</D:lockinfo>"
        ),
    }
    headers = {**XML, "Depth": "0", "Destination": base_url + "/dav/calendars/bob/calendar/" + unique("loot")}
    if method == "PUT":
        headers["Content-Type"] = "text/calendar"
    return client.request(method, path, content=bodies.get(method, ""), headers=headers)


METHODS = ["GET", "HEAD", "OPTIONS", "PROPFIND", "PROPPATCH", "PUT", "DELETE", "MKCALENDAR", "MKCOL", "COPY", "MOVE"]
METHODS += ["LOCK", "UNLOCK"]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_on_alices_calendars_is_404(
    server: LiveServer, bob: httpx.Client, alice_space: dict[str, str], method: str
) -> None:
    answers = {name: attempt(bob, method, path, server.base_url) for name, path in alice_space.items()}
    for name, response in answers.items():
        assert response.status_code == 404, (method, name, response.status_code, response.text)
        assert SECRET not in response.text and "secret" not in response.text


@pytest.mark.parametrize("report_name", list(REPORTS))
def test_every_report_on_alices_calendars_is_404(
    bob: httpx.Client, alice_space: dict[str, str], report_name: str
) -> None:
    for name, path in alice_space.items():
        body = REPORTS[report_name] or multiget_body([alice_space["object"]])
        response = report(bob, path, body)
        assert response.status_code == 404, (report_name, name, response.status_code, response.text)
        assert SECRET not in response.text


def test_existing_and_missing_answer_alike(server: LiveServer, bob: httpx.Client, alice_space: dict[str, str]) -> None:
    for method in ("GET", "PROPFIND", "DELETE"):
        existing = attempt(bob, method, alice_space["calendar"], server.base_url)
        missing = attempt(bob, method, alice_space["missing_calendar"], server.base_url)
        assert (existing.status_code, existing.content) == (missing.status_code, missing.content), method


def test_multiget_from_bobs_calendar_cannot_read_alices_objects(bob: httpx.Client, alice_space: dict[str, str]) -> None:
    mine = new_calendar(bob, user="bob")
    response = report(bob, mine, multiget_body([alice_space["object"], alice_space["calendar"]]))
    assert response.status_code == 207
    assert SECRET not in response.text
    assert response.text.count("404 Not Found") == 2


def test_copy_and_move_into_alices_calendar_are_refused(
    server: LiveServer, bob: httpx.Client, alice_space: dict[str, str]
) -> None:
    mine = new_calendar(bob, user="bob")
    store(bob, mine + "mine.ics", event(unique("uid"), "20240101T100000Z"))
    for method in ("COPY", "MOVE"):
        target = server.base_url + alice_space["calendar"] + f"planted-{method}.ics"
        response = bob.request(method, mine + "mine.ics", headers={"Destination": target})
        assert response.status_code in (403, 404), (method, response.status_code)
    with server.client("alice") as alice:
        for method in ("COPY", "MOVE"):
            assert alice.get(alice_space["calendar"] + f"planted-{method}.ics").status_code == 404
        assert alice.get(alice_space["object"]).status_code == 200


def test_alices_data_is_untouched(server: LiveServer, alice_space: dict[str, str]) -> None:
    with server.client("alice") as alice:
        response = alice.get(alice_space["object"])
        assert response.status_code == 200 and SECRET in response.text
        listing = alice.request("PROPFIND", alice_space["calendar"], headers={"Depth": "0"})
        assert SECRET in listing.text and "pwned" not in listing.text


def test_bobs_principal_shows_only_bobs_home(bob: httpx.Client) -> None:
    response = bob.request(
        "PROPFIND",
        "/dav/principals/bob/",
        content=f"<D:propfind {NAMESPACES}><D:prop><C:calendar-home-set/></D:prop></D:propfind>",
        headers={"Depth": "0"},
    )
    assert "/dav/calendars/bob/" in response.text and "alice" not in response.text
