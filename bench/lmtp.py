"""LMTP delivery: a burst of generated mail from the MTA, as fast as the gateway takes it.

The messages are those of ``bench.mail`` (2 KB to 50 KB, median about 4 KB, attachments, alternatives, threads),
generated before the clock starts. Lines longer than 998 octets are broken, as Postfix's LMTP client does
(``lmtp_line_length_limit``). ``--connections`` concurrent LMTP connections (Postfix's ``lmtp`` processes) share
the burst: each sends MAIL, RCPT and DATA pipelined, then the message, and waits for the replies to it before the
next. A message's latency runs from its MAIL command to its last reply. Two runs, each on a fresh server and
database: one recipient per message, then three (three accounts, three copies).

Run: ``python -m bench.lmtp`` (10,000 messages), ``--messages 1000`` for a quick try, ``--connections N``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import harness, mail
from gateway.accounts import create_account
from gateway.auth.passwords import hash_password
from tests.testing import free_port, live_server

LINE_LIMIT = 998
DOMAIN = "bench.example"


def folded(raw: bytes) -> bytes:
    """``raw`` dot-stuffed for DATA, its lines broken at ``LINE_LIMIT`` octets, with the final ``.`` line."""
    out: list[bytes] = []
    for line in raw.split(b"\r\n"):
        pieces = [line[start : start + LINE_LIMIT] for start in range(0, len(line), LINE_LIMIT)] or [b""]
        out += [b"." + piece if piece.startswith(b".") else piece for piece in pieces]
    return b"\r\n".join(out).removesuffix(b"\r\n") + b"\r\n.\r\n"


def burst(messages: int) -> list[bytes]:
    """``messages`` generated messages, ready to send."""
    return [folded(message.raw) for batch in mail.batches(messages) for message in batch][:messages]


@dataclass
class Run:
    """One burst over several connections: what each message took."""

    port: int
    recipients: Sequence[str]
    latencies: list[float] = field(default_factory=list)
    octets: int = 0

    async def connection(self, source: Iterator[bytes]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        await reply(reader)
        writer.write(b"LHLO bench.example\r\n")
        await reply(reader)
        envelope = b"MAIL FROM:<sender@elsewhere.example>\r\n"
        envelope += b"".join(f"RCPT TO:<{rcpt}>\r\n".encode() for rcpt in self.recipients) + b"DATA\r\n"
        for data in source:
            started = time.perf_counter()
            writer.write(envelope)
            for _ in range(len(self.recipients) + 1):
                expect(await reply(reader), b"25")
            expect(await reply(reader), b"354")
            writer.write(data)
            for _ in self.recipients:
                expect(await reply(reader), b"250")
            self.latencies.append(time.perf_counter() - started)
            self.octets += len(data)
        writer.write(b"QUIT\r\n")
        await reply(reader)
        writer.close()
        await writer.wait_closed()

    async def run(self, data: list[bytes], connections: int) -> float:
        source = iter(data)
        started = time.perf_counter()
        await asyncio.gather(*(self.connection(source) for _ in range(connections)))
        return time.perf_counter() - started


async def reply(reader: asyncio.StreamReader) -> bytes:
    """One whole reply (the last line of a multi-line one)."""
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError("the server closed the connection")
        if line[3:4] != b"-":
            return line


def expect(line: bytes, prefix: bytes) -> None:
    if not line.startswith(prefix):
        raise RuntimeError(f"unexpected reply: {line!r}")


async def make_accounts(data_dir: Path, count: int) -> list[str]:
    """``count`` accounts with an address each; the addresses."""
    addresses = [f"bench{n}@{DOMAIN}" for n in range(count)]
    async with harness.opened_store(data_dir) as store:
        password = await asyncio.to_thread(hash_password, harness.PASSWORD)
        for n, address in enumerate(addresses):
            await create_account(store, f"bench{n}", password, email=address)
    return addresses


def measure(data: list[bytes], recipients: int, connections: int) -> tuple[object, ...]:
    """A fresh server and database, the burst, and its table row."""
    with harness.data_directory() as data_dir:
        addresses = asyncio.run(make_accounts(data_dir, recipients))
        port = free_port()
        with live_server(data_dir, {}, extra_env={"GATEWAY_LMTP_LISTEN": f"127.0.0.1:{port}"}):
            run = Run(port, addresses)
            elapsed = asyncio.run(run.run(data, connections))
    ordered = sorted(run.latencies)
    return (
        recipients,
        len(data),
        elapsed,
        len(data) / elapsed,
        run.octets / 1e6 / elapsed,
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


COLUMNS = (
    harness.Column("recipients", ">10"),
    harness.Column("messages", ">9", ","),
    harness.Column("seconds", ">8", ".1f"),
    harness.Column("messages/s", ">11", ",.0f"),
    harness.Column("MB/s", ">6", ".1f"),
    harness.Column("p50 ms", ">7", ".1f"),
    harness.Column("p99 ms", ">7", ".1f"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4, help="concurrent LMTP connections")
    args = parser.parse_args()
    clock = time.perf_counter()
    data = burst(args.messages)
    megabytes = sum(len(message) for message in data) / 1e6
    print(f"generated {len(data):,} messages ({megabytes:,.1f} MB) in {time.perf_counter() - clock:.1f} s")
    harness.print_table(
        f"\nLMTP delivery over loopback, {args.connections} connections",
        COLUMNS,
        (measure(data, recipients, args.connections) for recipients in (1, 3)),
    )


if __name__ == "__main__":
    main()
