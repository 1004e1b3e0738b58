"""If-Match / If-None-Match, checked inside the write transaction, on put and delete."""

from __future__ import annotations

import pytest

from storage.api import (
    ANY,
    Account,
    Collection,
    ItemWrite,
    NotFound,
    PreconditionFailed,
    Preconditions,
    Store,
    UidConflict,
    etag_for,
)
from tests.contract.helpers import modseq_of, put, usage

CURRENT = etag_for(b"current")
OTHER = etag_for(b"other")

PUT_CASES = [
    # (item exists beforehand, preconditions, expected to hold)
    (True, Preconditions(if_match=[CURRENT]), True),
    (True, Preconditions(if_match=[OTHER, CURRENT]), True),
    (True, Preconditions(if_match=[OTHER]), False),
    (True, Preconditions(if_match=[ANY]), True),
    (False, Preconditions(if_match=[ANY]), False),
    (False, Preconditions(if_match=[CURRENT]), False),
    (False, Preconditions(if_none_match=[ANY]), True),
    (True, Preconditions(if_none_match=[ANY]), False),
    (True, Preconditions(if_none_match=[OTHER]), True),
    (True, Preconditions(if_none_match=[CURRENT]), False),
    (False, Preconditions(if_none_match=[CURRENT]), True),
]


def _case_id(exists: bool, preconditions: Preconditions, holds: bool) -> str:
    tags = {CURRENT: "current", OTHER: "other", ANY: "any"}
    header = "if-match" if preconditions.if_match is not None else "if-none-match"
    values = preconditions.if_match if preconditions.if_match is not None else preconditions.if_none_match
    assert values is not None
    state = "existing" if exists else "missing"
    return f"{header}={'+'.join(tags[v] for v in values)}-{state}-{'holds' if holds else 'fails'}"


@pytest.mark.parametrize(("exists", "preconditions", "holds"), PUT_CASES, ids=[_case_id(*case) for case in PUT_CASES])
async def test_put_preconditions(
    store: Store, account: Account, home: Collection, exists: bool, preconditions: Preconditions, holds: bool
) -> None:
    if exists:
        await put(store, home.id, "x", b"current")
    write = ItemWrite("x", b"new", "text/plain")
    if holds:
        async with store.write() as tx:
            item, created = await tx.put_item(home.id, write, preconditions)
        assert created is not exists
        assert item.etag == etag_for(b"new")
        return
    ctag, used = await modseq_of(store, home.path), await usage(store, account.id)
    async with store.write() as tx:
        with pytest.raises(PreconditionFailed):
            await tx.put_item(home.id, write, preconditions)
        # The transaction stays usable and nothing was written by the refused put.
        assert (await tx.get_item(home.id, "x") is not None) is exists
    async with store.read() as tx:
        found = await tx.read_item(home.id, "x")
        assert (found[1] if found else None) == (b"current" if exists else None)
        assert (await tx.changes_since(home.id, ctag)).changes == []
    assert await modseq_of(store, home.path) == ctag
    assert await usage(store, account.id) == used


DELETE_CASES = [
    (True, Preconditions(if_match=[CURRENT]), True),
    (True, Preconditions(if_match=[ANY]), True),
    (True, Preconditions(if_match=[OTHER]), False),
    (False, Preconditions(if_match=[ANY]), False),
    (True, Preconditions(if_none_match=[ANY]), False),
    (True, Preconditions(if_none_match=[CURRENT]), False),
    (True, Preconditions(if_none_match=[OTHER]), True),
]


@pytest.mark.parametrize(
    ("exists", "preconditions", "holds"), DELETE_CASES, ids=[_case_id(*case) for case in DELETE_CASES]
)
async def test_delete_preconditions(
    store: Store, home: Collection, exists: bool, preconditions: Preconditions, holds: bool
) -> None:
    if exists:
        await put(store, home.id, "x", b"current")
    ctag = await modseq_of(store, home.path)
    if holds:
        async with store.write() as tx:
            await tx.delete_item(home.id, "x", preconditions)
        async with store.read() as tx:
            assert await tx.get_item(home.id, "x") is None
        return
    async with store.write() as tx:
        with pytest.raises(PreconditionFailed):
            await tx.delete_item(home.id, "x", preconditions)
    async with store.read() as tx:
        assert (await tx.get_item(home.id, "x") is not None) is exists
    assert await modseq_of(store, home.path) == ctag


async def test_delete_missing_without_if_match_is_not_found(store: Store, home: Collection) -> None:
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await tx.delete_item(home.id, "x", Preconditions(if_none_match=[ANY]))


async def test_uid_conflict_writes_nothing(store: Store, account: Account, home: Collection) -> None:
    await put(store, home.id, "a.ics", b"a", uid="U")
    ctag, used = await modseq_of(store, home.path), await usage(store, account.id)
    async with store.write() as tx:
        with pytest.raises(UidConflict):
            await tx.put_item(home.id, ItemWrite("b.ics", b"b", "text/calendar", "U"))
        await tx.put_item(home.id, ItemWrite("c.ics", b"c", "text/calendar", "V"))
    async with store.read() as tx:
        assert await tx.get_item(home.id, "b.ics") is None
        assert [c.name for c in (await tx.changes_since(home.id, ctag)).changes] == ["c.ics"]
    assert await usage(store, account.id) == used + 1
