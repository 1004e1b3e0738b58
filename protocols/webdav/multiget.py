"""The multiget shape shared by calendar-multiget (RFC 4791 §7.9) and addressbook-multiget (RFC 6352 §8.7).

Hrefs are echoed exactly as sent (Evolution matches them as strings); Depth is ignored (clients.md §11);
an href outside the collection or naming nothing answers 404 for that href alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from lxml import etree
from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.members import named_item_responses
from protocols.webdav.multistatus import status_response, streamed_multistatus
from protocols.webdav.paths import BadPath, destination_path
from protocols.webdav.propcontext import PropContext
from protocols.webdav.requests import PropfindRequest, parse_prop_request
from protocols.webdav.xml import dav
from storage.api import Collection


def member_name(ctx: DavContext, collection: Collection, href: str) -> str | None:
    """The item name an href names inside ``collection``, or None if it points anywhere else."""
    try:
        path = destination_path(href, ctx.header("host"))
    except BadPath:
        return None
    if path.trailing_slash or path.parent_path != collection.path:
        return None
    return path.name


def multiget(ctx: DavContext, pctx: PropContext, collection: Collection, root: etree._Element) -> Response:
    request = parse_prop_request(root)
    names: dict[str, str] = {}
    missing: list[str] = []
    for element in root.findall(dav("href")):
        href = (element.text or "").strip()
        name = member_name(ctx, collection, href)
        if name is None:
            missing.append(href)
        else:
            names[name] = href
    return streamed_multistatus(multiget_responses(ctx, pctx, collection, names, missing, request))


async def multiget_responses(
    ctx: DavContext,
    pctx: PropContext,
    collection: Collection,
    names: dict[str, str],
    missing: list[str],
    request: PropfindRequest,
) -> AsyncIterator[str]:
    async for response in named_item_responses(ctx, pctx, collection, names, request):
        yield response
    for href in missing:
        yield status_response(href, 404)
