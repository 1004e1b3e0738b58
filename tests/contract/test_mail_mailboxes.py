"""Mailboxes: the tree, unique sibling names and roles, deletion with or without mail, and the change log."""

from __future__ import annotations

import pytest

from storage.api import Account, NotFound, Store
from storage.mail import (
    MailboxHasChildren,
    MailboxHasEmail,
    MailboxUpdate,
    MailboxWrite,
    NameConflict,
)
from tests.contract.helpers import (
    fetch_email,
    fetch_mailbox,
    make_account,
    make_email,
    make_mailbox,
    object_changes,
    type_state,
)


async def update(store: Store, account_id: int, mailbox_id: int, **changes: object) -> None:
    async with store.write() as tx:
        await tx.update_mailbox(account_id, mailbox_id, MailboxUpdate(changes))


async def test_create_list_get_and_role(store: Store, account: Account) -> None:
    async with store.write() as tx:
        inbox = await tx.create_mailbox(account.id, MailboxWrite("Inbox", role="inbox", is_subscribed=True))
        work = await tx.create_mailbox(account.id, MailboxWrite("Work", sort_order=5))
        sub = await tx.create_mailbox(account.id, MailboxWrite("Projects", parent_id=work.id))
    assert (inbox.name, inbox.role, inbox.is_subscribed, inbox.parent_id) == ("Inbox", "inbox", True, None)
    assert (work.sort_order, work.is_subscribed, work.role) == (5, False, None)
    assert sub.parent_id == work.id
    assert (inbox.total_emails, inbox.unread_emails, inbox.total_threads, inbox.unread_threads) == (0, 0, 0, 0)
    assert inbox.account_id == account.id
    async with store.read() as tx:
        assert await tx.list_mailboxes(account.id) == [inbox, work, sub]
        assert await tx.get_mailboxes(account.id, [sub.id, 9999, inbox.id]) == [sub, inbox]
        assert await tx.mailbox_by_role(account.id, "inbox") == inbox
        assert await tx.mailbox_by_role(account.id, "trash") is None


