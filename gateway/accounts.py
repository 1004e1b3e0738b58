"""Account provisioning: an account is born with its homes, so every protocol finds them in place."""

from __future__ import annotations

from collections.abc import Sequence

from protocols.services import directory
from storage.api import Account, NotFound, Store

HOME_NAMESPACES = ("files", "calendars", "addressbooks")
"""Top-level DAV namespaces in which every account owns one home collection named after it."""


def home_path(namespace: str, account_name: str) -> str:
    return f"{namespace}/{account_name}/"


async def create_account(
    store: Store,
    name: str,
    password_hash: str,
    quota_bytes: int | None = None,
    *,
    display_name: str | None = None,
    email: str | None = None,
    aliases: Sequence[str] = (),
) -> Account:
    """Create the account, its addresses and its homes in one transaction (``AlreadyExists`` for a taken name
    or address)."""
    async with store.write() as tx:
        account = await tx.create_account(name, password_hash, quota_bytes)
        if display_name:
            await tx.set_display_name(account.id, display_name)
        if email or aliases:
            await tx.set_addresses(account.id, email, aliases)
        for namespace in HOME_NAMESPACES:
            await tx.create_collection(account.id, home_path(namespace, name), "collection")
        account = await tx.get_account_by_id(account.id) or account
        await directory.publish(tx, account)
        return account


async def delete_account(store: Store, name: str) -> None:
    """Remove the account with everything it owns (raises ``NotFound``)."""
    async with store.write() as tx:
        account = await tx.get_account(name)
        if account is None:
            raise NotFound(name)
        for namespace in HOME_NAMESPACES:
            if await tx.get_collection(home_path(namespace, name)) is not None:
                await tx.delete_collection(home_path(namespace, name))
        await tx.delete_account(name)
        await directory.withdraw(tx, name)
