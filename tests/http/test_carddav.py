"""CardDAV (RFC 6352) over real HTTP: address books, writes that keep data valid, queries, multiget, sync."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.http import dav, multistatus, one, unique
from tests.testing import LiveServer

CARDDAV_NS = "urn:ietf:params:xml:ns:carddav"
XML = {"Content-Type": "application/xml; charset=utf-8"}
VCARD = {"Content-Type": "text/vcard; charset=utf-8"}


def card(local: str) -> str:
    return f"{{{CARDDAV_NS}}}{local}"


def vcard3(uid: str, name: str, email: str = "", *extra: str) -> bytes:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}", f"N:{name.split()[-1]};{name.split()[0]};;;"]
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET,WORK:{email}")
    return ("\r\n".join([*lines, *extra, "END:VCARD", ""])).encode()


def new_addressbook(client: httpx.Client, user: str = "alice") -> str:
    path = f"/dav/addressbooks/{user}/{unique('book')}/"
    body = (
        f'<D:mkcol xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"><D:set><D:prop>'
        "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>"
        "<D:displayname>Test book</D:displayname></D:prop></D:set></D:mkcol>"
    )
    response = client.request("MKCOL", path, content=body, headers=XML)
    assert response.status_code == 201, response.text
    return path


def query(client: httpx.Client, path: str, filter_xml: str, extra: str = "") -> httpx.Response:
    body = (
        f'<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"><D:prop><D:getetag/></D:prop>'
        f"{filter_xml}{extra}</CR:addressbook-query>"
    )
    return client.request("REPORT", path, content=body, headers={**XML, "Depth": "1"})


@pytest.fixture
def book(server: LiveServer) -> tuple[httpx.Client, str]:
    client = server.client("alice")
    return client, new_addressbook(client)


def test_principal_and_home_advertise_address_books(server: LiveServer) -> None:
    with server.client("alice") as client:
        principal = one(client, "/dav/principals/alice/", f"{{{CARDDAV_NS}}}addressbook-home-set")
        assert principal.href_in(card("addressbook-home-set")) == "/dav/addressbooks/alice/"
        listing = client.request("PROPFIND", "/dav/addressbooks/alice/", headers={"Depth": "1"})
        responses = multistatus(listing)
        default = responses["/dav/addressbooks/alice/contacts/"]
        types = default.prop(dav("resourcetype"))
        assert types is not None and types.find(card("addressbook")) is not None
        options = client.request("OPTIONS", "/dav/addressbooks/alice/contacts/")
        assert "addressbook" in options.headers["DAV"]


def test_supported_address_data_lists_both_versions(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    found = one(client, path, card("supported-address-data"), card("max-resource-size"))
    element = found.prop(card("supported-address-data"))
    assert element is not None
    assert sorted(e.get("version") for e in element) == ["3.0", "4.0"]
    assert int(found.text(card("max-resource-size")) or 0) > 0


def test_put_stores_bytes_as_sent_and_get_returns_them(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    data = vcard3(
        "u-bytes",
        "Jürgen Müller",
        "jm@example.org",
        "X-VENDOR-THING:keep me ; as is",
        "NOTE:a long note that is folded",
    )
    created = client.put(path + "jm.vcf", content=data, headers=VCARD)
    assert created.status_code == 201
    fetched = client.get(path + "jm.vcf")
    assert fetched.content == data
    assert fetched.headers["ETag"] == created.headers["ETag"]


@pytest.mark.parametrize(
    ("body", "condition"),
    [
        (b"not a vcard", "valid-address-data"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid\r\nEND:VCARD\r\n", "valid-address-data"),
        (vcard3("a", "Two Cards") + vcard3("b", "Second Card"), "valid-address-data"),
    ],
)
def test_invalid_cards_are_refused_with_the_precondition(
    book: tuple[httpx.Client, str], body: bytes, condition: str
) -> None:
    client, path = book
    response = client.put(path + "bad.vcf", content=body, headers=VCARD)
    assert response.status_code == 403
    assert f"<CR:{condition}/>" in response.text


def test_uid_conflict_names_the_existing_resource(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    assert client.put(path + "first.vcf", content=vcard3("same-uid", "Ann One"), headers=VCARD).status_code == 201
    response = client.put(path + "second.vcf", content=vcard3("same-uid", "Ann Two"), headers=VCARD)
    assert response.status_code == 409
    assert "no-uid-conflict" in response.text and f"{path}first.vcf" in response.text


def test_wrong_media_type_is_refused(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    response = client.put(path + "x.vcf", content=vcard3("m", "Media Type"), headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_query_by_name_prefix_and_email(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    for name, uid, email in (
        ("John Doe", "j1", "jd@example.org"),
        ("Joan Smith", "j2", "js@example.net"),
        ("Mary Jones", "m1", "mary@example.com"),
    ):
        assert client.put(f"{path}{uid}.vcf", content=vcard3(uid, name, email), headers=VCARD).status_code == 201
    prefix = (
        '<CR:filter><CR:prop-filter name="FN"><CR:text-match collation="i;unicode-casemap" match-type="starts-with">'
        "jo</CR:text-match></CR:prop-filter></CR:filter>"
    )
    assert sorted(multistatus(query(client, path, prefix))) == [f"{path}j1.vcf", f"{path}j2.vcf"]
    by_mail = (
        '<CR:filter test="anyof"><CR:prop-filter name="EMAIL"><CR:text-match match-type="equals">'
        "MARY@example.com</CR:text-match></CR:prop-filter></CR:filter>"
    )
    assert list(multistatus(query(client, path, by_mail))) == [f"{path}m1.vcf"]
    contains = '<CR:filter><CR:prop-filter name="FN"><CR:text-match>ONE</CR:text-match></CR:prop-filter></CR:filter>'
    assert list(multistatus(query(client, path, contains))) == [f"{path}m1.vcf"]


def test_query_limit_truncates_with_507(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    for n in range(3):
        client.put(f"{path}c{n}.vcf", content=vcard3(f"lim{n}", f"Limit Person{n}"), headers=VCARD)
    response = query(client, path, "<CR:filter/>", "<CR:limit><CR:nresults>2</CR:nresults></CR:limit>")
    responses = multistatus(response)
    assert responses[path].status == "HTTP/1.1 507 Insufficient Storage"
    assert len([href for href in responses if href != path]) == 2


def test_unknown_collation_is_refused(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    bad = (
        '<CR:filter><CR:prop-filter name="FN"><CR:text-match collation="x;nope">a</CR:text-match>'
        "</CR:prop-filter></CR:filter>"
    )
    response = query(client, path, bad)
    assert response.status_code == 403 and "supported-collation" in response.text


def test_multiget_converts_between_versions_and_subsets(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    client.put(path + "v3.vcf", content=vcard3("conv", "Conversion Case", "cc@example.org"), headers=VCARD)
    body = (
        f'<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"><D:prop><D:getetag/>'
        '<CR:address-data content-type="text/vcard" version="4.0"/></D:prop>'
        f"<D:href>{path}v3.vcf</D:href><D:href>{path}missing.vcf</D:href></CR:addressbook-multiget>"
    )
    responses = multistatus(client.request("REPORT", path, content=body, headers=XML))
    text = responses[f"{path}v3.vcf"].text(card("address-data")) or ""
    assert "VERSION:4.0" in text and "cc@example.org" in text
    assert responses[f"{path}missing.vcf"].status == "HTTP/1.1 404 Not Found"
    subset = body.replace(
        '<CR:address-data content-type="text/vcard" version="4.0"/>',
        '<CR:address-data><CR:prop name="EMAIL"/></CR:address-data>',
    )
    responses = multistatus(client.request("REPORT", path, content=subset, headers=XML))
    text = responses[f"{path}v3.vcf"].text(card("address-data")) or ""
    assert "cc@example.org" in text and "FN:" not in text and "UID:conv" in text


def test_sync_collection_reports_changes_and_deletions(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    sync = (
        '<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>'
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    client.put(path + "a.vcf", content=vcard3("s-a", "Sync Alpha"), headers=VCARD)
    first = client.request("REPORT", path, content=sync.format(token=""), headers={**XML, "Depth": "1"})
    token = first.text.split("<D:sync-token>")[1].split("</D:sync-token>")[0]
    client.put(path + "b.vcf", content=vcard3("s-b", "Sync Beta"), headers=VCARD)
    client.delete(path + "a.vcf")
    second = multistatus(client.request("REPORT", path, content=sync.format(token=token), headers=XML))
    assert second[f"{path}b.vcf"].prop(dav("getetag")) is not None
    assert second[f"{path}a.vcf"].status == "HTTP/1.1 404 Not Found"


def test_address_books_only_in_the_home_and_other_users_see_nothing(server: LiveServer) -> None:
    with server.client("alice") as alice, server.client("bob") as bob:
        outside = alice.request(
            "MKCOL",
            f"/dav/files/alice/{unique('book')}/",
            content=(
                f'<D:mkcol xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"><D:set><D:prop><D:resourcetype><D:collection/>'
                "<CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>"
            ),
            headers=XML,
        )
        assert outside.status_code == 403
        path = new_addressbook(alice)
        alice.put(path + "p.vcf", content=vcard3("priv", "Private Person"), headers=VCARD)
        assert bob.get(path + "p.vcf").status_code == 404
        assert query(bob, path, "<CR:filter/>").status_code == 404


def test_groups_of_both_styles_are_stored_as_sent_and_queryable(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    apple = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:grp-apple\r\nFN:Team Apple\r\nN:Team Apple;;;;\r\n"
        b"X-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:j1\r\nEND:VCARD\r\n"
    )
    v4 = (
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:grp-v4\r\nFN:Team Four\r\nKIND:group\r\nMEMBER:urn:uuid:j1\r\nEND:VCARD\r\n"
    )
    assert client.put(path + "apple.vcf", content=apple, headers=VCARD).status_code == 201
    assert client.put(path + "v4.vcf", content=v4, headers=VCARD).status_code == 201
    assert client.get(path + "apple.vcf").content == apple
    groups = (
        '<CR:filter test="anyof"><CR:prop-filter name="X-ADDRESSBOOKSERVER-KIND"><CR:text-match match-type="equals">'
        'group</CR:text-match></CR:prop-filter><CR:prop-filter name="KIND"><CR:text-match match-type="equals">'
        "group</CR:text-match></CR:prop-filter></CR:filter>"
    )
    assert sorted(multistatus(query(client, path, groups))) == [f"{path}apple.vcf", f"{path}v4.vcf"]


def test_a_large_photo_survives_byte_for_byte(book: tuple[httpx.Client, str]) -> None:
    client, path = book
    photo = base64.b64encode(bytes(range(256)) * 6000).decode()  # ~2 MB of base64
    folded = "\r\n ".join(photo[i : i + 74] for i in range(0, len(photo), 74))
    data = (
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:photo\r\nFN:Photo Person\r\nPHOTO;ENCODING=b;TYPE=JPEG:{folded}\r\n"
        "END:VCARD\r\n"
    ).encode()
    assert client.put(path + "photo.vcf", content=data, headers=VCARD).status_code == 201
    assert client.get(path + "photo.vcf").content == data
