"""Items: create/replace, bodies, listing, multiget, deletion, dead properties and UIDs."""

from __future__ import annotations

import random

import pytest

from storage.api import Account, Collection, Item, ItemWrite, NotFound, Store, UidConflict, etag_for
from tests.contract.helpers import delete, make_collection, put


async def test_put_creates_then_replaces(store: Store, home: Collection) -> None:
    async with store.write() as tx:
        first, created = await tx.put_item(home.id, ItemWrite("e.ics", b"one", "text/calendar", "uid-1"))
    assert created
    assert (first.name, first.collection_id, first.content_type, first.size, first.uid) == (
        "e.ics",
        home.id,
        "text/calendar",
        3,
        "uid-1",
    )
    assert first.etag == etag_for(b"one")

    async with store.write() as tx:
        second, created = await tx.put_item(home.id, ItemWrite("e.ics", b"second", "text/x-other"))
    assert not created
    assert second.id == first.id
    assert (second.etag, second.size, second.content_type, second.uid) == (
        etag_for(b"second"),
        6,
        "text/x-other",
        None,
    )
    assert second.created == first.created
    assert second.modified >= first.modified
    assert second.modseq > first.modseq
    async with store.read() as tx:
        assert await tx.get_item(home.id, "e.ics") == second


async def test_etag_changes_iff_bytes_change(store: Store, home: Collection) -> None:
    first = await put(store, home.id, "a", b"same")
    again = await put(store, home.id, "a", b"same")
    other = await put(store, home.id, "b", b"same")
    changed = await put(store, home.id, "a", b"different")
    assert first.etag == again.etag == other.etag == etag_for(b"same")
    assert changed.etag == etag_for(b"different") != first.etag


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 4, b"", b"\x00\r\n\x00", random.Random(7).randbytes(5 * 1024 * 1024)],
    ids=["binary", "empty", "nul-crlf", "5MB"],
)
async def test_read_item_returns_exact_bytes(store: Store, home: Collection, data: bytes) -> None:
    stored = await put(store, home.id, "blob", data)
    async with store.read() as tx:
        found = await tx.read_item(home.id, "blob")
    assert found is not None
    item, body = found
    assert body == data
    assert item == stored
    assert item.size == len(data)


async def test_missing_item_reads_none(store: Store, home: Collection) -> None:
    async with store.read() as tx:
        assert await tx.get_item(home.id, "nope") is None
        assert await tx.read_item(home.id, "nope") is None
        assert await tx.read_items(home.id, ["nope"]) == []


async def test_get_item_at_resolves_collection_and_item(store: Store, home: Collection) -> None:
    stored = await put(store, home.id, "e.ics", b"body")
    async with store.read() as tx:
        current = await tx.get_collection(home.path)  # its modseq moved with the put
        assert await tx.get_item_at(home.path, "e.ics") == (current, stored, None)
        assert await tx.get_item_at(home.path, "e.ics", with_body=True) == (current, stored, b"body")
        assert await tx.get_item_at(home.path, "nope") == (current, None, None)
        assert await tx.get_item_at(home.path, "nope", with_body=True) == (current, None, None)
        assert await tx.get_item_at(home.path + "missing/", "e.ics", with_body=True) is None
        assert await tx.get_item_at(home.path.rstrip("/"), "e.ics") is None


async def test_list_items_keyset_pagination(store: Store, account: Account, home: Collection) -> None:
    # Keyset pagination needs one total order on every backend: code point order, case-sensitive.
    names = sorted([f"item-{n:02d}" for n in range(25)] + ["B", "b", "Z", "_x", "é", "日本", "a b", "a-b", "a.b"])
    shuffled = random.Random(3).sample(names, len(names))
    sibling = await make_collection(store, account.id, "files/alice/sibling/")
    async with store.write() as tx:
        for name in shuffled:
            await tx.put_item(home.id, ItemWrite(name, name.encode(), "text/plain"))
        await tx.put_item(sibling.id, ItemWrite("item-99", b"elsewhere", "text/plain"))

    pages: list[list[Item]] = []
    after = ""
    async with store.read() as tx:
        while page := await tx.list_items(home.id, after=after, limit=10):
            pages.append(page)
            after = page[-1].name
        everything = await tx.list_items(home.id)
    assert [len(page) for page in pages] == [10, 10, 10, 4]
    listed = [item for page in pages for item in page]
    assert [item.name for item in listed] == names
    assert listed == everything
    assert all(isinstance(item, Item) and item.etag == etag_for(item.name.encode()) for item in listed)


