"""Run a JMAP request: check capabilities and limits, resolve references, call handlers, shape errors.

Every failure of one call becomes an ``error`` response for that call and the request goes on (RFC 8620
§3.6.2); anything unexpected is logged here and reported as ``serverFail`` without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from protocols.jmap.context import CallContext
from protocols.jmap.errors import MethodError, RequestError
from protocols.jmap.registry import CORE
from protocols.jmap.wire import Invocation, Request, resolve_references
from storage.api import StorageError

log = logging.getLogger(__name__)


async def run_request(ctx: CallContext, request: Request, session_state: str) -> dict[str, Any]:
    registry = ctx.server.registry
    unknown = [urn for urn in request.using if urn not in registry.capabilities]
    if unknown:
        raise RequestError("unknownCapability", f"Unknown capabilities: {', '.join(unknown)}")
    if len(request.method_calls) > ctx.limits.max_calls_in_request:
        raise RequestError(
            "limit",
            f"At most {ctx.limits.max_calls_in_request} method calls per request.",
            limit="maxCallsInRequest",
        )
    if request.created_ids:
        ctx.created_ids.update(request.created_ids)
    using = set(request.using) | {CORE}
    responses: list[Invocation] = []
    for call in request.method_calls:
        responses.extend(await run_call(ctx, call, using, responses))
    body: dict[str, Any] = {
        "methodResponses": [response.to_json() for response in responses],
        "sessionState": session_state,
    }
    if request.created_ids is not None:
        body["createdIds"] = dict(ctx.created_ids)
    return body


async def run_call(ctx: CallContext, call: Invocation, using: set[str], earlier: list[Invocation]) -> list[Invocation]:
    """One invocation's responses (one, or an error); implicit follow-up calls may add more."""
    method = ctx.server.registry.methods.get(call.name)
    try:
        if method is None or method.capability not in using:
            raise MethodError("unknownMethod", f"{call.name} is not offered under the capabilities in 'using'.")
        arguments = resolve_references(call.arguments, earlier)
        ctx.follow_ups.clear()
        result = await method.handler(ctx, arguments)
        follow_ups = list(ctx.follow_ups)
    except MethodError as exc:
        return [Invocation("error", exc.arguments(), call.call_id)]
    except StorageError as exc:
        log.warning("%s failed in storage: %r", call.name, exc)
        return [Invocation("error", {"type": "serverFail"}, call.call_id)]
    except Exception:
        log.exception("%s failed", call.name)
        return [Invocation("error", {"type": "serverFail"}, call.call_id)]
    responses = [Invocation(call.name, result, call.call_id)]
    for name, arguments in follow_ups:
        responses.extend(await run_call(ctx, Invocation(name, arguments, call.call_id), using, earlier + responses))
    return responses
