"""The WebDAV core's registrations: methods, live properties and compliance classes."""

from __future__ import annotations

from protocols.webdav import acl, properties, sync
from protocols.webdav.methods.copymove import copy, move
from protocols.webdav.methods.delete import delete
from protocols.webdav.methods.get import get
from protocols.webdav.methods.lock import lock, unlock
from protocols.webdav.methods.mkcol import mkcol
from protocols.webdav.methods.options import options
from protocols.webdav.methods.propfind import propfind
from protocols.webdav.methods.proppatch import proppatch
from protocols.webdav.methods.put import put
from protocols.webdav.methods.report import report
from protocols.webdav.registry import DavRegistry
from protocols.webdav.resources import CollectionResource, ItemResource, Resource, UnmappedResource


def stored(resource: Resource) -> bool:
    return isinstance(resource, CollectionResource | ItemResource)


def exists(resource: Resource) -> bool:
    return resource.exists


def unmapped(resource: Resource) -> bool:
    return isinstance(resource, UnmappedResource)


def putable(resource: Resource) -> bool:
    return isinstance(resource, ItemResource) or (unmapped(resource) and not resource.is_collection)


def lockable(resource: Resource) -> bool:
    return stored(resource) or unmapped(resource)


def everywhere(resource: Resource) -> bool:
    return True


def webdav_registry() -> DavRegistry:
    registry = DavRegistry()
    registry.add_compliance("1", "2", "3", "access-control", "extended-mkcol")
    for name, handler, allowed_on in (
        ("OPTIONS", options, everywhere),
        ("GET", get, exists),
        ("HEAD", get, exists),
        ("PUT", put, putable),
        ("DELETE", delete, stored),
        ("PROPFIND", propfind, exists),
        ("PROPPATCH", proppatch, stored),
        ("MKCOL", mkcol, unmapped),
        ("COPY", copy, stored),
        ("MOVE", move, stored),
        ("LOCK", lock, lockable),
        ("UNLOCK", unlock, stored),
    ):
        registry.add_method(name, handler, allowed_on)
    registry.add_method("REPORT", report, lambda resource: bool(registry.reports_for(resource)))
    properties.register(registry)
    sync.register(registry)
    acl.register(registry)
    return registry
