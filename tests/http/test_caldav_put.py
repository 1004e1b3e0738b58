"""Writes that keep a calendar valid (RFC 4791 §5.3.2): preconditions, ETags, exact bytes, CTag and sync-token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http import dav, unique
from tests.http.caldav_support import (
    assert_condition,
    cal,
    collection_props,
    cs,
    event,
    ics,
    new_calendar,
    put_ics,
    store,
    todo,
    vevent,
    vtodo,
)
from tests.testing import LiveServer, live_server

SMALL_ITEM_BYTES = 2048


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture
def calendar(alice: httpx.Client) -> str:
    return new_calendar(alice)


def simple(uid: str | None = None) -> bytes:
    return event(uid or unique("uid"), "20240105T100000Z", "20240105T110000Z")


# --- valid-calendar-data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"hello world",
        b"",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Someone\r\nEND:VCARD\r\n",
        b"\xff\xfe\x00B\x00E\x00G",
        ics(*vevent("bad-date", "20241305T100000Z")),
        ics(*vevent("no-start", "20240105T100000Z")).replace(b"DTSTART:20240105T100000Z\r\n", b""),
    ],
    ids=["text", "empty", "truncated", "vcard", "binary", "bad-date", "vevent-without-dtstart"],
)
def test_not_icalendar_is_valid_calendar_data(alice: httpx.Client, calendar: str, body: bytes) -> None:
    response = put_ics(alice, calendar + "bad.ics", body)
    assert_condition(response, 403, cal("valid-calendar-data"))
    assert alice.get(calendar + "bad.ics").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        ics(*vevent("one", "20240105T100000Z"), *vevent("two", "20240106T100000Z")),
        ics(*vevent("same", "20240105T100000Z"), *vtodo("same")),
        ics("METHOD:REQUEST", *vevent("invite", "20240105T100000Z")),
        ics("X-NOTHING:here"),
        ics(*vevent("twice", "20240105T100000Z"), *vevent("twice", "20240106T100000Z")),
        ics(*vevent("no-uid", "20240105T100000Z")).replace(b"UID:no-uid\r\n", b""),
    ],
    ids=["two-uids", "two-component-types", "method", "no-component", "two-masters", "no-uid"],
)
def test_rfc4791_object_rules_are_valid_calendar_object_resource(alice: httpx.Client, body: bytes) -> None:
    calendar = new_calendar(alice, components=("VEVENT", "VTODO"))
    response = put_ics(alice, calendar + "bad.ics", body)
    assert_condition(response, 403, cal("valid-calendar-object-resource"))


def test_master_with_overrides_is_one_resource(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    body = ics(
        *vevent(uid, "20240101T100000Z", "20240101T110000Z", "RRULE:FREQ=DAILY;COUNT=5"),
        *vevent(uid, "20240103T150000Z", "20240103T160000Z", "RECURRENCE-ID:20240103T100000Z", summary="Moved"),
    )
    assert put_ics(alice, calendar + "series.ics", body).status_code == 201


def test_component_outside_the_calendar_set_is_refused(alice: httpx.Client) -> None:
    events_only = new_calendar(alice, components=("VEVENT",))
    tasks_only = new_calendar(alice, components=("VTODO",))
    assert_condition(
        put_ics(alice, events_only + "t.ics", todo(unique("uid"))), 403, cal("supported-calendar-component")
    )
    assert_condition(put_ics(alice, tasks_only + "e.ics", simple()), 403, cal("supported-calendar-component"))
    journal = ics(
        "BEGIN:VJOURNAL",
        f"UID:{unique('uid')}",
        "DTSTAMP:20240101T000000Z",
        "DTSTART;VALUE=DATE:20240101",
        "END:VJOURNAL",
    )
    assert_condition(put_ics(alice, events_only + "j.ics", journal), 403, cal("supported-calendar-component"))


def test_default_calendars_keep_their_component_types(alice: httpx.Client) -> None:
    name = unique("x") + ".ics"
    assert_condition(
        put_ics(alice, "/dav/calendars/alice/calendar/" + name, todo(unique("uid"))),
        403,
        cal("supported-calendar-component"),
    )
    assert_condition(
        put_ics(alice, "/dav/calendars/alice/tasks/" + name, simple()), 403, cal("supported-calendar-component")
    )
    assert put_ics(alice, "/dav/calendars/alice/tasks/" + name, todo(unique("uid"))).status_code == 201
    assert alice.delete("/dav/calendars/alice/tasks/" + name).status_code == 204


# --- no-uid-conflict ---------------------------------------------------------------------------------------------


def test_same_uid_under_another_name_is_409_with_the_existing_href(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    store(alice, calendar + "first.ics", simple(uid))
    response = put_ics(alice, calendar + "second.ics", simple(uid))
    conflict = assert_condition(response, 409, cal("no-uid-conflict"))
    assert (conflict.findtext(dav("href")) or "").strip() == calendar + "first.ics"
    assert alice.get(calendar + "second.ics").status_code == 404


def test_same_uid_under_the_same_name_is_an_update(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    store(alice, calendar + "e.ics", simple(uid))
    assert put_ics(alice, calendar + "e.ics", event(uid, "20240106T100000Z")).status_code == 204


def test_same_uid_in_another_calendar_is_fine(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    store(alice, calendar + "e.ics", simple(uid))
    other = new_calendar(alice)
    assert put_ics(alice, other + "e.ics", simple(uid)).status_code == 201


def test_uid_is_free_again_after_delete(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    store(alice, calendar + "a.ics", simple(uid))
    assert alice.delete(calendar + "a.ics").status_code == 204
    assert put_ics(alice, calendar + "b.ics", simple(uid)).status_code == 201


# --- supported-calendar-data -------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "text/vcard", "application/calendar+json"])
def test_wrong_content_type_is_415(alice: httpx.Client, calendar: str, content_type: str) -> None:
    response = put_ics(alice, calendar + "e.ics", simple(), content_type=content_type)
    assert_condition(response, 415, cal("supported-calendar-data"))
    assert alice.get(calendar + "e.ics").status_code == 404


@pytest.mark.parametrize(
    "content_type", ["text/calendar", "text/calendar; charset=utf-8", "TEXT/Calendar;charset=UTF-8"]
)
def test_calendar_content_types_are_accepted(alice: httpx.Client, calendar: str, content_type: str) -> None:
    assert put_ics(alice, calendar + unique("e") + ".ics", simple(), content_type=content_type).status_code == 201


def test_get_answers_text_calendar(alice: httpx.Client, calendar: str) -> None:
    """vdirsyncer and Thunderbird skip members whose content type is not text/calendar (clients.md §3, §6)."""
    store(alice, calendar + "e.ics", simple())
    assert alice.get(calendar + "e.ics").headers["content-type"].startswith("text/calendar")


# --- max-resource-size -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("small-items")
    with live_server(data_dir, {"alice": "alice-secret"}, {"GATEWAY_MAX_ITEM_BYTES": str(SMALL_ITEM_BYTES)}) as running:
        yield running


def test_over_max_resource_size_is_refused(small_server: LiveServer) -> None:
    with small_server.client("alice") as client:
        calendar = new_calendar(client)
        advertised = collection_props(client, calendar, cal("max-resource-size"))[cal("max-resource-size")]
        assert advertised.text == str(SMALL_ITEM_BYTES)
        big = event(
            unique("uid"),
            "20240105T100000Z",
            None,
            "DESCRIPTION:" + "x" * 70 + "\r\n " + ("y" * 70 + "\r\n ") * 40 + "z",
        )
        assert len(big) > SMALL_ITEM_BYTES
        assert_condition(put_ics(client, calendar + "big.ics", big), 403, cal("max-resource-size"))
        assert client.get(calendar + "big.ics").status_code == 404
        assert put_ics(client, calendar + "small.ics", simple()).status_code == 201


# --- preconditions and ETags -------------------------------------------------------------------------------------


def test_if_none_match_star_creates_then_412(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    first = put_ics(alice, calendar + "e.ics", simple(uid), headers={"If-None-Match": "*"})
    assert first.status_code == 201
    second = put_ics(alice, calendar + "e.ics", event(uid, "20240107T100000Z"), headers={"If-None-Match": "*"})
    assert second.status_code == 412
    assert alice.get(calendar + "e.ics").headers["etag"] == first.headers["etag"]


def test_if_match_updates_and_stale_tag_is_412(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    etag = store(alice, calendar + "e.ics", simple(uid))
    updated = put_ics(alice, calendar + "e.ics", event(uid, "20240108T100000Z"), headers={"If-Match": etag})
    assert updated.status_code == 204
    assert updated.headers["etag"] != etag
    stale = put_ics(alice, calendar + "e.ics", event(uid, "20240109T100000Z"), headers={"If-Match": etag})
    assert stale.status_code == 412
    assert alice.delete(calendar + "e.ics", headers={"If-Match": etag}).status_code == 412
    assert alice.delete(calendar + "e.ics", headers={"If-Match": updated.headers["etag"]}).status_code == 204


def test_unconditional_put_and_delete_work(alice: httpx.Client, calendar: str) -> None:
    """Thunderbird's CardDAV sends neither If-Match nor If-None-Match (clients.md §0.8)."""
    uid = unique("uid")
    store(alice, calendar + "e.ics", simple(uid))
    assert put_ics(alice, calendar + "e.ics", event(uid, "20240110T100000Z")).status_code == 204
    assert alice.delete(calendar + "e.ics").status_code == 204


