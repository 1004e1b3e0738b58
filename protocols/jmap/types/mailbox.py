"""Mailbox (RFC 8621 §2): folders with roles, nesting, counters and rights; get/changes/query/queryChanges/set."""

from __future__ import annotations

import functools
from typing import Any

from protocols.jmap import generic
from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError, SetError, invalid_arguments, invalid_properties
from protocols.jmap.ids import MAILBOX
from protocols.jmap.registry import MAIL, JmapRegistry
from storage.api import NotFound
from storage.mail import Mailbox, MailboxHasChildren, MailboxHasEmail, MailboxUpdate, MailboxWrite, NameConflict

TYPE = "Mailbox"
COUNTS = ("totalEmails", "unreadEmails", "totalThreads", "unreadThreads")
PROPERTIES = ("id", "name", "parentId", "role", "sortOrder", *COUNTS, "myRights", "isSubscribed")
SETTABLE = {"name", "parentId", "role", "sortOrder", "isSubscribed"}
ROLES = frozenset(
    {"all", "archive", "drafts", "flagged", "important", "inbox", "junk", "sent", "subscribed", "trash", "snoozed"}
)
"""The IANA "IMAP Mailbox Name Attributes" registry, lower-cased (RFC 8457, RFC 8621 §2)."""
OWNER_RIGHTS = {
    right: True
    for right in (
        "mayReadItems",
        "mayAddItems",
        "mayRemoveItems",
        "maySetSeen",
        "maySetKeywords",
        "mayCreateChild",
        "mayRename",
        "mayDelete",
        "maySubmit",
    )
}


def to_json(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "id": MAILBOX.render(mailbox.id),
        "name": mailbox.name,
        "parentId": MAILBOX.render(mailbox.parent_id) if mailbox.parent_id is not None else None,
        "role": mailbox.role,
        "sortOrder": mailbox.sort_order,
        "totalEmails": mailbox.total_emails,
        "unreadEmails": mailbox.unread_emails,
        "totalThreads": mailbox.total_threads,
        "unreadThreads": mailbox.unread_threads,
        "myRights": {**OWNER_RIGHTS, "mayDelete": mailbox.role != "inbox"},
        "isSubscribed": mailbox.is_subscribed,
    }


async def mailbox_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    async def fetch(account_id: int, ids: list[str] | None, properties: set[str]) -> list[dict[str, Any]]:
        async with ctx.store.read() as tx:
            if ids is None:
                found = await tx.list_mailboxes(account_id)
            else:
                wanted = [store_id for store_id in map(MAILBOX.parse, ids) if store_id is not None]
                found = await tx.get_mailboxes(account_id, wanted)
        return [to_json(mailbox) for mailbox in found]

    return await generic.standard_get(ctx, arguments, TYPE, fetch, known=PROPERTIES)


async def mailbox_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_changes(ctx, arguments, TYPE, MAILBOX.render, count_properties=COUNTS)


# --- query ---------------------------------------------------------------------------------------------------

CONDITIONS = {"parentId", "name", "role", "hasAnyRole", "isSubscribed"}
SORTS = {"sortOrder", "name"}


def _condition_matches(mailbox: dict[str, Any], condition: dict[str, Any]) -> bool:
    for key, value in condition.items():
        if key == "parentId" and mailbox["parentId"] != value:
            return False
        if key == "name" and str(value).casefold() not in mailbox["name"].casefold():
            return False
        if key == "role" and mailbox["role"] != value:
            return False
        if key == "hasAnyRole" and (mailbox["role"] is not None) != value:
            return False
        if key == "isSubscribed" and mailbox["isSubscribed"] != value:
            return False
    return True


def _check_condition(condition: dict[str, Any]) -> None:
    unknown = set(condition) - CONDITIONS
    if unknown:
        raise MethodError("unsupportedFilter", f"Unknown filter conditions: {', '.join(sorted(unknown))}")


