"""WebDAV locks: storage round trip and which locks affect a path."""

from __future__ import annotations

import time

import pytest

from storage.api import Account, Lock, Store

NOW = time.time()


def lock(account: Account, token: str, path: str, *, depth_infinity: bool = True, ttl: float = 600) -> Lock:
    return Lock(
        token=f"opaquelocktoken:{token}",
        account_id=account.id,
        path=path,
        depth_infinity=depth_infinity,
        exclusive=True,
        owner_xml="<D:owner xmlns:D='DAV:'>alice</D:owner>",
        principal="alice",
        expires=NOW + ttl,
        timeout_seconds=int(ttl),
    )


async def test_put_get_delete(store: Store, account: Account) -> None:
    stored = Lock(
        token="opaquelocktoken:1",
        account_id=account.id,
        path="files/alice/doc.txt",
        depth_infinity=False,
        exclusive=False,
        owner_xml="",
        principal="alice",
        expires=NOW + 60.5,
        timeout_seconds=None,
        extra={"lockroot": "/dav/files/alice/doc.txt"},
    )
    async with store.write() as tx:
        await tx.put_lock(stored)
    async with store.read() as tx:
        assert await tx.get_lock(stored.token) == stored
        assert await tx.get_lock("opaquelocktoken:other") is None

    refreshed = Lock(**{**{f: getattr(stored, f) for f in Lock.__slots__}, "expires": NOW + 3600})
    async with store.write() as tx:
        await tx.put_lock(refreshed)
    async with store.read() as tx:
        assert await tx.get_lock(stored.token) == refreshed

    async with store.write() as tx:
        await tx.delete_lock(stored.token)
    async with store.read() as tx:
        assert await tx.get_lock(stored.token) is None


LOCKS = {
    "on-item": ("files/alice/a/doc.txt", False),
    "on-collection-depth0": ("files/alice/a/", False),
    "on-ancestor-infinity": ("files/alice/", True),
    "on-grandchild-collection": ("files/alice/a/b/c/", False),
    "on-sibling-prefix": ("files/alice/ab/", True),
    "on-sibling-item-prefix": ("files/alice/a/doc.txt.bak", True),
    "on-other-home": ("files/bob/", True),
}

EXPECTED = [
    ("files/alice/a/doc.txt", {"on-item", "on-ancestor-infinity"}),
    ("files/alice/a/other.txt", {"on-ancestor-infinity"}),
    (
        "files/alice/a/",
        {
            "on-collection-depth0",
            "on-ancestor-infinity",
            "on-item",
            "on-grandchild-collection",
            "on-sibling-item-prefix",
        },
    ),
    ("files/alice/a/b/", {"on-ancestor-infinity", "on-grandchild-collection"}),
    ("files/alice/a/b/c/", {"on-ancestor-infinity", "on-grandchild-collection"}),
    ("files/alice/a/b/c/x.ics", {"on-ancestor-infinity"}),
    ("files/alice/ab/", {"on-ancestor-infinity", "on-sibling-prefix"}),
    ("files/alice/abc/", {"on-ancestor-infinity"}),
    ("files/alice/", set(LOCKS) - {"on-other-home"}),
    ("files/bobby/", set()),
]


@pytest.mark.parametrize(("path", "expected"), EXPECTED, ids=[path for path, _ in EXPECTED])
async def test_locks_affecting(store: Store, account: Account, path: str, expected: set[str]) -> None:
    async with store.write() as tx:
        for name, (locked, infinity) in LOCKS.items():
            await tx.put_lock(lock(account, name, locked, depth_infinity=infinity))
    async with store.read() as tx:
        found = await tx.locks_affecting(path, NOW)
    assert {found_lock.token.removeprefix("opaquelocktoken:") for found_lock in found} == expected


async def test_locks_affecting_ignores_expired(store: Store, account: Account) -> None:
    async with store.write() as tx:
        await tx.put_lock(lock(account, "short", "files/alice/a/", ttl=60))
        await tx.put_lock(lock(account, "long", "files/alice/", ttl=600))
    async with store.read() as tx:
        assert {found.token for found in await tx.locks_affecting("files/alice/a/x", NOW + 120)} == {
            "opaquelocktoken:long"
        }
        assert await tx.locks_affecting("files/alice/a/x", NOW + 900) == []
