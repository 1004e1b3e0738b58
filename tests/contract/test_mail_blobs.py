"""Blobs: content addressing, per-account storage, quota, holds, reference counts and collection."""

from __future__ import annotations

import pytest

from storage.api import Account, NotFound, Store
from storage.mail import blob_id_for
from tests.contract.helpers import email_write, make_account, make_mailbox, type_state, usage


async def read(store: Store, account_id: int, blob_id: str) -> bytes | None:
    async with store.read() as tx:
        return await tx.read_blob(account_id, blob_id)


async def put(store: Store, account_id: int, data: bytes, hold_seconds: float = 3600) -> str:
    async with store.write() as tx:
        return (await tx.put_blob(account_id, data, hold_seconds=hold_seconds)).blob_id


async def test_put_read_and_sizes(store: Store, account: Account) -> None:
    async with store.write() as tx:
        info = await tx.put_blob(account.id, b"raw message")
    assert info.blob_id == blob_id_for(b"raw message")
    assert info.size == len(b"raw message")
    assert await read(store, account.id, info.blob_id) == b"raw message"
    other = await put(store, account.id, b"")
    async with store.read() as tx:
        sizes = await tx.blob_sizes(account.id, [info.blob_id, "Bmissing", other])
        assert await tx.read_blob(account.id, "Bmissing") is None
    assert sizes == {info.blob_id: 11, other: 0}


async def test_blobs_are_per_account_and_stored_once(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    blob_id = await put(store, account.id, b"x" * 100)
    assert await put(store, account.id, b"x" * 100) == blob_id
    assert await usage(store, account.id) == 100
    assert await read(store, bob.id, blob_id) is None
    async with store.read() as tx:
        assert await tx.blob_sizes(bob.id, [blob_id]) == {}
    assert await put(store, bob.id, b"x" * 100) == blob_id
    assert await usage(store, bob.id) == 100
    assert await usage(store, account.id) == 100


async def test_put_blob_for_unknown_account(store: Store) -> None:
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.put_blob(999, b"data")


async def test_unreferenced_blob_collected_after_hold(store: Store, account: Account) -> None:
    expired = await put(store, account.id, b"e" * 10, hold_seconds=-1)
    held = await put(store, account.id, b"h" * 20, hold_seconds=3600)
    assert await read(store, account.id, expired) is None, "collected by the second put"
    assert await read(store, account.id, held) == b"h" * 20
    assert await usage(store, account.id) == 20


async def test_storing_again_extends_the_hold(store: Store, account: Account) -> None:
    blob_id = await put(store, account.id, b"again", hold_seconds=-1)
    assert await put(store, account.id, b"again", hold_seconds=3600) == blob_id
    await put(store, account.id, b"trigger collection")
    assert await read(store, account.id, blob_id) == b"again"
    # A shorter hold never shortens a longer one.
    await put(store, account.id, b"again", hold_seconds=-1)
    await put(store, account.id, b"trigger again")
    assert await read(store, account.id, blob_id) == b"again"


async def test_collection_reaches_every_account(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    stale = await put(store, bob.id, b"bob's upload", hold_seconds=-1)
    await put(store, account.id, b"alice's upload")
    assert await read(store, bob.id, stale) is None
    assert await usage(store, bob.id) == 0


async def test_referenced_blob_survives_its_hold(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox", role="inbox")
    async with store.write() as tx:
        blob = await tx.put_blob(account.id, b"message", hold_seconds=-1)
        email = await tx.create_email(account.id, email_write(blob, [inbox.id]))
    await put(store, account.id, b"trigger collection")
    assert await read(store, account.id, blob.blob_id) == b"message"
    assert await usage(store, account.id) == len(b"message") + len(b"trigger collection")
    async with store.write() as tx:
        await tx.destroy_email(account.id, email.id)
    assert await read(store, account.id, blob.blob_id) is None, "hold passed: collected at once"
    assert await usage(store, account.id) == len(b"trigger collection")


async def test_blob_shared_by_emails_goes_with_the_last(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    async with store.write() as tx:
        blob = await tx.put_blob(account.id, b"shared", hold_seconds=-1)
        first = await tx.create_email(account.id, email_write(blob, [inbox.id]))
        second = await tx.create_email(account.id, email_write(blob, [inbox.id]))
    assert await usage(store, account.id) == len(b"shared"), "counted once"
    async with store.write() as tx:
        await tx.destroy_email(account.id, first.id)
    assert await read(store, account.id, blob.blob_id) == b"shared"
    async with store.write() as tx:
        await tx.destroy_email(account.id, second.id)
    assert await read(store, account.id, blob.blob_id) is None
    assert await usage(store, account.id) == 0


async def test_blob_released_within_hold_waits_for_it(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    async with store.write() as tx:
        blob = await tx.put_blob(account.id, b"imported")
        email = await tx.create_email(account.id, email_write(blob, [inbox.id]))
        await tx.destroy_email(account.id, email.id)
    await put(store, account.id, b"trigger collection")
    assert await read(store, account.id, blob.blob_id) == b"imported"


async def test_email_needs_an_existing_blob_of_the_account(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    inbox = await make_mailbox(store, account.id, "Inbox")
    async with store.write() as tx:
        bobs = await tx.put_blob(bob.id, b"bob's bytes")
    state = await type_state(store, account.id, "Email")
    async with store.write() as tx:
        with pytest.raises(NotFound):
            await tx.create_email(account.id, email_write(bobs, [inbox.id]))
        # Nothing was half written: the transaction goes on and commits cleanly.
    assert await type_state(store, account.id, "Email") == state
    async with store.read() as tx:
        assert (await tx.get_mailboxes(account.id, [inbox.id]))[0].total_emails == 0
