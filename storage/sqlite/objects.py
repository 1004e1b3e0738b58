"""The change log seen per JMAP type, and typed JSON objects, for ``SqliteTransaction``.

JMAP entries share the ``changes`` table (and so the account's modseq) with DAV: ``type`` names the JMAP type,
``collection_id`` is 0 and ``name`` is the object id. A type's state is the modseq of its newest entry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from storage.errors import NotFound, SyncTokenExpired
from storage.mail import ObjectChange, ObjectChanges, StoredObject
from storage.sqlite.inline import InlineConnection

OBJECT_OPS = frozenset({"created", "modified", "deleted", "counts"})
"""``counts``: only a Mailbox's counters changed (``/changes`` answers ``updatedProperties`` for those)."""
ID_CHUNK = 500
"""Ids per ``IN (...)`` list: SQLite caps the parameters of one statement."""


def chunks(ids: Sequence[Any]) -> list[list[Any]]:
    return [list(ids[start : start + ID_CHUNK]) for start in range(0, len(ids), ID_CHUNK)]


def marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class MailBase:
    """What the mail mixins share: ``SqliteTransaction`` supplies the connection helpers declared here."""

    _conn: InlineConnection
    touched_accounts: set[int]

    if TYPE_CHECKING:

        async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None: ...
        async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...
        async def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None: ...
        async def _next_modseq(self, account_id: int) -> int: ...

    async def _append_change(self, account_id: int, modseq: int, type_name: str, object_id: str, op: str) -> None:
        """Record an entry under a modseq the caller already took (it stamped its row with it)."""
        await self._run(
            "INSERT INTO changes (account_id, modseq, collection_id, name, op, type) VALUES (?, ?, 0, ?, ?, ?)",
            (account_id, modseq, object_id, op, type_name),
        )

    async def _log_object(self, account_id: int, type_name: str, object_id: str, op: str) -> int:
        modseq = await self._next_modseq(account_id)
        await self._append_change(account_id, modseq, type_name, object_id, op)
        return modseq


def _stored(row: sqlite3.Row) -> StoredObject:
    return StoredObject(row["id"], row["type"], json.loads(row["data"]), row["modseq"])


class ObjectsMixin(MailBase):
    async def type_state(self, account_id: int, type_name: str) -> int:
        """Never below the compaction horizon: entries under it are gone, and a state there could not be
        answered by ``object_changes``, so a type whose entries were all compacted reports the horizon."""
        row = await self._one(
            "SELECT compacted_modseq, (SELECT MAX(modseq) FROM changes WHERE account_id = ? AND type = ?) "
            "FROM accounts WHERE id = ?",
            (account_id, type_name, account_id),
        )
        if row is None:
            raise NotFound("account")
        return max(int(row[0]), int(row[1] or 0))

    async def object_changes(
        self, account_id: int, type_name: str, since: int, max_changes: int | None
    ) -> ObjectChanges:
        account = await self._one("SELECT modseq, compacted_modseq FROM accounts WHERE id = ?", (account_id,))
        if account is None:
            raise NotFound("account")
        # A state below the horizon (0 included once anything was compacted) may miss compacted entries.
        if since < 0 or since > account["modseq"] or since < account["compacted_modseq"]:
            raise SyncTokenExpired(str(since))
        firsts: dict[str, str] = {}
        lasts: dict[str, str] = {}
        counts_only: dict[str, bool] = {}
        last_taken = since
        has_more = False
        async with self._conn.execute(
            "SELECT modseq, name, op FROM changes WHERE account_id = ? AND type = ? AND modseq > ? ORDER BY modseq",
            (account_id, type_name, since),
        ) as cursor:
            async for modseq, name, op in cursor:
                if name not in firsts:
                    if max_changes is not None and len(firsts) >= max_changes:
                        has_more = True
                        break
                    firsts[name] = op
                    counts_only[name] = True
                lasts[name] = op
                counts_only[name] = counts_only[name] and op == "counts"
                last_taken = modseq
        new_state = last_taken if has_more else max(await self.type_state(account_id, type_name), since)
        changes = [
            ObjectChange(name, firsts[name] == "created", lasts[name] == "deleted", counts_only[name])
            for name in firsts
        ]
        return ObjectChanges(changes, new_state, has_more)

    async def log_object_change(self, account_id: int, type_name: str, object_id: str, op: str) -> int:
        if op not in OBJECT_OPS:
            raise ValueError(f"unknown change op {op!r}")
        return await self._log_object(account_id, type_name, object_id, op)

    async def list_objects(self, account_id: int, type_name: str) -> list[StoredObject]:
        rows = await self._all(
            "SELECT * FROM objects WHERE account_id = ? AND type = ? ORDER BY id", (account_id, type_name)
        )
        return [_stored(row) for row in rows]

    async def get_objects(self, account_id: int, type_name: str, ids: Sequence[int]) -> list[StoredObject]:
        found: dict[int, StoredObject] = {}
        for chunk in chunks(ids):
            rows = await self._all(
                f"SELECT * FROM objects WHERE account_id = ? AND type = ? AND id IN ({marks(chunk)})",
                [account_id, type_name, *chunk],
            )
            found.update((row["id"], _stored(row)) for row in rows)
        return [found[object_id] for object_id in ids if object_id in found]

    async def create_object(self, account_id: int, type_name: str, data: Mapping[str, Any]) -> StoredObject:
        modseq = await self._next_modseq(account_id)
        row = await self._run(
            "INSERT INTO objects (account_id, type, data, modseq) VALUES (?, ?, ?, ?) RETURNING *",
            (account_id, type_name, dumps(dict(data)), modseq),
        )
        assert row is not None
        await self._append_change(account_id, modseq, type_name, str(row["id"]), "created")
        return _stored(row)

    async def update_object(
        self, account_id: int, type_name: str, object_id: int, data: Mapping[str, Any]
    ) -> StoredObject:
        await self._require_object(account_id, type_name, object_id)
        modseq = await self._log_object(account_id, type_name, str(object_id), "modified")
        row = await self._run(
            "UPDATE objects SET data = ?, modseq = ? WHERE id = ? RETURNING *", (dumps(dict(data)), modseq, object_id)
        )
        assert row is not None
        return _stored(row)

    async def delete_object(self, account_id: int, type_name: str, object_id: int) -> None:
        await self._require_object(account_id, type_name, object_id)
        await self._run("DELETE FROM objects WHERE id = ?", (object_id,))
        await self._log_object(account_id, type_name, str(object_id), "deleted")

    async def _require_object(self, account_id: int, type_name: str, object_id: int) -> None:
        row = await self._one(
            "SELECT 1 FROM objects WHERE id = ? AND account_id = ? AND type = ?", (object_id, account_id, type_name)
        )
        if row is None:
            raise NotFound(f"{type_name} {object_id}")
