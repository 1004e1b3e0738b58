"""Email/query in the backend: every filter condition and operator, every sort, totals and windows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from storage.api import Account, Store
from storage.mail import (
    AnchorNotFound,
    EmailCondition,
    EmailFilter,
    EmailFilterOperator,
    EmailQuery,
    EmailQueryPage,
    EmailSort,
)
from tests.contract.helpers import make_account, make_email, make_mailbox


@dataclass
class Corpus:
    inbox: int
    archive: int
    trash: int
    report: int
    reply: int
    lunch: int
    invoice: int
    spam: int

    @property
    def newest_first(self) -> list[int]:
        return [self.invoice, self.lunch, self.reply, self.spam, self.report]


@pytest.fixture
async def corpus(store: Store, account: Account) -> Corpus:
    inbox = (await make_mailbox(store, account.id, "Inbox", role="inbox")).id
    archive = (await make_mailbox(store, account.id, "Archive", role="archive")).id
    trash = (await make_mailbox(store, account.id, "Trash", role="trash")).id
    report = await make_email(
        store,
        account.id,
        [inbox],
        subject="Quarterly report",
        sender="carol@example.org",
        to="alice@example.org",
        body="numbers are up",
        keywords=["$seen"],
        message_id="q@x",
        received_at=100,
        size=1000,
        sent_at=90,
        has_attachment=True,
        attachments="report.pdf",
        headers="subject: Quarterly report\nx-priority: 1\nlist-id: <team.example.org>",
    )
    reply = await make_email(
        store,
        account.id,
        [inbox],
        subject="Re: Quarterly report",
        sender="dave@example.org",
        to="carol@example.org",
        body="great numbers",
        references=("q@x",),
        received_at=200,
        size=500,
        sent_at=195,
        headers="subject: Re: Quarterly report\nin-reply-to: <q@x>",
    )
    lunch = await make_email(
        store,
        account.id,
        [inbox, archive],
        subject="Lunch",
        sender="bob@example.org",
        to="team@example.org",
        cc="carol@example.org",
        body="pizza on friday at the café",
        keywords=["$flagged", "$seen"],
        received_at=300,
        size=2000,
        headers="subject: Lunch\nx-priority: 3",
    )
    invoice = await make_email(
        store,
        account.id,
        [archive],
        subject="Invoice",
        sender="billing@shop.example",
        to="accounts@example.org",
        bcc="alice@example.org",
        body="please pay and thanks",
        received_at=400,
        size=50,
        headers="subject: Invoice",
    )
    spam = await make_email(
        store,
        account.id,
        [trash],
        subject="spam offer",
        sender="spam@bad.example",
        to="zed@example.org",
        body="buy now",
        keywords=["$junk"],
        received_at=150,
        size=300,
        headers="subject: spam offer\nx-spam-flag: YES",
    )
    return Corpus(inbox, archive, trash, report.id, reply.id, lunch.id, invoice.id, spam.id)


async def query(store: Store, account_id: int, **fields: object) -> EmailQueryPage:
    async with store.read() as tx:
        return await tx.query_emails(account_id, EmailQuery(**fields))  # type: ignore[arg-type]


async def ids(store: Store, account_id: int, filter: EmailFilter | None = None, **fields: object) -> list[int]:
    return (await query(store, account_id, filter=filter, **fields)).ids


def all_of(*conditions: EmailFilter) -> EmailFilterOperator:
    return EmailFilterOperator("AND", conditions)


def any_of(*conditions: EmailFilter) -> EmailFilterOperator:
    return EmailFilterOperator("OR", conditions)


def none_of(*conditions: EmailFilter) -> EmailFilterOperator:
    return EmailFilterOperator("NOT", conditions)


async def test_default_order_is_newest_first(store: Store, account: Account, corpus: Corpus) -> None:
    page = await query(store, account.id)
    assert page == EmailQueryPage(corpus.newest_first, 0, None)


async def test_mailbox_conditions(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    assert await ids(store, account.id, EmailCondition(in_mailbox=c.inbox)) == [c.lunch, c.reply, c.report]
    assert await ids(store, account.id, EmailCondition(in_mailbox=c.archive)) == [c.invoice, c.lunch]
    assert await ids(store, account.id, EmailCondition(in_mailbox=4242)) == []
    other_than = EmailCondition(in_mailbox_other_than=(c.inbox,))
    assert await ids(store, account.id, other_than) == [c.invoice, c.lunch, c.spam]
    other_than = EmailCondition(in_mailbox_other_than=(c.inbox, c.trash))
    assert await ids(store, account.id, other_than) == [c.invoice, c.lunch]
    assert await ids(store, account.id, EmailCondition(in_mailbox_other_than=())) == c.newest_first


async def test_date_and_size_conditions(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    assert await ids(store, account.id, EmailCondition(before=200)) == [c.spam, c.report]
    assert await ids(store, account.id, EmailCondition(after=200)) == [c.invoice, c.lunch, c.reply]
    assert await ids(store, account.id, EmailCondition(after=150, before=300)) == [c.reply, c.spam]
    assert await ids(store, account.id, EmailCondition(min_size=500)) == [c.lunch, c.reply, c.report]
    assert await ids(store, account.id, EmailCondition(max_size=500)) == [c.invoice, c.spam]
    assert await ids(store, account.id, EmailCondition(min_size=300, max_size=1000)) == [c.reply, c.spam]


async def test_keyword_conditions(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    assert await ids(store, account.id, EmailCondition(has_keyword="$seen")) == [c.lunch, c.report]
    assert await ids(store, account.id, EmailCondition(not_keyword="$seen")) == [c.invoice, c.reply, c.spam]
    assert await ids(store, account.id, EmailCondition(has_keyword="$nothing")) == []
    assert await ids(store, account.id, EmailCondition(all_in_thread_have_keyword="$seen")) == [c.lunch]
    some = EmailCondition(some_in_thread_have_keyword="$seen")
    assert await ids(store, account.id, some) == [c.lunch, c.reply, c.report]
    none = EmailCondition(none_in_thread_have_keyword="$seen")
    assert await ids(store, account.id, none) == [c.invoice, c.spam]


async def test_attachment_condition(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    assert await ids(store, account.id, EmailCondition(has_attachment=True)) == [c.report]
    assert await ids(store, account.id, EmailCondition(has_attachment=False)) == [c.invoice, c.lunch, c.reply, c.spam]


async def test_text_conditions(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    cases: list[tuple[EmailCondition, list[int]]] = [
        (EmailCondition(text="numbers"), [c.reply, c.report]),
        (EmailCondition(text="pdf"), [c.report]),
        (EmailCondition(text="carol"), [c.lunch, c.reply, c.report]),
        (EmailCondition(text="alice"), [c.invoice, c.report]),
        (EmailCondition(text="Pizza FRIDAY"), [c.lunch]),
        (EmailCondition(text="pizza invoice"), []),
        (EmailCondition(from_="carol"), [c.report]),
        (EmailCondition(to="carol"), [c.reply]),
        (EmailCondition(to="team"), [c.lunch]),
        (EmailCondition(cc="carol"), [c.lunch]),
        (EmailCondition(bcc="alice"), [c.invoice]),
        (EmailCondition(subject="quarterly"), [c.reply, c.report]),
        (EmailCondition(subject="numbers"), []),
        (EmailCondition(body="pizza"), [c.lunch]),
        (EmailCondition(body="cafe"), [c.lunch]),
        (EmailCondition(body="CAFÉ"), [c.lunch]),
        (EmailCondition(body="great numbers"), [c.reply]),
        (EmailCondition(body="quarterly"), []),
        (EmailCondition(subject="report", from_="dave"), [c.reply]),
        (EmailCondition(text="priority"), []),
    ]
    for condition, expected in cases:
        assert await ids(store, account.id, condition) == expected, condition


async def test_header_conditions(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    cases: list[tuple[tuple[str, ...], list[int]]] = [
        (("x-priority",), [c.lunch, c.report]),
        (("X-Priority",), [c.lunch, c.report]),
        (("X-Priority", "1"), [c.report]),
        (("x-priority", "2"), []),
        (("list-id", "team.example"), [c.report]),
        (("list-id", "TEAM"), [c.report]),
        (("x-spam-flag", "yes"), [c.spam]),
        (("subject", "quarterly"), [c.reply, c.report]),
        (("subject", "report"), [c.reply, c.report]),
        (("priority",), []),
        (("x-mailer",), []),
        (("in-reply-to", "q@x"), [c.reply]),
        (('"',), []),
        (("x-priority", '"'), []),
    ]
    for header, expected in cases:
        assert await ids(store, account.id, EmailCondition(header=header)) == expected, header
    with pytest.raises(ValueError):
        await ids(store, account.id, EmailCondition(header=("a", "b", "c")))


HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(a b", "AND", "OR", "NOT", "(", ")", "a:b", "{subject}: x", "^", "-", "+"]


@pytest.mark.parametrize("text", [*HOSTILE, "'", "\\", "a\x00b", "  ", ""])
async def test_hostile_text_is_no_syntax(store: Store, account: Account, corpus: Corpus, text: str) -> None:
    for field in ("text", "from_", "to", "cc", "bcc", "subject", "body"):
        await ids(store, account.id, EmailCondition(**{field: text}))  # type: ignore[arg-type]
        await ids(store, account.id, EmailCondition(header=(text, text)))


async def test_hostile_text_still_finds_words(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    cases = [
        ('pizza"', [c.lunch]),
        ('"pizza" OR "invoice"', []),
        ("AND", [c.invoice]),
        ("pizza*", [c.lunch]),
        ("-pizza", [c.lunch]),
        ("NEAR( pizza", []),
        ("NEAR(pizza", []),
        ("subject:lunch", []),
        ("*", []),
        ('"', []),
    ]
    for text, expected in cases:
        assert await ids(store, account.id, EmailCondition(text=text)) == expected, text


async def test_operators(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    inbox, seen = EmailCondition(in_mailbox=c.inbox), EmailCondition(has_keyword="$seen")
    trash = EmailCondition(in_mailbox=c.trash)
    cases: list[tuple[EmailFilter, list[int]]] = [
        (all_of(inbox, seen), [c.lunch, c.report]),
        (all_of(seen, inbox), [c.lunch, c.report]),
        (any_of(EmailCondition(from_="carol"), trash), [c.spam, c.report]),
        (none_of(inbox), [c.invoice, c.spam]),
        (none_of(inbox, trash), [c.invoice]),
        (all_of(inbox, none_of(seen)), [c.reply]),
        (all_of(any_of(inbox, trash), none_of(EmailCondition(text="numbers"))), [c.lunch, c.spam]),
        (all_of(), c.newest_first),
        (any_of(), []),
        (none_of(), c.newest_first),
        (all_of(all_of(inbox), any_of(seen)), [c.lunch, c.report]),
        (EmailCondition(in_mailbox=c.inbox, has_keyword="$seen", min_size=1500), [c.lunch]),
        (all_of(inbox, EmailCondition(in_mailbox=c.archive)), [c.lunch]),
        (EmailCondition(), c.newest_first),
    ]
    for filter, expected in cases:
        assert await ids(store, account.id, filter) == expected, filter


def by(prop: str, ascending: bool = True, keyword: str | None = None) -> tuple[EmailSort, ...]:
    return (EmailSort(prop, ascending, keyword),)


async def test_sorts(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    cases: list[tuple[tuple[EmailSort, ...], list[int]]] = [
        (by("receivedAt"), [c.report, c.spam, c.reply, c.lunch, c.invoice]),
        (by("receivedAt", False), c.newest_first),
        (by("size"), [c.invoice, c.spam, c.reply, c.report, c.lunch]),
        (by("size", False), [c.lunch, c.report, c.reply, c.spam, c.invoice]),
        (by("from"), [c.invoice, c.lunch, c.report, c.reply, c.spam]),
        (by("to"), [c.invoice, c.report, c.reply, c.lunch, c.spam]),
        (by("subject"), [c.invoice, c.lunch, c.report, c.reply, c.spam]),
        (by("subject", False), [c.spam, c.reply, c.report, c.lunch, c.invoice]),
        (by("sentAt"), [c.lunch, c.invoice, c.spam, c.report, c.reply]),
        (by("hasKeyword", False, "$seen"), [c.lunch, c.report, c.spam, c.invoice, c.reply]),
        (by("someInThreadHaveKeyword", True, "$seen"), [c.invoice, c.spam, c.report, c.reply, c.lunch]),
        (by("allInThreadHaveKeyword", False, "$seen"), [c.lunch, c.spam, c.invoice, c.reply, c.report]),
        (
            (EmailSort("hasKeyword", False, "$seen"), EmailSort("receivedAt")),
            [c.report, c.lunch, c.spam, c.reply, c.invoice],
        ),
    ]
    for sort, expected in cases:
        assert await ids(store, account.id, sort=sort) == expected, sort
    inbox_by_size = await ids(store, account.id, EmailCondition(in_mailbox=c.inbox), sort=by("size"))
    assert inbox_by_size == [c.reply, c.report, c.lunch]
    for bad in (by("nonsense"), by("hasKeyword"), by("allInThreadHaveKeyword", keyword="")):
        with pytest.raises(ValueError):
            await ids(store, account.id, sort=bad)


async def test_totals_and_windows(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    everything = c.newest_first
    assert await query(store, account.id, calculate_total=True) == EmailQueryPage(everything, 0, 5)
    page = await query(store, account.id, position=1, limit=2, calculate_total=True)
    assert page == EmailQueryPage(everything[1:3], 1, 5)
    assert await query(store, account.id, position=9, limit=2) == EmailQueryPage([], 9, None)
    assert await query(store, account.id, limit=0, calculate_total=True) == EmailQueryPage([], 0, 5)
    assert await query(store, account.id, position=-2) == EmailQueryPage(everything[3:], 3, None)
    assert await query(store, account.id, position=-2, limit=1) == EmailQueryPage(everything[3:4], 3, None)
    assert await query(store, account.id, position=-10, limit=2) == EmailQueryPage(everything[:2], 0, None)
    inbox = EmailCondition(in_mailbox=c.inbox)
    assert await query(store, account.id, filter=inbox, calculate_total=True, limit=1) == EmailQueryPage(
        [c.lunch], 0, 3
    )
    with pytest.raises(ValueError):
        await query(store, account.id, limit=-1)


async def test_collapse_threads(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    collapsed = [c.invoice, c.lunch, c.reply, c.spam]
    page = await query(store, account.id, collapse_threads=True, calculate_total=True)
    assert page == EmailQueryPage(collapsed, 0, 4)
    oldest_first = await ids(store, account.id, collapse_threads=True, sort=by("receivedAt"))
    assert oldest_first == [c.report, c.spam, c.lunch, c.invoice]
    page = await query(store, account.id, collapse_threads=True, position=1, limit=2, calculate_total=True)
    assert page == EmailQueryPage(collapsed[1:3], 1, 4)
    page = await query(store, account.id, collapse_threads=True, position=-1)
    assert page == EmailQueryPage(collapsed[3:], 3, None)
    # The first of the thread among the matching emails, not in the whole thread.
    seen = EmailCondition(has_keyword="$seen")
    assert await ids(store, account.id, seen, collapse_threads=True) == [c.lunch, c.report]


async def test_anchors(store: Store, account: Account, corpus: Corpus) -> None:
    c = corpus
    everything = c.newest_first
    page = await query(store, account.id, anchor=c.reply, limit=2, calculate_total=True)
    assert page == EmailQueryPage([c.reply, c.spam], 2, 5)
    page = await query(store, account.id, anchor=c.reply, anchor_offset=-1, limit=2)
    assert page == EmailQueryPage([c.lunch, c.reply], 1, None)
    page = await query(store, account.id, anchor=c.reply, anchor_offset=-7, limit=2)
    assert page == EmailQueryPage(everything[:2], 0, None)
    page = await query(store, account.id, anchor=c.reply, anchor_offset=1)
    assert page == EmailQueryPage(everything[3:], 3, None)
    page = await query(store, account.id, anchor=c.report, anchor_offset=3, limit=5)
    assert page == EmailQueryPage([], 7, None)
    page = await query(store, account.id, anchor=c.reply, position=4, limit=1)
    assert page == EmailQueryPage([c.reply], 2, None), "the anchor overrides the position"
    collapsed = await query(store, account.id, anchor=c.spam, collapse_threads=True, anchor_offset=-1, limit=9)
    assert collapsed == EmailQueryPage([c.reply, c.spam], 2, None)
    for fields in (
        {"anchor": c.report, "collapse_threads": True},
        {"anchor": c.spam, "filter": EmailCondition(in_mailbox=c.inbox)},
        {"anchor": 4242},
    ):
        with pytest.raises(AnchorNotFound):
            await query(store, account.id, **fields)


async def test_queries_are_per_account(store: Store, account: Account, corpus: Corpus) -> None:
    bob = await make_account(store, "bob")
    bobs_inbox = await make_mailbox(store, bob.id, "Inbox")
    bobs = await make_email(store, bob.id, [bobs_inbox.id], body="pizza")
    assert await ids(store, bob.id) == [bobs.id]
    assert await ids(store, bob.id, EmailCondition(in_mailbox=corpus.inbox)) == []
    assert await ids(store, bob.id, EmailCondition(body="pizza")) == [bobs.id]
    assert await ids(store, account.id, EmailCondition(in_mailbox=bobs_inbox.id)) == []
    assert (await query(store, bob.id, calculate_total=True, collapse_threads=True)).total == 1
