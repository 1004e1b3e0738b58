"""Content-addressed blobs for ``SqliteTransaction``: stored once per account, reference-counted by emails.

A blob counts against the account's quota (``used_bytes``) once, however many emails use it. An unreferenced
blob lives until its hold passes (uploads wait there for ``Email/import``); ``put_blob`` collects a bounded
batch of expired ones, so no write ever pays for a large backlog and no background task is needed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from storage.errors import NotFound
from storage.mail import UPLOAD_HOLD_SECONDS, BlobInfo, blob_id_for
from storage.sqlite.objects import MailBase, chunks, marks

COLLECT_BATCH = 100
"""Expired blobs collected per ``put_blob`` call."""


class BlobsMixin(MailBase):
    async def put_blob(self, account_id: int, data: bytes, *, hold_seconds: float = UPLOAD_HOLD_SECONDS) -> BlobInfo:
        # Collect first, so the blob stored here survives this call whatever its hold.
        await self._collect_blobs()
        blob_id = blob_id_for(data)
        hold_until = time.time() + hold_seconds
        known = await self._one("SELECT 1 FROM blobs WHERE account_id = ? AND blob_id = ?", (account_id, blob_id))
        if known is not None:
            await self._run(
                "UPDATE blobs SET hold_until = MAX(hold_until, ?) WHERE account_id = ? AND blob_id = ?",
                (hold_until, account_id, blob_id),
            )
        else:
            if not await self._add_usage(account_id, len(data)):
                raise NotFound("account")
            await self._run(
                "INSERT INTO blobs (account_id, blob_id, size, data, refs, hold_until) VALUES (?, ?, ?, ?, 0, ?)",
                (account_id, blob_id, len(data), data, hold_until),
            )
        return BlobInfo(blob_id, len(data))

    async def read_blob(self, account_id: int, blob_id: str) -> bytes | None:
        row = await self._one("SELECT data FROM blobs WHERE account_id = ? AND blob_id = ?", (account_id, blob_id))
        return bytes(row[0]) if row else None

    async def blob_sizes(self, account_id: int, blob_ids: Sequence[str]) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for chunk in chunks(blob_ids):
            rows = await self._all(
                f"SELECT blob_id, size FROM blobs WHERE account_id = ? AND blob_id IN ({marks(chunk)})",
                [account_id, *chunk],
            )
            sizes.update((row[0], row[1]) for row in rows)
        return sizes

    async def _add_usage(self, account_id: int, delta: int) -> bool:
        """False when the account does not exist."""
        row = await self._run(
            "UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ? RETURNING id", (delta, account_id)
        )
        return row is not None

    async def _collect_blobs(self) -> None:
        """Delete up to ``COLLECT_BATCH`` unreferenced blobs whose hold has passed, in every account."""
        rows = await self._all(
            "SELECT rowid, account_id, size FROM blobs WHERE refs = 0 AND hold_until < ? LIMIT ?",
            (time.time(), COLLECT_BATCH),
        )
        if not rows:
            return
        rowids = [row[0] for row in rows]
        await self._run(f"DELETE FROM blobs WHERE rowid IN ({marks(rowids)})", rowids)
        freed: Counter[int] = Counter()
        for row in rows:
            freed[row["account_id"]] += row["size"]
        for account_id, size in freed.items():
            await self._add_usage(account_id, -size)

    async def _reference_blob(self, account_id: int, blob_id: str) -> None:
        """An email now uses the blob; raises NotFound when there is no such blob."""
        row = await self._run(
            "UPDATE blobs SET refs = refs + 1 WHERE account_id = ? AND blob_id = ? RETURNING refs",
            (account_id, blob_id),
        )
        if row is None:
            raise NotFound(f"blob {blob_id}")

    async def _release_blob(self, account_id: int, blob_id: str) -> None:
        """An email stopped using the blob: it goes now if nothing else uses it and its hold has passed."""
        row = await self._run(
            "UPDATE blobs SET refs = refs - 1 WHERE account_id = ? AND blob_id = ? RETURNING refs, hold_until, size",
            (account_id, blob_id),
        )
        if row is not None and row["refs"] <= 0 and row["hold_until"] < time.time():
            await self._run("DELETE FROM blobs WHERE account_id = ? AND blob_id = ?", (account_id, blob_id))
            await self._add_usage(account_id, -row["size"])
