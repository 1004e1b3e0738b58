"""Discovery (RFC 6764, RFC 5397) and what OPTIONS advertises, against the live server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.http import dav, files, new_folder, one, propfind, put, unique
from tests.testing import LiveServer


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.mark.parametrize("service", ["caldav", "carddav"])
@pytest.mark.parametrize("method", ["GET", "PROPFIND", "OPTIONS"])
def test_well_known_redirects_to_dav_root(server: LiveServer, service: str, method: str) -> None:
    with server.client(None) as anonymous:
        response = anonymous.request(method, f"/.well-known/{service}", follow_redirects=False)
    assert response.status_code == 301
    assert urlsplit(response.headers["location"]).path == "/dav/"


@pytest.mark.parametrize("method", ["GET", "PROPFIND", "OPTIONS", "PUT"])
@pytest.mark.parametrize("path", ["/dav/", "/dav", "/dav/files/alice/", "/dav/principals/alice/"])
def test_unauthenticated_dav_is_challenged(server: LiveServer, method: str, path: str) -> None:
    with server.client(None) as anonymous:
        response = anonymous.request(method, path)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Basic realm=")
    assert "alice" not in response.text


def test_following_well_known_ends_at_the_dav_root(alice: httpx.Client) -> None:
    response = alice.request(
        "PROPFIND",
        "/.well-known/caldav",
        content='<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>',
        headers={"Depth": "0"},
        follow_redirects=True,
    )
    assert response.status_code == 207
    assert urlsplit(str(response.url)).path == "/dav/"
    assert "/dav/principals/alice/" in response.text


@pytest.mark.parametrize("path", ["/", "/dav/"])
def test_current_user_principal_at_the_root(alice: httpx.Client, path: str) -> None:
    responses = propfind(alice, path, dav("current-user-principal"), dav("resourcetype"))
    root = responses["/dav/"]
    assert root.href_in(dav("current-user-principal")) == "/dav/principals/alice/"
    resourcetype = root.prop(dav("resourcetype"))
    assert resourcetype is not None and resourcetype.find(dav("collection")) is not None


def test_current_user_principal_is_the_caller(server: LiveServer) -> None:
    with server.client("bob") as bob:
        root = one(bob, "/dav/", dav("current-user-principal"))
    assert root.href_in(dav("current-user-principal")) == "/dav/principals/bob/"


def test_principal_properties(alice: httpx.Client) -> None:
    principal = one(
        alice,
        "/dav/principals/alice/",
        dav("principal-URL"),
        dav("displayname"),
        dav("resourcetype"),
        dav("current-user-principal"),
    )
    assert principal.href_in(dav("principal-URL")) == "/dav/principals/alice/"
    assert principal.text(dav("displayname")) == "alice"
    resourcetype = principal.prop(dav("resourcetype"))
    assert resourcetype is not None and resourcetype.find(dav("principal")) is not None
    assert principal.href_in(dav("current-user-principal")) == "/dav/principals/alice/"


def test_principal_without_trailing_slash_is_found(alice: httpx.Client) -> None:
    responses = propfind(alice, "/dav/principals/alice", dav("principal-URL"))
    assert [r.href_in(dav("principal-URL")) for r in responses.values()] == ["/dav/principals/alice/"]


@pytest.mark.parametrize("namespace", ["files", "calendars", "addressbooks"])
def test_homes_exist_and_are_owned(alice: httpx.Client, namespace: str) -> None:
    home = f"/dav/{namespace}/alice/"
    response = one(alice, home, dav("resourcetype"), dav("owner"), dav("current-user-privilege-set"))
    resourcetype = response.prop(dav("resourcetype"))
    assert resourcetype is not None and resourcetype.find(dav("collection")) is not None
    assert response.href_in(dav("owner")) == "/dav/principals/alice/"
    privileges = response.prop(dav("current-user-privilege-set"))
    assert privileges is not None
    names = {child.tag for privilege in privileges for child in privilege}
    assert {dav("read"), dav("write")} <= names


def test_dav_root_lists_the_namespaces(alice: httpx.Client) -> None:
    responses = propfind(alice, "/dav/", dav("resourcetype"), depth="1")
    assert set(responses) == {
        "/dav/",
        "/dav/principals/",
        "/dav/files/",
        "/dav/calendars/",
        "/dav/addressbooks/",
    }


DAV_CLASSES = {"1", "2", "3", "access-control", "extended-mkcol"}


def options(client: httpx.Client, path: str) -> tuple[set[str], set[str]]:
    response = client.options(path)
    assert response.status_code == 200, (path, response.status_code)
    dav_classes = {part.strip() for part in response.headers["dav"].split(",")}
    allow = {part.strip() for part in response.headers["allow"].split(",")}
    return dav_classes, allow


def test_options_on_a_collection(alice: httpx.Client) -> None:
    folder = new_folder(alice)
    dav_classes, allow = options(alice, folder)
    assert dav_classes >= DAV_CLASSES
    assert {"OPTIONS", "GET", "HEAD", "PROPFIND", "PROPPATCH", "DELETE", "COPY", "MOVE", "LOCK", "UNLOCK"} <= allow
    assert "MKCOL" not in allow
    assert "PUT" not in allow


def test_options_on_an_item(alice: httpx.Client) -> None:
    folder = new_folder(alice)
    put(alice, folder + "note.txt")
    dav_classes, allow = options(alice, folder + "note.txt")
    assert dav_classes >= DAV_CLASSES
    assert {"OPTIONS", "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "PROPPATCH", "COPY", "MOVE", "LOCK"} <= allow
    assert "MKCOL" not in allow


def test_options_on_an_unmapped_url(alice: httpx.Client) -> None:
    folder = new_folder(alice)
    dav_classes, allow = options(alice, folder + unique("missing"))
    assert dav_classes >= DAV_CLASSES
    assert {"OPTIONS", "PUT", "MKCOL", "LOCK"} <= allow
    assert not allow & {"GET", "HEAD", "DELETE", "PROPFIND", "PROPPATCH", "COPY", "MOVE", "UNLOCK"}


def test_options_on_an_unmapped_collection_url_offers_mkcol_not_put(alice: httpx.Client) -> None:
    _, allow = options(alice, files("alice", unique("missing"), ""))
    assert "MKCOL" in allow
    assert "PUT" not in allow


def test_options_on_the_dav_root(alice: httpx.Client) -> None:
    dav_classes, allow = options(alice, "/dav/")
    assert dav_classes >= DAV_CLASSES
    assert {"OPTIONS", "PROPFIND"} <= allow
    assert not allow & {"PUT", "MKCOL", "DELETE"}
