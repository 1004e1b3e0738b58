"""The WebDAV ``If`` request header (RFC 4918 §10.4) and the other LOCK-related headers.

Grammar (RFC 4918 §10.4.2, LWS allowed between all tokens)::

    If          = ( 1*No-tag-list | 1*Tagged-list )
    No-tag-list = List
    Tagged-list = Resource-Tag 1*List
    List        = "(" 1*Condition ")"
    Condition   = ["Not"] (State-token | "[" entity-tag "]")
    State-token = Coded-URL                       ; "<" absolute-URI ">"
    Resource-Tag = "<" Simple-ref ">"             ; absolute-URI or path-absolute [ "?" query ]

State tokens are handled without their angle brackets (``urn:uuid:...``), both in parsed conditions and in
:class:`ResourceState.lock_tokens`.  Paths — the ``request_path`` given to :func:`evaluate`, the reduced path of a
resource tag and the argument of the ``state`` callback — are always *percent-decoded* URL paths
(``/dav/files/u/a b``), never encoded ones.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = [
    "NO_LOCK",
    "Condition",
    "ConditionList",
    "IfHeader",
    "IfHeaderSyntaxError",
    "ResourceState",
    "evaluate",
    "parse_if_header",
    "parse_lock_token_header",
    "parse_timeout",
    "resource_tag_path",
]

NO_LOCK = "DAV:no-lock"
"""The state token no lock ever has: ``(Not <DAV:no-lock>)`` is always true, ``(<DAV:no-lock>)`` always false."""

DEFAULT_TIMEOUT = 600
"""Lock timeout in seconds when the client asks for none we accept (before clamping to the server maximum)."""

_LWS = " \t\r\n"
_CODED_URL_FORBIDDEN = re.compile(r"[\s<>]")


class IfHeaderSyntaxError(ValueError):
    """A malformed ``If`` header; the request is answered with 400 Bad Request."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition: a state token (without ``<>``) or an entity tag (as written, with quotes and any ``W/``)."""

    negated: bool
    state_token: str | None
    etag: str | None


@dataclass(frozen=True, slots=True)
class ConditionList:
    """A parenthesised list; ``resource`` is the resource tag as written (without ``<>``), None when untagged."""

    resource: str | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class IfHeader:
    """A parsed ``If`` header: true when any of its lists is true."""

    lists: tuple[ConditionList, ...]

    @property
    def submitted_tokens(self) -> frozenset[str]:
        """Every lock token named anywhere in the header, negated or not (RFC 4918 §10.4.1).

        A token counts as submitted just by appearing in the header, whether or not its list matches, so a
        lock owner may write ``(Not <DAV:no-lock>) (<token>)`` or even ``(Not <token>)``.  The pseudo token
        ``DAV:no-lock`` is not a lock token and is left out.
        """
        return frozenset(
            condition.state_token
            for condition_list in self.lists
            for condition in condition_list.conditions
            if condition.state_token is not None and condition.state_token != NO_LOCK
        )


@dataclass(frozen=True, slots=True)
class ResourceState:
    """What the If header is checked against: the strong entity tag (quoted, None if absent) and covering locks."""

    etag: str | None
    lock_tokens: frozenset[str]


