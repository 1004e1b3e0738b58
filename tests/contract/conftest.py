"""Backends under test: add one ``pytest.param`` to ``BACKENDS`` to run the whole contract against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from storage.api import Account, Collection, Store
from tests.contract.helpers import make_account, make_collection
from tests.testing import sqlite_store

# A backend: given the test's temporary folder, a fresh store, opened for the test and closed after it.
BackendFactory = Callable[[Path], AbstractAsyncContextManager[Store]]

BACKENDS = [
    pytest.param(sqlite_store, id="sqlite"),
]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    factory: BackendFactory = request.param
    async with factory(tmp_path) as opened:
        yield opened


@pytest.fixture
async def account(store: Store) -> Account:
    return await make_account(store, "alice")


@pytest.fixture
async def home(store: Store, account: Account) -> Collection:
    """The account's ``files`` home: a top-level collection that needs no parent."""
    return await make_collection(store, account.id, "files/alice/")
