"""Bytes used per account, as quotas see them."""

from __future__ import annotations

from storage.api import Account, Collection, Store
from tests.contract.helpers import delete, make_account, make_collection, put, usage


async def test_usage_tracks_item_writes(store: Store, account: Account, home: Collection) -> None:
    other = await make_account(store, "bob")
    other_home = await make_collection(store, other.id, "files/bob/")
    assert await usage(store, account.id) == 0

    await put(store, home.id, "a", b"x" * 100)
    assert await usage(store, account.id) == 100
    await put(store, home.id, "a", b"x" * 40)
    assert await usage(store, account.id) == 40
    await put(store, home.id, "b", b"x" * 10)
    await put(store, other_home.id, "b", b"x" * 7)
    assert await usage(store, account.id) == 50
    await delete(store, home.id, "a")
    assert await usage(store, account.id) == 10
    await put(store, home.id, "empty", b"")
    assert await usage(store, account.id) == 10

    sub = await make_collection(store, account.id, "files/alice/sub/")
    deeper = await make_collection(store, account.id, "files/alice/sub/deeper/")
    await put(store, sub.id, "s", b"x" * 30)
    await put(store, deeper.id, "d", b"x" * 5)
    assert await usage(store, account.id) == 45
    async with store.write() as tx:
        await tx.delete_collection(sub.path)
    assert await usage(store, account.id) == 10
    assert await usage(store, other.id) == 7
