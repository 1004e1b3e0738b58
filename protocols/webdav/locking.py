"""Write locks (RFC 4918 §6, §7): who may write where, and the ``If`` header every writing method honours.

Locks live in the store so several gateway processes agree on them. A write is refused with 423 unless the
client submitted (in ``If``) the token of every lock covering what the write changes: the target, its
subtree for DELETE/MOVE, and the parent collection when membership changes. Then the ``If`` header itself
must hold, or the answer is 412.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.ifheader import IfHeader, IfHeaderSyntaxError, ResourceState, evaluate, parse_if_header
from protocols.webdav.paths import DAV_PREFIX, href
from protocols.webdav.xml import dav, element, text_element
from storage.api import Lock, Transaction, parent_of


@dataclass(frozen=True, slots=True)
class WriteTarget:
    path: str
    """Store path the write touches (a collection path covers its subtree)."""
    changes_membership: bool = False
    """Creating or removing the resource also changes its parent collection."""


def activelock_xml(lock: Lock, now: float | None = None) -> str:
    remaining = max(math.ceil(lock.expires - (now or time.time())), 0)
    scope = "exclusive" if lock.exclusive else "shared"
    return element(
        dav("activelock"),
        element(dav("locktype"), element(dav("write")))
        + element(dav("lockscope"), element(dav(scope)))
        + text_element(dav("depth"), "infinity" if lock.depth_infinity else "0")
        + lock.owner_xml
        + text_element(dav("timeout"), f"Second-{remaining}")
        + element(dav("locktoken"), text_element(dav("href"), lock.token))
        + element(dav("lockroot"), text_element(dav("href"), href(lock.path))),
    )


def covers(lock: Lock, path: str) -> bool:
    """Whether the lock's scope includes ``path`` (its root, or below a depth-infinity collection lock)."""
    return lock.path == path or (lock.depth_infinity and lock.path.endswith("/") and path.startswith(lock.path))


def if_header(ctx: DavContext) -> IfHeader | None:
    value = ctx.header("if")
    if value is None:
        return None
    try:
        return parse_if_header(value)
    except IfHeaderSyntaxError as exc:
        raise DavError(400, f"malformed If header: {exc}") from None


async def locks_blocking(tx: Transaction, target: WriteTarget, now: float) -> list[Lock]:
    locks = await tx.locks_affecting(target.path, now)
    if target.changes_membership:
        parent = parent_of(target.path)
        locks += [lock for lock in await tx.locks_affecting(parent, now) if lock.path == parent]
    return locks


async def check_write(ctx: DavContext, tx: Transaction, targets: Sequence[WriteTarget]) -> None:
    """Raise 412 when the If header is false, then 423 for a lock whose token was not submitted."""
    header = if_header(ctx)
    await check_if(ctx, tx, header)
    submitted = header.submitted_tokens if header else frozenset()
    now = time.time()
    for target in targets:
        blocking = await locks_blocking(tx, target, now)
        # RFC 4918 §6.2: each holder of a shared lock may write with its own token, so one submitted token
        # stands for every shared lock rooted at the same resource.
        shared_roots = {
            lock.path
            for lock in blocking
            if not lock.exclusive and lock.token in submitted and lock.principal == ctx.user
        }
        for lock in blocking:
            held = lock.token in submitted or (not lock.exclusive and lock.path in shared_roots)
            if not held or lock.principal != ctx.user:
                raise DavError(
                    423,
                    condition=dav("lock-token-submitted"),
                    condition_inner=text_element(dav("href"), href(lock.path)),
                )


async def check_if(ctx: DavContext, tx: Transaction, header: IfHeader | None) -> None:
    """Evaluate ``If`` (RFC 4918 §10.4) against current etags and locks; false answers 412."""
    if header is None:
        return
    now = time.time()

    async def state(url_path: str) -> ResourceState:
        return await resource_state(ctx, tx, url_path, now)

    if not await evaluate(header, ctx.request.url.path, state):
        raise DavError(412, "If header condition failed")


async def resource_state(ctx: DavContext, tx: Transaction, url_path: str, now: float) -> ResourceState:
    """Etag and covering lock tokens of a decoded URL path; other users' paths look absent."""
    missing = ResourceState(None, frozenset())
    if not url_path.startswith(DAV_PREFIX + "/"):
        return missing
    relative = url_path[len(DAV_PREFIX) + 1 :].strip("/")
    parts = relative.split("/")
    if len(parts) < 2 or parts[1] != ctx.user:
        return missing
    etag: str | None = None
    store_path = relative + "/"
    if await tx.get_collection(store_path) is None:
        store_path = relative
        parent = await tx.get_collection(parent_of(relative))
        item = await tx.get_item(parent.id, parts[-1]) if parent else None
        etag = f'"{item.etag}"' if item else None
    locks = await tx.locks_affecting(store_path, now)
    return ResourceState(etag, frozenset(lock.token for lock in locks if covers(lock, store_path)))
