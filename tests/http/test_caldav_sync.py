"""sync-collection on calendars (RFC 6578, clients.md §0.6): full and incremental sync, deletions, limits, tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from tests.http import dav, unique
from tests.http.caldav_support import (
    assert_condition,
    cal,
    collection_props,
    event,
    new_calendar,
    report,
    store,
    sync_body,
    sync_token_of,
)
from tests.testing import LiveServer


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


def sync(
    client: httpx.Client,
    path: str,
    token: str = "",
    *,
    limit: int | None = None,
    depth: str | None = "1",
    prop: str = "<D:getetag/>",
) -> tuple[dict[str, str], str, bool]:
    """One sync-collection request: ``({member name: status or etag}, new token, truncated)``."""
    response = report(client, path, sync_body(token, prop, limit), depth=depth)
    assert response.status_code == 207, (response.status_code, response.text)
    root = etree.fromstring(response.content)
    members: dict[str, str] = {}
    truncated = False
    for node in root.findall(dav("response")):
        href = node.findtext(dav("href")) or ""
        status = (node.findtext(dav("status")) or "").strip()
        if href.rstrip("/") == path.rstrip("/"):
            assert status == "HTTP/1.1 507 Insufficient Storage", status
            truncated = True
            continue
        assert href.startswith(path), href
        name = href[len(path) :]
        assert name not in members, f"{name} reported twice"
        etag = node.findtext(f"{dav('propstat')}/{dav('prop')}/{dav('getetag')}")
        members[name] = etag if etag else status
    return members, sync_token_of(response), truncated


def fill(client: httpx.Client, calendar: str, count: int) -> dict[str, str]:
    return {
        f"e{n:03d}.ics": store(client, calendar + f"e{n:03d}.ics", event(unique("uid"), "20240101T100000Z"))
        for n in range(count)
    }


def test_initial_sync_lists_everything(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    etags = fill(alice, calendar, 5)
    members, token, truncated = sync(alice, calendar)
    assert members == etags
    assert not truncated
    assert token == collection_props(alice, calendar, dav("sync-token"))[dav("sync-token")].text


def test_empty_calendar_sync(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    members, token, _ = sync(alice, calendar)
    assert members == {}
    assert token
    again, same, _ = sync(alice, calendar, token)
    assert again == {} and same == token


def test_incremental_sync_reports_only_the_change(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    fill(alice, calendar, 5)
    _, token, _ = sync(alice, calendar)
    added = store(alice, calendar + "new.ics", event(unique("uid"), "20240102T100000Z"))
    members, token2, _ = sync(alice, calendar, token)
    assert members == {"new.ics": added}
    assert token2 != token
    nothing, token3, _ = sync(alice, calendar, token2)
    assert nothing == {} and token3 == token2


def test_modification_and_deletion(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    fill(alice, calendar, 3)
    _, token, _ = sync(alice, calendar)
    changed = store(alice, calendar + "e000.ics", event(unique("uid"), "20240105T100000Z"))
    assert alice.delete(calendar + "e001.ics").status_code == 204
    members, _, _ = sync(alice, calendar, token)
    assert members == {"e000.ics": changed, "e001.ics": "HTTP/1.1 404 Not Found"}


def test_created_then_deleted_between_syncs_is_at_most_a_404(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    _, token, _ = sync(alice, calendar)
    store(alice, calendar + "brief.ics", event(unique("uid"), "20240101T100000Z"))
    assert alice.delete(calendar + "brief.ics").status_code == 204
    members, _, _ = sync(alice, calendar, token)
    assert members in ({}, {"brief.ics": "HTTP/1.1 404 Not Found"})


def test_changes_in_another_calendar_do_not_appear(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    other = new_calendar(alice)
    _, token, _ = sync(alice, calendar)
    store(alice, other + "x.ics", event(unique("uid"), "20240101T100000Z"))
    members, _, _ = sync(alice, calendar, token)
    assert members == {}


@pytest.mark.parametrize("start_incremental", [False, True])
def test_limit_pages_through_everything_exactly_once(alice: httpx.Client, start_incremental: bool) -> None:
    calendar = new_calendar(alice)
    token = ""
    if start_incremental:
        _, token, _ = sync(alice, calendar)
    etags = fill(alice, calendar, 11)
    seen: dict[str, str] = {}
    pages = 0
    while True:
        members, token, truncated = sync(alice, calendar, token, limit=4)
        pages += 1
        assert len(members) <= 4
        assert not set(members) & set(seen), "a member was reported on two pages"
        seen.update(members)
        if not truncated:
            break
        assert pages < 10
    assert seen == etags
    assert pages == 3
    final, _, truncated = sync(alice, calendar, token)
    assert final == {} and not truncated


def test_limit_larger_than_the_changes_is_not_truncated(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    fill(alice, calendar, 3)
    members, _, truncated = sync(alice, calendar, limit=10)
    assert len(members) == 3 and not truncated


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_invalid_limit_is_4xx(alice: httpx.Client, limit: str) -> None:
    calendar = new_calendar(alice)
    body = sync_body().replace("<D:prop>", f"<D:limit><D:nresults>{limit}</D:nresults></D:limit><D:prop>")
    response = report(alice, calendar, body)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "http://gateway.invalid/ns/sync/",
        "http://example.com/ns/sync/1-1",
        "http://gateway.invalid/ns/sync/1-99999999999",
    ],
    ids=["garbage", "no-position", "foreign-server", "never-issued"],
)
def test_invalid_token_is_valid_sync_token(alice: httpx.Client, token: str) -> None:
    calendar = new_calendar(alice)
    response = report(alice, calendar, sync_body(token))
    assert_condition(response, 403, dav("valid-sync-token"))


def test_token_of_another_calendar_is_refused(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    other = new_calendar(alice)
    store(alice, other + "x.ics", event(unique("uid"), "20240101T100000Z"))
    _, foreign, _ = sync(alice, other)
    assert_condition(report(alice, calendar, sync_body(foreign)), 403, dav("valid-sync-token"))


def test_token_of_a_deleted_and_recreated_calendar_is_refused(alice: httpx.Client) -> None:
    """The client still holds x.ics; "no changes" would keep it forever, so the old token must be refused."""
    calendar = new_calendar(alice)
    store(alice, calendar + "x.ics", event(unique("uid"), "20240101T100000Z"))
    _, old, _ = sync(alice, calendar)
    assert alice.delete(calendar).status_code == 204
    assert alice.request("MKCALENDAR", calendar).status_code == 201
    assert_condition(report(alice, calendar, sync_body(old)), 403, dav("valid-sync-token"))


def test_expired_token_is_refused(server: LiveServer) -> None:
    """A token older than the compacted change log (on carol's account, so nobody else's tokens expire)."""
    with server.client("carol") as carol:
        calendar = new_calendar(carol, user="carol")
        store(carol, calendar + "a.ics", event(unique("uid"), "20240101T100000Z"))
        _, old, _ = sync(carol, calendar)
        store(carol, calendar + "b.ics", event(unique("uid"), "20240102T100000Z"))
        _, current, _ = sync(carol, calendar)
        asyncio.run(compact_account(server, "carol"))
        assert_condition(report(carol, calendar, sync_body(old)), 403, dav("valid-sync-token"))
        members, _, _ = sync(carol, calendar, current)
        assert members == {}
        everything, _, _ = sync(carol, calendar)
        assert set(everything) == {"a.ics", "b.ics"}


async def compact_account(server: LiveServer, user: str) -> None:
    from storage import open_store

    store_ = open_store(f"sqlite:///{server.data_dir}/gateway.db")
    await store_.open()
    try:
        async with store_.write() as tx:
            account = await tx.get_account(user)
            assert account is not None
            horizon = max(c.modseq for c in await tx.list_child_collections(f"calendars/{user}/"))
            await tx.compact_changes(account.id, horizon)
    finally:
        await store_.close()


@pytest.mark.parametrize("depth", ["1", "0", "infinity", None])
def test_depth_header_is_ignored(alice: httpx.Client, depth: str | None) -> None:
    """Thunderbird sends Depth: 1; a 400 emptied its calendars (clients.md §0.6)."""
    calendar = new_calendar(alice)
    etags = fill(alice, calendar, 2)
    members, _, _ = sync(alice, calendar, depth=depth)
    assert members == etags


def test_sync_with_calendar_data_and_content_type(alice: httpx.Client) -> None:
    """Thunderbird asks for getcontenttype + getetag; DAVx5 may ask calendar-data inline."""
    calendar = new_calendar(alice)
    data = event(unique("uid"), "20240101T100000Z")
    store(alice, calendar + "x.ics", data)
    prop = "<D:getetag/><D:getcontenttype/><C:calendar-data/>"
    response = report(alice, calendar, sync_body("", prop))
    root = etree.fromstring(response.content)
    (node,) = root.findall(dav("response"))
    props = node.find(f"{dav('propstat')}/{dav('prop')}")
    assert props is not None
    assert (props.findtext(dav("getcontenttype")) or "").startswith("text/calendar")
    assert (props.findtext(cal("calendar-data")) or "").encode() == data


def test_sync_level_infinite_is_refused_on_a_calendar(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    body = sync_body().replace("<D:sync-level>1</D:sync-level>", "<D:sync-level>infinite</D:sync-level>")
    response = report(alice, calendar, body)
    assert response.status_code in (207, 403)
