"""What the benchmarks share: the bench account, populating the store, the live server, timing and the tables."""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
from lxml import etree

from gateway.accounts import create_account
from gateway.auth.passwords import hash_password
from storage import open_store
from storage.api import Account, ItemWrite, Store
from tests.testing import live_server

USER, PASSWORD = "bench", "bench-password"
DAV_NS = "DAV:"
WARMUP = 2
ETAGS_PROPFIND = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'

T = TypeVar("T")


# --- the command line and the data directory --------------------------------------------------------------------


def size_parser(description: str | None, what: str, large: str) -> argparse.ArgumentParser:
    """The flags of the collection benchmarks: --sizes, --large (``large`` is its help), --runs, --data-dir."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help=f"{what} sizes, comma-separated")
    parser.add_argument("--large", action="store_true", help=large)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, help="keep the populated database here and reuse it")
    return parser


def parse_sizes(text: str, large: bool = False) -> list[int]:
    """``"1000,10000"`` as a list of sizes, plus 100,000 when ``large``."""
    return [int(s) for s in text.split(",")] + ([100_000] if large else [])


@contextmanager
def data_directory(keep: Path | None = None) -> Iterator[Path]:
    """``keep`` (created if missing) when given, else a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = keep or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir


@contextmanager
def bench_client(data_dir: Path, **kwargs: object) -> Iterator[httpx.Client]:
    """A real ``gateway serve`` on ``data_dir`` over loopback HTTP, and a client logged in as the bench user."""
    with live_server(data_dir, {}) as server:
        server.passwords[USER] = PASSWORD
        with server.client(USER, **kwargs) as client:
            yield client


# --- the store ---------------------------------------------------------------------------------------------------


