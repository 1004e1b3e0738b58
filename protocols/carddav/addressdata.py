"""The address-data property (RFC 6352 §10.4): the stored vCard, a property subset, or another version."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from lxml import etree

from protocols.carddav.properties import carddav
from protocols.formats import vcard
from protocols.webdav.errors import DavError
from protocols.webdav.propcontext import PropContext
from protocols.webdav.registry import PropValue
from protocols.webdav.resources import ItemResource, Resource
from protocols.webdav.xml import Raw, stored_text

ADDRESS_DATA = carddav("address-data")
VERSIONS = ("3.0", "4.0")


@dataclass(frozen=True, slots=True)
class AddressDataRequest:
    version: str | None
    """Convert to this vCard version; None keeps the stored one."""
    properties: tuple[str, ...] | None
    """Only these properties (plus the required ones); None for all."""


def parse_address_data_request(element: etree._Element) -> AddressDataRequest:
    content_type = element.get("content-type", "text/vcard")
    version = element.get("version")
    if content_type != "text/vcard" or (version is not None and version not in VERSIONS):
        raise DavError(403, condition=carddav("supported-address-data"))
    names = tuple((prop.get("name") or "").upper() for prop in element.findall(carddav("prop")))
    everything = element.find(carddav("allprop")) is not None or not names
    return AddressDataRequest(version, None if everything else names)


def address_data_request(prop: etree._Element | None) -> dict[str, object]:
    """The ``prop_requests`` entry for a report's ``<D:prop>`` asking for address-data with parameters."""
    element = prop.find(ADDRESS_DATA) if prop is not None else None
    if element is None or (len(element) == 0 and not element.attrib):
        return {}
    return {ADDRESS_DATA: parse_address_data_request(element)}


def address_data(ctx: PropContext, resource: Resource) -> PropValue | None:
    if not isinstance(resource, ItemResource) or resource.body is None:
        return None
    data = resource.body
    request = ctx.prop_requests.get(ADDRESS_DATA)
    if isinstance(request, AddressDataRequest):
        # A card stored before validation tightened is handed out as it is.
        with suppress(vcard.VCardDataError):
            if request.version is not None:
                data = vcard.convert(data, request.version)
            if request.properties is not None:
                data = vcard.select_properties(data, request.properties)
    return Raw(stored_text(data))
