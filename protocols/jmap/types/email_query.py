"""Email/query and Email/queryChanges (RFC 8621 §4.4-4.5): JMAP filters and sorts become the store's query AST,
which the backend runs in its indexes so the cost follows the page asked for, not the mailbox."""

from __future__ import annotations

from typing import Any

from protocols.jmap import generic
from protocols.jmap.context import COLLATIONS, CallContext
from protocols.jmap.errors import MethodError, invalid_arguments
from protocols.jmap.ids import EMAIL, MAILBOX
from protocols.jmap.registry import MAIL, JmapRegistry
from protocols.jmap.types.email import TYPE, parse_utc_date
from storage.mail import (
    EMAIL_SORT_PROPERTIES,
    AnchorNotFound,
    EmailCondition,
    EmailFilter,
    EmailFilterOperator,
    EmailQuery,
    EmailSort,
)

KEYWORD_CONDITIONS = {
    "allInThreadHaveKeyword": "all_in_thread_have_keyword",
    "someInThreadHaveKeyword": "some_in_thread_have_keyword",
    "noneInThreadHaveKeyword": "none_in_thread_have_keyword",
    "hasKeyword": "has_keyword",
    "notKeyword": "not_keyword",
}
TEXT_CONDITIONS = {
    "text": "text",
    "from": "from_",
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "subject": "subject",
    "body": "body",
}
KEYWORD_SORTS = {"hasKeyword", "allInThreadHaveKeyword", "someInThreadHaveKeyword"}
NO_MAILBOX = -1
"""Stands for a mailbox id that is not ours: it matches nothing, as an unknown mailbox should."""


