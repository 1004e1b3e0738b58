"""Shared fixtures: one live server per test session, with users whose spaces the tests share carefully."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testing import LiveServer, live_server

USERS = {"alice": "alice-secret", "bob": "bob-secret", "carol": "carol-secret"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("gateway")
    with live_server(data_dir, USERS) as running:
        yield running
