"""Authentication: argon2 hashing, the failed-login limiter, HTTP Basic against a real store, the middleware."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest
from argon2 import PasswordHasher
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from gateway.accounts import create_account
from gateway.auth import AuthenticationFailed, Principal, RateLimited, basic, passwords
from gateway.auth.basic import BasicAuthenticator, parse_basic
from gateway.auth.middleware import AuthMiddleware
from gateway.auth.passwords import hash_password, needs_rehash, verify_password
from gateway.auth.ratelimit import FailureLimiter
from gateway.settings import Settings
from storage.sqlite.store import SqliteStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def basic_header(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def make_request(authorization: str | None = None, client: str = "192.0.2.1") -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode("latin-1"))]
    return Request({"type": "http", "method": "GET", "path": "/dav/", "headers": headers, "client": (client, 5000)})


# passwords


async def test_hash_and_verify() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, "correct horse")
    assert not await verify_password(stored, "wrong horse")
    assert not await verify_password("not a hash", "correct horse")


def test_needs_rehash_for_weak_parameters() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("pw"))
    assert not needs_rehash("garbage")


# rate limiter


def test_limiter_locks_after_max_failures_and_expires() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(max_failures=3, window=60, lockout=30, clock=clock)
    keys = ["account:alice", "client:1.2.3.4"]
    for _ in range(2):
        limiter.record_failure(keys)
    assert limiter.check(keys) is None
    limiter.record_failure(keys)
    assert limiter.check(keys) == 30
    assert limiter.check(["account:alice"]) == 30
    assert limiter.check(["client:1.2.3.4", "account:bob"]) == 30
    assert limiter.check(["account:bob"]) is None
    clock.advance(29)
    assert limiter.check(keys) == pytest.approx(1)
    clock.advance(1)
    assert limiter.check(keys) is None


def test_limiter_forgets_failures_outside_the_window() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(max_failures=3, window=60, lockout=30, clock=clock)
    limiter.record_failure(["k"])
    limiter.record_failure(["k"])
    clock.advance(61)
    limiter.record_failure(["k"])
    limiter.record_failure(["k"])
    assert limiter.check(["k"]) is None
    limiter.record_failure(["k"])
    assert limiter.check(["k"]) == 30


def test_limiter_success_resets_the_account_but_not_the_client() -> None:
    limiter = FailureLimiter(max_failures=2, window=60, lockout=30, clock=FakeClock())
    limiter.record_failure(["account:alice", "client:x"])
    limiter.record_success("account:alice")
    limiter.record_failure(["account:alice", "client:x"])
    assert limiter.check(["account:alice"]) is None
    assert limiter.check(["client:x"]) == 30


def test_limiter_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(max_failures=5, window=60, lockout=30, clock=clock, max_keys=100)
    for index in range(1000):
        limiter.record_failure([f"client:{index}"])
    assert len(limiter) == 100
    clock.advance(61)
    limiter.record_failure(["client:new"])
    assert len(limiter) == 1  # stale entries pruned


# Basic authenticator against a real store


@pytest.fixture
async def alice(store: SqliteStore) -> Principal:
    account = await create_account(store, "alice", hash_password("s3cret"))
    return Principal(account_id=account.id, name="alice")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count argon2 verifications, including the dummy one for unknown accounts."""
    calls: list[str] = []
    real = passwords.verify_password

    async def counting(password_hash: str, password: str) -> bool:
        calls.append(password)
        return await real(password_hash, password)

    monkeypatch.setattr(basic, "verify_password", counting)
    monkeypatch.setattr(passwords, "verify_password", counting)
    return calls


SETTINGS = Settings(auth_max_failures=3, auth_failure_window_seconds=60, auth_lockout_seconds=30, auth_cache_seconds=60)


async def test_basic_accepts_valid_credentials(store: SqliteStore, alice: Principal) -> None:
    auth = BasicAuthenticator(store, SETTINGS)
    assert await auth.authenticate(make_request(basic_header("alice", "s3cret"))) == alice