async def test_mailboxes_are_per_account(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    mine = await make_mailbox(store, account.id, "Inbox", role="inbox")
    bobs = await make_mailbox(store, bob.id, "Inbox", role="inbox")
    async with store.read() as tx:
        assert await tx.list_mailboxes(bob.id) == [bobs]
        assert await tx.get_mailboxes(bob.id, [mine.id]) == []
        assert await tx.mailbox_by_role(bob.id, "inbox") == bobs
    with pytest.raises(NotFound):
        await make_mailbox(store, bob.id, "Child", parent_id=mine.id)
    with pytest.raises(NotFound):
        await update(store, bob.id, mine.id, name="Mine now")
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.delete_mailbox(bob.id, mine.id, remove_emails=True)


async def test_sibling_names_are_unique(store: Store, account: Account) -> None:
    work = await make_mailbox(store, account.id, "Work")
    home = await make_mailbox(store, account.id, "Home")
    await make_mailbox(store, account.id, "Archive", parent_id=work.id)
    await make_mailbox(store, account.id, "Archive", parent_id=home.id)
    await make_mailbox(store, account.id, "Archive")
    await make_mailbox(store, account.id, "archive")
    for parent in (None, work.id):
        with pytest.raises(NameConflict):
            await make_mailbox(store, account.id, "Archive", parent_id=parent)
    with pytest.raises(NameConflict):
        await update(store, account.id, home.id, name="Work")
    await make_mailbox(store, (await make_account(store, "bob")).id, "Work")


async def test_roles_are_unique(store: Store, account: Account) -> None:
    await make_mailbox(store, account.id, "Trash", role="trash")
    other = await make_mailbox(store, account.id, "Bin")
    with pytest.raises(NameConflict):
        await make_mailbox(store, account.id, "Deleted", role="trash")
    with pytest.raises(NameConflict):
        await update(store, account.id, other.id, role="trash")
    await make_mailbox(store, (await make_account(store, "bob")).id, "Trash", role="trash")


async def test_create_errors(store: Store, account: Account) -> None:
    with pytest.raises(NotFound):
        await make_mailbox(store, account.id, "Orphan", parent_id=12345)
    with pytest.raises(NotFound):
        await make_mailbox(store, 999, "Nobody's")


async def test_update_changes_only_given_fields(store: Store, account: Account) -> None:
    parent = await make_mailbox(store, account.id, "Parent")
    box = await make_mailbox(store, account.id, "Box", role="archive")
    await update(store, account.id, box.id, sort_order=3, is_subscribed=True)
    moved = await fetch_mailbox(store, account.id, box.id)
    assert (moved.name, moved.role, moved.sort_order, moved.is_subscribed) == ("Box", "archive", 3, True)
    await update(store, account.id, box.id, parent_id=parent.id, name="Renamed", role=None)
    moved = await fetch_mailbox(store, account.id, box.id)
    assert (moved.parent_id, moved.name, moved.role, moved.sort_order) == (parent.id, "Renamed", None, 3)
    await update(store, account.id, box.id, parent_id=None)
    assert (await fetch_mailbox(store, account.id, box.id)).parent_id is None
    await update(store, account.id, box.id, name="Renamed")


async def test_update_errors(store: Store, account: Account) -> None:
    top = await make_mailbox(store, account.id, "Top")
    middle = await make_mailbox(store, account.id, "Middle", parent_id=top.id)
    bottom = await make_mailbox(store, account.id, "Bottom", parent_id=middle.id)
    for target in (top.id, middle.id, bottom.id):
        with pytest.raises(ValueError):
            await update(store, account.id, top.id, parent_id=target)
    with pytest.raises(ValueError):
        await update(store, account.id, top.id, colour="red")
    with pytest.raises(NotFound):
        await update(store, account.id, top.id, parent_id=4242)
    with pytest.raises(NotFound):
        await update(store, account.id, 4242, name="x")
    await update(store, account.id, bottom.id, parent_id=top.id)
    assert (await fetch_mailbox(store, account.id, bottom.id)).parent_id == top.id


async def test_delete_refuses_children_and_mail(store: Store, account: Account) -> None:
    parent = await make_mailbox(store, account.id, "Parent")
    child = await make_mailbox(store, account.id, "Child", parent_id=parent.id)
    await make_email(store, account.id, [child.id])
    for remove_emails in (False, True):
        with pytest.raises(MailboxHasChildren):
            async with store.write() as tx:
                await tx.delete_mailbox(account.id, parent.id, remove_emails=remove_emails)
    with pytest.raises(MailboxHasEmail):
        async with store.write() as tx:
            await tx.delete_mailbox(account.id, child.id, remove_emails=False)
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.delete_mailbox(account.id, 4242, remove_emails=False)


async def test_delete_empty_mailbox(store: Store, account: Account) -> None:
    box = await make_mailbox(store, account.id, "Box", role="junk")
    state = await type_state(store, account.id, "Mailbox")
    async with store.write() as tx:
        await tx.delete_mailbox(account.id, box.id, remove_emails=False)
        assert await tx.get_mailboxes(account.id, [box.id]) == []
        assert await tx.mailbox_by_role(account.id, "junk") is None
    delta = await object_changes(store, account.id, "Mailbox", state)
    assert [(c.id, c.destroyed) for c in delta.changes] == [(str(box.id), True)]
    await make_mailbox(store, account.id, "Box", role="junk")


async def test_delete_with_mail(store: Store, account: Account) -> None:
    doomed = await make_mailbox(store, account.id, "Doomed")
    kept = await make_mailbox(store, account.id, "Kept")
    only_here = await make_email(store, account.id, [doomed.id], message_id="a@x")
    reply = await make_email(store, account.id, [doomed.id], message_id="b@x", references=("a@x",), subject="Re: hello")
    shared = await make_email(store, account.id, [doomed.id, kept.id], subject="other")
    assert reply.thread_id == only_here.thread_id
    states = {name: await type_state(store, account.id, name) for name in ("Email", "Thread", "Mailbox")}
    async with store.write() as tx:
        await tx.delete_mailbox(account.id, doomed.id, remove_emails=True)
        assert await tx.get_emails(account.id, [only_here.id, reply.id]) == []
        (survivor,) = await tx.get_emails(account.id, [shared.id])
        assert await tx.get_threads(account.id, [only_here.thread_id]) == {}
    assert survivor.mailbox_ids == {kept.id}
    assert survivor.modseq > shared.modseq
    emails = await object_changes(store, account.id, "Email", states["Email"])
    assert {(c.id, c.destroyed) for c in emails.changes} == {
        (str(only_here.id), True),
        (str(reply.id), True),
        (str(shared.id), False),
    }
    threads = await object_changes(store, account.id, "Thread", states["Thread"])
    assert [(c.id, c.destroyed) for c in threads.changes] == [(str(only_here.thread_id), True)]
    mailboxes = await object_changes(store, account.id, "Mailbox", states["Mailbox"])
    assert [(c.id, c.destroyed) for c in mailboxes.changes] == [(str(doomed.id), True)]
    kept_now = await fetch_mailbox(store, account.id, kept.id)
    assert (kept_now.total_emails, kept_now.total_threads) == (1, 1)
    assert await fetch_email(store, account.id, only_here.id) is None


async def test_mailbox_writes_are_logged(store: Store, account: Account) -> None:
    assert await type_state(store, account.id, "Mailbox") == 0
    box = await make_mailbox(store, account.id, "Box")
    created = await type_state(store, account.id, "Mailbox")
    assert created > 0
    await update(store, account.id, box.id, name="Renamed")
    delta = await object_changes(store, account.id, "Mailbox", created)
    assert [(c.id, c.created, c.destroyed, c.counts_only) for c in delta.changes] == [
        (str(box.id), False, False, False)
    ]
    everything = await object_changes(store, account.id, "Mailbox", 0)
    assert [(c.id, c.created) for c in everything.changes] == [(str(box.id), True)]
    with pytest.raises(NameConflict):
        await make_mailbox(store, account.id, "Renamed")
    assert await type_state(store, account.id, "Mailbox") == delta.new_state


async def test_failed_writes_leave_nothing_behind(store: Store, account: Account) -> None:
    """Errors are raised before any write, so a caller that catches them may go on and commit."""
    box = await make_mailbox(store, account.id, "Box")
    await make_mailbox(store, account.id, "Taken")
    state = await type_state(store, account.id, "Mailbox")
    async with store.write() as tx:
        with pytest.raises(NameConflict):
            await tx.create_mailbox(account.id, MailboxWrite("Box"))
        with pytest.raises(NameConflict):
            await tx.update_mailbox(account.id, box.id, MailboxUpdate({"name": "Taken", "sort_order": 9}))
        with pytest.raises(ValueError):
            await tx.update_mailbox(account.id, box.id, MailboxUpdate({"parent_id": box.id}))
    assert await type_state(store, account.id, "Mailbox") == state
    assert (await fetch_mailbox(store, account.id, box.id)).sort_order == 0
