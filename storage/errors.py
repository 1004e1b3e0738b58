"""Errors every backend raises on purpose; protocols map them by type to their own error answers."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error a backend raises on purpose."""


class NotFound(StorageError):
    """The account, collection or item does not exist."""


class AlreadyExists(StorageError):
    """Something already occupies the name or path."""


class PreconditionFailed(StorageError):
    """If-Match / If-None-Match did not hold for the current state."""


class UidConflict(StorageError):
    """Another item of the collection already carries this UID."""

    def __init__(self, uid: str, existing_name: str) -> None:
        super().__init__(f"uid {uid!r} already used by {existing_name!r}")
        self.uid = uid
        self.existing_name = existing_name


class ParentMissing(StorageError):
    """A collection or item was created where no parent collection exists."""


class SyncTokenExpired(StorageError):
    """The token predates the compacted part of the change log (or was never issued)."""
