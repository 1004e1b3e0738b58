"""CardDAV's registrations beside the WebDAV core: properties, reports, writes, the default address book."""

from __future__ import annotations

from protocols.carddav import properties, reports
from protocols.carddav.addressdata import ADDRESS_DATA, address_data
from protocols.carddav.objects import check_location, prepare_address_object
from protocols.carddav.properties import ADDRESSBOOK_KIND, ADDRESSBOOKS, DEFAULT_SLUG, carddav
from protocols.webdav.provision import DefaultCollection, provisioner
from protocols.webdav.registry import DavRegistry, LiveProperty
from protocols.webdav.resources import ItemResource, Resource
from protocols.webdav.xml import dav, escape


def is_address_object(resource: Resource) -> bool:
    return isinstance(resource, ItemResource) and resource.collection.kind == ADDRESSBOOK_KIND


def default_addressbook(display_name: str) -> DefaultCollection:
    name = f'<D:displayname xmlns:D="DAV:">{escape(display_name)}</D:displayname>'
    return DefaultCollection(DEFAULT_SLUG, ADDRESSBOOK_KIND, {dav("displayname"): name})


def register(registry: DavRegistry, max_item_bytes: int, addressbook_name: str) -> None:
    properties.register(registry, max_item_bytes)
    reports.register(registry)
    registry.location_checks[ADDRESSBOOK_KIND] = check_location
    registry.item_preparers[ADDRESSBOOK_KIND] = prepare_address_object
    registry.uid_conflict_conditions[ADDRESSBOOK_KIND] = carddav("no-uid-conflict")
    registry.add_property(LiveProperty(ADDRESS_DATA, is_address_object, address_data, needs_body=True))
    if addressbook_name:
        registry.first_login_hooks.append(provisioner(ADDRESSBOOKS, (default_addressbook(addressbook_name),)))
