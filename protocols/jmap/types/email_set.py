"""Email/set (RFC 8621 §4.6): create messages from JMAP properties, change keywords and mailboxes, destroy.

Only ``keywords`` and ``mailboxIds`` of an existing email can change (a message is immutable); a new message is
generated as RFC 5322 + MIME, stored as a blob and indexed exactly like imported mail.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from protocols.formats.mime_build import BlobNotFound, InvalidEmail, build_message
from protocols.jmap import generic
from protocols.jmap.blobs import read_blob
from protocols.jmap.context import CallContext
from protocols.jmap.errors import SetError, invalid_properties
from protocols.jmap.ids import EMAIL, MAILBOX, THREAD
from protocols.jmap.registry import MAIL, JmapRegistry
from protocols.jmap.types.email import TYPE, parse_utc_date
from protocols.jmap.types.email_query import valid_keyword
from protocols.services.mail import prepare, store_message
from storage.api import NotFound
from storage.mail import EmailUpdate

MUTABLE = ("keywords", "mailboxIds")
SERVER_SET = ("id", "blobId", "threadId", "size")


def keyword_set(value: Any) -> frozenset[str]:
    """A JMAP ``String[Boolean]`` of keywords (values must be true), lower-cased."""
    if not isinstance(value, dict) or not all(valid_keyword(k) and v is True for k, v in value.items()):
        raise invalid_properties("keywords", description="keywords maps valid keywords to true.")
    return frozenset(keyword.lower() for keyword in value)


def mailbox_set(ctx: CallContext, value: Any) -> frozenset[int]:
    """Store ids of a ``mailboxIds`` map; ``#creationId`` keys resolve to mailboxes made earlier in the request."""
    if not isinstance(value, dict) or not value or not all(v is True for v in value.values()):
        raise invalid_properties("mailboxIds", description="An email must be in at least one mailbox.")
    ids = set()
    for key in value:
        try:
            store_id = MAILBOX.parse(ctx.resolve_id(key))
        except LookupError:
            store_id = None
        if store_id is None:
            raise invalid_properties("mailboxIds", description=f"No such mailbox {key!r}.")
        ids.add(store_id)
    return frozenset(ids)


def blob_ids_in(value: Any) -> Iterator[str]:
    """Every ``blobId`` named anywhere in an Email create object (attachments, body parts)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "blobId" and isinstance(item, str):
                yield item
            else:
                yield from blob_ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from blob_ids_in(item)


def received_at_of(obj: dict[str, Any]) -> float:
    if "receivedAt" not in obj:
        return time.time()
    moment = parse_utc_date(obj["receivedAt"])
    if moment is None:
        raise invalid_properties("receivedAt")
    return moment


async def file_message(ctx: CallContext, account_id: int, raw: bytes, obj: dict[str, Any]) -> dict[str, Any]:
    """Store ``raw`` with the ``mailboxIds``, ``keywords`` and ``receivedAt`` of ``obj`` (Email/set create,
    Email/import); returns the created email's server-set properties."""
    mailbox_ids = mailbox_set(ctx, obj.get("mailboxIds"))
    keywords = keyword_set(obj.get("keywords") or {})
    received_at = received_at_of(obj)
    message = prepare(raw)
    try:
        async with ctx.store.write() as tx:
            email = await store_message(
                tx, account_id, message, mailbox_ids=mailbox_ids, keywords=keywords, received_at=received_at
            )
    except NotFound:
        raise invalid_properties("mailboxIds", description="No such mailbox.") from None
    return {
        "id": EMAIL.render(email.id),
        "blobId": email.blob_id,
        "threadId": THREAD.render(email.thread_id),
        "size": email.size,
    }


def set_handlers(ctx: CallContext) -> generic.SetHandlers:
    async def create(account_id: int, creation_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        mailbox_set(ctx, obj.get("mailboxIds"))
        readonly = [key for key in SERVER_SET if key in obj]
        if readonly:
            raise invalid_properties(*readonly, description="These properties are set by the server.")
        blobs: dict[str, tuple[bytes, str | None]] = {}
        async with ctx.store.read() as tx:
            for blob_id in set(blob_ids_in(obj)):
                found = await read_blob(tx, account_id, blob_id)
                if found is not None:
                    blobs[blob_id] = (found[0], found[1])
        content = {key: value for key, value in obj.items() if key not in ("mailboxIds", "keywords", "receivedAt")}
        try:
            raw = build_message(
                content, resolve_blob=blobs.get, now=time.time(), message_id_domain=ctx.server.mail_domain
            )
        except BlobNotFound as exc:
            raise SetError("blobNotFound", notFound=list(exc.blob_ids)) from None
        except InvalidEmail as exc:
            raise invalid_properties(exc.args[0], description=str(exc.args[1])) from None
        if len(raw) > ctx.limits.max_size_upload:
            raise SetError("tooLarge", f"The message exceeds {ctx.limits.max_size_upload} bytes.")
        return await file_message(ctx, account_id, raw, obj)

    async def update(account_id: int, object_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        store_id = EMAIL.parse(object_id)
        immutable = sorted({path.split("/", 1)[0] for path in patch} - set(MUTABLE))
        if immutable:
            raise invalid_properties(*immutable, description="Only keywords and mailboxIds can change.")
        try:
            async with ctx.store.write() as tx:
                found = await tx.get_emails(account_id, [store_id] if store_id is not None else [])
                if not found:
                    raise SetError("notFound")
                current = {
                    "keywords": {keyword: True for keyword in found[0].keywords},
                    "mailboxIds": {MAILBOX.render(mailbox): True for mailbox in found[0].mailbox_ids},
                }
                patched = generic.apply_patch(current, _lower_keyword_paths(patch))
                keywords = keyword_set(patched.get("keywords", {}))
                mailboxes = mailbox_set(ctx, patched.get("mailboxIds"))
                await tx.update_email(
                    account_id,
                    found[0].id,
                    EmailUpdate(
                        keywords=keywords if keywords != found[0].keywords else None,
                        mailbox_ids=mailboxes if mailboxes != found[0].mailbox_ids else None,
                    ),
                )
        except NotFound:
            raise invalid_properties("mailboxIds", description="No such mailbox.") from None
        except ValueError:
            raise invalid_properties("mailboxIds", description="An email must stay in a mailbox.") from None
        return None

    async def destroy(account_id: int, object_id: str) -> None:
        store_id = EMAIL.parse(object_id)
        if store_id is None:
            raise SetError("notFound")
        try:
            async with ctx.store.write() as tx:
                await tx.destroy_email(account_id, store_id)
        except NotFound:
            raise SetError("notFound") from None

    return generic.SetHandlers(create, update, destroy)


def _lower_keyword_paths(patch: dict[str, Any]) -> dict[str, Any]:
    """Keywords are case-insensitive (RFC 8621 §4.1.1): ``keywords/$Seen`` patches ``$seen``."""
    return {
        (f"keywords/{path[len('keywords/') :].lower()}" if path.startswith("keywords/") else path): value
        for path, value in patch.items()
    }


async def email_set(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_set(ctx, arguments, TYPE, set_handlers(ctx))


def register(registry: JmapRegistry) -> None:
    registry.add_method("Email/set", MAIL, email_set)