# --- parsing -------------------------------------------------------------------------------------------------


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_lws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _LWS:
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_lws()
        return self.pos >= len(self.text)

    def peek(self) -> str:
        self.skip_lws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def error(self, message: str) -> IfHeaderSyntaxError:
        return IfHeaderSyntaxError(f"invalid If header at offset {self.pos}: {message}")

    def coded_url(self) -> str:
        """Read ``<...>`` and return what is between the brackets."""
        self.skip_lws()
        if self.peek() != "<":
            raise self.error("expected '<'")
        end = self.text.find(">", self.pos + 1)
        if end < 0:
            raise self.error("unterminated '<'")
        inner = self.text[self.pos + 1 : end]
        if not inner or _CODED_URL_FORBIDDEN.search(inner):
            raise self.error(f"invalid URL <{inner}>")
        self.pos = end + 1
        return inner

    def entity_tag(self) -> str:
        """Read ``[ [W/]"opaque" ]`` and return the entity tag exactly as written."""
        self.pos += 1  # "["
        self.skip_lws()
        start = self.pos
        if self.text.startswith(("W/", "w/"), self.pos):
            self.pos += 2
        if self.pos >= len(self.text) or self.text[self.pos] != '"':
            raise self.error("expected a quoted entity tag")
        self.pos += 1
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated entity tag")
            char = self.text[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                break
        etag = self.text[start : self.pos]
        if self.peek() != "]":
            raise self.error("expected ']' after entity tag")
        self.pos += 1
        return etag

    def condition_list(self, resource: str | None) -> ConditionList:
        self.pos += 1  # "("
        conditions: list[Condition] = []
        while True:
            char = self.peek()
            if char == ")":
                self.pos += 1
                break
            if not char:
                raise self.error("unterminated list")
            negated = False
            if self.text[self.pos : self.pos + 3].lower() == "not":
                self.pos += 3
                following = self.text[self.pos : self.pos + 1]
                if following not in ("<", "[") and (not following or following not in _LWS):
                    raise self.error("'Not' must be followed by a condition")
                negated = True
                char = self.peek()
            if char == "<":
                conditions.append(Condition(negated, self.coded_url(), None))
            elif char == "[":
                conditions.append(Condition(negated, None, self.entity_tag()))
            else:
                raise self.error(f"unexpected {char!r} in list" if char else "unterminated list")
        if not conditions:
            raise self.error("empty list")
        return ConditionList(resource, tuple(conditions))


def resource_tag_path(tag: str) -> str:
    """Reduce a resource tag (absolute URI or absolute path, without ``<>``) to its percent-decoded path."""
    try:
        parts = urlsplit(tag)
    except ValueError as exc:
        raise IfHeaderSyntaxError(f"resource tag <{tag}> is not a URL") from exc
    if parts.scheme:
        path = parts.path or "/"
    elif tag.startswith("/") and not tag.startswith("//"):
        path = parts.path
    else:
        raise IfHeaderSyntaxError(f"resource tag <{tag}> is neither an absolute URI nor an absolute path")
    try:
        return unquote(path, errors="strict")
    except UnicodeDecodeError as exc:
        raise IfHeaderSyntaxError(f"resource tag <{tag}> is not UTF-8") from exc


def parse_if_header(value: str) -> IfHeader:
    """Parse an ``If`` header value; raise :class:`IfHeaderSyntaxError` when it is malformed."""
    scanner = _Scanner(value)
    lists: list[ConditionList] = []
    tagged: bool | None = None
    resource: str | None = None
    lists_for_resource = 0
    while not scanner.at_end():
        char = scanner.peek()
        if char == "<":
            if tagged is False:
                raise scanner.error("resource tag after untagged list")
            if tagged and lists_for_resource == 0:
                raise scanner.error("resource tag without a list")
            tagged = True
            resource = scanner.coded_url()
            resource_tag_path(resource)  # validate now, so evaluation cannot fail
            lists_for_resource = 0
        elif char == "(":
            if tagged is None:
                tagged = False
            lists.append(scanner.condition_list(resource))
            lists_for_resource += 1
        else:
            raise scanner.error(f"unexpected {char!r}")
    if not lists:
        raise IfHeaderSyntaxError("invalid If header: no list")
    if tagged and lists_for_resource == 0:
        raise IfHeaderSyntaxError("invalid If header: resource tag without a list")
    return IfHeader(tuple(lists))


# --- evaluation ----------------------------------------------------------------------------------------------


def _condition_holds(condition: Condition, state: ResourceState) -> bool:
    if condition.state_token is not None:
        matched = condition.state_token != NO_LOCK and condition.state_token in state.lock_tokens
    else:
        # Strong comparison (RFC 4918 §10.4.4): a weak tag on either side never matches.
        etag = condition.etag or ""
        matched = (
            state.etag is not None
            and not etag.startswith(("W/", "w/"))
            and not state.etag.startswith(("W/", "w/"))
            and etag == state.etag
        )
    return matched != condition.negated


async def evaluate(
    header: IfHeader,
    request_path: str,
    state: Callable[[str], Awaitable[ResourceState]],
) -> bool:
    """True when any list of ``header`` holds; a list holds when all its conditions do.

    Untagged lists apply to ``request_path``, tagged lists to their resource tag's path; both are decoded paths
    and are what ``state`` is called with — at most once per distinct path within this call.
    """
    cache: dict[str, ResourceState] = {}
    for condition_list in header.lists:
        path = request_path if condition_list.resource is None else resource_tag_path(condition_list.resource)
        if path not in cache:
            cache[path] = await state(path)
        resource_state = cache[path]
        if all(_condition_holds(condition, resource_state) for condition in condition_list.conditions):
            return True
    return False


# --- Timeout and Lock-Token ----------------------------------------------------------------------------------

_SECOND = re.compile(r"second-(\d+)", re.IGNORECASE)


def parse_timeout(value: str | None, max_seconds: int) -> int:
    """Lock timeout in seconds from a ``Timeout`` header (RFC 4918 §10.7), clamped to ``1..max_seconds``.

    The first acceptable ``Second-N`` or ``Infinite`` wins (Infinite means ``max_seconds``); when the header is
    missing or has no acceptable value the default is ``min(600, max_seconds)``.
    """
    for item in (value or "").split(","):
        item = item.strip(_LWS)
        if item.lower() == "infinite":
            return max(1, max_seconds)
        match = _SECOND.fullmatch(item)
        if match:
            return max(1, min(int(match.group(1)), max_seconds))
    return max(1, min(DEFAULT_TIMEOUT, max_seconds))


def parse_lock_token_header(value: str) -> str:
    """The lock token of a ``Lock-Token: <urn:uuid:...>`` header, without brackets; ValueError if malformed."""
    text = value.strip(_LWS)
    if len(text) < 3 or text[0] != "<" or text[-1] != ">" or _CODED_URL_FORBIDDEN.search(text[1:-1]):
        raise ValueError(f"Lock-Token is not a Coded-URL: {value!r}")
    return text[1:-1]
