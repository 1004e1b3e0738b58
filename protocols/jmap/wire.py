"""The JMAP request and response envelope (RFC 8620 §3.3-3.7): parsing, result references, JSON pointers.

No storage here: this module turns bytes into typed invocations and resolves ``#``-prefixed arguments against
earlier responses of the same request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson

from protocols.jmap.errors import MethodError, RequestError


@dataclass(frozen=True, slots=True)
class Invocation:
    name: str
    arguments: dict[str, Any]
    call_id: str

    def to_json(self) -> list[Any]:
        return [self.name, self.arguments, self.call_id]


@dataclass(frozen=True, slots=True)
class Request:
    using: tuple[str, ...]
    method_calls: tuple[Invocation, ...]
    created_ids: dict[str, str] | None


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError("notJSON", f"The request body is not valid I-JSON: {exc}") from None


def encode_json(value: Any) -> bytes:
    return orjson.dumps(value)


def _is_string_list(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def parse_request(body: bytes) -> Request:
    """Raises RequestError notJSON / notRequest for anything that is not a Request object."""
    document = decode_json(body)
    if not isinstance(document, dict):
        raise RequestError("notRequest", "The request must be a JSON object.")
    using = document.get("using")
    calls = document.get("methodCalls")
    created_ids = document.get("createdIds")
    if not _is_string_list(using):
        raise RequestError("notRequest", "'using' must be an array of capability strings.")
    if not isinstance(calls, list):
        raise RequestError("notRequest", "'methodCalls' must be an array of invocations.")
    if created_ids is not None and not (
        isinstance(created_ids, dict) and all(isinstance(v, str) for v in created_ids.values())
    ):
        raise RequestError("notRequest", "'createdIds' must map creation ids to ids.")
    invocations = []
    for call in calls:
        if not (
            isinstance(call, list)
            and len(call) == 3
            and isinstance(call[0], str)
            and isinstance(call[1], dict)
            and isinstance(call[2], str)
        ):
            raise RequestError("notRequest", "Each invocation must be [name, arguments object, call id].")
        invocations.append(Invocation(call[0], call[1], call[2]))
    return Request(tuple(using), tuple(invocations), created_ids)


# --- JSON pointer with the JMAP '*' extension (RFC 8620 §3.7) --------------------------------------------------


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def evaluate_pointer(value: Any, pointer: str) -> Any:
    """Evaluate ``pointer`` against ``value``; ``*`` maps the rest over an array, flattening arrays it yields.

    Raises LookupError when the path does not exist."""
    if pointer == "":
        return value
    if not pointer.startswith("/"):
        raise LookupError(pointer)
    return _walk(value, pointer[1:].split("/"))


def _walk(value: Any, tokens: Sequence[str]) -> Any:
    if not tokens:
        return value
    token, rest = _unescape(tokens[0]), tokens[1:]
    if isinstance(value, list):
        if token == "*":
            results: list[Any] = []
            for item in value:
                found = _walk(item, rest)
                if isinstance(found, list):
                    results.extend(found)
                else:
                    results.append(found)
            return results
        if not token.isdigit() or int(token) >= len(value):
            raise LookupError(token)
        return _walk(value[int(token)], rest)
    if isinstance(value, dict):
        if token not in value:
            raise LookupError(token)
        return _walk(value[token], rest)
    raise LookupError(token)


def resolve_references(arguments: dict[str, Any], responses: Sequence[Invocation]) -> dict[str, Any]:
    """Replace every ``#name`` argument by the value its ResultReference points at (RFC 8620 §3.7)."""
    if not any(key.startswith("#") for key in arguments):
        return arguments
    resolved: dict[str, Any] = {}
    for key, value in arguments.items():
        if not key.startswith("#"):
            resolved[key] = value
            continue
        name = key[1:]
        if name in arguments:
            raise MethodError("invalidArguments", f"Both {name!r} and {key!r} are given.")
        resolved[name] = _follow(value, responses)
    return resolved


def _follow(reference: Any, responses: Sequence[Invocation]) -> Any:
    if not (
        isinstance(reference, Mapping)
        and isinstance(reference.get("resultOf"), str)
        and isinstance(reference.get("name"), str)
        and isinstance(reference.get("path"), str)
    ):
        raise MethodError("invalidResultReference", "A ResultReference needs resultOf, name and path strings.")
    for response in responses:
        if response.call_id == reference["resultOf"]:
            if response.name != reference["name"]:
                raise MethodError(
                    "invalidResultReference",
                    f"Call {reference['resultOf']!r} answered {response.name!r}, not {reference['name']!r}.",
                )
            try:
                return evaluate_pointer(response.arguments, reference["path"])
            except LookupError:
                raise MethodError(
                    "invalidResultReference", f"Path {reference['path']!r} does not exist in the result."
                ) from None
    raise MethodError("invalidResultReference", f"No earlier call has the id {reference['resultOf']!r}.")
