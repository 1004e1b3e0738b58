"""Class 2 locking (RFC 4918 §6, §7, §9.10, §9.11, §10.4) over real HTTP, each test in its own folder."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from tests.http import dav, files, mkcol, new_folder, one, propfind, put, unique
from tests.testing import LiveServer

XML = {"Content-Type": "application/xml; charset=utf-8"}


def lockinfo(scope: str = "exclusive", owner: str = "<D:href>mailto:alice@example.org</D:href>") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
        f"<D:lockscope><D:{scope}/></D:lockscope><D:locktype><D:write/></D:locktype>"
        f"<D:owner>{owner}</D:owner></D:lockinfo>"
    )


def lock(
    client: httpx.Client, path: str, scope: str = "exclusive", depth: str | None = None, timeout: str | None = None
) -> httpx.Response:
    headers = dict(XML)
    if depth is not None:
        headers["Depth"] = depth
    if timeout is not None:
        headers["Timeout"] = timeout
    return client.request("LOCK", path, content=lockinfo(scope), headers=headers)


def token_of(response: httpx.Response) -> str:
    """The lock token from a successful LOCK, checked against the one in its lockdiscovery body."""
    assert response.status_code in (200, 201), (response.status_code, response.text)
    header = response.headers["lock-token"]
    assert header.startswith("<") and header.endswith(">")
    token = header[1:-1]
    root = etree.fromstring(response.content)
    assert root.tag == dav("prop")
    hrefs = [
        h.text for h in root.iter(dav("href")) if h.getparent() is not None and h.getparent().tag == dav("locktoken")
    ]
    assert hrefs == [token]
    return token


def locked(client: httpx.Client, path: str, **kwargs: str) -> str:
    return token_of(lock(client, path, **kwargs))


def if_token(token: str) -> dict[str, str]:
    """An untagged If list: it applies to the Request-URI (RFC 4918 §10.4.3)."""
    return {"If": f"(<{token}>)"}


def if_tagged(server: LiveServer, path: str, token: str) -> dict[str, str]:
    """A tagged If list naming the locked resource, for a lock that does not cover the Request-URI."""
    return {"If": f"<{server.base_url}{path}> (<{token}>)"}


def timeout_seconds(response: httpx.Response) -> int:
    root = etree.fromstring(response.content)
    text = root.findtext(f"{dav('lockdiscovery')}/{dav('activelock')}/{dav('timeout')}")
    assert text is not None and text.startswith("Second-"), text
    return int(text.removeprefix("Second-"))


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture
def folder(alice: httpx.Client) -> str:
    return new_folder(alice)


# --- exclusive and shared locks --------------------------------------------------------------------------------


def test_exclusive_lock_on_an_item(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path, b"v1")
    response = lock(alice, path)
    assert response.status_code == 200
    token = token_of(response)
    assert token.startswith("urn:uuid:")
    active = etree.fromstring(response.content).find(f"{dav('lockdiscovery')}/{dav('activelock')}")
    assert active is not None
    assert active.find(f"{dav('lockscope')}/{dav('exclusive')}") is not None
    assert active.find(f"{dav('locktype')}/{dav('write')}") is not None
    assert active.findtext(dav("depth")) == "0"
    assert active.findtext(f"{dav('owner')}/{dav('href')}") == "mailto:alice@example.org"
    assert active.findtext(f"{dav('lockroot')}/{dav('href')}").endswith(path)

    refused = alice.put(path, content=b"v2")
    assert refused.status_code == 423
    assert alice.get(path).content == b"v1"

    accepted = alice.put(path, content=b"v2", headers=if_token(token))
    assert accepted.status_code == 204
    assert alice.get(path).content == b"v2"


def test_tagged_if_header_submits_the_token(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    token = locked(alice, path)
    headers = {"If": f"<{server.base_url}{path}> (<{token}>)"}
    assert alice.put(path, content=b"tagged", headers=headers).status_code == 204
    assert alice.get(path).content == b"tagged"


def test_no_lock_condition_does_not_submit_a_token(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    locked(alice, path)
    assert alice.put(path, content=b"x", headers={"If": "(Not <DAV:no-lock>)"}).status_code == 423


def test_second_exclusive_lock_is_423(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    locked(alice, path)
    second = lock(alice, path)
    assert second.status_code == 423
    assert "lock-token" not in second.headers
    assert lock(alice, path, scope="shared").status_code == 423


def test_shared_locks_coexist_but_exclude_an_exclusive_one(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    first = locked(alice, path, scope="shared")
    second = locked(alice, path, scope="shared")
    assert first != second
    assert lock(alice, path, scope="exclusive").status_code == 423
    discovery = one(alice, path, dav("lockdiscovery")).prop(dav("lockdiscovery"))
    assert discovery is not None
    tokens = {href.text for href in discovery.iter(dav("href")) if href.getparent().tag == dav("locktoken")}
    assert tokens == {first, second}
    assert alice.put(path, content=b"x").status_code == 423
    # RFC 4918 §6.2: each holder writes with its own token
    assert alice.put(path, content=b"first", headers=if_token(first)).status_code == 204
    assert alice.put(path, content=b"second", headers=if_token(second)).status_code == 204
    assert alice.get(path).content == b"second"


def test_depth_infinity_collection_lock_blocks_new_members(alice: httpx.Client, folder: str) -> None:
    mkcol(alice, folder + "sub/")
    response = lock(alice, folder, depth="infinity")
    token = token_of(response)
    active = etree.fromstring(response.content).find(f"{dav('lockdiscovery')}/{dav('activelock')}")
    assert active.findtext(dav("depth")) == "infinity"

    assert alice.put(folder + "new.txt", content=b"x").status_code == 423
    assert alice.put(folder + "sub/deep.txt", content=b"x").status_code == 423
    assert alice.request("MKCOL", folder + "newdir/").status_code == 423
    assert alice.get(folder + "new.txt").status_code == 404

    assert alice.put(folder + "new.txt", content=b"x", headers=if_token(token)).status_code == 201
    assert alice.put(folder + "sub/deep.txt", content=b"x", headers=if_token(token)).status_code == 201
    assert alice.request("MKCOL", folder + "newdir/", headers=if_token(token)).status_code == 201
    # the member is covered too: changing it needs the token
    assert alice.put(folder + "new.txt", content=b"y").status_code == 423
    assert alice.delete(folder + "sub/deep.txt").status_code == 423
    assert alice.delete(folder + "sub/deep.txt", headers=if_token(token)).status_code == 204
    member = one(alice, folder + "new.txt", dav("lockdiscovery")).prop(dav("lockdiscovery"))
    assert member is not None and token in etree.tostring(member).decode()


def test_depth_0_collection_lock_guards_membership_only(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "existing.txt", b"before")
    token = locked(alice, folder, depth="0")
    # RFC 4918 §7.4: adding a member changes the locked collection
    assert alice.put(folder + "new.txt", content=b"x").status_code == 423
    assert alice.request("MKCOL", folder + "newdir/").status_code == 423
    assert alice.delete(folder + "existing.txt").status_code == 423
    # ... but an existing member's content is not covered by a depth-0 lock
    assert alice.put(folder + "existing.txt", content=b"after").status_code == 204
    assert alice.get(folder + "existing.txt").content == b"after"
    assert alice.put(folder + "new.txt", content=b"x", headers=if_tagged(server, folder, token)).status_code == 201
    assert alice.delete(folder + "existing.txt", headers=if_tagged(server, folder, token)).status_code == 204


def test_depth_infinity_lock_conflicts_with_a_locked_member(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "member.txt")
    locked(alice, folder + "member.txt")
    assert lock(alice, folder, depth="infinity").status_code == 423
    assert lock(alice, folder, depth="0").status_code == 200


def test_lock_on_an_unmapped_url_creates_an_empty_resource(alice: httpx.Client, folder: str) -> None:
    path = folder + "reserved.txt"
    response = lock(alice, path)
    assert response.status_code == 201
    token = token_of(response)
    got = alice.get(path)
    assert got.status_code == 200
    assert got.content == b""
    listing = propfind(alice, folder, dav("resourcetype"), dav("lockdiscovery"), depth="1")
    assert path in listing
    assert token in etree.tostring(listing[path].prop(dav("lockdiscovery"))).decode()
    assert alice.put(path, content=b"x").status_code == 423
    assert alice.put(path, content=b"filled", headers=if_token(token)).status_code == 204
    assert alice.get(path).content == b"filled"


def test_lock_on_an_unmapped_url_in_a_missing_collection_is_409(alice: httpx.Client, folder: str) -> None:
    assert lock(alice, folder + "missing/x.txt").status_code == 409


def test_refresh_extends_the_timeout(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    first = lock(alice, path, timeout="Second-30")
    token = token_of(first)
    assert 0 < timeout_seconds(first) <= 30
    refreshed = alice.request("LOCK", path, headers={**if_token(token), "Timeout": "Second-900"})
    assert refreshed.status_code == 200
    assert 30 < timeout_seconds(refreshed) <= 900
    tokens = [h.text for h in etree.fromstring(refreshed.content).iter(dav("href"))]
    assert token in tokens
    discovery = one(alice, path, dav("lockdiscovery")).prop(dav("lockdiscovery"))
    remaining = discovery.findtext(f"{dav('activelock')}/{dav('timeout')}")
    assert remaining is not None and int(remaining.removeprefix("Second-")) > 30


def test_refresh_without_if_header_or_with_unknown_token_fails(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    locked(alice, path)
    assert alice.request("LOCK", path).status_code == 400
    unknown = alice.request("LOCK", path, headers=if_token("urn:uuid:00000000-0000-0000-0000-000000000000"))
    assert unknown.status_code in (409, 412)


def test_expired_lock_no_longer_blocks(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    locked(alice, path, timeout="Second-1")
    time.sleep(1.3)
    assert alice.put(path, content=b"free").status_code == 204
    assert lock(alice, path).status_code == 200


def test_unlock_then_writes_work(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    token = locked(alice, path)
    assert alice.request("UNLOCK", path, headers={"Lock-Token": f"<{token}>"}).status_code == 204
    assert alice.put(path, content=b"free").status_code == 204
    discovery = one(alice, path, dav("lockdiscovery")).prop(dav("lockdiscovery"))
    assert discovery is not None and len(discovery) == 0
    assert alice.request("UNLOCK", path, headers={"Lock-Token": f"<{token}>"}).status_code == 409


def test_unlock_with_a_wrong_token_is_409(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    put(alice, folder + "b.txt")
    token_a = locked(alice, folder + "a.txt")
    wrong = alice.request("UNLOCK", folder + "a.txt", headers={"Lock-Token": "<urn:uuid:not-a-lock>"})
    assert wrong.status_code == 409
    other_resource = alice.request("UNLOCK", folder + "b.txt", headers={"Lock-Token": f"<{token_a}>"})
    assert other_resource.status_code == 409
    assert alice.put(folder + "a.txt", content=b"x").status_code == 423


def test_unlock_without_lock_token_is_400(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    locked(alice, folder + "a.txt")
    assert alice.request("UNLOCK", folder + "a.txt").status_code == 400
    assert alice.request("UNLOCK", folder + "a.txt", headers={"Lock-Token": "no-brackets"}).status_code == 400


def test_unlock_a_member_of_a_depth_infinity_lock(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    token = locked(alice, folder, depth="infinity")
    assert alice.request("UNLOCK", folder + "a.txt", headers={"Lock-Token": f"<{token}>"}).status_code == 204
    assert alice.put(folder + "b.txt", content=b"x").status_code == 201


def test_lockdiscovery_and_supportedlock_in_propfind(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path)
    token = locked(alice, path, scope="shared")
    found = one(alice, path, dav("lockdiscovery"), dav("supportedlock"))
    discovery = found.prop(dav("lockdiscovery"))
    active = discovery.find(dav("activelock"))
    assert active is not None
    assert active.find(f"{dav('lockscope')}/{dav('shared')}") is not None
    assert active.findtext(f"{dav('locktoken')}/{dav('href')}") == token
    supported = found.prop(dav("supportedlock"))
    scopes = {child.tag for entry in supported for scope in entry.iter(dav("lockscope")) for child in scope}
    assert scopes == {dav("exclusive"), dav("shared")}


def test_if_header_etags(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    etag = put(alice, path, b"v1")
    token = locked(alice, path)
    assert alice.put(path, content=b"x", headers={"If": '(["wrong-etag"])'}).status_code == 412
    assert alice.put(path, content=b"x", headers={"If": f'(<{token}> ["wrong-etag"])'}).status_code == 412
    assert alice.get(path).content == b"v1"
    assert alice.put(path, content=b"v2", headers={"If": f"(<{token}> [{etag}])"}).status_code == 204
    assert alice.get(path).content == b"v2"


def test_if_header_etag_without_a_lock(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    etag = put(alice, path, b"v1")
    assert alice.put(path, content=b"x", headers={"If": '(["wrong"])'}).status_code == 412
    assert alice.put(path, content=b"v2", headers={"If": f"([{etag}])"}).status_code == 204
    assert alice.put(path, content=b"v3", headers={"If": f"(Not [{etag}])"}).status_code == 204


@pytest.mark.parametrize(
    "value",
    ["garbage", "(<unterminated", "()", "(Not)", '(["x")', "<http://h/x>", "(<a>) <http://h/x>", "(<a b>)", "(x)"],
)
def test_malformed_if_header_is_400(alice: httpx.Client, folder: str, value: str) -> None:
    path = folder + "doc.txt"
    put(alice, path, b"v1")
    assert alice.put(path, content=b"x", headers={"If": value}).status_code == 400
    assert alice.get(path).content == b"v1"


@pytest.mark.parametrize("method", ["DELETE", "PROPPATCH", "MOVE"])
def test_every_writing_method_honours_the_lock(
    server: LiveServer, alice: httpx.Client, folder: str, method: str
) -> None:
    path = folder + "doc.txt"
    put(alice, path, b"kept")
    token = locked(alice, path)
    headers = {"Destination": server.base_url + folder + "moved.txt", **XML}
    body = (
        '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>'
        "</D:propertyupdate>"
        if method == "PROPPATCH"
        else ""
    )
    assert alice.request(method, path, content=body, headers=headers).status_code == 423
    assert alice.get(path).content == b"kept"
    assert alice.get(folder + "moved.txt").status_code == 404
    done = alice.request(method, path, content=body, headers={**headers, **if_token(token)})
    assert done.status_code in (201, 204, 207)


def test_copy_onto_a_locked_destination_needs_the_token(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "src.txt", b"new")
    put(alice, folder + "dst.txt", b"old")
    token = locked(alice, folder + "dst.txt")
    headers = {"Destination": server.base_url + folder + "dst.txt"}
    assert alice.request("COPY", folder + "src.txt", headers=headers).status_code == 423
    assert alice.get(folder + "dst.txt").content == b"old"
    tagged = if_tagged(server, folder + "dst.txt", token)
    assert alice.request("COPY", folder + "src.txt", headers={**headers, **tagged}).status_code == 204
    assert alice.get(folder + "dst.txt").content == b"new"


def test_copy_of_a_locked_source_needs_no_token(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "src.txt", b"data")
    locked(alice, folder + "src.txt")
    headers = {"Destination": server.base_url + folder + "copy.txt"}
    assert alice.request("COPY", folder + "src.txt", headers=headers).status_code == 201
    discovery = one(alice, folder + "copy.txt", dav("lockdiscovery")).prop(dav("lockdiscovery"))
    assert discovery is not None and len(discovery) == 0, "locks are not copied (RFC 4918 §7.5)"


def test_delete_of_a_collection_with_a_locked_member_is_refused(
    server: LiveServer, alice: httpx.Client, folder: str
) -> None:
    mkcol(alice, folder + "sub/")
    put(alice, folder + "sub/locked.txt", b"x")
    token = locked(alice, folder + "sub/locked.txt")
    response = alice.delete(folder + "sub/")
    assert response.status_code in (207, 423)
    assert alice.get(folder + "sub/locked.txt").status_code == 200
    assert alice.delete(folder + "sub/", headers=if_tagged(server, folder + "sub/locked.txt", token)).status_code == 204
    assert alice.get(folder + "sub/locked.txt").status_code == 404


def test_another_user_cannot_use_alices_token(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    put(alice, path, b"alice's")
    token = locked(alice, path)
    bob_path = files("bob", unique("bob") + ".txt")
    with server.client("bob") as bob:
        assert bob.put(path, content=b"bob", headers=if_token(token)).status_code == 404
        assert bob.request("UNLOCK", path, headers={"Lock-Token": f"<{token}>"}).status_code == 404
        assert bob.request("LOCK", path, headers=if_token(token)).status_code == 404
        put(bob, bob_path, b"bob's")
        # his own resource is not locked by her token, and tagging her URL gives him nothing
        assert bob.put(bob_path, content=b"x", headers=if_token(token)).status_code == 412
        tagged = {"If": f"<{server.base_url}{path}> (<{token}>)"}
        assert bob.put(bob_path, content=b"x", headers=tagged).status_code == 412
        assert bob.request("UNLOCK", bob_path, headers={"Lock-Token": f"<{token}>"}).status_code == 409
        assert bob.get(bob_path).content == b"bob's"
    assert alice.get(path).content == b"alice's"
    assert alice.put(path, content=b"x").status_code == 423


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Depth": "1"}, lockinfo()),
        ({}, "<D:lockinfo xmlns:D='DAV:'><D:locktype><D:write/></D:locktype></D:lockinfo>"),
        ({}, "<D:lockinfo xmlns:D='DAV:'><D:lockscope><D:bogus/></D:lockscope><D:locktype><D:write/></D:locktype>"),
        ({}, "<D:propfind xmlns:D='DAV:'/>"),
        ({}, "not xml"),
    ],
)
def test_bad_lock_requests_are_refused(alice: httpx.Client, folder: str, headers: dict[str, str], body: str) -> None:
    response = alice.request("LOCK", folder, content=body, headers={**XML, **headers})
    assert response.status_code in (400, 422)
    discovery = one(alice, folder, dav("lockdiscovery")).prop(dav("lockdiscovery"))
    assert discovery is not None and len(discovery) == 0
