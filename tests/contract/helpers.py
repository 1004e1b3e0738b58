"""Small one-transaction shortcuts over the public storage API."""

from __future__ import annotations

from collections.abc import Mapping

from storage.api import Account, Collection, Item, ItemWrite, Store


async def make_account(store: Store, name: str, quota_bytes: int | None = None) -> Account:
    async with store.write() as tx:
        return await tx.create_account(name, f"hash-of-{name}", quota_bytes)


async def make_collection(
    store: Store, account_id: int, path: str, kind: str = "collection", properties: Mapping[str, str] | None = None
) -> Collection:
    async with store.write() as tx:
        return await tx.create_collection(account_id, path, kind, properties)


async def put(
    store: Store,
    collection_id: int,
    name: str,
    data: bytes = b"body",
    *,
    uid: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> Item:
    async with store.write() as tx:
        item, _ = await tx.put_item(collection_id, ItemWrite(name, data, "text/plain", uid, properties))
        return item


async def delete(store: Store, collection_id: int, name: str) -> None:
    async with store.write() as tx:
        await tx.delete_item(collection_id, name)


async def fetch_collection(store: Store, path: str) -> Collection:
    """The collection at ``path`` as a fresh read sees it (asserting it exists)."""
    async with store.read() as tx:
        found = await tx.get_collection(path)
    assert found is not None, path
    return found


async def modseq_of(store: Store, path: str) -> int:
    return (await fetch_collection(store, path)).modseq


async def usage(store: Store, account_id: int) -> int:
    async with store.read() as tx:
        return await tx.account_usage(account_id)
