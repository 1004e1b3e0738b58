"""Fixtures for the unit tests that need a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.sqlite.store import SqliteStore
from tests.testing import sqlite_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A fresh SQLite store of the test's own, closed after it."""
    async with sqlite_store(tmp_path) as opened:
        yield opened
