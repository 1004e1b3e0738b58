"""RFC 4918 / RFC 5689 / RFC 4331 behaviour of the file area over real HTTP, each test in its own folder."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from tests.http import (
    OK_STATUS,
    dav,
    files,
    mkcol,
    multistatus,
    new_folder,
    one,
    propfind,
    put,
    unique,
)
from tests.testing import LiveServer

XML = {"Content-Type": "application/xml; charset=utf-8"}


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture
def folder(alice: httpx.Client) -> str:
    return new_folder(alice)


def absolute(server: LiveServer, path: str) -> str:
    return server.base_url + path


# --- PUT, GET, HEAD and conditional requests -----------------------------------------------------------------


def test_put_creates_then_replaces_with_a_strong_etag(alice: httpx.Client, folder: str) -> None:
    path = folder + "doc.txt"
    created = alice.put(path, content=b"one", headers={"Content-Type": "text/plain"})
    assert created.status_code == 201
    first = created.headers["etag"]
    assert first.startswith('"') and not first.startswith("W/")
    assert alice.get(path).headers["etag"] == first

    replaced = alice.put(path, content=b"two", headers={"Content-Type": "text/plain"})
    assert replaced.status_code == 204
    second = replaced.headers["etag"]
    assert second != first
    got = alice.get(path)
    assert got.status_code == 200
    assert got.content == b"two"
    assert got.headers["etag"] == second


def test_same_bytes_give_the_same_etag(alice: httpx.Client, folder: str) -> None:
    assert put(alice, folder + "a.bin", b"same") == put(alice, folder + "b.bin", b"same")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-custom", "text/calendar; charset=utf-8"])
def test_get_and_head_headers(alice: httpx.Client, folder: str, content_type: str) -> None:
    path = folder + "file"
    body = b"hello, world\n"
    etag = put(alice, path, body, content_type)
    got = alice.get(path)
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["etag"] == etag
    assert got.headers["content-type"] == content_type
    assert got.headers["content-length"] == str(len(body))
    assert "last-modified" in got.headers
    head = alice.head(path)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("etag", "content-type", "content-length", "last-modified"):
        assert head.headers[name] == got.headers[name], name
    listed = one(alice, path, dav("getcontenttype"), dav("getetag"), dav("getcontentlength"))
    assert listed.text(dav("getcontenttype")) == content_type
    assert listed.text(dav("getetag")) == etag
    assert listed.text(dav("getcontentlength")) == str(len(body))


def test_put_without_content_type_is_stored_as_octet_stream(alice: httpx.Client, folder: str) -> None:
    response = alice.put(folder + "raw", content=b"\x00\x01")
    assert response.status_code == 201
    assert alice.get(folder + "raw").headers["content-type"] == "application/octet-stream"


def test_if_none_match_star_refuses_to_overwrite(alice: httpx.Client, folder: str) -> None:
    path = folder + "x.txt"
    assert alice.put(path, content=b"new", headers={"If-None-Match": "*"}).status_code == 201
    refused = alice.put(path, content=b"other", headers={"If-None-Match": "*"})
    assert refused.status_code == 412
    assert alice.get(path).content == b"new"


def test_if_match_wrong_etag_writes_nothing(alice: httpx.Client, folder: str) -> None:
    path = folder + "x.txt"
    etag = put(alice, path, b"original")
    refused = alice.put(path, content=b"changed", headers={"If-Match": '"not-the-etag"'})
    assert refused.status_code == 412
    got = alice.get(path)
    assert got.content == b"original"
    assert got.headers["etag"] == etag
    accepted = alice.put(path, content=b"changed", headers={"If-Match": etag})
    assert accepted.status_code == 204
    assert alice.get(path).content == b"changed"


def test_if_match_on_a_missing_resource_fails(alice: httpx.Client, folder: str) -> None:
    response = alice.put(folder + "absent", content=b"x", headers={"If-Match": "*"})
    assert response.status_code == 412
    assert alice.get(folder + "absent").status_code == 404


def test_if_match_wrong_on_delete_keeps_the_item(alice: httpx.Client, folder: str) -> None:
    path = folder + "keep.txt"
    put(alice, path)
    assert alice.delete(path, headers={"If-Match": '"nope"'}).status_code == 412
    assert alice.get(path).status_code == 200


def test_get_if_none_match_gives_304(alice: httpx.Client, folder: str) -> None:
    path = folder + "x.txt"
    etag = put(alice, path)
    response = alice.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert alice.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert alice.get(path, headers={"If-Match": '"other"'}).status_code == 412


def test_get_if_modified_since_gives_304(alice: httpx.Client, folder: str) -> None:
    path = folder + "x.txt"
    put(alice, path)
    last_modified = alice.get(path).headers["last-modified"]
    assert alice.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert alice.get(path, headers={"If-Modified-Since": old}).status_code == 200
    assert alice.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_put_into_a_missing_parent_is_409(alice: httpx.Client, folder: str) -> None:
    response = alice.put(folder + "no-such-dir/file.txt", content=b"x")
    assert response.status_code == 409
    assert alice.request("PROPFIND", folder + "no-such-dir/", headers={"Depth": "0"}).status_code == 404


def test_put_onto_a_collection_is_refused(alice: httpx.Client, folder: str) -> None:
    assert alice.put(folder, content=b"x").status_code == 405


def test_get_missing_is_404(alice: httpx.Client, folder: str) -> None:
    assert alice.get(folder + "nothing-here").status_code == 404
    assert alice.head(folder + "nothing-here").status_code == 404


def test_binary_body_round_trips_byte_exact(alice: httpx.Client, folder: str) -> None:
    body = bytes(range(256)) * 39 + bytes(range(16))
    assert len(body) == 10_000
    etag = put(alice, folder + "blob.bin", body, "application/octet-stream")
    got = alice.get(folder + "blob.bin")
    assert got.content == body
    assert got.headers["etag"] == etag
    assert got.headers["content-length"] == "10000"


def test_names_with_spaces_and_unicode(alice: httpx.Client, folder: str) -> None:
    name = "Résumé 2024 (final)+%.txt"
    path = folder + httpx.URL("/" + name).raw_path.decode()[1:]
    assert alice.put(path, content=b"cv").status_code == 201
    assert alice.get(path).content == b"cv"
    listing = propfind(alice, folder, dav("getetag"), depth="1")
    assert len(listing) == 2
    member = next(href for href in listing if href != folder)
    assert httpx.URL(member).path.endswith(name)


# --- MKCOL and extended MKCOL ----------------------------------------------------------------------------------


def test_mkcol(alice: httpx.Client, folder: str) -> None:
    path = folder + "sub/"
    assert alice.request("MKCOL", path).status_code == 201
    resourcetype = one(alice, path, dav("resourcetype")).prop(dav("resourcetype"))
    assert resourcetype is not None and resourcetype.find(dav("collection")) is not None
    assert alice.request("MKCOL", path).status_code == 405
    assert alice.request("MKCOL", folder + "sub").status_code == 405


def test_mkcol_on_an_item_is_405(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "item")
    assert alice.request("MKCOL", folder + "item").status_code == 405


def test_mkcol_with_a_missing_parent_is_409(alice: httpx.Client, folder: str) -> None:
    assert alice.request("MKCOL", folder + "a/b/").status_code == 409
    assert alice.request("PROPFIND", folder + "a/", headers={"Depth": "0"}).status_code == 404


def test_mkcol_with_a_non_xml_body_is_415(alice: httpx.Client, folder: str) -> None:
    response = alice.request("MKCOL", folder + "sub/", content=b"hello", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert alice.request("PROPFIND", folder + "sub/", headers={"Depth": "0"}).status_code == 404


def test_extended_mkcol_sets_displayname(alice: httpx.Client, folder: str) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:Z="urn:example:z"><D:set><D:prop>'
        "<D:resourcetype><D:collection/></D:resourcetype><D:displayname>Holiday photos</D:displayname>"
        "<Z:colour>blue</Z:colour></D:prop></D:set></D:mkcol>"
    )
    response = alice.request("MKCOL", folder + "photos/", content=body, headers=XML)
    assert response.status_code == 201
    made = one(alice, folder + "photos/", dav("displayname"), "{urn:example:z}colour", dav("resourcetype"))
    assert made.text(dav("displayname")) == "Holiday photos"
    assert made.text("{urn:example:z}colour") == "blue"


def test_extended_mkcol_with_an_unknown_resourcetype_is_refused(alice: httpx.Client, folder: str) -> None:
    body = (
        '<D:mkcol xmlns:D="DAV:" xmlns:Z="urn:example:z"><D:set><D:prop>'
        "<D:resourcetype><D:collection/><Z:teapot/></D:resourcetype><D:displayname>Tea</D:displayname>"
        "</D:prop></D:set></D:mkcol>"
    )
    response = alice.request("MKCOL", folder + "tea/", content=body, headers=XML)
    assert response.status_code == 403
    root = etree.fromstring(response.content)
    assert root.tag == dav("mkcol-response")
    statuses = {
        child.tag: propstat.findtext(dav("status"))
        for propstat in root.findall(dav("propstat"))
        for child in propstat.find(dav("prop"))
    }
    assert statuses[dav("resourcetype")] == "HTTP/1.1 403 Forbidden"
    assert statuses[dav("displayname")] == "HTTP/1.1 424 Failed Dependency"
    assert alice.request("PROPFIND", folder + "tea/", headers={"Depth": "0"}).status_code == 404


def test_extended_mkcol_with_malformed_xml_is_refused(alice: httpx.Client, folder: str) -> None:
    response = alice.request("MKCOL", folder + "bad/", content=b"<D:mkcol xmlns:D='DAV:'>", headers=XML)
    assert response.status_code in (400, 415)
    assert alice.request("PROPFIND", folder + "bad/", headers={"Depth": "0"}).status_code == 404


# --- PROPFIND --------------------------------------------------------------------------------------------------


def test_propfind_depth_0_and_1(alice: httpx.Client, folder: str) -> None:
    mkcol(alice, folder + "sub/")
    put(alice, folder + "a.txt")
    put(alice, folder + "sub/deep.txt")
    depth0 = propfind(alice, folder, dav("resourcetype"), depth="0")
    assert list(depth0) == [folder]
    depth1 = propfind(alice, folder, dav("resourcetype"), depth="1")
    assert set(depth1) == {folder, folder + "sub/", folder + "a.txt"}
    assert depth1[folder + "a.txt"].prop(dav("resourcetype")) is not None
    assert len(depth1[folder + "a.txt"].prop(dav("resourcetype"))) == 0
    assert depth1[folder + "sub/"].prop(dav("resourcetype")).find(dav("collection")) is not None


def test_propfind_depth_1_on_an_item_lists_only_the_item(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    assert list(propfind(alice, folder + "a.txt", dav("getetag"), depth="1")) == [folder + "a.txt"]


def test_propfind_depth_infinity_is_refused(alice: httpx.Client, folder: str) -> None:
    response = alice.request("PROPFIND", folder, headers={"Depth": "infinity"})
    assert response.status_code == 403
    root = etree.fromstring(response.content)
    assert root.tag == dav("error")
    assert root.find(dav("propfind-finite-depth")) is not None


def test_propfind_allprop(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt", b"12345", "text/plain")
    for body in ("", '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'):
        responses = multistatus(
            alice.request("PROPFIND", folder + "a.txt", content=body, headers={"Depth": "0", **XML})
        )
        item = responses[folder + "a.txt"]
        for name in ("getetag", "getcontenttype", "getcontentlength", "getlastmodified", "resourcetype"):
            assert item.prop(dav(name)) is not None, name
        assert item.text(dav("getcontentlength")) == "5"
        assert all(propstat.status == OK_STATUS for propstat in item.propstats)


def test_propfind_allprop_with_include(alice: httpx.Client, folder: str) -> None:
    body = (
        '<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:current-user-principal/>'
        "<D:quota-used-bytes/></D:include></D:propfind>"
    )
    responses = multistatus(alice.request("PROPFIND", folder, content=body, headers={"Depth": "0", **XML}))
    response = responses[folder]
    assert response.href_in(dav("current-user-principal")) == "/dav/principals/alice/"
    assert response.prop(dav("quota-used-bytes")) is not None
    assert response.prop(dav("getlastmodified")) is not None


def test_propfind_propname(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    alice.request(
        "PROPPATCH",
        folder + "a.txt",
        content='<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:tag>v</Z:tag>'
        "</D:prop></D:set></D:propertyupdate>",
        headers=XML,
    )
    body = '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'
    response = multistatus(alice.request("PROPFIND", folder + "a.txt", content=body, headers={"Depth": "0", **XML}))
    item = response[folder + "a.txt"]
    names = {name for propstat in item.propstats for name in propstat.props}
    assert {dav("getetag"), dav("getcontenttype"), dav("resourcetype"), "{urn:z}tag"} <= names
    for propstat in item.propstats:
        assert propstat.status == OK_STATUS
        for element in propstat.props.values():
            assert len(element) == 0 and not (element.text or "").strip(), "propname carries no values"


@pytest.mark.parametrize("kind", ["root", "namespace", "principal", "home", "folder", "item"])
def test_propname_lists_exactly_the_properties_that_have_values(alice: httpx.Client, folder: str, kind: str) -> None:
    put(alice, folder + "a.txt")
    path = {
        "root": "/dav/",
        "namespace": "/dav/files/",
        "principal": "/dav/principals/alice/",
        "home": "/dav/files/alice/",
        "folder": folder,
        "item": folder + "a.txt",
    }[kind]
    body = '<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'
    named = multistatus(alice.request("PROPFIND", path, content=body, headers={"Depth": "0", **XML}))[path]
    names = [name for propstat in named.propstats for name in propstat.props]
    assert names
    asked = one(alice, path, *names)
    not_ok = {name: asked.status_of(name) for name in names if asked.status_of(name) != OK_STATUS}
    assert not not_ok, f"propname listed properties the resource does not have: {not_ok}"


def test_propfind_unknown_property_is_404_beside_known_200(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    body = (
        '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:example:unknown"><D:prop><Z:nothing/><D:getetag/>'
        "<D:displayname/></D:prop></D:propfind>"
    )
    response = alice.request("PROPFIND", folder + "a.txt", content=body, headers={"Depth": "0", **XML})
    assert response.status_code == 207
    item = multistatus(response)[folder + "a.txt"]
    assert item.status_of(dav("getetag")) == "HTTP/1.1 200 OK"
    assert item.status_of("{urn:example:unknown}nothing") == "HTTP/1.1 404 Not Found"
    assert item.status_of(dav("displayname")) == "HTTP/1.1 404 Not Found"
    assert item.propstats[0].status == "HTTP/1.1 200 OK"
    assert [p.status for p in item.propstats] == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"]


def test_depth_1_listing_gives_every_item_getetag_and_getcontenttype(alice: httpx.Client, folder: str) -> None:
    kinds = {"a.txt": "text/plain", "b.ics": "text/calendar", "c.bin": "application/octet-stream"}
    etags = {name: put(alice, folder + name, name.encode(), kind) for name, kind in kinds.items()}
    mkcol(alice, folder + "sub/")
    listing = propfind(alice, folder, dav("getetag"), dav("getcontenttype"), depth="1")
    for name, kind in kinds.items():
        item = listing[folder + name]
        assert item.text(dav("getetag")) == etags[name]
        assert item.text(dav("getcontenttype")) == kind
    assert set(listing) == {folder, folder + "sub/", *(folder + name for name in kinds)}


def test_propfind_missing_is_404(alice: httpx.Client, folder: str) -> None:
    assert alice.request("PROPFIND", folder + "nope", headers={"Depth": "0"}).status_code == 404


def test_propfind_bad_depth_is_400(alice: httpx.Client, folder: str) -> None:
    assert alice.request("PROPFIND", folder, headers={"Depth": "2"}).status_code == 400


def test_quota_used_bytes_grows_after_a_put(alice: httpx.Client, folder: str) -> None:
    home = files("alice", "")
    before = int(one(alice, home, dav("quota-used-bytes")).text(dav("quota-used-bytes")) or "-1")
    assert before >= 0
    put(alice, folder + "big.bin", b"x" * 4321)
    after = int(one(alice, home, dav("quota-used-bytes")).text(dav("quota-used-bytes")) or "-1")
    assert after - before == 4321
    here = int(one(alice, folder, dav("quota-used-bytes")).text(dav("quota-used-bytes")) or "-1")
    assert here == after


# --- PROPPATCH -------------------------------------------------------------------------------------------------


def proppatch(client: httpx.Client, path: str, inner: str, namespaces: str = "") -> httpx.Response:
    body = f'<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" {namespaces}>{inner}'
    return client.request("PROPPATCH", path, content=(body + "</D:propertyupdate>").encode(), headers=XML)


@pytest.mark.parametrize("target", ["item", "collection"])
def test_proppatch_set_and_remove_dead_properties(alice: httpx.Client, folder: str, target: str) -> None:
    path = folder + "a.txt" if target == "item" else folder
    if target == "item":
        put(alice, path)
    value = "Grüße, 日本語 & <ok> \u00e9"
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    response = proppatch(
        alice,
        path,
        f"<D:set><D:prop><Z:note>{escaped}</Z:note><D:displayname>Mine</D:displayname>"
        '<Z:nested><Z:child attr="1">deep</Z:child></Z:nested></D:prop></D:set>',
        'xmlns:Z="urn:example:custom"',
    )
    result = multistatus(response)[path]
    assert [p.status for p in result.propstats] == [OK_STATUS]
    assert set(result.propstats[0].props) == {
        "{urn:example:custom}note",
        dav("displayname"),
        "{urn:example:custom}nested",
    }

    found = one(alice, path, "{urn:example:custom}note", dav("displayname"), "{urn:example:custom}nested")
    assert found.text("{urn:example:custom}note") == value
    assert found.text(dav("displayname")) == "Mine"
    nested = found.prop("{urn:example:custom}nested")
    assert nested is not None
    child = nested.find("{urn:example:custom}child")
    assert child is not None and child.text == "deep" and child.get("attr") == "1"

    removed = proppatch(alice, path, "<D:remove><D:prop><Z:note/></D:prop></D:remove>", 'xmlns:Z="urn:example:custom"')
    assert [p.status for p in multistatus(removed)[path].propstats] == [OK_STATUS]
    after = one(alice, path, "{urn:example:custom}note", dav("displayname"))
    assert after.status_of("{urn:example:custom}note") == "HTTP/1.1 404 Not Found"
    assert after.text(dav("displayname")) == "Mine"


def test_proppatch_does_not_change_the_etag_or_content(alice: httpx.Client, folder: str) -> None:
    etag = put(alice, folder + "a.txt", b"body")
    proppatch(alice, folder + "a.txt", "<D:set><D:prop><Z:x>1</Z:x></D:prop></D:set>", 'xmlns:Z="urn:z"')
    got = alice.get(folder + "a.txt")
    assert got.content == b"body" and got.headers["etag"] == etag


def test_proppatch_protected_property_fails_atomically(alice: httpx.Client, folder: str) -> None:
    etag = put(alice, folder + "a.txt")
    proppatch(alice, folder + "a.txt", "<D:set><D:prop><Z:keep>old</Z:keep></D:prop></D:set>", 'xmlns:Z="urn:z"')
    response = proppatch(
        alice,
        folder + "a.txt",
        '<D:set><D:prop><Z:keep>new</Z:keep><D:getetag>"forged"</D:getetag><Z:added>1</Z:added></D:prop></D:set>'
        "<D:remove><D:prop><Z:keep/></D:prop></D:remove>",
        'xmlns:Z="urn:z"',
    )
    result = multistatus(response)[folder + "a.txt"]
    assert result.status_of(dav("getetag")) == "HTTP/1.1 403 Forbidden"
    assert result.status_of("{urn:z}keep") == "HTTP/1.1 424 Failed Dependency"
    assert result.status_of("{urn:z}added") == "HTTP/1.1 424 Failed Dependency"
    after = one(alice, folder + "a.txt", "{urn:z}keep", "{urn:z}added", dav("getetag"))
    assert after.text("{urn:z}keep") == "old"
    assert after.status_of("{urn:z}added") == "HTTP/1.1 404 Not Found"
    assert after.text(dav("getetag")) == etag


def test_proppatch_on_missing_resource_is_404(alice: httpx.Client, folder: str) -> None:
    response = proppatch(alice, folder + "ghost", "<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>")
    assert response.status_code == 404


# --- COPY and MOVE ---------------------------------------------------------------------------------------------


def transfer(client: httpx.Client, method: str, source: str, dest: str, base: str, **headers: str) -> httpx.Response:
    return client.request(method, source, headers={"Destination": base + dest, **headers})


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_item(server: LiveServer, alice: httpx.Client, folder: str, method: str) -> None:
    etag = put(alice, folder + "src.txt", b"payload", "text/x-payload")
    proppatch(alice, folder + "src.txt", "<D:set><D:prop><Z:p>dead</Z:p></D:prop></D:set>", 'xmlns:Z="urn:z"')
    response = transfer(alice, method, folder + "src.txt", folder + "dst.txt", server.base_url)
    assert response.status_code == 201
    got = alice.get(folder + "dst.txt")
    assert got.content == b"payload"
    assert got.headers["etag"] == etag
    assert got.headers["content-type"] == "text/x-payload"
    assert one(alice, folder + "dst.txt", "{urn:z}p").text("{urn:z}p") == "dead"
    source_status = alice.get(folder + "src.txt").status_code
    assert source_status == (404 if method == "MOVE" else 200)


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_accepts_a_path_only_destination(alice: httpx.Client, folder: str, method: str) -> None:
    put(alice, folder + "src.txt", b"p")
    response = alice.request(method, folder + "src.txt", headers={"Destination": folder + "dst.txt"})
    assert response.status_code == 201
    assert alice.get(folder + "dst.txt").content == b"p"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_overwrite(server: LiveServer, alice: httpx.Client, folder: str, method: str) -> None:
    put(alice, folder + "src.txt", b"new")
    put(alice, folder + "dst.txt", b"old")
    refused = transfer(alice, method, folder + "src.txt", folder + "dst.txt", server.base_url, Overwrite="F")
    assert refused.status_code == 412
    assert alice.get(folder + "dst.txt").content == b"old"
    assert alice.get(folder + "src.txt").content == b"new"
    replaced = transfer(alice, method, folder + "src.txt", folder + "dst.txt", server.base_url, Overwrite="T")
    assert replaced.status_code == 204
    assert alice.get(folder + "dst.txt").content == b"new"
    assert alice.get(folder + "src.txt").status_code == (404 if method == "MOVE" else 200)


def test_copy_overwrite_f_to_a_new_name_is_201(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "src.txt")
    response = transfer(alice, "COPY", folder + "src.txt", folder + "new.txt", server.base_url, Overwrite="F")
    assert response.status_code == 201


def test_copy_item_over_a_collection_replaces_it(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "src.txt", b"file")
    mkcol(alice, folder + "dir/")
    put(alice, folder + "dir/inner.txt")
    response = transfer(alice, "COPY", folder + "src.txt", folder + "dir", server.base_url)
    assert response.status_code == 204
    assert alice.get(folder + "dir").content == b"file"
    assert alice.get(folder + "dir/inner.txt").status_code == 404


def make_tree(client: httpx.Client, root: str) -> None:
    mkcol(client, root)
    put(client, root + "one.txt", b"1")
    mkcol(client, root + "sub/")
    put(client, root + "sub/two.txt", b"2")


def test_copy_collection_depth_infinity(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    response = transfer(alice, "COPY", folder + "tree/", folder + "copy/", server.base_url, Depth="infinity")
    assert response.status_code == 201
    assert alice.get(folder + "copy/one.txt").content == b"1"
    assert alice.get(folder + "copy/sub/two.txt").content == b"2"
    assert alice.get(folder + "tree/sub/two.txt").content == b"2"


def test_copy_collection_depth_0_copies_no_members(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    proppatch(alice, folder + "tree/", "<D:set><D:prop><Z:p>kept</Z:p></D:prop></D:set>", 'xmlns:Z="urn:z"')
    response = transfer(alice, "COPY", folder + "tree/", folder + "shallow/", server.base_url, Depth="0")
    assert response.status_code == 201
    assert set(propfind(alice, folder + "shallow/", dav("resourcetype"), depth="1")) == {folder + "shallow/"}
    assert one(alice, folder + "shallow/", "{urn:z}p").text("{urn:z}p") == "kept"


def test_copy_collection_with_depth_1_is_400(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    response = transfer(alice, "COPY", folder + "tree/", folder + "x/", server.base_url, Depth="1")
    assert response.status_code == 400


def test_move_collection(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    response = transfer(alice, "MOVE", folder + "tree/", folder + "moved/", server.base_url)
    assert response.status_code == 201
    assert alice.get(folder + "moved/sub/two.txt").content == b"2"
    assert alice.request("PROPFIND", folder + "tree/", headers={"Depth": "0"}).status_code == 404
    assert alice.get(folder + "tree/one.txt").status_code == 404


def test_move_collection_with_depth_0_is_400(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    response = transfer(alice, "MOVE", folder + "tree/", folder + "x/", server.base_url, Depth="0")
    assert response.status_code == 400
    assert alice.get(folder + "tree/one.txt").status_code == 200


def test_move_collection_overwrites_a_collection(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    mkcol(alice, folder + "other/")
    put(alice, folder + "other/stale.txt")
    refused = transfer(alice, "MOVE", folder + "tree/", folder + "other/", server.base_url, Overwrite="F")
    assert refused.status_code == 412
    response = transfer(alice, "MOVE", folder + "tree/", folder + "other/", server.base_url)
    assert response.status_code == 204
    assert alice.get(folder + "other/stale.txt").status_code == 404
    assert alice.get(folder + "other/one.txt").content == b"1"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_without_destination_is_400(alice: httpx.Client, folder: str, method: str) -> None:
    put(alice, folder + "src.txt")
    assert alice.request(method, folder + "src.txt").status_code == 400
    assert alice.get(folder + "src.txt").status_code == 200


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_into_missing_parent_is_409(
    server: LiveServer, alice: httpx.Client, folder: str, method: str
) -> None:
    put(alice, folder + "src.txt")
    response = transfer(alice, method, folder + "src.txt", folder + "nowhere/dst.txt", server.base_url)
    assert response.status_code == 409
    assert alice.get(folder + "src.txt").status_code == 200


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_onto_itself_is_refused(server: LiveServer, alice: httpx.Client, folder: str, method: str) -> None:
    put(alice, folder + "src.txt", b"me")
    response = transfer(alice, method, folder + "src.txt", folder + "src.txt", server.base_url)
    assert response.status_code == 403
    assert alice.get(folder + "src.txt").content == b"me"


def test_copy_collection_into_itself_is_refused(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    response = transfer(alice, "COPY", folder + "tree/", folder + "tree/sub/inner/", server.base_url)
    assert response.status_code in (403, 409)
    assert alice.request("PROPFIND", folder + "tree/sub/inner/", headers={"Depth": "0"}).status_code == 404


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_move_of_missing_source_is_404(server: LiveServer, alice: httpx.Client, folder: str, method: str) -> None:
    response = transfer(alice, method, folder + "ghost", folder + "dst", server.base_url)
    assert response.status_code == 404
    assert alice.get(folder + "dst").status_code == 404


def test_copy_to_another_area_is_refused(server: LiveServer, alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "src.txt")
    target = f"/dav/calendars/alice/{unique()}.txt"
    response = transfer(alice, "COPY", folder + "src.txt", target, server.base_url)
    assert response.status_code in (403, 409)
    assert alice.get(target).status_code == 404


# --- DELETE ----------------------------------------------------------------------------------------------------


def test_delete_item(alice: httpx.Client, folder: str) -> None:
    put(alice, folder + "a.txt")
    assert alice.delete(folder + "a.txt").status_code == 204
    assert alice.get(folder + "a.txt").status_code == 404
    assert alice.delete(folder + "a.txt").status_code == 404


def test_delete_collection_removes_members(alice: httpx.Client, folder: str) -> None:
    make_tree(alice, folder + "tree/")
    assert alice.delete(folder + "tree/").status_code == 204
    for path in ("tree/", "tree/one.txt", "tree/sub/", "tree/sub/two.txt"):
        assert alice.request("PROPFIND", folder + path, headers={"Depth": "0"}).status_code == 404, path
    # the name is free again, and comes back empty
    mkcol(alice, folder + "tree/")
    assert set(propfind(alice, folder + "tree/", dav("resourcetype"), depth="1")) == {folder + "tree/"}


@pytest.mark.parametrize("home", ["/dav/files/alice/", "/dav/calendars/alice/", "/dav/addressbooks/alice/"])
def test_deleting_a_home_is_403(alice: httpx.Client, home: str) -> None:
    assert alice.delete(home).status_code == 403
    assert alice.request("PROPFIND", home, headers={"Depth": "0"}).status_code == 207


@pytest.mark.parametrize("path", ["/dav/", "/dav/files/", "/dav/principals/", "/dav/principals/alice/"])
def test_deleting_virtual_resources_is_refused(alice: httpx.Client, path: str) -> None:
    assert alice.delete(path).status_code in (403, 405)
    assert alice.request("PROPFIND", path, headers={"Depth": "0"}).status_code == 207


@pytest.mark.parametrize("method", ["MOVE", "COPY"])
def test_home_cannot_be_moved_or_replaced(server: LiveServer, alice: httpx.Client, method: str) -> None:
    target = files("alice", unique("home-copy"), "")
    response = transfer(alice, method, "/dav/files/alice/", target, server.base_url)
    assert response.status_code in (403, 409)
    assert alice.request("PROPFIND", "/dav/files/alice/", headers={"Depth": "0"}).status_code == 207
    assert alice.request("PROPFIND", target, headers={"Depth": "0"}).status_code == 404
