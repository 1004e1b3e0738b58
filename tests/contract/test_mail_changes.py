"""The change log seen per JMAP type (states, /changes paging, expiry) and typed JSON objects."""

from __future__ import annotations

import pytest

from storage.api import Account, Collection, NotFound, Store, SyncTokenExpired
from storage.mail import EmailUpdate, MailboxUpdate, ObjectChange
from tests.contract.helpers import (
    make_account,
    make_email,
    make_mailbox,
    modseq_of,
    object_changes,
    put,
    type_state,
)


async def log(store: Store, account_id: int, type_name: str, object_id: str, op: str) -> int:
    async with store.write() as tx:
        return await tx.log_object_change(account_id, type_name, object_id, op)


def summary(changes: list[ObjectChange]) -> list[tuple[str, bool, bool, bool]]:
    return [(c.id, c.created, c.destroyed, c.counts_only) for c in changes]


async def test_type_state_is_the_newest_entry_of_the_type(store: Store, account: Account) -> None:
    assert await type_state(store, account.id, "Widget") == 0
    first = await log(store, account.id, "Widget", "1", "created")
    other = await log(store, account.id, "Gadget", "1", "created")
    assert other > first
    assert await type_state(store, account.id, "Widget") == first
    assert await type_state(store, account.id, "Gadget") == other
    bob = await make_account(store, "bob")
    assert await type_state(store, bob.id, "Widget") == 0
    with pytest.raises(ValueError):
        await log(store, account.id, "Widget", "1", "renamed")
    with pytest.raises(NotFound):
        await type_state(store, 4242, "Widget")


async def test_created_modified_destroyed_and_counts(store: Store, account: Account) -> None:
    await log(store, account.id, "Widget", "old", "created")
    await log(store, account.id, "Widget", "gone", "created")
    since = await type_state(store, account.id, "Widget")
    await log(store, account.id, "Widget", "old", "modified")
    await log(store, account.id, "Widget", "new", "created")
    await log(store, account.id, "Widget", "new", "modified")
    await log(store, account.id, "Widget", "gone", "deleted")
    await log(store, account.id, "Widget", "brief", "created")
    await log(store, account.id, "Widget", "brief", "deleted")
    await log(store, account.id, "Widget", "counted", "counts")
    await log(store, account.id, "Widget", "counted", "counts")
    await log(store, account.id, "Widget", "mixed", "counts")
    await log(store, account.id, "Widget", "mixed", "modified")
    await log(store, account.id, "Gadget", "old", "deleted")
    delta = await object_changes(store, account.id, "Widget", since)
    assert summary(delta.changes) == [
        ("old", False, False, False),
        ("new", True, False, False),
        ("gone", False, True, False),
        ("brief", True, True, False),
        ("counted", False, False, True),
        ("mixed", False, False, False),
    ]
    assert (delta.new_state, delta.has_more) == (await type_state(store, account.id, "Widget"), False)
    assert (await object_changes(store, account.id, "Widget", delta.new_state)).changes == []


async def test_paging_by_distinct_ids(store: Store, account: Account) -> None:
    for name in ("a", "b", "a", "c", "b", "d", "e"):
        await log(store, account.id, "Widget", name, "modified")
    await log(store, account.id, "Gadget", "z", "modified")
    first = await object_changes(store, account.id, "Widget", 0, max_changes=2)
    assert [c.id for c in first.changes] == ["a", "b"] and first.has_more
    second = await object_changes(store, account.id, "Widget", first.new_state, max_changes=2)
    assert [c.id for c in second.changes] == ["c", "b"] and second.has_more
    third = await object_changes(store, account.id, "Widget", second.new_state, max_changes=2)
    assert [c.id for c in third.changes] == ["d", "e"] and not third.has_more
    assert third.new_state == await type_state(store, account.id, "Widget")
    assert third.new_state < await type_state(store, account.id, "Gadget")
    exact = await object_changes(store, account.id, "Widget", 0, max_changes=5)
    assert ([c.id for c in exact.changes], exact.has_more) == (["a", "b", "c", "d", "e"], False)


async def test_paging_replays_to_the_current_state(store: Store, account: Account) -> None:
    for n in range(25):
        await log(store, account.id, "Widget", str(n % 9), "created" if n < 9 else "modified")
    state, seen, pages = 0, [], 0
    while True:
        page = await object_changes(store, account.id, "Widget", state, max_changes=3)
        assert len(page.changes) <= 3 and page.new_state >= state
        seen += [c.id for c in page.changes]
        state, pages = page.new_state, pages + 1
        if pages == 2:
            await log(store, account.id, "Widget", "late", "created")
        if not page.has_more:
            break
    assert set(seen) == {*map(str, range(9)), "late"}
    assert state == await type_state(store, account.id, "Widget")


