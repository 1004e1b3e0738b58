"""Index fields: component type and time spans find candidates without reading bodies."""

from __future__ import annotations

from storage.api import SHORT_SPAN_SECONDS, Collection, ItemWrite, Store, TermMatch

DAY = 86_400
OPEN_END = 2**62


async def put_indexed(
    store: Store, collection: Collection, name: str, component: str, spans: tuple[tuple[int, int], ...]
) -> None:
    async with store.write() as tx:
        await tx.put_item(collection.id, ItemWrite(name, name.encode(), "text/calendar", name, None, component, spans))


async def names(store: Store, collection: Collection, **query: object) -> list[str]:
    async with store.read() as tx:
        return [item.name for item in await tx.query_items(collection.id, **query)]  # type: ignore[arg-type]


async def test_time_range_finds_overlapping_short_and_long_spans(store: Store, home: Collection) -> None:
    await put_indexed(store, home, "before", "VEVENT", ((0, DAY),))
    await put_indexed(store, home, "inside", "VEVENT", ((10 * DAY, 10 * DAY + 3600),))
    await put_indexed(store, home, "straddles", "VEVENT", ((9 * DAY, 11 * DAY),))
    await put_indexed(store, home, "after", "VEVENT", ((20 * DAY, 21 * DAY),))
    await put_indexed(store, home, "forever", "VEVENT", ((DAY, OPEN_END),))
    await put_indexed(store, home, "long-ago", "VEVENT", ((0, 5 * DAY + SHORT_SPAN_SECONDS),))
    await put_indexed(store, home, "recurring", "VEVENT", ((2 * DAY, 2 * DAY + 60), (10 * DAY + 60, 10 * DAY + 120)))
    await put_indexed(store, home, "never", "VJOURNAL", ())
    found = await names(store, home, start=10 * DAY, end=11 * DAY)
    assert found == ["forever", "inside", "long-ago", "recurring", "straddles"]


async def test_half_open_bounds(store: Store, home: Collection) -> None:
    await put_indexed(store, home, "ends-at-start", "VEVENT", ((0, DAY),))
    await put_indexed(store, home, "starts-at-end", "VEVENT", ((2 * DAY, 3 * DAY),))
    assert await names(store, home, start=DAY, end=2 * DAY) == []


async def test_component_filter_and_open_range(store: Store, home: Collection) -> None:
    await put_indexed(store, home, "event", "VEVENT", ((0, DAY),))
    await put_indexed(store, home, "task", "VTODO", ((0, DAY),))
    assert await names(store, home, component="VTODO") == ["task"]
    assert await names(store, home, component="VEVENT", start=DAY // 2) == ["event"]
    assert await names(store, home, end=DAY // 2) == ["event", "task"]


async def test_rewrite_replaces_spans_and_delete_drops_them(store: Store, home: Collection) -> None:
    await put_indexed(store, home, "moving", "VEVENT", ((0, DAY),))
    await put_indexed(store, home, "moving", "VEVENT", ((30 * DAY, 31 * DAY),))
    assert await names(store, home, start=0, end=DAY) == []
    assert await names(store, home, start=30 * DAY, end=31 * DAY) == ["moving"]
    async with store.write() as tx:
        await tx.delete_item(home.id, "moving")
    assert await names(store, home, start=30 * DAY, end=31 * DAY) == []


async def test_items_carry_their_component(store: Store, home: Collection) -> None:
    await put_indexed(store, home, "task", "VTODO", ((0, DAY),))
    async with store.read() as tx:
        item = await tx.get_item(home.id, "task")
    assert item is not None and item.component == "VTODO"


async def put_terms(store: Store, collection: Collection, name: str, terms: tuple[tuple[str, str], ...]) -> None:
    async with store.write() as tx:
        await tx.put_item(collection.id, ItemWrite(name, name.encode(), "text/vcard", name, terms=terms))


async def test_terms_by_equality_and_prefix(store: Store, home: Collection) -> None:
    await put_terms(store, home, "john", (("FN", "john doe"), ("EMAIL", "jo@example.org")))
    await put_terms(store, home, "joan", (("FN", "joan smith"), ("EMAIL", "joan@example.net")))
    await put_terms(store, home, "mary", (("FN", "mary jones"), ("NICKNAME", "jo")))
    assert await names(store, home, terms=[TermMatch("FN", "jo", prefix=True)]) == ["joan", "john"]
    assert await names(store, home, terms=[TermMatch("NICKNAME", "jo")]) == ["mary"]
    assert await names(
        store, home, terms=[TermMatch("FN", "jo", prefix=True), TermMatch("NICKNAME", "jo", prefix=True)]
    ) == ["joan", "john", "mary"]
    assert await names(store, home, terms=[TermMatch("EMAIL", "jo@example.org")]) == ["john"]
    assert await names(store, home, terms=[TermMatch("EMAIL", "nobody", prefix=True)]) == []


async def test_terms_follow_rewrites_and_non_ascii_prefixes(store: Store, home: Collection) -> None:
    await put_terms(store, home, "card", (("FN", "jürgen müller"),))
    assert await names(store, home, terms=[TermMatch("FN", "jür", prefix=True)]) == ["card"]
    await put_terms(store, home, "card", (("FN", "hans"),))
    assert await names(store, home, terms=[TermMatch("FN", "jür", prefix=True)]) == []
    assert await names(store, home, terms=[TermMatch("FN", "", prefix=True)]) == ["card"]
