"""CalDAV's registrations beside the WebDAV core: MKCALENDAR, properties, reports, writes, defaults."""

from __future__ import annotations

from protocols.caldav import properties, reports
from protocols.caldav.caldata import CALENDAR_DATA, calendar_data
from protocols.caldav.mkcalendar import check_location, mkcalendar
from protocols.caldav.objects import prepare_calendar_object
from protocols.caldav.properties import CALENDAR_KIND, CALENDARS, caldav
from protocols.caldav.provision import default_calendars
from protocols.webdav.provision import provisioner
from protocols.webdav.registry import DavRegistry, LiveProperty
from protocols.webdav.resources import ItemResource, Resource, UnmappedResource


def is_calendar_object(resource: Resource) -> bool:
    return isinstance(resource, ItemResource) and resource.collection.kind == CALENDAR_KIND


def unmapped(resource: Resource) -> bool:
    return isinstance(resource, UnmappedResource)


def register(registry: DavRegistry, max_item_bytes: int, calendar_name: str, tasklist_name: str) -> None:
    properties.register(registry, max_item_bytes)
    reports.register(registry)
    registry.add_method("MKCALENDAR", mkcalendar, unmapped)
    registry.location_checks[CALENDAR_KIND] = check_location
    registry.item_preparers[CALENDAR_KIND] = prepare_calendar_object
    registry.uid_conflict_conditions[CALENDAR_KIND] = caldav("no-uid-conflict")
    registry.add_property(LiveProperty(CALENDAR_DATA, is_calendar_object, calendar_data, needs_body=True))
    calendars = default_calendars(calendar_name, tasklist_name)
    if calendars:
        registry.first_login_hooks.append(provisioner(CALENDARS, calendars))