async def test_expired_states(store: Store, account: Account) -> None:
    for n in range(6):
        await log(store, account.id, "Widget", str(n), "created")
    current = await type_state(store, account.id, "Widget")
    for bad in (-1, current + 1):
        with pytest.raises(SyncTokenExpired):
            await object_changes(store, account.id, "Widget", bad)
    horizon = current - 2
    async with store.write() as tx:
        await tx.compact_changes(account.id, horizon)
    for bad in (0, 1, horizon - 1):
        with pytest.raises(SyncTokenExpired):
            await object_changes(store, account.id, "Widget", bad)
    assert [c.id for c in (await object_changes(store, account.id, "Widget", horizon)).changes] == ["4", "5"]
    # A type whose entries were all compacted reports the horizon: a state that can still be answered.
    assert await type_state(store, account.id, "Gadget") == horizon
    assert (await object_changes(store, account.id, "Gadget", horizon)).new_state == horizon


async def test_mail_and_dav_share_one_modseq(store: Store, account: Account, home: Collection) -> None:
    await put(store, home.id, "file")
    token = await modseq_of(store, home.path)
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(store, account.id, [inbox.id])
    assert email.modseq > token
    async with store.read() as tx:
        assert (await tx.changes_since(home.id, token)).changes == [], "JMAP entries stay out of DAV sync"
        assert [c.name for c in (await tx.changes_since(home.id, 0)).changes] == ["file"]
    assert await type_state(store, account.id, "Email") == email.modseq
    await put(store, home.id, "other")
    assert (await object_changes(store, account.id, "Email", email.modseq)).changes == []


async def test_every_entry_takes_its_own_modseq(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    archive = await make_mailbox(store, account.id, "Archive")
    email = await make_email(store, account.id, [inbox.id], delivered=True)
    states = [await type_state(store, account.id, name) for name in ("Email", "Thread", "Mailbox", "EmailDelivery")]
    assert len(set(states)) == 4
    async with store.write() as tx:
        await tx.update_email(account.id, email.id, EmailUpdate(mailbox_ids=frozenset({archive.id})))
        await tx.update_mailbox(account.id, inbox.id, MailboxUpdate({"sort_order": 1}))
    delta = await object_changes(store, account.id, "Mailbox", states[2])
    assert sorted(summary(delta.changes)) == [
        (str(inbox.id), False, False, False),
        (str(archive.id), False, False, True),
    ]


async def test_typed_objects(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    async with store.write() as tx:
        first = await tx.create_object(account.id, "Identity", {"name": "Alice", "email": "a@x"})
        second = await tx.create_object(account.id, "Identity", {"name": "Work"})
        vacation = await tx.create_object(account.id, "VacationResponse", {"isEnabled": False})
    assert first.data == {"name": "Alice", "email": "a@x"}
    assert first.type == "Identity"
    page = await object_changes(store, account.id, "Identity", 0, max_changes=1)
    assert (summary(page.changes), page.new_state) == ([(str(first.id), True, False, False)], first.modseq)
    async with store.read() as tx:
        assert await tx.list_objects(account.id, "Identity") == [first, second]
        assert await tx.list_objects(account.id, "VacationResponse") == [vacation]
        assert await tx.get_objects(account.id, "Identity", [second.id, vacation.id, 4242, first.id]) == [
            second,
            first,
        ]
        assert await tx.list_objects(bob.id, "Identity") == []
        assert await tx.get_objects(bob.id, "Identity", [first.id]) == []
    state = await type_state(store, account.id, "Identity")
    async with store.write() as tx:
        updated = await tx.update_object(account.id, "Identity", first.id, {"name": "Alice B."})
        await tx.delete_object(account.id, "Identity", second.id)
    assert updated.data == {"name": "Alice B."} and updated.modseq > first.modseq
    delta = await object_changes(store, account.id, "Identity", state)
    assert summary(delta.changes) == [(str(first.id), False, False, False), (str(second.id), False, True, False)]
    assert await type_state(store, account.id, "VacationResponse") == vacation.modseq
    async with store.write() as tx:
        for wrong in ((account.id, "Identity", second.id), (account.id, "VacationResponse", first.id)):
            with pytest.raises(NotFound):
                await tx.update_object(*wrong, {"x": 1})
            with pytest.raises(NotFound):
                await tx.delete_object(*wrong)
        with pytest.raises(NotFound):
            await tx.delete_object(bob.id, "Identity", first.id)
    async with store.read() as tx:
        assert await tx.list_objects(account.id, "Identity") == [updated]


async def test_changes_cost_follows_changes(store: Store, account: Account) -> None:
    async with store.write() as tx:
        for n in range(3000):
            await tx.log_object_change(account.id, "Widget", str(n), "created")
    state = await type_state(store, account.id, "Widget")
    await log(store, account.id, "Widget", "7", "modified")
    delta = await object_changes(store, account.id, "Widget", state)
    assert summary(delta.changes) == [("7", False, False, False)]
