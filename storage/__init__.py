"""Pluggable storage: the contract in ``storage.api``, backends in sub-packages."""

from __future__ import annotations

from pathlib import Path

from storage.api import Store


def open_store(url: str) -> Store:
    """Build (not yet open) the backend a storage URL names: ``sqlite:///path/to/file.db``."""
    if url.startswith("sqlite://"):
        from storage.sqlite.store import SqliteStore

        return SqliteStore(Path(url.removeprefix("sqlite://")))
    raise ValueError(f"unsupported storage url {url!r}")
