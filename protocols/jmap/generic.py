"""The standard methods of RFC 8620 §5 written once: argument checks, states, limits and response shapes.

A type module supplies only what differs (how to fetch, create, update, destroy, filter); these functions own
the wire rules so every type answers ``/get``, ``/changes``, ``/set``, ``/query`` and ``/queryChanges`` alike.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError, SetError, invalid_arguments
from protocols.jmap.ids import IdKind
from storage.api import SyncTokenExpired
from storage.mail import StoredObject, TooManyChanges

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}")


def is_id(value: Any) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


# --- argument readers ----------------------------------------------------------------------------------------


def optional_id_list(arguments: dict[str, Any], name: str) -> list[str] | None:
    value = arguments.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_arguments(f"{name} must be an array of ids or null.")
    return value


def unsigned_int(arguments: dict[str, Any], name: str, default: int | None = None, *, positive: bool = False) -> Any:
    value = arguments.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise invalid_arguments(f"{name} must be a{' positive' if positive else 'n unsigned'} integer.")
    return value


def boolean(arguments: dict[str, Any], name: str, default: bool = False) -> bool:
    value = arguments.get(name, default)
    if not isinstance(value, bool):
        raise invalid_arguments(f"{name} must be a boolean.")
    return value


def string_map(arguments: dict[str, Any], name: str) -> dict[str, Any]:
    value = arguments.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_arguments(f"{name} must be an object or null.")
    return value


def parse_state(value: Any) -> int:
    """A state we issued is the decimal modseq; anything else cannot be calculated from."""
    if not isinstance(value, str) or not value.isdigit():
        raise MethodError("cannotCalculateChanges", "This state was not issued by this server.")
    return int(value)


def properties_argument(arguments: dict[str, Any], known: Collection[str], default: Collection[str]) -> set[str]:
    value = arguments.get("properties")
    if value is None:
        return set(default) | {"id"}
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_arguments("properties must be an array of property names or null.")
    unknown = [name for name in value if name not in known]
    if unknown:
        raise invalid_arguments(f"Unknown properties: {', '.join(unknown)}")
    return set(value) | {"id"}


# --- /get ----------------------------------------------------------------------------------------------------

Fetch = Callable[[int, list[str] | None, set[str]], Awaitable[list[dict[str, Any]]]]


async def standard_get(
    ctx: CallContext,
    arguments: dict[str, Any],
    type_name: str,
    fetch: Fetch,
    *,
    known: Collection[str],
    default: Collection[str] | None = None,
    properties: set[str] | None = None,
) -> dict[str, Any]:
    """``fetch(account_id, ids or None for all, properties)`` returns the objects found, each with ``id``;
    ``properties`` overrides the parsing of the argument (for types with open-ended property names)."""
    account_id = ctx.account(arguments)
    ids = optional_id_list(arguments, "ids")
    if ids is not None:
        ids = list(dict.fromkeys(_resolve(ctx, ids)))
        if len(ids) > ctx.limits.max_objects_in_get:
            raise MethodError("requestTooLarge", f"At most {ctx.limits.max_objects_in_get} ids per /get.")
    if properties is None:
        properties = properties_argument(arguments, known, default if default is not None else known)
    state = await type_state(ctx, account_id, type_name)
    found = await fetch(account_id, ids, properties)
    listed = [{key: obj.get(key) for key in properties} for obj in found]
    not_found = [] if ids is None else [i for i in ids if i not in {obj["id"] for obj in found}]
    return {"accountId": arguments["accountId"], "state": state, "list": listed, "notFound": not_found}


async def stored_objects_get(
    ctx: CallContext,
    arguments: dict[str, Any],
    type_name: str,
    kind: IdKind,
    to_json: Callable[[StoredObject], dict[str, Any]],
    known: Collection[str],
) -> dict[str, Any]:
    """/get for a type kept as generic stored objects (identities, submissions)."""

    async def fetch(account_id: int, ids: list[str] | None, properties: set[str]) -> list[dict[str, Any]]:
        async with ctx.store.read() as tx:
            if ids is None:
                found = await tx.list_objects(account_id, type_name)
            else:
                found = await tx.get_objects(account_id, type_name, [i for i in map(kind.parse, ids) if i is not None])
        return [to_json(obj) for obj in found]

    return await standard_get(ctx, arguments, type_name, fetch, known=known)


def _resolve(ctx: CallContext, ids: Sequence[str]) -> list[str]:
    resolved = []
    for value in ids:
        try:
            resolved.append(ctx.resolve_id(value))
        except LookupError:
            resolved.append(value)  # an unknown creation id is simply not found
    return resolved


async def type_state(ctx: CallContext, account_id: int, type_name: str) -> str:
    async with ctx.store.read() as tx:
        return str(await tx.type_state(account_id, type_name))


# --- /changes ------------------------------------------------------------------------------------------------

IdOf = Callable[[str], str]
"""Renders a log entry's name (the store's id) as the JMAP id."""


async def standard_changes(
    ctx: CallContext,
    arguments: dict[str, Any],
    type_name: str,
    id_of: IdOf,
    *,
    count_properties: Sequence[str] | None = None,
) -> dict[str, Any]:
    account_id = ctx.account(arguments)
    since = parse_state(arguments.get("sinceState"))
    max_changes = unsigned_int(arguments, "maxChanges", positive=True)
    async with ctx.store.read() as tx:
        try:
            found = await tx.object_changes(account_id, type_name, since, max_changes)
        except SyncTokenExpired:
            raise MethodError("cannotCalculateChanges", "The state is too old or unknown; resynchronise.") from None
    created, updated, destroyed = [], [], []
    counts_only = True
    for change in found.changes:
        if change.created and change.destroyed:
            continue
        if change.destroyed:
            destroyed.append(id_of(change.id))
        elif change.created:
            created.append(id_of(change.id))
        else:
            updated.append(id_of(change.id))
            counts_only = counts_only and change.counts_only
    result: dict[str, Any] = {
        "accountId": arguments["accountId"],
        "oldState": str(since),
        "newState": str(found.new_state),
        "hasMoreChanges": found.has_more,
        "created": created,
        "updated": updated,
        "destroyed": destroyed,
    }
    if count_properties is not None:
        result["updatedProperties"] = list(count_properties) if updated and counts_only and not created else None
    return result


# --- /set ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetHandlers:
    """Per-object operations; each runs in its own write transaction and raises SetError to fail alone."""

    create: Callable[[int, str, dict[str, Any]], Awaitable[dict[str, Any]]]
    """(account_id, creation id, object) -> the created object's server-set properties, with ``id``."""
    update: Callable[[int, str, dict[str, Any]], Awaitable[dict[str, Any] | None]]
    """(account_id, id, patch) -> server-changed properties or None."""
    destroy: Callable[[int, str], Awaitable[None]]


