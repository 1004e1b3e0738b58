"""PROPFIND (RFC 4918 §9.1): depth 0 and 1, streamed; depth infinity is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response

from gateway.accounts import HOME_NAMESPACES
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.members import item_responses
from protocols.webdav.multistatus import propstat_response, streamed_multistatus
from protocols.webdav.propcontext import PropContext
from protocols.webdav.propstat import prop_context, render
from protocols.webdav.requests import PropfindRequest, parse_propfind
from protocols.webdav.resources import (
    PRINCIPALS,
    CollectionResource,
    ItemResource,
    NamespaceResource,
    PrincipalResource,
    Resource,
    RootResource,
    namespace_path,
    principal_path,
)
from protocols.webdav.xml import dav
from storage.api import Item

PAGE_SIZE = 1000


def parse_depth(value: str | None) -> int:
    """A missing Depth is read as 1 rather than infinity, as sabre/dav does, since clients omit it."""
    if value is None:
        return 1
    value = value.strip().lower()
    if value == "0":
        return 0
    if value == "1":
        return 1
    if value == "infinity":
        raise DavError(403, condition=dav("propfind-finite-depth"))
    raise DavError(400, "Depth must be 0, 1 or infinity")


async def members(ctx: DavContext, resource: Resource) -> AsyncIterator[Resource | list[Item]]:
    """Direct members: virtual and collection resources one by one, items a page at a time, each page read
    in its own transaction so none stays open while the answer streams."""
    if isinstance(resource, RootResource):
        for namespace in (PRINCIPALS, *HOME_NAMESPACES):
            yield NamespaceResource(namespace_path(namespace), namespace)
        return
    if isinstance(resource, NamespaceResource):
        if resource.namespace == PRINCIPALS:
            yield PrincipalResource(principal_path(ctx.user), ctx.user)
            return
        async with ctx.store.read() as tx:
            home = await tx.get_collection(f"{resource.namespace}/{ctx.user}/")
        if home is not None:
            yield CollectionResource(home.path, home)
        return
    if not isinstance(resource, CollectionResource):
        return
    collection = resource.collection
    async with ctx.store.read() as tx:
        children = await tx.list_child_collections(collection.path)
    for child in children:
        yield CollectionResource(child.path, child)
    after = ""
    while True:
        async with ctx.store.read() as tx:
            page = await tx.list_items(collection.id, after=after, limit=PAGE_SIZE)
        if page:
            yield page
        if len(page) < PAGE_SIZE:
            return
        after = page[-1].name


async def member_resources(ctx: DavContext, resource: Resource) -> AsyncIterator[Resource]:
    """Direct members one resource at a time (pages of items unrolled)."""
    async for member in members(ctx, resource):
        if isinstance(member, list):
            assert isinstance(resource, CollectionResource)
            for item in member:
                yield ItemResource(resource.path + item.name, resource.collection, item)
        else:
            yield member


async def responses(
    ctx: DavContext, pctx: PropContext, target: Resource, request: PropfindRequest, depth: int
) -> AsyncIterator[str]:
    if isinstance(target, ItemResource):
        async for response in item_responses(ctx, pctx, target.collection, [target.item], request):
            yield response
        return
    yield propstat_response(target.href, render(pctx, target, request))
    if depth == 0:
        return
    async for member in members(ctx, target):
        if isinstance(member, list):
            assert isinstance(target, CollectionResource)
            async for response in item_responses(ctx, pctx, target.collection, member, request):
                yield response
        else:
            yield propstat_response(member.href, render(pctx, member, request))


async def propfind(ctx: DavContext, resource: Resource) -> Response:
    if not resource.exists:
        raise DavError(404, "not found")
    depth = parse_depth(ctx.header("depth"))
    request = parse_propfind(await ctx.body())
    async with ctx.store.read() as tx:
        pctx = await prop_context(ctx, tx, resource.path)
    return streamed_multistatus(responses(ctx, pctx, resource, request, depth))
