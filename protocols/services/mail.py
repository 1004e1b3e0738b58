"""Protocol-neutral mail writes shared by JMAP (Email/import, Email/set) and LMTP delivery.

Parsing happens before the write transaction (it is CPU work that must not hold the single writer); the
transaction then stores the blob and the email with its index fields atomically.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from protocols.formats.mime import ParsedMessage, parse_message
from storage.api import Transaction
from storage.mail import Email, EmailWrite, Mailbox, MailboxWrite, blob_id_for

DEFAULT_MAILBOXES: tuple[tuple[str, str, int], ...] = (
    ("inbox", "Inbox", 1),
    ("drafts", "Drafts", 2),
    ("sent", "Sent", 3),
    ("archive", "Archive", 4),
    ("junk", "Junk", 5),
    ("trash", "Trash", 6),
)
"""(role, name, sortOrder) of the mailboxes every account has (RFC 8621 §2 roles from RFC 8457)."""


async def ensure_mailboxes(tx: Transaction, account_id: int) -> list[Mailbox]:
    """Create whichever default role mailboxes are missing; returns the account's mailboxes."""
    existing = await tx.list_mailboxes(account_id)
    roles = {mailbox.role for mailbox in existing}
    names = {mailbox.name for mailbox in existing if mailbox.parent_id is None}
    for role, name, order in DEFAULT_MAILBOXES:
        if role in roles:
            continue
        while name in names:
            name += "_"
        existing.append(
            await tx.create_mailbox(
                account_id, MailboxWrite(name=name, role=role, sort_order=order, is_subscribed=True)
            )
        )
    return existing


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A message parsed, and its index fields extracted, outside the write transaction, ready to be stored."""

    raw: bytes
    parsed: ParsedMessage
    index: EmailWrite
    """Everything but where the email goes (mailboxes, keywords, time), which the store call fills in."""

    @property
    def blob_id(self) -> str:
        return self.index.blob_id


def prepare(raw: bytes) -> PreparedMessage:
    parsed = parse_message(raw)
    index = parsed.email_write(blob_id=blob_id_for(raw), received_at=0, mailbox_ids=frozenset(), keywords=frozenset())
    return PreparedMessage(raw, parsed, index)


async def store_message(
    tx: Transaction,
    account_id: int,
    message: PreparedMessage,
    *,
    mailbox_ids: Iterable[int],
    keywords: Iterable[str] = (),
    received_at: float | None = None,
    delivered: bool = False,
) -> Email:
    """Keep the raw bytes as a blob and the email with its index fields, in the caller's transaction."""
    await tx.put_blob(account_id, message.raw, hold_seconds=0)
    write = replace(
        message.index,
        received_at=time.time() if received_at is None else received_at,
        mailbox_ids=frozenset(mailbox_ids),
        keywords=frozenset(keyword.lower() for keyword in keywords),
        delivered=delivered,
    )
    return await tx.create_email(account_id, write)
