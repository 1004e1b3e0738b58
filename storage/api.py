"""The storage contract: what every backend offers, in protocol-neutral terms.

Nothing here knows about XML, iCalendar, vCard or MIME. Protocol code hands the store bytes plus the index
fields it extracted, and reads back metadata (cheap) or bodies (only when it needs them). Every read and
write runs inside a transaction; preconditions (If-Match, If-None-Match, UID uniqueness) are checked inside
the write transaction so two racing clients cannot both win.

Paths are the DAV URL space below the DAV root, without leading slash, collections ending in "/":
``files/alice/docs/`` is a collection, item ``report.txt`` lives in it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from storage.errors import (
    AlreadyExists,
    NotFound,
    ParentMissing,
    PreconditionFailed,
    StorageError,
    SyncTokenExpired,
    UidConflict,
)
from storage.mail import MailTransaction

__all__ = [
    "AlreadyExists",
    "NotFound",
    "ParentMissing",
    "PreconditionFailed",
    "StorageError",
    "SyncTokenExpired",
    "UidConflict",
]


class ChangeOp(StrEnum):
    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"


ANY = "*"
"""The wildcard entity tag for preconditions: `If-Match: *` / `If-None-Match: *`."""


def etag_for(data: bytes) -> str:
    """The strong entity tag of stored bytes: a hash, so equal bytes give equal tags on every backend."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    password_hash: str
    quota_bytes: int | None
    created: float
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A mail address of an account; exactly one per account may be primary."""

    address: str
    primary: bool

    @property
    def is_catch_all(self) -> bool:
        """``@example.org`` receives mail for every unknown address of the domain; nobody sends as it."""
        return self.address.startswith("@")


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    account_id: int
    path: str
    kind: str
    """``collection`` (plain WebDAV folder or home), ``calendar``, ``addressbook``, ``mailbox``, ..."""
    properties: Mapping[str, str]
    """Dead properties: Clark name -> serialised XML element."""
    modseq: int
    """The account modseq of the last change inside this collection: its CTag and sync token."""
    created: float
    modified: float

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent_path(self) -> str:
        return parent_of(self.path)


@dataclass(slots=True)
class Item:
    """Metadata of one stored object; the body is fetched separately. Read-only by convention, not frozen: a
    listing builds one per member and a frozen dataclass takes eight times as long to construct."""

    id: int
    collection_id: int
    name: str
    etag: str
    content_type: str
    size: int
    uid: str | None
    modseq: int
    created: float
    modified: float
    properties: Mapping[str, str]
    component: str | None = None


SHORT_SPAN_SECONDS = 8 * 24 * 3600
"""Spans up to this long are indexed for a range scan by start; longer ones are scanned apart (they are few)."""


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """What a protocol asks the store to keep under a name."""

    name: str
    data: bytes
    content_type: str
    uid: str | None = None
    properties: Mapping[str, str] | None = None
    """Dead properties to set on create; ``None`` on update keeps the existing ones."""
    component: str | None = None
    """Index field: the calendar component type (VEVENT, VTODO, ...) of a calendar object."""
    spans: tuple[tuple[int, int], ...] = ()
    """Index field: UTC epoch-second ``[start, end)`` spans covering every instance (a superset)."""
    terms: tuple[tuple[str, str], ...] = ()
    """Index field: ``(field, normalised value)`` search terms, e.g. ``("EMAIL", "jo@example.org")``."""


@dataclass(frozen=True, slots=True)
class TermMatch:
    """One indexed term to look for: equal to ``value`` or, with ``prefix``, starting with it."""

    field: str
    value: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Preconditions:
    """HTTP conditional headers, already parsed into unquoted entity tags or ``ANY``.

    ``if_match`` holds when the item exists and its tag is listed (or ANY given); ``if_none_match`` holds
    when the item is absent or its tag is not listed (ANY: only when absent).
    """

    if_match: Sequence[str] | None = None
    if_none_match: Sequence[str] | None = None

    def check(self, current_etag: str | None) -> None:
        if self.if_match is not None and (
            current_etag is None or (ANY not in self.if_match and current_etag not in self.if_match)
        ):
            raise PreconditionFailed("If-Match")
        if (
            self.if_none_match is not None
            and current_etag is not None
            and (ANY in self.if_none_match or current_etag in self.if_none_match)
        ):
            raise PreconditionFailed("If-None-Match")


NO_PRECONDITIONS = Preconditions()


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    op: ChangeOp
    modseq: int


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Changes of one collection after a token, newest state per name, ordered by modseq."""

    changes: list[Change]
    token: int
    """The token to resume from: the modseq of the last change returned (or the current one)."""
    more: bool


@dataclass(frozen=True, slots=True)
class Lock:
    token: str
    account_id: int
    path: str
    """The locked path; a collection path ends in "/"."""
    depth_infinity: bool
    exclusive: bool
    owner_xml: str
    principal: str
    expires: float
    timeout_seconds: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def parent_of(path: str) -> str:
    """``a/b/c/`` -> ``a/b/``; ``a/b/x`` -> ``a/b/``; the root ``""`` has itself as parent."""
    stripped = path.rstrip("/")
    if "/" not in stripped:
        return ""
    return stripped.rsplit("/", 1)[0] + "/"


