"""Parsed calendar objects kept between requests, so a repeated query does not re-parse what it filters.

An entry is keyed by the item's ETag, which is a hash of its body (``storage.api.etag_for``): an entry can go
unused but never stale, whichever store or gateway process wrote the item. Entries are shared read-only
(filters and free-busy only read them); the least recently used go first.
"""

from __future__ import annotations

from collections import OrderedDict

from icalendar import Calendar

from protocols.formats import ical
from storage.api import Item

CAPACITY = 2048
"""Objects kept: a calendar's recurring series and a few weeks of events (a parsed event is ~10-20 KB)."""


class ParsedCalendars:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Calendar | ical.CalendarDataError] = OrderedDict()

    def get(self, item: Item, data: bytes) -> Calendar:
        """The parsed body of ``item`` (``data``); raises CalendarDataError as ``ical.parse_calendar`` does."""
        key = item.etag
        found = self._entries.get(key)
        if found is None:
            try:
                found = ical.parse_calendar(data)
            except ical.CalendarDataError as error:
                found = error
            self._entries[key] = found
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        if isinstance(found, ical.CalendarDataError):
            raise found
        return found


PARSED = ParsedCalendars()
"""The process's one cache (valid across stores: keys are content hashes)."""
