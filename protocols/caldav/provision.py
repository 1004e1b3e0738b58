"""Default calendars: an event calendar and a task list appear at an account's first login (configurable).

A marker property on the calendar home records that the defaults were made, so a user who deletes them does
not get them back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.auth import Principal
from protocols.caldav.properties import CALENDAR_KIND, COMPONENT_SET, calendar_home_path, components_xml
from protocols.webdav.xml import PRIVATE, clark, dav, escape
from storage.api import Store

DEFAULTS_MADE = clark(PRIVATE, "defaults-created")


@dataclass(frozen=True, slots=True)
class DefaultCalendar:
    slug: str
    display_name: str
    components: tuple[str, ...]


def default_calendars(calendar_name: str, tasklist_name: str) -> tuple[DefaultCalendar, ...]:
    wanted = (
        DefaultCalendar("calendar", calendar_name, ("VEVENT",)),
        DefaultCalendar("tasks", tasklist_name, ("VTODO",)),
    )
    return tuple(calendar for calendar in wanted if calendar.display_name)


def calendar_properties(calendar: DefaultCalendar) -> dict[str, str]:
    return {
        dav("displayname"): f'<D:displayname xmlns:D="DAV:">{escape(calendar.display_name)}</D:displayname>',
        COMPONENT_SET: (
            '<C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f"{components_xml(calendar.components)}</C:supported-calendar-component-set>"
        ),
    }


def provisioner(calendars: tuple[DefaultCalendar, ...]) -> Callable[[Store, Principal], Awaitable[None]]:
    async def create_defaults(store: Store, principal: Principal) -> None:
        home_path = calendar_home_path(principal.name)
        async with store.read() as tx:
            home = await tx.get_collection(home_path)
        if home is None or DEFAULTS_MADE in home.properties:
            return
        async with store.write() as tx:
            home = await tx.get_collection(home_path)
            if home is None or DEFAULTS_MADE in home.properties:
                return
            for calendar in calendars:
                path = f"{home_path}{calendar.slug}/"
                if await tx.get_collection(path) is None:
                    await tx.create_collection(home.account_id, path, CALENDAR_KIND, calendar_properties(calendar))
            marker = f'<g:defaults-created xmlns:g="{PRIVATE}">1</g:defaults-created>'
            await tx.update_collection_properties(home.id, {DEFAULTS_MADE: marker}, ())

    return create_defaults