async def test_read_items_multiget(store: Store, home: Collection) -> None:
    names = [f"m{n:04d}" for n in range(600)]
    async with store.write() as tx:
        for name in names:
            await tx.put_item(home.id, ItemWrite(name, f"body of {name}".encode(), "text/plain"))
    wanted = [*names[::-1], "missing-1", "missing-2"]
    async with store.read() as tx:
        found = await tx.read_items(home.id, wanted)
    assert len(found) == len(names)
    assert {item.name: body for item, body in found} == {name: f"body of {name}".encode() for name in names}
    assert all(item.etag == etag_for(body) for item, body in found)


async def test_count_items(store: Store, account: Account, home: Collection) -> None:
    other = await make_collection(store, account.id, "files/alice/other/")
    for name in ("a", "b", "c"):
        await put(store, home.id, name)
    await put(store, home.id, "a", b"replaced")
    await put(store, other.id, "z")
    async with store.read() as tx:
        assert await tx.count_items(home.id) == 3
        assert await tx.count_items(other.id) == 1


async def test_delete_item(store: Store, home: Collection) -> None:
    await put(store, home.id, "a")
    await put(store, home.id, "b")
    await delete(store, home.id, "a")
    async with store.read() as tx:
        assert await tx.get_item(home.id, "a") is None
        assert await tx.read_item(home.id, "a") is None
        assert [item.name for item in await tx.list_items(home.id)] == ["b"]
    with pytest.raises(NotFound):
        await delete(store, home.id, "a")
    recreated = await put(store, home.id, "a", b"again")
    assert recreated.etag == etag_for(b"again")


async def test_item_properties(store: Store, home: Collection) -> None:
    created = await put(store, home.id, "p", properties={"a": "1", "b": "2"})
    assert dict(created.properties) == {"a": "1", "b": "2"}
    async with store.write() as tx:
        updated = await tx.update_item_properties(home.id, "p", {"b": "20", "c": "3"}, ["a", "absent"])
    assert dict(updated.properties) == {"b": "20", "c": "3"}
    assert updated.etag == created.etag

    kept = await put(store, home.id, "p", b"new body")
    assert dict(kept.properties) == {"b": "20", "c": "3"}
    replaced = await put(store, home.id, "p", b"newer body", properties={"d": "4"})
    assert dict(replaced.properties) == {"d": "4"}
    async with store.read() as tx:
        stored = await tx.get_item(home.id, "p")
    assert stored is not None
    assert dict(stored.properties) == {"d": "4"}
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.update_item_properties(home.id, "absent", {"x": "y"}, [])


async def test_new_item_without_properties_has_none(store: Store, home: Collection) -> None:
    assert dict((await put(store, home.id, "plain")).properties) == {}


async def test_uid_unique_per_collection(store: Store, account: Account, home: Collection) -> None:
    other = await make_collection(store, account.id, "files/alice/other/")
    first = await put(store, home.id, "a.ics", b"1", uid="U")
    with pytest.raises(UidConflict) as conflict:
        await put(store, home.id, "b.ics", b"2", uid="U")
    assert (conflict.value.uid, conflict.value.existing_name) == ("U", "a.ics")

    elsewhere = await put(store, other.id, "b.ics", b"2", uid="U")
    same_name = await put(store, home.id, "a.ics", b"1 again", uid="U")
    assert same_name.id == first.id
    async with store.read() as tx:
        assert await tx.get_item(home.id, "b.ics") is None
        assert await tx.get_item_by_uid(home.id, "U") == same_name
        assert await tx.get_item_by_uid(other.id, "U") == elsewhere
        assert await tx.get_item_by_uid(home.id, "nobody") is None

    await put(store, home.id, "a.ics", b"1 renamed uid", uid="V")
    freed = await put(store, home.id, "b.ics", b"2", uid="U")
    async with store.read() as tx:
        assert await tx.get_item_by_uid(home.id, "U") == freed


async def test_uid_freed_by_delete(store: Store, home: Collection) -> None:
    await put(store, home.id, "a.ics", uid="U")
    await delete(store, home.id, "a.ics")
    await put(store, home.id, "b.ics", uid="U")
    async with store.read() as tx:
        found = await tx.get_item_by_uid(home.id, "U")
    assert found is not None
    assert found.name == "b.ics"
