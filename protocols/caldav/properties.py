"""CalDAV live properties (RFC 4791 §5.2, §6; RFC 6638 §2, §9; RFC 7809) and the principal's home set."""

from __future__ import annotations

import re
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from protocols.formats import ical
from protocols.webdav.errors import PropertyRejected
from protocols.webdav.propcontext import PropContext
from protocols.webdav.properties import href_xml, is_principal
from protocols.webdav.registry import DavRegistry, LiveProperty, PropertyGetter, PropValue
from protocols.webdav.requests import PropertyUpdate
from protocols.webdav.resources import CollectionResource, PrincipalResource, Resource
from protocols.webdav.xml import APPLE_ICAL, CALDAV, Raw, clark, dav, element, escape, text_element, text_of

CALENDAR_KIND = "calendar"
CALENDARS = "calendars"
SUPPORTED_COMPONENTS = ("VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY")
MIN_DATE_TIME = "19000101T000000Z"
MAX_DATE_TIME = "21001231T235959Z"
MAX_INSTANCES = 100_000
MAX_ATTENDEES = 1_000


def caldav(local: str) -> str:
    return clark(CALDAV, local)


COMPONENT_SET = caldav("supported-calendar-component-set")
TIMEZONE = caldav("calendar-timezone")
TIMEZONE_ID = caldav("calendar-timezone-id")
TRANSPARENCY = caldav("schedule-calendar-transp")
COLOR = clark(APPLE_ICAL, "calendar-color")
ORDER = clark(APPLE_ICAL, "calendar-order")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")
_ORDER = re.compile(r"[+-]?[0-9]{1,9}")


def zone_by_id(tzid: str | None) -> tzinfo | None:
    if not tzid:
        return None
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_calendar(resource: Resource) -> bool:
    return isinstance(resource, CollectionResource) and resource.collection.kind == CALENDAR_KIND


def calendar_home_path(user: str) -> str:
    return f"{CALENDARS}/{user}/"


def components_xml(names: tuple[str, ...]) -> str:
    return "".join(f'<C:comp name="{escape(name)}"/>' for name in names)


def calendar_home_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    assert isinstance(resource, PrincipalResource)
    return href_xml(calendar_home_path(resource.user))


def calendar_user_address_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    """The account's mail addresses, primary first (DAVx5 takes the first mailto: as the organizer), then the
    principal URL."""
    assert isinstance(resource, PrincipalResource)
    mailtos = "".join(text_element(dav("href"), f"mailto:{address}") for address in ctx.addresses)
    return Raw(mailtos + href_xml(f"principals/{resource.user}/").xml)


def calendar_user_type(ctx: PropContext, resource: Resource) -> PropValue | None:
    return "INDIVIDUAL"


def supported_calendar_data(ctx: PropContext, resource: Resource) -> PropValue | None:
    return Raw('<C:calendar-data content-type="text/calendar" version="2.0"/>')


def fixed(value: str) -> PropertyGetter:
    def getter(ctx: PropContext, resource: Resource) -> PropValue | None:
        return value

    return getter


def default_component_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    """RFC 4791 §5.2.3: a calendar made without an explicit set accepts every supported component type."""
    return Raw(components_xml(SUPPORTED_COMPONENTS))


def schedule_calendar_transp(ctx: PropContext, resource: Resource) -> PropValue | None:
    return Raw(element(caldav("opaque")))


def no_default(ctx: PropContext, resource: Resource) -> PropValue | None:
    """Writable properties without a server default: answered from the stored value, else 404."""
    return None


def element_text(update: PropertyUpdate) -> str:
    return text_of(update.element) if update.element is not None else ""


def check_component_set(update: PropertyUpdate) -> None:
    names = [c.get("name", "").upper() for c in update.element.iter(caldav("comp"))] if update.element else []
    if not names or any(name not in SUPPORTED_COMPONENTS for name in names):
        raise PropertyRejected(update.name, 403, caldav("supported-calendar-component"))


def check_timezone(update: PropertyUpdate) -> None:
    if ical.vtimezone_tzinfo(element_text(update)) is None:
        raise PropertyRejected(update.name, 403, caldav("valid-calendar-data"))


def check_timezone_id(update: PropertyUpdate) -> None:
    if zone_by_id(element_text(update)) is None:
        raise PropertyRejected(update.name, 403, caldav("valid-timezone"))


def check_color(update: PropertyUpdate) -> None:
    """Apple's ``#RRGGBB`` or ``#RRGGBBAA`` (DAVx5 and Apple send the alpha, Thunderbird does not)."""
    if not _COLOR.fullmatch(element_text(update).strip()):
        raise PropertyRejected(update.name, 409)


def check_order(update: PropertyUpdate) -> None:
    if not _ORDER.fullmatch(element_text(update).strip()):
        raise PropertyRejected(update.name, 409)


def check_transparency(update: PropertyUpdate) -> None:
    children = {child.tag for child in update.element} if update.element is not None else set()
    if children not in ({caldav("opaque")}, {caldav("transparent")}):
        raise PropertyRejected(update.name, 409)


def register(registry: DavRegistry, max_item_bytes: int) -> None:
    registry.collection_types[CALENDAR_KIND] = frozenset({caldav("calendar")})
    registry.add_compliance("calendar-access")
    for prop in (
        LiveProperty(caldav("calendar-home-set"), is_principal, calendar_home_set),
        LiveProperty(caldav("calendar-user-address-set"), is_principal, calendar_user_address_set),
        LiveProperty(caldav("calendar-user-type"), is_principal, calendar_user_type),
        LiveProperty(caldav("supported-calendar-data"), is_calendar, supported_calendar_data),
        LiveProperty(
            COMPONENT_SET, is_calendar, default_component_set, settable_on_create=True, validate=check_component_set
        ),
        LiveProperty(TIMEZONE, is_calendar, no_default, protected=False, validate=check_timezone),
        LiveProperty(TIMEZONE_ID, is_calendar, no_default, protected=False, validate=check_timezone_id),
        LiveProperty(caldav("max-resource-size"), is_calendar, fixed(str(max_item_bytes))),
        LiveProperty(caldav("min-date-time"), is_calendar, fixed(MIN_DATE_TIME)),
        LiveProperty(caldav("max-date-time"), is_calendar, fixed(MAX_DATE_TIME)),
        LiveProperty(caldav("max-instances"), is_calendar, fixed(str(MAX_INSTANCES))),
        LiveProperty(caldav("max-attendees-per-instance"), is_calendar, fixed(str(MAX_ATTENDEES))),
        LiveProperty(TRANSPARENCY, is_calendar, schedule_calendar_transp, protected=False, validate=check_transparency),
        LiveProperty(COLOR, is_calendar, no_default, protected=False, validate=check_color),
        LiveProperty(ORDER, is_calendar, no_default, protected=False, validate=check_order),
    ):
        registry.add_property(prop)
