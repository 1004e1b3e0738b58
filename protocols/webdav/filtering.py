"""What CalDAV and CardDAV filters (RFC 4791 §9.7, RFC 6352 §10.5) share: the refusal, the element walk, and
turning a refusal into the REPORT's 403 with its precondition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from lxml import etree

from protocols.webdav.errors import DavError
from protocols.webdav.textmatch import TextMatch
from protocols.webdav.xml import clark

Condition = Literal["valid-filter", "supported-filter", "supported-collation"]
Parsed = TypeVar("Parsed")


class FilterError(ValueError):
    """A filter the server refuses; ``condition`` is the local name of the precondition in the protocol's
    namespace (the same three names in CalDAV and CardDAV)."""

    def __init__(self, condition: Condition, message: str) -> None:
        super().__init__(message)
        self.condition: Condition = condition


@dataclass(frozen=True, slots=True)
class ParamFilter:
    """``name`` is upper-case; neither ``is_not_defined`` nor ``text_match``: the parameter must exist."""

    name: str
    is_not_defined: bool = False
    text_match: TextMatch | None = None


def children_by_tag(element: etree._Element, namespace: str, allowed: set[str]) -> dict[str, list[etree._Element]]:
    """Children of ``element`` in ``namespace`` by tag, refusing ones that do not belong there; elements of other
    namespaces are ignored (RFC 4918 extensibility)."""
    parts: dict[str, list[etree._Element]] = {tag: [] for tag in allowed}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith(f"{{{namespace}}}"):
            continue
        if tag not in allowed:
            raise FilterError("valid-filter", f"unexpected {tag} in {element.tag}")
        parts[tag].append(child)
    return parts


def report_filter(root: etree._Element, namespace: str, parse: Callable[[etree._Element], Parsed]) -> Parsed:
    """The ``filter`` of a query REPORT, parsed; a missing or refused one is a 403 naming the precondition."""
    element = root.find(clark(namespace, "filter"))
    if element is None:
        raise DavError(403, condition=clark(namespace, "valid-filter"))
    try:
        return parse(element)
    except FilterError as error:
        raise DavError(403, str(error), condition=clark(namespace, error.condition)) from None
