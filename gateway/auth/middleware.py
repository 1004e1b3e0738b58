"""Pure ASGI middleware guarding the protocol trees: resources below a protected prefix need a principal.

WebSocket handshakes are authenticated like HTTP requests, from their headers. A refused handshake gets the same
401 or 429 response where the server can send one (the ASGI WebSocket denial-response extension), else a
policy-violation close, which servers answer with 403.

Discovery paths (``/.well-known/...``) stay open so clients can find the server before they log in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import AuthenticationFailed, Authenticator, Principal, RateLimited

DENIAL_RESPONSE = "websocket.http.response"
CLOSE_POLICY_VIOLATION = 1008


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        authenticators: Sequence[Authenticator],
        protected_prefixes: Sequence[str] = ("/dav", "/jmap"),
        realm: str = "Groupware",
    ) -> None:
        self.app = app
        self.authenticators = tuple(authenticators)
        self.protected_prefixes = tuple(prefix.rstrip("/") for prefix in protected_prefixes)
        self.realm = realm

    def _protects(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.protected_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self._protects(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._authenticate(HTTPConnection(scope))
        except RateLimited as exc:
            response: Response = PlainTextResponse(
                "Too many failed logins; try again later.\n",
                status_code=429,
                headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_seconds)))},
            )
        except AuthenticationFailed as exc:
            response = self._unauthorized(exc.challenge)
        else:
            if principal is not None:
                scope["principal"] = principal
                await self.app(scope, receive, send)
                return
            response = self._unauthorized(None)
        if scope["type"] == "websocket" and DENIAL_RESPONSE not in (scope.get("extensions") or {}):
            await send({"type": "websocket.close", "code": CLOSE_POLICY_VIOLATION})
        else:
            await response(scope, receive, send)  # Starlette responses also answer a WebSocket handshake

    async def _authenticate(self, connection: HTTPConnection) -> Principal | None:
        """The first principal an authenticator vouches for; ``None`` when no credentials were offered."""
        for authenticator in self.authenticators:
            principal = await authenticator.authenticate(connection)
            if principal is not None:
                return principal
        return None

    def _unauthorized(self, challenge: str | None) -> Response:
        response = PlainTextResponse("Authentication required.\n", status_code=401)
        challenges = [challenge] if challenge else [auth.challenge(self.realm) for auth in self.authenticators]
        for value in challenges:
            response.headers.append("WWW-Authenticate", value)
        return response
