"""Full-text search of emails for ``SqliteTransaction``: FTS5 match expressions and search snippets.

User text never reaches FTS5 as syntax: every word becomes a quoted FTS5 string (inner quotes doubled, NUL
taken as a space), words without a letter or digit are dropped (FTS5 would tokenize them to an empty phrase,
which matches nothing), and several words must all match. A text field with no searchable word at all matches
no email.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence

from storage.mail import EmailCondition, EmailFilter, EmailFilterOperator, Snippet
from storage.sqlite.objects import MailBase, chunks, marks

ANY_TEXT = "{subject from_ to cc bcc body attachments}"
FIELD_COLUMNS = {
    "text": ANY_TEXT,
    "from_": "from_",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "subject": "subject",
    "body": "body",
}
"""``EmailCondition`` text fields and the FTS5 column filter each searches."""
SUBJECT_COLUMN, BODY_COLUMN = 0, 5
HEADER_FUNCTION = "mail_header_matches"
OPEN, CLOSE = "\x02", "\x03"
"""Match markers asked of highlight()/snippet(); only these become ``<mark>`` tags, the rest is escaped."""
WITHOUT_MARKERS = str.maketrans("", "", OPEN + CLOSE)
PREVIEW_CHARS = 255
PREVIEW_TOKENS = 24


def fts_phrases(text: str) -> list[str]:
    # FTS5 reads its query as a C string: a NUL would end it inside a quoted string.
    words = text.replace("\x00", " ").split()
    return ['"' + word.replace('"', '""') + '"' for word in words if any(ch.isalnum() for ch in word)]


def fts_match(condition: EmailCondition) -> list[str] | None:
    """Column-filtered FTS5 clauses that must all match, one per text field set (and the header's name); None
    when a set field has no searchable word, so the condition matches nothing."""
    clauses = []
    for field, columns in FIELD_COLUMNS.items():
        text = getattr(condition, field)
        if text is None:
            continue
        phrases = fts_phrases(text)
        if not phrases:
            return None
        clauses.append(f"{columns} : ({' AND '.join(phrases)})")
    # The header's name narrows to emails with its words in some header; header_matches() then checks exactly.
    if condition.header and (phrases := fts_phrases(condition.header[0])):
        clauses.append(f"headers : ({' AND '.join(phrases)})")
    return clauses


def indexable(text: str) -> str:
    """Text as the index stores it: without the marker characters (control characters no one searches for), so
    the markers in highlight() output are always the ones asked for."""
    return text.translate(WITHOUT_MARKERS)


def header_matches(headers: str | None, name: str, value: str | None) -> bool:
    """Whether a ``name: value`` line of ``headers`` has this name and its value contains ``value`` (both
    compared case-insensitively)."""
    name = name.strip().lower()
    for line in (headers or "").split("\n"):
        field, colon, rest = line.partition(":")
        if colon and field.strip().lower() == name and (value is None or value.casefold() in rest.casefold()):
            return True
    return False


def _positive_conditions(filter: EmailFilter | None) -> Iterator[EmailCondition]:
    """Conditions whose matches an email shows: NOT branches are skipped (their terms are absent by design)."""
    if isinstance(filter, EmailCondition):
        yield filter
    elif isinstance(filter, EmailFilterOperator) and filter.operator != "NOT":
        for condition in filter.conditions:
            yield from _positive_conditions(condition)


def _snippet_match(filter: EmailFilter | None) -> str | None:
    """An FTS5 query matching any subject or body term of the filter, column-filtered so highlight() marks
    subject terms only in the subject and body terms only in the body."""
    subject: set[str] = set()
    body: set[str] = set()
    for condition in _positive_conditions(filter):
        for text in (condition.text, condition.subject):
            subject.update(fts_phrases(text or ""))
        for text in (condition.text, condition.body):
            body.update(fts_phrases(text or ""))
    columns = (("subject", subject), ("body", body))
    clauses = [f"{column} : ({' OR '.join(sorted(terms))})" for column, terms in columns if terms]
    return " OR ".join(clauses) or None


def marked_html(text: str, limit: int | None = None) -> str | None:
    """Escaped HTML of highlight()/snippet() output with ``<mark>`` around the marked runs, or None when nothing
    is marked. Tags are emitted here only and always balanced (a second line of defence: ``indexable`` keeps
    marker characters out of the stored text); ``limit`` caps the visible characters."""
    if OPEN not in text:
        return None
    out: list[str] = []
    inside = False
    shown = 0
    for char in text:
        if char == OPEN:
            out.append("" if inside else "<mark>")
            inside = True
        elif char == CLOSE:
            out.append("</mark>" if inside else "")
            inside = False
        elif limit is not None and shown >= limit:
            out.append("\u2026")
            break
        else:
            out.append(html.escape(char))
            shown += 1
    if inside:
        out.append("</mark>")
    return "".join(out)


class SearchMixin(MailBase):
    async def search_snippets(
        self, account_id: int, email_ids: Sequence[int], filter: EmailFilter | None
    ) -> dict[int, Snippet]:
        existing: list[int] = []
        for chunk in chunks(email_ids):
            rows = await self._all(
                f"SELECT id FROM emails WHERE account_id = ? AND id IN ({marks(chunk)})", [account_id, *chunk]
            )
            existing += [row[0] for row in rows]
        snippets = {email_id: Snippet(None, None) for email_id in existing}
        match = _snippet_match(filter)
        if match is None:
            return snippets
        for chunk in chunks(existing):
            rows = await self._all(
                f"SELECT rowid, highlight(email_fts, {SUBJECT_COLUMN}, ?, ?), "
                f"snippet(email_fts, {BODY_COLUMN}, ?, ?, '\u2026', {PREVIEW_TOKENS}) "
                f"FROM email_fts WHERE email_fts MATCH ? AND rowid IN ({marks(chunk)})",
                [OPEN, CLOSE, OPEN, CLOSE, match, *chunk],
            )
            for email_id, subject, preview in rows:
                snippets[email_id] = Snippet(marked_html(subject or ""), marked_html(preview or "", PREVIEW_CHARS))
        return snippets

    async def _register_header_function(self) -> None:
        """The exact check behind the ``header`` filter; registering again is harmless and cheap."""
        await self._conn.create_function(HEADER_FUNCTION, 3, header_matches, deterministic=True)
