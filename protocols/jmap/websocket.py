"""JMAP over WebSocket (RFC 8887): API requests as messages on one connection, and push on demand.

Requests on one connection run one at a time, in arrival order (RFC 8887 lets a server answer in any order; one at
a time bounds what a single socket can ask of the server), and share the account's ``maxConcurrentRequests`` with
the HTTP API. Push runs beside them in a task of its own, from ``WebSocketPushEnable`` until
``WebSocketPushDisable`` or the end of the connection.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected, WebSocketState

from gateway.auth import Principal
from protocols.jmap.dispatch import run_request
from protocols.jmap.endpoint import ConcurrencyGate, JmapEndpoint, problem_response
from protocols.jmap.errors import RequestError
from protocols.jmap.push import AccountWatch, StateTracker, state_change
from protocols.jmap.session import session_object
from protocols.jmap.wire import decode_json, encode_json, parse_request

log = logging.getLogger(__name__)

SUBPROTOCOL = "jmap"
MAX_SOCKETS_PER_ACCOUNT = 16
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013


async def refuse(websocket: WebSocket, response: Response, close_code: int) -> None:
    """Deny the handshake with ``response`` where the server can send one, else with a close before accepting."""
    if "websocket.http.response" in (websocket.scope.get("extensions") or {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(close_code)


class JmapWebSocket:
    def __init__(self, endpoint: JmapEndpoint) -> None:
        self.endpoint = endpoint
        self.gate = ConcurrencyGate(MAX_SOCKETS_PER_ACCOUNT, "maxWebSocketConnections")

    async def serve(self, websocket: WebSocket) -> None:
        if SUBPROTOCOL not in websocket.scope.get("subprotocols", ()):
            # RFC 8887 §4.1: the client asks for "jmap"; without it neither side knows what the messages mean.
            response = PlainTextResponse("The 'jmap' WebSocket subprotocol is required.\n", status_code=400)
            await refuse(websocket, response, CLOSE_PROTOCOL_ERROR)
            return
        if not self.same_origin(websocket):
            await refuse(websocket, PlainTextResponse("Cross-origin WebSocket refused.\n", 403), CLOSE_POLICY_VIOLATION)
            return
        principal: Principal = websocket.scope["principal"]
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.gate.enter(principal.account_id))
            except RequestError as error:
                await refuse(websocket, problem_response(error), CLOSE_TRY_AGAIN_LATER)
                return
            await websocket.accept(SUBPROTOCOL)
            await Connection(self.endpoint, websocket, principal, self.http_base_url(websocket)).run()

    def same_origin(self, websocket: WebSocket) -> bool:
        """A browser page of another site must not ride the user's stored credentials (cross-site WebSocket
        hijacking): WebSockets have no CORS, so the Origin browsers send is checked here. Other clients send none."""
        origin = websocket.headers.get("origin")
        if origin is None:
            return True
        allowed = {websocket.headers.get("host", "").lower()}
        if self.endpoint.configured_base_url:
            allowed.add(urlsplit(self.endpoint.configured_base_url).netloc.lower())
        return urlsplit(origin).netloc.lower() in allowed

    def http_base_url(self, websocket: WebSocket) -> str:
        """The base URL the session is built with, so ``sessionState`` matches the HTTP API's."""
        if self.endpoint.configured_base_url:
            return self.endpoint.configured_base_url.rstrip("/")
        scheme = "https" if websocket.url.scheme == "wss" else "http"
        return str(websocket.base_url.replace(scheme=scheme)).rstrip("/")


