"""OPTIONS: what this resource allows and which DAV classes the server speaks, both from the registry."""

from __future__ import annotations

from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.resources import Resource


async def options(ctx: DavContext, resource: Resource) -> Response:
    return Response(
        status_code=200,
        headers={
            "DAV": ", ".join(ctx.registry.compliance),
            "Allow": ", ".join(ctx.registry.allowed_methods(resource)),
            "MS-Author-Via": "DAV",
            "Content-Length": "0",
        },
    )
