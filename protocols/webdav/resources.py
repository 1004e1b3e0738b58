"""What a DAV URL names, resolved once per request, with the owner check done in the same step.

A user reaches only their own principal and homes. Anything below another user's name answers 404 whether
or not it exists, so no name leaks.
"""

from __future__ import annotations

from collections.abc import Collection as Container
from dataclasses import dataclass

from protocols.webdav.errors import DavError
from protocols.webdav.paths import DavPath, href
from storage.api import Collection, Item, Transaction

PRINCIPALS = "principals"
HOME_NAMESPACES = ("files", "calendars", "addressbooks")
NAMESPACES = (PRINCIPALS, *HOME_NAMESPACES)


@dataclass(slots=True)
class Resource:
    """What a DAV path names. Read-only by convention, not frozen: a listing builds one per member, and frozen
    dataclasses take eight times as long to construct."""

    path: str
    """Store path: collections end in "/"; the DAV root is ""."""

    @property
    def href(self) -> str:
        return href(self.path)

    @property
    def is_collection(self) -> bool:
        return self.path.endswith("/") or self.path == ""

    @property
    def exists(self) -> bool:
        return True

    @property
    def owner_name(self) -> str | None:
        """The account whose space this is, from the second path segment."""
        parts = self.path.split("/")
        return parts[1] if len(parts) > 1 and parts[1] else None


@dataclass(slots=True)
class RootResource(Resource):
    """``/dav/``: lists the namespaces."""


@dataclass(slots=True)
class NamespaceResource(Resource):
    """``/dav/files/`` and friends: list only the current user's own home."""

    namespace: str


@dataclass(slots=True)
class PrincipalResource(Resource):
    user: str


@dataclass(slots=True)
class CollectionResource(Resource):
    collection: Collection


@dataclass(slots=True)
class ItemResource(Resource):
    collection: Collection
    item: Item
    body: bytes | None = None
    """The stored bytes, when a report fetched them for a property that needs them or a GET resolved it."""


@dataclass(slots=True)
class UnmappedResource(Resource):
    """Nothing is here; ``parent`` is the collection a PUT or MKCOL would create it in, if any."""

    parent: Collection | None
    name: str

    @property
    def exists(self) -> bool:
        return False

    @property
    def is_collection(self) -> bool:
        return self.path.endswith("/")


def collection_of(resource: CollectionResource | ItemResource) -> Collection:
    """The collection a report runs over: the target itself, or the one holding the target item."""
    return resource.collection


def namespace_path(namespace: str) -> str:
    return f"{namespace}/"


def principal_path(user: str) -> str:
    return f"{PRINCIPALS}/{user}/"


async def resolve(
    tx: Transaction, dav_path: DavPath, user: str, shared: Container[str] = (), *, with_body: bool = False
) -> Resource:
    """Map a normalised DAV path to a resource, refusing other users' spaces with a 404 (except the
    ``shared`` collection paths, which a caller reading may pass through). ``with_body`` reads an item's bytes
    along (a GET), in the same query and snapshot."""
    segments = dav_path.segments
    if not segments:
        return RootResource("")
    namespace = segments[0]
    if namespace not in NAMESPACES:
        return UnmappedResource(
            dav_path.collection_path if dav_path.trailing_slash else dav_path.item_path, None, dav_path.name
        )
    if len(segments) == 1:
        return NamespaceResource(namespace_path(namespace), namespace)
    if segments[1] != user and f"{namespace}/{segments[1]}/" not in shared:
        raise DavError(404, "not found")
    if namespace == PRINCIPALS:
        if len(segments) == 2:
            return PrincipalResource(principal_path(user), user)
        return UnmappedResource(dav_path.item_path, None, dav_path.name)
    if len(segments) == 2:
        collection = await tx.get_collection(dav_path.collection_path)
        if collection is not None:
            return CollectionResource(collection.path, collection)
        return UnmappedResource(dav_path.collection_path, None, dav_path.name)
    # Deeper, a path without a trailing slash most often names an item, one with a slash a collection: the
    # likelier is looked up first. (No collection and item share a name: PUT and MKCOL each refuse a name the
    # other holds, so the order changes no answer.)
    found = None
    if not dav_path.trailing_slash:
        found = await tx.get_item_at(dav_path.parent_path, dav_path.name, with_body=with_body)
    if found is None or found[1] is None:
        collection = await tx.get_collection(dav_path.collection_path)
        if collection is not None:
            return CollectionResource(collection.path, collection)
        if dav_path.trailing_slash:
            found = await tx.get_item_at(dav_path.parent_path, dav_path.name, with_body=with_body)
    if found is not None and found[1] is not None:
        return ItemResource(dav_path.item_path, found[0], found[1], found[2])
    path = dav_path.collection_path if dav_path.trailing_slash else dav_path.item_path
    return UnmappedResource(path, found[0] if found else None, dav_path.name)
