"""The change log behind sync tokens: deltas, tombstones, paging, expiry and compaction."""

from __future__ import annotations

import pytest

from storage.api import Account, Change, ChangeOp, ChangeSet, Collection, ItemWrite, Store, SyncTokenExpired
from tests.contract.helpers import delete, make_account, make_collection, modseq_of, put


async def changes(store: Store, collection_id: int, token: int, limit: int | None = None) -> ChangeSet:
    async with store.read() as tx:
        return await tx.changes_since(collection_id, token, limit)


def ops(changeset: ChangeSet) -> dict[str, ChangeOp]:
    return {change.name: change.op for change in changeset.changes}


def assert_ordered(changeset: ChangeSet) -> None:
    modseqs = [change.modseq for change in changeset.changes]
    assert modseqs == sorted(set(modseqs))
    assert len({change.name for change in changeset.changes}) == len(changeset.changes)


async def test_initial_sync_lists_current_items(store: Store, home: Collection) -> None:
    for name in ("a", "b", "c"):
        await put(store, home.id, name)
    await put(store, home.id, "a", b"modified")
    await delete(store, home.id, "b")
    everything = await changes(store, home.id, 0)
    assert_ordered(everything)
    assert ops(everything) == {"a": ChangeOp.CREATED, "c": ChangeOp.CREATED}
    assert not everything.more
    assert everything.token == await modseq_of(store, home.path)


async def test_initial_sync_of_empty_collection(store: Store, home: Collection) -> None:
    empty = await changes(store, home.id, 0)
    assert (empty.changes, empty.more) == ([], False)
    assert (await changes(store, home.id, empty.token)).changes == []


async def test_delta_reports_newest_state_per_name(store: Store, home: Collection) -> None:
    for name in ("keep", "modify", "remove", "churn"):
        await put(store, home.id, name)
    token = (await changes(store, home.id, 0)).token

    assert (await changes(store, home.id, token)).changes == []
    await put(store, home.id, "modify", b"v2")
    await put(store, home.id, "modify", b"v3")
    await delete(store, home.id, "remove")
    new = await put(store, home.id, "new")
    await put(store, home.id, "churn", b"v2")
    await delete(store, home.id, "churn")
    await put(store, home.id, "ephemeral")
    await delete(store, home.id, "ephemeral")

    delta = await changes(store, home.id, token)
    assert_ordered(delta)
    assert ops(delta) == {
        "modify": ChangeOp.MODIFIED,
        "remove": ChangeOp.DELETED,
        "new": ChangeOp.CREATED,
        "churn": ChangeOp.DELETED,
        "ephemeral": ChangeOp.DELETED,
    }
    assert [c.name for c in delta.changes] == ["modify", "remove", "new", "churn", "ephemeral"]
    assert Change("new", ChangeOp.CREATED, new.modseq) in delta.changes
    assert delta.token == await modseq_of(store, home.path)
    assert (await changes(store, home.id, delta.token)).changes == []


async def test_delta_cost_follows_changes_not_size(store: Store, home: Collection) -> None:
    async with store.write() as tx:
        for n in range(2000):
            await tx.put_item(home.id, ItemWrite(f"bulk-{n:04d}", b"x", "text/plain"))
    token = await modseq_of(store, home.path)
    await put(store, home.id, "bulk-1234", b"y")
    delta = await changes(store, home.id, token)
    assert [(c.name, c.op) for c in delta.changes] == [("bulk-1234", ChangeOp.MODIFIED)]


async def test_changes_are_per_collection(store: Store, account: Account, home: Collection) -> None:
    other = await make_collection(store, account.id, "files/alice/other/")
    token = (await changes(store, home.id, 0)).token
    await put(store, other.id, "elsewhere")
    await put(store, home.id, "here")
    assert ops(await changes(store, home.id, token)) == {"here": ChangeOp.CREATED}
    assert ops(await changes(store, other.id, 0)) == {"elsewhere": ChangeOp.CREATED}


