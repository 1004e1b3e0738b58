"""Email (RFC 8621 §4): the JSON view of a stored message; get and changes.

Metadata and the envelope summary come from the store's columns; only properties that need the message itself
(headers, body structure, body values) read and parse the blob, once per email.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from typing import Any

from protocols.formats.mime import ParsedMessage, parse_message
from protocols.jmap import generic
from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError, invalid_arguments
from protocols.jmap.ids import EMAIL, MAILBOX, THREAD
from protocols.jmap.registry import MAIL, JmapRegistry
from storage.mail import Email

TYPE = "Email"
METADATA = ("id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt")
SUMMARY = (
    "messageId",
    "inReplyTo",
    "references",
    "sender",
    "from",
    "to",
    "cc",
    "bcc",
    "replyTo",
    "subject",
    "sentAt",
    "hasAttachment",
    "preview",
)
BODY = ("headers", "bodyStructure", "bodyValues", "textBody", "htmlBody", "attachments")
PROPERTIES = (*METADATA, *SUMMARY, *BODY)
DEFAULT_PROPERTIES = (*METADATA, *SUMMARY, "bodyValues", "textBody", "htmlBody", "attachments")
BODY_PART_PROPERTIES = (
    "partId",
    "blobId",
    "size",
    "headers",
    "name",
    "type",
    "charset",
    "disposition",
    "cid",
    "language",
    "location",
    "subParts",
)


def utc_date(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc_date(value: Any) -> float | None:
    """A ``UTCDate`` (RFC 8620 §1.4: RFC 3339 with ``Z``) as epoch seconds, None when malformed."""
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        return datetime.datetime.fromisoformat(value[:-1] + "+00:00").timestamp()
    except ValueError:
        return None


def email_properties(arguments: dict[str, Any]) -> set[str]:
    """The requested properties: the known ones plus any ``header:`` form (checked when rendered)."""
    value = arguments.get("properties")
    if value is None:
        return set(DEFAULT_PROPERTIES) | {"id"}
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_arguments("properties must be an array of property names or null.")
    unknown = [name for name in value if name not in PROPERTIES and not name.startswith("header:")]
    if unknown:
        raise invalid_arguments(f"Unknown properties: {', '.join(unknown)}")
    return set(value) | {"id"}


class BodyOptions:
    """The Email/get and Email/parse arguments that shape body properties (RFC 8621 §4.2)."""

    def __init__(self, arguments: dict[str, Any]) -> None:
        body_properties = arguments.get("bodyProperties")
        if body_properties is not None:
            if not isinstance(body_properties, list) or not all(isinstance(p, str) for p in body_properties):
                raise invalid_arguments("bodyProperties must be an array of strings.")
            unknown = [p for p in body_properties if p not in BODY_PART_PROPERTIES and not p.startswith("header:")]
            if unknown:
                raise invalid_arguments(f"Unknown body properties: {', '.join(unknown)}")
        self.body_properties: list[str] | None = body_properties
        self.fetch_text = generic.boolean(arguments, "fetchTextBodyValues")
        self.fetch_html = generic.boolean(arguments, "fetchHTMLBodyValues")
        self.fetch_all = generic.boolean(arguments, "fetchAllBodyValues")
        self.max_bytes = generic.unsigned_int(arguments, "maxBodyValueBytes", 0)

    def render(self, parsed: ParsedMessage, properties: Collection[str], blob_id: str) -> dict[str, Any]:
        try:
            return parsed.properties(
                properties,
                blob_id=blob_id,
                body_properties=self.body_properties,
                fetch_text_body_values=self.fetch_text,
                fetch_html_body_values=self.fetch_html,
                fetch_all_body_values=self.fetch_all,
                max_body_value_bytes=self.max_bytes,
            )
        except ValueError as exc:
            raise MethodError("invalidArguments", str(exc)) from None


def needs_message(properties: Iterable[str]) -> bool:
    return any(name in BODY or name.startswith("header:") for name in properties)


def metadata_json(email: Email) -> dict[str, Any]:
    return {
        "id": EMAIL.render(email.id),
        "blobId": email.blob_id,
        "threadId": THREAD.render(email.thread_id),
        "mailboxIds": {MAILBOX.render(mailbox_id): True for mailbox_id in sorted(email.mailbox_ids)},
        "keywords": {keyword: True for keyword in sorted(email.keywords)},
        "size": email.size,
        "receivedAt": utc_date(email.received_at),
    }


async def email_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    properties = email_properties(arguments)
    options = BodyOptions(arguments)
    if arguments.get("ids", []) is None:
        raise MethodError("requestTooLarge", "Email/get needs ids: use Email/query to list emails.")

    async def fetch(account_id: int, ids: list[str] | None, wanted: set[str]) -> list[dict[str, Any]]:
        store_ids = [store_id for store_id in map(EMAIL.parse, ids or []) if store_id is not None]
        async with ctx.store.read() as tx:
            emails = await tx.get_emails(account_id, store_ids)
            raws = {e.id: await tx.read_blob(account_id, e.blob_id) for e in emails} if needs_message(wanted) else {}
        found = []
        for email in emails:
            obj = metadata_json(email)
            obj.update((key, email.summary.get(key)) for key in SUMMARY if key in wanted)
            raw = raws.get(email.id)
            if raw is not None:
                message_properties = [name for name in wanted if name in BODY or name.startswith("header:")]
                obj.update(options.render(parse_message(raw), message_properties, email.blob_id))
            found.append(obj)
        return found

    return await generic.standard_get(ctx, arguments, TYPE, fetch, known=PROPERTIES, properties=properties)


async def email_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_changes(ctx, arguments, TYPE, EMAIL.render)


def register(registry: JmapRegistry) -> None:
    registry.push_types.update({TYPE, "EmailDelivery"})
    registry.add_method("Email/get", MAIL, email_get)
    registry.add_method("Email/changes", MAIL, email_changes)
