"""Emails: create, read, update, destroy, threading by message id and base subject, and account deletion."""

from __future__ import annotations

import sqlite3

import pytest

from storage.api import Account, NotFound, Store
from storage.mail import BlobInfo, EmailCondition, EmailQuery, EmailUpdate, MailboxUpdate
from storage.sqlite.store import SqliteStore
from tests.contract.helpers import (
    email_write,
    fetch_email,
    make_account,
    make_email,
    make_mailbox,
    object_changes,
    type_state,
)


async def test_create_and_get(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    async with store.write() as tx:
        blob = await tx.put_blob(account.id, b"Subject: hi\r\n\r\nbody")
        created = await tx.create_email(
            account.id, email_write(blob, [inbox.id], subject="hi", keywords=["$seen", "$flagged"], received_at=5.0)
        )
    assert created.blob_id == blob.blob_id
    assert created.size == blob.size
    assert created.mailbox_ids == {inbox.id}
    assert created.keywords == {"$seen", "$flagged"}
    assert created.received_at == 5.0
    assert created.summary == {"subject": "hi", "from": [{"email": "alice@example.org"}], "preview": ""}
    assert created.account_id == account.id
    assert created.modseq == await type_state(store, account.id, "Email")
    assert await fetch_email(store, account.id, created.id) == created


async def test_get_emails_in_order_asked(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    first = await make_email(store, account.id, [inbox.id])
    second = await make_email(store, account.id, [inbox.id], subject="two")
    bob = await make_account(store, "bob")
    async with store.read() as tx:
        assert await tx.get_emails(account.id, [second.id, 777, first.id]) == [second, first]
        assert await tx.get_emails(bob.id, [first.id]) == []
        assert await tx.get_emails(account.id, []) == []


async def test_create_errors_write_nothing(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    bob = await make_account(store, "bob")
    bobs_box = await make_mailbox(store, bob.id, "Inbox")
    async with store.write() as tx:
        blob = await tx.put_blob(account.id, b"raw")
        with pytest.raises(ValueError):
            await tx.create_email(account.id, email_write(blob, []))
        for boxes in ([4242], [inbox.id, bobs_box.id]):
            with pytest.raises(NotFound):
                await tx.create_email(account.id, email_write(blob, boxes))
        with pytest.raises(NotFound):
            await tx.create_email(account.id, email_write(BlobInfo("Bmissing", 3), [inbox.id]))
    assert await type_state(store, account.id, "Email") == 0
    assert await type_state(store, account.id, "Thread") == 0
    async with store.read() as tx:
        assert (await tx.get_mailboxes(account.id, [inbox.id]))[0].total_emails == 0
        assert (await tx.query_emails(account.id, EmailQuery())).ids == []


async def test_update_keywords_and_mailboxes(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    archive = await make_mailbox(store, account.id, "Archive")
    email = await make_email(store, account.id, [inbox.id], keywords=["$draft"])
    async with store.write() as tx:
        flagged = await tx.update_email(account.id, email.id, EmailUpdate(keywords=frozenset({"$flagged"})))
    assert (flagged.keywords, flagged.mailbox_ids) == ({"$flagged"}, {inbox.id})
    assert flagged.modseq > email.modseq
    async with store.write() as tx:
        moved = await tx.update_email(account.id, email.id, EmailUpdate(mailbox_ids=frozenset({archive.id})))
    assert (moved.keywords, moved.mailbox_ids) == ({"$flagged"}, {archive.id})
    assert await fetch_email(store, account.id, email.id) == moved
    async with store.read() as tx:
        in_inbox = await tx.query_emails(account.id, EmailQuery(filter=EmailCondition(in_mailbox=inbox.id)))
        flagged_now = await tx.query_emails(account.id, EmailQuery(filter=EmailCondition(has_keyword="$flagged")))
        drafts = await tx.query_emails(account.id, EmailQuery(filter=EmailCondition(has_keyword="$draft")))
    assert (in_inbox.ids, flagged_now.ids, drafts.ids) == ([], [email.id], [])


async def test_update_errors_and_no_op(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(store, account.id, [inbox.id], keywords=["$seen"])
    state = await type_state(store, account.id, "Email")
    async with store.write() as tx:
        with pytest.raises(ValueError):
            await tx.update_email(account.id, email.id, EmailUpdate(mailbox_ids=frozenset()))
        with pytest.raises(NotFound):
            await tx.update_email(account.id, email.id, EmailUpdate(mailbox_ids=frozenset({inbox.id, 4242})))
        with pytest.raises(NotFound):
            await tx.update_email(account.id, 4242, EmailUpdate(keywords=frozenset()))
        same = await tx.update_email(account.id, email.id, EmailUpdate(frozenset({"$seen"}), frozenset({inbox.id})))
        assert same == email
        assert await tx.update_email(account.id, email.id, EmailUpdate()) == email
    assert await type_state(store, account.id, "Email") == state
    assert await fetch_email(store, account.id, email.id) == email


async def test_destroy(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(store, account.id, [inbox.id], message_id="gone@x", body="searchable words")
    kept = await make_email(store, account.id, [inbox.id], subject="kept")
    async with store.write() as tx:
        await tx.destroy_email(account.id, email.id)
        with pytest.raises(NotFound):
            await tx.destroy_email(account.id, email.id)
    async with store.read() as tx:
        assert await tx.get_emails(account.id, [email.id, kept.id]) == [kept]
        assert await tx.email_ids_by_message_id(account.id, "gone@x") == []
        assert await tx.get_threads(account.id, [email.thread_id]) == {}
        found = await tx.query_emails(account.id, EmailQuery(filter=EmailCondition(body="searchable")))
        assert found.ids == []
    bob = await make_account(store, "bob")
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.destroy_email(bob.id, kept.id)


async def test_email_writes_are_logged(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    start = await type_state(store, account.id, "Mailbox")
    email = await make_email(store, account.id, [inbox.id], message_id="1@x")
    assert await type_state(store, account.id, "EmailDelivery") == 0
    delivered = await make_email(store, account.id, [inbox.id], message_id="2@x", references=("1@x",), delivered=True)
    assert await type_state(store, account.id, "EmailDelivery") > 0
    emails = await object_changes(store, account.id, "Email", 0)
    assert [(c.id, c.created) for c in emails.changes] == [(str(email.id), True), (str(delivered.id), True)]
    threads = await object_changes(store, account.id, "Thread", 0)
    assert [(c.id, c.created) for c in threads.changes] == [(str(email.thread_id), True)]
    state = {name: await type_state(store, account.id, name) for name in ("Email", "Thread")}
    async with store.write() as tx:
        await tx.update_email(account.id, email.id, EmailUpdate(keywords=frozenset({"$flagged"})))
    assert await type_state(store, account.id, "Thread") == state["Thread"], "keywords leave threads alone"
    changed = await object_changes(store, account.id, "Email", state["Email"])
    assert [(c.id, c.created, c.destroyed) for c in changed.changes] == [(str(email.id), False, False)]
    async with store.write() as tx:
        await tx.destroy_email(account.id, email.id)
    threads = await object_changes(store, account.id, "Thread", state["Thread"])
    assert [(c.id, c.created, c.destroyed) for c in threads.changes] == [(str(email.thread_id), False, False)]
    mailboxes = await object_changes(store, account.id, "Mailbox", start)
    assert [(c.id, c.counts_only) for c in mailboxes.changes] == [(str(inbox.id), True)]


async def test_threading_by_message_id_and_subject(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    root = await make_email(store, account.id, [inbox.id], subject="Plans", message_id="root@x", received_at=10)
    reply = await make_email(
        store, account.id, [inbox.id], subject="Re: Plans", message_id="reply@x", references=("root@x",), received_at=30
    )
    # Refers only to the reply: joins through the reply's own id.
    late = await make_email(
        store, account.id, [inbox.id], subject="RE: plans", message_id="late@x", references=("reply@x",), received_at=20
    )
    hijack = await make_email(store, account.id, [inbox.id], subject="Other", message_id="h@x", references=("root@x",))
    unrelated = await make_email(store, account.id, [inbox.id], subject="Plans", message_id="new@x")
    # The parent arrives after its child: the child's reference is recorded and the parent joins it.
    child = await make_email(store, account.id, [inbox.id], subject="Re: Lunch", references=("lunch@x",))
    parent = await make_email(store, account.id, [inbox.id], subject="Lunch", message_id="lunch@x")
    assert reply.thread_id == late.thread_id == root.thread_id
    assert hijack.thread_id != root.thread_id
    assert unrelated.thread_id not in (root.thread_id, hijack.thread_id)
    assert parent.thread_id == child.thread_id != root.thread_id
    async with store.read() as tx:
        threads = await tx.get_threads(account.id, [root.thread_id, parent.thread_id, 4242])
    assert threads == {root.thread_id: [root.id, late.id, reply.id], parent.thread_id: [child.id, parent.id]}


async def test_thread_survives_while_it_has_email(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    root = await make_email(store, account.id, [inbox.id], message_id="r@x")
    reply = await make_email(store, account.id, [inbox.id], message_id="s@x", references=("r@x",))
    async with store.write() as tx:
        await tx.destroy_email(account.id, root.id)
    later = await make_email(store, account.id, [inbox.id], references=("r@x",))
    assert later.thread_id == reply.thread_id, "the reply still records the reference"
    state = await type_state(store, account.id, "Thread")
    async with store.write() as tx:
        await tx.destroy_email(account.id, reply.id)
        await tx.destroy_email(account.id, later.id)
    delta = await object_changes(store, account.id, "Thread", state)
    assert [(c.id, c.destroyed) for c in delta.changes] == [(str(reply.thread_id), True)]
    again = await make_email(store, account.id, [inbox.id], references=("r@x",))
    assert again.thread_id != reply.thread_id, "thread ids are never reused"


async def test_threads_are_per_account(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    mine = await make_email(store, account.id, [(await make_mailbox(store, account.id, "Inbox")).id], message_id="m@x")
    bobs = await make_email(store, bob.id, [(await make_mailbox(store, bob.id, "Inbox")).id], references=("m@x",))
    assert bobs.thread_id != mine.thread_id
    async with store.read() as tx:
        assert await tx.get_threads(bob.id, [mine.thread_id]) == {}
        assert await tx.email_ids_by_message_id(bob.id, "m@x") == []


async def test_email_ids_by_message_id(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    first = await make_email(store, account.id, [inbox.id], message_id="dup@x")
    second = await make_email(store, account.id, [inbox.id], message_id="dup@x")
    await make_email(store, account.id, [inbox.id], message_id="other@x", references=("dup@x",))
    async with store.read() as tx:
        assert await tx.email_ids_by_message_id(account.id, "dup@x") == [first.id, second.id]
        assert await tx.email_ids_by_message_id(account.id, "none@x") == []
    assert first.thread_id == second.thread_id


async def test_deleting_the_account_removes_its_mail(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox", role="inbox")
    child = await make_mailbox(store, account.id, "Child", parent_id=inbox.id)
    email = await make_email(store, account.id, [inbox.id, child.id], message_id="a@x", body="unique words")
    async with store.write() as tx:
        await tx.create_object(account.id, "Identity", {"name": "Alice"})
        await tx.update_mailbox(account.id, child.id, MailboxUpdate({"name": "Renamed"}))
        await tx.delete_account(account.name)
    async with store.read() as tx:
        assert await tx.get_emails(account.id, [email.id]) == []
        assert await tx.list_mailboxes(account.id) == []
        assert await tx.read_blob(account.id, email.blob_id) is None
        assert await tx.list_objects(account.id, "Identity") == []
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as raw:
            for table in ("emails", "email_fts", "email_mailboxes", "email_keywords", "message_ids", "threads"):
                assert raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
            for table in ("mailboxes", "mailbox_threads", "blobs", "objects", "changes"):
                assert raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
