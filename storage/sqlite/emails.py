"""Emails for ``SqliteTransaction``: rows, membership, keywords, threads and the search index, written together.

Every write validates first and writes after, so an error (NotFound, ValueError) leaves nothing half done even
when the caller catches it and goes on in the same transaction (``Email/import`` of many messages).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from storage.errors import NotFound
from storage.mail import Email, EmailUpdate, EmailWrite, MailboxHasChildren, MailboxHasEmail
from storage.sqlite.email_search import indexable
from storage.sqlite.mail_blobs import BlobsMixin
from storage.sqlite.mailboxes import MAILBOX, MailboxesMixin
from storage.sqlite.objects import chunks, dumps, marks

EMAIL = "Email"
THREAD = "Thread"
DELIVERY = "EmailDelivery"
SEEN = "$seen"
NOTHING: frozenset[int] = frozenset()


def _email(row: sqlite3.Row, mailbox_ids: frozenset[int]) -> Email:
    return Email(
        id=row["id"],
        account_id=row["account_id"],
        blob_id=row["blob_id"],
        thread_id=row["thread_id"],
        mailbox_ids=mailbox_ids,
        keywords=frozenset(json.loads(row["keywords"])),
        size=row["size"],
        received_at=row["received_at"],
        modseq=row["modseq"],
        summary=json.loads(row["summary"]),
    )


def _unread(keywords: frozenset[str]) -> bool:
    return SEEN not in keywords


class EmailsMixin(MailboxesMixin, BlobsMixin):
    async def create_email(self, account_id: int, write: EmailWrite) -> Email:
        if not write.mailbox_ids:
            raise ValueError("an email must be in at least one mailbox")
        await self._require_mailboxes(account_id, write.mailbox_ids)
        await self._reference_blob(account_id, write.blob_id)
        thread_id, new_thread = await self._thread_for(account_id, write)
        modseq = await self._next_modseq(account_id)
        row = await self._run(
            "INSERT INTO emails (account_id, blob_id, thread_id, size, received_at, sent_at, modseq, has_attachment,"
            " sort_subject, sort_from, sort_to, summary, keywords) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING *",
            (
                account_id,
                write.blob_id,
                thread_id,
                write.size,
                write.received_at,
                write.sent_at,
                modseq,
                int(write.has_attachment),
                write.sort_subject,
                write.sort_from,
                write.sort_to,
                dumps(dict(write.summary)),
                dumps(sorted(write.keywords)),
            ),
        )
        assert row is not None
        email_id = int(row["id"])
        await self._append_change(account_id, modseq, EMAIL, str(email_id), "created")
        await self._add_memberships(email_id, write.received_at, write.mailbox_ids)
        await self._add_keywords(account_id, email_id, write.keywords)
        own = {(message_id, 1) for message_id in write.message_ids}
        referenced = {(message_id, 0) for message_id in write.reference_ids if message_id not in write.message_ids}
        await self._conn.executemany(
            "INSERT INTO message_ids (account_id, message_id, email_id, thread_id, own) VALUES (?, ?, ?, ?, ?)",
            [(account_id, message_id, email_id, thread_id, flag) for message_id, flag in sorted(own | referenced)],
        )
        text = write.search
        fields = (text.subject, text.from_, text.to, text.cc, text.bcc, text.body, text.attachments, text.headers)
        await self._run(
            'INSERT INTO email_fts (rowid, subject, from_, "to", cc, bcc, body, attachments, headers)'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (email_id, *(indexable(field) for field in fields)),
        )
        touched: set[int] = set()
        await self._shift_counters(thread_id, (NOTHING, False), (write.mailbox_ids, _unread(write.keywords)), touched)
        await self._log_object(account_id, THREAD, str(thread_id), "created" if new_thread else "modified")
        await self._log_counts(account_id, touched)
        if write.delivered:
            await self._log_object(account_id, DELIVERY, str(email_id), "created")
        return _email(row, write.mailbox_ids)

    async def _thread_for(self, account_id: int, write: EmailWrite) -> tuple[int, bool]:
        """The thread holding any message id of ``write`` under the same base subject (the oldest such thread),
        else a new one; and whether it is new."""
        candidates: list[int] = []
        for chunk in chunks(sorted(set(write.message_ids) | set(write.reference_ids))):
            row = await self._one(
                "SELECT MIN(m.thread_id) FROM message_ids m JOIN threads t ON t.id = m.thread_id"
                f" WHERE m.account_id = ? AND m.message_id IN ({marks(chunk)}) AND t.subject = ?",
                [account_id, *chunk, write.thread_subject],
            )
            if row is not None and row[0] is not None:
                candidates.append(int(row[0]))
        if candidates:
            return min(candidates), False
        row = await self._run(
            "INSERT INTO threads (account_id, subject) VALUES (?, ?) RETURNING id", (account_id, write.thread_subject)
        )
        assert row is not None
        return int(row[0]), True

    async def _add_memberships(self, email_id: int, received_at: float, mailbox_ids: frozenset[int]) -> None:
        await self._conn.executemany(
            "INSERT INTO email_mailboxes (email_id, mailbox_id, received_at) VALUES (?, ?, ?)",
            [(email_id, mailbox_id, received_at) for mailbox_id in sorted(mailbox_ids)],
        )

    async def _add_keywords(self, account_id: int, email_id: int, keywords: frozenset[str]) -> None:
        await self._conn.executemany(
            "INSERT INTO email_keywords (email_id, account_id, keyword) VALUES (?, ?, ?)",
            [(email_id, account_id, keyword) for keyword in sorted(keywords)],
        )

    async def get_emails(self, account_id: int, ids: Sequence[int]) -> list[Email]:
        rows: dict[int, sqlite3.Row] = {}
        for chunk in chunks(ids):
            found = await self._all(
                f"SELECT * FROM emails WHERE account_id = ? AND id IN ({marks(chunk)})", [account_id, *chunk]
            )
            rows.update((row["id"], row) for row in found)
        boxes = await self._mailboxes_of(list(rows))
        return [_email(rows[email_id], boxes[email_id]) for email_id in ids if email_id in rows]

    async def _mailboxes_of(self, email_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        found: dict[int, set[int]] = {email_id: set() for email_id in email_ids}
        for chunk in chunks(email_ids):
            rows = await self._all(
                f"SELECT email_id, mailbox_id FROM email_mailboxes WHERE email_id IN ({marks(chunk)})", chunk
            )
            for email_id, mailbox_id in rows:
                found[email_id].add(mailbox_id)
        return {email_id: frozenset(boxes) for email_id, boxes in found.items()}

    async def _email_row(self, account_id: int, email_id: int) -> sqlite3.Row:
        row = await self._one("SELECT * FROM emails WHERE id = ? AND account_id = ?", (email_id, account_id))
        if row is None:
            raise NotFound(f"email {email_id}")
        return row

    async def update_email(self, account_id: int, email_id: int, update: EmailUpdate) -> Email:
        row = await self._email_row(account_id, email_id)
        old_boxes = (await self._mailboxes_of([email_id]))[email_id]
        old_keywords = frozenset(json.loads(row["keywords"]))
        keywords = old_keywords if update.keywords is None else update.keywords
        boxes = old_boxes if update.mailbox_ids is None else update.mailbox_ids
        if not boxes:
            raise ValueError("an email must stay in at least one mailbox")
        await self._require_mailboxes(account_id, boxes - old_boxes)
        if (keywords, boxes) == (old_keywords, old_boxes):
            return _email(row, old_boxes)
        modseq = await self._log_object(account_id, EMAIL, str(email_id), "modified")
        updated = await self._run(
            "UPDATE emails SET keywords = ?, modseq = ? WHERE id = ? RETURNING *",
            (dumps(sorted(keywords)), modseq, email_id),
        )
        assert updated is not None
        if gone := sorted(old_keywords - keywords):
            await self._run(
                f"DELETE FROM email_keywords WHERE email_id = ? AND keyword IN ({marks(gone)})", [email_id, *gone]
            )
        await self._add_keywords(account_id, email_id, keywords - old_keywords)
        if left := sorted(old_boxes - boxes):
            await self._run(
                f"DELETE FROM email_mailboxes WHERE email_id = ? AND mailbox_id IN ({marks(left)})", [email_id, *left]
            )
        await self._add_memberships(email_id, row["received_at"], boxes - old_boxes)
        touched: set[int] = set()
        await self._shift_counters(
            row["thread_id"], (old_boxes, _unread(old_keywords)), (boxes, _unread(keywords)), touched
        )
        await self._log_counts(account_id, touched)
        return _email(updated, boxes)

    async def destroy_email(self, account_id: int, email_id: int) -> None:
        row = await self._email_row(account_id, email_id)
        touched: set[int] = set()
        await self._destroy(account_id, row, (await self._mailboxes_of([email_id]))[email_id], touched)
        await self._log_counts(account_id, touched)

    async def _destroy(self, account_id: int, row: sqlite3.Row, boxes: frozenset[int], touched: set[int]) -> None:
        """Delete one email (memberships, keywords, message ids and search text go with its row)."""
        email_id, thread_id = row["id"], row["thread_id"]
        await self._run("DELETE FROM emails WHERE id = ?", (email_id,))
        await self._log_object(account_id, EMAIL, str(email_id), "deleted")
        unread = _unread(frozenset(json.loads(row["keywords"])))
        await self._shift_counters(thread_id, (boxes, unread), (NOTHING, False), touched)
        if await self._one("SELECT 1 FROM emails WHERE thread_id = ? LIMIT 1", (thread_id,)) is None:
            await self._run("DELETE FROM threads WHERE id = ?", (thread_id,))
            await self._log_object(account_id, THREAD, str(thread_id), "deleted")
        else:
            await self._log_object(account_id, THREAD, str(thread_id), "modified")
        await self._release_blob(account_id, row["blob_id"])

    async def delete_mailbox(self, account_id: int, mailbox_id: int, *, remove_emails: bool) -> None:
        """Lives with the emails because removing a mailbox's mail is an email write."""
        await self._require_mailbox(account_id, mailbox_id)
        if await self._one("SELECT 1 FROM mailboxes WHERE parent_id = ? LIMIT 1", (mailbox_id,)):
            raise MailboxHasChildren(str(mailbox_id))
        rows = await self._all(
            "SELECT e.* FROM email_mailboxes em JOIN emails e ON e.id = em.email_id WHERE em.mailbox_id = ?",
            (mailbox_id,),
        )
        if rows and not remove_emails:
            raise MailboxHasEmail(str(mailbox_id))
        boxes = await self._mailboxes_of([row["id"] for row in rows])
        touched: set[int] = set()  # only this mailbox's counters move, and it goes: nothing to log for them
        for row in rows:
            if boxes[row["id"]] == {mailbox_id}:
                await self._destroy(account_id, row, boxes[row["id"]], touched)
            else:
                # The membership row goes with the mailbox; only this mailbox's counters moved.
                modseq = await self._log_object(account_id, EMAIL, str(row["id"]), "modified")
                await self._run("UPDATE emails SET modseq = ? WHERE id = ?", (modseq, row["id"]))
        await self._run("DELETE FROM mailboxes WHERE id = ?", (mailbox_id,))
        await self._log_object(account_id, MAILBOX, str(mailbox_id), "deleted")

    async def get_threads(self, account_id: int, ids: Sequence[int]) -> dict[int, list[int]]:
        threads: dict[int, list[int]] = {}
        for chunk in chunks(ids):
            rows = await self._all(
                f"SELECT thread_id, id FROM emails WHERE account_id = ? AND thread_id IN ({marks(chunk)})"
                " ORDER BY thread_id, received_at, id",
                [account_id, *chunk],
            )
            for thread_id, email_id in rows:
                threads.setdefault(thread_id, []).append(email_id)
        return threads

    async def email_ids_by_message_id(self, account_id: int, message_id: str) -> list[int]:
        """The emails whose own Message-ID is ``message_id`` (not those merely referring to it)."""
        rows = await self._all(
            "SELECT email_id FROM message_ids WHERE account_id = ? AND message_id = ? AND own = 1 ORDER BY email_id",
            (account_id, message_id),
        )
        return [row[0] for row in rows]
