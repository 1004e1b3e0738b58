"""Errors a DAV handler raises to answer with a status and, where an RFC names one, a condition element."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from protocols.webdav.xml import error_body


class DavError(Exception):
    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        condition: str | None = None,
        condition_inner: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or str(status))
        self.status = status
        self.message = message
        self.condition = condition
        self.condition_inner = condition_inner
        self.headers = dict(headers or {})

    def response(self) -> Response:
        if self.condition is not None:
            return Response(
                error_body(self.condition, self.condition_inner),
                status_code=self.status,
                media_type="application/xml; charset=utf-8",
                headers=self.headers,
            )
        return Response(
            (self.message or "").encode() + b"\n" if self.message else b"",
            status_code=self.status,
            media_type="text/plain; charset=utf-8",
            headers=self.headers,
        )


class PropertyRejected(Exception):
    """One property of a PROPPATCH, MKCOL or MKCALENDAR cannot be set; the others then fail with 424."""

    def __init__(self, name: str, status: int, condition: str | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.status = status
        self.condition = condition
