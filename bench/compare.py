"""This server side by side with Radicale, Xandikos and a bare ASGI app (the ceiling), on the same workloads.

For each size (1,000 / 10,000 / 100,000 items by default) every server gets a calendar of that many events and an
address book of that many cards (see ``bench.servers`` for how each is filled), then the workloads of
``bench.workloads`` run against them in turns: each run of a workload goes to every server before the next run
starts, in a rotating order, so noise from the (shared) machine falls on all of them alike. A figure is the median
of ``--runs`` runs after the warm-up runs. A peer that needs more than ``--budget`` seconds (15 minutes) at a size,
fill included, is cut there: stopped, its remaining figures marked "cut", and it sits out the larger sizes.

Mail is this server's alone: the LMTP ingest of ``bench.lmtp`` and the JMAP reads of ``bench.mail``.

Writes ``bench/RESULTS.md`` (the tables and the machine) and ``bench/RESULTS.json`` (every run's figures).
Run: ``make bench``, or ``python -m bench.compare --sizes 1000 --mix-seconds 10 --no-mail`` for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import uvloop

from bench import caldav, carddav, harness, report
from bench.servers import SERVERS, Server
from bench.workloads import Measure, Target, Unsupported, Workload, workloads
from tests.testing import free_port

Cell = dict[str, Any]


class Cut(Exception):
    """The server ran out of its time at this size."""


class Budget:
    """The time one server may take at one size (None: no limit); every fill and measurement is charged to it."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.spent = 0.0

    @asynccontextmanager
    async def charge(self) -> Any:
        remaining = None if self.seconds is None else self.seconds - self.spent
        if remaining is not None and remaining <= 0:
            raise Cut
        started = time.perf_counter()
        try:
            async with asyncio.timeout(remaining):
                yield
        except TimeoutError:
            raise Cut from None
        finally:
            self.spent += time.perf_counter() - started


class Comparison:
    """The servers, their state across sizes, and everything measured."""

    def __init__(self, servers: list[Server], args: argparse.Namespace) -> None:
        self.servers = servers
        self.args = args
        self.cut: dict[str, int] = {}
        """Server name -> the size at which it was cut."""
        self.results: dict[str, Any] = {"sizes": {}}

    def active(self) -> list[Server]:
        return [server for server in self.servers if server.name not in self.cut]

    def drop(self, server: Server, size: int) -> None:
        print(f"  {server.name} cut at {size:,} items (over {self.args.budget:g} s)", flush=True)
        self.cut[server.name] = size
        server.stop()

    async def size(self, size: int) -> dict[str, Any]:
        """Fill every server's collections of ``size`` items, then run the workloads in turns."""
        started, date = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M %Z")
        events, cards = list(caldav.calendar_events(size)), list(carddav.book_cards(size))
        budgets = {server.name: Budget(self.args.budget if server.peer else None) for server in self.servers}
        fills: dict[str, Any] = {server: "cut" for server in self.cut}
        targets: dict[str, Target] = {}
        for server in self.active():
            target = Target(server, server.client(), size, events, cards)
            if server.dav:
                clock = time.perf_counter()
                try:
                    async with budgets[server.name].charge():
                        await server.fill(target.client, target.calendar, True, events)
                        await server.fill(target.client, target.book, False, cards)
                except Cut:
                    self.drop(server, size)
                    fills[server.name] = "cut"
                    continue
                fills[server.name] = round(time.perf_counter() - clock, 1)
                print(f"  {server.name}: filled {size:,} events and {size:,} cards in {fills[server.name]} s")
            targets[server.name] = target
        table = {
            workload.key: await self.workload(workload, targets, budgets)
            for workload in workloads(self.args.window, self.args.mix_seconds, self.args.mix_clients)
        }
        for target in targets.values():
            target.client.close()
        return {
            "date": date,
            "gateway": self.servers[0].version(),
            "fill_s": fills,
            "spent_s": {name: round(budget.spent, 1) for name, budget in budgets.items()},
            "elapsed_s": round(time.perf_counter() - started, 1),
            "workloads": table,
        }

    async def workload(self, workload: Workload, targets: dict[str, Target], budgets: dict[str, Budget]) -> Cell:
        """``workload``'s warm-up and measured runs on every server, in turns; the median of each metric."""
        size = next(iter(targets.values())).size
        cells: dict[str, Cell] = {}
        for server in self.servers:
            if server.dav or workload.ceiling:
                cells[server.name] = {"status": "cut" if server.name in self.cut else "ok", "runs": []}
        print(f"  {workload.title}", end="", flush=True)
        rounds = workload.warmup + (self.args.runs if workload.repeated else 1)
        for round_ in range(rounds):
            for target in rotated([targets[name] for name in cells if name in targets], round_):
                cell = cells[target.server.name]
                if cell["status"] != "ok":
                    continue
                try:
                    async with budgets[target.server.name].charge():
                        measure = await workload.run(target)
                except Cut:
                    cell["status"] = "cut"
                    self.drop(target.server, size)
                    continue
                except Unsupported as error:
                    cell.update(status="unsupported", note=str(error))
                    continue
                except Exception as error:  # a peer failing must not end the comparison: say so in its cell
                    cell.update(status="failed", note=f"{type(error).__name__}: {error}"[:300])
                    continue
                if round_ >= workload.warmup:
                    cell["runs"].append(run_record(measure))
            print(".", end="", flush=True)
        print(flush=True)
        for cell in cells.values():
            summarize(cell, workload)
        return {"title": workload.title, "servers": cells}