def valid_keyword(value: Any) -> bool:
    """RFC 8621 §4.1.1: 1-255 printable ASCII characters, none of ``( ) { ] % * " \\``."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 255
        and all(0x21 <= ord(c) <= 0x7E and c not in '(){]%*"\\' for c in value)
    )


def parse_filter(value: Any) -> EmailFilter:
    if not isinstance(value, dict):
        raise invalid_arguments("A filter must be an object.")
    if "operator" in value:
        operator = value["operator"]
        conditions = value.get("conditions")
        if (
            operator not in ("AND", "OR", "NOT")
            or not isinstance(conditions, list)
            or set(value)
            - {
                "operator",
                "conditions",
            }
        ):
            raise invalid_arguments("A FilterOperator is {operator: AND|OR|NOT, conditions: [...]}.")
        return EmailFilterOperator(operator, tuple(parse_filter(child) for child in conditions))
    return parse_condition(value)


def parse_condition(value: dict[str, Any]) -> EmailCondition:
    fields: dict[str, Any] = {}
    for key, argument in value.items():
        if key == "inMailbox":
            fields["in_mailbox"] = _mailbox(argument)
        elif key == "inMailboxOtherThan":
            if not isinstance(argument, list):
                raise invalid_arguments("inMailboxOtherThan must be an array of ids.")
            fields["in_mailbox_other_than"] = tuple(_mailbox(item) for item in argument)
        elif key in ("before", "after"):
            moment = parse_utc_date(argument)
            if moment is None:
                raise invalid_arguments(f"{key} must be a UTCDate such as 2024-01-31T12:00:00Z.")
            fields[key] = moment
        elif key in ("minSize", "maxSize"):
            fields["min_size" if key == "minSize" else "max_size"] = generic.unsigned_int(value, key)
        elif key in KEYWORD_CONDITIONS:
            if not valid_keyword(argument):
                raise invalid_arguments(f"{key} must be a keyword.")
            fields[KEYWORD_CONDITIONS[key]] = argument.lower()
        elif key == "hasAttachment":
            if not isinstance(argument, bool):
                raise invalid_arguments("hasAttachment must be a boolean.")
            fields["has_attachment"] = argument
        elif key in TEXT_CONDITIONS:
            if not isinstance(argument, str):
                raise invalid_arguments(f"{key} must be a string.")
            fields[TEXT_CONDITIONS[key]] = argument
        elif key == "header":
            if (
                not isinstance(argument, list)
                or not 1 <= len(argument) <= 2
                or not all(isinstance(item, str) for item in argument)
            ):
                raise invalid_arguments("header must be [name] or [name, value].")
            fields["header"] = tuple(argument)
        else:
            raise MethodError("unsupportedFilter", f"Unknown filter condition {key!r}.")
    return EmailCondition(**fields)


def _mailbox(value: Any) -> int:
    if not isinstance(value, str):
        raise invalid_arguments("Mailbox ids must be strings.")
    parsed = MAILBOX.parse(value)
    return NO_MAILBOX if parsed is None else parsed


def parse_sort(value: Any) -> tuple[EmailSort, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid_arguments("sort must be an array of Comparators.")
    sorts = []
    for comparator in value:
        prop = comparator.get("property")
        ascending = comparator.get("isAscending", True)
        collation = comparator.get("collation")
        if prop not in EMAIL_SORT_PROPERTIES:
            raise MethodError("unsupportedSort", f"Cannot sort by {prop!r}.")
        if collation is not None and collation not in COLLATIONS:
            raise MethodError("unsupportedSort", f"Unknown collation {collation!r}.")
        if not isinstance(ascending, bool):
            raise invalid_arguments("isAscending must be a boolean.")
        keyword = comparator.get("keyword")
        if prop in KEYWORD_SORTS:
            if not valid_keyword(keyword):
                raise invalid_arguments(f"Sorting by {prop} needs a keyword.")
            keyword = keyword.lower()
        sorts.append(EmailSort(prop, ascending, keyword if prop in KEYWORD_SORTS else None))
    return tuple(sorts)


def parse_query(arguments: dict[str, Any], window: generic.QueryWindow | None = None) -> EmailQuery:
    condition = arguments.get("filter")
    anchor = None
    if window is not None and window.anchor is not None:
        anchor = EMAIL.parse(window.anchor)
        if anchor is None:
            raise MethodError("anchorNotFound")
    return EmailQuery(
        filter=parse_filter(condition) if condition is not None else None,
        sort=parse_sort(arguments.get("sort")),
        collapse_threads=generic.boolean(arguments, "collapseThreads"),
        position=window.position if window else 0,
        anchor=anchor,
        anchor_offset=window.anchor_offset if window else 0,
        limit=window.limit if window else None,
        calculate_total=window.calculate_total if window else False,
    )


async def email_query(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    account_id = ctx.account(arguments)
    window = generic.query_window(ctx, arguments)
    query = parse_query(arguments, window)
    async with ctx.store.read() as tx:
        state = await tx.type_state(account_id, TYPE)
        try:
            page = await tx.query_emails(account_id, query)
        except AnchorNotFound:
            raise MethodError("anchorNotFound") from None
    result: dict[str, Any] = {
        "accountId": arguments["accountId"],
        "queryState": str(state),
        "canCalculateChanges": True,
        "position": page.position,
        "ids": [EMAIL.render(email_id) for email_id in page.ids],
        "collapseThreads": query.collapse_threads,
    }
    if page.total is not None:
        result["total"] = page.total
    return result


async def email_query_changes(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    """Everything touched since the old state is reported removed and, where it matches now, re-added; with
    collapseThreads every email of a touched thread counts as touched, since its representative may change."""
    account_id = ctx.account(arguments)
    since = generic.parse_state(arguments.get("sinceQueryState"))
    max_changes = generic.unsigned_int(arguments, "maxChanges", positive=True)
    query = parse_query(arguments)
    changed = {EMAIL.render(i) for i, _ in await generic.changed_ids(ctx, account_id, TYPE, since, max_changes)}
    if query.collapse_threads:
        threads = await generic.changed_ids(ctx, account_id, "Thread", since, None)
        async with ctx.store.read() as tx:
            members = await tx.get_threads(account_id, [int(i) for i, _ in threads])
        changed |= {EMAIL.render(email_id) for ids in members.values() for email_id in ids}
    async with ctx.store.read() as tx:
        state = await tx.type_state(account_id, TYPE)
        page = await tx.query_emails(account_id, query)
    current = [EMAIL.render(email_id) for email_id in page.ids]
    total = len(current) if generic.boolean(arguments, "calculateTotal") else None
    return generic.query_changes_result(arguments, since, str(state), current, changed, total=total)


def register(registry: JmapRegistry) -> None:
    registry.add_method("Email/query", MAIL, email_query)
    registry.add_method("Email/queryChanges", MAIL, email_query_changes)
