"""The mail part of the storage contract: blobs, mailboxes, emails, threads, full-text search, typed objects.

Protocol code (JMAP, LMTP) parses MIME once and hands the store the fields it extracted (``EmailWrite``); the
store keeps the raw message as a content-addressed blob, the index fields in columns, the searchable text in a
full-text index, and appends every change to the same change log as the DAV side, tagged with the JMAP type
it concerns (``Email``, ``Mailbox``, ``Thread``, ...). JMAP states, ``/changes`` and push all read that log.

Ids are integers here; the protocol layer renders them as JMAP ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from storage.errors import StorageError

# --- errors -------------------------------------------------------------------------------------------------


class MailboxHasChildren(StorageError):
    """A mailbox with child mailboxes cannot be destroyed."""


class MailboxHasEmail(StorageError):
    """A mailbox that still holds mail cannot be destroyed unless its mail goes with it."""


class NameConflict(StorageError):
    """A sibling mailbox already carries this name, or another mailbox already has this role."""


class AnchorNotFound(StorageError):
    """The ``anchor`` of a query is not in its results."""


class TooManyChanges(StorageError):
    """More changes happened than the caller allows (``maxChanges`` of ``/queryChanges``)."""


# --- blobs --------------------------------------------------------------------------------------------------

UPLOAD_HOLD_SECONDS = 24 * 3600
"""How long an uploaded blob survives with no reference (RFC 8620 §6.1 asks for at least an hour)."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    blob_id: str
    """``B`` + hex blake2b-16 of the bytes: equal bytes give the same id, so a blob is stored once per account."""
    size: int


def blob_id_for(data: bytes) -> str:
    return "B" + hashlib.blake2b(data, digest_size=16).hexdigest()


# --- mailboxes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mailbox:
    id: int
    account_id: int
    name: str
    parent_id: int | None
    role: str | None
    sort_order: int
    is_subscribed: bool
    total_emails: int
    unread_emails: int
    """Emails in this mailbox without the ``$seen`` keyword."""
    total_threads: int
    """Threads with at least one email in this mailbox."""
    unread_threads: int
    """Threads with at least one unread email in this mailbox."""


@dataclass(frozen=True, slots=True)
class MailboxWrite:
    """The settable fields of a mailbox; on update, ``None`` fields are left as they are (see ``MailboxUpdate``)."""

    name: str
    parent_id: int | None = None
    role: str | None = None
    sort_order: int = 0
    is_subscribed: bool = False


@dataclass(frozen=True, slots=True)
class MailboxUpdate:
    """Only the fields present in ``changes`` are updated: keys ``name``, ``parent_id``, ``role``,
    ``sort_order``, ``is_subscribed``."""

    changes: Mapping[str, Any]


# --- emails -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchText:
    """Decoded text for the full-text index (each field searched on its own by the JMAP filter)."""

    subject: str = ""
    from_: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    body: str = ""
    """Decoded text of the text/plain and text/html (tags stripped) body parts, capped by the parser."""
    attachments: str = ""
    """Attachment file names."""
    headers: str = ""
    """Every header as ``name: value`` lines, lower-cased names, for the ``header`` filter."""


@dataclass(frozen=True, slots=True)
class EmailWrite:
    """A parsed message to store. ``summary`` is the JSON-ready part of the JMAP Email that needs no body
    parse (subject, addresses, dates, message ids, preview, hasAttachment), kept so ``Email/get`` of
    envelope properties and ``Email/query`` never re-parse the message."""

    blob_id: str
    size: int
    received_at: float
    mailbox_ids: frozenset[int]
    keywords: frozenset[str]
    summary: Mapping[str, Any]
    message_ids: tuple[str, ...] = ()
    """The message's own Message-ID values, without angle brackets."""
    reference_ids: tuple[str, ...] = ()
    """In-Reply-To and References values, without angle brackets."""
    thread_subject: str = ""
    """The base subject (prefixes like Re:/Fwd:/[list] stripped, whitespace collapsed, lower-cased): an email
    joins a thread only when it shares a message id with it AND its base subject matches (RFC 8621 §3)."""
    sort_subject: str = ""
    sort_from: str = ""
    sort_to: str = ""
    sent_at: float | None = None
    has_attachment: bool = False
    search: SearchText = field(default_factory=SearchText)
    delivered: bool = False
    """True for mail arriving from outside (LMTP, import of new mail): also advances ``EmailDelivery``."""