async def test_basic_without_credentials_or_other_scheme_returns_none(store: SqliteStore, alice: Principal) -> None:
    auth = BasicAuthenticator(store, SETTINGS)
    assert await auth.authenticate(make_request()) is None
    assert await auth.authenticate(make_request("Bearer abc.def")) is None


async def test_basic_rejects_wrong_password_and_unknown_user(
    store: SqliteStore, alice: Principal, verify_calls: list[str]
) -> None:
    auth = BasicAuthenticator(store, SETTINGS)
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(make_request(basic_header("alice", "wrong")))
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(make_request(basic_header("mallory", "s3cret")))
    assert verify_calls == ["wrong", "s3cret"]  # the unknown user cost a hash too


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":password-without-user").decode(),
        "Basic " + base64.b64encode(b"alice:\xff\xfe").decode(),
    ],
)
async def test_basic_rejects_malformed_headers(store: SqliteStore, alice: Principal, header: str) -> None:
    with pytest.raises(AuthenticationFailed):
        await BasicAuthenticator(store, SETTINGS).authenticate(make_request(header))


def test_parse_basic_decodes_utf8_and_keeps_colons_in_password() -> None:
    header = "basic " + base64.b64encode("jörg:pa:ss wörd".encode()).decode()
    assert parse_basic(header) == ("jörg", "pa:ss wörd")


async def test_cache_hit_avoids_second_verify(
    store: SqliteStore, alice: Principal, verify_calls: list[str], clock: FakeClock
) -> None:
    auth = BasicAuthenticator(store, SETTINGS, clock=clock)
    request = make_request(basic_header("alice", "s3cret"))
    assert await auth.authenticate(request) == alice
    assert await auth.authenticate(request) == alice
    assert len(verify_calls) == 1
    with pytest.raises(AuthenticationFailed):  # a different password is not served from the cache
        await auth.authenticate(make_request(basic_header("alice", "S3cret")))
    assert len(verify_calls) == 2
    clock.advance(61)
    assert await auth.authenticate(request) == alice
    assert len(verify_calls) == 3


async def test_concurrent_requests_share_one_verification(
    store: SqliteStore, alice: Principal, verify_calls: list[str]
) -> None:
    auth = BasicAuthenticator(store, SETTINGS)
    requests = [make_request(basic_header("alice", "s3cret")) for _ in range(8)]
    assert await asyncio.gather(*(auth.authenticate(request) for request in requests)) == [alice] * 8
    assert len(verify_calls) == 1


async def test_cache_misses_after_password_change(
    store: SqliteStore, alice: Principal, verify_calls: list[str], clock: FakeClock
) -> None:
    auth = BasicAuthenticator(store, SETTINGS, clock=clock)
    request = make_request(basic_header("alice", "s3cret"))
    assert await auth.authenticate(request) == alice
    async with store.write() as tx:
        await tx.set_password("alice", hash_password("changed"))
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(request)
    assert len(verify_calls) == 2


async def test_cache_can_be_disabled(store: SqliteStore, alice: Principal, verify_calls: list[str]) -> None:
    auth = BasicAuthenticator(store, Settings(auth_cache_seconds=0))
    request = make_request(basic_header("alice", "s3cret"))
    await auth.authenticate(request)
    await auth.authenticate(request)
    assert len(verify_calls) == 2


async def test_lockout_is_checked_before_verifying(
    store: SqliteStore, alice: Principal, verify_calls: list[str], clock: FakeClock
) -> None:
    auth = BasicAuthenticator(store, SETTINGS, clock=clock)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate(make_request(basic_header("alice", "guess"), client="198.51.100.7"))
    with pytest.raises(RateLimited) as caught:
        await auth.authenticate(make_request(basic_header("alice", "s3cret"), client="203.0.113.9"))
    assert caught.value.retry_after_seconds == 30
    with pytest.raises(RateLimited):  # the guessing client is locked out for other accounts too
        await auth.authenticate(make_request(basic_header("bob", "x"), client="198.51.100.7"))
    assert len(verify_calls) == 3
    clock.advance(30)
    assert await auth.authenticate(make_request(basic_header("alice", "s3cret"), client="203.0.113.9")) == alice


