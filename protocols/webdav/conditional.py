"""HTTP conditional request headers (RFC 9110 §13) as the store's ``Preconditions``."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from protocols.webdav.context import DavContext
from protocols.webdav.errors import DavError
from storage.api import ANY, Item, Preconditions

_ETAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def parse_etag_list(value: str) -> list[str]:
    """``"a", W/"b"`` -> ``["a", "W/b"]``: a weak tag keeps its marker so it never matches strongly."""
    value = value.strip()
    if value == "*":
        return [ANY]
    tags: list[str] = []
    position = 0
    while position < len(value):
        match = _ETAG.match(value, position)
        if match is None:
            raise DavError(400, "malformed entity-tag list")
        tags.append(("W/" if match.group(1) else "") + match.group(2))
        position = match.end()
    return tags


def preconditions(ctx: DavContext) -> Preconditions:
    if_match = ctx.header("if-match")
    if_none_match = ctx.header("if-none-match")
    return Preconditions(
        if_match=parse_etag_list(if_match) if if_match is not None else None,
        if_none_match=parse_etag_list(if_none_match) if if_none_match is not None else None,
    )


def _http_time(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None  # RFC 9110 §13.1.3: an invalid date is ignored


def check_read(ctx: DavContext, item: Item) -> int | None:
    """For GET/HEAD: 412 or 304 when a condition says so (RFC 9110 §13.2.2 order), else None."""
    conditions = preconditions(ctx)
    if conditions.if_match is not None:
        if ANY not in conditions.if_match and item.etag not in conditions.if_match:
            return 412
    else:
        unmodified_since = _http_time(ctx.header("if-unmodified-since"))
        if unmodified_since is not None and int(item.modified) > unmodified_since:
            return 412
    if conditions.if_none_match is not None:
        weak_match = {tag.removeprefix("W/") for tag in conditions.if_none_match}
        if ANY in weak_match or item.etag in weak_match:
            return 304
    else:
        modified_since = _http_time(ctx.header("if-modified-since"))
        if modified_since is not None and int(item.modified) <= modified_since:
            return 304
    return None
