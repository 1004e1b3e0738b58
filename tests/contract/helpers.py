"""Small one-transaction shortcuts over the public storage API."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from storage.api import Account, Collection, Item, ItemWrite, Store
from storage.mail import BlobInfo, Email, EmailWrite, Mailbox, MailboxWrite, ObjectChanges, SearchText


async def make_account(store: Store, name: str, quota_bytes: int | None = None) -> Account:
    async with store.write() as tx:
        return await tx.create_account(name, f"hash-of-{name}", quota_bytes)


async def make_collection(
    store: Store, account_id: int, path: str, kind: str = "collection", properties: Mapping[str, str] | None = None
) -> Collection:
    async with store.write() as tx:
        return await tx.create_collection(account_id, path, kind, properties)


async def put(
    store: Store,
    collection_id: int,
    name: str,
    data: bytes = b"body",
    *,
    uid: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> Item:
    async with store.write() as tx:
        item, _ = await tx.put_item(collection_id, ItemWrite(name, data, "text/plain", uid, properties))
        return item


async def delete(store: Store, collection_id: int, name: str) -> None:
    async with store.write() as tx:
        await tx.delete_item(collection_id, name)


async def fetch_collection(store: Store, path: str) -> Collection:
    """The collection at ``path`` as a fresh read sees it (asserting it exists)."""
    async with store.read() as tx:
        found = await tx.get_collection(path)
    assert found is not None, path
    return found


async def modseq_of(store: Store, path: str) -> int:
    return (await fetch_collection(store, path)).modseq


async def usage(store: Store, account_id: int) -> int:
    async with store.read() as tx:
        return await tx.account_usage(account_id)


_serial = itertools.count(1)


def email_write(
    blob: BlobInfo,
    mailbox_ids: Iterable[int],
    *,
    subject: str = "hello",
    keywords: Iterable[str] = (),
    received_at: float = 1_700_000_000.0,
    message_id: str | None = None,
    references: tuple[str, ...] = (),
    thread_subject: str | None = None,
    sender: str = "alice@example.org",
    to: str = "bob@example.org",
    cc: str = "",
    bcc: str = "",
    body: str = "",
    attachments: str = "",
    headers: str = "",
    sent_at: float | None = None,
    has_attachment: bool = False,
    delivered: bool = False,
    size: int | None = None,
) -> EmailWrite:
    """A parsed message as protocol code would hand it over; the base subject defaults to the lower-cased
    subject without one leading ``Re:``."""
    base = subject.lower().removeprefix("re:").strip() if thread_subject is None else thread_subject
    return EmailWrite(
        blob_id=blob.blob_id,
        size=blob.size if size is None else size,
        received_at=received_at,
        mailbox_ids=frozenset(mailbox_ids),
        keywords=frozenset(keywords),
        summary={"subject": subject, "from": [{"email": sender}], "preview": body[:20]},
        message_ids=(message_id,) if message_id else (),
        reference_ids=references,
        thread_subject=base,
        sort_subject=base,
        sort_from=sender,
        sort_to=to,
        sent_at=sent_at,
        has_attachment=has_attachment,
        search=SearchText(subject, sender, to, cc, bcc, body, attachments, headers),
        delivered=delivered,
    )


async def make_email(store: Store, account_id: int, mailbox_ids: Iterable[int], **fields: Any) -> Email:
    """Upload a unique raw message and create an email of it; ``fields`` go to ``email_write``."""
    raw = f"Subject: {fields.get('subject', 'hello')}\r\nX-Serial: {next(_serial)}\r\n\r\n".encode()
    async with store.write() as tx:
        blob = await tx.put_blob(account_id, raw)
        return await tx.create_email(account_id, email_write(blob, mailbox_ids, **fields))


async def make_mailbox(
    store: Store, account_id: int, name: str, *, role: str | None = None, parent_id: int | None = None
) -> Mailbox:
    async with store.write() as tx:
        return await tx.create_mailbox(account_id, MailboxWrite(name, parent_id, role))


async def fetch_mailbox(store: Store, account_id: int, mailbox_id: int) -> Mailbox:
    async with store.read() as tx:
        (found,) = await tx.get_mailboxes(account_id, [mailbox_id])
    return found


async def fetch_email(store: Store, account_id: int, email_id: int) -> Email | None:
    async with store.read() as tx:
        found = await tx.get_emails(account_id, [email_id])
    return found[0] if found else None


async def object_changes(
    store: Store, account_id: int, type_name: str, since: int, max_changes: int | None = None
) -> ObjectChanges:
    async with store.read() as tx:
        return await tx.object_changes(account_id, type_name, since, max_changes)


async def type_state(store: Store, account_id: int, type_name: str) -> int:
    async with store.read() as tx:
        return await tx.type_state(account_id, type_name)
