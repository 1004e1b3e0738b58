"""Collections: homes, nesting, listing, deletion, moves, dead properties and the CTag."""

from __future__ import annotations

import pytest

from storage.api import (
    Account,
    AlreadyExists,
    Collection,
    ItemWrite,
    NotFound,
    ParentMissing,
    StorageError,
    Store,
)
from tests.contract.helpers import fetch_collection, make_collection, modseq_of, put, usage


async def test_home_needs_no_parent(store: Store, account: Account) -> None:
    created = await make_collection(store, account.id, "calendars/alice/", properties={"{DAV:}displayname": "x"})
    assert (created.path, created.kind, created.account_id) == ("calendars/alice/", "collection", account.id)
    assert (created.name, created.parent_path) == ("alice", "calendars/")
    assert dict(created.properties) == {"{DAV:}displayname": "x"}
    async with store.read() as tx:
        assert await tx.get_collection("calendars/alice/") == created
        assert await tx.get_collection_by_id(created.id) == created
        assert await tx.get_collection("calendars/") is None
        assert await tx.get_collection("calendars/bob/") is None


async def test_nested_needs_parent(store: Store, account: Account, home: Collection) -> None:
    with pytest.raises(ParentMissing):
        await make_collection(store, account.id, "files/alice/a/b/")
    created = await make_collection(store, account.id, "files/alice/a/", "calendar")
    assert (created.kind, created.parent_path) == ("calendar", home.path)
    await make_collection(store, account.id, "files/alice/a/b/")


@pytest.mark.parametrize("path", ["files/alice/", "files/alice/a/"])
async def test_duplicate_collection(store: Store, account: Account, home: Collection, path: str) -> None:
    if path != home.path:
        await make_collection(store, account.id, path)
    with pytest.raises(AlreadyExists):
        await make_collection(store, account.id, path)


async def test_item_and_collection_names_clash(store: Store, account: Account, home: Collection) -> None:
    await put(store, home.id, "taken")
    with pytest.raises(AlreadyExists):
        await make_collection(store, account.id, "files/alice/taken/")
    await make_collection(store, account.id, "files/alice/folder/")
    with pytest.raises(AlreadyExists):
        await put(store, home.id, "folder")


async def _tree(store: Store, account_id: int, *relative: str) -> None:
    for path in relative:
        await make_collection(store, account_id, f"files/alice/{path}")


async def _children(store: Store, path: str) -> set[str]:
    async with store.read() as tx:
        return {c.path for c in await tx.list_child_collections(path)}


async def test_list_child_collections_only_direct_children(store: Store, account: Account, home: Collection) -> None:
    await _tree(store, account.id, "a/", "a/b/", "a/b/c/", "a/b/c/d/", "a/b-/", "a/bc/", "a/bc/x/", "a/b0/", "ab/")
    assert await _children(store, "files/alice/") == {"files/alice/a/", "files/alice/ab/"}
    assert await _children(store, "files/alice/a/") == {f"files/alice/a/{name}/" for name in ("b", "b-", "bc", "b0")}
    assert await _children(store, "files/alice/a/b/") == {"files/alice/a/b/c/"}
    assert await _children(store, "files/alice/a/b/c/d/") == set()


async def test_list_child_collections_with_like_wildcards_in_names(
    store: Store, account: Account, home: Collection
) -> None:
    await _tree(store, account.id, "x_y/", "x_y/in/", "xzy/", "xzy/out/", "p%q/", "p%q/in/", "pzzq/", "pzzq/out/")
    assert await _children(store, "files/alice/x_y/") == {"files/alice/x_y/in/"}
    assert await _children(store, "files/alice/p%q/") == {"files/alice/p%q/in/"}


async def test_delete_collection_removes_subtree_and_frees_bytes(
    store: Store, account: Account, home: Collection
) -> None:
    await _tree(store, account.id, "a/", "a/b/", "a/b/c/", "ab/", "a_/")
    tree = {path: await fetch_collection(store, f"files/alice/{path}") for path in ("a/", "a/b/", "a/b/c/", "ab/")}
    await put(store, tree["a/"].id, "one", b"x" * 10)
    await put(store, tree["a/b/c/"].id, "two", b"x" * 20)
    await put(store, tree["ab/"].id, "kept", b"x" * 5)
    before = await modseq_of(store, home.path)

    async with store.write() as tx:
        await tx.delete_collection("files/alice/a/")

    async with store.read() as tx:
        for path in ("a/", "a/b/", "a/b/c/"):
            assert await tx.get_collection(f"files/alice/{path}") is None
            assert await tx.get_collection_by_id(tree[path].id) is None
        assert await tx.get_item(tree["a/"].id, "one") is None
        assert await tx.read_item(tree["a/b/c/"].id, "two") is None
        assert await tx.get_item(tree["ab/"].id, "kept") is not None
        assert await tx.get_collection("files/alice/a_/") is not None
    assert await usage(store, account.id) == 5
    assert await modseq_of(store, home.path) > before
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.delete_collection("files/alice/a/")


