"""Parsed item bodies kept between requests, so a repeated query does not re-parse the objects it filters.

An entry is keyed by the item's ETag, which is a hash of its body (``storage.api.etag_for``): an entry can go
unused but never stale, whichever store or gateway process wrote the item. Entries are shared read-only (the
report filters only read them); the least recently used go first, and a body that does not parse is not kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from storage.api import Item

Parsed = TypeVar("Parsed")

BUDGET_BYTES = 32 * 1024 * 1024
"""Source bytes kept parsed per kind (a parsed object takes a few times its source): a calendar's recurring
series and some weeks of events, or a large address book's most searched cards."""
LARGEST_BYTES = 256 * 1024
"""Larger bodies (inline attachments, photos) are parsed each time rather than crowd out the rest."""


class ParsedBodies(Generic[Parsed]):
    def __init__(
        self, parse: Callable[[bytes], Parsed], budget_bytes: int = BUDGET_BYTES, largest_bytes: int = LARGEST_BYTES
    ) -> None:
        self.parse = parse
        self.budget_bytes = budget_bytes
        self.largest_bytes = largest_bytes
        self.held_bytes = 0
        self._entries: OrderedDict[str, tuple[Parsed, int]] = OrderedDict()

    def get(self, item: Item, data: bytes) -> Parsed:
        """``parse(data)`` for ``item``'s body ``data``, from the cache when its ETag was parsed before; raises
        whatever ``parse`` raises."""
        if len(data) > self.largest_bytes:
            return self.parse(data)
        entry = self._entries.get(item.etag)
        if entry is not None:
            self._entries.move_to_end(item.etag)
            return entry[0]
        parsed = self.parse(data)
        self._entries[item.etag] = (parsed, len(data))
        self.held_bytes += len(data)
        while self.held_bytes > self.budget_bytes:
            self.held_bytes -= self._entries.popitem(last=False)[1][1]
        return parsed
