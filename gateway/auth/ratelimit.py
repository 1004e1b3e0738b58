"""Failed-login limiter: slows password guessing against one account and from one client address.

Keys are opaque strings (the Basic authenticator uses ``account:<name>`` and ``client:<address>``). A key with
``max_failures`` failures inside ``window`` seconds is locked for ``lockout`` seconds. Memory is bounded: the
table is kept in least-recently-failed order, stale entries fall off the front, and past ``max_keys`` the
oldest entry is dropped even if still counting (a flood of fresh keys cannot grow memory without bound).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DEFAULT_MAX_KEYS = 100_000


@dataclass
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    last_failure: float = 0.0


class FailureLimiter:
    def __init__(
        self,
        max_failures: int,
        window: float,
        lockout: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_keys = max_keys
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def check(self, keys: Iterable[str]) -> float | None:
        """Seconds until every given key is unlocked, or ``None`` when none is locked."""
        now = self._clock()
        waits = [entry.locked_until - now for key in keys if (entry := self._entries.get(key)) is not None]
        longest = max(waits, default=0.0)
        return longest if longest > 0 else None

    def record_failure(self, keys: Iterable[str]) -> None:
        now = self._clock()
        self._prune(now)
        for key in keys:
            entry = self._entries.pop(key, None) or _Entry()
            self._entries[key] = entry  # (re)insert at the back: most recently failed
            entry.last_failure = now
            while entry.failures and entry.failures[0] <= now - self.window:
                entry.failures.popleft()
            entry.failures.append(now)
            if len(entry.failures) >= self.max_failures:
                entry.locked_until = now + self.lockout
                entry.failures.clear()
        while len(self._entries) > self.max_keys:
            self._entries.popitem(last=False)

    def record_success(self, account_key: str) -> None:
        """Forget an account's failures. Client keys are left alone: one good login must not reset a guesser."""
        self._entries.pop(account_key, None)

    def _prune(self, now: float) -> None:
        """Drop entries from the front that neither count failures nor hold a lock any more."""
        horizon = now - max(self.window, self.lockout)
        while self._entries:
            entry = next(iter(self._entries.values()))
            if entry.last_failure > horizon:
                break
            self._entries.popitem(last=False)