async def test_move_collection_renames_subtree(store: Store, account: Account, home: Collection) -> None:
    await _tree(store, account.id, "a/", "a/b/", "a/b/c/", "ab/", "ab/q/", "a_/", "dest/")
    deep = await fetch_collection(store, "files/alice/a/b/c/")
    await put(store, deep.id, "deep.txt", b"deep")
    old_parent, new_parent = await modseq_of(store, home.path), await modseq_of(store, "files/alice/dest/")

    async with store.write() as tx:
        moved = await tx.move_collection("files/alice/a/", "files/alice/dest/z/")

    assert moved.path == "files/alice/dest/z/"
    async with store.read() as tx:
        for gone in ("a/", "a/b/", "a/b/c/"):
            assert await tx.get_collection(f"files/alice/{gone}") is None
        for kept in ("ab/", "ab/q/", "a_/"):
            assert await tx.get_collection(f"files/alice/{kept}") is not None
        assert await tx.get_collection("files/alice/dest/z/") == moved
        assert await tx.get_collection("files/alice/dest/z/b/") is not None
        new_deep = await tx.get_collection("files/alice/dest/z/b/c/")
        assert new_deep is not None
        found = await tx.read_item(new_deep.id, "deep.txt")
        assert found is not None
        assert found[1] == b"deep"
        assert {c.path for c in await tx.list_child_collections("files/alice/dest/")} == {"files/alice/dest/z/"}
    assert await modseq_of(store, home.path) > old_parent
    assert await modseq_of(store, "files/alice/dest/") > new_parent
    assert await usage(store, account.id) == 4


@pytest.mark.parametrize(
    ("destination", "error"),
    [
        ("files/alice/a/inner/", StorageError),
        ("files/alice/a/", StorageError),
        ("files/alice/other/", AlreadyExists),
        ("files/alice/nowhere/z/", ParentMissing),
    ],
    ids=["inside-source", "onto-itself", "existing", "missing-parent"],
)
async def test_move_collection_refused(
    store: Store, account: Account, home: Collection, destination: str, error: type[StorageError]
) -> None:
    await _tree(store, account.id, "a/", "a/inner/", "other/")
    with pytest.raises(error):
        async with store.write() as tx:
            await tx.move_collection("files/alice/a/", destination)
    assert await _children(store, "files/alice/") == {"files/alice/a/", "files/alice/other/"}
    assert await _children(store, "files/alice/a/") == {"files/alice/a/inner/"}


async def test_move_onto_item_refused(store: Store, account: Account, home: Collection) -> None:
    await _tree(store, account.id, "a/")
    await put(store, home.id, "file")
    with pytest.raises(AlreadyExists):
        async with store.write() as tx:
            await tx.move_collection("files/alice/a/", "files/alice/file/")


async def test_move_missing_source(store: Store, home: Collection) -> None:
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.move_collection("files/alice/nothing/", "files/alice/else/")


async def test_properties_merge_and_persist(store: Store, account: Account, home: Collection) -> None:
    created = await make_collection(store, account.id, "files/alice/c/", properties={"a": "1", "b": "2"})
    async with store.write() as tx:
        updated = await tx.update_collection_properties(created.id, {"b": "20", "c": "3"}, ["a", "absent"])
    assert dict(updated.properties) == {"b": "20", "c": "3"}
    assert updated.modseq > created.modseq
    assert dict((await fetch_collection(store, created.path)).properties) == {"b": "20", "c": "3"}
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.update_collection_properties(created.id + 1000, {"x": "y"}, [])


async def test_ctag_changes_on_every_member_change(store: Store, account: Account, home: Collection) -> None:
    seen = [home.modseq]

    async def changed() -> None:
        current = await modseq_of(store, home.path)
        assert current > seen[-1]
        seen.append(current)

    await put(store, home.id, "x", b"1")
    await changed()
    await put(store, home.id, "x", b"2")
    await changed()
    async with store.write() as tx:
        await tx.delete_item(home.id, "x")
    await changed()
    async with store.write() as tx:
        await tx.update_collection_properties(home.id, {"p": "v"}, [])
    await changed()
    await make_collection(store, account.id, "files/alice/child/")
    await changed()
    async with store.write() as tx:
        await tx.delete_collection("files/alice/child/")
    await changed()


async def test_ctag_not_changed_by_reads_or_other_collections(store: Store, account: Account, home: Collection) -> None:
    other = await make_collection(store, account.id, "calendars/alice/")
    await put(store, home.id, "x")
    before = await modseq_of(store, home.path)
    await put(store, other.id, "y")
    async with store.read() as tx:
        await tx.list_items(home.id)
        await tx.read_item(home.id, "x")
    assert await modseq_of(store, home.path) == before


async def test_item_put_into_missing_collection(store: Store, home: Collection) -> None:
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.put_item(home.id + 1000, ItemWrite("x", b"", "text/plain"))


async def test_a_recreated_collection_gets_a_new_id(store: Store, account: Account) -> None:
    """Sync tokens name the collection id, so a deleted one's id must never come back."""
    first = await make_collection(store, account.id, "calendars/alice/")
    async with store.write() as tx:
        await tx.delete_collection(first.path)
    second = await make_collection(store, account.id, "calendars/alice/")
    assert second.id != first.id
