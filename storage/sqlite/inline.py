"""The store's connections: statements run inline on the event loop's thread, in aiosqlite's calling shape.

A write transaction issues dozens of short statements (storing one email takes ~60). Through a thread per
connection (aiosqlite) each was a hop there and back (~50 µs of queueing and wake-ups against a few µs of SQLite
work), so the hops, not SQLite, bounded the write rate while the single writer lock was held, and they doubled
the cost of a small read. Inline, a statement costs what SQLite costs. Only waiting for the database lock could
block the loop for long, so when another process holds it, ``BEGIN IMMEDIATE`` waits (up to the busy timeout)
on a worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchmany(self, size: int) -> list[Any]:
        return self._cursor.fetchmany(size)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row


class InlineExecution:
    """Like aiosqlite's ``execute`` result: awaitable, or an async context manager closing the cursor."""

    def __init__(self, conn: sqlite3.Connection, sql: str, parameters: Iterable[Any]) -> None:
        self._cursor = InlineCursor(conn.execute(sql, tuple(parameters)))

    def __await__(self) -> Generator[Any, None, InlineCursor]:
        return self._done().__await__()

    async def _done(self) -> InlineCursor:
        return self._cursor

    async def __aenter__(self) -> InlineCursor:
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        self._cursor._cursor.close()


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._locker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-begin")

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> InlineExecution:
        return InlineExecution(self._conn, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        return InlineCursor(self._conn.executemany(sql, parameters))

    async def executescript(self, script: str) -> InlineCursor:
        return InlineCursor(self._conn.executescript(script))

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], deterministic: bool = False
    ) -> None:
        self._conn.create_function(name, num_params, func, deterministic=deterministic)

    async def begin_immediate(self, busy_timeout_ms: int) -> None:
        """Take the write lock: at once when it is free (the usual case, no thread hop), else on a worker thread,
        waiting up to ``busy_timeout_ms`` for another process's transaction without blocking the loop."""
        self._conn.execute("PRAGMA busy_timeout = 0")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError:
            pass  # SQLITE_BUSY: another process holds the write lock
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        await asyncio.get_running_loop().run_in_executor(self._locker, self._conn.execute, "BEGIN IMMEDIATE")

    async def close(self) -> None:
        self._conn.close()
        self._locker.shutdown(wait=False)
