"""The servers ``bench.compare`` puts side by side: this one, Radicale, Xandikos and the ceiling app.

Each runs as its own process on a free loopback port with its own temporary storage, configured as shipped apart
from storage, address, authentication and log level (warnings only, for all). Radicale and Xandikos come from the
bench environment ``bench/.venv-peers`` (``make bench`` installs the versions pinned in ``bench/peers.txt``).

Filling a collection of 100,000 items through PUT is out of reach for the peers (each PUT costs them time in
proportion to the collection, so the fill would take hours), so they are filled the fastest legitimate way, through
their documented on-disk formats while they run: Radicale's filesystem storage is one file per item in the
collection's folder, Xandikos's a Git repository whose tree holds one file per item (written, then committed with
the ``git`` command). The collection itself is made over HTTP (MKCALENDAR, extended MKCOL) in both. This server is
filled over HTTP by concurrent PUTs, as a client would. The caches the peers build on first access (Radicale parses
every item once) are built by an untimed first listing that counts as part of the fill.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import load

USER, PASSWORD = "bench", "bench-password"
BENCH_DIR = Path(__file__).resolve().parent
PEERS_BIN = BENCH_DIR / ".venv-peers" / "bin"
FILL_CONCURRENCY = 16
START_TIMEOUT = 60.0

CALDAV_NS, CARDDAV_NS = "urn:ietf:params:xml:ns:caldav", "urn:ietf:params:xml:ns:carddav"
MKCALENDAR = (
    f'<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="{CALDAV_NS}"><D:set><D:prop>'
    '<D:displayname>Bench</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/>'
    "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
).encode()
MKADDRESSBOOK = (
    f'<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"><D:set><D:prop>'
    "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Bench</D:displayname>"
    "</D:prop></D:set></D:mkcol>"
).encode()
XML = {"Content-Type": "application/xml; charset=utf-8"}
LISTING = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'

Items = Sequence[tuple[str, bytes]]


class Server:
    """One server process on ``port`` with its storage under ``root``."""

    name = ""
    dav = True
    """Whether it holds collections (the ceiling app only answers GET and PROPFIND)."""
    peer = False
    """Whether it is one of the servers compared with (their time at a size is limited)."""
    auth: tuple[str, str] | None = (USER, PASSWORD)

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """What has to exist before the process starts."""

    def version(self) -> str:
        raise NotImplementedError

    def calendar(self, size: int) -> str:
        raise NotImplementedError

    def book(self, size: int) -> str:
        raise NotImplementedError

    def client(self, timeout: float = 900.0) -> load.Client:
        return load.Client(self.port, self.auth, timeout)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.prepare()
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - the process holds it until stop()
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR.parent)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {(self.root / 'server.log').read_text()[-3000:]}")
            try:
                asyncio.run(self._probe())
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start") from None
                time.sleep(0.2)

    async def _probe(self) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.close()
        await writer.wait_closed()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def fill(self, client: load.Client, path: str, calendar: bool, items: Items) -> None:
        """Make the collection at ``path`` and put ``items`` in it; then list it once, which builds any cache."""
        if calendar:
            reply = await client.request("MKCALENDAR", path, MKCALENDAR, XML)
        else:
            reply = await client.request("MKCOL", path, MKADDRESSBOOK, XML)
        if reply.status != 201:
            raise RuntimeError(f"{self.name}: making {path} answered {reply.status}: {reply.body[:500]!r}")
        await self.write_items(client, path, calendar, items)
        reply = await client.request("PROPFIND", path, LISTING, {**XML, "Depth": "1"})
        if reply.status != 207:
            raise RuntimeError(f"{self.name}: listing {path} answered {reply.status}")

    async def write_items(self, client: load.Client, path: str, calendar: bool, items: Items) -> None:
        """PUT every item, ``FILL_CONCURRENCY`` at a time."""
        content_type = {"Content-Type": "text/calendar; charset=utf-8" if calendar else "text/vcard; charset=utf-8"}

        async def put(n: int) -> str | None:
            name, data = items[n]
            reply = await client.request("PUT", path + name, data, content_type)
            return None if reply.status in (201, 204) else f"{reply.status} {reply.body[:300]!r}"

        failures = (await load.closed_loop(put, FILL_CONCURRENCY, float("inf"), len(items))).failures
        if failures:
            raise RuntimeError(f"{self.name}: PUTs into {path} failed: {dict(failures)}")


def peers_version(package: str) -> str:
    """The version of ``package`` in the bench environment."""
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return subprocess.run([str(PEERS_BIN / "python"), "-c", code], capture_output=True, text=True).stdout.strip()


class Gateway(Server):
    """This server: ``gateway serve`` on a fresh data directory, the account made by ``gateway user add``."""

    name = "gateway"

    def gateway(self, *args: str) -> list[str]:
        return [str(Path(sys.executable).parent / "gateway"), "--data-dir", str(self.root), *args]

    def prepare(self) -> None:
        subprocess.run(self.gateway("user", "add", USER), input=PASSWORD + "\n", text=True, check=True)

    def command(self) -> list[str]:
        return self.gateway("serve", "--listen", f"127.0.0.1:{self.port}", "--log-level", "warning")

    def version(self) -> str:
        """The package version and commit, marked when the server's code has uncommitted changes."""
        git = ["git", "-C", str(BENCH_DIR.parent)]
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        changed = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "gateway", "protocols", "storage"]).returncode
        return (
            f"{importlib.metadata.version('groupware-gateway')} ({commit or 'no git'}{' + changes' if changed else ''})"
        )

    def calendar(self, size: int) -> str:
        return f"/dav/calendars/{USER}/c{size}/"

    def book(self, size: int) -> str:
        return f"/dav/addressbooks/{USER}/b{size}/"


