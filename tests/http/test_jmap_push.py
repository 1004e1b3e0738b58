"""JMAP push over real HTTP: the event source (RFC 8620 §7.3) and JMAP over WebSocket (RFC 8887)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from gateway.app import build_app
from gateway.settings import Settings
from protocols.jmap.push import MAX_PING_SECONDS, MAX_STREAMS_PER_ACCOUNT, stream_options
from protocols.jmap.websocket import MAX_SOCKETS_PER_ACCOUNT
from tests.http.jmap_support import CORE, MAIL, STREAM, Jmap, event_stream, new_user, read_events
from tests.testing import LiveServer, free_port, gateway

WEBSOCKET = "urn:ietf:params:jmap:websocket"
TIMEOUT = 5.0


@pytest.fixture
def jmap(server: LiveServer) -> Jmap:
    """A fresh account per test, so its states move only when the test moves them."""
    return new_user(server, "jpush")


def user_of(jmap: Jmap) -> str:
    return str(jmap.session["username"])


def create_mailbox(jmap: Jmap, name: str) -> str:
    """Create a mailbox; the new Mailbox state."""
    result = jmap.call("Mailbox/set", {"create": {"m": {"name": name}}})
    assert "m" in result["created"], result
    return str(result["newState"])


# --- event source ----------------------------------------------------------------------------------------------


def test_session_advertises_push_urls(jmap: Jmap, server: LiveServer) -> None:
    session = jmap.session
    assert session["eventSourceUrl"].startswith(server.base_url + "/jmap/eventsource/?types={types}")
    assert session["capabilities"][WEBSOCKET] == {
        "url": server.base_url.replace("http://", "ws://") + "/jmap/ws",
        "supportsPush": True,
    }
    assert WEBSOCKET not in session["accounts"][jmap.account_id]["accountCapabilities"]


def test_first_event_is_the_baseline_of_every_type(jmap: Jmap, server: LiveServer) -> None:
    mailbox_state = jmap.call("Mailbox/get", {"ids": []})["state"]
    with event_stream(server, user_of(jmap)) as (response, events):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "no-cache" in response.headers["cache-control"]
        first = next(events)
    assert first.name == "state" and first.id
    assert first.data["@type"] == "StateChange"
    states = first.data["changed"][jmap.account_id]
    assert {"Mailbox", "Email", "Thread"} <= set(states)
    assert states["Mailbox"] == mailbox_state


def test_a_change_pushes_only_the_types_that_moved(jmap: Jmap, server: LiveServer) -> None:
    with event_stream(server, user_of(jmap)) as (_, events):
        baseline = next(events)
        new_state = create_mailbox(jmap, "Pushed")
        event = next(events)
    assert event.name == "state"
    assert event.data == {"@type": "StateChange", "changed": {jmap.account_id: {"Mailbox": new_state}}}
    assert int(str(event.id)) > int(str(baseline.id))


def test_a_burst_of_commits_is_coalesced(jmap: Jmap, server: LiveServer) -> None:
    commits = 10
    with event_stream(server, user_of(jmap), ping=1) as (_, events):
        next(events)
        for number in range(commits):
            final_state = create_mailbox(jmap, f"Burst {number}")
        pushed = list(itertools.takewhile(lambda event: event.name == "state", events))  # up to 1 s of silence
    assert 1 <= len(pushed) < commits
    assert pushed[-1].data["changed"][jmap.account_id] == {"Mailbox": final_state}


def test_types_limit_what_is_pushed(jmap: Jmap, server: LiveServer) -> None:
    with event_stream(server, user_of(jmap), types="Email,NoSuchType", ping=1) as (_, events):
        first = next(events)
        assert set(first.data["changed"][jmap.account_id]) == {"Email"}
        create_mailbox(jmap, "Unwatched")
        assert next(events).name == "ping"


def test_pings_fill_silence_and_carry_no_id(jmap: Jmap, server: LiveServer) -> None:
    with (
        server.client(user_of(jmap), timeout=TIMEOUT) as http,
        http.stream("GET", STREAM.format(types="*", closeafter="no", ping=1)) as response,
    ):
        lines = response.iter_lines()
        while next(lines) != "":  # the state event
            pass
        started = time.monotonic()
        ping = [next(lines), next(lines), next(lines)]
        waited = time.monotonic() - started
    assert ping == ["event: ping", 'data: {"interval":1}', ""]  # no id line: a ping must not move Last-Event-ID
    assert 0.8 < waited < 3


def test_ping_is_clamped_and_zero_means_none() -> None:
    assert stream_options({"ping": "0"}, {"Mailbox"}).ping == 0
    assert stream_options({}, {"Mailbox"}).ping == 0
    assert stream_options({"ping": "100000"}, {"Mailbox"}).ping == MAX_PING_SECONDS
    assert 30 >= stream_options({"ping": "1"}, {"Mailbox"}).ping >= 1
    assert stream_options({"types": "*"}, {"Mailbox", "Email"}).types == {"Mailbox", "Email"}


def test_closeafter_state_ends_the_response_after_a_state_event(jmap: Jmap, server: LiveServer) -> None:
    user = user_of(jmap)
    with event_stream(server, user, closeafter="state") as (_, events):
        baseline = list(events)  # ends by itself
    assert [event.name for event in baseline] == ["state"]
    # Reconnecting with the event's id: nothing missed, so the response waits for a real change.
    with event_stream(server, user, closeafter="state", **{"Last-Event-ID": str(baseline[0].id)}) as (_, events):
        new_state = create_mailbox(jmap, "Awaited")
        after = list(events)
    assert [event.data["changed"][jmap.account_id] for event in after] == [{"Mailbox": new_state}]


def test_last_event_id_brings_only_what_was_missed(jmap: Jmap, server: LiveServer) -> None:
    user = user_of(jmap)
    with event_stream(server, user) as (_, events):
        seen = next(events)
    new_state = create_mailbox(jmap, "Missed")
    with event_stream(server, user, ping=1, **{"Last-Event-ID": str(seen.id)}) as (_, events):
        resumed = next(events)
    assert resumed.data["changed"][jmap.account_id] == {"Mailbox": new_state}


def test_bad_parameters_and_missing_credentials_are_refused(jmap: Jmap, server: LiveServer) -> None:
    with server.client(user_of(jmap), timeout=TIMEOUT) as http:
        for query in ("ping=soon", "ping=-1", "closeafter=maybe"):
            response = http.get(f"/jmap/eventsource/?{query}")
            assert response.status_code == 400, query
            assert response.headers["content-type"] == "application/problem+json"
    with server.client(None, timeout=TIMEOUT) as anonymous:
        assert anonymous.get(STREAM.format(types="*", closeafter="no", ping=0)).status_code == 401


@contextmanager
def stream_when_free(server: LiveServer, user: str) -> Iterator[None]:
    """An open event stream, once a slot is free (a closed stream's slot comes back when the server notices)."""
    deadline = time.monotonic() + TIMEOUT
    with server.client(user, timeout=TIMEOUT) as http:
        while True:
            with http.stream("GET", STREAM.format(types="*", closeafter="no", ping=0)) as response:
                if response.status_code == 200:
                    events = read_events(response)  # kept: a generator dropped half-read closes the response
                    assert next(events).name == "state"
                    yield
                    return
            assert time.monotonic() < deadline, "stream slots were not released"
            time.sleep(0.05)


def test_streams_per_account_are_bounded_and_released_on_disconnect(jmap: Jmap, server: LiveServer) -> None:
    user = user_of(jmap)
    for _ in range(2):  # the second round only fits if the first round's slots came back
        with ExitStack() as streams:
            for _ in range(MAX_STREAMS_PER_ACCOUNT):
                streams.enter_context(stream_when_free(server, user))
            with server.client(user, timeout=TIMEOUT) as http:
                refused = http.get(STREAM.format(types="*", closeafter="no", ping=0))
            assert refused.status_code == 429
            assert refused.json()["type"] == "urn:ietf:params:jmap:error:limit"


# --- WebSocket -------------------------------------------------------------------------------------------------


def ws_url(server: LiveServer) -> str:
    return server.base_url.replace("http://", "ws://") + "/jmap/ws"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def open_socket(server: LiveServer, user: str | None, **options: Any) -> ClientConnection:
    headers = {"Authorization": basic(user, server.passwords[user])} if user else {}
    options.setdefault("subprotocols", ["jmap"])
    return connect(ws_url(server), additional_headers=headers, open_timeout=TIMEOUT, proxy=None, **options)


def exchange(socket: ClientConnection, message: object) -> dict[str, Any]:
    socket.send(message if isinstance(message, str) else json.dumps(message))
    return receive(socket)


def receive(socket: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return dict(json.loads(socket.recv(timeout=timeout)))


def echo(request_id: str) -> dict[str, Any]:
    return {"@type": "Request", "id": request_id, "using": [CORE], "methodCalls": [["Core/echo", {"hi": 1}, "c1"]]}


def test_websocket_answers_requests(jmap: Jmap, server: LiveServer) -> None:
    with open_socket(server, user_of(jmap)) as socket:
        assert socket.subprotocol == "jmap"
        reply = exchange(socket, echo("R1"))
        anonymous = exchange(socket, {**echo("ignored"), "id": None})
        mailboxes = exchange(
            socket,
            {
                "@type": "Request",
                "using": [CORE, MAIL],
                "methodCalls": [["Mailbox/get", {"accountId": jmap.account_id, "ids": []}, "m"]],
            },
        )
    assert reply == {
        "@type": "Response",
        "requestId": "R1",
        "methodResponses": [["Core/echo", {"hi": 1}, "c1"]],
        "sessionState": jmap.session["state"],
    }
    assert "requestId" not in anonymous and anonymous["@type"] == "Response"
    assert mailboxes["methodResponses"][0][0] == "Mailbox/get"


def test_websocket_reports_request_errors_and_goes_on(jmap: Jmap, server: LiveServer) -> None:
    too_large = " " * (jmap.session["capabilities"][CORE]["maxSizeRequest"] + 1)
    with open_socket(server, user_of(jmap)) as socket:
        garbage = exchange(socket, "The quick brown fox jumps over the lazy dog.")
        not_object = exchange(socket, [1, 2])
        unknown_type = exchange(socket, {"@type": "Gossip"})
        unknown_capability = exchange(socket, {**echo("R2"), "using": ["urn:example:nope"]})
        limit = exchange(socket, too_large)
        still_fine = exchange(socket, echo("R3"))
    assert garbage["@type"] == "RequestError" and "requestId" not in garbage
    assert garbage["type"] == "urn:ietf:params:jmap:error:notJSON" and garbage["status"] == 400
    assert not_object["type"] == unknown_type["type"] == "urn:ietf:params:jmap:error:notRequest"
    assert unknown_capability["type"] == "urn:ietf:params:jmap:error:unknownCapability"
    assert unknown_capability["requestId"] == "R2"
    assert limit["type"] == "urn:ietf:params:jmap:error:limit" and limit["limit"] == "maxSizeRequest"
    assert still_fine["requestId"] == "R3"


def test_websocket_refuses_binary_frames(jmap: Jmap, server: LiveServer) -> None:
    with open_socket(server, user_of(jmap)) as socket:
        socket.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


def test_websocket_push_enable_and_disable(jmap: Jmap, server: LiveServer) -> None:
    with open_socket(server, user_of(jmap)) as socket:
        socket.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": None}))
        assert exchange(socket, echo("sync"))["requestId"] == "sync"  # enable is in effect once this is answered
        new_state = create_mailbox(jmap, "Socket pushed")
        change = receive(socket)
        socket.send(json.dumps({"@type": "WebSocketPushDisable"}))
        assert exchange(socket, echo("sync2"))["requestId"] == "sync2"
        create_mailbox(jmap, "Not pushed")
        assert exchange(socket, echo("R4"))["requestId"] == "R4"  # no StateChange came first
        with pytest.raises(TimeoutError):
            socket.recv(timeout=0.5)
    assert change["@type"] == "StateChange"
    assert change["changed"] == {jmap.account_id: {"Mailbox": new_state}}
    assert isinstance(change["pushState"], str) and change["pushState"]


def test_websocket_push_data_types_filter(jmap: Jmap, server: LiveServer) -> None:
    with open_socket(server, user_of(jmap)) as socket:
        socket.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": ["Email"]}))
        assert exchange(socket, echo("sync"))["requestId"] == "sync"
        create_mailbox(jmap, "Filtered out")
        with pytest.raises(TimeoutError):
            socket.recv(timeout=0.5)
        bad = exchange(socket, {"@type": "WebSocketPushEnable", "dataTypes": "Email"})
    assert bad["type"] == "urn:ietf:params:jmap:error:notRequest"


def test_websocket_push_state_brings_what_was_missed(jmap: Jmap, server: LiveServer) -> None:
    user = user_of(jmap)
    with open_socket(server, user) as socket:
        socket.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": ["Mailbox"]}))
        assert exchange(socket, echo("sync"))["requestId"] == "sync"
        create_mailbox(jmap, "Seen")
        push_state = receive(socket)["pushState"]
    missed_state = create_mailbox(jmap, "Missed")
    with open_socket(server, user) as socket:
        socket.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": None, "pushState": push_state}))
        resumed = receive(socket)
    assert resumed["changed"] == {jmap.account_id: {"Mailbox": missed_state}}


def test_websocket_handshake_needs_credentials(jmap: Jmap, server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as anonymous:
        open_socket(server, None)
    assert anonymous.value.response.status_code == 401
    assert anonymous.value.response.headers["WWW-Authenticate"].startswith("Basic")
    with pytest.raises(InvalidStatus) as wrong:
        connect(ws_url(server), additional_headers={"Authorization": basic(user_of(jmap), "nope")}, proxy=None)
    assert wrong.value.response.status_code == 401


def test_websocket_handshake_needs_the_jmap_subprotocol(jmap: Jmap, server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, user_of(jmap), subprotocols=None)
    assert refused.value.response.status_code == 400


def test_websocket_connections_per_account_are_bounded(jmap: Jmap, server: LiveServer) -> None:
    with ExitStack() as sockets:
        for _ in range(MAX_SOCKETS_PER_ACCOUNT):
            sockets.enter_context(open_socket(server, user_of(jmap)))
        with pytest.raises(InvalidStatus) as refused:
            open_socket(server, user_of(jmap))
    assert refused.value.response.status_code == 429


def test_websocket_handshake_from_another_site_is_refused(jmap: Jmap, server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, user_of(jmap), origin="https://evil.example")
    assert refused.value.response.status_code == 403
    with open_socket(server, user_of(jmap), origin=server.base_url) as socket:
        assert exchange(socket, echo("same-site"))["requestId"] == "same-site"


# --- cleanup, observed inside the server process ---------------------------------------------------------------


async def test_disconnects_leave_no_subscribers(tmp_path: Path) -> None:
    """Streams and sockets that go away take their change-bus subscriptions with them."""
    assert gateway(tmp_path, "user", "add", "solo", stdin="pw-solo\n").returncode == 0
    app = build_app(Settings(data_dir=tmp_path))
    bus = app.store.bus
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started)
        async with asyncio.timeout(3 * TIMEOUT):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=("solo", "pw-solo")) as http:
                for _ in range(3):
                    async with http.stream("GET", STREAM.format(types="*", closeafter="no", ping=0)) as response:
                        assert await anext(response.aiter_lines()) == "event: state"
                        assert len(bus._queues) == 1
                await eventually(lambda: not bus._queues)
            await asyncio.to_thread(socket_with_push, port)
            await eventually(lambda: not bus._queues)
    finally:
        server.should_exit = True
        await serving


def socket_with_push(port: int) -> None:
    headers = {"Authorization": basic("solo", "pw-solo")}
    url = f"ws://127.0.0.1:{port}/jmap/ws"
    with connect(url, subprotocols=["jmap"], additional_headers=headers, proxy=None) as socket:
        socket.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": None}))
        assert exchange(socket, echo("sync"))["requestId"] == "sync"


async def eventually(condition: Callable[[], bool]) -> None:
    """Poll for what the server does on its own time (start up, notice a disconnect), for a few seconds."""
    for _ in range(int(TIMEOUT / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time limit")
