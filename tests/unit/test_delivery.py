"""The delivery service on a real SQLite store, where a live server cannot be made to fail for one account only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from protocols.services.delivery import DELIVERED, TOO_BIG, TRY_AGAIN, Delivery, Recipient
from storage.api import Account, StorageError, Store
from tests.contract.helpers import make_account
from tests.http.jmap_support import message

RAW = message("Hello")


class FailingTransaction:
    """A write transaction whose email writes for one account fail, as a full disk would."""

    def __init__(self, tx: Any, account_id: int) -> None:
        self._tx = tx
        self._account_id = account_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    async def create_email(self, account_id: int, write: Any) -> Any:
        if account_id == self._account_id:
            raise StorageError("disk full")
        return await self._tx.create_email(account_id, write)


class FailingStore:
    """The real store, except that storing mail for one account fails."""

    def __init__(self, store: Store, account_id: int) -> None:
        self._store = store
        self._account_id = account_id

    def read(self) -> AbstractAsyncContextManager[Any]:
        return self._store.read()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        async with self._store.write() as tx:
            yield FailingTransaction(tx, self._account_id)


async def inbox_count(store: Store, account: Account) -> int:
    async with store.read() as tx:
        inbox = await tx.mailbox_by_role(account.id, "inbox")
        return 0 if inbox is None else inbox.total_emails


async def test_one_recipients_failure_spares_the_others(store: Store) -> None:
    alice, bob = await make_account(store, "alice"), await make_account(store, "bob")
    delivery = Delivery(FailingStore(store, bob.id), None, 1_000_000)  # type: ignore[arg-type]
    recipients = [Recipient("alice@example.org", alice.id), Recipient("bob@example.org", bob.id)]
    replies = await delivery.deliver("carol@example.org", recipients, RAW)
    await delivery.close()
    assert replies == [DELIVERED, TRY_AGAIN]
    assert await inbox_count(store, alice) == 1
    assert await inbox_count(store, bob) == 0  # the role mailboxes made for bob rolled back with the failure
    async with store.read() as tx:
        assert await tx.account_usage(bob.id) == 0


async def test_size_limit_and_deleted_accounts(store: Store) -> None:
    alice = await make_account(store, "alice")
    delivery = Delivery(store, None, len(RAW))
    gone = Recipient("gone@example.org", alice.id + 100)
    assert await delivery.deliver("", [Recipient("a@example.org", alice.id), gone], RAW + b"x") == [TOO_BIG] * 2
    replies = await delivery.deliver("", [gone, Recipient("a@example.org", alice.id)], RAW)
    await delivery.close()
    assert [reply.code for reply in replies] == [550, 250]