def test_if_match_on_a_missing_object_is_412(alice: httpx.Client, calendar: str) -> None:
    response = put_ics(alice, calendar + "ghost.ics", simple(), headers={"If-Match": '"abc"'})
    assert response.status_code == 412


FOLDED = (
    b"BEGIN:VCALENDAR\r\n"
    b"VERSION:2.0\r\n"
    b"PRODID:-//Example Corp.//Client 1.0//EN\r\n"
    b"BEGIN:VEVENT\r\n"
    b"UID:%s\r\n"
    b"DTSTAMP:20240101T000000Z\r\n"
    b"DTSTART;TZID=Europe/Berlin:20240105T100000\r\n"
    b"DURATION:PT1H\r\n"
    b"SUMMARY:Caf\xc3\xa9 \xe2\x98\x95 with a summary long enough that a client folds it over more tha\r\n"
    b" n one line\r\n"
    b"DESCRIPTION:Folded\\, escaped\\; and \\n newlines\r\n"
    b"\tcontinued with a tab\r\n"
    b'X-UNKNOWN-PROP;X-PARAM="quoted: value":kept as is\r\n'
    b"END:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)


def test_get_returns_exactly_the_bytes_put_and_the_same_etag(alice: httpx.Client, calendar: str) -> None:
    body = FOLDED % unique("uid").encode()
    response = put_ics(alice, calendar + "folded.ics", body)
    assert response.status_code == 201
    got = alice.get(calendar + "folded.ics")
    assert got.content == body
    assert got.headers["etag"] == response.headers["etag"]
    assert not got.headers["etag"].startswith("W/")
    head = alice.head(calendar + "folded.ics")
    assert head.headers["etag"] == response.headers["etag"]


def test_lf_only_data_is_stored_as_sent(alice: httpx.Client, calendar: str) -> None:
    """Some clients send bare LF; the bytes are kept, so the ETag the client got stays valid."""
    body = simple().replace(b"\r\n", b"\n")
    response = put_ics(alice, calendar + "lf.ics", body)
    assert response.status_code == 201
    got = alice.get(calendar + "lf.ics")
    assert got.content == body
    assert got.headers["etag"] == response.headers["etag"]


def test_propfind_etag_matches_put_etag(alice: httpx.Client, calendar: str) -> None:
    etag = store(alice, calendar + "e.ics", simple())
    response = alice.request(
        "PROPFIND",
        calendar,
        content='<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>',
        headers={"Depth": "1"},
    )
    assert response.status_code == 207
    assert etag in response.text
    assert "text/calendar" in response.text


def tokens(client: httpx.Client, path: str) -> tuple[str, str]:
    found = collection_props(client, path, cs("getctag"), dav("sync-token"))
    return found[cs("getctag")].text or "", found[dav("sync-token")].text or ""


def test_ctag_and_sync_token_change_on_put_and_delete(alice: httpx.Client, calendar: str) -> None:
    uid = unique("uid")
    initial = tokens(alice, calendar)
    store(alice, calendar + "e.ics", simple(uid))
    created = tokens(alice, calendar)
    assert created[0] != initial[0] and created[1] != initial[1]
    assert tokens(alice, calendar) == created, "tokens must be stable without changes"
    store(alice, calendar + "e.ics", event(uid, "20240111T100000Z"))
    updated = tokens(alice, calendar)
    assert updated[0] != created[0] and updated[1] != created[1]
    assert alice.delete(calendar + "e.ics").status_code == 204
    deleted = tokens(alice, calendar)
    assert deleted[0] != updated[0] and deleted[1] != updated[1]


def test_refused_put_changes_no_token(alice: httpx.Client, calendar: str) -> None:
    before = tokens(alice, calendar)
    assert put_ics(alice, calendar + "bad.ics", b"nonsense").status_code == 403
    assert tokens(alice, calendar) == before


def test_long_names_and_names_unlike_the_uid(alice: httpx.Client, calendar: str) -> None:
    """Any name is accepted and kept; href != UID; Outlook names run past 200 characters (clients.md §0.9)."""
    name = "Outlook-" + "a1b2c3d4" * 28 + ".ics"
    assert put_ics(alice, calendar + name, simple("something-else")).status_code == 201
    assert alice.get(calendar + name).status_code == 200
    spaced = "with%20space%20%26%20more.ics"
    assert put_ics(alice, calendar + spaced, simple()).status_code == 201
    assert alice.get(calendar + spaced).status_code == 200


# --- COPY and MOVE of calendar objects (the §5.3.2.1 preconditions hold for them too) ----------------------------


def copy_or_move(client: httpx.Client, server: LiveServer, method: str, source: str, target: str) -> httpx.Response:
    return client.request(method, source, headers={"Destination": server.base_url + target, "Overwrite": "F"})


def test_move_renames_inside_a_calendar(server: LiveServer, alice: httpx.Client, calendar: str) -> None:
    data = simple()
    store(alice, calendar + "old.ics", data)
    assert copy_or_move(alice, server, "MOVE", calendar + "old.ics", calendar + "new.ics").status_code == 201
    assert alice.get(calendar + "old.ics").status_code == 404
    assert alice.get(calendar + "new.ics").content == data


def test_copy_inside_a_calendar_is_a_uid_conflict(server: LiveServer, alice: httpx.Client, calendar: str) -> None:
    store(alice, calendar + "a.ics", simple())
    response = copy_or_move(alice, server, "COPY", calendar + "a.ics", calendar + "b.ics")
    conflict = assert_condition(response, 409, cal("no-uid-conflict"))
    assert (conflict.findtext(dav("href")) or "").strip() == calendar + "a.ics"
    assert alice.get(calendar + "b.ics").status_code == 404


def test_copy_to_another_calendar(server: LiveServer, alice: httpx.Client, calendar: str) -> None:
    data = simple()
    store(alice, calendar + "a.ics", data)
    other = new_calendar(alice)
    assert copy_or_move(alice, server, "COPY", calendar + "a.ics", other + "a.ics").status_code == 201
    assert alice.get(other + "a.ics").content == data
    assert alice.get(calendar + "a.ics").content == data


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_or_move_into_a_calendar_that_refuses_it(
    server: LiveServer, alice: httpx.Client, calendar: str, method: str
) -> None:
    store(alice, calendar + "a.ics", simple())
    tasks_only = new_calendar(alice, components=("VTODO",))
    response = copy_or_move(alice, server, method, calendar + "a.ics", tasks_only + "a.ics")
    assert_condition(response, 403, cal("supported-calendar-component"))
    assert alice.get(tasks_only + "a.ics").status_code == 404
    assert alice.get(calendar + "a.ics").status_code == 200, "a refused MOVE leaves the source in place"