@pytest.mark.parametrize("start", ["initial", "delta"])
async def test_paging_with_interleaved_writes(store: Store, home: Collection, start: str) -> None:
    """Pages resume from their token; replaying every page reproduces the final state, untouched items once."""
    replica: set[str] = set()
    token = 0
    if start == "delta":
        await put(store, home.id, "before")
        replica.add("before")
        token = (await changes(store, home.id, 0)).token
    for n in range(30):
        await put(store, home.id, f"i{n:02d}", str(n).encode())
    touched = {"before"}
    reported: list[str] = []
    pages = 0
    while True:
        page = await changes(store, home.id, token, limit=4)
        pages += 1
        assert_ordered(page)
        assert len(page.changes) <= 4
        assert all(change.modseq > token for change in page.changes)
        if page.more:
            assert page.token == page.changes[-1].modseq
        for change in page.changes:
            reported.append(change.name)
            if change.op is ChangeOp.DELETED:
                replica.discard(change.name)
            else:
                replica.add(change.name)
        token = page.token
        if pages == 2:
            # Already reported, not yet reported, brand new, and deleted before being reported.
            await put(store, home.id, reported[0], b"changed early")
            await put(store, home.id, "i29", b"changed late")
            await put(store, home.id, "late-arrival")
            await delete(store, home.id, "i28")
            touched |= {reported[0], "i29", "late-arrival", "i28"}
        if not page.more:
            break
    assert pages >= 8
    async with store.read() as tx:
        current = {item.name for item in await tx.list_items(home.id)}
    assert replica == current
    for name in current - touched:
        assert reported.count(name) == 1, name
    assert token == await modseq_of(store, home.path)
    assert (await changes(store, home.id, token)).changes == []


async def test_token_from_the_future_expired(store: Store, home: Collection) -> None:
    await put(store, home.id, "a")
    token = (await changes(store, home.id, 0)).token
    with pytest.raises(SyncTokenExpired):
        await changes(store, home.id, token + 1000)


async def test_compaction_expires_old_tokens_only(store: Store, account: Account, home: Collection) -> None:
    bob = await make_collection(store, (await make_account(store, "bob")).id, "files/bob/")
    await put(store, bob.id, "untouched")
    await put(store, home.id, "a")
    await put(store, home.id, "b")
    old = await modseq_of(store, home.path)
    bob_token = await modseq_of(store, bob.path)
    await put(store, home.id, "a", b"v2")
    await delete(store, home.id, "b")
    await put(store, home.id, "c")
    horizon = await modseq_of(store, home.path)
    await put(store, home.id, "d")
    await delete(store, home.id, "c")

    async with store.write() as tx:
        await tx.compact_changes(account.id, horizon)

    with pytest.raises(SyncTokenExpired):
        await changes(store, home.id, old)
    assert (await changes(store, bob.id, bob_token)).changes == []
    assert ops(await changes(store, home.id, horizon)) == {"d": ChangeOp.CREATED, "c": ChangeOp.DELETED}
    latest = await modseq_of(store, home.path)
    assert (await changes(store, home.id, latest)).changes == []
    assert ops(await changes(store, home.id, 0)) == {"a": ChangeOp.CREATED, "d": ChangeOp.CREATED}
    await put(store, home.id, "e")
    assert ops(await changes(store, home.id, latest)) == {"e": ChangeOp.CREATED}


async def test_modseq_strictly_increasing_across_collections(store: Store, account: Account, home: Collection) -> None:
    calendar = await make_collection(store, account.id, "calendars/alice/", "calendar")
    targets = [home, calendar, home, home, calendar]
    modseqs = [(await put(store, target.id, f"n{n}")).modseq for n, target in enumerate(targets)]
    assert modseqs == sorted(set(modseqs))
    assert await modseq_of(store, home.path) == modseqs[3]
    assert await modseq_of(store, calendar.path) == modseqs[4]
    assert ops(await changes(store, home.id, modseqs[1])) == {"n2": ChangeOp.CREATED, "n3": ChangeOp.CREATED}
