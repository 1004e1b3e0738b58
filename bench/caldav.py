"""CalDAV on calendars of 1,000 / 10,000 (/ 100,000) events: one-week calendar-query, multiget of 100,
incremental sync-collection after one change, and PROPFIND Depth:1 etags for reference.

Each calendar is written straight into the store before the server starts, every event indexed by
``protocols.formats.ical.index_calendar_object`` exactly as a PUT would (so the time-range index is real): one-hour
events spread over three years (2023-2025), about 5% of them weekly series of 4 to 26 instances and 5% all-day,
half of the timed ones in Europe/Berlin. Every calendar also holds the same fixed set, whatever its size: ten
weekly series without an end, and twenty events in a probe week (2027-03-01) after everything else.

Two one-week queries are measured, because they answer different questions:

* ``probe week``: the answer is the same 30 objects at every size, so its time shows what the calendar's size
  costs a query. It must stay flat.
* ``busy week``: a week inside the three years; its answer grows with the calendar (N / 157 events, plus the
  series running that week), so its time may grow with the answer, never faster.

The incremental sync PUTs one event, then syncs from the token of the previous sync: one change, one response.
The last row per size, ``store query_items``, times the store's candidate lookup for the probe week in process,
without HTTP or iCalendar work: the index alone, which must not grow with the calendar either.

Run: ``python -m bench.caldav`` (1,000 and 10,000), ``--large`` adds 100,000, ``--runs N``; ``--data-dir DIR``
keeps the populated database for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from lxml import etree

from gateway.accounts import create_account
from gateway.auth.passwords import hash_password
from protocols.formats.ical import index_calendar_object
from storage import open_store
from storage.api import ItemWrite
from tests.testing import live_server

USER, PASSWORD = "bench", "bench-password"
CONTENT_TYPE = "text/calendar; charset=utf-8"
ALLOWED = frozenset({"VEVENT"})
FIRST_DAY = date(2023, 1, 1)
DAYS = 3 * 365
PROBE_WEEK = date(2027, 3, 1)
PROBE_EVENTS = 20
OPEN_SERIES = 10
WEEK = 7 * 24 * 3600
BATCH = 2000
DAV_NS = "DAV:"
NAMESPACES = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'


def calendar_path(size: int) -> str:
    return f"calendars/{USER}/c{size}/"


# --- the calendars ----------------------------------------------------------------------------------------------


def vcalendar(uid: str, *lines: str) -> bytes:
    body = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//groupware-gateway//bench//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20230101T000000Z",
        *lines,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(body).encode()


def stamp(day: date, hour: int) -> str:
    return f"{day:%Y%m%d}T{hour:02d}0000"


def timed(uid: str, day: date, hour: int, berlin: bool, *extra: str, summary: str = "Meeting") -> bytes:
    zone, suffix = (";TZID=Europe/Berlin", "") if berlin else ("", "Z")
    return vcalendar(
        uid,
        f"DTSTART{zone}:{stamp(day, hour)}{suffix}",
        f"DTEND{zone}:{stamp(day, hour + 1)}{suffix}",
        f"SUMMARY:{summary} {uid[-6:]}",
        "LOCATION:Room 4",
        "DESCRIPTION:Agenda: status\\, plans\\, questions. Bring the figures from last week.",
        *extra,
    )


def event(n: int, rng: random.Random) -> tuple[str, bytes]:
    """The n-th event of a calendar: timed (90%), weekly series (5%) or all-day (5%)."""
    uid = f"bench-{n:07d}-{rng.getrandbits(32):08x}"
    kind = rng.random()
    if kind < 0.05:
        count = rng.randint(4, 26)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS - count * 7))
        data = timed(uid, day, rng.randint(7, 18), rng.random() < 0.5, f"RRULE:FREQ=WEEKLY;COUNT={count}")
    elif kind < 0.10:
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        data = vcalendar(
            uid,
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:Holiday {n}",
            "TRANSP:TRANSPARENT",
        )
    else:
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        data = timed(uid, day, rng.randint(7, 18), rng.random() < 0.5)
    return f"{uid}.ics", data


def fixed_events() -> Iterator[tuple[str, bytes]]:
    """The same in every calendar: series without an end and the probe week's events."""
    for n in range(OPEN_SERIES):
        uid = f"open-series-{n:02d}"
        yield f"{uid}.ics", timed(uid, FIRST_DAY + timedelta(days=n), 9, True, "RRULE:FREQ=WEEKLY", summary="Standup")
    for n in range(PROBE_EVENTS):
        uid = f"probe-{n:02d}"
        yield f"{uid}.ics", timed(uid, PROBE_WEEK + timedelta(days=n % 7), 8 + n // 7, n % 2 == 0, summary="Probe")


def calendar_events(size: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(size)
    yield from fixed_events()
    for n in range(size - OPEN_SERIES - PROBE_EVENTS):
        yield event(n, rng)


def indexed(name: str, data: bytes) -> ItemWrite:
    _, index = index_calendar_object(data, ALLOWED)
    return ItemWrite(name, data, CONTENT_TYPE, uid=index.uid, component=index.component, spans=index.spans)


CALENDAR_PROPERTIES = {
    "{DAV:}displayname": '<D:displayname xmlns:D="DAV:">Bench</D:displayname>',
    "{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set": (
        '<C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp name="VEVENT"/>'
        "</C:supported-calendar-component-set>"
    ),
}


async def populate(data_dir: Path, sizes: list[int]) -> None:
    """Write the calendars that are not there yet, BATCH events per transaction."""
    store = open_store(f"sqlite:///{data_dir}/gateway.db")
    await store.open()
    try:
        async with store.read() as tx:
            account = await tx.get_account(USER)
        if account is None:
            account = await create_account(store, USER, await asyncio.to_thread(hash_password, PASSWORD))
        for size in sizes:
            async with store.read() as tx:
                existing = await tx.get_collection(calendar_path(size))
                if existing is not None and await tx.count_items(existing.id) == size:
                    continue
            started = time.perf_counter()
            index_seconds = 0.0
            async with store.write() as tx:
                if existing is not None:
                    await tx.delete_collection(calendar_path(size))
                collection = await tx.create_collection(
                    account.id, calendar_path(size), "calendar", CALENDAR_PROPERTIES
                )
            events = calendar_events(size)
            while True:
                chunk = [next(events, None) for _ in range(BATCH)]
                batch = [pair for pair in chunk if pair is not None]
                if not batch:
                    break
                clock = time.perf_counter()
                writes = [indexed(name, data) for name, data in batch]
                index_seconds += time.perf_counter() - clock
                async with store.write() as tx:
                    for write in writes:
                        await tx.put_item(collection.id, write)
            elapsed = time.perf_counter() - started
            print(
                f"populated {size:,} events in {elapsed:.1f} s "
                f"(indexing {index_seconds / size * 1000:.2f} ms/event, {size / elapsed:,.0f} events/s overall)"
            )
    finally:
        await store.close()


# --- the measurements -------------------------------------------------------------------------------------------


@dataclass
class Figures:
    operation: str
    median_ms: float
    p90_ms: float
    results: int


def count_responses(response: httpx.Response) -> int:
    """Member responses of a 207 that carry a 200 propstat (or a 404 status in a sync answer)."""
    assert response.status_code == 207, (response.status_code, response.text[:500])
    root = etree.fromstring(response.content)
    return len(root.findall(f"{{{DAV_NS}}}response"))


def timed_runs(run: Callable[[], httpx.Response], runs: int, count: Callable[[httpx.Response], int]) -> Figures:
    durations: list[float] = []
    results = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = run()
        durations.append(time.perf_counter() - started)
        results = count(response)
    ordered = sorted(durations)
    return Figures("", statistics.median(durations) * 1000, ordered[math.ceil(len(ordered) * 0.9) - 1] * 1000, results)


def week_query(start: date, with_data: bool) -> str:
    end = start + timedelta(days=7)
    data = "<C:calendar-data/>" if with_data else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query {NAMESPACES}><D:prop><D:getetag/>{data}</D:prop>'
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f'<C:time-range start="{start:%Y%m%d}T000000Z" end="{end:%Y%m%d}T000000Z"/>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    )


def multiget(hrefs: list[str]) -> str:
    inner = "".join(f"<D:href>{href}</D:href>" for href in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget {NAMESPACES}>'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{inner}</C:calendar-multiget>"
    )


def sync_request(token: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {NAMESPACES}><D:sync-token>{token}</D:sync-token>'
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:sync-collection>"
    )


def sync_token_of(response: httpx.Response) -> str:
    return etree.fromstring(response.content).findtext(f"{{{DAV_NS}}}sync-token") or ""


def epoch(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


async def store_query_figures(data_dir: Path, sizes: list[int], runs: int) -> dict[int, Figures]:
    """The store's candidate lookup for the probe week alone, in process: what the index costs by itself."""
    store = open_store(f"sqlite:///{data_dir}/gateway.db")
    await store.open()
    figures: dict[int, Figures] = {}
    try:
        for size in sizes:
            async with store.read() as tx:
                collection = await tx.get_collection(calendar_path(size))
            assert collection is not None
            durations: list[float] = []
            found = 0
            for n in range(runs + 2):
                started = time.perf_counter()
                async with store.read() as tx:
                    found = len(
                        await tx.query_items(
                            collection.id, component="VEVENT", start=epoch(PROBE_WEEK), end=epoch(PROBE_WEEK) + WEEK
                        )
                    )
                if n >= 2:
                    durations.append(time.perf_counter() - started)
            ordered = sorted(durations)
            figures[size] = Figures(
                "store query_items, probe wk",
                statistics.median(durations) * 1000,
                ordered[math.ceil(len(ordered) * 0.9) - 1] * 1000,
                found,
            )
    finally:
        await store.close()
    return figures


class Bench:
    def __init__(self, client: httpx.Client, size: int, runs: int) -> None:
        self.client = client
        self.size = size
        self.runs = runs
        self.url = "/dav/" + calendar_path(size)

    def report(self, body: str, depth: str = "1") -> httpx.Response:
        headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": depth}
        return self.client.request("REPORT", self.url, content=body, headers=headers)

    def measure(
        self,
        operation: str,
        run: Callable[[], httpx.Response],
        count: Callable[[httpx.Response], int] = count_responses,
    ) -> Figures:
        timed_runs(run, 2, count)  # warm the caches
        figures = timed_runs(run, self.runs, count)
        figures.operation = operation
        return figures

    def all(self) -> list[Figures]:
        busy_week = date(2024, 6, 3)
        figures = [
            self.measure("query probe week, etags", lambda: self.report(week_query(PROBE_WEEK, False))),
            self.measure("query probe week, data", lambda: self.report(week_query(PROBE_WEEK, True))),
            self.measure("query busy week, etags", lambda: self.report(week_query(busy_week, False))),
            self.measure("query busy week, data", lambda: self.report(week_query(busy_week, True))),
        ]
        rng = random.Random(self.size + 1)
        names = [name for name, _ in calendar_events(self.size)]
        sample = [self.url + name for name in rng.sample(names, 100)]
        figures.append(self.measure("multiget 100", lambda: self.report(multiget(sample))))
        figures.append(self.sync_after_one_change(names))
        propfind = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
        figures.append(
            self.measure(
                "PROPFIND depth 1 etags",
                lambda: self.client.request("PROPFIND", self.url, content=propfind, headers={"Depth": "1"}),
                lambda response: count_responses(response) - 1,
            )
        )
        return figures

    def sync_after_one_change(self, names: list[str]) -> Figures:
        """Each run changes one event with a PUT (not timed), then syncs from the token of the previous sync."""
        name = names[-1]
        token = self.current_token()
        durations: list[float] = []
        results = 0
        for n in range(self.runs + 2):
            data = timed(name.removesuffix(".ics"), date(2024, 6, 4), 12, True, summary=f"Changed {n}")
            put = self.client.put(self.url + name, content=data, headers={"Content-Type": CONTENT_TYPE})
            assert put.status_code == 204, (put.status_code, put.text)
            started = time.perf_counter()
            response = self.report(sync_request(token))
            elapsed = time.perf_counter() - started
            token = sync_token_of(response)
            results = count_responses(response)
            if n >= 2:  # the first two warm the caches
                durations.append(elapsed)
        ordered = sorted(durations)
        median = statistics.median(durations) * 1000
        return Figures("sync after 1 change", median, ordered[math.ceil(len(ordered) * 0.9) - 1] * 1000, results)

    def current_token(self) -> str:
        body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>'
        response = self.client.request("PROPFIND", self.url, content=body, headers={"Depth": "0"})
        return etree.fromstring(response.content).findtext(f".//{{{DAV_NS}}}sync-token") or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="calendar sizes, comma-separated")
    parser.add_argument("--large", action="store_true", help="add a calendar of 100,000 events")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, help="keep the populated database here and reuse it")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000] if args.large else [])
    with tempfile.TemporaryDirectory() as tmp:
        data_dir: Path = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(populate(data_dir, sizes))
        in_store = asyncio.run(store_query_figures(data_dir, sizes, args.runs))
        with live_server(data_dir, {}) as server:
            server.passwords[USER] = PASSWORD
            with server.client(USER, timeout=600) as client:
                print(f"\nCalDAV over loopback HTTP, {args.runs} runs each (after 2 warm-up runs)")
                print(f"{'items':>8}  {'operation':<26} {'median ms':>10} {'p90 ms':>8} {'results':>8}")
                for size in sizes:
                    for figures in [*Bench(client, size, args.runs).all(), in_store[size]]:
                        print(
                            f"{size:>8}  {figures.operation:<26} {figures.median_ms:>10.1f} {figures.p90_ms:>8.1f}"
                            f" {figures.results:>8}"
                        )


if __name__ == "__main__":
    main()
