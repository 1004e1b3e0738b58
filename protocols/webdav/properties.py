"""Live properties of RFC 4918, RFC 3744 (the parts clients read), RFC 5397 and RFC 4331."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import formatdate

from protocols.webdav.locking import activelock_xml
from protocols.webdav.paths import href
from protocols.webdav.propcontext import PropContext
from protocols.webdav.registry import DavRegistry, LiveProperty, PropValue
from protocols.webdav.resources import (
    CollectionResource,
    ItemResource,
    NamespaceResource,
    PrincipalResource,
    Resource,
    RootResource,
    principal_path,
)
from protocols.webdav.xml import Raw, dav, element, escape, text_element

OWN_PRIVILEGES = (
    "read",
    "write",
    "write-properties",
    "write-content",
    "bind",
    "unbind",
    "unlock",
    "read-acl",
    "read-current-user-privilege-set",
    "all",
)
READ_PRIVILEGES = ("read", "read-current-user-privilege-set")


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def iso_date(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quoted_etag(etag: str) -> str:
    return f'"{etag}"'


def is_stored(resource: Resource) -> bool:
    return isinstance(resource, CollectionResource | ItemResource)


def is_item(resource: Resource) -> bool:
    return isinstance(resource, ItemResource)


def is_collection(resource: Resource) -> bool:
    return isinstance(resource, CollectionResource)


def is_principal(resource: Resource) -> bool:
    return isinstance(resource, PrincipalResource)


def is_virtual(resource: Resource) -> bool:
    return isinstance(resource, RootResource | NamespaceResource | PrincipalResource)


def anywhere(resource: Resource) -> bool:
    return True


def href_xml(path: str) -> Raw:
    return Raw(text_element(dav("href"), href(path)))


def resourcetype(ctx: PropContext, resource: Resource) -> PropValue | None:
    if isinstance(resource, ItemResource):
        return Raw("")
    if isinstance(resource, PrincipalResource):
        return Raw(element(dav("collection")) + element(dav("principal")))
    kind = resource.collection.kind if isinstance(resource, CollectionResource) else None
    extra = ctx.registry.collection_types.get(kind, frozenset()) if kind else frozenset()
    return Raw(element(dav("collection")) + "".join(element(name) for name in sorted(extra)))


def getetag(ctx: PropContext, resource: Resource) -> PropValue | None:
    assert isinstance(resource, ItemResource)
    return quoted_etag(resource.item.etag)


def getcontenttype(ctx: PropContext, resource: Resource) -> PropValue | None:
    assert isinstance(resource, ItemResource)
    return resource.item.content_type


def getcontentlength(ctx: PropContext, resource: Resource) -> PropValue | None:
    assert isinstance(resource, ItemResource)
    return str(resource.item.size)


def getlastmodified(ctx: PropContext, resource: Resource) -> PropValue | None:
    if isinstance(resource, ItemResource):
        return http_date(resource.item.modified)
    assert isinstance(resource, CollectionResource)
    return http_date(resource.collection.modified)


def creationdate(ctx: PropContext, resource: Resource) -> PropValue | None:
    if isinstance(resource, ItemResource):
        return iso_date(resource.item.created)
    assert isinstance(resource, CollectionResource)
    return iso_date(resource.collection.created)


def displayname(ctx: PropContext, resource: Resource) -> PropValue | None:
    if isinstance(resource, PrincipalResource):
        return (ctx.account.display_name if ctx.account else None) or resource.user
    if isinstance(resource, NamespaceResource):
        return resource.namespace
    return None


def supportedlock(ctx: PropContext, resource: Resource) -> PropValue | None:
    entries = "".join(
        element(
            dav("lockentry"),
            element(dav("lockscope"), element(dav(scope))) + element(dav("locktype"), element(dav("write"))),
        )
        for scope in ("exclusive", "shared")
    )
    return Raw(entries)


def lockdiscovery(ctx: PropContext, resource: Resource) -> PropValue | None:
    return Raw("".join(activelock_xml(lock) for lock in ctx.locks_on(resource.path)))


def owner(ctx: PropContext, resource: Resource) -> PropValue | None:
    """The owning user's principal; shared collections (the directory) belong to no user principal."""
    if any(resource.path.startswith(shared) for shared in ctx.registry.read_only_shared):
        return None
    name = resource.owner_name
    return href_xml(principal_path(name)) if name else None


def current_user_principal(ctx: PropContext, resource: Resource) -> PropValue | None:
    return href_xml(principal_path(ctx.user))


def principal_url(ctx: PropContext, resource: Resource) -> PropValue | None:
    return href_xml(resource.path)


def current_user_privilege_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    privileges = OWN_PRIVILEGES if resource.owner_name == ctx.user and not is_principal(resource) else READ_PRIVILEGES
    return Raw("".join(element(dav("privilege"), element(dav(name))) for name in privileges))


def supported_report_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    return Raw(
        "".join(
            element(dav("supported-report"), element(dav("report"), element(name)))
            for name in ctx.registry.reports_for(resource)
        )
    )


def quota_used_bytes(ctx: PropContext, resource: Resource) -> PropValue | None:
    return str(ctx.used_bytes)


def quota_available_bytes(ctx: PropContext, resource: Resource) -> PropValue | None:
    """Only under a quota: RFC 4331 §3 lets an unlimited account leave it out."""
    if ctx.account is None or ctx.account.quota_bytes is None:
        return None
    return str(max(ctx.account.quota_bytes - ctx.used_bytes, 0))


def register(registry: DavRegistry) -> None:
    stored = is_stored
    for prop in (
        LiveProperty(dav("resourcetype"), anywhere, resourcetype, in_allprop=True),
        LiveProperty(dav("getetag"), is_item, getetag, in_allprop=True),
        LiveProperty(dav("getcontenttype"), is_item, getcontenttype, in_allprop=True),
        LiveProperty(dav("getcontentlength"), is_item, getcontentlength, in_allprop=True),
        LiveProperty(dav("getlastmodified"), stored, getlastmodified, in_allprop=True),
        LiveProperty(dav("creationdate"), stored, creationdate, in_allprop=True),
        LiveProperty(dav("displayname"), is_virtual, displayname, in_allprop=True, protected=False),
        LiveProperty(dav("supportedlock"), stored, supportedlock, in_allprop=True),
        LiveProperty(dav("lockdiscovery"), stored, lockdiscovery, in_allprop=True),
        LiveProperty(dav("owner"), anywhere, owner),
        LiveProperty(dav("current-user-principal"), anywhere, current_user_principal),
        LiveProperty(dav("principal-URL"), is_principal, principal_url),
        LiveProperty(dav("current-user-privilege-set"), anywhere, current_user_privilege_set),
        LiveProperty(dav("supported-report-set"), anywhere, supported_report_set),
        LiveProperty(dav("quota-used-bytes"), is_collection, quota_used_bytes),
        LiveProperty(dav("quota-available-bytes"), is_collection, quota_available_bytes),
    ):
        registry.add_property(prop)


__all__ = ["escape", "http_date", "quoted_etag", "register"]
