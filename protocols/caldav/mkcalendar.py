"""MKCALENDAR (RFC 4791 §5.3.1): a calendar collection in the user's calendar home, with initial properties."""

from __future__ import annotations

from starlette.responses import Response

from protocols.caldav.properties import CALENDAR_KIND, caldav, calendar_home_path
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.methods.mkcol import make_collection
from protocols.webdav.requests import expect_root, parse_body, property_updates
from protocols.webdav.resources import Resource, UnmappedResource
from protocols.webdav.xml import dav
from storage.api import parent_of


def check_location(ctx: DavContext, path: str) -> None:
    """RFC 4791 §4.2, §5.3.1.1: calendars live directly in the user's calendar home (made by MKCALENDAR or
    extended MKCOL, or copied and moved there), never in a file area or inside another calendar."""
    if parent_of(path) != calendar_home_path(ctx.user):
        raise DavError(403, condition=caldav("calendar-collection-location-ok"))


async def mkcalendar(ctx: DavContext, resource: Resource) -> Response:
    if not isinstance(resource, UnmappedResource):
        raise DavError(405, "something already exists here")
    check_location(ctx, resource.path)
    body = await ctx.body()
    updates = []
    if body.strip():
        root = parse_body(body)
        expect_root(root, caldav("mkcalendar"))
        updates = [u for u in property_updates(root) if u.name != dav("resourcetype")]
    return await make_collection(ctx, resource, updates, CALENDAR_KIND, caldav("mkcalendar-response"))
