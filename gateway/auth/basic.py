"""HTTP Basic authentication (RFC 7617) against the argon2id hashes in the store.

DAV clients send the password with every request, and argon2 is slow on purpose, so a successful check is
remembered briefly under an HMAC of (name, stored hash, password) with a per-process key: the password itself
is never kept, and changing the password changes the stored hash and so misses the cache.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import HTTPConnection

from gateway.auth import AuthenticationFailed, Principal, RateLimited
from gateway.auth.passwords import burn_verify, hash_password, needs_rehash, verify_password
from gateway.auth.ratelimit import FailureLimiter
from gateway.settings import Settings
from storage.api import Account, Store

CACHE_MAX_ENTRIES = 10_000


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``Authorization`` value -> ``(user, password)``; ``None`` for another scheme; malformed -> failure."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed() from None
    name, sep, password = decoded.partition(":")
    if not sep or not name:
        raise AuthenticationFailed()
    return name, password


class BasicAuthenticator:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        limiter: FailureLimiter | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._cache_seconds = settings.auth_cache_seconds
        self._limiter = limiter or FailureLimiter(
            settings.auth_max_failures,
            settings.auth_failure_window_seconds,
            settings.auth_lockout_seconds,
            clock=clock,
        )
        self._cache_key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, float] = OrderedDict()
        self._verifying: dict[bytes, asyncio.Future[bool]] = {}

    def challenge(self, realm: str) -> str:
        return f'Basic realm="{realm}", charset="UTF-8"'

    async def authenticate(self, request: HTTPConnection) -> Principal | None:
        credentials = parse_basic(request.headers.get("authorization"))
        if credentials is None:
            return None
        name, password = credentials
        keys = (f"account:{name}", f"client:{request.client.host if request.client else 'unknown'}")
        retry_after = self._limiter.check(keys)
        if retry_after is not None:
            raise RateLimited(retry_after)
        async with self._store.read() as tx:
            account = await tx.get_account(name)
        if account is None:
            await burn_verify(password)
        elif self._is_cached(account, password) or await self._verify_once(account, password):
            self._limiter.record_success(keys[0])
            return Principal(account_id=account.id, name=account.name)
        self._limiter.record_failure(keys)
        raise AuthenticationFailed()

    def _digest(self, account: Account, password: str) -> bytes:
        # NUL cannot occur in a name or a stored hash, so the joined message is unambiguous.
        message = "\0".join((account.name, account.password_hash, password)).encode()
        return hmac.new(self._cache_key, message, hashlib.sha256).digest()

    def _is_cached(self, account: Account, password: str) -> bool:
        expires = self._cache.get(self._digest(account, password))
        return expires is not None and expires > self._clock()

    def _remember(self, account: Account, password: str) -> None:
        if self._cache_seconds <= 0:
            return
        now = self._clock()
        # Entries share one TTL, so insertion order is expiry order: expired ones sit at the front.
        while self._cache and (next(iter(self._cache.values())) <= now or len(self._cache) >= CACHE_MAX_ENTRIES):
            self._cache.popitem(last=False)
        digest = self._digest(account, password)
        self._cache.pop(digest, None)  # a re-added key must move to the back to keep the order
        self._cache[digest] = now + self._cache_seconds

    async def _verify_once(self, account: Account, password: str) -> bool:
        """Concurrent requests with the same credentials (a client opening many connections, or all of them when
        the cache entry expires) share one argon2 check instead of each burning a core on it."""
        digest = self._digest(account, password)
        pending = self._verifying.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(self._verify(account, password))
            self._verifying[digest] = pending
            pending.add_done_callback(lambda _: self._verifying.pop(digest, None))
        return await asyncio.shield(pending)

    async def _verify(self, account: Account, password: str) -> bool:
        if not await verify_password(account.password_hash, password):
            return False
        if needs_rehash(account.password_hash):
            await self._rehash(account, password)
        else:
            self._remember(account, password)
        return True

    async def _rehash(self, account: Account, password: str) -> None:
        """Upgrade a hash made with outdated parameters, unless the password changed meanwhile."""
        new_hash = await asyncio.to_thread(hash_password, password)
        async with self._store.write() as tx:
            current = await tx.get_account(account.name)
            if current is not None and current.password_hash == account.password_hash:
                await tx.set_password(account.name, new_hash)