class Connection:
    """One accepted socket: its requests, its push task, and one lock so their messages never interleave."""

    def __init__(self, endpoint: JmapEndpoint, websocket: WebSocket, principal: Principal, base_url: str) -> None:
        self.endpoint = endpoint
        self.websocket = websocket
        self.principal = principal
        self.base_url = base_url
        self._send_lock = asyncio.Lock()
        self._push: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            while self.websocket.application_state is WebSocketState.CONNECTED:  # until either side closes
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    await self.websocket.close(CLOSE_UNSUPPORTED_DATA)  # RFC 8887 §4.2: text frames only
                    return
                await self.handle(text)
        except WebSocketDisconnect:
            pass  # the client left while being answered
        finally:
            self.disable_push()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(encode_json(message).decode())

    async def handle(self, text: str) -> None:
        request_id: str | None = None
        try:
            body = text.encode()
            limit = self.endpoint.server.limits.max_size_request
            if len(body) > limit:
                raise RequestError("limit", f"The message exceeds {limit} bytes.", status=413, limit="maxSizeRequest")
            document = decode_json(body)
            if not isinstance(document, dict):
                raise RequestError("notRequest", "A message must be a JSON object.")
            kind = document.get("@type")
            if kind == "Request":
                given_id = document.get("id")
                if given_id is not None and not isinstance(given_id, str):
                    raise RequestError("notRequest", "'id' must be a string.")
                request_id = given_id
                await self.answer(body, request_id)
            elif kind == "WebSocketPushEnable":
                await self.enable_push(document)
            elif kind == "WebSocketPushDisable":
                self.disable_push()
            else:
                raise RequestError("notRequest", "@type must be Request, WebSocketPushEnable or WebSocketPushDisable.")
        except RequestError as error:
            reply = {"@type": "RequestError", **error.problem()}
            if request_id is not None:
                reply["requestId"] = request_id  # RFC 8887 §4.3.4: returned when the request gave one
            await self.send(reply)

    async def answer(self, body: bytes, request_id: str | None) -> None:
        """Run one Request as the HTTP API would and send its Response."""
        request = parse_request(body)
        endpoint = self.endpoint
        account_id = self.principal.account_id
        async with endpoint.api_gate.enter(account_id):
            await endpoint.provision(account_id)
            async with endpoint.store.read() as tx:
                account = await tx.get_account_by_id(account_id)
            if account is None:  # deleted while connected: the credentials no longer name anyone
                await self.websocket.close(CLOSE_POLICY_VIOLATION)
                return
            session_state = session_object(endpoint.server, account, self.base_url)["state"]
            result = await run_request(endpoint.context(self.principal), request, session_state)
        reply = {"@type": "Response", **result}
        if request_id is not None:
            reply["requestId"] = request_id
        await self.send(reply)

    async def enable_push(self, document: dict[str, Any]) -> None:
        """RFC 8887 §4.3.5: push the wanted types (``dataTypes`` null = all); replaces an earlier enable.

        Returns once the push task has its baseline, so a change made after any later message is pushed."""
        data_types = document.get("dataTypes")
        push_state = document.get("pushState")
        if data_types is not None and not (
            isinstance(data_types, list) and all(isinstance(n, str) for n in data_types)
        ):
            raise RequestError("notRequest", "'dataTypes' must be null or an array of type names.")
        if push_state is not None and not isinstance(push_state, str):
            raise RequestError("notRequest", "'pushState' must be a string.")
        push_types = self.endpoint.server.registry.push_types
        wanted = frozenset(push_types) if data_types is None else frozenset(data_types) & push_types
        self.disable_push()
        ready = asyncio.get_running_loop().create_future()
        self._push = asyncio.create_task(self.push(wanted, push_state, ready))
        await asyncio.wait([ready, self._push], return_when=asyncio.FIRST_COMPLETED)

    def disable_push(self) -> None:
        if self._push is not None:
            self._push.cancel()
            self._push = None

    async def push(self, wanted: frozenset[str], push_state: str | None, ready: asyncio.Future[None]) -> None:
        """StateChange messages until cancelled. With a ``pushState`` the changes since it come at once (RFC 8887
        §4.3.5 SHOULD); without one the client is taken to know the current states."""
        store = self.endpoint.store
        account_id = self.principal.account_id
        try:
            async with AccountWatch(store, account_id) as watch:
                tracker = StateTracker(store, account_id, self.endpoint.server.registry.push_types, wanted)
                states = await tracker.read()
                if push_state is None:
                    tracker.told = dict(states)
                else:
                    tracker.assume_known(states, push_state)
                ready.set_result(None)
                while True:
                    moved = tracker.moved(states)
                    if moved:
                        await self.send({**state_change(account_id, moved), "pushState": tracker.token})
                    await watch.changed(None)
                    states = await tracker.read()
        except (WebSocketDisconnect, WebSocketDisconnected):
            pass  # the socket is gone; the receive loop ends the connection
        except Exception:
            log.exception("WebSocket push failed")
            await self.websocket.close(CLOSE_INTERNAL_ERROR)  # so the client reconnects rather than wait in vain
