"""SQLite implementation of ``storage.api.Transaction``."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from storage.api import (
    NO_PRECONDITIONS,
    SHORT_SPAN_SECONDS,
    Account,
    Address,
    AlreadyExists,
    Change,
    ChangeOp,
    ChangeSet,
    Collection,
    Item,
    ItemWrite,
    Lock,
    NotFound,
    ParentMissing,
    Preconditions,
    StorageError,
    SyncTokenExpired,
    TermMatch,
    UidConflict,
    etag_for,
    parent_of,
)
from storage.sqlite.email_query import QueryMixin
from storage.sqlite.emails import EmailsMixin
from storage.sqlite.inline import InlineConnection
from storage.sqlite.objects import ObjectsMixin

ITEM_COLUMNS = (
    "id, collection_id, name, etag, content_type, size, uid, modseq, created, modified, properties, component"
)
COLLECTION_COLUMNS = "id, account_id, path, kind, properties, modseq, created, modified"
PREFIXED_ITEM_COLUMNS = ", ".join(f"i.{column.strip()}" for column in ITEM_COLUMNS.split(","))
PREFIXED_COLLECTION_COLUMNS = ", ".join(f"c.{column.strip()}" for column in COLLECTION_COLUMNS.split(","))
"""The same columns in the same order, for joins (positions: Collection's and Item's field order)."""
NO_PROPERTIES: Mapping[str, str] = MappingProxyType({})
"""Shared by every item without dead properties (most of them), so listings skip parsing ``{}``."""
PREFIX_END = "\U0010ffff"
"""Appended to a prefix, the exclusive upper bound of every string starting with it."""
OPEN_START = -(2**62)
OPEN_END = 2**62
HOME_DEPTH = 2
"""Paths this many segments deep (``files/alice/``) are homes and need no parent collection."""


def subtree_upper_bound(prefix: str) -> str:
    """Exclusive upper bound of every path starting with ``prefix`` (which ends in "/"): "/" + 1 is "0"."""
    return prefix[:-1] + "0"


def _account(row: sqlite3.Row) -> Account:
    return Account(
        row["id"], row["name"], row["password_hash"], row["quota_bytes"], row["created"], row["display_name"]
    )


def _collection(row: Sequence[Any]) -> Collection:
    """``row`` starts with COLLECTION_COLUMNS, which are in the order of Collection's fields."""
    return Collection(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7])


def _item(row: Sequence[Any]) -> Item:
    """``row`` starts with ITEM_COLUMNS, which are in the order of Item's fields (a listing builds thousands)."""
    properties = row[10]
    return Item(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        NO_PROPERTIES if properties == "{}" else json.loads(properties), row[11],
    )  # fmt: skip


def _lock(row: sqlite3.Row) -> Lock:
    return Lock(
        token=row["token"],
        account_id=row["account_id"],
        path=row["path"],
        depth_infinity=bool(row["depth_infinity"]),
        exclusive=bool(row["exclusive"]),
        owner_xml=row["owner_xml"],
        principal=row["principal"],
        expires=row["expires"],
        timeout_seconds=row["timeout_seconds"],
        extra=json.loads(row["extra"]),
    )


def _merge_properties(current: Mapping[str, str], set_props: Mapping[str, str], remove: Sequence[str]) -> str:
    merged = dict(current)
    merged.update(set_props)
    for name in remove:
        merged.pop(name, None)
    return json.dumps(merged, separators=(",", ":"))


