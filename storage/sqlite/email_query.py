"""``Email/query`` for ``SqliteTransaction``: the filter tree compiled to SQL, sorted and windowed in SQLite.

A query whose filter names a mailbox (alone, or in a top-level AND) is driven by the mailbox's
``(mailbox_id, received_at DESC, email_id DESC)`` index, so "newest N of the inbox" reads N index entries
whatever the mailbox holds. A query that must match the full-text index starts from the search hits instead
and sorts them (a rare word costs its hits, not the mailbox; a word in most mail costs a sort). Collapsed
threads and anchors walk the sorted rows and stop as soon as the page is complete, instead of ranking the whole
result with a window function: the common page then costs its own size.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storage.mail import (
    AnchorNotFound,
    EmailCondition,
    EmailFilter,
    EmailFilterOperator,
    EmailQuery,
    EmailQueryPage,
    EmailSort,
)
from storage.sqlite.email_search import HEADER_FUNCTION, SearchMixin, fts_match
from storage.sqlite.objects import marks

DEFAULT_SORT = (EmailSort("receivedAt", is_ascending=False),)
WALK_BATCH = 256
"""Rows fetched at a time when walking sorted results (collapsed threads, anchors)."""
SORT_COLUMNS = {
    "size": "e.size",
    "from": "e.sort_from",
    "to": "e.sort_to",
    "subject": "e.sort_subject",
    "sentAt": "e.sent_at",
}
HAS_KEYWORD = "EXISTS (SELECT 1 FROM email_keywords k WHERE k.email_id = e.id AND k.keyword = ?)"
SOME_IN_THREAD = (
    "EXISTS (SELECT 1 FROM emails t JOIN email_keywords k ON k.email_id = t.id"
    " WHERE t.thread_id = e.thread_id AND k.keyword = ?)"
)
ALL_IN_THREAD = (
    "NOT EXISTS (SELECT 1 FROM emails t WHERE t.thread_id = e.thread_id"
    " AND NOT EXISTS (SELECT 1 FROM email_keywords k WHERE k.email_id = t.id AND k.keyword = ?))"
)
KEYWORD_SORTS = {
    "hasKeyword": HAS_KEYWORD,
    "someInThreadHaveKeyword": SOME_IN_THREAD,
    "allInThreadHaveKeyword": ALL_IN_THREAD,
}


class FilterCompiler:
    """Turns an ``EmailFilter`` into a SQL condition on ``emails e``, collecting its parameters in order."""

    def __init__(self) -> None:
        self.params: list[Any] = []
        self.uses_header = False

    def compile(self, filter: EmailFilter | None) -> str:
        if filter is None:
            return "1"
        if isinstance(filter, EmailCondition):
            return self._condition(filter)
        parts = [self.compile(condition) for condition in filter.conditions]
        if filter.operator == "AND":
            return f"({' AND '.join(parts)})" if parts else "1"
        if filter.operator == "OR":
            return f"({' OR '.join(parts)})" if parts else "0"
        if filter.operator == "NOT":
            return f"NOT ({' OR '.join(parts)})" if parts else "1"
        raise ValueError(f"unknown filter operator {filter.operator!r}")

    def _add(self, parts: list[str], sql: str, *params: Any) -> None:
        parts.append(sql)
        self.params.extend(params)

    def _condition(self, c: EmailCondition) -> str:
        parts: list[str] = []
        member = "SELECT 1 FROM email_mailboxes m WHERE m.email_id = e.id AND m.mailbox_id"
        if c.in_mailbox is not None:
            self._add(parts, f"EXISTS ({member} = ?)", c.in_mailbox)
        if c.in_mailbox_other_than is not None:
            others = list(c.in_mailbox_other_than)
            self._add(parts, f"EXISTS ({member} NOT IN ({marks(others)}))", *others)
        for value, sql in (
            (c.before, "e.received_at < ?"),
            (c.after, "e.received_at >= ?"),
            (c.min_size, "e.size >= ?"),
            (c.max_size, "e.size < ?"),
            (c.has_keyword, HAS_KEYWORD),
            (c.not_keyword, f"NOT {HAS_KEYWORD}"),
            (c.all_in_thread_have_keyword, ALL_IN_THREAD),
            (c.some_in_thread_have_keyword, SOME_IN_THREAD),
            (c.none_in_thread_have_keyword, f"NOT {SOME_IN_THREAD}"),
        ):
            if value is not None:
                self._add(parts, sql, value)
        if c.has_attachment is not None:
            self._add(parts, "e.has_attachment = ?", int(c.has_attachment))
        parts += self._text(c)
        return f"({' AND '.join(parts)})" if parts else "1"

    def _text(self, c: EmailCondition) -> list[str]:
        clauses = fts_match(c)
        if clauses is None:
            return ["0"]
        if c.header is not None and not 1 <= len(c.header) <= 2:
            raise ValueError("header takes a name and optionally a value")
        check = ""
        check_params: list[Any] = []
        if c.header:
            self.uses_header = True
            check = f"{HEADER_FUNCTION}(headers, ?, ?)"
            check_params = [c.header[0], c.header[1] if len(c.header) == 2 else None]
        parts: list[str] = []
        if clauses:
            where = "email_fts MATCH ?" + (f" AND {check}" if check else "")
            match = " AND ".join(clauses)
            self._add(parts, f"e.id IN (SELECT rowid FROM email_fts WHERE {where})", match, *check_params)
        elif check:
            # A header name without words to search for: check the email's own row only.
            self._add(parts, f"EXISTS (SELECT 1 FROM email_fts WHERE rowid = e.id AND {check})", *check_params)
        return parts


def _driving_mailbox(filter: EmailFilter | None) -> tuple[int | None, EmailFilter | None]:
    """The mailbox every result must be in, if the filter says so at its top, and the rest of the filter."""
    if isinstance(filter, EmailCondition) and filter.in_mailbox is not None:
        return filter.in_mailbox, replace(filter, in_mailbox=None)
    if isinstance(filter, EmailFilterOperator) and filter.operator == "AND":
        for index, condition in enumerate(filter.conditions):
            if isinstance(condition, EmailCondition) and condition.in_mailbox is not None:
                rest = list(filter.conditions)
                rest[index] = replace(condition, in_mailbox=None)
                return condition.in_mailbox, replace(filter, conditions=tuple(rest))
    return None, filter


def _requires_text(filter: EmailFilter | None) -> bool:
    """Whether every result must match the full-text index (a text field in the filter or in a top-level AND):
    then the search hits, usually few, drive the query instead of a walk of the whole date index."""
    if isinstance(filter, EmailCondition):
        return bool(fts_match(filter))
    if isinstance(filter, EmailFilterOperator) and filter.operator == "AND":
        return any(_requires_text(condition) for condition in filter.conditions)
    return False


def _order(sorts: tuple[EmailSort, ...], received: str, ident: str) -> tuple[str, list[Any]]:
    """ORDER BY terms and their parameters; the id breaks ties in the direction of the first sort."""
    sorts = sorts or DEFAULT_SORT
    terms: list[str] = []
    params: list[Any] = []
    for sort in sorts:
        if sort.property == "receivedAt":
            expression = received
        elif sort.property in SORT_COLUMNS:
            expression = SORT_COLUMNS[sort.property]
        elif sort.property in KEYWORD_SORTS:
            if not sort.keyword:
                raise ValueError(f"{sort.property} needs a keyword")
            expression = KEYWORD_SORTS[sort.property]
            params.append(sort.keyword)
        else:
            raise ValueError(f"unsupported sort {sort.property!r}")
        terms.append(f"{expression} {'ASC' if sort.is_ascending else 'DESC'}")
    terms.append(f"{ident} {'ASC' if sorts[0].is_ascending else 'DESC'}")
    return ", ".join(terms), params


class QueryMixin(SearchMixin):
    async def query_emails(self, account_id: int, query: EmailQuery) -> EmailQueryPage:
        if query.limit is not None and query.limit < 0:
            raise ValueError("negative limit")
        searched = _requires_text(query.filter)
        mailbox_id, rest = (None, query.filter) if searched else _driving_mailbox(query.filter)
        compiler = FilterCompiler()
        condition = compiler.compile(rest)
        if searched:
            # Unary + keeps SQLite off the account's date index: it starts from the search hits and sorts them.
            source, params = "emails e WHERE +e.account_id = ?", [account_id]
            received, ident = "+e.received_at", "+e.id"
        elif mailbox_id is None:
            source, params = "emails e WHERE e.account_id = ?", [account_id]
            received, ident = "e.received_at", "e.id"
        else:
            # CROSS JOIN keeps the mailbox index as the outer loop, which already yields rows in date order.
            source = "email_mailboxes em CROSS JOIN emails e ON e.id = em.email_id WHERE em.mailbox_id = ?"
            source += " AND e.account_id = ?"
            params = [mailbox_id, account_id]
            received, ident = "em.received_at", "em.email_id"
        selection = f"FROM {source} AND {condition}"
        params += compiler.params
        order, order_params = _order(query.sort, received, ident)
        if compiler.uses_header:
            await self._register_header_function()

        total = None
        if query.calculate_total or (query.position < 0 and query.anchor is None):
            total = await self._total(account_id, query, selection, params)
        position = query.position if query.position >= 0 else max(0, (total or 0) + query.position)
        sql = f"SELECT e.id, e.thread_id {selection} ORDER BY {order}"
        if query.anchor is None and not query.collapse_threads:
            limit = -1 if query.limit is None else query.limit
            rows = await self._all(f"{sql} LIMIT ? OFFSET ?", [*params, *order_params, limit, position])
            ids = [row[0] for row in rows]
        else:
            position, ids = await self._walk(sql, [*params, *order_params], query, position)
        return EmailQueryPage(ids, position, total if query.calculate_total else None)

    async def _total(self, account_id: int, query: EmailQuery, selection: str, params: list[Any]) -> int:
        """A whole mailbox's total is in its counters (emails, or threads when collapsed); else count."""
        mailbox_id = query.filter.in_mailbox if isinstance(query.filter, EmailCondition) else None
        if mailbox_id is not None and query.filter == EmailCondition(in_mailbox=mailbox_id):
            counter = "total_threads" if query.collapse_threads else "total_emails"
            row = await self._one(
                f"SELECT {counter} FROM mailboxes WHERE id = ? AND account_id = ?", (mailbox_id, account_id)
            )
        else:
            counted = "COUNT(DISTINCT e.thread_id)" if query.collapse_threads else "COUNT(*)"
            row = await self._one(f"SELECT {counted} {selection}", params)
        return int(row[0]) if row else 0

    async def _walk(self, sql: str, params: list[Any], query: EmailQuery, position: int) -> tuple[int, list[int]]:
        """Read sorted rows until the page is complete, keeping only each thread's first email when collapsing
        and locating the anchor (which then sets the position); returns the position and the page."""
        seen_threads: set[int] = set()
        found: list[int] = []
        anchored = query.anchor is None
        async with self._conn.execute(sql, params) as cursor:
            while rows := list(await cursor.fetchmany(WALK_BATCH)):
                for email_id, thread_id in rows:
                    if query.collapse_threads:
                        if thread_id in seen_threads:
                            continue
                        seen_threads.add(thread_id)
                    if not anchored and email_id == query.anchor:
                        anchored = True
                        position = max(0, len(found) + query.anchor_offset)
                    found.append(email_id)
                if anchored and query.limit is not None and len(found) >= position + query.limit:
                    break
        if not anchored:
            raise AnchorNotFound(str(query.anchor))
        end = None if query.limit is None else position + query.limit
        return position, found[position:end]
