"""Hostile and broken input: XXE, entity bombs, malformed XML, size limits and garbage headers never give a 500."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http import files, mkcol, put, raw_request, unique
from tests.testing import LiveServer, live_server

XML = {"Content-Type": "application/xml; charset=utf-8"}
PASSWD_MARKERS = ("root:", "/bin/", "nologin", "daemon:")

MAX_REQUEST_BYTES = 4096
MAX_ITEM_BYTES = 2048


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture
def folder(alice: httpx.Client) -> str:
    folder = mkcol(alice, files("alice", unique("dir"), ""))
    put(alice, folder + "item.txt", b"content")
    return folder


def no_passwd_leak(response: httpx.Response) -> None:
    text = response.text
    for marker in PASSWD_MARKERS:
        assert marker not in text, f"response leaks {marker!r}: {text[:200]}"


# --- XXE, DTDs and entity expansion ------------------------------------------------------------------------------

XXE_BODIES = {
    "PROPFIND": (
        '<?xml version="1.0"?><!DOCTYPE D:propfind [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:propfind>'
    ),
    "PROPPATCH": (
        '<?xml version="1.0"?><!DOCTYPE D:propertyupdate [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:leak>&xxe;</Z:leak></D:prop></D:set>'
        "</D:propertyupdate>"
    ),
    "LOCK": (
        '<?xml version="1.0"?><!DOCTYPE D:lockinfo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
        "<D:owner>&xxe;</D:owner></D:lockinfo>"
    ),
    "MKCOL": (
        '<?xml version="1.0"?><!DOCTYPE D:mkcol [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:set></D:mkcol>'
    ),
    "REPORT": (
        '<?xml version="1.0"?><!DOCTYPE D:sync-collection [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<D:sync-collection xmlns:D="DAV:"><D:sync-token>&xxe;</D:sync-token><D:prop/></D:sync-collection>'
    ),
}


@pytest.mark.parametrize("method", sorted(XXE_BODIES))
def test_xxe_is_refused(alice: httpx.Client, folder: str, method: str) -> None:
    target = {"PROPPATCH": folder + "item.txt", "LOCK": folder + "item.txt", "MKCOL": folder + "new/"}.get(
        method, folder
    )
    response = alice.request(method, target, content=XXE_BODIES[method], headers={**XML, "Depth": "0"})
    no_passwd_leak(response)
    if method == "REPORT":
        assert response.status_code in (400, 403, 405)
    elif method == "MKCOL":
        assert response.status_code in (400, 415)
    else:
        assert response.status_code == 400
    # nothing was stored that could leak later
    listing = alice.request("PROPFIND", folder, headers={"Depth": "1"})
    assert listing.status_code == 207
    no_passwd_leak(listing)
    assert alice.request("PROPFIND", folder + "new/", headers={"Depth": "0"}).status_code == 404
    assert alice.put(folder + "item.txt", content=b"still unlocked").status_code == 204


def test_parameter_entity_xxe_is_refused(alice: httpx.Client, folder: str) -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE D:propfind [<!ENTITY % file SYSTEM "file:///etc/passwd">'
        "<!ENTITY % wrap \"<!ENTITY leak '%file;'>\">%wrap;]>"
        '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&leak;</D:displayname></D:prop></D:propfind>'
    )
    response = alice.request("PROPFIND", folder, content=body, headers={**XML, "Depth": "0"})
    assert response.status_code == 400
    no_passwd_leak(response)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that records whether anything connects to it (an external DTD fetch would)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize(
    "template",
    [
        '<?xml version="1.0"?><!DOCTYPE D:propfind SYSTEM "http://127.0.0.1:{port}/evil.dtd">'
        '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
        '<?xml version="1.0"?><!DOCTYPE D:propfind [<!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/x">%remote;]>'
        '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
        '<?xml version="1.0"?><!DOCTYPE D:propfind [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/x">]>'
        '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&e;</D:displayname></D:prop></D:propfind>',
        '<D:propfind xmlns:D="DAV:" xmlns:xi="http://www.w3.org/2001/XInclude"><D:prop>'
        '<xi:include href="http://127.0.0.1:{port}/x" parse="text"/></D:prop></D:propfind>',
    ],
)
def test_no_network_access_while_parsing(
    alice: httpx.Client, folder: str, listener: socket.socket, template: str
) -> None:
    port = listener.getsockname()[1]
    response = alice.request("PROPFIND", folder, content=template.format(port=port), headers={**XML, "Depth": "0"})
    assert response.status_code in (207, 400)
    assert not connected(listener), "the server fetched an external resource while parsing XML"


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + ']><D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol9;</D:displayname></D:prop></D:propfind>'
)
QUADRATIC_BLOWUP = (
    '<?xml version="1.0"?><!DOCTYPE D:propertyupdate [<!ENTITY a "' + "x" * 1000 + '">]>'
    '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:big>' + "&a;" * 2000 + "</Z:big>"
    "</D:prop></D:set></D:propertyupdate>"
)


@pytest.mark.parametrize(
    ("method", "body"),
    [("PROPFIND", BILLION_LAUGHS), ("PROPPATCH", QUADRATIC_BLOWUP), ("LOCK", BILLION_LAUGHS)],
)
def test_entity_bombs_are_refused_quickly(server: LiveServer, folder: str, method: str, body: str) -> None:
    with server.client("alice") as alice:
        started = time.monotonic()
        response = alice.request(method, folder + "item.txt", content=body, headers={**XML, "Depth": "0"}, timeout=5)
        elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert len(response.content) < 1000
    with server.client("alice") as alice:
        assert alice.get(folder + "item.txt").content == b"content"


# --- malformed XML -----------------------------------------------------------------------------------------------

MALFORMED = [
    b"<D:propfind xmlns:D='DAV:'><D:allprop/>",
    b"<D:propfind xmlns:D='DAV:'><D:allprop></D:propfind>",
    b"not xml at all",
    b"<?xml version='1.0'?>",
    b"<D:propfind><D:allprop/></D:propfind>",
    b"<D:propfind xmlns:D='DAV:'>&undefined;</D:propfind>",
    b"<?xml version='1.0' encoding='bogus-8'?><D:propfind xmlns:D='DAV:'/>",
    b"\xff\xfe<\x00D\x00",
    b"<D:propfind xmlns:D='DAV:'><D:prop><D:getetag/></D:prop></D:propfind><trailing/>",
    b"<a>" * 3000 + b"</a>" * 3000,
    b"\x00\x01\x02\x03",
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
@pytest.mark.parametrize("method", ["PROPFIND", "PROPPATCH", "LOCK"])
def test_malformed_xml_is_400_with_a_short_reason(alice: httpx.Client, folder: str, method: str, body: bytes) -> None:
    response = alice.request(method, folder + "item.txt", content=body, headers={**XML, "Depth": "0"})
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.text.strip(), "a 400 says why"
    assert len(response.content) < 500
    assert "Traceback" not in response.text
    assert alice.put(folder + "item.txt", content=b"content").status_code == 204


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PROPFIND", '<D:propertyupdate xmlns:D="DAV:"/>'),
        ("PROPFIND", '<D:propfind xmlns:D="urn:not-dav"><D:allprop/></D:propfind>'),
        ("PROPFIND", '<D:propfind xmlns:D="DAV:"/>'),
        ("PROPPATCH", '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'),
        ("PROPPATCH", '<D:propertyupdate xmlns:D="DAV:"/>'),
        ("PROPPATCH", ""),
        ("LOCK", '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'),
        ("LOCK", '<D:lockinfo xmlns:D="DAV:"/>'),
    ],
)
def test_wrong_or_empty_document_is_400(alice: httpx.Client, folder: str, method: str, body: str) -> None:
    response = alice.request(method, folder + "item.txt", content=body, headers={**XML, "Depth": "0"})
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.text.strip()


def test_mkcol_with_a_wrong_document_creates_nothing(alice: httpx.Client, folder: str) -> None:
    body = '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
    response = alice.request("MKCOL", folder + "new/", content=body, headers=XML)
    assert response.status_code in (400, 415)
    assert alice.request("PROPFIND", folder + "new/", headers={"Depth": "0"}).status_code == 404


# --- size limits: a second live server with small limits ---------------------------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("small-limits")
    env = {"GATEWAY_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES), "GATEWAY_MAX_ITEM_BYTES": str(MAX_ITEM_BYTES)}
    with live_server(data_dir, {"alice": "small-secret"}, env) as running:
        yield running


def test_request_body_over_the_limit_is_413(small_server: LiveServer) -> None:
    with small_server.client("alice") as alice:
        folder = mkcol(alice, files("alice", unique("dir"), ""))
        too_big = b"x" * (MAX_REQUEST_BYTES + 1)
        assert alice.put(folder + "big.bin", content=too_big).status_code == 413
        assert alice.get(folder + "big.bin").status_code == 404
        propfind = b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>' + b" " * MAX_REQUEST_BYTES
        assert alice.request("PROPFIND", folder, content=propfind, headers={"Depth": "0"}).status_code == 413
        proppatch = (
            '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:big>'
            + "y" * MAX_REQUEST_BYTES
            + "</Z:big></D:prop></D:set></D:propertyupdate>"
        )
        assert alice.request("PROPPATCH", folder, content=proppatch).status_code == 413
        assert b"yyyy" not in alice.request("PROPFIND", folder, headers={"Depth": "0"}).content


def test_chunked_body_over_the_limit_is_413(small_server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"z" * 1024

    with small_server.client("alice") as alice:
        folder = mkcol(alice, files("alice", unique("dir"), ""))
        response = alice.put(folder + "chunked.bin", content=chunks())
        assert response.status_code == 413
        assert alice.get(folder + "chunked.bin").status_code == 404


def test_item_over_the_item_limit_is_413(small_server: LiveServer) -> None:
    with small_server.client("alice") as alice:
        folder = mkcol(alice, files("alice", unique("dir"), ""))
        assert alice.put(folder + "ok.bin", content=b"a" * MAX_ITEM_BYTES).status_code == 201
        response = alice.put(folder + "big.bin", content=b"b" * (MAX_ITEM_BYTES + 1))
        assert response.status_code == 413
        assert alice.get(folder + "big.bin").status_code == 404
        replaced = alice.put(folder + "ok.bin", content=b"c" * (MAX_ITEM_BYTES + 1))
        assert replaced.status_code == 413
        assert alice.get(folder + "ok.bin").content == b"a" * MAX_ITEM_BYTES


def test_bodies_within_the_limits_still_work(small_server: LiveServer) -> None:
    with small_server.client("alice") as alice:
        folder = mkcol(alice, files("alice", unique("dir"), ""))
        body = bytes(range(256)) * (MAX_ITEM_BYTES // 256)
        assert alice.put(folder + "fits.bin", content=body).status_code == 201
        assert alice.get(folder + "fits.bin").content == body


# --- odd paths -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_path",
    [
        "/dav/files/alice/a%00b",
        "/dav/files/alice/%ff%fe",
        "/dav/files/alice/a%0d%0aSet-Cookie:%20x",
        "/dav/files/alice/%c0%ae%c0%ae/x",
        "/dav/..",
        "/dav/../../etc/passwd",
        "/dav/files/alice/%",
        "/dav/files/alice/%zz",
        "/dav/files/alice/x?query=1&x=%ff",
        "/dav/files/alice/" + "n" * 4000,
        "/dav/files/alice/" + "a/" * 500,
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "PROPFIND", "MKCOL", "DELETE", "LOCK"])
def test_odd_paths_never_fail_the_server(server: LiveServer, raw_path: str, method: str) -> None:
    body = b"x" if method == "PUT" else b""
    response = raw_request(
        server.base_url, method, raw_path, auth=("alice", server.passwords["alice"]), headers={"Depth": "0"}, body=body
    )
    assert response.status < 500, (method, raw_path, response.status, response.body[:200])
    assert b"root:" not in response.body
    assert "set-cookie" not in response.headers


# --- garbage headers and bodies over every method -----------------------------------------------------------------

METHODS = [
    "OPTIONS",
    "GET",
    "HEAD",
    "PUT",
    "DELETE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "POST",
    "PATCH",
    "ACL",
    "SEARCH",
    "BREW",
]

GARBAGE_HEADERS: list[dict[str, str]] = [
    {},
    {"Depth": "2"},
    {"Depth": "-1"},
    {"Depth": "infinity, 0"},
    {"Depth": ""},
    {"Depth": "1" * 50},
    {"Overwrite": "maybe"},
    {"Overwrite": ""},
    {"Overwrite": "t"},
    {"Timeout": "Second-abc"},
    {"Timeout": "Second-99999999999999999999999999"},
    {"Timeout": "Infinite, Second-5"},
    {"Timeout": "Second--5"},
    {"Timeout": ""},
    {"Destination": "ftp://example.org/dav/files/alice/x"},
    {"Destination": "http://evil.example/dav/files/alice/x"},
    {"Destination": "http://[::1/dav/files/alice/x"},
    {"Destination": "http://[zz]/x"},
    {"Destination": "http://127.0.0.1:notaport/dav/files/alice/x"},
    {"Destination": "/etc/passwd"},
    {"Destination": "/dav/files/alice/%ff"},
    {"Destination": "/dav/files/alice/a%00b"},
    {"Destination": "/dav/../.."},
    {"Destination": "javascript:alert(1)"},
    {"Destination": "//evil.example/x"},
    {"Destination": ""},
    {"If": "garbage"},
    {"If": '(<urn:uuid:x> [W/"weak"])'},
    {"If": "<http://[::1> (<urn:x>)"},
    {"If": "(Not <DAV:no-lock>)"},
    {"If": "(" * 200},
    {"Lock-Token": "garbage"},
    {"Lock-Token": "<>"},
    {"Lock-Token": "<urn:uuid:00000000-0000-0000-0000-000000000000>"},
    {"If-Match": '"unterminated'},
    {"If-Match": "*"},
    {"If-None-Match": 'W/"x", garbage'},
    {"If-Modified-Since": "Mon, 01 Jan 99999 00:00:00 GMT"},
    {"If-Unmodified-Since": "Mon, 01 Jan 0001 00:00:00 -0000"},
    {"If-Modified-Since": "yesterday"},
    {"Content-Type": "application/xml; charset=nonsense"},
    {"Content-Type": "multipart/form-data; boundary="},
    {"Content-Range": "bytes 0-1/2"},
    {"Content-Encoding": "gzip"},
    {"Range": "bytes=5-1"},
    {"Range": "bytes=-99999999999999999999"},
]

GARBAGE_BODIES: list[bytes] = [
    b"",
    b"\x00" * 64,
    b"<",
    b'<D:propfind xmlns:D="DAV:"><D:prop/></D:propfind>',
    b'<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop/></D:set></D:propertyupdate>',
    b'<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><D:getetag/></D:prop></D:remove></D:propertyupdate>',
    b'<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/><D:exclusive/></D:lockscope></D:lockinfo>',
    b'<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype>'
    b"</D:lockinfo>",
    b'<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype/></D:prop></D:set></D:mkcol>',
    b'<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag></D:prop></D:set></D:mkcol>',
    b'<D:sync-collection xmlns:D="DAV:"><D:sync-token>garbage</D:sync-token><D:prop/></D:sync-collection>',
    b'<D:unknown-report xmlns:D="DAV:"/>',
    '<D:propfind xmlns:D="DAV:"><D:prop><Z:ü xmlns:Z="urn:ü"/></D:prop></D:propfind>'.encode(),
]

# 501 Not Implemented (unknown method), 502 Bad Gateway (Destination on another server, RFC 4918 §9.8.5),
# 507 Insufficient Storage are the only 5xx a client can legitimately provoke.
ALLOWED_5XX = {501, 502, 507}
DESTRUCTIVE = ("DELETE", "MOVE")


def case_folder(client: httpx.Client, folder: str, method: str, number: int) -> str:
    """A collection holding ``item.txt`` for this case; shared by a method's cases unless they destroy it."""
    case = folder + (f"{method.lower()}-{number}/" if method in DESTRUCTIVE else f"{method.lower()}/")
    if method in DESTRUCTIVE or number == 0:
        mkcol(client, case)
        put(client, case + "item.txt", b"x")
    return case


