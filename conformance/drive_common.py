"""What the drive.py scripts of jmap/ and postfix/ share: failing a check, counting checks, and a loopback server
run by its own asyncio event loop in a background thread.

Imported with the project venv's python: each drive.py puts this directory on sys.path.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field


class CheckFailure(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailure(message)


@dataclass
class Runner:
    """The check counter: PASS / FAIL lines, and the checks that passed (what later checks need). A drive.py's
    own Runner runs each check with what that suite watches around it."""

    passed: int = 0
    failed: int = 0
    done: set[str] = field(default_factory=set)

    def not_run(self, name: str, needs: Sequence[str]) -> bool:
        """Whether a check ``name`` needs has not passed; then ``name`` fails as not run."""
        missing = [need for need in needs if need not in self.done]
        if missing:
            self.failed += 1
            print(f"FAIL {name}: not run, needs {', '.join(missing)}", flush=True)
        return bool(missing)

    def fail(self, name: str, exc: Exception, limit: int) -> None:
        """``name`` failed with ``exc``: its message (an unexpected exception with its type) on one line, cut at
        ``limit`` characters."""
        self.failed += 1
        message = str(exc) if isinstance(exc, CheckFailure) else f"{type(exc).__name__}: {exc}"
        print(f"FAIL {name}: {' '.join(message.split())[:limit]}", flush=True)

    def ok(self, name: str, detail: str, timing: str = "") -> None:
        self.passed += 1
        self.done.add(name)
        print(f"PASS {name}{timing}" + (f": {detail}" if detail else ""), flush=True)

    def summary(self) -> int:
        """The final ``N passed, M failed`` line; the exit status."""
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


class LoopbackServer:
    """An asyncio server on 127.0.0.1 (``serve``), run by its own event loop in a daemon thread; ``port`` 0 picks
    a free one."""

    description = "the server"  # for the error when it does not start
    thread_name = "server"

    def __init__(self, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None

    async def serve(self) -> asyncio.Server:
        raise NotImplementedError

    def start(self) -> None:
        threading.Thread(target=self.run, name=self.thread_name, daemon=True).start()
        self.ready.wait(10)
        if self.error is not None or not self.ready.is_set():
            raise RuntimeError(f"{self.description} on 127.0.0.1:{self.port} did not start: {self.error}")

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            server = self.loop.run_until_complete(self.serve())
            self.port = server.sockets[0].getsockname()[1]
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
