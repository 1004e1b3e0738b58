"""The JMAP HTTP surface: session, API, upload and download (push lives in ``push``), as Starlette routes.

Authentication happened in front (``/jmap`` is protected); every handler reads the principal from the scope
and acts only on that principal's account.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.auth import Principal
from protocols.jmap.context import CallContext, ServerInfo
from protocols.jmap.dispatch import run_request
from protocols.jmap.errors import RequestError
from protocols.jmap.session import session_object
from protocols.jmap.types.identity import ensure_identities
from protocols.jmap.wire import encode_json, parse_request
from protocols.services.mail import ensure_mailboxes
from storage.api import Store

JSON = "application/json"
PROBLEM = "application/problem+json"


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode_json(body), status_code=status, media_type=JSON, headers=headers)


def problem_response(error: RequestError) -> Response:
    return Response(encode_json(error.problem()), status_code=error.status, media_type=PROBLEM)


async def read_body(request: Request, limit: int, limit_name: str) -> bytes:
    """The body, refused with a ``limit`` problem as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError("limit", f"The body exceeds {limit} bytes.", status=413, limit=limit_name)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError("limit", f"The body exceeds {limit} bytes.", status=413, limit=limit_name)
        chunks.append(chunk)
    return b"".join(chunks)


class ConcurrencyGate:
    """Counts requests in flight per account, refusing beyond the advertised limit."""

    def __init__(self, limit: int, limit_name: str) -> None:
        self.limit = limit
        self.limit_name = limit_name
        self.active: Counter[int] = Counter()

    @asynccontextmanager
    async def enter(self, account_id: int) -> AsyncIterator[None]:
        if self.active[account_id] >= self.limit:
            raise RequestError("limit", f"At most {self.limit} concurrent requests.", status=429, limit=self.limit_name)
        self.active[account_id] += 1
        try:
            yield
        finally:
            self.active[account_id] -= 1
            if not self.active[account_id]:
                del self.active[account_id]


class JmapEndpoint:
    def __init__(self, store: Store, server: ServerInfo, configured_base_url: str | None) -> None:
        self.store = store
        self.server = server
        self.configured_base_url = configured_base_url
        self.api_gate = ConcurrencyGate(server.limits.max_concurrent_requests, "maxConcurrentRequests")
        self._provisioned: set[int] = set()
        self._provision_lock = asyncio.Lock()

    def base_url(self, request: Request) -> str:
        """The configured public URL, else the one the client used (so URLs work through any host name)."""
        if self.configured_base_url:
            return self.configured_base_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    async def provision(self, account_id: int) -> None:
        """Make sure the role mailboxes exist (accounts made before mail existed get them on first use)."""
        if account_id in self._provisioned:
            return
        async with self._provision_lock:
            async with self.store.write() as tx:
                await ensure_mailboxes(tx, account_id)
                account = await tx.get_account_by_id(account_id)
                fallback = f"{account.name if account else account_id}@{self.server.mail_domain}"
                await ensure_identities(tx, account_id, fallback)
            self._provisioned.add(account_id)

    def context(self, principal: Principal) -> CallContext:
        return CallContext(self.store, principal, self.server)

    async def session(self, request: Request) -> Response:
        principal: Principal = request.scope["principal"]
        await self.provision(principal.account_id)
        async with self.store.read() as tx:
            account = await tx.get_account_by_id(principal.account_id)
        if account is None:
            return Response(status_code=401)
        body = session_object(self.server, account, self.base_url(request))
        return json_response(body, headers={"Cache-Control": "no-cache, no-store"})

    async def api(self, request: Request) -> Response:
        principal: Principal = request.scope["principal"]
        try:
            async with self.api_gate.enter(principal.account_id):
                if not request.headers.get("content-type", JSON).lower().startswith(JSON):
                    raise RequestError("notJSON", "The request must be sent as application/json.")
                body = await read_body(request, self.server.limits.max_size_request, "maxSizeRequest")
                parsed = parse_request(body)
                await self.provision(principal.account_id)
                async with self.store.read() as tx:
                    account = await tx.get_account_by_id(principal.account_id)
                if account is None:
                    return Response(status_code=401)
                state = session_object(self.server, account, self.base_url(request))["state"]
                result = await run_request(self.context(principal), parsed, state)
        except RequestError as error:
            return problem_response(error)
        return json_response(result)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/jmap/session", self.session, methods=["GET"]),
            Route("/jmap/api", self.api, methods=["POST"]),
            Route("/jmap/api/", self.api, methods=["POST"]),
        ]


async def well_known_jmap(request: Request) -> Response:
    """RFC 8620 §2.2: the well-known URL leads to the session resource on the same origin."""
    return RedirectResponse("/jmap/session", status_code=307)