async def test_outdated_hash_is_upgraded_on_login(store: SqliteStore) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("old-params")
    await create_account(store, "carol", weak)
    auth = BasicAuthenticator(store, SETTINGS)
    principal = await auth.authenticate(make_request(basic_header("carol", "old-params")))
    assert principal is not None
    assert principal.name == "carol"
    async with store.read() as tx:
        account = await tx.get_account("carol")
    assert account is not None
    assert account.password_hash != weak
    assert not needs_rehash(account.password_hash)
    assert await verify_password(account.password_hash, "old-params")


# middleware


class StaticAuthenticator:
    """Accepts one token, raises what it is told for anything else."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure

    def challenge(self, realm: str) -> str:
        return f'Test realm="{realm}"'

    async def authenticate(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        if header == "Test good" and self.failure is None:
            return Principal(account_id=7, name="tester")
        raise self.failure or AuthenticationFailed()


async def echo_principal(scope: Scope, receive: Receive, send: Send) -> None:
    principal = scope.get("principal")
    body = (principal.name if principal else "anonymous").encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def client_for(*authenticators: object) -> httpx.AsyncClient:
    app = AuthMiddleware(echo_principal, authenticators)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_middleware_sets_principal() -> None:
    async with client_for(StaticAuthenticator()) as client:
        response = await client.get("/dav/files/tester/", headers={"Authorization": "Test good"})
    assert response.status_code == 200
    assert response.text == "tester"


@pytest.mark.parametrize("path", ["/dav", "/dav/", "/jmap/session"])
async def test_middleware_challenges_without_credentials(path: str) -> None:
    async with client_for(StaticAuthenticator(), StaticAuthenticator()) as client:
        response = await client.request("PROPFIND", path)
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == ['Test realm="Groupware"', 'Test realm="Groupware"']
    assert response.headers["content-type"].startswith("text/plain")


async def test_middleware_rejects_bad_credentials_with_specific_challenge() -> None:
    failure = AuthenticationFailed('Test error="invalid_token"')
    async with client_for(StaticAuthenticator(failure)) as client:
        response = await client.get("/dav/", headers={"Authorization": "Test bad"})
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == ['Test error="invalid_token"']


async def test_middleware_answers_429_when_rate_limited() -> None:
    async with client_for(StaticAuthenticator(RateLimited(12.2))) as client:
        response = await client.get("/dav/", headers={"Authorization": "Test good"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "13"


@pytest.mark.parametrize("path", ["/.well-known/caldav", "/", "/davx", "/jmapper/x"])
async def test_middleware_passes_unprotected_paths(path: str) -> None:
    async with client_for(StaticAuthenticator()) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.text == "anonymous"


async def test_middleware_with_basic_and_real_store(store: SqliteStore, alice: Principal) -> None:
    async with client_for(BasicAuthenticator(store, SETTINGS)) as client:
        anonymous = await client.get("/dav/")
        wrong = await client.get("/dav/", auth=("alice", "nope"))
        malformed = await client.get("/dav/", headers={"Authorization": "Basic %%%"})
        good = await client.get("/dav/", auth=("alice", "s3cret"))
        for _ in range(2):
            await client.get("/dav/", auth=("alice", "nope"))
        locked = await client.get("/dav/", auth=("alice", "s3cret"))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="Groupware", charset="UTF-8"'
    assert wrong.status_code == 401
    assert malformed.status_code == 401
    assert (good.status_code, good.text) == (200, "alice")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == 30


async def test_middleware_refuses_websockets_on_protected_paths() -> None:
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    middleware = AuthMiddleware(echo_principal, [StaticAuthenticator()])
    scope = {"type": "websocket", "path": "/jmap/ws", "headers": [], "client": ("192.0.2.1", 1)}
    await middleware(scope, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]
