"""Accounts: creation, lookup, password change, deletion with everything the account owns."""

from __future__ import annotations

import pytest

from storage.api import Account, AlreadyExists, Collection, NotFound, Store
from tests.contract.helpers import make_account, make_collection, put


async def test_create_and_get(store: Store) -> None:
    async with store.write() as tx:
        created = await tx.create_account("alice", "h1", 1000)
    assert (created.name, created.password_hash, created.quota_bytes) == ("alice", "h1", 1000)
    async with store.read() as tx:
        assert await tx.get_account("alice") == created
        assert await tx.get_account_by_id(created.id) == created
        assert await tx.get_account("nobody") is None
        assert await tx.get_account_by_id(created.id + 1000) is None


async def test_quota_defaults_to_unlimited(store: Store) -> None:
    async with store.write() as tx:
        created = await tx.create_account("alice", "h1")
    assert created.quota_bytes is None


async def test_list_accounts(store: Store) -> None:
    for name in ("carol", "alice", "bob"):
        await make_account(store, name)
    async with store.read() as tx:
        accounts = await tx.list_accounts()
    assert sorted(a.name for a in accounts) == ["alice", "bob", "carol"]
    assert len({a.id for a in accounts}) == 3


async def test_duplicate_name(store: Store, account: Account) -> None:
    with pytest.raises(AlreadyExists):
        await make_account(store, account.name)


async def test_set_password(store: Store, account: Account) -> None:
    async with store.write() as tx:
        await tx.set_password(account.name, "new-hash")
    async with store.read() as tx:
        changed = await tx.get_account(account.name)
    assert changed is not None
    assert changed.password_hash == "new-hash"
    assert changed.id == account.id


async def test_set_password_unknown(store: Store) -> None:
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.set_password("nobody", "x")


async def test_delete_account(store: Store, account: Account) -> None:
    async with store.write() as tx:
        await tx.delete_account(account.name)
    async with store.read() as tx:
        assert await tx.get_account(account.name) is None
        assert await tx.get_account_by_id(account.id) is None
        assert await tx.list_accounts() == []


async def test_delete_unknown_account(store: Store) -> None:
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.delete_account("nobody")


async def test_delete_account_removes_its_collections_and_items(
    store: Store, account: Account, home: Collection
) -> None:
    sub = await make_collection(store, account.id, "files/alice/docs/")
    await put(store, sub.id, "a.txt")
    other = await make_account(store, "bob")
    other_home = await make_collection(store, other.id, "files/bob/")
    await put(store, other_home.id, "b.txt")

    async with store.write() as tx:
        await tx.delete_account(account.name)

    async with store.read() as tx:
        assert await tx.get_collection(home.path) is None
        assert await tx.get_collection(sub.path) is None
        assert await tx.get_collection_by_id(sub.id) is None
        assert await tx.get_item(sub.id, "a.txt") is None
        assert await tx.get_item(other_home.id, "b.txt") is not None
    reborn = await make_account(store, account.name)
    async with store.read() as tx:
        assert await tx.get_collection(home.path) is None
        assert await tx.account_usage(reborn.id) == 0