@dataclass(frozen=True, slots=True)
class Email:
    id: int
    account_id: int
    blob_id: str
    thread_id: int
    mailbox_ids: frozenset[int]
    keywords: frozenset[str]
    size: int
    received_at: float
    modseq: int
    summary: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EmailUpdate:
    """Replace keywords and/or mailbox membership (``None`` leaves that part alone)."""

    keywords: frozenset[str] | None = None
    mailbox_ids: frozenset[int] | None = None


# --- queries ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailCondition:
    """One FilterCondition of RFC 8621 §4.4.1; unset fields do not constrain. Several set fields AND together."""

    in_mailbox: int | None = None
    in_mailbox_other_than: tuple[int, ...] | None = None
    before: float | None = None
    after: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    all_in_thread_have_keyword: str | None = None
    some_in_thread_have_keyword: str | None = None
    none_in_thread_have_keyword: str | None = None
    has_keyword: str | None = None
    not_keyword: str | None = None
    has_attachment: bool | None = None
    text: str | None = None
    from_: str | None = None
    to: str | None = None
    cc: str | None = None
    bcc: str | None = None
    subject: str | None = None
    body: str | None = None
    header: tuple[str, ...] | None = None
    """``(name,)`` matches emails having that header; ``(name, value)`` those whose value contains ``value``."""


@dataclass(frozen=True, slots=True)
class EmailFilterOperator:
    operator: Literal["AND", "OR", "NOT"]
    conditions: tuple[EmailFilter, ...]


EmailFilter = EmailCondition | EmailFilterOperator

EMAIL_SORT_PROPERTIES = frozenset(
    {
        "receivedAt",
        "size",
        "from",
        "to",
        "subject",
        "sentAt",
        "hasKeyword",
        "allInThreadHaveKeyword",
        "someInThreadHaveKeyword",
    }
)


@dataclass(frozen=True, slots=True)
class EmailSort:
    property: str
    is_ascending: bool = True
    keyword: str | None = None
    """For the keyword sorts."""


@dataclass(frozen=True, slots=True)
class EmailQuery:
    filter: EmailFilter | None = None
    sort: tuple[EmailSort, ...] = ()
    """Empty: receivedAt descending. The id is always the last tie-breaker, so the order is total."""
    collapse_threads: bool = False
    position: int = 0
    """Negative counts from the end."""
    anchor: int | None = None
    anchor_offset: int = 0
    limit: int | None = None
    calculate_total: bool = False


@dataclass(frozen=True, slots=True)
class EmailQueryPage:
    ids: list[int]
    position: int
    total: int | None


@dataclass(frozen=True, slots=True)
class Snippet:
    subject: str | None
    """The subject with matches wrapped in ``<mark></mark>`` (the rest HTML-escaped), or None if nothing hit."""
    preview: str | None
    """A short extract of the body around the matches, marked and escaped the same way, or None."""


# --- change log, seen per JMAP type -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObjectChange:
    id: str
    created: bool
    """The object did not exist at the ``since`` state (first logged as created after it)."""
    destroyed: bool
    """The object's newest log entry is a deletion."""
    counts_only: bool
    """Every entry after ``since`` was a count-only change (Mailbox counters): ``updatedProperties`` applies."""


@dataclass(frozen=True, slots=True)
class ObjectChanges:
    changes: list[ObjectChange]
    new_state: int
    has_more: bool


# --- typed objects (Identity, VacationResponse, EmailSubmission, PushSubscription, ...) ---------------------


@dataclass(frozen=True, slots=True)
class StoredObject:
    id: int
    type: str
    data: Mapping[str, Any]
    modseq: int


