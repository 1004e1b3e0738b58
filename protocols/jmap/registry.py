"""What the JMAP endpoint offers: capabilities and methods, registered by the type modules at start-up.

The session object and the dispatcher both read this registry, so the advertised capabilities are always the
ones whose methods exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from protocols.jmap.context import CallContext

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
VACATION = "urn:ietf:params:jmap:vacationresponse"
WEBSOCKET = "urn:ietf:params:jmap:websocket"

Handler = Callable[["CallContext", dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    capability: str
    handler: Handler


@dataclass
class Capability:
    urn: str
    session_value: dict[str, Any] = field(default_factory=dict)
    """The object under ``capabilities`` in the session."""
    account_value: dict[str, Any] | None = None
    """The object under each account's ``accountCapabilities``; None for server-only capabilities."""


@dataclass
class JmapRegistry:
    capabilities: dict[str, Capability] = field(default_factory=dict)
    methods: dict[str, Method] = field(default_factory=dict)
    push_types: set[str] = field(default_factory=set)
    """Type names whose state appears in StateChange push messages."""

    def add_capability(self, capability: Capability) -> None:
        self.capabilities[capability.urn] = capability

    def add_method(self, name: str, capability: str, handler: Handler) -> None:
        if capability not in self.capabilities:
            raise ValueError(f"{name}: capability {capability} is not registered")
        self.methods[name] = Method(name, capability, handler)
