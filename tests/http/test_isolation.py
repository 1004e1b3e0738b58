"""Isolation: alice reaches only her own principal and homes; bob's space answers 404 and leaks no names."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http import dav, files, mkcol, one, propfind, put, raw_request, unique
from tests.testing import LiveServer

XML = {"Content-Type": "application/xml; charset=utf-8"}
PROPPATCH_BODY = (
    '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>pwned</D:displayname></D:prop></D:set>'
    "</D:propertyupdate>"
)
LOCK_BODY = (
    '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
    "</D:lockinfo>"
)
PROPFIND_BODY = '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture
def bob(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("bob") as client:
        yield client


@pytest.fixture
def bob_space(bob: httpx.Client) -> dict[str, str]:
    """Paths in bob's file area that exist, and twins of the same shape that do not."""
    folder = mkcol(bob, files("bob", unique("secret-dir"), ""))
    put(bob, folder + "diary.txt", b"bob's secret")
    missing_folder = files("bob", unique("secret-dir"), "")
    return {
        "item": folder + "diary.txt",
        "missing_item": folder + "no-such-file.txt",
        "folder": folder,
        "missing_folder": missing_folder,
        "item_in_missing": missing_folder + "diary.txt",
    }


def attempt(client: httpx.Client, method: str, path: str, base_url: str) -> httpx.Response:
    body = {"PROPPATCH": PROPPATCH_BODY, "LOCK": LOCK_BODY, "PROPFIND": PROPFIND_BODY, "PUT": "alice was here"}
    headers = {**XML, "Depth": "0", "Destination": base_url + files("alice", unique("loot"))}
    return client.request(method, path, content=body.get(method, ""), headers=headers)


METHODS = ["GET", "HEAD", "PROPFIND", "PUT", "DELETE", "MKCOL", "PROPPATCH", "LOCK", "UNLOCK", "COPY", "MOVE"]
OTHER_SPACES = [
    "/dav/principals/bob/",
    "/dav/principals/bob",
    "/dav/calendars/bob/",
    "/dav/addressbooks/bob/",
    "/dav/files/bob/",
    "/dav/files/bob",
]


def fingerprint(response: httpx.Response) -> tuple[int, bytes, str | None]:
    return response.status_code, response.content, response.headers.get("content-type")


@pytest.mark.parametrize("method", METHODS)
def test_existing_and_missing_targets_answer_alike(
    server: LiveServer, alice: httpx.Client, bob: httpx.Client, bob_space: dict[str, str], method: str
) -> None:
    answers = {name: attempt(alice, method, path, server.base_url) for name, path in bob_space.items()}
    for name, response in answers.items():
        assert response.status_code == 404, (method, name, response.status_code, response.text)
        assert "diary" not in response.text and "secret" not in response.text
    prints = {fingerprint(response) for response in answers.values()}
    assert len(prints) == 1, f"{method} answers differ between existing and missing targets: {prints}"
    # and bob's data is untouched
    assert bob.get(bob_space["item"]).content == b"bob's secret"
    listing = propfind(bob, bob_space["folder"], dav("lockdiscovery"), dav("displayname"), depth="1")
    assert set(listing) == {bob_space["folder"], bob_space["item"]}
    for response in listing.values():
        assert response.text(dav("displayname")) in (None, "")
        discovery = response.prop(dav("lockdiscovery"))
        assert discovery is None or len(discovery) == 0
    assert bob.request("PROPFIND", bob_space["missing_folder"], headers={"Depth": "0"}).status_code == 404


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", OTHER_SPACES)
def test_other_users_principal_and_homes_are_404(
    server: LiveServer, alice: httpx.Client, bob: httpx.Client, method: str, path: str
) -> None:
    response = attempt(alice, method, path, server.base_url)
    assert response.status_code == 404, (method, path, response.status_code)
    assert "bob" not in response.text
    assert bob.request("PROPFIND", "/dav/principals/bob/", headers={"Depth": "0"}).status_code == 207


