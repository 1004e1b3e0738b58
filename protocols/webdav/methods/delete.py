"""DELETE (RFC 4918 §9.6): an item, or a collection with everything below it, in one transaction."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.conditional import preconditions
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.locking import WriteTarget, check_write
from protocols.webdav.resources import CollectionResource, ItemResource, Resource
from storage.api import NO_PRECONDITIONS, Preconditions, Transaction

HOME_DEPTH = 2


def is_home(path: str) -> bool:
    return path.count("/") == HOME_DEPTH


async def delete(ctx: DavContext, resource: Resource) -> Response:
    if not resource.exists:
        raise DavError(404, "not found")
    if isinstance(resource, CollectionResource) and is_home(resource.path):
        raise DavError(403, "a home collection cannot be deleted")
    if not isinstance(resource, CollectionResource | ItemResource):
        raise DavError(405, "cannot DELETE this resource")
    conditions = preconditions(ctx)
    if isinstance(resource, CollectionResource) and conditions.if_match is not None:
        raise DavError(412, "collections have no entity tag")
    async with ctx.store.write() as tx:
        await check_write(ctx, tx, [WriteTarget(resource.path, changes_membership=True)])
        await remove(tx, resource, conditions)
    return Response(status_code=204)


async def remove(tx: Transaction, resource: Resource, conditions: Preconditions = NO_PRECONDITIONS) -> None:
    """Delete a stored resource and the locks rooted on or below it (shared with MOVE and COPY)."""
    if isinstance(resource, ItemResource):
        await tx.delete_item(resource.collection.id, resource.item.name, conditions)
    else:
        await tx.delete_collection(resource.path)
    await tx.delete_locks(resource.path)
