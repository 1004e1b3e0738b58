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

import asyncio
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx

from bench import harness
from protocols.formats.ical import index_calendar_object
from storage.api import ItemWrite

CONTENT_TYPE = "text/calendar; charset=utf-8"
ALLOWED = frozenset({"VEVENT"})
FIRST_DAY = date(2023, 1, 1)
DAYS = 3 * 365
PROBE_WEEK = date(2027, 3, 1)
PROBE_EVENTS = 20
OPEN_SERIES = 10
WEEK = 7 * 24 * 3600
BATCH = 2000
NAMESPACES = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'


def calendar_path(size: int) -> str:
    return f"calendars/{harness.USER}/c{size}/"


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
    async with harness.opened_store(data_dir) as store:
        account = await harness.bench_account(store)
        for size in sizes:
            calendar = harness.Collection(
                calendar_path(size), "calendar", CALENDAR_PROPERTIES, partial(calendar_events, size), indexed, "event"
            )
            await harness.fill(store, account, size, calendar, BATCH)


# --- the measurements -------------------------------------------------------------------------------------------


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


def epoch(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


async def store_query_figures(data_dir: Path, sizes: list[int], runs: int) -> dict[int, harness.Figures]:
    """The store's candidate lookup for the probe week alone, in process: what the index costs by itself."""
    figures: dict[int, harness.Figures] = {}
    async with harness.opened_store(data_dir) as store:
        for size in sizes:
            async with store.read() as tx:
                collection = await tx.get_collection(calendar_path(size))
            assert collection is not None
            durations: list[float] = []
            found = 0
            for n in range(runs + harness.WARMUP):
                started = time.perf_counter()
                async with store.read() as tx:
                    found = len(
                        await tx.query_items(
                            collection.id, component="VEVENT", start=epoch(PROBE_WEEK), end=epoch(PROBE_WEEK) + WEEK
                        )
                    )
                if n >= harness.WARMUP:
                    durations.append(time.perf_counter() - started)
            figures[size] = harness.figures_of("store query_items, probe wk", durations, found)
    return figures


class Bench(harness.CollectionBench):
    def __init__(self, client: httpx.Client, size: int, runs: int) -> None:
        super().__init__(client, "/dav/" + calendar_path(size), runs)
        self.size = size

    def all(self) -> list[harness.Figures]:
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
        name = names[-1]
        figures.append(
            self.sync_after_one_change(
                name,
                lambda n: timed(name.removesuffix(".ics"), date(2024, 6, 4), 12, True, summary=f"Changed {n}"),
                CONTENT_TYPE,
                sync_request,
            )
        )
        figures.append(self.propfind_etags())
        return figures


COLUMNS = (
    harness.Column("items", ">8"),
    harness.Column("operation", "<26", gap="  "),
    harness.Column("median ms", ">10", ".1f"),
    harness.Column("p90 ms", ">8", ".1f"),
    harness.Column("results", ">8"),
)


def main() -> None:
    parser = harness.size_parser(__doc__, "calendar", "add a calendar of 100,000 events")
    args = parser.parse_args()
    sizes = harness.parse_sizes(args.sizes, args.large)
    with harness.data_directory(args.data_dir) as data_dir:
        asyncio.run(populate(data_dir, sizes))
        in_store = asyncio.run(store_query_figures(data_dir, sizes, args.runs))
        with harness.bench_client(data_dir, timeout=600) as client:
            harness.print_table(
                f"\nCalDAV over loopback HTTP, {args.runs} runs each (after 2 warm-up runs)",
                COLUMNS,
                (
                    (size, f.operation, f.median_ms, f.p90_ms, f.results)
                    for size in sizes
                    for f in [*Bench(client, size, args.runs).all(), in_store[size]]
                ),
            )


if __name__ == "__main__":
    main()