async def standard_set(
    ctx: CallContext, arguments: dict[str, Any], type_name: str, handlers: SetHandlers
) -> dict[str, Any]:
    account_id = ctx.account(arguments)
    create = string_map(arguments, "create")
    update = string_map(arguments, "update")
    destroy = optional_id_list(arguments, "destroy") or []
    if len(create) + len(update) + len(destroy) > ctx.limits.max_objects_in_set:
        raise MethodError("requestTooLarge", f"At most {ctx.limits.max_objects_in_set} objects per /set.")
    old_state = await type_state(ctx, account_id, type_name)
    if_in_state = arguments.get("ifInState")
    if if_in_state is not None and if_in_state != old_state:
        raise MethodError("stateMismatch", "ifInState does not match the current state.")
    result: dict[str, Any] = {"accountId": arguments["accountId"], "oldState": old_state}
    created: dict[str, Any] = {}
    not_created: dict[str, Any] = {}
    for creation_id, obj in create.items():
        try:
            if not isinstance(obj, dict):
                raise SetError("invalidProperties", "The object to create must be a JSON object.")
            created[creation_id] = made = await handlers.create(account_id, creation_id, obj)
            ctx.created_ids[creation_id] = made["id"]
        except SetError as exc:
            not_created[creation_id] = exc.to_json()
    updated: dict[str, Any] = {}
    not_updated: dict[str, Any] = {}
    for key, patch in update.items():
        try:
            object_id = ctx.resolve_id(key)
        except LookupError:
            not_updated[key] = SetError("notFound", "No object was created for this creation id.").to_json()
            continue
        try:
            if not isinstance(patch, dict):
                raise SetError("invalidPatch", "The patch must be a JSON object.")
            updated[object_id] = await handlers.update(account_id, object_id, patch)
        except SetError as exc:
            not_updated[object_id] = exc.to_json()
    destroyed: list[str] = []
    not_destroyed: dict[str, Any] = {}
    for key in destroy:
        try:
            object_id = ctx.resolve_id(key)
        except LookupError:
            not_destroyed[key] = SetError("notFound").to_json()
            continue
        try:
            await handlers.destroy(account_id, object_id)
            destroyed.append(object_id)
        except SetError as exc:
            not_destroyed[object_id] = exc.to_json()
    result["newState"] = await type_state(ctx, account_id, type_name)
    result.update(
        created=created or None,
        updated=updated or None,
        destroyed=destroyed or None,
        notCreated=not_created or None,
        notUpdated=not_updated or None,
        notDestroyed=not_destroyed or None,
    )
    return result


