"""sync-collection (RFC 6578): what changed in a collection since a token, read from the change log.

Cost follows the number of changes, never the collection's size. A token names the collection and a position
in the account's change log; a token from another collection, one never issued, or one older than the
compacted log is answered 403 ``valid-sync-token`` so the client falls back to a full sync. ``Depth`` is
ignored (Thunderbird sends 1); ``limit`` truncates with a 507 response for the request URI and a token that
resumes where the answer stopped.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from lxml import etree
from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.members import item_responses
from protocols.webdav.multistatus import status_response, streamed_multistatus
from protocols.webdav.paths import href
from protocols.webdav.propcontext import PropContext
from protocols.webdav.propstat import prop_context
from protocols.webdav.registry import DavRegistry, LiveProperty, PropValue, ReportDef
from protocols.webdav.requests import PropfindRequest, property_names
from protocols.webdav.resources import CollectionResource, Resource
from protocols.webdav.xml import CALSERVER, clark, dav, element, text_element
from storage.api import ChangeOp, ChangeSet, Collection, SyncTokenExpired

TOKEN_PREFIX = "http://gateway.invalid/ns/sync/"
_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"(\d+)-(\d+)")


def sync_token(collection: Collection, modseq: int | None = None) -> str:
    """The token for a collection's current state (or a given position)."""
    return f"{TOKEN_PREFIX}{collection.id}-{collection.modseq if modseq is None else modseq}"


def invalid_token() -> DavError:
    return DavError(403, condition=dav("valid-sync-token"))


def parse_token(text: str, collection: Collection) -> int:
    """Position in the change log; 0 for an initial sync."""
    text = text.strip()
    if not text:
        return 0
    match = _TOKEN.fullmatch(text)
    if match is None or int(match.group(1)) != collection.id:
        raise invalid_token()
    return int(match.group(2))


def parse_limit(root: etree._Element) -> int | None:
    limit = root.find(dav("limit"))
    if limit is None:
        return None
    nresults = limit.find(dav("nresults"))
    try:
        value = int((nresults.text or "").strip()) if nresults is not None else -1
    except ValueError:
        value = -1
    if value < 1:
        raise DavError(400, "limit needs a positive nresults")
    return value


def parse_request(root: etree._Element) -> PropfindRequest:
    prop = root.find(dav("prop"))
    if prop is None:
        raise DavError(400, "sync-collection needs a prop element")
    level = root.find(dav("sync-level"))
    if level is not None and (level.text or "").strip() not in ("1", ""):
        raise DavError(403, condition=dav("sync-traversal-supported"))
    return PropfindRequest("prop", property_names(prop))


async def sync_collection(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    assert isinstance(resource, CollectionResource)
    collection = resource.collection
    token_element = root.find(dav("sync-token"))
    token = parse_token(token_element.text or "" if token_element is not None else "", collection)
    request = parse_request(root)
    limit = parse_limit(root)
    async with ctx.store.read() as tx:
        try:
            changes = await tx.changes_since(collection.id, token, limit)
        except SyncTokenExpired:
            raise invalid_token() from None
        pctx = await prop_context(ctx, tx, collection.path)
    return streamed_multistatus(responses(ctx, pctx, resource, changes, request))


async def responses(
    ctx: DavContext, pctx: PropContext, resource: CollectionResource, changes: ChangeSet, request: PropfindRequest
) -> AsyncIterator[str]:
    collection = resource.collection
    present = [change.name for change in changes.changes if change.op is not ChangeOp.DELETED]
    async with ctx.store.read() as tx:
        items = {item.name: item for item in await tx.get_items(collection.id, present)}
    for change in changes.changes:
        if change.name not in items:
            yield status_response(href(collection.path + change.name), 404)
    async for response in item_responses(ctx, pctx, collection, list(items.values()), request):
        yield response
    if changes.more:
        yield status_response(resource.href, 507, element(dav("number-of-matches-within-limits")))
    yield text_element(dav("sync-token"), sync_token(collection, changes.token))


def is_collection(resource: Resource) -> bool:
    return isinstance(resource, CollectionResource)


def current_token(pctx: PropContext, resource: Resource) -> PropValue | None:
    assert isinstance(resource, CollectionResource)
    return sync_token(resource.collection)


def register(registry: DavRegistry) -> None:
    registry.add_report(ReportDef(dav("sync-collection"), is_collection, sync_collection))
    registry.add_property(LiveProperty(dav("sync-token"), is_collection, current_token))
    registry.add_property(LiveProperty(clark(CALSERVER, "getctag"), is_collection, current_token))
