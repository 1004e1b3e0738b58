"""CardDAV live properties (RFC 6352 §6.2, §7) and the principal's address book home."""

from __future__ import annotations

from protocols.services import directory
from protocols.webdav.propcontext import PropContext
from protocols.webdav.properties import href_xml, is_principal
from protocols.webdav.registry import DavRegistry, LiveProperty, PropertyGetter, PropValue
from protocols.webdav.resources import CollectionResource, PrincipalResource, Resource
from protocols.webdav.xml import CARDDAV, Raw, clark

ADDRESSBOOK_KIND = "addressbook"
ADDRESSBOOKS = "addressbooks"
DEFAULT_SLUG = "contacts"


def carddav(local: str) -> str:
    return clark(CARDDAV, local)


def is_addressbook(resource: Resource) -> bool:
    return isinstance(resource, CollectionResource) and resource.collection.kind == ADDRESSBOOK_KIND


def addressbook_home_path(user: str) -> str:
    return f"{ADDRESSBOOKS}/{user}/"


def addressbook_home_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    assert isinstance(resource, PrincipalResource)
    return href_xml(addressbook_home_path(resource.user))


def supported_address_data(ctx: PropContext, resource: Resource) -> PropValue | None:
    """vCard 3.0 (Apple, Google) and 4.0 (Thunderbird); DAVx5 sends 4.0 only when it is listed here."""
    return Raw(
        '<CR:address-data-type content-type="text/vcard" version="3.0"/>'
        '<CR:address-data-type content-type="text/vcard" version="4.0"/>'
    )


def directory_gateway(ctx: PropContext, resource: Resource) -> PropValue | None:
    """RFC 6352 §7.2.2: where the organisation's directory is, for clients that search it (Apple)."""
    return href_xml(directory.PATH)


def fixed(value: str) -> PropertyGetter:
    def getter(ctx: PropContext, resource: Resource) -> PropValue | None:
        return value

    return getter


def register(registry: DavRegistry, max_item_bytes: int) -> None:
    registry.collection_types[ADDRESSBOOK_KIND] = frozenset({carddav("addressbook")})
    registry.add_compliance("addressbook")
    registry.read_only_shared.add(directory.PATH)
    for prop in (
        LiveProperty(carddav("addressbook-home-set"), is_principal, addressbook_home_set),
        LiveProperty(carddav("directory-gateway"), is_principal, directory_gateway),
        LiveProperty(carddav("supported-address-data"), is_addressbook, supported_address_data),
        LiveProperty(carddav("max-resource-size"), is_addressbook, fixed(str(max_item_bytes))),
    ):
        registry.add_property(prop)
