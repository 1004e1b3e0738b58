"""The workloads of ``bench.compare``, each one run against one server, over the same requests for every server.

The data are those of ``bench.caldav`` and ``bench.carddav`` (realistic events and cards, the same at every run);
the queries ask what those benches ask: the probe week (the same 30 events at every size, with their data), 100
events by multiget, the sync after one change, and the ``"zuzanna now"`` name prefix (the same 10 cards at every
size, default collation). Writes modify existing items (a new SUMMARY or NOTE), so a collection keeps its size
however long the run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from lxml import etree

from bench import caldav, carddav, load
from bench.servers import XML, Items, Server

DEPTH_0, DEPTH_1 = {**XML, "Depth": "0"}, {**XML, "Depth": "1"}
DAV = "{DAV:}"
CALENDAR_TYPE = {"Content-Type": caldav.CONTENT_TYPE}
CARD_TYPE = {"Content-Type": carddav.CONTENT_TYPE}
GET_ITEM = "probe-00.ics"
FIXED = caldav.OPEN_SERIES + caldav.PROBE_EVENTS
"""The events every calendar holds first (series without an end, the probe week): never modified."""
POLL = (
    b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop>'
    b"<CS:getctag/><D:sync-token/></D:prop></D:propfind>"
)
ETAGS = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
WEEK_QUERY = caldav.week_query(caldav.PROBE_WEEK, True).encode()
NAME_QUERY = carddav.prefix_query(carddav.NARROW_PREFIX, None).encode()


class Unsupported(Exception):
    """The server does not do what the workload asks (it answered ``status`` or left out what was asked)."""


@dataclass
class Target:
    """One server at one size: where its collections are, what they hold, and the client's state."""

    server: Server
    client: load.Client
    size: int
    events: Items
    cards: Items
    token: str = ""
    """The calendar's sync token as of the last sync, for the next incremental one."""
    writes: int = 0

    @property
    def calendar(self) -> str:
        return self.server.calendar(self.size)

    @property
    def book(self) -> str:
        return self.server.book(self.size)

    def changed_event(self, n: int) -> tuple[str, bytes]:
        """An existing event (the n-th after the fixed ones) with a new summary, and its name."""
        name, data = self.events[FIXED + n % (self.size - FIXED)]
        self.writes += 1
        return name, data.replace(b"SUMMARY:", f"SUMMARY:Changed {self.writes} ".encode(), 1)


@dataclass
class Measure:
    """What one run of a workload gave: its figures by metric, the results of its answer, failed requests by why."""

    values: dict[str, float]
    results: int | None = None
    failures: dict[str, int] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)


def responses(reply: load.Reply, expected: int = 207) -> int:
    """Member responses of a multistatus; another status than ``expected`` means the server does not support it."""
    if reply.status != expected:
        raise Unsupported(f"answered {reply.status}")
    return len(etree.fromstring(reply.body).findall(f"{DAV}response"))


async def timed(target: Target, method: str, path: str, body: bytes, depth: str) -> tuple[float, load.Reply]:
    started = time.perf_counter()
    reply = await target.client.request(method, path, body, DEPTH_1 if depth == "1" else DEPTH_0)
    return (time.perf_counter() - started) * 1000, reply


def failure(reply: load.Reply, *expected: int) -> str | None:
    """None when the status is one of ``expected``, else the status (a failed request)."""
    return None if reply.status in expected else str(reply.status)


def rates(sample: load.Sample) -> Measure:
    figures = {"req/s": sample.rate, "p50 ms": sample.ms(0.5), "p99 ms": sample.ms(0.99)}
    return Measure(figures, failures=dict(sample.failures))


# --- the workloads --------------------------------------------------------------------------------------------------


async def put(target: Target, clients: int, seconds: float) -> Measure:
    """PUTs of modified events back to back from ``clients`` connections for ``seconds``."""

    async def one(_: int) -> str | None:
        name, data = target.changed_event(target.writes)
        return failure(await target.client.request("PUT", target.calendar + name, data, CALENDAR_TYPE), 201, 204)

    return rates(await load.closed_loop(one, clients, seconds))


async def get(target: Target, seconds: float) -> Measure:
    """GETs of one event from 16 connections for ``seconds``, and the share of a core the client took meanwhile
    (which shows whether the client could keep up: with the ceiling app it is the bottleneck if near 100%)."""
    path = target.calendar + GET_ITEM if target.server.dav else "/" + GET_ITEM

    async def one(_: int) -> str | None:
        return failure(await target.client.request("GET", path), 200)

    cpu = time.process_time()
    measure = rates(await load.closed_loop(one, 16, seconds))
    measure.extra["client cpu %"] = (time.process_time() - cpu) / seconds * 100
    return measure


async def propfind(target: Target) -> Measure:
    """PROPFIND Depth:1 of the calendar for every member's etag (the collection's own response not counted)."""
    path = target.calendar if target.server.dav else "/calendar/"
    ms, reply = await timed(target, "PROPFIND", path, ETAGS, "1")
    return Measure({"ms": ms}, responses(reply) - 1)


async def query(target: Target) -> Measure:
    """calendar-query for the probe week, etags and data."""
    ms, reply = await timed(target, "REPORT", target.calendar, WEEK_QUERY, "1")
    return Measure({"ms": ms}, responses(reply))


async def multiget(target: Target) -> Measure:
    """calendar-multiget of 100 events, the same sample at every run."""
    sample = random.Random(target.size + 1).sample(list(target.events), 100)
    body = caldav.multiget([target.calendar + name for name, _ in sample]).encode()
    ms, reply = await timed(target, "REPORT", target.calendar, body, "1")
    return Measure({"ms": ms}, responses(reply))


