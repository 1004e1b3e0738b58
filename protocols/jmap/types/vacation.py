"""VacationResponse (RFC 8621 §8): the one auto-reply setting of an account, id ``singleton``; get and set.

Sending the replies belongs to delivery (LMTP); this module only keeps the setting.
"""

from __future__ import annotations

from typing import Any

from protocols.jmap import generic
from protocols.jmap.context import CallContext
from protocols.jmap.errors import SetError, invalid_properties
from protocols.jmap.registry import VACATION, JmapRegistry
from protocols.jmap.types.email import parse_utc_date
from storage.api import Transaction
from storage.mail import StoredObject

TYPE = "VacationResponse"
SINGLETON = "singleton"
PROPERTIES = ("id", "isEnabled", "fromDate", "toDate", "subject", "textBody", "htmlBody")
DEFAULTS: dict[str, Any] = {
    "isEnabled": False,
    "fromDate": None,
    "toDate": None,
    "subject": None,
    "textBody": None,
    "htmlBody": None,
}


async def stored_setting(tx: Transaction, account_id: int) -> StoredObject | None:
    found = await tx.list_objects(account_id, TYPE)
    return found[0] if found else None


async def current_setting(tx: Transaction, account_id: int) -> dict[str, Any]:
    stored = await stored_setting(tx, account_id)
    return {**DEFAULTS, **(stored.data if stored else {}), "id": SINGLETON}


def _validated(obj: dict[str, Any]) -> dict[str, Any]:
    data = {key: obj.get(key, DEFAULTS[key]) for key in DEFAULTS}
    if not isinstance(data["isEnabled"], bool):
        raise invalid_properties("isEnabled")
    for key in ("fromDate", "toDate"):
        if data[key] is not None and parse_utc_date(data[key]) is None:
            raise invalid_properties(key, description="A UTCDate or null.")
    for key in ("subject", "textBody", "htmlBody"):
        if data[key] is not None and not isinstance(data[key], str):
            raise invalid_properties(key)
    return data


async def vacation_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    async def fetch(account_id: int, ids: list[str] | None, properties: set[str]) -> list[dict[str, Any]]:
        if ids is not None and SINGLETON not in ids:
            return []
        async with ctx.store.read() as tx:
            return [await current_setting(tx, account_id)]

    return await generic.standard_get(ctx, arguments, TYPE, fetch, known=PROPERTIES)


def set_handlers(ctx: CallContext) -> generic.SetHandlers:
    async def create(account_id: int, creation_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        raise SetError("singleton", "The VacationResponse always exists; update 'singleton'.")

    async def update(account_id: int, object_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        if object_id != SINGLETON:
            raise SetError("notFound")
        async with ctx.store.write() as tx:
            current = await current_setting(tx, account_id)
            patched = generic.apply_patch(current, patch)
            if patched.get("id") != SINGLETON or set(patched) - set(PROPERTIES):
                raise invalid_properties(*(set(patched) - set(PROPERTIES)) or {"id"})
            data = _validated(patched)
            stored = await stored_setting(tx, account_id)
            if stored is None:
                await tx.create_object(account_id, TYPE, data)
            else:
                await tx.update_object(account_id, TYPE, stored.id, data)
        return None

    async def destroy(account_id: int, object_id: str) -> None:
        raise SetError("singleton", "The VacationResponse cannot be destroyed.")

    return generic.SetHandlers(create, update, destroy)


async def vacation_set(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_set(ctx, arguments, TYPE, set_handlers(ctx))


def register(registry: JmapRegistry) -> None:
    registry.push_types.add(TYPE)
    registry.add_method("VacationResponse/get", VACATION, vacation_get)
    registry.add_method("VacationResponse/set", VACATION, vacation_set)
