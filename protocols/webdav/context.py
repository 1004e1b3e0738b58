"""Per-request state every DAV handler receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request

from gateway.auth import Principal
from protocols.webdav.paths import DavPath
from storage.api import Store

if TYPE_CHECKING:
    from protocols.webdav.registry import DavRegistry


@dataclass(frozen=True, slots=True)
class DavLimits:
    max_request_bytes: int
    max_item_bytes: int
    lock_max_timeout_seconds: int


@dataclass(slots=True)
class DavContext:
    request: Request
    store: Store
    principal: Principal
    registry: DavRegistry
    limits: DavLimits
    dav_path: DavPath
    _body: bytes | None = field(default=None)

    @property
    def user(self) -> str:
        return self.principal.name

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    async def body(self) -> bytes:
        """The request body, refused with 413 past the configured limit without reading it all."""
        if self._body is None:
            from protocols.webdav.errors import DavError

            declared = self.request.headers.get("content-length")
            limit = self.limits.max_request_bytes
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise DavError(413, "request body too large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.request.stream():
                size += len(chunk)
                if size > limit:
                    raise DavError(413, "request body too large")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body
