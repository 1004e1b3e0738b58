"""The embedded default backend: one SQLite file in WAL mode.

SQLite allows one writer at a time, so writes queue on an asyncio lock and run as ``BEGIN IMMEDIATE``
transactions on a dedicated connection; reads run on a small pool of other connections, each inside a deferred
transaction that gives it a consistent snapshot while writers go on. Statements run inline on the event loop
(see ``inline``): a thread hop per statement cost more than the statements.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from storage.bus import ChangeBus
from storage.sqlite.inline import InlineConnection
from storage.sqlite.transaction import SqliteTransaction

READER_POOL_SIZE = 4
BUSY_TIMEOUT_MS = 10_000
PRAGMAS = (f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage.sqlite").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class SqliteStore:
    """A ``storage.api.Store`` on one SQLite database file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.bus = ChangeBus()
        self._writer: InlineConnection | None = None
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[InlineConnection] = asyncio.Queue()
        self._all_readers: list[InlineConnection] = []

    def _connect(self, *pragmas: str) -> InlineConnection:
        # check_same_thread=False: a lock wait runs on a worker thread, never while the loop uses the connection.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in (*PRAGMAS, *pragmas):
            conn.execute(pragma)
        return InlineConnection(conn)

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect("PRAGMA journal_mode = WAL")
        await self._migrate(self._writer)
        for _ in range(READER_POOL_SIZE):
            reader = self._connect()
            self._all_readers.append(reader)
            self._readers.put_nowait(reader)

    async def _migrate(self, conn: InlineConnection) -> None:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        for version, script in _migrations():
            if version <= current:
                continue
            # executescript commits on its own; the version bump rides in the same script.
            await conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")

    async def close(self) -> None:
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteTransaction]:
        conn = await self._readers.get()
        try:
            await conn.execute("BEGIN")
            try:
                yield SqliteTransaction(conn, writable=False)
            finally:
                await conn.execute("ROLLBACK")
        finally:
            self._readers.put_nowait(conn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqliteTransaction]:
        if self._writer is None:
            raise RuntimeError("store is not open")
        async with self._write_lock:
            conn = self._writer
            await conn.begin_immediate(BUSY_TIMEOUT_MS)
            tx = SqliteTransaction(conn, writable=True)
            try:
                yield tx
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
        for account_id in tx.touched_accounts:
            self.bus.publish(account_id)

    def subscribe(self) -> AsyncIterator[int]:
        return self.bus.subscribe()
