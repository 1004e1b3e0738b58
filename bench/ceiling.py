"""The ceiling: a bare starlette app on uvicorn that answers GET and PROPFIND with fixed bodies.

No storage, no parsing, no authentication: what a Python ASGI stack on this machine serves at best, so the
comparison can say how much of that this server keeps. uvicorn runs as ``gateway serve`` runs it (uvloop and
httptools when installed, one process), without the access log.

Run: ``python -m bench.ceiling --port N``.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EVENT = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//ceiling//EN\r\nBEGIN:VEVENT\r\nUID:ceiling-event\r\n"
    b"DTSTAMP:20230101T000000Z\r\nDTSTART:20240603T120000Z\r\nDTEND:20240603T130000Z\r\nSUMMARY:Meeting\r\n"
    b"LOCATION:Room 4\r\nDESCRIPTION:Agenda: status\\, plans\\, questions.\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
MULTISTATUS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"><D:response><D:href>/c/</D:href>'
    b'<D:propstat><D:prop><D:getetag>"ceiling"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status>'
    b"</D:propstat></D:response></D:multistatus>"
)


async def answer(request: Request) -> Response:
    """The fixed event for GET, the fixed one-response multistatus for PROPFIND (and REPORT)."""
    if request.method == "GET":
        return Response(EVENT, media_type="text/calendar; charset=utf-8", headers={"ETag": '"ceiling"'})
    await request.body()
    return Response(MULTISTATUS, status_code=207, media_type="application/xml; charset=utf-8")


app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "PROPFIND", "REPORT"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, loop="auto", http="auto")


if __name__ == "__main__":
    main()
