"""Binary data (RFC 8620 §6): upload, download with ranges, and ``Blob/copy``.

A blob id is either a stored blob (content-addressed, per account) or a part inside a stored message; both
resolve through ``read_blob`` so every method that takes a blob id accepts either.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import Principal
from protocols.formats.mime import extract_part, split_part_blob_id
from protocols.jmap.context import CallContext, account_id_for
from protocols.jmap.endpoint import ConcurrencyGate, json_response, problem_response, read_body
from protocols.jmap.errors import MethodError, RequestError
from protocols.jmap.generic import optional_id_list
from protocols.jmap.registry import CORE, JmapRegistry
from storage.api import Store, Transaction

RANGE = re.compile(r"bytes=(\d*)-(\d*)")
MAX_PART_NESTING = 8


async def read_blob(
    tx: Transaction, account_id: int, blob_id: str, depth: int = 0
) -> tuple[bytes, str | None, str | None] | None:
    """(bytes, media type if known, file name if known) of a stored blob or message part of this account; a
    part of an attached message (seen through Email/parse) is a part blob inside a part blob."""
    data = await tx.read_blob(account_id, blob_id)
    if data is not None:
        return data, None, None
    inside = split_part_blob_id(blob_id)
    if inside is None or depth > MAX_PART_NESTING:
        return None
    message = await read_blob(tx, account_id, inside[0], depth + 1)
    if message is None:
        return None
    return extract_part(message[0], inside[1])


class BlobEndpoint:
    def __init__(self, store: Store, max_size_upload: int, max_concurrent_upload: int) -> None:
        self.store = store
        self.max_size_upload = max_size_upload
        self.gate = ConcurrencyGate(max_concurrent_upload, "maxConcurrentUpload")

    def _account(self, request: Request) -> int | None:
        principal: Principal = request.scope["principal"]
        if request.path_params["account_id"] != account_id_for(principal.account_id):
            return None
        return principal.account_id

    async def upload(self, request: Request) -> Response:
        account_id = self._account(request)
        if account_id is None:
            return Response("No such account.\n", status_code=404)
        try:
            async with self.gate.enter(account_id):
                data = await read_body(request, self.max_size_upload, "maxSizeUpload")
                async with self.store.write() as tx:
                    blob = await tx.put_blob(account_id, data)
        except RequestError as error:
            return problem_response(error)
        media_type = request.headers.get("content-type", "application/octet-stream")
        return json_response(
            {
                "accountId": request.path_params["account_id"],
                "blobId": blob.blob_id,
                "type": media_type,
                "size": blob.size,
            },
            status=201,
        )

    async def download(self, request: Request) -> Response:
        account_id = self._account(request)
        if account_id is None:
            return Response("No such blob.\n", status_code=404)
        async with self.store.read() as tx:
            found = await read_blob(tx, account_id, request.path_params["blob_id"])
        if found is None:
            return Response("No such blob.\n", status_code=404)
        data, part_type, _ = found
        name = request.path_params["name"]
        media_type = request.query_params.get("type") or part_type or "application/octet-stream"
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
            "Cache-Control": "private, immutable, max-age=31536000",
            "Accept-Ranges": "bytes",
        }
        wanted = request.headers.get("range")
        if wanted is None:
            return Response(data, media_type=media_type, headers=headers)
        span = byte_range(wanted, len(data))
        if span is None:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{len(data)}"})
        start, end = span
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        return Response(data[start:end], status_code=206, media_type=media_type, headers=headers)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The half-open span of one ``bytes=`` range (RFC 9110 §14.1.2), or None when unsatisfiable."""
    match = RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        return (max(0, size - length), size) if length and size else None
    start = int(first)
    end = size if last == "" else min(size, int(last) + 1)
    return (start, end) if start < size and start < end else None


async def blob_copy(ctx: CallContext, arguments: dict[str, Any]) -> dict[str, Any]:
    """RFC 8620 §6.3: copy blobs between accounts the caller can reach (today: only its own)."""
    to_account = ctx.account(arguments)
    from_id = arguments.get("fromAccountId")
    if from_id != account_id_for(ctx.principal.account_id):
        raise MethodError("fromAccountNotFound")
    blob_ids = optional_id_list(arguments, "blobIds") or []
    copied: dict[str, str] = {}
    not_copied: dict[str, Any] = {}
    async with ctx.store.write() as tx:
        for blob_id in blob_ids:
            found = await read_blob(tx, ctx.principal.account_id, blob_id)
            if found is None:
                not_copied[blob_id] = {"type": "blobNotFound"}
                continue
            copied[blob_id] = (await tx.put_blob(to_account, found[0])).blob_id
    return {
        "fromAccountId": from_id,
        "accountId": arguments["accountId"],
        "copied": copied or None,
        "notCopied": not_copied or None,
    }


def register(registry: JmapRegistry) -> None:
    registry.add_method("Blob/copy", CORE, blob_copy)
