"""What property getters may read: fetched once per request, so a listing of 10,000 members makes no
per-member queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from protocols.webdav.registry import DavRegistry
from storage.api import Account, Lock


@dataclass(frozen=True, slots=True)
class PropContext:
    user: str
    registry: DavRegistry
    account: Account | None
    used_bytes: int
    locks: tuple[Lock, ...]
    """Live locks on, above or below the request target."""
    addresses: tuple[str, ...] = ()
    """The user's mail addresses, primary first."""
    prop_requests: Mapping[str, object] = field(default_factory=dict)
    """Parsed parameters a report gave a property (e.g. calendar-data's comp/expand), by Clark name."""

    def locks_on(self, path: str) -> list[Lock]:
        """Locks whose scope covers ``path``: its own and depth-infinity locks of its ancestors."""
        return [
            lock
            for lock in self.locks
            if lock.path == path or (lock.depth_infinity and lock.path.endswith("/") and path.startswith(lock.path))
        ]
