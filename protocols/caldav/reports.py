"""CalDAV REPORTs (RFC 4791 §7.8 to 7.10): calendar-query, calendar-multiget and free-busy-query.

calendar-query asks the store for candidates by index (component type and time span) and evaluates the exact
filter only on those, so a one-week query reads one week of objects whatever the calendar's size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import tzinfo

from lxml import etree
from starlette.responses import Response

from protocols.caldav import filters
from protocols.caldav.caldata import calendar_data_request, parse_range
from protocols.caldav.objects import floating_timezone
from protocols.caldav.properties import caldav, is_calendar, zone_by_id
from protocols.formats import ical
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.filtering import report_filter
from protocols.webdav.multiget import multiget
from protocols.webdav.multistatus import propstat_response, streamed_multistatus
from protocols.webdav.parsed import ParsedBodies
from protocols.webdav.propcontext import PropContext
from protocols.webdav.propstat import prop_context, render
from protocols.webdav.registry import DavRegistry, ReportDef
from protocols.webdav.requests import PropfindRequest, parse_prop_request
from protocols.webdav.resources import CollectionResource, ItemResource, Resource, collection_of
from protocols.webdav.xml import CALDAV, dav
from storage.api import Collection, Item

BATCH = 200
PARSED_CALENDARS = ParsedBodies(ical.parse_calendar)
"""Calendar objects filtered lately, by ETag: a repeated query re-parses none of them."""


async def report_context(ctx: DavContext, collection: Collection, root: etree._Element) -> PropContext:
    async with ctx.store.read() as tx:
        pctx = await prop_context(ctx, tx, collection.path)
    return replace(pctx, prop_requests=calendar_data_request(root.find(dav("prop"))))


def query_timezone(root: etree._Element, collection: Collection) -> tzinfo:
    """RFC 4791 §7.3 / RFC 7809 §5.2: the request's zone for floating times, else the calendar's."""
    zone = zone_by_id((root.findtext(caldav("timezone-id")) or "").strip())
    if zone is None and (text := root.findtext(caldav("timezone"))):
        zone = ical.vtimezone_tzinfo(text)
    return zone or floating_timezone(collection)


def calendar_of(resource: Resource) -> Collection:
    assert isinstance(resource, CollectionResource | ItemResource)
    return collection_of(resource)


async def calendar_query(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    collection = calendar_of(resource)
    request = parse_prop_request(root)
    query = report_filter(root, CALDAV, filters.parse_filter)
    zone = query_timezone(root, collection)
    pctx = await report_context(ctx, collection, root)
    hint = filters.index_hint(query)
    async with ctx.store.read() as tx:
        if isinstance(resource, ItemResource):
            candidates = [resource.item]
        else:
            candidates = await tx.query_items(collection.id, component=hint.component, start=hint.start, end=hint.end)
    return streamed_multistatus(query_responses(ctx, pctx, collection, candidates, query, zone, request))


async def query_responses(
    ctx: DavContext,
    pctx: PropContext,
    collection: Collection,
    candidates: list[Item],
    query: filters.Filter,
    zone: tzinfo,
    request: PropfindRequest,
) -> AsyncIterator[str]:
    for start in range(0, len(candidates), BATCH):
        async with ctx.store.read() as tx:
            found = await tx.read_items(collection.id, [item.name for item in candidates[start : start + BATCH]])
        for item, data in sorted(found, key=lambda pair: pair[0].name):
            try:
                if not filters.matches(query, PARSED_CALENDARS.get(item, data), zone):
                    continue
            except ical.CalendarDataError:
                continue
            resource = ItemResource(collection.path + item.name, collection, item, data)
            yield propstat_response(resource.href, render(pctx, resource, request))


async def calendar_multiget(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    collection = calendar_of(resource)
    return multiget(ctx, await report_context(ctx, collection, root), collection, root)


async def free_busy_query(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    """RFC 4791 §7.10: a VFREEBUSY of the calendar's busy time in the range, from index candidates only."""
    collection = calendar_of(resource)
    time_range = root.find(caldav("time-range"))
    if time_range is None:
        raise DavError(400, "free-busy-query needs a time-range")
    start, end = parse_range(time_range)
    zone = floating_timezone(collection)
    periods: list[tuple] = []
    async with ctx.store.read() as tx:
        candidates = await tx.query_items(collection.id, start=int(start.timestamp()), end=int(end.timestamp()))
    for first in range(0, len(candidates), BATCH):
        async with ctx.store.read() as tx:
            found = await tx.read_items(collection.id, [item.name for item in candidates[first : first + BATCH]])
        for item, data in found:
            try:
                periods += ical.freebusy_periods(PARSED_CALENDARS.get(item, data), start, end, zone)
            except ical.CalendarDataError:
                continue
    return Response(ical.freebusy_calendar(periods, start, end), media_type="text/calendar; charset=utf-8")


def calendar_or_object(resource: Resource) -> bool:
    return is_calendar(resource) or (isinstance(resource, ItemResource) and resource.collection.kind == "calendar")


def register(registry: DavRegistry) -> None:
    registry.add_report(ReportDef(caldav("calendar-query"), calendar_or_object, calendar_query))
    registry.add_report(ReportDef(caldav("calendar-multiget"), calendar_or_object, calendar_multiget))
    registry.add_report(ReportDef(caldav("free-busy-query"), is_calendar, free_busy_query))
