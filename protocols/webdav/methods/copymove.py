"""COPY and MOVE (RFC 4918 §9.8, §9.9): Destination, Overwrite and Depth, atomic in one transaction."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.locking import WriteTarget, check_write
from protocols.webdav.methods.delete import is_home, remove
from protocols.webdav.methods.put import uid_conflict
from protocols.webdav.paths import BadPath, DavPath, destination_path
from protocols.webdav.resources import CollectionResource, ItemResource, Resource, UnmappedResource, resolve
from storage.api import Collection, Item, ItemWrite, Transaction, UidConflict

PAGE_SIZE = 500


def parse_overwrite(ctx: DavContext) -> bool:
    value = (ctx.header("overwrite") or "T").strip().upper()
    if value not in ("T", "F"):
        raise DavError(400, "Overwrite must be T or F")
    return value == "T"


def parse_copy_depth(ctx: DavContext, move: bool) -> bool:
    """True for depth infinity; MOVE of a collection knows nothing else (RFC 4918 §9.9.2)."""
    value = (ctx.header("depth") or "infinity").strip().lower()
    if value == "infinity":
        return True
    if value == "0" and not move:
        return False
    raise DavError(400, "Depth must be infinity" + ("" if move else " or 0"))


def parse_destination(ctx: DavContext) -> DavPath:
    header = ctx.header("destination")
    if not header:
        raise DavError(400, "Destination header required")
    try:
        return destination_path(header, ctx.header("host"))
    except BadPath as exc:
        status = 502 if "another server" in str(exc) else 400
        raise DavError(status, str(exc)) from None


def namespace_of(path: str) -> str:
    return path.split("/", 1)[0]


async def copy(ctx: DavContext, resource: Resource) -> Response:
    return await transfer(ctx, resource, move=False)


async def move(ctx: DavContext, resource: Resource) -> Response:
    return await transfer(ctx, resource, move=True)


def destination_store_path(source: Resource, dest_path: DavPath) -> str:
    return dest_path.collection_path if isinstance(source, CollectionResource) else dest_path.item_path


def check_destination(source: Resource, dest: Resource, dest_store_path: str) -> None:
    if not isinstance(dest, CollectionResource | ItemResource | UnmappedResource):
        raise DavError(403, "cannot write to that destination")
    if namespace_of(dest_store_path) != namespace_of(source.path) or dest_store_path.count("/") < 2:
        raise DavError(403, "destination outside this area")
    if dest_store_path.rstrip("/") == source.path.rstrip("/"):
        raise DavError(403, "source and destination are the same")
    if source.is_collection and dest_store_path.startswith(source.path):
        raise DavError(409, "cannot copy a collection into itself")
    if source.path.startswith(dest_store_path.rstrip("/") + "/"):
        raise DavError(409, "destination contains the source")
    if isinstance(dest, CollectionResource) and is_home(dest.path):
        raise DavError(403, "a home collection cannot be replaced")


async def transfer(ctx: DavContext, source: Resource, *, move: bool) -> Response:
    if not isinstance(source, CollectionResource | ItemResource):
        raise DavError(404 if not source.exists else 403, "cannot copy or move this")
    if move and isinstance(source, CollectionResource) and is_home(source.path):
        raise DavError(403, "a home collection cannot be moved")
    dest_path = parse_destination(ctx)
    overwrite = parse_overwrite(ctx)
    recursive = parse_copy_depth(ctx, move) if isinstance(source, CollectionResource) else True
    async with ctx.store.write() as tx:
        dest = await resolve(tx, dest_path, ctx.user)
        dest_store_path = destination_store_path(source, dest_path)
        check_destination(source, dest, dest_store_path)
        if isinstance(source, CollectionResource) and source.collection.kind in ctx.registry.location_checks:
            ctx.registry.location_checks[source.collection.kind](ctx, dest_store_path)
        targets = [WriteTarget(dest_store_path, changes_membership=True)]
        if move:
            targets.append(WriteTarget(source.path, changes_membership=True))
        if dest.exists and not overwrite:
            raise DavError(412, "destination exists and Overwrite is F")
        if not dest.exists and (not isinstance(dest, UnmappedResource) or dest.parent is None):
            raise DavError(409, "destination parent does not exist")
        await check_write(ctx, tx, targets)
        if dest.exists:
            await remove(tx, dest)
        await place(ctx, tx, source, dest_store_path, move=move, recursive=recursive)
    return Response(status_code=204 if dest.exists else 201)


async def place(
    ctx: DavContext, tx: Transaction, source: Resource, dest_store_path: str, *, move: bool, recursive: bool
) -> None:
    if isinstance(source, ItemResource):
        parent = await tx.get_collection(dest_store_path.rsplit("/", 1)[0] + "/")
        if parent is None:
            raise DavError(409, "destination parent does not exist")
        found = await tx.read_item(source.collection.id, source.item.name)
        if found is None:
            raise DavError(404, "source vanished")
        if move:  # first, so that renaming inside a calendar does not clash with the source's own UID
            await tx.delete_item(source.collection.id, source.item.name)
            await tx.delete_locks(source.path)
        await store_copy(ctx, tx, found, parent, dest_store_path.rsplit("/", 1)[1])
        return
    assert isinstance(source, CollectionResource)
    if move:
        await tx.delete_locks(source.path)
        await tx.move_collection(source.path, dest_store_path)
    else:
        await copy_collection(ctx, tx, source.collection, dest_store_path, recursive)


async def copy_item(
    ctx: DavContext, tx: Transaction, source: Collection, name: str, dest: Collection, dest_name: str
) -> None:
    found = await tx.read_item(source.id, name)
    if found is None:
        raise DavError(404, "source vanished")
    await store_copy(ctx, tx, found, dest, dest_name)


async def store_copy(
    ctx: DavContext, tx: Transaction, found: tuple[Item, bytes], dest: Collection, dest_name: str
) -> None:
    """Write a copy through the destination's checks (a calendar validates it); a UID clash is a 409."""
    item, data = found
    write = ItemWrite(dest_name, data, item.content_type, item.uid, item.properties)
    try:
        await tx.put_item(dest.id, await ctx.registry.prepare_item(ctx, dest, write))
    except UidConflict as conflict:
        raise uid_conflict(ctx.registry, dest, conflict) from None


async def copy_collection(
    ctx: DavContext, tx: Transaction, source: Collection, dest_path: str, recursive: bool
) -> None:
    created = await tx.create_collection(source.account_id, dest_path, source.kind, source.properties)
    if not recursive:
        return
    after = ""
    while page := await tx.list_items(source.id, after=after, limit=PAGE_SIZE):
        for item in page:
            await copy_item(ctx, tx, source, item.name, created, item.name)
        after = page[-1].name
    for child in await tx.list_child_collections(source.path):
        await copy_collection(ctx, tx, child, dest_path + child.name + "/", True)
