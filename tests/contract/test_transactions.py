"""Transactions: rollback, snapshot reads, read-only enforcement, serialised writers, the change bus."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from storage.api import Account, Collection, ItemWrite, Lock, StorageError, Store, Transaction
from tests.contract.helpers import fetch_collection, make_collection, put


class Boom(Exception):
    pass


async def test_exception_rolls_back_everything(store: Store, account: Account, home: Collection) -> None:
    await put(store, home.id, "kept", b"original")
    before = await fetch_collection(store, home.path)
    with pytest.raises(Boom):
        async with store.write() as tx:
            bob = await tx.create_account("bob", "h")
            await tx.create_collection(bob.id, "files/bob/", "collection")
            await tx.put_item(home.id, ItemWrite("kept", b"overwritten", "text/plain"))
            await tx.put_item(home.id, ItemWrite("new", b"new", "text/plain"))
            await tx.update_collection_properties(home.id, {"p": "v"}, [])
            await tx.set_password(account.name, "changed")
            raise Boom
    async with store.read() as tx:
        assert await tx.get_account("bob") is None
        assert await tx.get_collection("files/bob/") is None
        found = await tx.read_item(home.id, "kept")
        assert found is not None
        assert found[1] == b"original"
        assert await tx.get_item(home.id, "new") is None
        assert await tx.get_collection(home.path) == before
        assert await tx.get_account(account.name) == account
        assert await tx.account_usage(account.id) == len(b"original")


async def test_read_sees_a_snapshot(store: Store, account: Account, home: Collection) -> None:
    await put(store, home.id, "a", b"before")

    async def concurrent_write() -> None:
        async with store.write() as tx:
            await tx.put_item(home.id, ItemWrite("a", b"after", "text/plain"))
            await tx.put_item(home.id, ItemWrite("b", b"new", "text/plain"))
            await tx.create_account("bob", "h")

    async with store.read() as tx:
        first = await tx.read_item(home.id, "a")
        ctag = (await tx.changes_since(home.id, 0)).token
        await asyncio.create_task(concurrent_write())
        assert await tx.read_item(home.id, "a") == first
        assert await tx.get_item(home.id, "b") is None
        assert await tx.count_items(home.id) == 1
        assert [a.name for a in await tx.list_accounts()] == ["alice"]
        assert (await tx.changes_since(home.id, 0)).token == ctag
    async with store.read() as tx:
        assert await tx.count_items(home.id) == 2


HELD = "opaquelocktoken:held"

WRITES: dict[str, Callable[[Transaction, Account, Collection], Awaitable[object]]] = {
    "create_account": lambda tx, account, home: tx.create_account("bob", "h"),
    "set_password": lambda tx, account, home: tx.set_password(account.name, "changed"),
    "delete_account": lambda tx, account, home: tx.delete_account(account.name),
    "create_collection": lambda tx, account, home: tx.create_collection(account.id, "files/alice/x/", "collection"),
    "create_home": lambda tx, account, home: tx.create_collection(account.id, "calendars/alice/", "collection"),
    "delete_collection": lambda tx, account, home: tx.delete_collection("files/alice/sub/"),
    "move_collection": lambda tx, account, home: tx.move_collection("files/alice/sub/", "files/alice/moved/"),
    "properties": lambda tx, account, home: tx.update_collection_properties(home.id, {"p": "v"}, []),
    "put_item": lambda tx, account, home: tx.put_item(home.id, ItemWrite("x", b"x", "text/plain")),
    "item_properties": lambda tx, account, home: tx.update_item_properties(home.id, "existing", {"p": "v"}, []),
    "delete_item": lambda tx, account, home: tx.delete_item(home.id, "existing"),
    "compact_changes": lambda tx, account, home: tx.compact_changes(account.id, home.modseq),
    "put_lock": lambda tx, account, home: tx.put_lock(
        Lock("opaquelocktoken:new", account.id, home.path, True, True, "", "alice", 1e12)
    ),
    "delete_lock": lambda tx, account, home: tx.delete_lock(HELD),
}


@pytest.mark.parametrize("operation", list(WRITES))
async def test_write_in_read_transaction_raises(
    store: Store, account: Account, home: Collection, operation: str
) -> None:
    sub = await make_collection(store, account.id, "files/alice/sub/")
    await put(store, home.id, "existing")
    held = Lock(HELD, account.id, sub.path, True, True, "", "alice", 1e12)
    async with store.write() as tx:
        await tx.put_lock(held)
    before = await fetch_collection(store, home.path)

    with pytest.raises(StorageError):
        async with store.read() as tx:
            await WRITES[operation](tx, account, before)

    async with store.read() as tx:
        assert await tx.list_accounts() == [account]
        assert await tx.get_collection(home.path) == before
        assert await tx.get_collection(sub.path) == sub
        assert await tx.list_child_collections(home.path) == [sub]
        assert await tx.get_collection("calendars/alice/") is None
        existing = await tx.get_item(home.id, "existing")
        assert existing is not None
        assert dict(existing.properties) == {}
        assert await tx.list_items(home.id) == [existing]
        assert [c.name for c in (await tx.changes_since(home.id, home.modseq)).changes] == ["existing"]
        assert await tx.get_lock(HELD) == held
        assert await tx.get_lock("opaquelocktoken:new") is None


async def test_concurrent_writers_lose_no_updates(store: Store, home: Collection) -> None:
    await put(store, home.id, "counter", b"0")

    async def increment(n: int) -> int:
        async with store.write() as tx:
            found = await tx.read_item(home.id, "counter")
            assert found is not None
            await asyncio.sleep(0)
            await tx.put_item(home.id, ItemWrite("counter", str(int(found[1]) + 1).encode(), "text/plain"))
            item, _ = await tx.put_item(home.id, ItemWrite(f"writer-{n}", b"x", "text/plain"))
            return item.modseq

    modseqs = await asyncio.gather(*(increment(n) for n in range(20)))
    assert len(set(modseqs)) == 20
    async with store.read() as tx:
        found = await tx.read_item(home.id, "counter")
        assert found is not None
        assert found[1] == b"20"
        assert await tx.count_items(home.id) == 21


async def test_bus_announces_committed_accounts(store: Store, account: Account, home: Collection) -> None:
    events = store.subscribe()
    received = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    with pytest.raises(Boom):
        async with store.write() as tx:
            await tx.put_item(home.id, ItemWrite("rolled-back", b"x", "text/plain"))
            raise Boom
    await asyncio.sleep(0.05)
    assert not received.done()
    await put(store, home.id, "committed")
    assert await asyncio.wait_for(received, timeout=5) == account.id
