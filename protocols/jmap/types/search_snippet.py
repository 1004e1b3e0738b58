"""SearchSnippet/get (RFC 8621 §5): where a search matched, with the terms marked, for result lists."""

from __future__ import annotations

from typing import Any

from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError, invalid_arguments
from protocols.jmap.ids import EMAIL
from protocols.jmap.registry import MAIL, JmapRegistry
from protocols.jmap.types.email_query import parse_filter


async def search_snippet_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    account_id = ctx.account(arguments)
    email_ids = arguments.get("emailIds")
    if not isinstance(email_ids, list) or not all(isinstance(item, str) for item in email_ids):
        raise invalid_arguments("emailIds must be an array of ids.")
    if len(email_ids) > ctx.limits.max_objects_in_get:
        raise MethodError("requestTooLarge", f"At most {ctx.limits.max_objects_in_get} emailIds.")
    condition = arguments.get("filter")
    parsed = parse_filter(condition) if condition is not None else None
    wanted = {email_id: EMAIL.parse(email_id) for email_id in email_ids}
    async with ctx.store.read() as tx:
        snippets = await tx.search_snippets(
            account_id, [store_id for store_id in wanted.values() if store_id is not None], parsed
        )
    found = []
    not_found = []
    for email_id, store_id in wanted.items():
        snippet = snippets.get(store_id) if store_id is not None else None
        if snippet is None:
            not_found.append(email_id)
        else:
            found.append({"emailId": email_id, "subject": snippet.subject, "preview": snippet.preview})
    return {"accountId": arguments["accountId"], "list": found, "notFound": not_found or None}


def register(registry: JmapRegistry) -> None:
    registry.add_method("SearchSnippet/get", MAIL, search_snippet_get)