class MailTransaction(Protocol):
    """The mail half of ``storage.api.Transaction``."""

    # blobs
    async def put_blob(self, account_id: int, data: bytes, *, hold_seconds: float = UPLOAD_HOLD_SECONDS) -> BlobInfo:
        """Store bytes under their content id (once per account) and keep them at least ``hold_seconds`` even
        if nothing references them; storing the same bytes again extends the hold. Unreferenced blobs whose
        hold has passed are collected here, a bounded batch at a time."""
        ...

    async def read_blob(self, account_id: int, blob_id: str) -> bytes | None: ...
    async def blob_sizes(self, account_id: int, blob_ids: Sequence[str]) -> dict[str, int]:
        """Sizes of the blobs that exist, by id."""
        ...

    # mailboxes
    async def list_mailboxes(self, account_id: int) -> list[Mailbox]: ...
    async def get_mailboxes(self, account_id: int, ids: Sequence[int]) -> list[Mailbox]: ...
    async def mailbox_by_role(self, account_id: int, role: str) -> Mailbox | None: ...
    async def create_mailbox(self, account_id: int, write: MailboxWrite) -> Mailbox:
        """Raises NameConflict (sibling name or role taken), NotFound (parent missing)."""
        ...

    async def update_mailbox(self, account_id: int, mailbox_id: int, update: MailboxUpdate) -> Mailbox:
        """Raises NotFound, NameConflict, and ValueError when the new parent is the mailbox or below it."""
        ...

    async def delete_mailbox(self, account_id: int, mailbox_id: int, *, remove_emails: bool) -> None:
        """Raises MailboxHasChildren; MailboxHasEmail unless ``remove_emails``, which destroys emails that were
        only in this mailbox and takes the mailbox out of the others' ``mailbox_ids``."""
        ...

    # emails
    async def create_email(self, account_id: int, write: EmailWrite) -> Email:
        """Store the email (the blob must exist: NotFound otherwise; it gains a reference), thread it, index it
        for search, update mailbox counters, and log Email created, Thread created/modified, Mailbox counts
        (and EmailDelivery when ``write.delivered``). Raises NotFound for an unknown mailbox."""
        ...

    async def get_emails(self, account_id: int, ids: Sequence[int]) -> list[Email]:
        """The emails that exist, in the order asked."""
        ...

    async def update_email(self, account_id: int, email_id: int, update: EmailUpdate) -> Email:
        """Raises NotFound (email or a mailbox). An email must stay in at least one mailbox (ValueError)."""
        ...

    async def destroy_email(self, account_id: int, email_id: int) -> None:
        """Remove the email, its index entries, its blob reference; log Email/Thread/Mailbox changes."""
        ...

    async def get_threads(self, account_id: int, ids: Sequence[int]) -> dict[int, list[int]]:
        """Email ids of each existing thread, oldest ``received_at`` first."""
        ...

    async def query_emails(self, account_id: int, query: EmailQuery) -> EmailQueryPage:
        """Filter, sort and window in the backend: cost follows the page asked for (plus the total when asked),
        not the mailbox. Raises AnchorNotFound."""
        ...

    async def email_ids_by_message_id(self, account_id: int, message_id: str) -> list[int]: ...
    async def search_snippets(
        self, account_id: int, email_ids: Sequence[int], filter: EmailFilter | None
    ) -> dict[int, Snippet]:
        """Snippets of the emails that exist, marking the terms of the filter's text conditions."""
        ...

    # change log per JMAP type
    async def type_state(self, account_id: int, type_name: str) -> int:
        """The modseq of the newest log entry of this type (0 when none): the JMAP state."""
        ...

    async def object_changes(
        self, account_id: int, type_name: str, since: int, max_changes: int | None
    ) -> ObjectChanges:
        """Objects of ``type_name`` changed after ``since``, at most ``max_changes`` distinct ids, oldest first.
        Costs O(changes). Raises SyncTokenExpired for a state below the compaction horizon or above the
        account's modseq."""
        ...

    async def log_object_change(self, account_id: int, type_name: str, object_id: str, op: str) -> int:
        """Append an entry for an object kept outside the store's own tables (e.g. push-only types)."""
        ...

    # typed JSON objects
    async def list_objects(self, account_id: int, type_name: str) -> list[StoredObject]: ...
    async def get_objects(self, account_id: int, type_name: str, ids: Sequence[int]) -> list[StoredObject]: ...
    async def create_object(self, account_id: int, type_name: str, data: Mapping[str, Any]) -> StoredObject:
        """Logs ``type_name`` created."""
        ...

    async def update_object(
        self, account_id: int, type_name: str, object_id: int, data: Mapping[str, Any]
    ) -> StoredObject:
        """Replace the data (NotFound if absent); logs modified."""
        ...

    async def delete_object(self, account_id: int, type_name: str, object_id: int) -> None:
        """NotFound if absent; logs deleted."""
        ...
