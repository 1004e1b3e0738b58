"""JMAP push: the event source (RFC 8620 §7.3), and the state tracking it shares with WebSocket push (RFC 8887).

The change bus only says "this account committed"; what changed is read from the change log's per-type states,
so a dropped or merged wake-up loses nothing. Each connection remembers the states it has told its client and
names only the types that moved since. Bursts are coalesced: after a wake-up the connection waits a moment before
reading, so a 100-message import becomes a few events, not 100.

A push token (the event ``id``, the WebSocket ``pushState``) is the highest state over every push type. States are
modseqs of the account's one change log, so a type changed after a token was issued exactly when its state is
above the token: one number "encodes the entire server state visible to the user" (§7.3).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Set
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.auth import Principal
from protocols.jmap.context import ServerInfo, account_id_for
from protocols.jmap.endpoint import ConcurrencyGate, problem_response
from protocols.jmap.errors import RequestError
from protocols.jmap.wire import encode_json
from storage.api import Store

COALESCE_SECONDS = 0.05
"""How long a wake-up waits for the rest of its burst before the states are read."""
MIN_PING_SECONDS = 1
MAX_PING_SECONDS = 300
"""§7.3 lets a server clamp ``ping`` as long as the minimum is at most 30 and the maximum at least 300."""
MAX_STREAMS_PER_ACCOUNT = 16
STREAM_HEADERS = {"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"}
"""A stream is never complete, so nothing may cache it, and proxies (nginx honours the header) must not buffer it."""


class AccountWatch:
    """Wakes its owner after commits of one account, coalescing bursts.

    The change bus is read by a task of its own: a timeout on the subscription's ``anext`` (needed for pings)
    would close the subscription, while a timeout on an ``Event`` costs nothing.
    """

    def __init__(self, store: Store, account_id: int) -> None:
        self.store = store
        self.account_id = account_id
        self._woken = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AccountWatch:
        self._listener = asyncio.create_task(self._listen())
        await asyncio.sleep(0)  # the listener subscribes on its first step, before the owner reads its baseline
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._listener is not None:
            self._listener.cancel()  # the subscription ends (and leaves the bus) as the cancellation unwinds it

    async def _listen(self) -> None:
        async for account_id in self.store.subscribe():
            if account_id == self.account_id:
                self._woken.set()

    async def changed(self, within: float | None) -> bool:
        """True once a commit came and its burst settled; False if ``within`` seconds passed first."""
        if not self._woken.is_set():
            try:
                await asyncio.wait_for(self._woken.wait(), within)
            except TimeoutError:
                return False
        await asyncio.sleep(COALESCE_SECONDS)
        self._woken.clear()  # commits from here on wake the next round; the read that follows sees the earlier ones
        return True


class StateTracker:
    """The states one connection has told its client, so each message names only the wanted types that moved."""

    def __init__(self, store: Store, account_id: int, push_types: Iterable[str], wanted: Set[str]) -> None:
        self.store = store
        self.account_id = account_id
        self.push_types = sorted(push_types)
        self.wanted = wanted
        self.told: dict[str, int] = {}
        self.token = "0"
        """The push token of the last read."""

    async def read(self) -> dict[str, int]:
        """Every push type's state (all of them, since the token covers all)."""
        async with self.store.read() as tx:
            states = {name: await tx.type_state(self.account_id, name) for name in self.push_types}
        self.token = str(max(states.values(), default=0))
        return states

    def assume_known(self, states: Mapping[str, int], token: str | None) -> None:
        """What the client already has: the states no later than its ``token``; nothing without one."""
        since = parse_token(token)
        self.told = {} if since is None else {name: state for name, state in states.items() if state <= since}

    def moved(self, states: Mapping[str, int]) -> dict[str, str]:
        """The wanted types whose state the client has not been told yet, now counted as told."""
        moved = {name: state for name, state in states.items() if name in self.wanted and self.told.get(name) != state}
        self.told.update(moved)
        return {name: str(state) for name, state in sorted(moved.items())}


def parse_token(token: str | None) -> int | None:
    """A push token of ours, or None for anything else (a client's token from another server, say)."""
    if token is None or not token.isascii() or not token.isdigit() or len(token) > 18:
        return None
    return int(token)


