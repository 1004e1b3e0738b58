"""What a method handler sees: the store, the caller, the account asked for, the request's created ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.auth import Principal
from protocols.jmap.errors import MethodError
from protocols.jmap.registry import JmapRegistry
from protocols.smtp import Relay
from storage.api import Store

COLLATIONS = ("i;ascii-numeric", "i;ascii-casemap", "i;unicode-casemap")


@dataclass(frozen=True, slots=True)
class JmapLimits:
    """The ``urn:ietf:params:jmap:core`` limits (RFC 8620 §2), enforced where they are advertised."""

    max_size_upload: int = 50 * 1024 * 1024
    max_concurrent_upload: int = 4
    max_size_request: int = 10 * 1024 * 1024
    max_concurrent_requests: int = 8
    max_calls_in_request: int = 32
    max_objects_in_get: int = 500
    max_objects_in_set: int = 500

    def session_value(self) -> dict[str, Any]:
        return {
            "maxSizeUpload": self.max_size_upload,
            "maxConcurrentUpload": self.max_concurrent_upload,
            "maxSizeRequest": self.max_size_request,
            "maxConcurrentRequests": self.max_concurrent_requests,
            "maxCallsInRequest": self.max_calls_in_request,
            "maxObjectsInGet": self.max_objects_in_get,
            "maxObjectsInSet": self.max_objects_in_set,
            "collationAlgorithms": list(COLLATIONS),
        }


def account_id_for(account_id: int) -> str:
    return f"A{account_id}"


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Process-wide facts handlers need: where the server is and what it allows."""

    registry: JmapRegistry
    limits: JmapLimits
    base_url: str
    """Public URL prefix without trailing slash."""
    mail_domain: str
    """Domain for generated Message-IDs."""
    max_message_bytes: int
    """Largest message EmailSubmission sends (``tooLarge`` above it); drafts may be as large as an upload."""
    relay: Relay | None = None
    """Where outgoing mail goes; None when no relay is configured (sending is refused)."""


@dataclass
class CallContext:
    store: Store
    principal: Principal
    server: ServerInfo
    created_ids: dict[str, str] = field(default_factory=dict)
    """Creation id -> real id, for ``#creationId`` references across the request (RFC 8620 §5.3)."""
    follow_ups: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Implicit calls a handler asks for (e.g. ``onSuccessUpdateEmail``), answered under its call id."""

    @property
    def limits(self) -> JmapLimits:
        return self.server.limits

    def account(self, arguments: dict[str, Any]) -> int:
        """The store account id named by ``accountId``; only the caller's own account exists for it."""
        value = arguments.get("accountId")
        if not isinstance(value, str):
            raise MethodError("invalidArguments", "accountId must be a string.")
        if value != account_id_for(self.principal.account_id):
            raise MethodError("accountNotFound")
        return self.principal.account_id

    def resolve_id(self, value: str) -> str:
        """A ``#creationId`` reference becomes the id created for it earlier in this request."""
        if value.startswith("#"):
            created = self.created_ids.get(value[1:])
            if created is None:
                raise LookupError(value)
            return created
        return value
