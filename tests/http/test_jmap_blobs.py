"""RFC 8620 §6 over HTTP: upload, download (names, types, ranges), limits, isolation, Blob/copy."""

from __future__ import annotations

import asyncio

import pytest

from protocols.jmap.endpoint import ConcurrencyGate
from protocols.jmap.errors import RequestError
from tests.http.jmap_support import CORE, Jmap, connect, new_user
from tests.testing import LiveServer


@pytest.fixture
def jmap(server: LiveServer) -> Jmap:
    return new_user(server, "jblob")


def download_url(jmap: Jmap, blob_id: str, name: str = "file.bin", media_type: str = "application/pdf") -> str:
    template = jmap.session["downloadUrl"]
    return (
        template.replace("{accountId}", jmap.account_id)
        .replace("{blobId}", blob_id)
        .replace("{name}", name)
        .replace("{type}", media_type)
    )


def test_upload_then_download(jmap: Jmap) -> None:
    data = bytes(range(256)) * 40
    uploaded = jmap.upload(data, "application/pdf")
    assert uploaded["size"] == len(data) and uploaded["type"] == "application/pdf"
    assert uploaded["accountId"] == jmap.account_id
    response = jmap.http.get(download_url(jmap, uploaded["blobId"], "report final.pdf"))
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"].startswith("application/pdf")
    assert "report%20final.pdf" in response.headers["content-disposition"]


def test_same_bytes_same_blob(jmap: Jmap) -> None:
    assert jmap.upload(b"twice")["blobId"] == jmap.upload(b"twice")["blobId"]


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-3", 206, b"0123", "bytes 0-3/10"),
        ("bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("bytes=-2", 206, b"89", "bytes 8-9/10"),
        ("bytes=5-100", 206, b"56789", "bytes 5-9/10"),
        ("bytes=10-", 416, b"", "bytes */10"),
        ("bytes=x-y", 416, b"", "bytes */10"),
    ],
)
def test_ranges(jmap: Jmap, header: str, status: int, body: bytes, content_range: str) -> None:
    blob = jmap.upload(b"0123456789")["blobId"]
    response = jmap.http.get(download_url(jmap, blob), headers={"Range": header})
    assert response.status_code == status
    assert response.headers["content-range"] == content_range
    if status == 206:
        assert response.content == body


def test_unknown_blob_and_foreign_account_are_404(server: LiveServer, jmap: Jmap) -> None:
    assert jmap.http.get(download_url(jmap, "Bdeadbeef")).status_code == 404
    mine = jmap.upload(b"private bytes")["blobId"]
    other = connect(server, "bob")
    assert other.http.get(download_url(jmap, mine)).status_code == 404
    assert other.http.get(download_url(other, mine)).status_code == 404
    response = other.http.post(f"/jmap/upload/{jmap.account_id}/", content=b"x")
    assert response.status_code == 404


def test_upload_limit(jmap: Jmap) -> None:
    limit = jmap.session["capabilities"][CORE]["maxSizeUpload"]
    response = jmap.http.post(
        f"/jmap/upload/{jmap.account_id}/", content=b"x" * (limit + 1), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 413
    assert response.json()["limit"] == "maxSizeUpload"


def test_blob_copy_within_reach(jmap: Jmap) -> None:
    blob = jmap.upload(b"copy me")["blobId"]
    result = jmap.call("Blob/copy", {"fromAccountId": jmap.account_id, "blobIds": [blob, "Bmissing"]})
    assert result["copied"] == {blob: blob}
    assert result["notCopied"]["Bmissing"]["type"] == "blobNotFound"
    error = jmap.error("Blob/copy", {"fromAccountId": "A999999", "blobIds": [blob]})
    assert error["type"] == "fromAccountNotFound"


async def test_concurrency_gate_refuses_beyond_the_limit() -> None:
    gate = ConcurrencyGate(2, "maxConcurrentRequests")
    async with gate.enter(1), gate.enter(1):
        with pytest.raises(RequestError) as caught:
            async with gate.enter(1):
                pass
        assert caught.value.limit == "maxConcurrentRequests" and caught.value.status == 429
        async with gate.enter(2):
            pass
    async with gate.enter(1):
        await asyncio.sleep(0)
    assert not gate.active
