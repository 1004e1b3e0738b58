"""``Core/echo`` (RFC 8620 §4): answers with its own arguments, for clients testing the connection."""

from __future__ import annotations

from typing import Any

from protocols.jmap.context import CallContext
from protocols.jmap.registry import CORE, JmapRegistry


async def echo(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return arguments


def register(registry: JmapRegistry) -> None:
    registry.add_method("Core/echo", CORE, echo)
