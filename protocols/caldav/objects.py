"""Calendar object resources on write (RFC 4791 §5.3.2): validated, one UID per resource, indexed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, tzinfo

from protocols.caldav.properties import (
    COMPONENT_SET,
    SUPPORTED_COMPONENTS,
    TIMEZONE,
    TIMEZONE_ID,
    caldav,
    zone_by_id,
)
from protocols.formats import ical
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.xml import XmlError, parse, text_of
from storage.api import Collection, ItemWrite

CALENDAR_MEDIA_TYPE = "text/calendar"


def property_text(collection: Collection, name: str) -> str | None:
    """Text content of a dead property stored as XML, or None."""
    stored = collection.properties.get(name)
    if not stored:
        return None
    try:
        return text_of(parse(stored.encode())) or None
    except XmlError:
        return None


def allowed_components(collection: Collection) -> frozenset[str]:
    """RFC 4791 §5.2.3: without the property every supported component type is accepted."""
    stored = collection.properties.get(COMPONENT_SET)
    if not stored:
        return frozenset(SUPPORTED_COMPONENTS)
    try:
        root = parse(stored.encode())
    except XmlError:
        return frozenset(SUPPORTED_COMPONENTS)
    return frozenset(comp.get("name", "").upper() for comp in root.iter(caldav("comp")))


def floating_timezone(collection: Collection) -> tzinfo:
    """The zone that floating times and all-day dates of this calendar are read in (RFC 4791 §5.2.2, RFC 7809)."""
    zone = zone_by_id(property_text(collection, TIMEZONE_ID))
    if zone is None:
        vtimezone = property_text(collection, TIMEZONE)
        zone = ical.vtimezone_tzinfo(vtimezone) if vtimezone else None
    return zone or UTC


def check_media_type(ctx: DavContext) -> None:
    declared = ctx.header("content-type")
    if declared is not None and declared.split(";")[0].strip().lower() != CALENDAR_MEDIA_TYPE:
        raise DavError(415, condition=caldav("supported-calendar-data"))


async def prepare_calendar_object(ctx: DavContext, collection: Collection, write: ItemWrite) -> ItemWrite:
    """The ItemPreparer for calendar collections: refuse what RFC 4791 forbids, add uid and index fields."""
    if len(write.data) > ctx.limits.max_item_bytes:
        raise DavError(403, condition=caldav("max-resource-size"))
    check_media_type(ctx)
    try:
        _, index = ical.index_calendar_object(write.data, allowed_components(collection))
    except ical.CalendarDataError as error:
        raise DavError(403, error.message, condition=caldav(error.condition)) from None
    content_type = write.content_type if write.content_type.startswith(CALENDAR_MEDIA_TYPE) else CALENDAR_MEDIA_TYPE
    return replace(write, content_type=content_type, uid=index.uid, component=index.component, spans=index.spans)
