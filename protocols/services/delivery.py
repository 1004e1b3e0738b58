"""Delivery of mail handed over by the MTA: who a recipient is, and filing each recipient's copy in its inbox.

Protocol-neutral: ``protocols.lmtp`` speaks the wire, this module decides. The answers are SMTP replies with
RFC 3463 enhanced status codes, the vocabulary every MTA acts on. The decisions, and why:

- A recipient is an account's address or alias, else its domain's catch-all ``@domain``; anything else is refused
  at RCPT (550 5.1.1), so the MTA bounces before sending the message.
- An account gets one copy per message however many of its addresses the MTA names (as Dovecot does); every RCPT
  still gets its own reply after DATA (RFC 2033 §4.2), the later ones repeating the first one's.
- Each copy starts with ``Return-Path`` (RFC 5321 §4.4: final delivery records the envelope sender) and
  ``Delivered-To`` (the address it was delivered for, which loop detection and filters read).
- Quota, RFC 3463 X.2.2 "mailbox full", which serves both as a permanent and a persistent transient error: a copy
  larger than the whole quota can never fit, 552 5.2.2; one that fits once the user frees space is 452 4.2.2, so
  the MTA keeps it queued and retries (RFC 2033 §4.2 shows the same 452 for a recipient over quota).
- Each copy is committed in a write transaction of its own before its 250 is given: one recipient's failure never
  costs another's delivery, and any failure is 451 4.3.0, so the MTA keeps the message and retries: a message is
  never lost, and never acknowledged unless it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from protocols.services import vacation
from protocols.services.mail import ensure_mailboxes, prepare, store_message
from protocols.smtp import Relay
from storage.api import Account, Store, Transaction

log = logging.getLogger(__name__)

AFTER_DELIVERY_GRACE_SECONDS = 5.0
"""How long closing waits for after-delivery work (vacation replies) still running."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An SMTP reply: basic code, RFC 3463 enhanced code, text."""

    code: int
    status: str
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.status} {self.text}"


BAD_ADDRESS = Reply(553, "5.1.3", "Address contains control characters")
TOO_BIG = Reply(552, "5.3.4", "Message too big for system")
NO_SUCH_USER = Reply(550, "5.1.1", "No such user here")
NEVER_FITS = Reply(552, "5.2.2", "Message larger than the mailbox quota")
MAILBOX_FULL = Reply(452, "4.2.2", "Mailbox full, try again later")
DELIVERED = Reply(250, "2.0.0", "Delivered")
TRY_AGAIN = Reply(451, "4.3.0", "Delivery failed, try again later")


@dataclass(frozen=True, slots=True)
class Recipient:
    """An accepted RCPT: the address as the MTA gave it and the account it reaches."""

    address: str
    account_id: int


def well_formed(address: str) -> bool:
    """Printable ASCII only: an envelope address ends up in header fields, where a CR or LF would forge more."""
    return address.isascii() and address.isprintable()


class Delivery:
    """Resolves recipients and files messages for one store; follows each delivery with the vacation hook."""

    def __init__(self, store: Store, relay: Relay | None, max_message_bytes: int) -> None:
        self.store = store
        self.relay = relay
        self.max_message_bytes = max_message_bytes
        self._after: set[asyncio.Task[None]] = set()

    async def resolve(self, address: str, declared_size: int | None = None) -> Recipient | Reply:
        """The recipient ``address`` reaches, or the refusal to give at RCPT (the size declared with MAIL FROM, when
        given, lets a message that cannot fit the quota be refused before it is sent)."""
        if not well_formed(address):
            return BAD_ADDRESS
        async with self.store.read() as tx:
            account = await tx.account_by_address(address)
            if account is None:
                return NO_SUCH_USER
            refusal = await _quota_refusal(tx, account, declared_size or 1)
        return refusal or Recipient(address, account.id)

    async def deliver(self, sender: str, recipients: Sequence[Recipient], raw: bytes) -> list[Reply]:
        """File ``raw`` for each recipient (``sender`` is the envelope sender, empty for bounces); one reply per
        recipient, in order."""
        if len(raw) > self.max_message_bytes:
            return [TOO_BIG] * len(recipients)
        replies: dict[int, Reply] = {}
        for recipient in recipients:
            if recipient.account_id not in replies:
                replies[recipient.account_id] = await self._deliver_copy(sender, recipient, raw)
        return [replies[recipient.account_id] for recipient in recipients]

    async def close(self) -> None:
        """Give after-delivery work still running a moment to finish, then cancel it."""
        if self._after:
            _, pending = await asyncio.wait(self._after, timeout=AFTER_DELIVERY_GRACE_SECONDS)
            for task in pending:
                task.cancel()

    async def _deliver_copy(self, sender: str, recipient: Recipient, raw: bytes) -> Reply:
        try:
            copy = f"Return-Path: <{sender}>\r\nDelivered-To: {recipient.address}\r\n".encode("ascii") + raw
            message = prepare(copy)  # CPU work, done before taking the single writer
            async with self.store.write() as tx:
                account = await tx.get_account_by_id(recipient.account_id)
                if account is None:  # deleted since RCPT
                    return NO_SUCH_USER
                refusal = await _quota_refusal(tx, account, len(copy))
                if refusal is not None:
                    return refusal
                inbox = await tx.mailbox_by_role(account.id, "inbox")
                if inbox is None:
                    inbox = next(box for box in await ensure_mailboxes(tx, account.id) if box.role == "inbox")
                await store_message(tx, account.id, message, mailbox_ids=[inbox.id], delivered=True)
        except Exception:
            log.exception("delivery to <%s> failed; the MTA will retry", recipient.address)
            return TRY_AGAIN
        self._after_delivery(sender, recipient, copy)
        return DELIVERED

    def _after_delivery(self, sender: str, recipient: Recipient, copy: bytes) -> None:
        """Run the vacation hook in the background: the MTA's reply must not wait for it, and its failure is only
        logged (the message is stored already)."""
        task = asyncio.create_task(
            vacation.after_delivery(self.store, self.relay, recipient.account_id, copy, sender, recipient.address)
        )
        self._after.add(task)
        task.add_done_callback(self._after_done)

    def _after_done(self, task: asyncio.Task[None]) -> None:
        self._after.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("after-delivery hook failed", exc_info=task.exception())


async def _quota_refusal(tx: Transaction, account: Account, size: int) -> Reply | None:
    """Why ``size`` more bytes cannot go to ``account`` now, if they cannot."""
    if account.quota_bytes is None:
        return None
    if size > account.quota_bytes:
        return NEVER_FITS
    if await tx.account_usage(account.id) + size > account.quota_bytes:
        return MAILBOX_FULL
    return None
