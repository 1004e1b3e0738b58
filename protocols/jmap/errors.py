"""JMAP errors at the three levels of RFC 8620: request (problem+json), method (error response), object (SetError)."""

from __future__ import annotations

from typing import Any

PROBLEM_PREFIX = "urn:ietf:params:jmap:error:"


class RequestError(Exception):
    """The whole request is refused (RFC 8620 §3.6.1): answered as ``application/problem+json``."""

    def __init__(self, kind: str, detail: str, *, status: int = 400, limit: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status
        self.limit = limit

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_PREFIX + self.kind, "status": self.status, "detail": self.detail}
        if self.limit is not None:
            body["limit"] = self.limit
        return body


class MethodError(Exception):
    """One method call fails (RFC 8620 §3.6.2): answered as an ``error`` invocation, the request goes on."""

    def __init__(self, kind: str, description: str | None = None, **extra: Any) -> None:
        super().__init__(description or kind)
        self.kind = kind
        self.description = description
        self.extra = extra

    def arguments(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.kind, **self.extra}
        if self.description:
            body["description"] = self.description
        return body


def invalid_arguments(description: str) -> MethodError:
    return MethodError("invalidArguments", description)


class SetError(Exception):
    """One object of a ``/set`` (or import/copy) fails (RFC 8620 §5.3); the others go on."""

    def __init__(self, kind: str, description: str | None = None, **extra: Any) -> None:
        super().__init__(description or kind)
        self.kind = kind
        self.description = description
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.kind, **self.extra}
        if self.description:
            body["description"] = self.description
        return body


def invalid_properties(*properties: str, description: str | None = None) -> SetError:
    return SetError("invalidProperties", description, properties=list(properties))
