"""LOCK and UNLOCK (RFC 4918 §9.10, §9.11): exclusive and shared write locks, depth 0 or infinity,
refresh, and locks on unmapped URLs, which create an empty resource (§7.3)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.ifheader import parse_lock_token_header, parse_timeout
from protocols.webdav.locking import WriteTarget, activelock_xml, check_write, covers, if_header
from protocols.webdav.multistatus import XML_MEDIA_TYPE
from protocols.webdav.paths import href
from protocols.webdav.requests import LockInfo, parse_lockinfo
from protocols.webdav.resources import CollectionResource, ItemResource, Resource, UnmappedResource
from protocols.webdav.xml import dav, document, element, text_element
from storage.api import ItemWrite, Lock, Transaction

EMPTY_CONTENT_TYPE = "application/octet-stream"


def lock_response(lock: Lock, status: int) -> Response:
    body = document(dav("prop"), element(dav("lockdiscovery"), activelock_xml(lock)))
    return Response(body, status_code=status, media_type=XML_MEDIA_TYPE, headers={"Lock-Token": f"<{lock.token}>"})


def parse_lock_depth(ctx: DavContext) -> bool:
    value = (ctx.header("depth") or "infinity").strip().lower()
    if value not in ("0", "infinity"):
        raise DavError(400, "Depth must be 0 or infinity")
    return value == "infinity"


def lockable_path(resource: Resource) -> str:
    if isinstance(resource, CollectionResource | ItemResource):
        return resource.path
    if isinstance(resource, UnmappedResource):
        if resource.parent is None:
            raise DavError(409, "parent collection does not exist")
        return resource.path.rstrip("/")
    raise DavError(405, "cannot lock this resource")


async def check_conflicts(tx: Transaction, path: str, exclusive: bool, depth_infinity: bool, now: float) -> None:
    """A new lock conflicts with an exclusive one in its scope, or with any one when it is exclusive."""
    for existing in await tx.locks_affecting(path, now):
        in_scope = covers(existing, path) or (depth_infinity and existing.path.startswith(path))
        if in_scope and (exclusive or existing.exclusive):
            raise DavError(
                423,
                condition=dav("no-conflicting-lock"),
                condition_inner=text_element(dav("href"), href(existing.path)),
            )


async def lock(ctx: DavContext, resource: Resource) -> Response:
    path = lockable_path(resource)
    timeout = parse_timeout(ctx.header("timeout"), ctx.limits.lock_max_timeout_seconds)
    body = await ctx.body()
    if not body.strip():
        return await refresh(ctx, path, timeout)
    info = parse_lockinfo(body)
    depth_infinity = parse_lock_depth(ctx) if path.endswith("/") else False
    return await create(ctx, resource, path, info, depth_infinity, timeout)


async def create(
    ctx: DavContext, resource: Resource, path: str, info: LockInfo, depth_infinity: bool, seconds: int
) -> Response:
    now = time.time()
    new_lock = Lock(
        token=f"urn:uuid:{uuid.uuid4()}",
        account_id=ctx.principal.account_id,
        path=path,
        depth_infinity=depth_infinity,
        exclusive=info.exclusive,
        owner_xml=info.owner_xml,
        principal=ctx.user,
        expires=now + seconds,
        timeout_seconds=seconds,
    )
    async with ctx.store.write() as tx:
        await check_conflicts(tx, path, info.exclusive, depth_infinity, now)
        created = isinstance(resource, UnmappedResource)
        if created:
            assert isinstance(resource, UnmappedResource) and resource.parent is not None
            await check_write(ctx, tx, [WriteTarget(path, changes_membership=True)])
            await tx.put_item(resource.parent.id, ItemWrite(resource.name, b"", EMPTY_CONTENT_TYPE))
        await tx.put_lock(new_lock)
    return lock_response(new_lock, 201 if created else 200)


async def refresh(ctx: DavContext, path: str, seconds: int) -> Response:
    """A bodiless LOCK names the lock to refresh in its If header (RFC 4918 §9.10.2)."""
    header = if_header(ctx)
    if header is None:
        raise DavError(400, "a lock refresh needs an If header with the lock token")
    now = time.time()
    async with ctx.store.write() as tx:
        for token in header.submitted_tokens:
            current = await tx.get_lock(token)
            if current is not None and current.expires > now and covers(current, path):
                if current.principal != ctx.user:
                    raise DavError(403, "the lock belongs to someone else")
                renewed = replace(current, expires=now + seconds, timeout_seconds=seconds)
                await tx.put_lock(renewed)
                body = document(dav("prop"), element(dav("lockdiscovery"), activelock_xml(renewed, now)))
                return Response(body, status_code=200, media_type=XML_MEDIA_TYPE)
    raise DavError(412, condition=dav("lock-token-matches-request-uri"))


async def unlock(ctx: DavContext, resource: Resource) -> Response:
    try:
        token = parse_lock_token_header(ctx.header("lock-token") or "")
    except ValueError:
        raise DavError(400, "Lock-Token header required") from None
    path = resource.path.rstrip("/") if isinstance(resource, UnmappedResource) else resource.path
    async with ctx.store.write() as tx:
        current = await tx.get_lock(token)
        if current is None or current.expires <= time.time() or not covers(current, path):
            raise DavError(409, condition=dav("lock-token-matches-request-uri"))
        if current.principal != ctx.user:
            raise DavError(403, condition=dav("lock-token-matches-request-uri"))
        await tx.delete_lock(token)
    return Response(status_code=204)