async def current_token(target: Target, path: str) -> str:
    """The collection's sync-token; none means the server has no sync-collection."""
    reply = await target.client.request("PROPFIND", path, POLL, DEPTH_0)
    token = etree.fromstring(reply.body).findtext(f".//{DAV}sync-token") if reply.status == 207 else None
    if not token:
        raise Unsupported("no sync-token")
    return token


async def sync(target: Target) -> Measure:
    """One modified event PUT (not timed), then sync-collection from the token of the previous sync."""
    if not target.token:
        target.token = await current_token(target, target.calendar)
    name, data = target.changed_event(target.writes)
    reply = await target.client.request("PUT", target.calendar + name, data, CALENDAR_TYPE)
    assert reply.status in (201, 204), reply
    ms, reply = await timed(target, "REPORT", target.calendar, caldav.sync_request(target.token).encode(), "1")
    found = responses(reply)
    target.token = etree.fromstring(reply.body).findtext(f"{DAV}sync-token") or ""
    return Measure({"ms": ms}, found)


async def name_query(target: Target) -> Measure:
    """addressbook-query by FN prefix, the default collation."""
    ms, reply = await timed(target, "REPORT", target.book, NAME_QUERY, "1")
    return Measure({"ms": ms}, responses(reply))


async def phone_mix(target: Target, clients: int, seconds: float) -> Measure:
    """``clients`` phones on the calendar for ``seconds``: 70% ctag/sync-token polls, 20% sync-collection from
    the phone's own last token, 10% PUTs of a modified event; each phone waits for an answer before its next request.
    """
    start_token = await current_token(target, target.calendar)
    kinds: dict[str, load.Sample] = {"poll": load.Sample(), "sync": load.Sample(), "put": load.Sample()}
    client = target.server.client(target.client.timeout)
    started = time.perf_counter()
    deadline = started + seconds

    async def phone(seed: int) -> None:
        rng, token = random.Random(seed), start_token

        async def request(kind: str) -> str | None:
            nonlocal token
            if kind == "poll":
                return failure(await client.request("PROPFIND", target.calendar, POLL, DEPTH_0), 207)
            if kind == "sync":
                reply = await client.request("REPORT", target.calendar, caldav.sync_request(token).encode(), DEPTH_1)
                if reply.status == 207:
                    token = etree.fromstring(reply.body).findtext(f"{DAV}sync-token") or token
                return failure(reply, 207)
            name, data = target.changed_event(rng.randrange(target.size))
            return failure(await client.request("PUT", target.calendar + name, data, CALENDAR_TYPE), 201, 204)

        while time.perf_counter() < deadline:
            draw = rng.random()
            kind = "poll" if draw < 0.7 else "sync" if draw < 0.9 else "put"
            clock = time.perf_counter()
            why = await load.attempt(request(kind))
            kinds[kind].add(time.perf_counter() - clock, why)

    try:
        await asyncio.gather(*(phone(seed) for seed in range(clients)))
    finally:
        client.close()
    elapsed = time.perf_counter() - started
    total = load.Sample([lat for sample in kinds.values() for lat in sample.latencies], elapsed)
    for sample in kinds.values():
        total.failures.update(sample.failures)
    measure = rates(total)
    measure.extra = {f"{kind} p99 ms": sample.ms(0.99) for kind, sample in kinds.items()}
    return measure


# --- the list -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A figure a workload reports: its key in ``Measure.values`` and whether more is better."""

    key: str
    higher_is_better: bool


RATE, P50, P99, MS = Metric("req/s", True), Metric("p50 ms", False), Metric("p99 ms", False), Metric("ms", False)


@dataclass(frozen=True)
class Workload:
    """One line of the comparison (or a few, one per metric)."""

    key: str
    title: str
    run: Callable[[Target], Awaitable[Measure]]
    metrics: tuple[Metric, ...]
    warmup: int = 1
    repeated: bool = True
    """Run ``--runs`` times (the median counts); the phone mix runs once, it is long."""
    ceiling: bool = False
    """Whether the ceiling app answers it too."""


def workloads(window: float, mix_seconds: float, mix_clients: int) -> list[Workload]:
    """The workloads, in the order they run; ``window`` is each throughput run's length in seconds.

    The queries warm up 7 times: Xandikos indexes a filter's properties after 5 queries that need them and fills
    the index during the next, so each server is measured in its steady state.
    """
    return [
        Workload("put_c1", "PUT, 1 client", lambda t: put(t, 1, window), (RATE, P50)),
        Workload("put_c16", "PUT, 16 clients", lambda t: put(t, 16, window), (RATE, P99)),
        Workload("get_c16", "GET 1 item, 16 clients", lambda t: get(t, window), (RATE, P50, P99), ceiling=True),
        Workload("propfind", "PROPFIND Depth:1, etags", propfind, (MS,), ceiling=True),
        Workload("query", "calendar-query, 1 week", query, (MS,), warmup=7),
        Workload("multiget", "calendar-multiget 100", multiget, (MS,)),
        Workload("sync", "sync-collection after 1 change", sync, (MS,)),
        Workload("name_query", "addressbook-query, name prefix", name_query, (MS,), warmup=7),
        Workload(
            "phone_mix",
            f"phone mix, {mix_clients} clients, {mix_seconds:g} s",
            lambda t: phone_mix(t, mix_clients, mix_seconds),
            (RATE, P99),
            warmup=0,
            repeated=False,
        ),
    ]
