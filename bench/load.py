"""The load generator of ``bench.compare``: a minimal HTTP/1.1 client on asyncio (uvloop) with httptools' parser.

Why not httpx or aiohttp: on this 2-core machine the client shares the CPU with the server under test, so every
microsecond the client spends per request is taken from the server. Against the ceiling app (``bench.ceiling``) with
16 connections, httpx reached about 400 requests/s and aiohttp about 8,000, this client 20,000 to 33,000 on two
thirds of a core: with them the comparison would have measured the client. Each connection carries one request at
a time (keep-alive, reconnecting when the server closes, as Radicale's HTTP/1.0 server does after every answer); a
pool holds the idle ones.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple, cast

import httptools


class Reply(NamedTuple):
    status: int
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection; ``send`` writes a whole request and waits for the whole answer."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Reply] | None = None
        self.chunks: list[bytes] = []
        self.open = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.close()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(Reply(self.parser.get_status_code(), b"".join(self.chunks)))

    def _fail(self, error: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    async def send(self, request: bytes) -> Reply:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.chunks = []
        self.transport.write(request)
        return await self.waiter

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


class Client:
    """Requests to one server, over a pool of keep-alive connections, with Basic authentication when given."""

    def __init__(self, port: int, auth: tuple[str, str] | None = None, timeout: float = 900.0) -> None:
        self.port = port
        self.timeout = timeout
        self.idle: list[_Connection] = []
        self.head = f"Host: 127.0.0.1:{port}\r\n"
        if auth is not None:
            self.head += f"Authorization: Basic {base64.b64encode(':'.join(auth).encode()).decode()}\r\n"

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
        """One request; a reused connection the server had closed meanwhile is replaced once."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        raw = f"{method} {path} HTTP/1.1\r\n{self.head}{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body
        while self.idle:
            connection = self.idle.pop()
            if connection.open:
                try:
                    return await self._send(connection, raw)
                except ConnectionError:
                    continue
        return await self._send(await self._connect(), raw)

    async def _connect(self) -> _Connection:
        _, connection = await asyncio.get_running_loop().create_connection(_Connection, "127.0.0.1", self.port)
        return connection

    async def _send(self, connection: _Connection, raw: bytes) -> Reply:
        try:
            async with asyncio.timeout(self.timeout):
                reply = await connection.send(raw)
        except BaseException:
            connection.close()
            raise
        if connection.open:
            self.idle.append(connection)
        return reply

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(math.ceil(len(ordered) * fraction) - 1, 0)]


@dataclass
class Sample:
    """What a stretch of load gave: each request's latency (s), how long it took, failed requests by why."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, latency: float, failure: str | None) -> None:
        self.latencies.append(latency)
        if failure is not None:
            self.failures[failure] += 1

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return (len(self.latencies) - self.failures.total()) / self.elapsed if self.elapsed else 0.0

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000 if self.latencies else math.nan


async def attempt(call: Awaitable[str | None]) -> str | None:
    """What ``call`` gives (why a request failed, None if it did not); a refused or reset connection is a failure."""
    try:
        return await call
    except OSError as error:
        return type(error).__name__


async def closed_loop(
    call: Callable[[int], Awaitable[str | None]], concurrency: int, seconds: float, limit: int | None = None
) -> Sample:
    """``concurrency`` workers call ``call(n)`` back to back (n counts up) until ``seconds`` or ``limit`` calls.

    A call answers why it failed, or None; requests under way at the deadline are waited for and counted.
    """
    sample = Sample()
    counter = iter(range(limit if limit is not None else 1 << 62))
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        for n in counter:
            clock = time.perf_counter()
            failure = await attempt(call(n))
            now = time.perf_counter()
            sample.add(now - clock, failure)
            if now >= deadline:
                return

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.elapsed = time.perf_counter() - started
    return sample
