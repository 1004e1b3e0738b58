"""The one place that parses and writes DAV XML.

Parsing is locked down: no DTDs, no entity expansion, no network, size bounded by the caller. Writing is
string-based because a multistatus of 10,000 responses must stream quickly; well-known namespaces get fixed
prefixes declared once on the root, anything else is declared where it is used.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape as _escape

from lxml import etree

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
CALSERVER = "http://calendarserver.org/ns/"
APPLE_ICAL = "http://apple.com/ns/ical/"
PRIVATE = "urn:x-groupware-gateway:ns"
"""Server bookkeeping kept among dead properties; never shown to or set by clients."""

PREFIXES: dict[str, str] = {DAV: "D", CALDAV: "C", CARDDAV: "CR", CALSERVER: "CS", APPLE_ICAL: "A"}
ROOT_NAMESPACES = " ".join(f'xmlns:{prefix}="{ns}"' for ns, prefix in PREFIXES.items())

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


class XmlError(ValueError):
    """The body is not acceptable XML; the message is short and safe to show to the client."""


def clark(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def dav(local: str) -> str:
    return clark(DAV, local)


def split_clark(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, local = name[1:].split("}", 1)
        return namespace, local
    return "", name


def parse(body: bytes) -> etree._Element:
    """Parse a request body, refusing DTDs (and so every entity trick) outright."""
    if not body.strip():
        raise XmlError("empty XML body")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"malformed XML: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # type: ignore[union-attr]
        raise XmlError("DTDs are not accepted")
    return root


def escape(text: str) -> str:
    return _escape(text)


def escape_attr(text: str) -> str:
    return _escape(text, {'"': "&quot;"})


@functools.lru_cache(maxsize=1024)
def open_tag(name: str, *, empty: bool = False) -> tuple[str, str]:
    """Start and end tag text for a Clark name, declaring an unknown namespace inline (remembered: a listing
    writes the same few tags for every member)."""
    namespace, local = split_clark(name)
    prefix = PREFIXES.get(namespace)
    close = "/>" if empty else ">"
    if prefix is not None:
        return f"<{prefix}:{local}{close}", f"</{prefix}:{local}>"
    if not namespace:
        return f'<{local} xmlns=""{close}', f"</{local}>"
    return f'<x:{local} xmlns:x="{escape_attr(namespace)}"{close}', f"</x:{local}>"


def element(name: str, inner: str = "") -> str:
    """``inner`` is already-serialised XML (escape text first)."""
    if not inner:
        return open_tag(name, empty=True)[0]
    start, end = open_tag(name)
    return f"{start}{inner}{end}"


def text_element(name: str, text: str) -> str:
    return element(name, escape(text))


def serialize(node: etree._Element) -> str:
    return etree.tostring(node, encoding="unicode", with_tail=False)


def inner_xml(node: etree._Element) -> str:
    """Children and text of an element, each child carrying the namespace declarations it needs."""
    parts = [escape(node.text or "")]
    for child in node:
        parts.append(serialize(child))
        parts.append(escape(child.tail or ""))
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Raw:
    """A property value that is already XML (children of the property element)."""

    xml: str


def document(root_name: str, inner: str) -> bytes:
    """A whole XML document whose root declares the well-known prefixes."""
    namespace, local = split_clark(root_name)
    prefix = PREFIXES[namespace]
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<{prefix}:{local} {ROOT_NAMESPACES}>{inner}</{prefix}:{local}>'
    ).encode()


MULTISTATUS_START = f'<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus {ROOT_NAMESPACES}>'.encode()
MULTISTATUS_END = b"</D:multistatus>"


def error_body(condition: str, inner: str = "") -> bytes:
    """``<D:error>`` naming the precondition or postcondition that failed (RFC 4918 §16)."""
    return document(dav("error"), element(condition, inner))


def children_named(node: etree._Element, name: str) -> Iterable[etree._Element]:
    return (child for child in node if child.tag == name)


def text_of(node: etree._Element) -> str:
    """All text inside an element, stripped."""
    return "".join(str(part) for part in node.itertext()).strip()


def stored_text(data: bytes) -> str:
    """Stored bytes as XML text content; CR is written as a character reference so CRLF survives parsing."""
    return escape(data.decode("utf-8", errors="replace")).replace("\r", "&#13;")
