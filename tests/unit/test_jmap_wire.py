"""The JMAP envelope without a server: JSON pointers with '*', reference resolution, serverFail hygiene, patches."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.auth import Principal
from protocols.jmap.context import CallContext, JmapLimits, ServerInfo
from protocols.jmap.dispatch import run_request
from protocols.jmap.errors import MethodError, SetError
from protocols.jmap.generic import apply_patch
from protocols.jmap.registry import CORE, Capability, JmapRegistry
from protocols.jmap.wire import Invocation, evaluate_pointer, parse_request, resolve_references

DOCUMENT = {"list": [{"id": "a", "tags": ["x", "y"]}, {"id": "b", "tags": ["z"]}], "a/b": 1, "m~n": 2}


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("", DOCUMENT),
        ("/list/0/id", "a"),
        ("/list/*/id", ["a", "b"]),
        ("/list/*/tags", ["x", "y", "z"]),
        ("/a~1b", 1),
        ("/m~0n", 2),
    ],
)
def test_pointer(pointer: str, expected: Any) -> None:
    assert evaluate_pointer(DOCUMENT, pointer) == expected


@pytest.mark.parametrize("pointer", ["list", "/nope", "/list/2", "/list/x", "/list/0/id/deeper", "/list/-1"])
def test_pointer_misses(pointer: str) -> None:
    with pytest.raises(LookupError):
        evaluate_pointer(DOCUMENT, pointer)


def test_references_resolve_against_earlier_responses() -> None:
    earlier = [Invocation("Foo/query", {"ids": ["1", "2"]}, "q")]
    resolved = resolve_references({"#ids": {"resultOf": "q", "name": "Foo/query", "path": "/ids"}, "x": 1}, earlier)
    assert resolved == {"ids": ["1", "2"], "x": 1}
    with pytest.raises(MethodError) as caught:
        resolve_references({"#ids": {"resultOf": "q", "name": "Bar/query", "path": "/ids"}}, earlier)
    assert caught.value.kind == "invalidResultReference"


def test_parse_request_keeps_created_ids() -> None:
    parsed = parse_request(b'{"using":["a"],"methodCalls":[["X/y",{},"0"]],"createdIds":{"k":"v"}}')
    assert parsed.using == ("a",) and parsed.method_calls[0].name == "X/y" and parsed.created_ids == {"k": "v"}


async def test_unexpected_failures_become_server_fail_without_details() -> None:
    registry = JmapRegistry()
    registry.add_capability(Capability(CORE))

    async def broken(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("secret internal detail /var/lib/db")

    registry.add_method("Test/broken", CORE, broken)
    server = ServerInfo(registry, JmapLimits(), "", "x", max_message_bytes=1 << 20)
    ctx = CallContext(store=None, principal=Principal(1, "u"), server=server)  # type: ignore[arg-type]
    request = parse_request(b'{"using":[],"methodCalls":[["Test/broken",{},"0"],["Test/broken",{},"1"]]}')
    body = await run_request(ctx, request, "s")
    assert body["methodResponses"] == [["error", {"type": "serverFail"}, "0"], ["error", {"type": "serverFail"}, "1"]]
    assert "secret" not in str(body)


def test_patch_sets_removes_and_refuses_overlaps() -> None:
    current = {"keywords": {"$seen": True}, "name": "x"}
    assert apply_patch(current, {"keywords/$flagged": True, "keywords/$seen": None}) == {
        "keywords": {"$flagged": True},
        "name": "x",
    }
    assert apply_patch(current, {"keywords/a~1b": True})["keywords"] == {"$seen": True, "a/b": True}
    with pytest.raises(SetError) as caught:
        apply_patch(current, {"keywords": {}, "keywords/$seen": True})
    assert caught.value.kind == "invalidPatch"
    with pytest.raises(SetError):
        apply_patch(current, {"name/deeper": 1})
