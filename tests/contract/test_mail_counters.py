"""Mailbox counters (emails, unread emails, threads, unread threads) kept through every kind of email write."""

from __future__ import annotations

import random

from storage.api import Account, Store
from storage.mail import Email, EmailUpdate, Mailbox, MailboxUpdate
from tests.contract.helpers import fetch_mailbox, make_email, make_mailbox, object_changes, type_state

SEEN = "$seen"


def counters(mailbox: Mailbox) -> tuple[int, int, int, int]:
    return (mailbox.total_emails, mailbox.unread_emails, mailbox.total_threads, mailbox.unread_threads)


async def counts_of(store: Store, account_id: int, mailbox_id: int) -> tuple[int, int, int, int]:
    return counters(await fetch_mailbox(store, account_id, mailbox_id))


async def set_email(
    store: Store,
    account_id: int,
    email_id: int,
    *,
    keywords: frozenset[str] | None = None,
    mailbox_ids: frozenset[int] | None = None,
) -> Email:
    async with store.write() as tx:
        return await tx.update_email(account_id, email_id, EmailUpdate(keywords, mailbox_ids))


async def test_thread_counters_move_on_first_and_last(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    first = await make_email(store, account.id, [inbox.id], message_id="1@x", keywords=[SEEN])
    assert await counts_of(store, account.id, inbox.id) == (1, 0, 1, 0)
    second = await make_email(store, account.id, [inbox.id], message_id="2@x", references=("1@x",))
    assert second.thread_id == first.thread_id
    assert await counts_of(store, account.id, inbox.id) == (2, 1, 1, 1)
    third = await make_email(store, account.id, [inbox.id], message_id="3@x", references=("1@x",))
    assert await counts_of(store, account.id, inbox.id) == (3, 2, 1, 1)
    await set_email(store, account.id, second.id, keywords=frozenset({SEEN}))
    assert await counts_of(store, account.id, inbox.id) == (3, 1, 1, 1)
    await set_email(store, account.id, third.id, keywords=frozenset({SEEN, "$flagged"}))
    assert await counts_of(store, account.id, inbox.id) == (3, 0, 1, 0)
    await set_email(store, account.id, first.id, keywords=frozenset())
    assert await counts_of(store, account.id, inbox.id) == (3, 1, 1, 1)
    async with store.write() as tx:
        await tx.destroy_email(account.id, first.id)
    assert await counts_of(store, account.id, inbox.id) == (2, 0, 1, 0)
    async with store.write() as tx:
        await tx.destroy_email(account.id, second.id)
        await tx.destroy_email(account.id, third.id)
    assert await counts_of(store, account.id, inbox.id) == (0, 0, 0, 0)


async def test_moves_and_copies_move_counters(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    archive = await make_mailbox(store, account.id, "Archive")
    email = await make_email(store, account.id, [inbox.id])
    await make_email(store, account.id, [inbox.id], keywords=[SEEN], subject="other")
    await set_email(store, account.id, email.id, mailbox_ids=frozenset({archive.id}))
    assert await counts_of(store, account.id, inbox.id) == (1, 0, 1, 0)
    assert await counts_of(store, account.id, archive.id) == (1, 1, 1, 1)
    await set_email(store, account.id, email.id, mailbox_ids=frozenset({archive.id, inbox.id}))
    assert await counts_of(store, account.id, inbox.id) == (2, 1, 2, 1)
    both = frozenset({archive.id, inbox.id})
    await set_email(store, account.id, email.id, mailbox_ids=both, keywords=frozenset({SEEN}))
    assert await counts_of(store, account.id, inbox.id) == (2, 0, 2, 0)
    assert await counts_of(store, account.id, archive.id) == (1, 0, 1, 0)


async def test_counter_changes_are_logged_as_counts(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    archive = await make_mailbox(store, account.id, "Archive")
    state = await type_state(store, account.id, "Mailbox")
    email = await make_email(store, account.id, [inbox.id, archive.id])
    delta = await object_changes(store, account.id, "Mailbox", state)
    assert {(c.id, c.created, c.destroyed, c.counts_only) for c in delta.changes} == {
        (str(inbox.id), False, False, True),
        (str(archive.id), False, False, True),
    }
    state = delta.new_state
    await set_email(store, account.id, email.id, keywords=frozenset({"$flagged"}))
    assert (await object_changes(store, account.id, "Mailbox", state)).changes == [], "not a counter"
    await set_email(store, account.id, email.id, keywords=frozenset({SEEN}))
    delta = await object_changes(store, account.id, "Mailbox", state)
    assert {c.id for c in delta.changes} == {str(inbox.id), str(archive.id)}
    async with store.write() as tx:
        await tx.update_mailbox(account.id, inbox.id, MailboxUpdate({"name": "Inbox 2"}))
    delta = await object_changes(store, account.id, "Mailbox", state)
    assert {(c.id, c.counts_only) for c in delta.changes} == {(str(inbox.id), False), (str(archive.id), True)}


async def test_counters_match_a_model_through_random_writes(store: Store, account: Account) -> None:
    rng = random.Random(5)
    boxes = [await make_mailbox(store, account.id, f"Box {n}") for n in range(3)]
    emails: dict[int, tuple[frozenset[int], bool, int]] = {}
    for step in range(120):
        action = rng.random()
        if action < 0.4 or not emails:
            chosen = rng.sample([box.id for box in boxes], rng.randint(1, 2))
            parent = rng.choice([None, *(f"{n}@x" for n in range(step))])
            created = await make_email(
                store,
                account.id,
                chosen,
                message_id=f"{step}@x",
                references=(parent,) if parent else (),
                keywords=[SEEN] if rng.random() < 0.5 else [],
            )
            emails[created.id] = (created.mailbox_ids, SEEN not in created.keywords, created.thread_id)
            continue
        email_id = rng.choice(sorted(emails))
        boxes_of, unread, thread_id = emails[email_id]
        if action < 0.6:
            async with store.write() as tx:
                await tx.destroy_email(account.id, email_id)
            del emails[email_id]
        elif action < 0.8:
            keywords = frozenset() if rng.random() < 0.5 else frozenset({SEEN})
            await set_email(store, account.id, email_id, keywords=keywords)
            emails[email_id] = (boxes_of, not keywords, thread_id)
        else:
            chosen = frozenset(rng.sample([box.id for box in boxes], rng.randint(1, 3)))
            await set_email(store, account.id, email_id, mailbox_ids=chosen)
            emails[email_id] = (chosen, unread, thread_id)
    for box in boxes:
        inside = [(unread, thread) for boxes_of, unread, thread in emails.values() if box.id in boxes_of]
        expected = (
            len(inside),
            sum(unread for unread, _ in inside),
            len({thread for _, thread in inside}),
            len({thread for unread, thread in inside if unread}),
        )
        assert await counts_of(store, account.id, box.id) == expected
