"""Address object resources on write (RFC 6352 §6.3.2): one vCard with a UID, stored as sent, indexed."""

from __future__ import annotations

from dataclasses import replace

from protocols.carddav.properties import addressbook_home_path, carddav
from protocols.formats import vcard
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from storage.api import Collection, ItemWrite, parent_of

VCARD_MEDIA_TYPES = ("text/vcard", "text/x-vcard", "text/directory")


def check_location(ctx: DavContext, path: str) -> None:
    """RFC 6352 §6.3.1: address books live directly in the user's address book home."""
    if parent_of(path) != addressbook_home_path(ctx.user):
        raise DavError(403, condition=carddav("addressbook-collection-location-ok"))


async def prepare_address_object(ctx: DavContext, collection: Collection, write: ItemWrite) -> ItemWrite:
    """The ItemPreparer for address books: refuse what RFC 6352 forbids, add uid and search terms."""
    if len(write.data) > ctx.limits.max_item_bytes:
        raise DavError(403, condition=carddav("max-resource-size"))
    declared = ctx.header("content-type")
    if declared is not None and declared.split(";")[0].strip().lower() not in VCARD_MEDIA_TYPES:
        raise DavError(415, condition=carddav("supported-address-data"))
    try:
        _, index = vcard.index_vcard(write.data)
    except vcard.VCardDataError as error:
        raise DavError(403, error.message, condition=carddav(error.condition)) from None
    content_type = write.content_type if write.content_type.startswith("text/vcard") else "text/vcard"
    return replace(write, content_type=content_type, uid=index.uid, terms=index.terms)
