"""The organisation's directory (Exchange's global address list): one read-only address book with a card per
account (display name, mail addresses), kept current as accounts change, searched through the term index.

It is stored like any address book, owned by a system account, at ``addressbooks/directory/``, so query,
multiget and sync work on it unchanged; every authenticated user may read it and nobody may write it.
"""

from __future__ import annotations

import uuid

from protocols.formats import vcard
from protocols.formats.vcard_syntax import escape_text
from storage.api import Account, Collection, ItemWrite, Store, Transaction, etag_for

SYSTEM_ACCOUNT = "_directory"
"""Owns the directory; no login can match its password hash, and the CLI cannot create such a name."""
SLUG = "directory"
PATH = f"addressbooks/{SLUG}/"
UID_NAMESPACE = uuid.UUID("5b0f0f4e-2d0c-4f55-9a55-6c1f1f0de7a1")
DISPLAY_NAME = '<D:displayname xmlns:D="DAV:">Directory</D:displayname>'


def card_name(account_name: str) -> str:
    return f"{account_name}.vcf"


def directory_card(account: Account, addresses: list[str]) -> bytes:
    """A vCard 3.0 (what Apple reads; 4.0 clients get it converted) naming the account and its addresses."""
    name = account.display_name or account.name
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"UID:urn:uuid:{uuid.uuid5(UID_NAMESPACE, account.name)}",
        f"FN:{escape_text(name)}",
        f"N:{escape_text(name)};;;;",
        f"NICKNAME:{escape_text(account.name)}",
        *(f"EMAIL;TYPE=INTERNET{',PREF' if n == 0 else ''}:{address}" for n, address in enumerate(addresses)),
        "END:VCARD",
        "",
    ]
    return "\r\n".join(lines).encode()


async def directory_collection(tx: Transaction) -> Collection:
    collection = await tx.get_collection(PATH)
    if collection is not None:
        return collection
    owner = await tx.get_account(SYSTEM_ACCOUNT) or await tx.create_account(SYSTEM_ACCOUNT, "!")
    return await tx.create_collection(owner.id, PATH, "addressbook", {"{DAV:}displayname": DISPLAY_NAME})


async def publish(tx: Transaction, account: Account) -> None:
    """Write the account's card, unless it is already current (so sync tokens move only on real changes)."""
    collection = await directory_collection(tx)
    addresses = [a.address for a in await tx.get_addresses(account.id) if not a.is_catch_all]
    data = directory_card(account, addresses)
    current = await tx.get_item(collection.id, card_name(account.name))
    if current is not None and current.etag == etag_for(data):
        return
    _, index = vcard.index_vcard(data)
    write = ItemWrite(card_name(account.name), data, "text/vcard", index.uid, terms=index.terms)
    await tx.put_item(collection.id, write)


async def withdraw(tx: Transaction, account_name: str) -> None:
    collection = await directory_collection(tx)
    if await tx.get_item(collection.id, card_name(account_name)) is not None:
        await tx.delete_item(collection.id, card_name(account_name))


async def rebuild(store: Store) -> None:
    """Bring the directory in line with the accounts (at start-up: covers accounts made before it existed)."""
    async with store.write() as tx:
        accounts = [a for a in await tx.list_accounts() if a.name != SYSTEM_ACCOUNT]
        for account in accounts:
            await publish(tx, account)
        collection = await directory_collection(tx)
        names = {card_name(a.name) for a in accounts}
        after = ""
        while page := await tx.list_items(collection.id, after=after, limit=500):
            for item in page:
                if item.name not in names:
                    await tx.delete_item(collection.id, item.name)
            after = page[-1].name
