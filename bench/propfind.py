"""PROPFIND Depth:1 on collections of 1,000 and 10,000 items: latency, time to first byte, size.

The items are written straight into the store before the server starts (so the benchmark measures the
listing, not the upload), then a real ``gateway serve`` answers over loopback HTTP. Run: ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from gateway.accounts import create_account
from gateway.auth.passwords import hash_password
from storage import open_store
from storage.api import ItemWrite
from tests.testing import live_server

USER, PASSWORD = "bench", "bench-password"
BODY = (
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:">'
    "<D:prop><D:getetag/><D:getcontenttype/><D:resourcetype/></D:prop></D:propfind>"
)


async def populate(data_dir: Path, sizes: list[int], item_bytes: int) -> None:
    store = open_store(f"sqlite:///{data_dir}/gateway.db")
    await store.open()
    try:
        account = await create_account(store, USER, await asyncio.to_thread(hash_password, PASSWORD))
        for size in sizes:
            async with store.write() as tx:
                collection = await tx.create_collection(account.id, f"files/{USER}/c{size}/", "collection")
                for n in range(size):
                    data = (f"item {n} ".ljust(item_bytes, "x")).encode()
                    await tx.put_item(collection.id, ItemWrite(f"item-{n:06d}.txt", data, "text/plain"))
    finally:
        await store.close()


def measure(client: httpx.Client, url: str, body: str, runs: int) -> dict[str, float]:
    totals, firsts, size = [], [], 0
    for _ in range(runs):
        start = time.perf_counter()
        with client.stream("PROPFIND", url, content=body, headers={"Depth": "1"}) as response:
            first = None
            size = 0
            for chunk in response.iter_raw():
                if first is None:
                    first = time.perf_counter() - start
                size += len(chunk)
            assert response.status_code == 207, response.status_code
        totals.append(time.perf_counter() - start)
        firsts.append(first or 0.0)
    return {
        "median_ms": statistics.median(totals) * 1000,
        "p90_ms": sorted(totals)[int(len(totals) * 0.9) - 1] * 1000,
        "first_byte_ms": statistics.median(firsts) * 1000,
        "kib": size / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--item-bytes", type=int, default=1024)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        asyncio.run(populate(data_dir, sizes, args.item_bytes))
        with live_server(data_dir, {}) as server:
            server.passwords[USER] = PASSWORD
            with server.client(USER) as client:
                print(f"PROPFIND Depth:1, props getetag+getcontenttype+resourcetype, {args.runs} runs each")
                print(f"{'items':>8} {'body':>8} {'median ms':>10} {'p90 ms':>8} {'first byte ms':>14} {'KiB':>8}")
                for size in sizes:
                    for body_name, body in (("prop", BODY), ("allprop", "")):
                        url = f"/dav/files/{USER}/c{size}/"
                        measure(client, url, body, 2)  # warm caches
                        figures = measure(client, url, body, args.runs)
                        print(
                            f"{size:>8} {body_name:>8} {figures['median_ms']:>10.1f} {figures['p90_ms']:>8.1f}"
                            f" {figures['first_byte_ms']:>14.1f} {figures['kib']:>8.0f}"
                        )


if __name__ == "__main__":
    main()
