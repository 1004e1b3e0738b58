"""REPORT (RFC 3253 §3.6): dispatched by the body's document element to a registered report."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.requests import parse_body
from protocols.webdav.resources import Resource
from protocols.webdav.xml import dav


async def report(ctx: DavContext, resource: Resource) -> Response:
    root = parse_body(await ctx.body())
    definition = ctx.registry.reports.get(root.tag)
    if definition is None or not definition.applies_to(resource):
        raise DavError(403, condition=dav("supported-report"))
    return await definition.run(ctx, resource, root)