class Transaction(MailTransaction, Protocol):
    """One unit of work; a write transaction commits on clean exit and rolls back on an exception.

    The mail methods are declared in ``storage.mail``."""

    # accounts
    async def create_account(self, name: str, password_hash: str, quota_bytes: int | None = None) -> Account: ...
    async def get_account(self, name: str) -> Account | None: ...
    async def get_account_by_id(self, account_id: int) -> Account | None: ...
    async def list_accounts(self) -> list[Account]: ...
    async def set_password(self, name: str, password_hash: str) -> None: ...
    async def delete_account(self, name: str) -> None: ...
    async def set_display_name(self, account_id: int, display_name: str | None) -> None: ...
    async def get_addresses(self, account_id: int) -> list[Address]:
        """The account's addresses, primary first."""
        ...

    async def set_addresses(self, account_id: int, primary: str | None, aliases: Sequence[str]) -> None:
        """Replace the account's addresses; raises ``AlreadyExists`` for one held by another account
        (addresses compare case-insensitively)."""
        ...

    async def account_by_address(self, address: str) -> Account | None:
        """The account owning ``address``, else the one owning its domain's catch-all alias ``@domain``."""
        ...

    async def account_usage(self, account_id: int) -> int:
        """Bytes stored by the account (bodies of its items)."""
        ...

    # collections
    async def get_collection(self, path: str) -> Collection | None: ...
    async def get_collection_by_id(self, collection_id: int) -> Collection | None: ...
    async def list_child_collections(self, path: str) -> list[Collection]: ...
    async def create_collection(
        self, account_id: int, path: str, kind: str, properties: Mapping[str, str] | None = None
    ) -> Collection:
        """Create ``path``; its parent must exist unless it is a top-level home (one path segment deep
        below a fixed namespace, e.g. ``files/alice/``)."""
        ...

    async def delete_collection(self, path: str) -> None:
        """Delete the collection, every collection below it and their items."""
        ...

    async def move_collection(self, source: str, destination: str) -> Collection:
        """Rename a collection subtree; the destination must be free and its parent must exist."""
        ...

    async def update_collection_properties(
        self, collection_id: int, set_props: Mapping[str, str], remove: Sequence[str]
    ) -> Collection: ...

    # items
    async def get_item(self, collection_id: int, name: str) -> Item | None: ...
    async def get_item_at(
        self, collection_path: str, name: str, *, with_body: bool = False
    ) -> tuple[Collection, Item | None, bytes | None] | None:
        """The collection at ``collection_path``, its item ``name`` (None when it has none) and, ``with_body``,
        the item's bytes, in one round trip: resolving an item's URL is on every GET and PUT. None when no
        collection is there."""
        ...

    async def get_item_by_uid(self, collection_id: int, uid: str) -> Item | None: ...
    async def read_item(self, collection_id: int, name: str) -> tuple[Item, bytes] | None: ...
    async def list_items(self, collection_id: int, *, after: str = "", limit: int = 1000) -> list[Item]:
        """Metadata of items, ordered by name, starting after ``after`` (keyset pagination)."""
        ...

    async def get_items(self, collection_id: int, names: Sequence[str]) -> list[Item]:
        """Metadata of the named items that exist, in one round trip per few hundred names."""
        ...

    async def read_items(self, collection_id: int, names: Sequence[str]) -> list[tuple[Item, bytes]]:
        """Bodies of the named items that exist, in one round trip (multiget)."""
        ...

    async def count_items(self, collection_id: int) -> int: ...
    async def query_items(
        self,
        collection_id: int,
        *,
        component: str | None = None,
        start: int | None = None,
        end: int | None = None,
        terms: Sequence[TermMatch] = (),
    ) -> list[Item]:
        """Candidates by index: items of ``component`` with a span overlapping ``[start, end)`` and (when terms
        are given) carrying any of ``terms``. A superset of the answer (the caller evaluates the exact filter on
        these only); cost follows the answer's size."""
        ...

    async def put_item(
        self, collection_id: int, write: ItemWrite, preconditions: Preconditions = NO_PRECONDITIONS
    ) -> tuple[Item, bool]:
        """Create or replace; returns the new metadata and whether it was created. Raises
        PreconditionFailed, UidConflict (when ``uid`` is set and another name carries it)."""
        ...

    async def delete_item(
        self, collection_id: int, name: str, preconditions: Preconditions = NO_PRECONDITIONS
    ) -> None: ...

    async def update_item_properties(
        self, collection_id: int, name: str, set_props: Mapping[str, str], remove: Sequence[str]
    ) -> Item: ...

    # change log
    async def changes_since(self, collection_id: int, token: int, limit: int | None = None) -> ChangeSet:
        """Changes after ``token`` (0 = everything that exists now), newest per name. Costs O(changes).
        Raises SyncTokenExpired for a token below the compaction horizon or above the current modseq."""
        ...

    async def compact_changes(self, account_id: int, keep_after_modseq: int) -> None:
        """Drop tombstones and superseded log entries at or below ``keep_after_modseq``."""
        ...

    # locks
    async def put_lock(self, lock: Lock) -> None: ...
    async def get_lock(self, token: str) -> Lock | None: ...
    async def locks_affecting(self, path: str, now: float) -> list[Lock]:
        """Live locks on ``path``, on an ancestor with depth infinity, or (for a collection) below it."""
        ...

    async def delete_lock(self, token: str) -> None: ...
    async def delete_locks(self, path: str) -> None:
        """Remove the locks rooted on ``path`` and, for a collection, below it (the resource is gone)."""
        ...


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def read(self) -> AbstractAsyncContextManager[Transaction]:
        """A consistent read-only snapshot."""
        ...

    def write(self) -> AbstractAsyncContextManager[Transaction]:
        """A serialised read-write transaction."""
        ...

    def subscribe(self) -> AsyncIterator[int]:
        """Account ids whose state changed, after each commit (the change bus)."""
        ...