def _sort_key(sort: list[dict[str, Any]]) -> Any:
    def key(mailbox: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for comparator in sort:
            value = mailbox["sortOrder"] if comparator["property"] == "sortOrder" else mailbox["name"].casefold()
            parts.append(value if comparator.get("isAscending", True) else _Reverse(value))
        parts.append(mailbox["id"])
        return tuple(parts)

    return key


class _Reverse:
    """Inverts the order of a value inside a tuple sort key (for isAscending: false)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reverse) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.value == other.value


def _parse_sort(arguments: dict[str, Any]) -> list[dict[str, Any]]:
    sort = arguments.get("sort") or []
    if not isinstance(sort, list) or not all(isinstance(item, dict) for item in sort):
        raise invalid_arguments("sort must be an array of Comparators.")
    for comparator in sort:
        if comparator.get("property") not in SORTS:
            raise MethodError("unsupportedSort", f"Cannot sort mailboxes by {comparator.get('property')!r}.")
    return sort


async def _query_ids(ctx: CallContext, account_id: int, arguments: dict[str, Any]) -> list[str]:
    condition = arguments.get("filter")
    if condition is not None:
        generic.check_filter(condition, _check_condition)
    sort = _parse_sort(arguments)
    async with ctx.store.read() as tx:
        everything = [to_json(mailbox) for mailbox in await tx.list_mailboxes(account_id)]
    ordered = sorted(everything, key=_sort_key(sort))
    if arguments.get("sortAsTree"):
        ordered = _as_tree(ordered)
    if condition is None:
        return [mailbox["id"] for mailbox in ordered]
    matching = {mailbox["id"] for mailbox in ordered if generic.filter_matches(mailbox, condition, _condition_matches)}
    if arguments.get("filterAsTree"):
        by_id = {mailbox["id"]: mailbox for mailbox in ordered}
        matching = {i for i in matching if _ancestors_match(by_id, by_id[i], matching)}
    return [mailbox["id"] for mailbox in ordered if mailbox["id"] in matching]


def _as_tree(ordered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before their children, siblings in sort order (RFC 8621 §2.3 sortAsTree)."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for mailbox in ordered:
        children.setdefault(mailbox["parentId"], []).append(mailbox)
    result: list[dict[str, Any]] = []

    def walk(parent: str | None) -> None:
        for mailbox in children.get(parent, []):
            result.append(mailbox)
            walk(mailbox["id"])

    walk(None)
    return result


def _ancestors_match(by_id: dict[str, dict[str, Any]], mailbox: dict[str, Any], matching: set[str]) -> bool:
    parent = mailbox["parentId"]
    while parent is not None:
        if parent not in matching:
            return False
        parent = by_id[parent]["parentId"]
    return True


async def mailbox_query(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.query_in_memory(ctx, arguments, TYPE, functools.partial(_query_ids, ctx))


async def mailbox_query_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.query_changes_in_memory(
        ctx, arguments, TYPE, functools.partial(_query_ids, ctx), MAILBOX.render
    )


# --- set -----------------------------------------------------------------------------------------------------


def _validated(obj: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Check a complete JMAP Mailbox and turn its settable fields into store values."""
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise invalid_properties("name", description="A mailbox needs a name of 1-255 printable characters.")
    parent = obj.get("parentId")
    parent_id = None
    if parent is not None:
        try:
            parent_id = MAILBOX.parse(ctx.resolve_id(parent)) if isinstance(parent, str) else None
        except LookupError:
            parent_id = None
        if parent_id is None:
            raise invalid_properties("parentId", description="No such parent mailbox.")
    role = obj.get("role")
    if role is not None and (not isinstance(role, str) or role.lower() not in ROLES):
        raise invalid_properties("role", description="Not a registered mailbox role.")
    sort_order = obj.get("sortOrder", 0)
    if isinstance(sort_order, bool) or not isinstance(sort_order, int) or not 0 <= sort_order < 2**32:
        raise invalid_properties("sortOrder")
    subscribed = obj.get("isSubscribed", False)
    if not isinstance(subscribed, bool):
        raise invalid_properties("isSubscribed")
    return {
        "name": name,
        "parent_id": parent_id,
        "role": role.lower() if isinstance(role, str) else None,
        "sort_order": sort_order,
        "is_subscribed": subscribed,
    }


def _conflict(fields: dict[str, Any]) -> SetError:
    """The store refuses a sibling with the same name or a second mailbox with the same role."""
    if fields["role"] is not None:
        return invalid_properties(
            "name", "role", description="A sibling has this name, or another mailbox has this role."
        )
    return invalid_properties("name", description="A sibling mailbox already has this name.")


def _server_set_changed(current: dict[str, Any], patched: dict[str, Any]) -> list[str]:
    return [key for key in PROPERTIES if key not in SETTABLE and patched.get(key) != current.get(key)]


def set_handlers(ctx: CallContext, arguments: dict[str, Any]) -> generic.SetHandlers:
    remove_emails = generic.boolean(arguments, "onDestroyRemoveEmails")

    async def create(account_id: int, creation_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        readonly = [key for key in obj if key not in SETTABLE]
        if readonly:
            raise invalid_properties(*readonly, description="These properties are server-set or unknown.")
        fields = _validated(obj, ctx)
        try:
            async with ctx.store.write() as tx:
                made = await tx.create_mailbox(account_id, MailboxWrite(**fields))
        except NameConflict:
            raise _conflict(fields) from None
        except NotFound:
            raise invalid_properties("parentId", description="No such parent mailbox.") from None
        created = to_json(made)
        return {key: value for key, value in created.items() if key not in obj}

    async def update(account_id: int, object_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        store_id = MAILBOX.parse(object_id)
        try:
            async with ctx.store.write() as tx:
                found = await tx.get_mailboxes(account_id, [store_id] if store_id is not None else [])
                if not found:
                    raise SetError("notFound")
                current = to_json(found[0])
                patched = generic.apply_patch(current, patch)
                changed = _server_set_changed(current, patched)
                if changed:
                    raise invalid_properties(*changed, description="These properties are server-set.")
                fields = _validated(patched, ctx)
                old = _validated(current, ctx)
                changes = {key: value for key, value in fields.items() if old[key] != value}
                if changes:
                    await tx.update_mailbox(account_id, found[0].id, MailboxUpdate(changes))
        except NameConflict:
            raise _conflict(fields) from None
        except (NotFound, ValueError):
            raise invalid_properties("parentId", description="The parent must be another existing mailbox.") from None
        return None

    async def destroy(account_id: int, object_id: str) -> None:
        store_id = MAILBOX.parse(object_id)
        if store_id is None:
            raise SetError("notFound")
        try:
            async with ctx.store.write() as tx:
                found = await tx.get_mailboxes(account_id, [store_id])
                if found and found[0].role == "inbox":
                    raise SetError("forbidden", "The inbox receives new mail and cannot be destroyed.")
                await tx.delete_mailbox(account_id, store_id, remove_emails=remove_emails)
        except NotFound:
            raise SetError("notFound") from None
        except MailboxHasChildren:
            raise SetError("mailboxHasChild", "Destroy or move the child mailboxes first.") from None
        except MailboxHasEmail:
            raise SetError("mailboxHasEmail", "The mailbox is not empty (see onDestroyRemoveEmails).") from None

    return generic.SetHandlers(create, update, destroy)


async def mailbox_set(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_set(ctx, arguments, TYPE, set_handlers(ctx, arguments))


def register(registry: JmapRegistry) -> None:
    registry.push_types.add(TYPE)
    registry.add_method("Mailbox/get", MAIL, mailbox_get)
    registry.add_method("Mailbox/changes", MAIL, mailbox_changes)
    registry.add_method("Mailbox/query", MAIL, mailbox_query)
    registry.add_method("Mailbox/queryChanges", MAIL, mailbox_query_changes)
    registry.add_method("Mailbox/set", MAIL, mailbox_set)
