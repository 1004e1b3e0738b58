"""The DAV URL space: request paths to store paths and back, normalised so nothing escapes its home.

Store paths are relative to the DAV root without a leading slash; collection paths end in "/".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

DAV_PREFIX = "/dav"
SAFE_CHARS = "/!$&'()*+,;=:@-._~"
_FORBIDDEN = re.compile("[/\x00-\x1f\x7f]")
"""What a decoded segment may not hold: an encoded slash or a control character."""


class BadPath(ValueError):
    """A path that cannot name anything here: traversal, control characters, an encoded slash."""


@dataclass(frozen=True, slots=True)
class DavPath:
    segments: tuple[str, ...]
    trailing_slash: bool

    @property
    def collection_path(self) -> str:
        return "".join(f"{segment}/" for segment in self.segments)

    @property
    def item_path(self) -> str:
        return "/".join(self.segments)

    @property
    def parent_path(self) -> str:
        return "".join(f"{segment}/" for segment in self.segments[:-1])

    @property
    def name(self) -> str:
        return self.segments[-1] if self.segments else ""


def parse_dav_path(raw_path: str) -> DavPath:
    """Split a still-percent-encoded path below the DAV prefix into decoded, normalised segments."""
    if raw_path != DAV_PREFIX and not raw_path.startswith(DAV_PREFIX + "/"):
        raise BadPath("outside the DAV root")
    rest = raw_path[len(DAV_PREFIX) :]
    segments: list[str] = []
    for raw_segment in rest.split("/"):
        try:
            segment = unquote(raw_segment, errors="strict")
        except UnicodeDecodeError as exc:
            raise BadPath("path is not UTF-8") from exc
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise BadPath("path escapes the DAV root")
            segments.pop()
            continue
        if _FORBIDDEN.search(segment):
            raise BadPath("forbidden character in path")
        segments.append(segment)
    return DavPath(tuple(segments), rest.endswith("/") or not segments)


def href(store_path: str) -> str:
    """The percent-encoded URL path of a store path."""
    return DAV_PREFIX + "/" + quote(store_path, safe=SAFE_CHARS)


def member_href(collection_href: str, name: str) -> str:
    """``href(collection path + name)`` from the collection's href: a listing encodes the prefix once."""
    return collection_href + quote(name, safe=SAFE_CHARS)


def destination_path(header: str, request_host: str | None) -> DavPath:
    """Parse a ``Destination`` header (absolute URI or absolute path) into a DAV path."""
    try:
        parts = urlsplit(header.strip())
    except ValueError as exc:  # e.g. an unterminated IPv6 literal: "http://[::1/x"
        raise BadPath("Destination is not a URL") from exc
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise BadPath("unsupported destination scheme")
    if parts.netloc and request_host and parts.netloc.lower() != request_host.lower():
        raise BadPath("destination on another server")
    return parse_dav_path(parts.path or "/")
