"""Responses for a batch of items in a report, fetching bodies only when a requested property needs them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from protocols.webdav.context import DavContext
from protocols.webdav.multistatus import propstat_response, status_response
from protocols.webdav.paths import href, member_href
from protocols.webdav.propcontext import PropContext
from protocols.webdav.propstat import render
from protocols.webdav.requests import PropfindRequest
from protocols.webdav.resources import ItemResource
from storage.api import Collection, Item

BATCH = 200


def needs_bodies(pctx: PropContext, request: PropfindRequest) -> bool:
    properties = pctx.registry.properties
    if request.mode == "allprop":
        return any(p.needs_body and p.in_allprop for p in properties.values())
    return any(name in properties and properties[name].needs_body for name in request.names)


async def item_responses(
    ctx: DavContext, pctx: PropContext, collection: Collection, items: Sequence[Item], request: PropfindRequest
) -> AsyncIterator[str]:
    """One propstat response per item, in the order given; bodies read ``BATCH`` at a time when needed."""
    known = {item.name: item for item in items}
    async for response in _responses(ctx, pctx, collection, list(known), request, {}, known):
        yield response


async def named_item_responses(
    ctx: DavContext, pctx: PropContext, collection: Collection, hrefs: Mapping[str, str], request: PropfindRequest
) -> AsyncIterator[str]:
    """A response per item ``hrefs`` names (name -> the href the client sent, echoed back), a 404 for each
    that is not there; metadata and (when needed) bodies are read together, ``BATCH`` at a time."""
    async for response in _responses(ctx, pctx, collection, list(hrefs), request, hrefs, None):
        yield response


async def _responses(
    ctx: DavContext,
    pctx: PropContext,
    collection: Collection,
    names: list[str],
    request: PropfindRequest,
    hrefs: Mapping[str, str],
    known: Mapping[str, Item] | None,
) -> AsyncIterator[str]:
    prefix = href(collection.path)
    with_bodies = needs_bodies(pctx, request)
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        found: list[tuple[Item, bytes | None]]
        if with_bodies or known is None:
            async with ctx.store.read() as tx:
                if with_bodies:
                    found = list(await tx.read_items(collection.id, batch))
                else:
                    found = [(item, None) for item in await tx.get_items(collection.id, batch)]
        else:
            found = [(known[name], None) for name in batch]
        by_name = {item.name: (item, data) for item, data in found}
        for name in batch:
            item_href = hrefs.get(name) or member_href(prefix, name)
            pair = by_name.get(name)
            if pair is None:
                yield status_response(item_href, 404)
                continue
            resource = ItemResource(collection.path + name, collection, pair[0], pair[1])
            yield propstat_response(item_href, render(pctx, resource, request))