def test_garbage_headers_never_give_a_500(server: LiveServer) -> None:
    failures: list[str] = []
    with server.client("alice") as alice:
        folder = mkcol(alice, files("alice", unique("garbage"), ""))
        for method in METHODS:
            for number, headers in enumerate(GARBAGE_HEADERS):
                case = case_folder(alice, folder, method, number)
                for path in (case + "item.txt", case, case + "missing.txt"):
                    response = alice.request(method, path, headers=headers)
                    if response.status_code >= 500 and response.status_code not in ALLOWED_5XX:
                        failures.append(f"{method} {path} {headers} -> {response.status_code}")
    assert not failures, "\n".join(failures)


def test_garbage_bodies_never_give_a_500(server: LiveServer) -> None:
    failures: list[str] = []
    with server.client("alice") as alice:
        folder = mkcol(alice, files("alice", unique("garbage"), ""))
        for method in METHODS:
            for number, body in enumerate(GARBAGE_BODIES):
                case = case_folder(alice, folder, method, number)
                for path in (case + "item.txt", case, case + "new/"):
                    for content_type in ("application/xml", "text/plain"):
                        response = alice.request(
                            method, path, content=body, headers={"Content-Type": content_type, "Depth": "0"}
                        )
                        if response.status_code >= 500 and response.status_code not in ALLOWED_5XX:
                            failures.append(f"{method} {path} {body[:60]!r} -> {response.status_code}")
    assert not failures, "\n".join(failures)


def test_a_502_is_only_for_a_destination_on_another_server(alice: httpx.Client, folder: str) -> None:
    response = alice.request(
        "COPY", folder + "item.txt", headers={"Destination": "http://elsewhere.example/dav/files/alice/copy.txt"}
    )
    assert response.status_code == 502
    assert alice.get(folder + "copy.txt").status_code == 404
    same_host = alice.request("COPY", folder + "item.txt", headers={"Destination": folder + "copy.txt"})
    assert same_host.status_code == 201


def test_server_survives_the_garbage(alice: httpx.Client) -> None:
    assert alice.request("PROPFIND", "/dav/files/alice/", headers={"Depth": "0"}).status_code == 207
