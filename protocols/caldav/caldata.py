"""The calendar-data property (RFC 4791 §9.6): the stored object, or the part of it a report asked for."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from protocols.caldav.objects import floating_timezone
from protocols.caldav.properties import MAX_DATE_TIME, MIN_DATE_TIME, caldav
from protocols.formats import ical
from protocols.webdav.errors import DavError
from protocols.webdav.propcontext import PropContext
from protocols.webdav.registry import PropValue
from protocols.webdav.resources import ItemResource, Resource
from protocols.webdav.xml import Raw, stored_text

CALENDAR_DATA = caldav("calendar-data")


@dataclass(frozen=True, slots=True)
class CalendarDataRequest:
    spec: ical.CompSpec | None
    expand: tuple[datetime, datetime] | None
    limit_recurrence: tuple[datetime, datetime] | None


def parse_utc(value: str | None) -> datetime:
    """``YYYYMMDDTHHMMSSZ``, the only form RFC 4791 allows in these attributes."""
    try:
        if value is None or not value.endswith("Z"):
            raise ValueError(value)
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise DavError(400, f"bad UTC date-time {value!r}") from None


EARLIEST = parse_utc(MIN_DATE_TIME)
LATEST = parse_utc(MAX_DATE_TIME)


def parse_range(element: etree._Element) -> tuple[datetime, datetime]:
    """A range of expand, limit-recurrence-set or free-busy-query, within the calendar's advertised
    min-date-time and max-date-time (RFC 4791 §7.8 preconditions), so no request can ask for millennia of
    instances."""
    start, end = parse_utc(element.get("start")), parse_utc(element.get("end"))
    if start >= end:
        raise DavError(400, "range start must precede its end")
    if start < EARLIEST:
        raise DavError(403, condition=caldav("min-date-time"))
    if end > LATEST:
        raise DavError(403, condition=caldav("max-date-time"))
    return start, end


def parse_comp(element: etree._Element) -> ical.CompSpec:
    name = (element.get("name") or "").upper()
    if not name:
        raise DavError(400, "comp needs a name")
    props = tuple(
        ((p.get("name") or "").upper(), p.get("novalue", "no") == "yes") for p in element.findall(caldav("prop"))
    )
    return ical.CompSpec(
        name=name,
        allprop=element.find(caldav("allprop")) is not None or not props,
        props=props,
        allcomp=element.find(caldav("allcomp")) is not None or element.find(caldav("comp")) is None,
        comps=tuple(parse_comp(child) for child in element.findall(caldav("comp"))),
    )


def parse_calendar_data_request(element: etree._Element) -> CalendarDataRequest:
    content_type = element.get("content-type", "text/calendar")
    if content_type != "text/calendar" or element.get("version", "2.0") != "2.0":
        raise DavError(403, condition=caldav("supported-calendar-data"))
    comp = element.find(caldav("comp"))
    expand = element.find(caldav("expand"))
    limit = element.find(caldav("limit-recurrence-set"))
    return CalendarDataRequest(
        spec=parse_comp(comp) if comp is not None else None,
        expand=parse_range(expand) if expand is not None else None,
        limit_recurrence=parse_range(limit) if limit is not None else None,
    )


def calendar_data_request(prop: etree._Element | None) -> dict[str, object]:
    """The ``prop_requests`` entry for a report's ``<D:prop>``, if it asks for calendar-data with parameters."""
    element = prop.find(CALENDAR_DATA) if prop is not None else None
    if element is None or (len(element) == 0 and not element.attrib):
        return {}
    return {CALENDAR_DATA: parse_calendar_data_request(element)}


def transformed(resource: ItemResource, data: bytes, request: CalendarDataRequest) -> bytes:
    calendar = ical.parse_calendar(data)
    zone = floating_timezone(resource.collection)
    if request.expand is not None:
        calendar = ical.expand(calendar, *request.expand, zone)
    elif request.limit_recurrence is not None:
        calendar = ical.limit_recurrence_set(calendar, *request.limit_recurrence, zone)
    if request.spec is not None:
        calendar = ical.select(calendar, request.spec)
    return ical.serialize(calendar)


def calendar_data(ctx: PropContext, resource: Resource) -> PropValue | None:
    if not isinstance(resource, ItemResource) or resource.body is None:
        return None
    data = resource.body
    request = ctx.prop_requests.get(CALENDAR_DATA)
    if isinstance(request, CalendarDataRequest):
        # An object stored before validation tightened is handed out as it is.
        with suppress(ical.CalendarDataError):
            data = transformed(resource, data, request)
    return Raw(stored_text(data))
