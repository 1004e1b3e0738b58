"""PUT (RFC 4918 §9.7, RFC 9110 §9.3.4): store exactly the bytes sent, atomically, honouring locks."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.conditional import preconditions
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.locking import WriteTarget, check_write
from protocols.webdav.paths import href
from protocols.webdav.properties import quoted_etag
from protocols.webdav.registry import DavRegistry
from protocols.webdav.resources import ItemResource, Resource, UnmappedResource
from protocols.webdav.xml import dav, text_element
from storage.api import Collection, ItemWrite, Transaction, UidConflict

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def target_collection(resource: Resource) -> Collection:
    if isinstance(resource, ItemResource):
        return resource.collection
    if isinstance(resource, UnmappedResource) and not resource.is_collection:
        if resource.parent is None:
            raise DavError(409, "parent collection does not exist")
        return resource.parent
    raise DavError(405, "cannot PUT here")


async def check_quota(tx: Transaction, account_id: int, growth: int) -> None:
    account = await tx.get_account_by_id(account_id)
    if account is None or account.quota_bytes is None or growth <= 0:
        return
    if await tx.account_usage(account_id) + growth > account.quota_bytes:
        raise DavError(507, condition=dav("quota-not-exceeded"))


def uid_conflict(registry: DavRegistry, collection: Collection, conflict: UidConflict) -> DavError:
    """409 naming the resource that already carries the UID (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1)."""
    condition = registry.uid_conflict_conditions.get(collection.kind)
    inner = text_element(dav("href"), href(collection.path + conflict.existing_name))
    return DavError(409, str(conflict), condition=condition, condition_inner=inner if condition else "")


async def put(ctx: DavContext, resource: Resource) -> Response:
    collection = target_collection(resource)
    if ctx.header("content-range") is not None:
        raise DavError(400, "partial PUT is not supported")
    data = await ctx.body()
    content_type = ctx.header("content-type") or DEFAULT_CONTENT_TYPE
    write = await ctx.registry.prepare_item(
        ctx, collection, ItemWrite(resource.path.rsplit("/", 1)[-1], data, content_type)
    )
    if len(data) > ctx.limits.max_item_bytes:
        raise DavError(413, "resource too large")
    async with ctx.store.write() as tx:
        current = await tx.get_collection_by_id(collection.id)
        if current is None:
            raise DavError(409, "parent collection does not exist")
        existing = await tx.get_item(collection.id, write.name)
        await check_write(ctx, tx, [WriteTarget(resource.path, changes_membership=existing is None)])
        await check_quota(tx, collection.account_id, len(data) - (existing.size if existing else 0))
        try:
            item, created = await tx.put_item(collection.id, write, preconditions(ctx))
        except UidConflict as conflict:
            raise uid_conflict(ctx.registry, collection, conflict) from None
    headers = {"ETag": quoted_etag(item.etag)} if write.data == data else {}
    return Response(status_code=201 if created else 204, headers=headers)
