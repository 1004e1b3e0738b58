"""The output of ``bench.compare``: the machine's description, the tables (Markdown and plain text) and the JSON."""

from __future__ import annotations

import json
import os
import platform
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.servers import Server
from bench.workloads import workloads

THIS, PEERS, CEILING = "gateway", ("radicale", "xandikos"), "ceiling"
COLUMNS = ("items", "workload", "metric", THIS, *PEERS, CEILING, "vs best peer", "vs ceiling")
LEGEND = """\
Each figure is the median of the measured runs; req/s counts successful requests. The two ratios say how many times
better this server does: for req/s its figure over the other's, for times (ms) the other's over its own; above 1
this server is ahead. "vs best peer" compares with the better of Radicale and Xandikos, "vs ceiling" with the bare
starlette app (it answers GET and PROPFIND only, with fixed bodies: its PROPFIND holds one response, so that ratio
says how far a real listing is from an empty one). "cut": the peer needed more than the time budget at that size,
fill included, and was stopped there; "unsupported": the server does not do it; "[n]": the answer held n results
where this server's held another number; "(n err)": n requests failed (why: in the notes below the table)."""
SERVERS_NOTE = """\
How the servers run: this server as `gateway serve` (uvicorn, one process), the account made by `gateway user add`;
Radicale on its built-in threaded server with htpasswd (plain) authentication, which speaks HTTP/1.0 (a new
connection per request) and, as shipped, serves 8 connections at once with a listen backlog of 5, so that with 16
or 50 clients some connections wait for the kernel's SYN retries (seconds) or are reset; Xandikos on its own aiohttp
server, without authentication (it offers that only over TLS), which answers 423 Locked to a write while another
write to the same collection is under way. All log warnings only."""
FILL_NOTE = """\
This server is filled over HTTP by 16 concurrent PUTs. Radicale and Xandikos are filled through their on-disk
formats while they run (one file per item in Radicale's collection folder; one file per item committed to the
collection's Git repository for Xandikos), after making the collection over HTTP: through PUT, which costs them time
in proportion to the collection, 100,000 items would take them hours. Their fill time includes the first listing,
in which Radicale parses and caches every item."""


def machine(servers: list[Server]) -> dict[str, Any]:
    """What the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "versions": {server.name: server.version() for server in servers},
    }


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x" if value >= 0.95 else f"{value:.2g}x"


def cell_text(cell: dict[str, Any] | None, metric: str, reference: dict[str, Any] | None) -> str:
    """A server's figure for ``metric``, or why there is none."""
    if cell is None:
        return ""
    if cell["status"] != "ok":
        return str(cell["status"])
    text = number(cell["median"][metric])
    if reference is not None and reference.get("status") == "ok" and cell.get("results") != reference["results"]:
        text += f" [{cell['results']}]"
    if failed := sum(cell.get("failures", {}).values()):
        text += f" ({failed:,} err)"
    return text


def better(this: float, other: float, higher_is_better: bool) -> float:
    """How many times better ``this`` is than ``other``."""
    if higher_is_better:
        return this / other if other else float("inf")
    return other / this if this else float("inf")


def median(cells: dict[str, Any], name: str, key: str) -> float | None:
    cell = cells.get(name)
    return float(cell["median"][key]) if cell and cell["status"] == "ok" else None


def rows(results: dict[str, Any], size: int) -> Iterator[list[str]]:
    """The table's rows for one size: one per workload and metric."""
    measured = results["sizes"].get(str(size))
    if measured is None:
        return
    for workload in workloads(1, results["settings"]["mix_seconds"], results["settings"]["mix_clients"]):
        cells = measured["workloads"].get(workload.key, {}).get("servers", {})
        this = cells.get(THIS)
        for metric in workload.metrics:
            mine, ceiling = median(cells, THIS, metric.key), median(cells, CEILING, metric.key)
            peers = [v for v in (median(cells, name, metric.key) for name in PEERS) if v is not None]
            best = (max if metric.higher_is_better else min)(peers) if peers else None
            yield [
                f"{size:,}",
                workload.title,
                metric.key,
                *(cell_text(cells.get(name), metric.key, this) for name in (THIS, *PEERS)),
                cell_text(cells.get(CEILING), metric.key, None),
                ratio(better(mine, best, metric.higher_is_better)) if mine is not None and best is not None else "",
                ratio(better(mine, ceiling, metric.higher_is_better)) if mine and ceiling is not None else "",
            ]


