"""Identity (RFC 8621 §6): the From addresses a user may send as; get, changes and set.

An account gets one identity per address it owns on first use. An identity may only use one of the account's
own addresses (``forbiddenFrom`` otherwise), so nobody can send as someone else.
"""

from __future__ import annotations

from typing import Any

from protocols.jmap import generic
from protocols.jmap.context import CallContext
from protocols.jmap.errors import SetError, invalid_properties
from protocols.jmap.ids import IDENTITY
from protocols.jmap.registry import SUBMISSION, JmapRegistry
from storage.api import NotFound, Transaction
from storage.mail import StoredObject

TYPE = "Identity"
PROPERTIES = ("id", "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete")
SETTABLE = ("name", "email", "replyTo", "bcc", "textSignature", "htmlSignature")
DEFAULTS: dict[str, Any] = {"name": "", "replyTo": None, "bcc": None, "textSignature": "", "htmlSignature": ""}


def to_json(stored: StoredObject) -> dict[str, Any]:
    return {**DEFAULTS, **stored.data, "id": IDENTITY.render(stored.id), "mayDelete": True}


async def own_addresses(tx: Transaction, account_id: int) -> set[str]:
    return {a.address.lower() for a in await tx.get_addresses(account_id) if not a.is_catch_all}


async def ensure_identities(tx: Transaction, account_id: int, fallback_address: str) -> None:
    """One identity per address of the account (or the fallback when it has none), made once."""
    existing = {str(obj.data.get("email", "")).lower() for obj in await tx.list_objects(account_id, TYPE)}
    account = await tx.get_account_by_id(account_id)
    addresses = [a.address for a in await tx.get_addresses(account_id) if not a.is_catch_all] or [fallback_address]
    for address in addresses:
        if address.lower() not in existing:
            name = (account.display_name or "") if account else ""
            await tx.create_object(account_id, TYPE, {**DEFAULTS, "name": name, "email": address})


def _email_addresses(value: Any, name: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("email"), str) and isinstance(item.get("name", ""), str | None)
        for item in value
    ):
        raise invalid_properties(name, description="An array of {name, email} objects or null.")
    return [{"name": item.get("name"), "email": item["email"]} for item in value]


def _validated(obj: dict[str, Any]) -> dict[str, Any]:
    data = {**DEFAULTS, **{key: obj[key] for key in SETTABLE if key in obj}}
    for key in ("name", "textSignature", "htmlSignature"):
        if not isinstance(data[key], str):
            raise invalid_properties(key)
    if not isinstance(data.get("email"), str) or "@" not in data["email"]:
        raise invalid_properties("email", description="An identity needs an email address.")
    data["replyTo"] = _email_addresses(data["replyTo"], "replyTo")
    data["bcc"] = _email_addresses(data["bcc"], "bcc")
    return data


async def identity_get(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.stored_objects_get(ctx, arguments, TYPE, IDENTITY, to_json, PROPERTIES)


async def identity_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_changes(ctx, arguments, TYPE, IDENTITY.render)


def set_handlers(ctx: CallContext) -> generic.SetHandlers:
    async def create(account_id: int, creation_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        unknown = [key for key in obj if key not in SETTABLE]
        if unknown:
            raise invalid_properties(*unknown, description="These properties are server-set or unknown.")
        data = _validated(obj)
        async with ctx.store.write() as tx:
            if data["email"].lower() not in await own_addresses(tx, account_id):
                raise SetError("forbiddenFrom", "The account does not own this address.")
            made = await tx.create_object(account_id, TYPE, data)
        return {key: value for key, value in to_json(made).items() if key not in obj}

    async def update(account_id: int, object_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        store_id = IDENTITY.parse(object_id)
        async with ctx.store.write() as tx:
            found = await tx.get_objects(account_id, TYPE, [store_id] if store_id is not None else [])
            if not found:
                raise SetError("notFound")
            current = to_json(found[0])
            patched = generic.apply_patch(current, patch)
            if patched.get("email") != current["email"]:
                raise invalid_properties("email", description="The address of an identity cannot change.")
            changed = [key for key in PROPERTIES if key not in SETTABLE and patched.get(key) != current.get(key)]
            if changed:
                raise invalid_properties(*changed, description="These properties are server-set.")
            await tx.update_object(account_id, TYPE, found[0].id, _validated(patched))
        return None

    async def destroy(account_id: int, object_id: str) -> None:
        store_id = IDENTITY.parse(object_id)
        if store_id is None:
            raise SetError("notFound")
        try:
            async with ctx.store.write() as tx:
                await tx.delete_object(account_id, TYPE, store_id)
        except NotFound:
            raise SetError("notFound") from None

    return generic.SetHandlers(create, update, destroy)


async def identity_set(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    return await generic.standard_set(ctx, arguments, TYPE, set_handlers(ctx))


def register(registry: JmapRegistry) -> None:
    registry.push_types.add(TYPE)
    registry.add_method("Identity/get", SUBMISSION, identity_get)
    registry.add_method("Identity/changes", SUBMISSION, identity_changes)
    registry.add_method("Identity/set", SUBMISSION, identity_set)
