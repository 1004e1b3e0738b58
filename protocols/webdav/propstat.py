"""Answering a property request for one resource: dead properties from the store, live ones computed."""

from __future__ import annotations

import time
from collections.abc import Mapping

from protocols.webdav.context import DavContext
from protocols.webdav.propcontext import PropContext
from protocols.webdav.registry import PropValue
from protocols.webdav.requests import PropfindRequest
from protocols.webdav.resources import CollectionResource, ItemResource, Resource
from protocols.webdav.xml import PRIVATE, Raw, element, escape
from storage.api import Transaction

EMPTY: Mapping[str, str] = {}


async def prop_context(ctx: DavContext, tx: Transaction, target_path: str) -> PropContext:
    """Everything live properties need for ``target_path`` and its members, in two queries."""
    account = await tx.get_account_by_id(ctx.principal.account_id)
    used = await tx.account_usage(account.id) if account else 0
    locks = await tx.locks_affecting(target_path, time.time())
    addresses = tuple(a.address for a in await tx.get_addresses(account.id) if not a.is_catch_all) if account else ()
    return PropContext(ctx.user, ctx.registry, account, used, tuple(locks), addresses)


PRIVATE_PREFIX = "{" + PRIVATE + "}"


def dead_properties(resource: Resource) -> Mapping[str, str]:
    """Client-visible dead properties (the server's own bookkeeping left out)."""
    if isinstance(resource, CollectionResource):
        stored = resource.collection.properties
    elif isinstance(resource, ItemResource):
        stored = resource.item.properties
    else:
        return EMPTY
    if any(name.startswith(PRIVATE_PREFIX) for name in stored):
        return {name: value for name, value in stored.items() if not name.startswith(PRIVATE_PREFIX)}
    return stored


def property_xml(name: str, value: PropValue) -> str:
    if isinstance(value, Raw):
        return element(name, value.xml)
    return element(name, escape(value))


def render(pctx: PropContext, resource: Resource, request: PropfindRequest) -> dict[int, list[str]]:
    """Propstat blocks (status -> property XML) answering ``request`` for ``resource``."""
    dead = dead_properties(resource)
    live = pctx.registry.properties
    found: list[str] = []
    missing: list[str] = []
    if request.mode == "propname":
        # Only properties the resource has (RFC 4918 §9.1): one whose getter has no value here is not listed.
        names = list(dead) + [
            n for n, p in live.items() if n not in dead and p.applies_to(resource) and p.get(pctx, resource) is not None
        ]
        return {200: [element(name) for name in names]}
    if request.mode == "allprop":
        found.extend(dead.values())
        wanted = [n for n, p in live.items() if p.in_allprop and n not in dead]
        wanted += [n for n in request.names if n not in dead and n not in wanted]
    else:
        wanted = list(request.names)
    for name in wanted:
        if name in dead:
            found.append(dead[name])
            continue
        prop = live.get(name)
        value = prop.get(pctx, resource) if prop is not None and prop.applies_to(resource) else None
        if value is None:
            if request.mode == "prop" or name in request.names:
                missing.append(element(name))
        else:
            found.append(property_xml(name, value))
    return {200: found, 404: missing}