def notes(results: dict[str, Any]) -> Iterator[str]:
    """Why a figure is missing, what failed requests answered, and what the client's CPU was at the ceiling."""
    for size, measured in results["sizes"].items():
        for workload in measured["workloads"].values():
            for name, cell in workload["servers"].items():
                where = f"{int(size):,} items, {workload['title']}, {name}"
                if cell.get("note"):
                    yield f"- {where}: {cell['status']}, {cell['note']}"
                if failures := cell.get("failures"):
                    whys = ", ".join(f"{count:,} x {why}" for why, count in sorted(failures.items()))
                    yield f"- {where}: failed requests (all runs): {whys}"
                if name == CEILING and cell.get("runs") and "client cpu %" in cell["runs"][0]:
                    cpu = max(run["client cpu %"] for run in cell["runs"])
                    verdict = "so it kept up" if cpu < 90 else "so the client may have limited the figure"
                    yield f"- {where}: the client used at most {cpu:.0f}% of a core ({verdict})"


def markdown(header: tuple[str, ...], body: list[list[str]], left: int) -> str:
    """A Markdown table whose first ``left`` columns are left-aligned, the others right-aligned."""
    align = ["---" if n < left else "---:" for n in range(len(header))]
    lines = [header, align, *body]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def plain(header: tuple[str, ...], body: list[list[str]], left: int) -> str:
    lines = [list(header), *body]
    widths = [max(len(line[n]) for line in lines) for n in range(len(header))]
    justified = (
        [
            text.ljust(width) if n < left else text.rjust(width)
            for n, (text, width) in enumerate(zip(line, widths, strict=True))
        ]
        for line in lines
    )
    return "\n".join("  ".join(line) for line in justified)


def text_table(results: dict[str, Any], size: int) -> str:
    return plain(COLUMNS, list(rows(results, size)), 3)


def mail_rows(results: dict[str, Any]) -> list[list[str]]:
    body = []
    for row in results.get("mail", []):
        figures = [f"{number(row[key])} {key}" for key in ("msg/s", "ms", "p99 ms") if key in row]
        if "results" in row:
            figures.append(f"{row['results']:,} results")
        why = f"{row.get('status', '')} {row.get('note', '')}".strip()
        body.append([row["operation"].strip(), ", ".join(figures) or why])
    return body


def text_mail(results: dict[str, Any]) -> str:
    return plain(("mail (this server)", "median"), mail_rows(results), 1) if results.get("mail") else ""


def write(results: dict[str, Any], output: Path) -> None:
    """``output``.json with everything, ``output``.md with the tables and the machine."""
    output.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    output.with_suffix(".md").write_text(render(results))


def render(results: dict[str, Any]) -> str:
    about, settings = results["machine"], results["settings"]
    sizes = [int(size) for size in results["sizes"]]
    body = [row for size in sizes for row in rows(results, size)]
    versions = ", ".join(f"{name} {version}" for name, version in about["versions"].items())
    spent = [
        [f"{size:,}", measured["date"], measured["gateway"], f"{measured['elapsed_s']:,.0f}"]
        + [fill_text(measured, name) for name in (THIS, *PEERS)]
        for size, measured in ((size, results["sizes"][str(size)]) for size in sizes)
    ]
    parts = [
        "# Side by side: this server, Radicale, Xandikos and the ceiling",
        f"Written by `python -m bench.compare` (`make bench`) on {about['date']}: sizes {settings['sizes']}, "
        f"{settings['runs']} measured runs per figure, {settings['window']:g} s per throughput run, phone mix of "
        f"{settings['mix_clients']} clients for {settings['mix_seconds']:g} s, budget {settings['budget']:g} s per "
        "peer and size. All servers and the client on loopback on one machine:",
        markdown(
            ("machine", ""),
            [
                ["CPU", f"{about['cpu']}, {about['cores']} cores, {about['memory_gib']} GiB"],
                ["OS", about["os"]],
                ["Python", about["python"]],
                ["servers", versions],
                ["load average at start", " / ".join(str(load) for load in about["load_average_at_start"])],
            ],
            2,
        ),
        LEGEND,
        markdown(COLUMNS, body, 3),
        "\n".join(notes(results)),
        SERVERS_NOTE,
        "## Filling, and the time each size took",
        FILL_NOTE,
        markdown(
            ("items", "started", "gateway", "size took s", *(f"{name} fill s" for name in (THIS, *PEERS))), spent, 3
        ),
    ]
    if results.get("mail"):
        parts += ["## Mail (this server only)", markdown(("operation", "median"), mail_rows(results), 1)]
    if "elapsed_s" in results:
        parts.append(f"The whole run took {results['elapsed_s'] / 60:,.1f} minutes.")
    return "\n\n".join(parts) + "\n"


def fill_text(measured: dict[str, Any], name: str) -> str:
    fill = measured["fill_s"].get(name)
    return "" if fill is None else fill if isinstance(fill, str) else f"{fill:,.1f}"
