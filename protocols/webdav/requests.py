"""Request bodies of the WebDAV methods, parsed into frozen dataclasses so handlers never walk raw XML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lxml import etree

from protocols.webdav.errors import DavError
from protocols.webdav.xml import XmlError, dav, inner_xml, parse, serialize


def parse_body(body: bytes) -> etree._Element:
    try:
        return parse(body)
    except XmlError as exc:
        raise DavError(400, str(exc)) from None


def expect_root(root: etree._Element, name: str) -> None:
    if root.tag != name:
        raise DavError(400, f"expected {name} as the document element")


def property_names(prop: etree._Element) -> tuple[str, ...]:
    return tuple(child.tag for child in prop if isinstance(child.tag, str))


@dataclass(frozen=True, slots=True)
class PropfindRequest:
    mode: Literal["allprop", "propname", "prop"]
    names: tuple[str, ...] = ()
    """Requested names (``prop``) or extra names (``allprop`` with ``include``)."""


ALLPROP = PropfindRequest("allprop")


def parse_propfind(body: bytes) -> PropfindRequest:
    """An empty body means allprop (RFC 4918 §9.1)."""
    if not body.strip():
        return ALLPROP
    root = parse_body(body)
    expect_root(root, dav("propfind"))
    return parse_prop_request(root)


def parse_prop_request(root: etree._Element) -> PropfindRequest:
    """The ``prop``, ``allprop`` (with ``include``) or ``propname`` child of a PROPFIND or REPORT body."""
    children = [child for child in root if isinstance(child.tag, str)]
    tags = [child.tag for child in children]
    if dav("propname") in tags:
        return PropfindRequest("propname")
    if dav("allprop") in tags:
        include = next((c for c in children if c.tag == dav("include")), None)
        return PropfindRequest("allprop", property_names(include) if include is not None else ())
    prop = next((c for c in children if c.tag == dav("prop")), None)
    if prop is None:
        raise DavError(400, "expected prop, allprop or propname")
    return PropfindRequest("prop", property_names(prop))


@dataclass(frozen=True, slots=True)
class PropertyUpdate:
    """One ``set`` (with the serialised property element) or ``remove`` instruction, in document order."""

    name: str
    value_xml: str | None
    """The whole property element as XML for ``set``; None for ``remove``."""
    element: etree._Element | None = None


def parse_propertyupdate(body: bytes) -> list[PropertyUpdate]:
    root = parse_body(body)
    expect_root(root, dav("propertyupdate"))
    updates = property_updates(root)
    if not updates:
        raise DavError(400, "propertyupdate names no property")
    return updates


def property_updates(root: etree._Element) -> list[PropertyUpdate]:
    updates: list[PropertyUpdate] = []
    for instruction in root:
        if instruction.tag not in (dav("set"), dav("remove")):
            continue
        for prop in (c for c in instruction if c.tag == dav("prop")):
            for child in prop:
                if not isinstance(child.tag, str):
                    continue
                if instruction.tag == dav("set"):
                    child.tail = None
                    updates.append(PropertyUpdate(child.tag, serialize(child), child))
                else:
                    updates.append(PropertyUpdate(child.tag, None))
    return updates


@dataclass(frozen=True, slots=True)
class LockInfo:
    exclusive: bool
    owner_xml: str
    """The ``<D:owner>`` element as given, to be echoed in lockdiscovery ("" when absent)."""


def parse_lockinfo(body: bytes) -> LockInfo:
    root = parse_body(body)
    expect_root(root, dav("lockinfo"))
    scope = next((c for c in root if c.tag == dav("lockscope")), None)
    locktype = next((c for c in root if c.tag == dav("locktype")), None)
    if scope is None or locktype is None:
        raise DavError(400, "lockinfo needs lockscope and locktype")
    scopes = {c.tag for c in scope if isinstance(c.tag, str)}
    if scopes not in ({dav("exclusive")}, {dav("shared")}):
        raise DavError(400, "lockscope must be exclusive or shared")
    if {c.tag for c in locktype if isinstance(c.tag, str)} != {dav("write")}:
        raise DavError(422, "only write locks exist")
    owner = next((c for c in root if c.tag == dav("owner")), None)
    owner_xml = ""
    if owner is not None:
        owner_xml = f"<D:owner>{inner_xml(owner)}</D:owner>"
    return LockInfo(exclusive=dav("exclusive") in scopes, owner_xml=owner_xml)
