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
    ctx: DavContext,
    pctx: PropContext,
    collection: Collection,
    items: Sequence[Item],
    request: PropfindRequest,
    hrefs: Mapping[str, str] | None = None,
) -> AsyncIterator[str]:
    """One propstat response per item, in the order given; bodies read ``BATCH`` at a time when needed.
    ``hrefs`` maps names to the exact href a client sent, to be echoed instead of the canonical one."""
    hrefs = hrefs or {}
    prefix = href(collection.path)
    with_bodies = needs_bodies(pctx, request)
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        bodies: dict[str, tuple[Item, bytes]] = {}
        if with_bodies:
            async with ctx.store.read() as tx:
                found = await tx.read_items(collection.id, [item.name for item in batch])
            bodies = {item.name: (item, data) for item, data in found}
        for item in batch:
            if with_bodies:
                if item.name not in bodies:
                    yield status_response(hrefs.get(item.name) or member_href(prefix, item.name), 404)
                    continue
                current, data = bodies[item.name]
                resource = ItemResource(collection.path + current.name, collection, current, data)
            else:
                resource = ItemResource(collection.path + item.name, collection, item)
            item_href = hrefs.get(item.name) or member_href(prefix, item.name)
            yield propstat_response(item_href, render(pctx, resource, request))
