"""PROPPATCH (RFC 4918 §9.2): dead properties set and removed atomically, 207 with a status per property."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError, PropertyRejected
from protocols.webdav.locking import WriteTarget, check_write
from protocols.webdav.multistatus import multistatus, propstat_response
from protocols.webdav.requests import PropertyUpdate, parse_propertyupdate
from protocols.webdav.resources import CollectionResource, ItemResource, Resource
from protocols.webdav.xml import PRIVATE, dav, element


def check_update(ctx: DavContext, update: PropertyUpdate, *, creating: bool = False) -> None:
    """Live properties the server computes cannot be set or removed by a client; others may need a valid value."""
    if update.name.startswith("{" + PRIVATE + "}"):
        raise PropertyRejected(update.name, 403, dav("cannot-modify-protected-property"))
    prop = ctx.registry.properties.get(update.name)
    if prop is None:
        return
    if prop.protected and not (creating and prop.settable_on_create):
        raise PropertyRejected(update.name, 403, dav("cannot-modify-protected-property"))
    if prop.validate is not None and update.value_xml is not None:
        prop.validate(update)


def validate_updates(ctx: DavContext, updates: list[PropertyUpdate]) -> dict[str, str]:
    """Check every update of a resource being created; return the properties to set."""
    values: dict[str, str] = {}
    for update in updates:
        check_update(ctx, update, creating=True)
        if update.value_xml is None:
            values.pop(update.name, None)
        else:
            values[update.name] = update.value_xml
    return values


def failure_response(resource: Resource, updates: list[PropertyUpdate], failures: dict[str, int]) -> Response:
    propstats: dict[int, list[str]] = {}
    for update in updates:
        status = failures.get(update.name, 424)
        propstats.setdefault(status, []).append(element(update.name))
    return multistatus([propstat_response(resource.href, propstats)])


async def proppatch(ctx: DavContext, resource: Resource) -> Response:
    if not isinstance(resource, CollectionResource | ItemResource):
        raise DavError(403 if resource.exists else 404, "properties cannot be changed here")
    updates = parse_propertyupdate(await ctx.body())
    failures: dict[str, int] = {}
    for update in updates:
        try:
            check_update(ctx, update)
        except PropertyRejected as rejection:
            failures[rejection.name] = rejection.status
    if failures:
        return failure_response(resource, updates, failures)
    set_props: dict[str, str] = {}
    removed: list[str] = []
    for update in updates:
        if update.value_xml is None:
            set_props.pop(update.name, None)
            removed.append(update.name)
        else:
            set_props[update.name] = update.value_xml
            if update.name in removed:
                removed.remove(update.name)
    async with ctx.store.write() as tx:
        await check_write(ctx, tx, [WriteTarget(resource.path)])
        if isinstance(resource, CollectionResource):
            await tx.update_collection_properties(resource.collection.id, set_props, removed)
        else:
            await tx.update_item_properties(resource.collection.id, resource.item.name, set_props, removed)
    return multistatus([propstat_response(resource.href, {200: [element(u.name) for u in updates]})])
