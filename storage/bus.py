"""In-process change notifications: after a commit, subscribers learn which accounts changed.

Push (JMAP EventSource, WebDAV-Push) reads the change log itself; the bus only wakes it up. A backend shared
by several processes (PostgreSQL) feeds the same bus from LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

QUEUE_LIMIT = 1024


class ChangeBus:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[int]] = set()

    def publish(self, account_id: int) -> None:
        for queue in self._queues:
            if queue.full():
                continue  # a slow subscriber re-reads the log anyway; dropping a wake-up loses nothing
            queue.put_nowait(account_id)

    async def subscribe(self) -> AsyncIterator[int]:
        queue: asyncio.Queue[int] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)