@pytest.mark.parametrize("method", ["GET", "PROPFIND", "PUT"])
def test_existing_and_unknown_users_look_the_same(server: LiveServer, alice: httpx.Client, method: str) -> None:
    nobody = unique("nobody")
    for template in ("/dav/principals/{}/", "/dav/files/{}/", "/dav/calendars/{}/", "/dav/files/{}/x.txt"):
        real = attempt(alice, method, template.format("bob"), server.base_url)
        ghost = attempt(alice, method, template.format(nobody), server.base_url)
        assert fingerprint(real) == fingerprint(ghost), template


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
@pytest.mark.parametrize("overwrite", ["T", "F"])
def test_copy_move_into_bobs_space_writes_nothing(
    server: LiveServer,
    alice: httpx.Client,
    bob: httpx.Client,
    bob_space: dict[str, str],
    method: str,
    overwrite: str,
) -> None:
    folder = mkcol(alice, files("alice", unique("dir"), ""))
    put(alice, folder + "src.txt", b"from alice")
    mkcol(alice, folder + "tree/")
    put(alice, folder + "tree/inside.txt", b"tree")
    targets = [bob_space["item"], bob_space["missing_item"], bob_space["folder"] + "new.txt"]
    for source in (folder + "src.txt", folder + "tree/"):
        for target in [*targets, files("bob", unique("new-dir"), "")]:
            for destination in (server.base_url + target, target):
                response = alice.request(method, source, headers={"Destination": destination, "Overwrite": overwrite})
                assert response.status_code in (403, 404), (source, target, response.status_code)
    assert bob.get(bob_space["item"]).content == b"bob's secret"
    assert set(propfind(bob, bob_space["folder"], dav("getetag"), depth="1")) == {
        bob_space["folder"],
        bob_space["item"],
    }
    home = propfind(bob, files("bob", ""), dav("resourcetype"), depth="1")
    assert not any("src.txt" in href or "tree" in href for href in home)
    assert alice.get(folder + "src.txt").content == b"from alice"
    assert alice.get(folder + "tree/inside.txt").content == b"tree"


def test_copy_move_from_bobs_space_is_404(
    server: LiveServer, alice: httpx.Client, bob: httpx.Client, bob_space: dict[str, str]
) -> None:
    target = files("alice", unique("stolen"))
    for method in ("COPY", "MOVE"):
        for source in (bob_space["item"], bob_space["folder"]):
            response = alice.request(method, source, headers={"Destination": server.base_url + target})
            assert response.status_code == 404
    assert alice.get(target).status_code == 404
    assert bob.get(bob_space["item"]).content == b"bob's secret"


def test_destination_with_dot_segments_cannot_reach_bob(
    server: LiveServer, alice: httpx.Client, bob: httpx.Client
) -> None:
    folder = mkcol(alice, files("alice", unique("dir"), ""))
    put(alice, folder + "src.txt")
    name = unique("escaped")
    for destination in (
        f"/dav/files/alice/../bob/{name}",
        f"/dav/files/alice/%2e%2e/bob/{name}",
        f"{server.base_url}/dav/files/alice/./../bob/{name}",
        f"/dav/files/alice%2f..%2fbob/{name}",
    ):
        response = alice.request("COPY", folder + "src.txt", headers={"Destination": destination})
        assert response.status_code in (400, 403, 404), (destination, response.status_code)
    assert bob.get(files("bob", name)).status_code == 404


def test_namespace_listings_show_only_your_own_entries(alice: httpx.Client) -> None:
    for namespace in ("files", "calendars", "addressbooks"):
        listing = propfind(alice, f"/dav/{namespace}/", dav("displayname"), dav("resourcetype"), depth="1")
        assert set(listing) == {f"/dav/{namespace}/", f"/dav/{namespace}/alice/"}, namespace
    principals = propfind(alice, "/dav/principals/", dav("displayname"), depth="1")
    assert set(principals) == {"/dav/principals/", "/dav/principals/alice/"}
    for body in ("", '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'):
        for path in ("/dav/", "/dav/files/", "/dav/principals/"):
            response = alice.request("PROPFIND", path, content=body, headers={"Depth": "1"})
            assert response.status_code == 207
            assert "bob" not in response.text and "carol" not in response.text, (path, body)


def test_html_index_shows_only_your_own_entries(alice: httpx.Client) -> None:
    for path in ("/dav/", "/dav/files/", "/dav/principals/"):
        response = alice.get(path)
        assert response.status_code == 200
        assert "bob" not in response.text and "carol" not in response.text


def test_privileges_on_own_principal_are_read_only(alice: httpx.Client) -> None:
    response = one(alice, "/dav/principals/alice/", dav("current-user-privilege-set"))
    privileges = response.prop(dav("current-user-privilege-set"))
    assert privileges is not None
    names = {child.tag for privilege in privileges for child in privilege}
    assert dav("read") in names
    assert dav("write") not in names


def test_owner_of_a_new_account_sees_only_themselves(server: LiveServer) -> None:
    name = unique("dave").replace("-", "")
    server.add_user(name, "dave-password")
    with server.client(name) as dave:
        listing = propfind(dave, "/dav/files/", dav("resourcetype"), depth="1")
        assert set(listing) == {"/dav/files/", f"/dav/files/{name}/"}
        assert dave.get("/dav/files/alice/").status_code == 404
        assert dave.request("PROPFIND", "/dav/principals/alice/", headers={"Depth": "0"}).status_code == 404


