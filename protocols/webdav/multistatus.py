"""Building ``207 Multi-Status`` answers (RFC 4918 §13), streamed response by response.

Responses are written as text with the ``D:`` prefix the multistatus root declares: a listing writes thousands."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from http import HTTPStatus

from starlette.responses import Response, StreamingResponse

from protocols.webdav.xml import MULTISTATUS_END, MULTISTATUS_START, escape

XML_MEDIA_TYPE = "application/xml; charset=utf-8"


@functools.cache
def status_line(code: int) -> str:
    return f"HTTP/1.1 {code} {HTTPStatus(code).phrase}"


def propstat_response(href: str, propstats: Mapping[int, Sequence[str]]) -> str:
    """One ``<response>`` with a ``<propstat>`` per status."""
    return f"<D:response><D:href>{escape(href)}</D:href>{propstat_blocks(propstats)}</D:response>"


def propstat_blocks(propstats: Mapping[int, Sequence[str]]) -> str:
    """A ``<propstat>`` per status holding properties; 200 first, since some clients read only the first."""
    blocks = []
    for code in sorted(propstats, key=_ok_first):
        props = propstats[code]
        if props:
            blocks.append(
                f"<D:propstat><D:prop>{''.join(props)}</D:prop><D:status>{status_line(code)}</D:status></D:propstat>"
            )
    return "".join(blocks)


def _ok_first(code: int) -> tuple[bool, int]:
    return code != 200, code


def status_response(href: str, code: int, error_xml: str = "") -> str:
    """A ``<response>`` carrying a status for the whole resource (and optionally an ``<error>``)."""
    error = f"<D:error>{error_xml}</D:error>" if error_xml else ""
    return f"<D:response><D:href>{escape(href)}</D:href><D:status>{status_line(code)}</D:status>{error}</D:response>"


def multistatus(responses: Sequence[str], extra: str = "") -> Response:
    body = MULTISTATUS_START + "".join(responses).encode() + extra.encode() + MULTISTATUS_END
    return Response(body, status_code=207, media_type=XML_MEDIA_TYPE)


def streamed_multistatus(responses: AsyncIterator[str]) -> StreamingResponse:
    """A 207 whose responses are produced while the earlier ones are already on the wire."""

    async def body() -> AsyncIterator[bytes]:
        yield MULTISTATUS_START
        batch: list[str] = []
        size = 0
        async for response in responses:
            batch.append(response)
            size += len(response)
            if size >= 64 * 1024:
                yield "".join(batch).encode()
                batch, size = [], 0
        if batch:
            yield "".join(batch).encode()
        yield MULTISTATUS_END

    return StreamingResponse(body(), status_code=207, media_type=XML_MEDIA_TYPE)
