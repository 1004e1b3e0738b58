"""Search snippets: matches marked with <mark>, everything else HTML-escaped, None where nothing matched."""

from __future__ import annotations

import re

from storage.api import Account, Store
from storage.mail import EmailCondition, EmailFilter, EmailFilterOperator, Snippet
from tests.contract.helpers import make_account, make_email, make_mailbox


async def snippets(store: Store, account_id: int, ids: list[int], filter: EmailFilter | None) -> dict[int, Snippet]:
    async with store.read() as tx:
        return await tx.search_snippets(account_id, ids, filter)


def well_formed(html: str) -> bool:
    """Only <mark> tags, balanced and never nested; no other markup and no bare ampersands."""
    depth = 0
    for tag in re.findall(r"<[^>]*>", html):
        if tag not in ("<mark>", "</mark>"):
            return False
        depth += 1 if tag == "<mark>" else -1
        if depth not in (0, 1):
            return False
    return depth == 0 and re.search(r"&(?!(amp|lt|gt|quot|#x27);)", html) is None


async def test_subject_and_body_marked_separately(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(
        store, account.id, [inbox.id], subject="Quarterly report", body="the report shows numbers going up"
    )
    found = await snippets(store, account.id, [email.id], EmailCondition(subject="report"))
    assert found == {email.id: Snippet("Quarterly <mark>report</mark>", None)}
    found = await snippets(store, account.id, [email.id], EmailCondition(body="numbers"))
    assert found == {email.id: Snippet(None, "the report shows <mark>numbers</mark> going up")}
    found = await snippets(store, account.id, [email.id], EmailCondition(text="REPORT"))
    assert found == {
        email.id: Snippet("Quarterly <mark>report</mark>", "the <mark>report</mark> shows numbers going up")
    }
    either = EmailFilterOperator("OR", (EmailCondition(subject="quarterly"), EmailCondition(body="up")))
    found = await snippets(store, account.id, [email.id], either)
    assert found == {
        email.id: Snippet("<mark>Quarterly</mark> report", "the report shows numbers going <mark>up</mark>")
    }


async def test_no_text_no_match_and_missing_emails(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(store, account.id, [inbox.id], subject="Hello", body="world")
    bob = await make_account(store, "bob")
    bobs = await make_email(store, bob.id, [(await make_mailbox(store, bob.id, "Inbox")).id], subject="Hello")
    empty = Snippet(None, None)
    assert await snippets(store, account.id, [email.id], None) == {email.id: empty}
    assert await snippets(store, account.id, [email.id], EmailCondition(in_mailbox=inbox.id)) == {email.id: empty}
    assert await snippets(store, account.id, [email.id], EmailCondition(text="absent")) == {email.id: empty}
    asked = [email.id, bobs.id, 4242]
    assert await snippets(store, account.id, asked, EmailCondition(text="hello")) == {
        email.id: Snippet("<mark>Hello</mark>", None)
    }
    negated = EmailFilterOperator("NOT", (EmailCondition(text="hello"),))
    assert await snippets(store, account.id, [email.id], negated) == {email.id: empty}


async def test_everything_but_marks_is_escaped(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(
        store,
        account.id,
        [inbox.id],
        subject='<b>Tom & Jerry</b> "quoted" <script>alert(1)</script>',
        body="x < y & <mark>fake</mark> tom's <img src=x onerror=alert(1)>",
    )
    found = (await snippets(store, account.id, [email.id], EmailCondition(text="tom")))[email.id]
    assert found.subject == (
        "&lt;b&gt;<mark>Tom</mark> &amp; Jerry&lt;/b&gt; &quot;quoted&quot; &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert found.preview == (
        "x &lt; y &amp; &lt;mark&gt;fake&lt;/mark&gt; <mark>tom</mark>&#x27;s &lt;img src=x onerror=alert(1)&gt;"
    )
    for text in ("script", "mark", "img alert", "fake"):
        found = (await snippets(store, account.id, [email.id], EmailCondition(text=text)))[email.id]
        for html in (found.subject, found.preview):
            assert html is None or well_formed(html), html


async def test_marker_like_characters_in_text_stay_harmless(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    odd = "".join(chr(code) for code in range(1, 32) if chr(code) not in "\t\n\r")
    email = await make_email(store, account.id, [inbox.id], subject=f"start {odd} tom {odd}", body=f"{odd} tom {odd}")
    found = (await snippets(store, account.id, [email.id], EmailCondition(text="tom")))[email.id]
    assert found.subject is not None and found.preview is not None
    assert well_formed(found.subject) and well_formed(found.preview)
    assert found.subject.count("<mark>") == found.preview.count("<mark>") == 1
    assert "<mark>tom</mark>" in found.subject and "<mark>tom</mark>" in found.preview


async def test_preview_is_short_extract(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    words = " ".join(f"word{n}" for n in range(2000))
    email = await make_email(store, account.id, [inbox.id], body=f"{words} needle {words}")
    found = (await snippets(store, account.id, [email.id], EmailCondition(body="needle")))[email.id]
    assert found.preview is not None and "<mark>needle</mark>" in found.preview
    assert len(found.preview.replace("<mark>", "").replace("</mark>", "")) <= 260


async def test_hostile_filter_text(store: Store, account: Account) -> None:
    inbox = await make_mailbox(store, account.id, "Inbox")
    email = await make_email(store, account.id, [inbox.id], subject="near and far", body="or else")
    for text in ('"', "NEAR(", "AND", "*", "OR else", "a\x00b", ""):
        await snippets(store, account.id, [email.id], EmailCondition(text=text))
    found = (await snippets(store, account.id, [email.id], EmailCondition(text='"AND"')))[email.id]
    assert found == Snippet("near <mark>and</mark> far", None)
