"""PROPFIND Depth:1 on collections of 1,000 and 10,000 items: latency, time to first byte, size.

The items are written straight into the store before the server starts (so the benchmark measures the
listing, not the upload), then a real ``gateway serve`` answers over loopback HTTP. Run: ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx

from bench.harness import (
    USER,
    Column,
    bench_account,
    bench_client,
    data_directory,
    median_ms,
    opened_store,
    p90_ms,
    print_table,
    timed_calls,
)
from storage.api import ItemWrite

BODY = (
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:">'
    "<D:prop><D:getetag/><D:getcontenttype/><D:resourcetype/></D:prop></D:propfind>"
)


async def populate(data_dir: Path, sizes: list[int], item_bytes: int) -> None:
    async with opened_store(data_dir) as store:
        account = await bench_account(store)
        for size in sizes:
            async with store.write() as tx:
                collection = await tx.create_collection(account.id, f"files/{USER}/c{size}/", "collection")
                for n in range(size):
                    data = (f"item {n} ".ljust(item_bytes, "x")).encode()
                    await tx.put_item(collection.id, ItemWrite(f"item-{n:06d}.txt", data, "text/plain"))


def fetch(client: httpx.Client, url: str, body: str) -> tuple[float, int]:
    """One streamed PROPFIND Depth:1: seconds to the first byte and bytes in the answer."""
    start = time.perf_counter()
    first, size = None, 0
    with client.stream("PROPFIND", url, content=body, headers={"Depth": "1"}) as response:
        for chunk in response.iter_raw():
            if first is None:
                first = time.perf_counter() - start
            size += len(chunk)
        assert response.status_code == 207, response.status_code
    return first or 0.0, size


def measure(client: httpx.Client, url: str, body: str, runs: int) -> dict[str, float]:
    totals, answers = timed_calls(lambda: fetch(client, url, body), runs)
    return {
        "median_ms": median_ms(totals),
        "p90_ms": p90_ms(totals),
        "first_byte_ms": median_ms([first for first, _ in answers]),
        "kib": answers[-1][1] / 1024,
    }


COLUMNS = (
    Column("items", ">8"),
    Column("body", ">8"),
    Column("median ms", ">10", ".1f"),
    Column("p90 ms", ">8", ".1f"),
    Column("first byte ms", ">14", ".1f"),
    Column("KiB", ">8", ".0f"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--item-bytes", type=int, default=1024)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with data_directory() as data_dir:
        asyncio.run(populate(data_dir, sizes, args.item_bytes))
        with bench_client(data_dir) as client:
            print_table(
                f"PROPFIND Depth:1, props getetag+getcontenttype+resourcetype, {args.runs} runs each",
                COLUMNS,
                (
                    (size, body_name, f["median_ms"], f["p90_ms"], f["first_byte_ms"], f["kib"])
                    for size in sizes
                    for body_name, body in (("prop", BODY), ("allprop", ""))
                    for f in [measure(client, f"/dav/files/{USER}/c{size}/", body, args.runs)]
                ),
            )


if __name__ == "__main__":
    main()
