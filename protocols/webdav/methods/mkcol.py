"""MKCOL (RFC 4918 §9.3) and extended MKCOL (RFC 5689): a collection, optionally typed and with properties."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError, PropertyRejected
from protocols.webdav.locking import WriteTarget, check_write
from protocols.webdav.methods.proppatch import validate_updates
from protocols.webdav.multistatus import XML_MEDIA_TYPE, propstat_blocks
from protocols.webdav.registry import DavRegistry
from protocols.webdav.requests import PropertyUpdate, parse_body, property_updates
from protocols.webdav.resources import Resource, UnmappedResource
from protocols.webdav.xml import dav, document, element

PLAIN_KIND = "collection"
XML_TYPES = ("", "application/xml", "text/xml")


def requested_kind(registry: DavRegistry, update: PropertyUpdate) -> str:
    """The collection kind whose resourcetype matches what the client asked for."""
    if update.element is None:
        return PLAIN_KIND
    extra = {child.tag for child in update.element if isinstance(child.tag, str)} - {dav("collection")}
    if not extra:
        return PLAIN_KIND
    for kind, names in registry.collection_types.items():
        if names == extra:
            return kind
    raise PropertyRejected(dav("resourcetype"), 403, dav("valid-resourcetype"))


def parse_body_updates(ctx: DavContext, body: bytes) -> list[PropertyUpdate]:
    """A non-XML body is a format MKCOL does not know (415); malformed XML is a bad request (400)."""
    content_type = (ctx.header("content-type") or "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES:
        raise DavError(415, "MKCOL accepts only an extended MKCOL XML body")
    root = parse_body(body)
    if root.tag != dav("mkcol"):
        raise DavError(415, "MKCOL accepts only an extended MKCOL XML body")
    return property_updates(root)


def rejected(rejection: PropertyRejected, updates: list[PropertyUpdate], response_name: str) -> Response:
    """RFC 5689 §5.2 (and RFC 4791 §5.3.1.2): the failed property with its status, every other one 424."""
    propstats = {
        rejection.status: [element(rejection.name)],
        424: [element(u.name) for u in updates if u.name != rejection.name],
    }
    return Response(document(response_name, propstat_blocks(propstats)), status_code=403, media_type=XML_MEDIA_TYPE)


async def mkcol(ctx: DavContext, resource: Resource) -> Response:
    body = await ctx.body()
    updates = parse_body_updates(ctx, body) if body.strip() else []
    return await make_collection(ctx, resource, updates, PLAIN_KIND, dav("mkcol-response"))


async def make_collection(
    ctx: DavContext, resource: Resource, updates: list[PropertyUpdate], default_kind: str, response_name: str
) -> Response:
    """Create a collection of the kind its resourcetype names (or ``default_kind``) with initial properties."""
    if not isinstance(resource, UnmappedResource):
        raise DavError(405, "something already exists here")
    if resource.parent is None:
        raise DavError(409, "parent collection does not exist")
    try:
        type_update = next((u for u in updates if u.name == dav("resourcetype")), None)
        kind = requested_kind(ctx.registry, type_update) if type_update else default_kind
        check_location = ctx.registry.location_checks.get(kind)
        if check_location is not None:
            check_location(ctx, resource.path)
        properties = validate_updates(ctx, [u for u in updates if u.name != dav("resourcetype")])
    except PropertyRejected as rejection:
        return rejected(rejection, updates, response_name)
    path = resource.path if resource.path.endswith("/") else resource.path + "/"
    async with ctx.store.write() as tx:
        await check_write(ctx, tx, [WriteTarget(path, changes_membership=True)])
        await tx.create_collection(resource.parent.account_id, path, kind, properties)
    return Response(status_code=201)
