"""GET and HEAD: an item's stored bytes with its validators; a collection as a short HTML index."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from protocols.webdav.conditional import check_read
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.methods.propfind import member_resources
from protocols.webdav.properties import http_date, quoted_etag
from protocols.webdav.resources import ItemResource, Resource
from protocols.webdav.xml import escape, escape_attr


async def get(ctx: DavContext, resource: Resource) -> Response:
    if isinstance(resource, ItemResource):
        return await get_item(ctx, resource)
    if resource.exists:
        return index_page(ctx, resource)
    raise DavError(404, "not found")


async def get_item(ctx: DavContext, resource: ItemResource) -> Response:
    item = resource.item
    headers = {"ETag": quoted_etag(item.etag), "Last-Modified": http_date(item.modified)}
    status = check_read(ctx, item)
    if status is not None:
        return Response(status_code=status, headers=headers if status == 304 else {})
    # The stored Content-Type goes out verbatim: Starlette's media_type would append a charset to text/*.
    if ctx.request.method == "HEAD":
        headers["Content-Length"] = str(item.size)
        headers["Content-Type"] = item.content_type
        return Response(status_code=200, headers=headers)
    if resource.body is None:  # resolved without its bytes: not by the DAV endpoint
        raise DavError(404, "not found")
    headers["Content-Type"] = item.content_type
    return Response(resource.body, status_code=200, headers=headers)


def index_page(ctx: DavContext, resource: Resource) -> Response:
    """A browser-friendly listing; members are streamed, so a large folder costs memory of one page."""
    if ctx.request.method == "HEAD":
        return Response(status_code=200, media_type="text/html; charset=utf-8")

    async def body() -> AsyncIterator[bytes]:
        title = escape(resource.href)
        yield f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>".encode()
        yield f"<h1>{title}</h1><ul>".encode()
        async for member in member_resources(ctx, resource):
            label = escape(member.href.rstrip("/").rsplit("/", 1)[-1] + ("/" if member.is_collection else ""))
            yield f"<li><a href='{escape_attr(member.href)}'>{label}</a></li>".encode()
        yield b"</ul></body></html>"

    return StreamingResponse(body(), media_type="text/html; charset=utf-8")
