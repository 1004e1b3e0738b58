"""Thread (RFC 8621 §3): the emails of one conversation, oldest first; get and changes."""

from __future__ import annotations

from typing import Any

from protocols.jmap import generic
from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError
from protocols.jmap.ids import EMAIL, THREAD
from protocols.jmap.registry import MAIL, JmapRegistry

TYPE = "Thread"
PROPERTIES = ("id", "emailIds")


async def thread_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    if arguments.get("ids", []) is None:
        raise MethodError("requestTooLarge", "Thread/get needs ids: threads cannot be listed.")

    async def fetch(account_id: int, ids: list[str] | None, properties: set[str]) -> list[dict[str, Any]]:
        wanted = [store_id for store_id in map(THREAD.parse, ids or []) if store_id is not None]
        async with ctx.store.read() as tx:
            found = await tx.get_threads(account_id, wanted)
        return [
            {"id": THREAD.render(thread_id), "emailIds": [EMAIL.render(email_id) for email_id in email_ids]}
            for thread_id, email_ids in found.items()
        ]

    return await generic.standard_get(ctx, arguments, TYPE, fetch, known=PROPERTIES)


async def thread_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_changes(ctx, arguments, TYPE, THREAD.render)


def register(registry: JmapRegistry) -> None:
    registry.push_types.add(TYPE)
    registry.add_method("Thread/get", MAIL, thread_get)
    registry.add_method("Thread/changes", MAIL, thread_changes)