def apply_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 8620 §5.3 PatchObject: JSON-pointer paths (implicit leading ``/``) set or, with null, remove."""
    paths = sorted(patch)
    for shorter, longer in itertools.pairwise(paths):
        if longer.startswith(shorter + "/"):
            raise SetError("invalidPatch", f"{shorter!r} and {longer!r} overlap.")
    result = dict(current)
    for path, value in patch.items():
        tokens = [token.replace("~1", "/").replace("~0", "~") for token in path.split("/")]
        _patch_one(result, tokens, value, path)
    return result


def _patch_one(target: dict[str, Any], tokens: list[str], value: Any, path: str) -> None:
    head, rest = tokens[0], tokens[1:]
    if not rest:
        if value is None:
            target.pop(head, None)
        else:
            target[head] = value
        return
    child = target.get(head)
    if child is None and len(rest) == 1:
        child = {}
    if not isinstance(child, dict):
        raise SetError("invalidPatch", f"{path!r} does not point into an object.")
    target[head] = dict(child)
    _patch_one(target[head], rest, value, path)


# --- /query and /queryChanges --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryWindow:
    position: int
    anchor: str | None
    anchor_offset: int
    limit: int | None
    calculate_total: bool


def query_window(ctx: CallContext, arguments: dict[str, Any]) -> QueryWindow:
    position = arguments.get("position", 0)
    if isinstance(position, bool) or not isinstance(position, int):
        raise invalid_arguments("position must be an integer.")
    anchor = arguments.get("anchor")
    if anchor is not None and not isinstance(anchor, str):
        raise invalid_arguments("anchor must be an id or null.")
    anchor_offset = arguments.get("anchorOffset", 0)
    if isinstance(anchor_offset, bool) or not isinstance(anchor_offset, int):
        raise invalid_arguments("anchorOffset must be an integer.")
    limit = unsigned_int(arguments, "limit")
    return QueryWindow(position, anchor, anchor_offset, limit, boolean(arguments, "calculateTotal"))


def window_list(ids: list[str], window: QueryWindow) -> tuple[list[str], int]:
    """Apply position/anchor/limit to a complete sorted list (for types small enough to sort in memory)."""
    if window.anchor is not None:
        if window.anchor not in ids:
            raise MethodError("anchorNotFound")
        start = max(0, ids.index(window.anchor) + window.anchor_offset)
    elif window.position < 0:
        start = max(0, len(ids) + window.position)
    else:
        start = window.position
    end = len(ids) if window.limit is None else start + window.limit
    return ids[start:end], start if ids[start:end] or start <= len(ids) else len(ids)


def check_filter(condition: Any, check_condition: Callable[[dict[str, Any]], None]) -> None:
    """Checks a FilterOperator tree (RFC 8620 §5.5); each leaf FilterCondition goes to ``check_condition``."""
    if not isinstance(condition, dict):
        raise invalid_arguments("A filter must be an object.")
    if "operator" in condition:
        if condition["operator"] not in ("AND", "OR", "NOT") or not isinstance(condition.get("conditions"), list):
            raise invalid_arguments("A FilterOperator needs operator AND/OR/NOT and a conditions array.")
        for child in condition["conditions"]:
            check_filter(child, check_condition)
        return
    check_condition(condition)


def filter_matches(
    obj: dict[str, Any], condition: dict[str, Any], condition_matches: Callable[[dict[str, Any], dict[str, Any]], bool]
) -> bool:
    """Evaluates a filter already passed by ``check_filter``; leaves go to ``condition_matches(obj, condition)``."""
    if "operator" not in condition:
        return condition_matches(obj, condition)
    results = [filter_matches(obj, child, condition_matches) for child in condition["conditions"]]
    operator = condition["operator"]
    return all(results) if operator == "AND" else any(results) if operator == "OR" else not any(results)


QueryIds = Callable[[int, dict[str, Any]], Awaitable[list[str]]]
"""(account_id, arguments) -> every matching id in sort order, for types small enough to sort in memory."""


async def query_in_memory(
    ctx: CallContext, arguments: dict[str, Any], type_name: str, query_ids: QueryIds
) -> dict[str, Any]:
    """/query for a type whose objects per account are few (mailboxes, submissions)."""
    account_id = ctx.account(arguments)
    window = query_window(ctx, arguments)
    state = await type_state(ctx, account_id, type_name)
    ids = await query_ids(account_id, arguments)
    page, position = window_list(ids, window)
    result: dict[str, Any] = {
        "accountId": arguments["accountId"],
        "queryState": state,
        "canCalculateChanges": True,
        "position": position,
        "ids": page,
    }
    if window.calculate_total:
        result["total"] = len(ids)
    return result


async def query_changes_in_memory(
    ctx: CallContext, arguments: dict[str, Any], type_name: str, query_ids: QueryIds, id_of: IdOf
) -> dict[str, Any]:
    """/queryChanges to go with ``query_in_memory``."""
    account_id = ctx.account(arguments)
    since = parse_state(arguments.get("sinceQueryState"))
    max_changes = unsigned_int(arguments, "maxChanges", positive=True)
    changed = await changed_ids(ctx, account_id, type_name, since, max_changes)
    state = await type_state(ctx, account_id, type_name)
    current = await query_ids(account_id, arguments)
    total = len(current) if boolean(arguments, "calculateTotal") else None
    return query_changes_result(arguments, since, state, current, {id_of(i) for i, _ in changed}, total=total)


def query_changes_result(
    arguments: dict[str, Any],
    old_state: int,
    new_state: str,
    current: list[str],
    changed: set[str],
    *,
    total: int | None,
) -> dict[str, Any]:
    """The 'remove everything touched, re-add what is in the results now' answer (RFC 8620 §5.6 allows ids in
    ``removed`` that were never in the results): exact for any filter and sort, cost O(results)."""
    up_to = arguments.get("upToId")
    added = []
    for index, object_id in enumerate(current):
        if object_id in changed:
            added.append({"id": object_id, "index": index})
        if object_id == up_to:
            break
    result: dict[str, Any] = {
        "accountId": arguments["accountId"],
        "oldQueryState": str(old_state),
        "newQueryState": new_state,
        "removed": sorted(changed),
        "added": added,
    }
    if total is not None:
        result["total"] = total
    return result


async def changed_ids(
    ctx: CallContext, account_id: int, type_name: str, since: int, max_changes: int | None
) -> list[tuple[str, bool]]:
    """(store id, destroyed) of every object of the type changed after ``since``; typed errors for /queryChanges."""
    async with ctx.store.read() as tx:
        try:
            found = await tx.object_changes(account_id, type_name, since, None)
        except SyncTokenExpired:
            raise MethodError("cannotCalculateChanges", "The query state is too old or unknown.") from None
        except TooManyChanges:
            raise MethodError("tooManyChanges") from None
    if max_changes is not None and len(found.changes) > max_changes:
        raise MethodError("tooManyChanges", f"More than {max_changes} changes.")
    return [(change.id, change.destroyed) for change in found.changes]