def rotated(targets: list[Target], by: int) -> list[Target]:
    shift = by % len(targets) if targets else 0
    return targets[shift:] + targets[:shift]


def run_record(measure: Measure) -> dict[str, Any]:
    return {**measure.values, **measure.extra, "results": measure.results, "failures": measure.failures}


def summarize(cell: Cell, workload: Workload) -> None:
    """The median of each metric over the runs, the results of the last, and the failed requests of all."""
    runs = cell["runs"]
    if not runs:
        if cell["status"] == "ok":
            cell["status"] = "cut"
        return
    cell["median"] = {metric.key: statistics.median(run[metric.key] for run in runs) for metric in workload.metrics}
    cell["results"] = runs[-1]["results"]
    failures: Counter[str] = Counter()
    for run in runs:
        failures.update(run["failures"])
    cell["failures"] = dict(failures)


# --- mail ------------------------------------------------------------------------------------------------------------


def mail_figures(messages: int, lmtp_messages: int, runs: int) -> list[dict[str, Any]]:
    """This server's mail rows: LMTP ingest (``bench.lmtp``), JMAP import and the reads of ``bench.mail`` on an
    account of ``messages`` messages."""
    from bench import lmtp, mail

    _, count, _, per_second, _, _, p99 = lmtp.measure(lmtp.burst(lmtp_messages), 1, 4)
    rows: list[dict[str, Any]] = [
        {"operation": f"LMTP ingest, {count:,} messages, 4 connections", "msg/s": per_second, "p99 ms": p99}
    ]
    with harness.data_directory() as data_dir:
        asyncio.run(mail.prepare_account(data_dir))
        with harness.bench_client(data_dir, timeout=600) as client:
            started = time.perf_counter()
            asyncio.run(mail.ingest(str(client.base_url), messages, 4))
            rate = messages / (time.perf_counter() - started)
            rows.append({"operation": f"JMAP Email/import, {messages:,} messages, 4 clients", "msg/s": rate})
            for figures in mail.Bench(client, runs).all():
                rows.append(
                    {"operation": f"{figures.operation} ({messages:,} messages)", "ms": figures.median_ms,
                     "results": figures.results}
                )  # fmt: skip
    return rows


# --- the run ---------------------------------------------------------------------------------------------------------


def started_servers(stack: ExitStack, root: Path) -> Iterator[Server]:
    for kind in SERVERS:
        server = kind(root / kind.name, free_port())
        server.start()
        stack.callback(server.stop)
        yield server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="collection sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each workload (the median counts)")
    parser.add_argument("--window", type=float, default=5.0, help="seconds of each PUT and GET throughput run")
    parser.add_argument("--mix-seconds", type=float, default=60.0, help="length of the phone mix")
    parser.add_argument("--mix-clients", type=int, default=50)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds a peer may take at one size")
    parser.add_argument("--mail-messages", type=int, default=100_000, help="messages in the JMAP account")
    parser.add_argument("--lmtp-messages", type=int, default=10_000)
    parser.add_argument("--no-mail", action="store_true", help="leave the mail rows out")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "RESULTS", help="path without suffix")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp, ExitStack() as stack:
        servers = list(started_servers(stack, Path(tmp)))
        comparison = Comparison(servers, args)
        results = comparison.results
        results.update(machine=report.machine(servers), settings=vars(args) | {"output": str(args.output)})
        for size in sizes:
            print(f"\n{size:,} items", flush=True)
            results["sizes"][str(size)] = uvloop.run(comparison.size(size))
            report.write(results, args.output)
            print(report.text_table(results, size), flush=True)
        for server in servers:
            server.stop()
    if not args.no_mail:
        print("\nmail (this server only)", flush=True)
        results["mail"] = mail_figures(args.mail_messages, args.lmtp_messages, args.runs)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    report.write(results, args.output)
    print(f"\n{report.text_mail(results)}\nwrote {args.output}.md and {args.output}.json")


if __name__ == "__main__":
    main()
