"""The parts of WebDAV ACL (RFC 3744) that clients read to find principals.

``principal-collection-set`` says where principals live; ``principal-property-search`` (§9.4) and
``principal-search-property-set`` (§9.5) let a client look one up by name. A user sees only their own principal
(the organisation's directory is served by CardDAV), so a search can only ever find the searcher.
"""

from __future__ import annotations

import re

from lxml import etree
from starlette.responses import Response

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.multistatus import multistatus, propstat_response
from protocols.webdav.propcontext import PropContext
from protocols.webdav.properties import anywhere, href_xml
from protocols.webdav.propstat import prop_context, render
from protocols.webdav.registry import DavRegistry, LiveProperty, PropValue, ReportDef
from protocols.webdav.requests import PropfindRequest, property_names
from protocols.webdav.resources import (
    PRINCIPALS,
    NamespaceResource,
    PrincipalResource,
    Resource,
    RootResource,
    namespace_path,
    principal_path,
)
from protocols.webdav.xml import Raw, dav, document, element, text_of

SEARCHABLE = {dav("displayname"): "Display name"}
_TAGS = re.compile(r"<[^>]+>")


def principal_collection_set(ctx: PropContext, resource: Resource) -> PropValue | None:
    return href_xml(namespace_path(PRINCIPALS))


def searchable_from(resource: Resource) -> bool:
    return isinstance(resource, RootResource | PrincipalResource) or (
        isinstance(resource, NamespaceResource) and resource.namespace == PRINCIPALS
    )


def value_text(pctx: PropContext, principal: PrincipalResource, name: str) -> str:
    """A property's value as plain text, for substring matching."""
    prop = pctx.registry.properties.get(name)
    value = prop.get(pctx, principal) if prop is not None and prop.applies_to(principal) else None
    if value is None:
        return ""
    return _TAGS.sub(" ", value.xml) if isinstance(value, Raw) else value


def search_terms(root: etree._Element) -> list[tuple[tuple[str, ...], str]]:
    terms = []
    for search in root.findall(dav("property-search")):
        prop = search.find(dav("prop"))
        match = search.find(dav("match"))
        if prop is None or match is None:
            raise DavError(400, "property-search needs prop and match")
        terms.append((property_names(prop), text_of(match).casefold()))
    return terms


def matches(
    pctx: PropContext, principal: PrincipalResource, terms: list[tuple[tuple[str, ...], str]], any_of: bool
) -> bool:
    """RFC 3744 §9.4: a case-insensitive substring match on any named property of each term."""
    results = [any(needle in value_text(pctx, principal, name).casefold() for name in names) for names, needle in terms]
    return any(results) if any_of else all(results)


STRUCTURE = {dav("property-search"), dav("prop"), dav("apply-to-principal-collection-set")}


def requested_names(root: etree._Element) -> tuple[str, ...]:
    """The ``prop`` children; python-caldav puts the names beside an empty ``prop``, so those count too."""
    prop = root.find(dav("prop"))
    names = property_names(prop) if prop is not None else ()
    return names or tuple(child.tag for child in root if isinstance(child.tag, str) and child.tag not in STRUCTURE)


async def principal_property_search(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    """Without any property-search (RFC 3744 wants one) every visible principal is listed: only one's own."""
    terms = search_terms(root)
    request = PropfindRequest("prop", requested_names(root))
    principal = PrincipalResource(principal_path(ctx.user), ctx.user)
    async with ctx.store.read() as tx:
        pctx = await prop_context(ctx, tx, principal.path)
    found = matches(pctx, principal, terms, root.get("test", "allof") == "anyof") if terms else True
    responses = [propstat_response(principal.href, render(pctx, principal, request))] if found else []
    return multistatus(responses)


async def principal_search_property_set(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    entries = "".join(
        element(
            dav("principal-search-property"),
            element(dav("prop"), element(name)) + f'<D:description xml:lang="en">{label}</D:description>',
        )
        for name, label in SEARCHABLE.items()
    )
    return Response(
        document(dav("principal-search-property-set"), entries), media_type="application/xml; charset=utf-8"
    )


def register(registry: DavRegistry) -> None:
    registry.add_property(LiveProperty(dav("principal-collection-set"), anywhere, principal_collection_set))
    registry.add_report(ReportDef(dav("principal-property-search"), searchable_from, principal_property_search))
    registry.add_report(ReportDef(dav("principal-search-property-set"), searchable_from, principal_search_property_set))