class SqliteTransaction(EmailsMixin, QueryMixin, ObjectsMixin):
    """The DAV half is here; the mail half comes from the mixins (one module per concern)."""

    def __init__(self, conn: InlineConnection, *, writable: bool) -> None:
        self._conn = conn
        self._writable = writable
        self.touched_accounts: set[int] = set()

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Execute a writing statement; returns the first row of its ``RETURNING`` clause, if any."""
        if not self._writable:
            raise StorageError("write attempted in a read transaction")
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _next_modseq(self, account_id: int) -> int:
        self.touched_accounts.add(account_id)
        row = await self._run("UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq", (account_id,))
        if row is None:
            raise NotFound("account")
        return int(row[0])

    # accounts

    async def create_account(self, name: str, password_hash: str, quota_bytes: int | None = None) -> Account:
        try:
            row = await self._run(
                "INSERT INTO accounts (name, password_hash, quota_bytes, created) VALUES (?, ?, ?, ?) RETURNING *",
                (name, password_hash, quota_bytes, time.time()),
            )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(name) from exc
        assert row is not None
        return _account(row)

    async def get_account(self, name: str) -> Account | None:
        row = await self._one("SELECT * FROM accounts WHERE name = ?", (name,))
        return _account(row) if row else None

    async def get_account_by_id(self, account_id: int) -> Account | None:
        row = await self._one("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return _account(row) if row else None

    async def list_accounts(self) -> list[Account]:
        return [_account(row) for row in await self._all("SELECT * FROM accounts ORDER BY name")]

    async def set_password(self, name: str, password_hash: str) -> None:
        row = await self._run(
            "UPDATE accounts SET password_hash = ? WHERE name = ? RETURNING id", (password_hash, name)
        )
        if row is None:
            raise NotFound(name)

    async def delete_account(self, name: str) -> None:
        row = await self._run("DELETE FROM accounts WHERE name = ? RETURNING id", (name,))
        if row is None:
            raise NotFound(name)

    async def set_display_name(self, account_id: int, display_name: str | None) -> None:
        if (
            await self._run(
                "UPDATE accounts SET display_name = ? WHERE id = ? RETURNING id", (display_name, account_id)
            )
            is None
        ):
            raise NotFound(str(account_id))

    async def get_addresses(self, account_id: int) -> list[Address]:
        rows = await self._all(
            "SELECT address, is_primary FROM account_addresses WHERE account_id = ? ORDER BY is_primary DESC, address",
            (account_id,),
        )
        return [Address(row["address"], bool(row["is_primary"])) for row in rows]

    async def set_addresses(self, account_id: int, primary: str | None, aliases: Sequence[str]) -> None:
        wanted = ([(primary, 1)] if primary else []) + [(alias, 0) for alias in aliases if alias != primary]
        for address, _ in wanted:
            holder = await self._one("SELECT account_id FROM account_addresses WHERE address = ?", (address,))
            if holder is not None and holder[0] != account_id:
                raise AlreadyExists(address)
        await self._run("DELETE FROM account_addresses WHERE account_id = ?", (account_id,))
        try:
            for address, is_primary in wanted:
                await self._run(
                    "INSERT INTO account_addresses (address, account_id, is_primary) VALUES (?, ?, ?)",
                    (address, account_id, is_primary),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists("address listed twice") from exc

    async def account_by_address(self, address: str) -> Account | None:
        # The exact address sorts before its domain's catch-all (``@domain``, the only form starting with "@").
        catch_all = "@" + address.rpartition("@")[2] if "@" in address else address
        row = await self._one(
            "SELECT a.* FROM accounts a JOIN account_addresses d ON d.account_id = a.id WHERE d.address IN (?, ?)"
            " ORDER BY d.address LIKE '@%' LIMIT 1",
            (address, catch_all),
        )
        return _account(row) if row else None

    async def account_usage(self, account_id: int) -> int:
        row = await self._one("SELECT used_bytes FROM accounts WHERE id = ?", (account_id,))
        if row is None:
            raise NotFound("account")
        return int(row[0])

    # collections

    async def get_collection(self, path: str) -> Collection | None:
        row = await self._one(f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE path = ?", (path,))
        return _collection(row) if row else None

    async def get_collection_by_id(self, collection_id: int) -> Collection | None:
        row = await self._one(f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = ?", (collection_id,))
        return _collection(row) if row else None

    async def list_child_collections(self, path: str) -> list[Collection]:
        rows = await self._all(
            f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE path > ? AND path < ? ORDER BY path",
            (path, subtree_upper_bound(path)),
        )
        depth = path.count("/") + 1
        return [_collection(row) for row in rows if row["path"].count("/") == depth]

    async def create_collection(
        self, account_id: int, path: str, kind: str, properties: Mapping[str, str] | None = None
    ) -> Collection:
        if not path.endswith("/") or path.startswith("/"):
            raise ValueError(f"bad collection path {path!r}")
        if path.count("/") > HOME_DEPTH:
            await self._require_free_with_parent(path)
        elif await self.get_collection(path) is not None:
            raise AlreadyExists(path)
        now = time.time()
        modseq = await self._next_modseq(account_id)
        row = await self._run(
            f"INSERT INTO collections (account_id, path, kind, properties, modseq, created, modified) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLLECTION_COLUMNS}",
            (account_id, path, kind, json.dumps(dict(properties or {})), modseq, now, now),
        )
        assert row is not None
        created = _collection(row)
        # A new member collection changes the parent's CTag (homes have no parent row to touch).
        await self._run(
            "UPDATE collections SET modseq = ?, modified = ? WHERE path = ?", (modseq, now, created.parent_path)
        )
        return created

    async def _require_free_with_parent(self, path: str) -> Collection:
        """The parent of ``path`` must be a collection and nothing may occupy ``path`` yet."""
        parent = await self.get_collection(parent_of(path))
        if parent is None:
            raise ParentMissing(path)
        if await self.get_collection(path) is not None:
            raise AlreadyExists(path)
        if await self.get_item(parent.id, path.rstrip("/").rsplit("/", 1)[-1]) is not None:
            raise AlreadyExists(path)
        return parent

    async def _subtree_ids(self, path: str) -> list[int]:
        rows = await self._all(
            "SELECT id FROM collections WHERE path = ? OR (path > ? AND path < ?)",
            (path, path, subtree_upper_bound(path)),
        )
        return [row[0] for row in rows]

    async def delete_collection(self, path: str) -> None:
        collection = await self.get_collection(path)
        if collection is None:
            raise NotFound(path)
        ids = await self._subtree_ids(path)
        marks = ",".join("?" * len(ids))
        row = await self._one(f"SELECT COALESCE(SUM(size), 0) FROM items WHERE collection_id IN ({marks})", ids)
        freed = int(row[0]) if row else 0
        await self._run(f"DELETE FROM changes WHERE collection_id IN ({marks})", ids)
        await self._run(f"DELETE FROM collections WHERE id IN ({marks})", ids)
        await self._run("UPDATE accounts SET used_bytes = used_bytes - ? WHERE id = ?", (freed, collection.account_id))
        await self._touch_parent(collection)

    async def _touch_parent(self, collection: Collection) -> None:
        """A member collection appeared, vanished or moved: the parent's CTag changes."""
        modseq = await self._next_modseq(collection.account_id)
        await self._run(
            "UPDATE collections SET modseq = ?, modified = ? WHERE path = ?",
            (modseq, time.time(), collection.parent_path),
        )

    async def move_collection(self, source: str, destination: str) -> Collection:
        collection = await self.get_collection(source)
        if collection is None:
            raise NotFound(source)
        if destination.startswith(source):
            raise AlreadyExists("destination inside source")
        await self._require_free_with_parent(destination)
        await self._run(
            "UPDATE collections SET path = ? || substr(path, ?) WHERE path = ? OR (path > ? AND path < ?)",
            (destination, len(source) + 1, source, source, subtree_upper_bound(source)),
        )
        await self._touch_parent(collection)
        moved = await self.get_collection(destination)
        assert moved is not None
        await self._touch_parent(moved)
        return moved

    async def update_collection_properties(
        self, collection_id: int, set_props: Mapping[str, str], remove: Sequence[str]
    ) -> Collection:
        collection = await self.get_collection_by_id(collection_id)
        if collection is None:
            raise NotFound(str(collection_id))
        modseq = await self._next_modseq(collection.account_id)
        row = await self._run(
            f"UPDATE collections SET properties = ?, modseq = ?, modified = ? WHERE id = ? "
            f"RETURNING {COLLECTION_COLUMNS}",
            (_merge_properties(collection.properties, set_props, remove), modseq, time.time(), collection_id),
        )
        assert row is not None
        return _collection(row)

    # items

    async def get_item(self, collection_id: int, name: str) -> Item | None:
        row = await self._one(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE collection_id = ? AND name = ?", (collection_id, name)
        )
        return _item(row) if row else None

    async def get_item_at(
        self, collection_path: str, name: str, *, with_body: bool = False
    ) -> tuple[Collection, Item | None, bytes | None] | None:
        data, bodies = ("b.data", " LEFT JOIN bodies b ON b.item_id = i.id") if with_body else ("NULL", "")
        row = await self._one(
            f"SELECT {PREFIXED_COLLECTION_COLUMNS}, {PREFIXED_ITEM_COLUMNS}, {data} FROM collections c"
            f" LEFT JOIN items i ON i.collection_id = c.id AND i.name = ?{bodies} WHERE c.path = ?",
            (name, collection_path),
        )
        if row is None:
            return None
        collection = _collection(row[:8])
        if row[8] is None:
            return collection, None, None
        return collection, _item(row[8:20]), None if row[20] is None else bytes(row[20])

    async def get_item_by_uid(self, collection_id: int, uid: str) -> Item | None:
        row = await self._one(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE collection_id = ? AND uid = ?", (collection_id, uid)
        )
        return _item(row) if row else None

    async def read_item(self, collection_id: int, name: str) -> tuple[Item, bytes] | None:
        row = await self._one(
            f"SELECT {ITEM_COLUMNS}, data FROM items JOIN bodies ON bodies.item_id = items.id "
            "WHERE collection_id = ? AND name = ?",
            (collection_id, name),
        )
        return (_item(row), bytes(row["data"])) if row else None

    async def list_items(self, collection_id: int, *, after: str = "", limit: int = 1000) -> list[Item]:
        rows = await self._all(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE collection_id = ? AND name > ? ORDER BY name LIMIT ?",
            (collection_id, after, limit),
        )
        return [_item(row) for row in rows]

    async def get_items(self, collection_id: int, names: Sequence[str]) -> list[Item]:
        rows = await self._rows_by_name(f"SELECT {ITEM_COLUMNS} FROM items", collection_id, names)
        return [_item(row) for row in rows]

    async def read_items(self, collection_id: int, names: Sequence[str]) -> list[tuple[Item, bytes]]:
        rows = await self._rows_by_name(
            f"SELECT {ITEM_COLUMNS}, data FROM items JOIN bodies ON bodies.item_id = items.id", collection_id, names
        )
        return [(_item(row), bytes(row["data"])) for row in rows]

    async def _rows_by_name(self, select: str, collection_id: int, names: Sequence[str]) -> list[sqlite3.Row]:
        """``select`` restricted to the named items, a chunk of names per statement (SQLite caps parameters)."""
        found: list[sqlite3.Row] = []
        for start in range(0, len(names), 500):
            chunk = list(names[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found += await self._all(f"{select} WHERE collection_id = ? AND name IN ({marks})", [collection_id, *chunk])
        return found

    async def count_items(self, collection_id: int) -> int:
        row = await self._one("SELECT COUNT(*) FROM items WHERE collection_id = ?", (collection_id,))
        return int(row[0]) if row else 0

    async def _collection_account(self, collection_id: int) -> int:
        row = await self._one("SELECT account_id FROM collections WHERE id = ?", (collection_id,))
        if row is None:
            raise NotFound(str(collection_id))
        return int(row[0])

    async def _log(self, account_id: int, collection_id: int, name: str, op: ChangeOp) -> int:
        modseq = await self._next_modseq(account_id)
        await self._run(
            "INSERT INTO changes (account_id, modseq, collection_id, name, op) VALUES (?, ?, ?, ?, ?)",
            (account_id, modseq, collection_id, name, op.value),
        )
        await self._run(
            "UPDATE collections SET modseq = ?, modified = ? WHERE id = ?", (modseq, time.time(), collection_id)
        )
        return modseq

    async def put_item(
        self, collection_id: int, write: ItemWrite, preconditions: Preconditions = NO_PRECONDITIONS
    ) -> tuple[Item, bool]:
        account_id = await self._collection_account(collection_id)
        current = await self.get_item(collection_id, write.name)
        preconditions.check(current.etag if current else None)
        if write.uid is not None:
            holder = await self.get_item_by_uid(collection_id, write.uid)
            if holder is not None and holder.name != write.name:
                raise UidConflict(write.uid, holder.name)
        if current is None and await self.get_collection(await self._child_path(collection_id, write.name)):
            raise AlreadyExists(write.name)
        op = ChangeOp.MODIFIED if current else ChangeOp.CREATED
        modseq = await self._log(account_id, collection_id, write.name, op)
        now = time.time()
        if write.properties is not None:
            properties = json.dumps(dict(write.properties))
        else:
            properties = json.dumps(dict(current.properties)) if current else "{}"
        row = await self._run(
            "INSERT INTO items (collection_id, name, etag, content_type, size, uid, modseq, created, modified,"
            " properties, component) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (collection_id, name)"
            " DO UPDATE SET etag = excluded.etag, content_type = excluded.content_type, size = excluded.size,"
            " uid = excluded.uid, modseq = excluded.modseq, modified = excluded.modified,"
            f" properties = excluded.properties, component = excluded.component RETURNING {ITEM_COLUMNS}",
            (
                collection_id,
                write.name,
                etag_for(write.data),
                write.content_type,
                len(write.data),
                write.uid,
                modseq,
                now,
                now,
                properties,
                write.component,
            ),
        )
        assert row is not None
        item = _item(row)
        await self._run("INSERT OR REPLACE INTO bodies (item_id, data) VALUES (?, ?)", (item.id, write.data))
        await self._index_spans(item, write.spans, replacing=current is not None)
        await self._index_terms(item, write.terms, replacing=current is not None)
        delta = item.size - (current.size if current else 0)
        await self._run("UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?", (delta, account_id))
        return item, current is None

    async def _index_spans(self, item: Item, spans: Sequence[tuple[int, int]], *, replacing: bool) -> None:
        if replacing:
            await self._run("DELETE FROM item_spans WHERE item_id = ?", (item.id,))
        if spans:
            await self._conn.executemany(
                'INSERT INTO item_spans (item_id, collection_id, long, start, "end") VALUES (?, ?, ?, ?, ?)',
                [
                    (item.id, item.collection_id, int(end - start > SHORT_SPAN_SECONDS), start, end)
                    for start, end in spans
                ],
            )

    async def _index_terms(self, item: Item, terms: Sequence[tuple[str, str]], *, replacing: bool) -> None:
        if replacing:
            await self._run("DELETE FROM item_terms WHERE item_id = ?", (item.id,))
        if terms:
            await self._conn.executemany(
                "INSERT INTO item_terms (item_id, collection_id, field, value) VALUES (?, ?, ?, ?)",
                [(item.id, item.collection_id, field, value) for field, value in terms],
            )

    async def query_items(
        self,
        collection_id: int,
        *,
        component: str | None = None,
        start: int | None = None,
        end: int | None = None,
        terms: Sequence[TermMatch] = (),
    ) -> list[Item]:
        params: list[Any] = [collection_id]
        ranged = start is not None or end is not None
        # With a time range or terms an index of those must drive the plan: the unary "+" keeps SQLite from
        # walking the whole (collection_id, name) index to save the final sort, which would cost O(collection).
        driven = ranged or bool(terms)
        sql = f"SELECT {ITEM_COLUMNS} FROM items WHERE {'+' if driven else ''}collection_id = ?"
        if component is not None:
            sql += " AND component = ?"
            params.append(component)
        if ranged:
            low = start if start is not None else OPEN_START
            high = end if end is not None else OPEN_END
            sql += (
                " AND id IN (SELECT item_id FROM item_spans WHERE collection_id = ? AND long = 0"
                ' AND start >= ? AND start < ? AND "end" > ?'
                " UNION SELECT item_id FROM item_spans WHERE collection_id = ? AND long = 1"
                ' AND start < ? AND "end" > ?)'
            )
            params += [collection_id, low - SHORT_SPAN_SECONDS, high, low, collection_id, high, low]
        if terms:
            selects = []
            lookup = "SELECT item_id FROM item_terms WHERE collection_id = ? AND field = ?"
            for term in terms:
                if term.prefix:
                    selects.append(f"{lookup} AND value >= ? AND value < ?")
                    params += [collection_id, term.field, term.value, term.value + PREFIX_END]
                else:
                    selects.append(f"{lookup} AND value = ?")
                    params += [collection_id, term.field, term.value]
            sql += f" AND id IN ({' UNION '.join(selects)})"
        return [_item(row) for row in await self._all(sql + " ORDER BY name", params)]

    async def _child_path(self, collection_id: int, name: str) -> str:
        collection = await self.get_collection_by_id(collection_id)
        if collection is None:
            raise NotFound(str(collection_id))
        return f"{collection.path}{name}/"

    async def delete_item(self, collection_id: int, name: str, preconditions: Preconditions = NO_PRECONDITIONS) -> None:
        account_id = await self._collection_account(collection_id)
        current = await self.get_item(collection_id, name)
        preconditions.check(current.etag if current else None)
        if current is None:
            raise NotFound(name)
        await self._run("DELETE FROM items WHERE id = ?", (current.id,))
        await self._run("UPDATE accounts SET used_bytes = used_bytes - ? WHERE id = ?", (current.size, account_id))
        await self._log(account_id, collection_id, name, ChangeOp.DELETED)

    async def update_item_properties(
        self, collection_id: int, name: str, set_props: Mapping[str, str], remove: Sequence[str]
    ) -> Item:
        current = await self.get_item(collection_id, name)
        if current is None:
            raise NotFound(name)
        row = await self._run(
            f"UPDATE items SET properties = ? WHERE id = ? RETURNING {ITEM_COLUMNS}",
            (_merge_properties(current.properties, set_props, remove), current.id),
        )
        assert row is not None
        return _item(row)

    # change log

    async def changes_since(self, collection_id: int, token: int, limit: int | None = None) -> ChangeSet:
        row = await self._one(
            "SELECT c.modseq AS current, a.modseq AS account_modseq, a.compacted_modseq AS horizon "
            "FROM collections c JOIN accounts a ON a.id = c.account_id WHERE c.id = ?",
            (collection_id,),
        )
        if row is None:
            raise NotFound(str(collection_id))
        if token < 0 or token > row["account_modseq"] or (token and token < row["horizon"]):
            raise SyncTokenExpired(str(token))
        fetch = -1 if limit is None else limit + 1
        if token == 0:
            rows = await self._all(
                "SELECT name, 'created' AS op, modseq FROM items WHERE collection_id = ? ORDER BY modseq LIMIT ?",
                (collection_id, fetch),
            )
        else:
            rows = await self._all(
                "SELECT name, op, MAX(modseq) AS modseq FROM changes WHERE collection_id = ? AND modseq > ? "
                "GROUP BY name ORDER BY modseq LIMIT ?",
                (collection_id, token, fetch),
            )
        more = limit is not None and len(rows) > limit
        if more:
            rows = rows[:limit]
        changes = [Change(r["name"], ChangeOp(r["op"]), r["modseq"]) for r in rows]
        next_token = changes[-1].modseq if more else max(int(row["current"]), token)
        return ChangeSet(changes, next_token, more)

    async def compact_changes(self, account_id: int, keep_after_modseq: int) -> None:
        await self._run("DELETE FROM changes WHERE account_id = ? AND modseq <= ?", (account_id, keep_after_modseq))
        await self._run(
            "UPDATE accounts SET compacted_modseq = MAX(compacted_modseq, ?) WHERE id = ?",
            (keep_after_modseq, account_id),
        )

    # locks

    async def put_lock(self, lock: Lock) -> None:
        await self._run("DELETE FROM locks WHERE expires <= ?", (time.time(),))
        await self._run(
            "INSERT OR REPLACE INTO locks (token, account_id, path, depth_infinity, exclusive, owner_xml, principal,"
            " expires, timeout_seconds, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                lock.token,
                lock.account_id,
                lock.path,
                int(lock.depth_infinity),
                int(lock.exclusive),
                lock.owner_xml,
                lock.principal,
                lock.expires,
                lock.timeout_seconds,
                json.dumps(dict(lock.extra)),
            ),
        )

    async def get_lock(self, token: str) -> Lock | None:
        row = await self._one("SELECT * FROM locks WHERE token = ?", (token,))
        return _lock(row) if row else None

    async def locks_affecting(self, path: str, now: float) -> list[Lock]:
        ancestors = []
        probe = path
        while probe:
            probe = parent_of(probe)
            if probe:
                ancestors.append(probe)
        marks = ",".join("?" * len(ancestors)) or "NULL"
        params: list[Any] = [now, path, *ancestors]
        sql = f"SELECT * FROM locks WHERE expires > ? AND (path = ? OR (depth_infinity = 1 AND path IN ({marks}))"
        if path.endswith("/"):
            sql += " OR (path > ? AND path < ?)"
            params += [path, subtree_upper_bound(path)]
        rows = await self._all(sql + ")", params)
        return [_lock(row) for row in rows]

    async def delete_lock(self, token: str) -> None:
        await self._run("DELETE FROM locks WHERE token = ?", (token,))

    async def delete_locks(self, path: str) -> None:
        if path.endswith("/"):
            await self._run(
                "DELETE FROM locks WHERE path = ? OR (path > ? AND path < ?)", (path, path, subtree_upper_bound(path))
            )
        else:
            await self._run("DELETE FROM locks WHERE path = ?", (path,))