class Peer(Server):
    """A server compared with, installed in the bench environment under the package named ``name``."""

    peer = True

    def version(self) -> str:
        return peers_version(self.name)


class Radicale(Peer):
    """Radicale's built-in server and filesystem storage, htpasswd authentication (plain, the cheapest)."""

    name = "radicale"

    def prepare(self) -> None:
        (self.root / "htpasswd").write_text(f"{USER}:{PASSWORD}\n")

    def command(self) -> list[str]:
        return [
            str(PEERS_BIN / "radicale"),
            "--server-hosts", f"127.0.0.1:{self.port}",
            "--auth-type", "htpasswd",
            "--auth-htpasswd-filename", str(self.root / "htpasswd"),
            "--auth-htpasswd-encryption", "plain",
            "--storage-filesystem-folder", str(self.root / "store"),
            "--logging-level", "warning",
        ]  # fmt: skip

    def calendar(self, size: int) -> str:
        return f"/{USER}/c{size}/"

    def book(self, size: int) -> str:
        return f"/{USER}/b{size}/"

    async def write_items(self, client: load.Client, path: str, calendar: bool, items: Items) -> None:
        folder = self.root / "store" / "collection-root" / path.strip("/")
        await asyncio.to_thread(write_files, folder, items)


class Xandikos(Peer):
    """Xandikos's own server (aiohttp) on Git-backed collections; it has no authentication on plain HTTP."""

    name = "xandikos"
    auth = None

    def command(self) -> list[str]:
        return [
            str(PEERS_BIN / "xandikos"), "serve",
            "--directory", str(self.root / "store"),
            "--state-dir", str(self.root / "state"),
            "--defaults",
            "--listen-address", "127.0.0.1",
            "--port", str(self.port),
            "--no-detect-systemd",
        ]  # fmt: skip

    def calendar(self, size: int) -> str:
        return f"/user/calendars/c{size}/"

    def book(self, size: int) -> str:
        return f"/user/contacts/b{size}/"

    async def write_items(self, client: load.Client, path: str, calendar: bool, items: Items) -> None:
        folder = self.root / "store" / path.strip("/")
        await asyncio.to_thread(write_files, folder, items)
        git = ["git", "-C", str(folder), "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        for args in (["add", "--all"], ["commit", "--quiet", "--message", f"bench: {len(items)} items"]):
            await asyncio.to_thread(subprocess.run, [*git, *args], check=True)


class Ceiling(Server):
    """The bare starlette app of ``bench.ceiling``."""

    name = "ceiling"
    dav = False

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.ceiling", "--port", str(self.port)]

    def version(self) -> str:
        return f"starlette {importlib.metadata.version('starlette')}, uvicorn {importlib.metadata.version('uvicorn')}"


def write_files(folder: Path, items: Items) -> None:
    for name, data in items:
        (folder / name).write_bytes(data)


SERVERS: tuple[type[Server], ...] = (Gateway, Radicale, Xandikos, Ceiling)
