"""The DAV endpoint: resolve the URL, check the method applies, run its handler, map errors to statuses.

No client input may produce a 500: typed errors become their RFC statuses here, and anything unexpected is
logged and answered with a bare 500 that leaks nothing.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.auth import Principal
from protocols.webdav.context import DavContext, DavLimits
from protocols.webdav.errors import DavError
from protocols.webdav.paths import BadPath, parse_dav_path
from protocols.webdav.registry import DavRegistry
from protocols.webdav.resources import resolve
from storage.api import (
    AlreadyExists,
    NotFound,
    ParentMissing,
    PreconditionFailed,
    StorageError,
    Store,
    SyncTokenExpired,
    UidConflict,
)

log = logging.getLogger(__name__)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})

STORAGE_STATUSES: dict[type[StorageError], int] = {
    PreconditionFailed: 412,
    NotFound: 404,
    AlreadyExists: 405,
    ParentMissing: 409,
    UidConflict: 409,
    SyncTokenExpired: 403,
}
"""What a typed storage error means over HTTP when no handler answered it more precisely."""


class DavEndpoint:
    """ASGI app for everything below ``/dav``; expects ``scope["principal"]`` from the auth middleware."""

    def __init__(self, store: Store, registry: DavRegistry, limits: DavLimits) -> None:
        self.store = store
        self.registry = registry
        self.limits = limits
        self._welcomed: set[int] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request, scope["principal"])
        await response(scope, receive, send)

    async def handle(self, request: Request, principal: Principal) -> Response:
        method = self.registry.methods.get(request.method)
        if method is None:
            return Response(status_code=501)
        raw_path = request.scope.get("raw_path")
        try:
            await self.welcome(principal)
            path = raw_path.decode() if raw_path else quote(request.scope["path"])
            dav_path = parse_dav_path(path.split("?", 1)[0])
            ctx = DavContext(request, self.store, principal, self.registry, self.limits, dav_path)
            shared = self.registry.read_only_shared if request.method in READ_METHODS else ()
            async with self.store.read() as tx:
                resource = await resolve(tx, dav_path, principal.name, shared, with_body=request.method == "GET")
            if not method.allowed_on(resource):
                allow = ", ".join(self.registry.allowed_methods(resource))
                if not resource.exists and request.method not in ("PUT", "MKCOL", "LOCK"):
                    return Response(status_code=404)
                return Response(status_code=405, headers={"Allow": allow})
            return await method.handler(ctx, resource)
        except (BadPath, UnicodeDecodeError) as exc:
            return DavError(400, str(exc)).response()
        except DavError as exc:
            return exc.response()
        except StorageError as exc:
            status = next((code for kind, code in STORAGE_STATUSES.items() if isinstance(exc, kind)), None)
            if status is None:
                log.exception("unmapped storage error in %s %s", request.method, request.url.path)
                return Response(b"internal error\n", status_code=500, media_type="text/plain")
            return Response(status_code=status)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return Response(b"internal error\n", status_code=500, media_type="text/plain")

    async def welcome(self, principal: Principal) -> None:
        """First-login hooks, once per account and process; they are idempotent, so a race only repeats a check."""
        if principal.account_id in self._welcomed:
            return
        for hook in self.registry.first_login_hooks:
            await hook(self.store, principal)
        self._welcomed.add(principal.account_id)
