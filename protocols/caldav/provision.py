"""The default calendars: an event calendar and a task list, each optional by configuration."""

from __future__ import annotations

from protocols.caldav.properties import CALENDAR_KIND, COMPONENT_SET, components_xml
from protocols.webdav.provision import DefaultCollection
from protocols.webdav.xml import dav, escape


def calendar(slug: str, display_name: str, components: tuple[str, ...]) -> DefaultCollection:
    return DefaultCollection(
        slug,
        CALENDAR_KIND,
        {
            dav("displayname"): f'<D:displayname xmlns:D="DAV:">{escape(display_name)}</D:displayname>',
            COMPONENT_SET: (
                '<C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav">'
                f"{components_xml(components)}</C:supported-calendar-component-set>"
            ),
        },
    )


def default_calendars(calendar_name: str, tasklist_name: str) -> tuple[DefaultCollection, ...]:
    """An empty name leaves that default out."""
    wanted = ((calendar_name, "calendar", ("VEVENT",)), (tasklist_name, "tasks", ("VTODO",)))
    return tuple(calendar(slug, name, components) for name, slug, components in wanted if name)
