"""Account display names and mail addresses: one owner per address, case-insensitive, primary first."""

from __future__ import annotations

import pytest

from storage.api import Account, Address, AlreadyExists, Store
from tests.contract.helpers import make_account


async def test_addresses_primary_first_and_lookup_ignores_case(store: Store, account: Account) -> None:
    async with store.write() as tx:
        await tx.set_addresses(account.id, "alice@example.org", ["a.smith@example.org", "alice@example.org"])
        await tx.set_display_name(account.id, "Alice Smith")
    async with store.read() as tx:
        assert await tx.get_addresses(account.id) == [
            Address("alice@example.org", True),
            Address("a.smith@example.org", False),
        ]
        found = await tx.account_by_address("ALICE@Example.ORG")
        assert found is not None and found.id == account.id and found.display_name == "Alice Smith"
        assert await tx.account_by_address("nobody@example.org") is None


async def test_an_address_belongs_to_one_account(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    async with store.write() as tx:
        await tx.set_addresses(account.id, "alice@example.org", [])
    with pytest.raises(AlreadyExists):
        async with store.write() as tx:
            await tx.set_addresses(bob.id, "Alice@example.org", [])
    async with store.read() as tx:
        assert await tx.get_addresses(bob.id) == []


async def test_replacing_addresses_frees_the_old_ones(store: Store, account: Account) -> None:
    async with store.write() as tx:
        await tx.set_addresses(account.id, "old@example.org", ["older@example.org"])
        await tx.set_addresses(account.id, "new@example.org", [])
    async with store.read() as tx:
        assert await tx.get_addresses(account.id) == [Address("new@example.org", True)]
        assert await tx.account_by_address("old@example.org") is None


async def test_deleting_the_account_frees_its_addresses(store: Store, account: Account) -> None:
    async with store.write() as tx:
        await tx.set_addresses(account.id, "gone@example.org", [])
        await tx.delete_account(account.name)
    async with store.read() as tx:
        assert await tx.account_by_address("gone@example.org") is None


async def test_a_domain_catch_all_answers_for_addresses_nobody_owns(store: Store, account: Account) -> None:
    bob = await make_account(store, "bob")
    async with store.write() as tx:
        await tx.set_addresses(account.id, "alice@example.org", [])
        await tx.set_addresses(bob.id, "bob@example.org", ["@example.org"])
    async with store.read() as tx:
        exact = await tx.account_by_address("Alice@example.org")
        caught = await tx.account_by_address("sales@EXAMPLE.org")
        assert exact is not None and exact.id == account.id
        assert caught is not None and caught.id == bob.id
        assert await tx.account_by_address("sales@example.net") is None
        assert await tx.account_by_address("sales@sub.example.org") is None
        assert await tx.account_by_address("postmaster") is None