@asynccontextmanager
async def opened_store(data_dir: Path) -> AsyncIterator[Store]:
    """The SQLite store in ``data_dir``, open for the block."""
    store = open_store(f"sqlite:///{data_dir}/gateway.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def bench_account(store: Store) -> Account:
    """The bench user's account, created when it is not there yet."""
    async with store.read() as tx:
        account = await tx.get_account(USER)
    if account is None:
        account = await create_account(store, USER, await asyncio.to_thread(hash_password, PASSWORD))
    return account


@dataclass(frozen=True)
class Collection:
    """How to write one benchmark collection: where, of what kind, and its items."""

    path: str
    kind: str
    properties: dict[str, str]
    items: Callable[[], Iterator[tuple[str, bytes]]]
    indexed: Callable[[str, bytes], ItemWrite]
    unit: str


async def fill(store: Store, account: Account, size: int, collection: Collection, batch_size: int) -> None:
    """Write ``collection`` unless it already holds ``size`` items, ``batch_size`` per transaction, and say how fast."""
    async with store.read() as tx:
        existing = await tx.get_collection(collection.path)
        if existing is not None and await tx.count_items(existing.id) == size:
            return
    started = time.perf_counter()
    index_seconds = 0.0
    async with store.write() as tx:
        if existing is not None:
            await tx.delete_collection(collection.path)
        created = await tx.create_collection(account.id, collection.path, collection.kind, collection.properties)
    items = collection.items()
    while True:
        batch = [pair for pair in (next(items, None) for _ in range(batch_size)) if pair is not None]
        if not batch:
            break
        clock = time.perf_counter()
        writes = [collection.indexed(name, data) for name, data in batch]
        index_seconds += time.perf_counter() - clock
        async with store.write() as tx:
            for write in writes:
                await tx.put_item(created.id, write)
    elapsed = time.perf_counter() - started
    unit = collection.unit
    print(
        f"populated {size:,} {unit}s in {elapsed:.1f} s "
        f"(indexing {index_seconds / size * 1000:.2f} ms/{unit}, {size / elapsed:,.0f} {unit}s/s overall)"
    )


# --- timing ------------------------------------------------------------------------------------------------------


def timed_calls(call: Callable[[], T], runs: int, warmup: int = WARMUP) -> tuple[list[float], list[T]]:
    """Call ``warmup`` times untimed to warm the caches, then ``runs`` times: the durations (s) and the answers."""
    for _ in range(warmup):
        call()
    durations: list[float] = []
    answers: list[T] = []
    for _ in range(runs):
        started = time.perf_counter()
        answers.append(call())
        durations.append(time.perf_counter() - started)
    return durations, answers


def median_ms(durations: list[float]) -> float:
    """The median of durations in seconds, in milliseconds."""
    return statistics.median(durations) * 1000


def p90_ms(durations: list[float]) -> float:
    """The 90th percentile (nearest rank) of durations in seconds, in milliseconds."""
    ordered = sorted(durations)
    return ordered[math.ceil(len(ordered) * 0.9) - 1] * 1000


@dataclass
class Figures:
    """One row of a benchmark's table: an operation's times and how many results it gave."""

    operation: str
    median_ms: float
    p90_ms: float
    results: int
    plan: str = ""


def figures_of(operation: str, durations: list[float], results: int, plan: str = "") -> Figures:
    """Median and p90 of ``durations`` (seconds) as Figures."""
    return Figures(operation, median_ms(durations), p90_ms(durations), results, plan)


# --- the tables --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column: its title, its format spec (``">8"``, ``"<26"``) and the spec's number part for values."""

    title: str
    spec: str
    number: str = ""
    gap: str = " "


def header(columns: Iterable[Column]) -> str:
    """The title line of a table."""
    return "".join(f"{column.gap}{column.title:{column.spec}}" for column in columns)[1:]


def row(columns: Iterable[Column], *values: object) -> str:
    """One line of a table, each value formatted by its column."""
    cells = zip(columns, values, strict=True)
    return "".join(f"{column.gap}{value:{column.spec}{column.number}}" for column, value in cells)[1:]


def print_table(title: str, columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> None:
    """``title``, the column titles, then each row as it is measured."""
    print(title)
    print(header(columns))
    for values in rows:
        print(row(columns, *values))


# --- WebDAV ------------------------------------------------------------------------------------------------------


def count_responses(response: httpx.Response) -> int:
    """Member responses of a 207 (a 404 status in a sync answer counts too)."""
    assert response.status_code == 207, (response.status_code, response.text[:500])
    root = etree.fromstring(response.content)
    return len(root.findall(f"{{{DAV_NS}}}response"))


def sync_token_of(response: httpx.Response) -> str:
    """The new token of a sync-collection answer."""
    return etree.fromstring(response.content).findtext(f"{{{DAV_NS}}}sync-token") or ""


class CollectionBench:
    """Measurements on one collection over HTTP that CalDAV and CardDAV have in common."""

    def __init__(self, client: httpx.Client, url: str, runs: int) -> None:
        self.client = client
        self.url = url
        self.runs = runs

    def report(self, body: str, depth: str = "1") -> httpx.Response:
        """A REPORT on the collection."""
        headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": depth}
        return self.client.request("REPORT", self.url, content=body, headers=headers)

    def measure(
        self,
        operation: str,
        run: Callable[[], httpx.Response],
        count: Callable[[httpx.Response], int] = count_responses,
        plan: str = "",
    ) -> Figures:
        """``run`` timed ``self.runs`` times after the warm-up; the results are counted in its last answer."""
        durations, responses = timed_calls(run, self.runs)
        results = [count(response) for response in responses]
        return figures_of(operation, durations, results[-1], plan)

    def propfind_etags(self) -> Figures:
        """PROPFIND Depth:1 for the members' etags (the collection's own response not counted)."""
        return self.measure(
            "PROPFIND depth 1 etags",
            lambda: self.client.request("PROPFIND", self.url, content=ETAGS_PROPFIND, headers={"Depth": "1"}),
            lambda response: count_responses(response) - 1,
        )

    def sync_after_one_change(
        self, name: str, changed: Callable[[int], bytes], content_type: str, sync_request: Callable[[str], str]
    ) -> Figures:
        """Each run PUTs ``changed(n)`` as ``name`` (not timed), then syncs from the token of the previous sync."""
        token = self.current_token()
        durations: list[float] = []
        results = 0
        for n in range(self.runs + WARMUP):
            put = self.client.put(self.url + name, content=changed(n), headers={"Content-Type": content_type})
            assert put.status_code == 204, (put.status_code, put.text)
            started = time.perf_counter()
            response = self.report(sync_request(token))
            elapsed = time.perf_counter() - started
            token = sync_token_of(response)
            results = count_responses(response)
            if n >= WARMUP:  # the first runs warm the caches
                durations.append(elapsed)
        return figures_of("sync after 1 change", durations, results)

    def current_token(self) -> str:
        """The collection's sync token now."""
        body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>'
        response = self.client.request("PROPFIND", self.url, content=body, headers={"Depth": "0"})
        return etree.fromstring(response.content).findtext(f".//{{{DAV_NS}}}sync-token") or ""
