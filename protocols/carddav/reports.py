"""CardDAV REPORTs (RFC 6352 §8.6, §8.7): addressbook-query and addressbook-multiget.

addressbook-query asks the store for candidates through the term index when the filter allows it (equality
or prefix on names, addresses, phone numbers, UID), so autocompletion reads only matching cards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from lxml import etree
from starlette.responses import Response

from protocols.carddav import filters
from protocols.carddav.addressdata import address_data_request
from protocols.carddav.properties import ADDRESSBOOK_KIND, carddav, is_addressbook
from protocols.formats import vcard
from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from protocols.webdav.filtering import report_filter
from protocols.webdav.multiget import multiget
from protocols.webdav.multistatus import propstat_response, status_response, streamed_multistatus
from protocols.webdav.parsed import ParsedBodies
from protocols.webdav.propcontext import PropContext
from protocols.webdav.propstat import prop_context, render
from protocols.webdav.registry import DavRegistry, ReportDef
from protocols.webdav.requests import PropfindRequest, parse_prop_request
from protocols.webdav.resources import CollectionResource, ItemResource, Resource, collection_of
from protocols.webdav.xml import CARDDAV, dav, element
from storage.api import Collection, Item, TermMatch

BATCH = 200
PARSED_CARDS = ParsedBodies(vcard.parse_vcard)
"""Cards filtered lately, by ETag: a repeated search re-parses none of them."""


def addressbook_of(resource: Resource) -> Collection:
    assert isinstance(resource, CollectionResource | ItemResource)
    return collection_of(resource)


async def report_context(ctx: DavContext, collection: Collection, root: etree._Element) -> PropContext:
    async with ctx.store.read() as tx:
        pctx = await prop_context(ctx, tx, collection.path)
    return replace(pctx, prop_requests=address_data_request(root.find(dav("prop"))))


def parse_limit(root: etree._Element) -> int | None:
    """RFC 6352 §8.6.1: ``<CR:limit><CR:nresults>N</CR:nresults></CR:limit>``."""
    limit = root.find(carddav("limit"))
    if limit is None:
        return None
    try:
        value = int((limit.findtext(carddav("nresults")) or "").strip())
    except ValueError:
        value = 0
    if value < 1:
        raise DavError(400, "limit needs a positive nresults")
    return value


CAPPED = TermMatch(*vcard.CAPPED_TERM)
"""Cards whose terms were cut at vcard.MAX_TERMS: candidates of every index search, the filter decides."""


def term_matches(query: filters.Filter) -> list[TermMatch] | None:
    """The store's candidate terms for a filter, None when it must read every card."""
    terms = filters.index_terms(query)
    if terms is None:
        return None
    return [TermMatch(term.field, term.value, prefix=term.match_type == "starts-with") for term in terms] + [CAPPED]


async def addressbook_query(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    collection = addressbook_of(resource)
    request = parse_prop_request(root)
    query = report_filter(root, CARDDAV, filters.parse_filter)
    limit = parse_limit(root)
    pctx = await report_context(ctx, collection, root)
    terms = term_matches(query)
    async with ctx.store.read() as tx:
        if isinstance(resource, ItemResource):
            candidates = [resource.item]
        elif terms is not None and not terms:
            candidates = []
        elif terms is not None:
            candidates = await tx.query_items(collection.id, terms=terms)
        else:
            candidates = await tx.query_items(collection.id)
    return streamed_multistatus(query_responses(ctx, pctx, resource, collection, candidates, query, request, limit))


async def query_responses(
    ctx: DavContext,
    pctx: PropContext,
    target: Resource,
    collection: Collection,
    candidates: list[Item],
    query: filters.Filter,
    request: PropfindRequest,
    limit: int | None,
) -> AsyncIterator[str]:
    sent = 0
    for start in range(0, len(candidates), BATCH):
        async with ctx.store.read() as tx:
            found = await tx.read_items(collection.id, [item.name for item in candidates[start : start + BATCH]])
        for item, data in sorted(found, key=lambda pair: pair[0].name):
            try:
                if not filters.matches(query, PARSED_CARDS.get(item, data)):
                    continue
            except vcard.VCardDataError:
                continue
            if limit is not None and sent >= limit:
                yield status_response(target.href, 507, element(dav("number-of-matches-within-limits")))
                return
            resource = ItemResource(collection.path + item.name, collection, item, data)
            yield propstat_response(resource.href, render(pctx, resource, request))
            sent += 1


async def addressbook_multiget(ctx: DavContext, resource: Resource, root: etree._Element) -> Response:
    collection = addressbook_of(resource)
    return multiget(ctx, await report_context(ctx, collection, root), collection, root)


def addressbook_or_card(resource: Resource) -> bool:
    return is_addressbook(resource) or (
        isinstance(resource, ItemResource) and resource.collection.kind == ADDRESSBOOK_KIND
    )


def register(registry: DavRegistry) -> None:
    registry.add_report(ReportDef(carddav("addressbook-query"), addressbook_or_card, addressbook_query))
    registry.add_report(ReportDef(carddav("addressbook-multiget"), addressbook_or_card, addressbook_multiget))
