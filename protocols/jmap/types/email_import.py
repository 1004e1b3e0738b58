"""Email/import, Email/parse and Email/copy (RFC 8621 §4.7-4.9): messages that arrive as blobs or from another
account, stored through the same service as LMTP delivery."""

from __future__ import annotations

from typing import Any

from protocols.formats.mime import parse_message
from protocols.jmap import generic
from protocols.jmap.blobs import read_blob
from protocols.jmap.context import CallContext, account_id_for
from protocols.jmap.errors import MethodError, SetError, invalid_arguments, invalid_properties
from protocols.jmap.registry import MAIL, JmapRegistry
from protocols.jmap.types.email import DEFAULT_PROPERTIES, METADATA, BodyOptions, email_properties
from protocols.jmap.types.email_set import file_message

PARSE_DEFAULT = tuple(name for name in DEFAULT_PROPERTIES if name not in METADATA or name in ("blobId", "size"))


async def email_import(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    account_id = ctx.account(arguments)
    emails = generic.string_map(arguments, "emails")
    if len(emails) > ctx.limits.max_objects_in_set:
        raise MethodError("requestTooLarge", f"At most {ctx.limits.max_objects_in_set} emails per import.")
    old_state = await generic.type_state(ctx, account_id, "Email")
    if arguments.get("ifInState") is not None and arguments["ifInState"] != old_state:
        raise MethodError("stateMismatch")
    created: dict[str, Any] = {}
    not_created: dict[str, Any] = {}
    for creation_id, obj in emails.items():
        try:
            if not isinstance(obj, dict) or not isinstance(obj.get("blobId"), str):
                raise invalid_properties("blobId", description="Each EmailImport needs a blobId.")
            async with ctx.store.read() as tx:
                found = await read_blob(tx, account_id, obj["blobId"])
            if found is None:
                raise SetError("blobNotFound", notFound=[obj["blobId"]])
            created[creation_id] = await file_message(ctx, account_id, found[0], obj)
            ctx.created_ids[creation_id] = created[creation_id]["id"]
        except SetError as exc:
            not_created[creation_id] = exc.to_json()
    return {
        "accountId": arguments["accountId"],
        "oldState": old_state,
        "newState": await generic.type_state(ctx, account_id, "Email"),
        "created": created or None,
        "notCreated": not_created or None,
    }


async def email_parse(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    """Parse blobs as messages without storing them; metadata that only stored mail has comes back null."""
    account_id = ctx.account(arguments)
    blob_ids = generic.optional_id_list(arguments, "blobIds")
    if blob_ids is None:
        raise invalid_arguments("blobIds is required.")
    if len(blob_ids) > ctx.limits.max_objects_in_get:
        raise MethodError("requestTooLarge")
    properties = email_properties(arguments) if arguments.get("properties") is not None else set(PARSE_DEFAULT)
    options = BodyOptions(arguments)
    parsed: dict[str, Any] = {}
    not_found: list[str] = []
    not_parsable: list[str] = []
    for blob_id in blob_ids:
        async with ctx.store.read() as tx:
            found = await read_blob(tx, account_id, blob_id)
        if found is None:
            not_found.append(blob_id)
            continue
        message = parse_message(found[0])
        if not message.looks_like_message:
            not_parsable.append(blob_id)
            continue
        rendered = options.render(message, [p for p in properties if p not in METADATA], blob_id)
        rendered.update(
            {name: None for name in ("id", "threadId", "mailboxIds", "keywords", "receivedAt") if name in properties}
        )
        if "blobId" in properties:
            rendered["blobId"] = blob_id
        if "size" in properties:
            rendered["size"] = len(found[0])
        parsed[blob_id] = {name: rendered.get(name) for name in properties if name != "id" or "id" in rendered}
    return {
        "accountId": arguments["accountId"],
        "parsed": parsed or None,
        "notParsable": not_parsable or None,
        "notFound": not_found or None,
    }


async def email_copy(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    """RFC 8620 §5.4 / RFC 8621 §4.7: copy between two different accounts the caller can reach. Only the
    caller's own account is reachable until sharing exists, so every copy is refused at the account check."""
    ctx.account(arguments)
    if arguments.get("fromAccountId") != account_id_for(ctx.principal.account_id):
        raise MethodError("fromAccountNotFound")
    raise invalid_arguments("fromAccountId and accountId must differ; use Email/set to change mailboxes.")


def register(registry: JmapRegistry) -> None:
    registry.add_method("Email/import", MAIL, email_import)
    registry.add_method("Email/parse", MAIL, email_parse)
    registry.add_method("Email/copy", MAIL, email_copy)
