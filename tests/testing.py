"""Test helpers: a real ``gateway serve`` process on a free loopback port with a fresh SQLite file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from storage.sqlite.store import SqliteStore

GATEWAY = [sys.executable, "-m", "gateway.cli"]
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GATEWAY, "--data-dir", str(data_dir), *args], input=stdin, capture_output=True, text=True, timeout=60
    )


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    passwords: dict[str, str]

    def client(self, user: str | None = "alice", **kwargs: object) -> httpx.Client:
        auth = (user, self.passwords[user]) if user else None
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.base_url, auth=auth, **kwargs)  # type: ignore[arg-type]

    def add_user(self, name: str, password: str) -> None:
        result = gateway(self.data_dir, "user", "add", name, stdin=password + "\n")
        assert result.returncode == 0, result.stderr
        self.passwords[name] = password


@contextmanager
def live_server(data_dir: Path, users: dict[str, str], extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Start ``gateway serve`` with the given users; stop it (only it) afterwards."""
    server = LiveServer("", data_dir, {})
    for name, password in users.items():
        server.add_user(name, password)
    port = free_port()
    env = {**os.environ, **(extra_env or {})}
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [*GATEWAY, "--data-dir", str(data_dir), "serve", "--listen", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    server.base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gateway exited: {(data_dir / 'server.log').read_text()}")
            try:
                httpx.get(server.base_url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gateway did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@asynccontextmanager
async def sqlite_store(directory: Path, name: str = "db.sqlite") -> AsyncIterator[SqliteStore]:
    """The SQLite store in the file ``directory / name`` (made if missing), open for the block and closed after it."""
    store = SqliteStore(directory / name)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def propfind_body(*props: str) -> str:
    """A PROPFIND body asking for DAV: properties by local name."""
    inner = "".join(f"<D:{name}/>" for name in props)
    return f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>{inner}</D:prop></D:propfind>'


@dataclass
class Received:
    """One message an SmtpSink accepted: the envelope and the octets as they came."""

    mail_from: str
    rcpt_to: list[str]
    data: bytes
    helo: str
    """The name the client gave in EHLO."""
    tls: bool


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.sink.refuse_senders:
            return "553 5.7.1 Sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.sink.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content,
                session.host_name,
                server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 2.0.0 Ok: queued as 12345"


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd, in its own thread) on a loopback port, standing in for the organisation's
    MTA: it keeps every message and refuses the recipients in ``refuse`` (550) and senders in ``refuse_senders``."""

    port: int = 0
    refuse: set[str] = field(default_factory=set)
    refuse_senders: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def smtp_sink(refuse: set[str] | None = None, **smtp_options: Any) -> Iterator[SmtpSink]:
    """Run an SmtpSink for the block; ``smtp_options`` go to aiosmtpd (TLS, AUTH: ``tls_context``,
    ``require_starttls``, ``authenticator``, ``auth_required``, ``auth_require_tls``; ``ssl_context`` for TLS
    from the first byte)."""
    sink = SmtpSink(free_port(), refuse or set())
    controller = Controller(_SinkHandler(sink), hostname="127.0.0.1", port=sink.port, **smtp_options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