# --- raw paths: what goes on the wire is exactly what is written here ---------------------------------------------

TRAVERSALS = [
    "/dav/files/alice/../bob/{name}",
    "/dav/files/alice/%2e%2e/bob/{name}",
    "/dav/files/alice/%2E%2E/bob/{name}",
    "/dav/files/alice/.%2e/bob/{name}",
    "/dav/files/alice/sub/../../bob/{name}",
    "/dav/files/alice/./../bob/{name}",
    "//dav//files//bob//{name}",
    "/dav//files//bob//{name}",
    "/dav/files//bob/{name}",
    "/dav/files/alice/..%2fbob/{name}",
    "/dav/files/alice/%2e%2e%2fbob/{name}",
    "/dav/files/alice%2f..%2fbob/{name}",
    "/dav/files/alice/a%2fb",
    "/dav/files/alice/..%5cbob/{name}",
    "/dav/files/alice/%252e%252e/bob/{name}",
    "/dav/./files/bob/{name}",
    "/dav/files/./bob/{name}",
    "/dav/../dav/files/bob/{name}",
    "/dav/files/alice/../../../../dav/files/bob/{name}",
]


@pytest.fixture
def bob_file(bob: httpx.Client) -> str:
    name = unique("target")
    put(bob, files("bob", name), b"bob's secret")
    return name


@pytest.mark.parametrize("template", TRAVERSALS)
def test_path_traversal_never_reaches_bob(server: LiveServer, bob: httpx.Client, bob_file: str, template: str) -> None:
    raw_path = template.format(name=bob_file)
    auth = ("alice", server.passwords["alice"])
    for method in ("GET", "PROPFIND", "PUT", "DELETE", "MOVE"):
        body = b"overwritten by alice" if method == "PUT" else b""
        headers = {"Depth": "0", "Destination": files("alice", unique("loot"))}
        response = raw_request(server.base_url, method, raw_path, auth=auth, headers=headers, body=body)
        assert response.status != 500, (method, raw_path)
        assert b"bob's secret" not in response.body
        if method in ("GET", "PROPFIND", "MOVE"):
            assert response.status in (400, 403, 404), (method, raw_path, response.status)
    assert bob.get(files("bob", bob_file)).content == b"bob's secret"


def test_raw_request_sends_the_path_verbatim(server: LiveServer, alice: httpx.Client) -> None:
    """Guard for the traversal tests: a dot segment that stays inside alice's space is resolved by the server."""
    folder = mkcol(alice, files("alice", unique("dir"), ""))
    put(alice, folder + "here.txt", b"mine")
    auth = ("alice", server.passwords["alice"])
    resolved = raw_request(server.base_url, "GET", folder + "sub/../here.txt", auth=auth)
    assert resolved.status == 200 and resolved.body == b"mine"
    encoded = raw_request(server.base_url, "GET", folder + "%2e/here.txt", auth=auth)
    assert encoded.status == 200 and encoded.body == b"mine"
    # httpx alone would have normalised this path before sending it
    assert httpx.URL(server.base_url + folder + "sub/../here.txt").path == folder + "here.txt"


def test_encoded_slash_does_not_create_nested_names(server: LiveServer, alice: httpx.Client) -> None:
    folder = mkcol(alice, files("alice", unique("dir"), ""))
    mkcol(alice, folder + "a/")
    auth = ("alice", server.passwords["alice"])
    response = raw_request(server.base_url, "PUT", folder + "a%2fb", auth=auth, body=b"x")
    assert response.status in (400, 403, 404)
    assert alice.get(folder + "a/b").status_code == 404
    assert set(propfind(alice, folder, dav("resourcetype"), depth="1")) == {folder, folder + "a/"}


@pytest.mark.parametrize("user", ["bob", "carol"])
def test_if_header_cannot_probe_other_users_resources(
    server: LiveServer, alice: httpx.Client, bob_file: str, user: str
) -> None:
    """A tagged If list naming someone else's resource evaluates as if nothing were there."""
    folder = mkcol(alice, files("alice", unique("dir"), ""))
    put(alice, folder + "mine.txt")
    with server.client("bob") as bob:
        etag = bob.get(files("bob", bob_file)).headers["etag"]
    tagged = {"If": f"<{server.base_url}{files(user, bob_file)}> ([{etag}])"}
    assert alice.put(folder + "mine.txt", content=b"x", headers=tagged).status_code == 412
    negated = {"If": f"<{server.base_url}{files(user, bob_file)}> (Not [{etag}])"}
    assert alice.put(folder + "mine.txt", content=b"x", headers=negated).status_code == 204
