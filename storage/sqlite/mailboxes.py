"""Mailboxes for ``SqliteTransaction``: the tree, its unique names and roles, and incrementally kept counters.

Counters are never recounted: every change of an email's membership or ``$seen`` keyword shifts them by the
difference, and ``mailbox_threads`` (emails and unread emails per mailbox and thread) tells when a thread starts
or stops counting for a mailbox. Deleting a mailbox with its mail is an email write: see ``emails.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.errors import NotFound
from storage.mail import Mailbox, MailboxUpdate, MailboxWrite, NameConflict
from storage.sqlite.objects import MailBase, chunks, marks

MAILBOX_FIELDS = ("name", "parent_id", "role", "sort_order", "is_subscribed")
MAILBOX = "Mailbox"


def _mailbox(row: sqlite3.Row) -> Mailbox:
    return Mailbox(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        parent_id=row["parent_id"],
        role=row["role"],
        sort_order=row["sort_order"],
        is_subscribed=bool(row["is_subscribed"]),
        total_emails=row["total_emails"],
        unread_emails=row["unread_emails"],
        total_threads=row["total_threads"],
        unread_threads=row["unread_threads"],
    )


class MailboxesMixin(MailBase):
    async def list_mailboxes(self, account_id: int) -> list[Mailbox]:
        rows = await self._all("SELECT * FROM mailboxes WHERE account_id = ? ORDER BY id", (account_id,))
        return [_mailbox(row) for row in rows]

    async def get_mailboxes(self, account_id: int, ids: Sequence[int]) -> list[Mailbox]:
        """The mailboxes that exist, in the order asked."""
        found: dict[int, Mailbox] = {}
        for chunk in chunks(ids):
            rows = await self._all(
                f"SELECT * FROM mailboxes WHERE account_id = ? AND id IN ({marks(chunk)})", [account_id, *chunk]
            )
            found.update((row["id"], _mailbox(row)) for row in rows)
        return [found[mailbox_id] for mailbox_id in ids if mailbox_id in found]

    async def mailbox_by_role(self, account_id: int, role: str) -> Mailbox | None:
        row = await self._one("SELECT * FROM mailboxes WHERE account_id = ? AND role = ?", (account_id, role))
        return _mailbox(row) if row else None

    async def create_mailbox(self, account_id: int, write: MailboxWrite) -> Mailbox:
        if write.parent_id is not None:
            await self._require_mailbox(account_id, write.parent_id)
        try:
            row = await self._run(
                "INSERT INTO mailboxes (account_id, name, parent_id, role, sort_order, is_subscribed) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (account_id, write.name, write.parent_id, write.role, write.sort_order, int(write.is_subscribed)),
            )
        except sqlite3.IntegrityError as exc:
            if await self._one("SELECT 1 FROM accounts WHERE id = ?", (account_id,)) is None:
                raise NotFound("account") from exc
            raise NameConflict(write.name) from exc
        assert row is not None
        await self._log_object(account_id, MAILBOX, str(row["id"]), "created")
        return _mailbox(row)

    async def update_mailbox(self, account_id: int, mailbox_id: int, update: MailboxUpdate) -> Mailbox:
        unknown = set(update.changes) - set(MAILBOX_FIELDS)
        if unknown:
            raise ValueError(f"not mailbox fields: {sorted(unknown)}")
        current = await self._require_mailbox(account_id, mailbox_id)
        values = {field: current[field] for field in MAILBOX_FIELDS} | dict(update.changes)
        if "parent_id" in update.changes and values["parent_id"] is not None:
            await self._require_mailbox(account_id, values["parent_id"])
            if await self._is_at_or_below(values["parent_id"], mailbox_id):
                raise ValueError("a mailbox cannot move below itself")
        try:
            row = await self._run(
                "UPDATE mailboxes SET name = ?, parent_id = ?, role = ?, sort_order = ?, is_subscribed = ? "
                "WHERE id = ? RETURNING *",
                (
                    values["name"],
                    values["parent_id"],
                    values["role"],
                    values["sort_order"],
                    int(values["is_subscribed"]),
                    mailbox_id,
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise NameConflict(str(values["name"])) from exc
        assert row is not None
        await self._log_object(account_id, MAILBOX, str(mailbox_id), "modified")
        return _mailbox(row)

    async def _require_mailbox(self, account_id: int, mailbox_id: int) -> sqlite3.Row:
        row = await self._one("SELECT * FROM mailboxes WHERE id = ? AND account_id = ?", (mailbox_id, account_id))
        if row is None:
            raise NotFound(f"mailbox {mailbox_id}")
        return row

    async def _require_mailboxes(self, account_id: int, mailbox_ids: frozenset[int]) -> None:
        """Raises NotFound unless every one of ``mailbox_ids`` is a mailbox of the account."""
        ids = sorted(mailbox_ids)
        found = 0
        for chunk in chunks(ids):
            row = await self._one(
                f"SELECT COUNT(*) FROM mailboxes WHERE account_id = ? AND id IN ({marks(chunk)})", [account_id, *chunk]
            )
            found += int(row[0]) if row else 0
        if found != len(ids):
            raise NotFound("mailbox")

    async def _is_at_or_below(self, candidate: int, ancestor: int) -> bool:
        row = await self._one(
            "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT m.parent_id FROM mailboxes m JOIN up ON m.id = up.id "
            "WHERE m.parent_id IS NOT NULL) SELECT 1 FROM up WHERE id = ?",
            (candidate, ancestor),
        )
        return row is not None

    # counters

    async def _shift_counters(
        self,
        thread_id: int,
        before: tuple[frozenset[int], bool],
        after: tuple[frozenset[int], bool],
        touched: set[int],
    ) -> None:
        """Move the counters of every mailbox whose view of one email changed; ``before`` and ``after`` are the
        email's (mailbox ids, unread) around the write (empty mailboxes for a new or destroyed email)."""
        (old_boxes, old_unread), (new_boxes, new_unread) = before, after
        for mailbox_id in old_boxes | new_boxes:
            was, now = mailbox_id in old_boxes, mailbox_id in new_boxes
            emails = int(now) - int(was)
            unread = int(now and new_unread) - int(was and old_unread)
            if emails or unread:
                await self._count(mailbox_id, thread_id, emails, unread)
                touched.add(mailbox_id)

    async def _count(self, mailbox_id: int, thread_id: int, emails: int, unread: int) -> None:
        row = await self._run(
            "INSERT INTO mailbox_threads (mailbox_id, thread_id, emails, unread) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (mailbox_id, thread_id) DO UPDATE SET emails = emails + excluded.emails, "
            "unread = unread + excluded.unread RETURNING emails, unread",
            (mailbox_id, thread_id, emails, unread),
        )
        assert row is not None
        thread_emails, thread_unread = int(row[0]), int(row[1])
        threads = int(thread_emails > 0) - int(thread_emails - emails > 0)
        unread_threads = int(thread_unread > 0) - int(thread_unread - unread > 0)
        if thread_emails == 0:
            await self._run(
                "DELETE FROM mailbox_threads WHERE mailbox_id = ? AND thread_id = ?", (mailbox_id, thread_id)
            )
        await self._run(
            "UPDATE mailboxes SET total_emails = total_emails + ?, unread_emails = unread_emails + ?, "
            "total_threads = total_threads + ?, unread_threads = unread_threads + ? WHERE id = ?",
            (emails, unread, threads, unread_threads, mailbox_id),
        )

    async def _log_counts(self, account_id: int, touched: set[int]) -> None:
        """One Mailbox ``counts`` entry per mailbox whose counters a write call moved."""
        for mailbox_id in sorted(touched):
            await self._log_object(account_id, MAILBOX, str(mailbox_id), "counts")
