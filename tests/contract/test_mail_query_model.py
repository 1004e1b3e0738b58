"""Email/query windows against a reference model: random mail, every sort, collapse, positions and anchors."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace

import pytest

from storage.api import Account, Store
from storage.mail import AnchorNotFound, EmailCondition, EmailQuery, EmailSort
from tests.contract.helpers import make_email, make_mailbox


@dataclass(frozen=True)
class Row:
    id: int
    thread: int
    boxes: frozenset[int]
    received: float
    size: int
    sender: str
    keywords: frozenset[str]


def key(row: Row, sort: EmailSort, rows: list[Row]) -> object:
    if sort.property == "receivedAt":
        return row.received
    if sort.property == "size":
        return row.size
    if sort.property == "from":
        return row.sender
    thread = [other for other in rows if other.thread == row.thread]
    if sort.property == "hasKeyword":
        return sort.keyword in row.keywords
    if sort.property == "allInThreadHaveKeyword":
        return all(sort.keyword in other.keywords for other in thread)
    return any(sort.keyword in other.keywords for other in thread)


def expected(rows: list[Row], mailbox: int | None, sorts: tuple[EmailSort, ...], collapse: bool) -> list[int]:
    matching = [row for row in rows if mailbox is None or mailbox in row.boxes]

    def compare(a: Row, b: Row) -> int:
        for sort in sorts:
            ka, kb = key(a, sort, rows), key(b, sort, rows)
            if ka != kb:
                less = ka < kb  # type: ignore[operator]
                return (-1 if less else 1) * (1 if sort.is_ascending else -1)
        return (a.id - b.id) * (1 if sorts[0].is_ascending else -1)

    ordered = sorted(matching, key=functools.cmp_to_key(compare))
    found: list[int] = []
    threads: set[int] = set()
    for row in ordered:
        if not (collapse and row.thread in threads):
            found.append(row.id)
            threads.add(row.thread)
    return found


SORTS = [
    (EmailSort("receivedAt", False),),
    (EmailSort("receivedAt", True),),
    (EmailSort("size", True), EmailSort("receivedAt", False)),
    (EmailSort("from", False),),
    (EmailSort("hasKeyword", False, "$flagged"), EmailSort("size", True)),
    (EmailSort("allInThreadHaveKeyword", True, "$seen"),),
    (EmailSort("someInThreadHaveKeyword", False, "$seen"), EmailSort("receivedAt", True)),
]


@pytest.fixture
async def model(store: Store, account: Account) -> tuple[list[Row], list[int]]:
    rng = random.Random(7)
    boxes = [(await make_mailbox(store, account.id, name)).id for name in ("Inbox", "Other")]
    rows: list[Row] = []
    for n in range(60):
        chosen = rng.sample(boxes, rng.randint(1, 2))
        parent = rng.choice([None, None, *(f"{m}@x" for m in range(n))])
        email = await make_email(
            store,
            account.id,
            chosen,
            message_id=f"{n}@x",
            references=(parent,) if parent else (),
            received_at=float(rng.randint(1, 20)),
            size=rng.randint(1, 5) * 100,
            sender=rng.choice(["a@x", "b@x", "c@x"]),
            keywords=rng.sample(["$seen", "$flagged"], rng.randint(0, 2)),
        )
        sender = email.summary["from"][0]["email"]
        rows.append(
            Row(email.id, email.thread_id, email.mailbox_ids, email.received_at, email.size, sender, email.keywords)
        )
    return rows, boxes


@pytest.mark.parametrize("sorts", SORTS, ids=lambda sorts: "+".join(s.property for s in sorts))
async def test_windows_match_the_model(
    store: Store, account: Account, model: tuple[list[Row], list[int]], sorts: tuple[EmailSort, ...]
) -> None:
    rows, boxes = model
    rng = random.Random(len(sorts))
    async with store.read() as tx:
        for mailbox in (None, boxes[0]):
            for collapse in (False, True):
                full = expected(rows, mailbox, sorts, collapse)
                condition = None if mailbox is None else EmailCondition(in_mailbox=mailbox)
                base = EmailQuery(filter=condition, sort=sorts, collapse_threads=collapse, calculate_total=True)
                whole = await tx.query_emails(account.id, base)
                assert (whole.ids, whole.total) == (full, len(full))
                for _ in range(6):
                    position, limit = rng.randint(-len(full) - 3, len(full) + 3), rng.randint(0, 12)
                    page = await tx.query_emails(account.id, replace(base, position=position, limit=limit))
                    start = position if position >= 0 else max(0, len(full) + position)
                    assert (page.ids, page.position) == (full[start : start + limit], start)
                    anchor_index = rng.randrange(len(full))
                    offset = rng.randint(-5, 5)
                    page = await tx.query_emails(
                        account.id, replace(base, anchor=full[anchor_index], anchor_offset=offset, limit=limit)
                    )
                    start = max(0, anchor_index + offset)
                    assert (page.ids, page.position) == (full[start : start + limit], start)
                hidden = [row.id for row in rows if row.id not in full]
                if hidden:
                    with pytest.raises(AnchorNotFound):
                        await tx.query_emails(account.id, replace(base, anchor=hidden[0]))