def state_change(account_id: int, changed: Mapping[str, str]) -> dict[str, Any]:
    """A StateChange object (RFC 8620 §7.1) for one account."""
    return {"@type": "StateChange", "changed": {account_id_for(account_id): dict(changed)}}


def sse_event(name: str, data: object, event_id: str | None = None) -> bytes:
    """One server-sent event; compact JSON has no line breaks, so ``data`` is one line."""
    head = f"event: {name}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + encode_json(data) + b"\n\n"


@dataclass(frozen=True, slots=True)
class StreamOptions:
    types: frozenset[str]
    close_after_state: bool
    ping: int
    """Seconds of silence before a ping event, already clamped; 0 for no pings."""


def stream_options(query: Mapping[str, str], push_types: Set[str]) -> StreamOptions:
    """The three variables of the ``eventSourceUrl`` template; a missing or empty one takes its default.

    Unknown type names are ignored: the client asked a fair question whose answer is "never changes here".
    """
    types = query.get("types") or "*"
    named = frozenset(name.strip() for name in types.split(","))
    wanted = frozenset(push_types) if types == "*" else named & push_types
    close_after = query.get("closeafter") or "no"
    if close_after not in ("state", "no"):
        raise RequestError("invalidArguments", "closeafter must be 'state' or 'no'.")
    ping = query.get("ping") or "0"
    if not (ping.isascii() and ping.isdigit() and len(ping) < 10):
        raise RequestError("invalidArguments", "ping must be a non-negative integer number of seconds.")
    seconds = int(ping)
    clamped = min(max(seconds, MIN_PING_SECONDS), MAX_PING_SECONDS) if seconds else 0
    return StreamOptions(wanted, close_after == "state", clamped)


class EventStream(StreamingResponse):
    """An event stream holding one of its account's stream slots for exactly as long as it is served.

    The slot is taken when the response starts, not in the handler, so it is given back however the response
    ends, even when the client leaves before the first byte.
    """

    def __init__(self, events: AsyncIterator[bytes], gate: ConcurrencyGate, account_id: int) -> None:
        super().__init__(events, media_type="text/event-stream", headers=STREAM_HEADERS)
        self.gate = gate
        self.account_id = account_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.gate.enter(self.account_id))
            except RequestError as error:
                await problem_response(error)(scope, receive, send)
                return
            await super().__call__(scope, receive, send)


class EventSourceEndpoint:
    def __init__(self, store: Store, server: ServerInfo) -> None:
        self.store = store
        self.server = server
        self.gate = ConcurrencyGate(MAX_STREAMS_PER_ACCOUNT, "maxEventSourceConnections")

    async def stream(self, request: Request) -> Response:
        principal: Principal = request.scope["principal"]
        try:
            options = stream_options(request.query_params, self.server.registry.push_types)
        except RequestError as error:
            return problem_response(error)
        if request.method == "HEAD":
            return Response(media_type="text/event-stream", headers=STREAM_HEADERS)
        events = self.events(principal.account_id, options, request.headers.get("last-event-id"))
        return EventStream(events, self.gate, principal.account_id)

    async def events(self, account_id: int, options: StreamOptions, last_event_id: str | None) -> AsyncIterator[bytes]:
        """State events, pings through silence, until the client leaves (or after one state, if asked).

        A client with a ``Last-Event-ID`` hears at once of what it missed, or nothing if it missed nothing; a
        client without one first gets every wanted state as its baseline. ``closeafter=state`` ends the response
        after any state event (§7.3: "after pushing a state event"), that first one included; a client that
        reconnects with the event's id then waits for a real change, so the two never loop.
        """
        loop = asyncio.get_running_loop()
        async with AccountWatch(self.store, account_id) as watch:
            tracker = StateTracker(self.store, account_id, self.server.registry.push_types, options.types)
            states = await tracker.read()
            tracker.assume_known(states, last_event_id)
            last_event = loop.time()
            while True:
                moved = tracker.moved(states)
                if moved:
                    yield sse_event("state", state_change(account_id, moved), tracker.token)
                    if options.close_after_state:
                        return
                    last_event = loop.time()
                # §7.3: a ping whenever `ping` seconds pass since the previous event, with no id of its own.
                while not await watch.changed(last_event + options.ping - loop.time() if options.ping else None):
                    yield sse_event("ping", {"interval": options.ping})
                    last_event = loop.time()
                states = await tracker.read()
