"""The organisation's directory: a read-only address book of every account, found and searched by all."""

from __future__ import annotations

from tests.http import dav, multistatus, one
from tests.testing import LiveServer, gateway

CARDDAV_NS = "urn:ietf:params:xml:ns:carddav"
DIRECTORY = "/dav/addressbooks/directory/"
XML = {"Content-Type": "application/xml; charset=utf-8"}


def prefix_query(field: str, prefix: str) -> str:
    return (
        f'<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CARDDAV_NS}"><D:prop><D:getetag/><CR:address-data/>'
        f'</D:prop><CR:filter><CR:prop-filter name="{field}"><CR:text-match collation="i;ascii-casemap" '
        f'match-type="starts-with">{prefix}</CR:text-match></CR:prop-filter></CR:filter></CR:addressbook-query>'
    )


def test_principal_points_to_the_directory(server: LiveServer) -> None:
    with server.client("alice") as client:
        found = one(client, "/dav/principals/alice/", f"{{{CARDDAV_NS}}}directory-gateway")
    assert found.href_in(f"{{{CARDDAV_NS}}}directory-gateway") == DIRECTORY


def test_every_user_reads_every_account_card(server: LiveServer) -> None:
    with server.client("bob") as client:
        listing = multistatus(client.request("PROPFIND", DIRECTORY, headers={"Depth": "1"}))
    types = listing[DIRECTORY].prop(dav("resourcetype"))
    assert types is not None and types.find(f"{{{CARDDAV_NS}}}addressbook") is not None
    assert {f"{DIRECTORY}alice.vcf", f"{DIRECTORY}bob.vcf", f"{DIRECTORY}carol.vcf"} <= set(listing)
    assert not any(href.endswith("_directory.vcf") for href in listing)


def test_autocomplete_by_name_and_by_address_after_a_change(server: LiveServer) -> None:
    server.add_user("erin", "erin-secret")
    changed = gateway(
        server.data_dir, "user", "set", "erin", "--email", "erin.e@example.org", "--display-name", "Erin Example"
    )
    assert changed.returncode == 0, changed.stderr
    with server.client("alice") as client:
        by_name = multistatus(client.request("REPORT", DIRECTORY, content=prefix_query("FN", "eri"), headers=XML))
        by_mail = multistatus(
            client.request("REPORT", DIRECTORY, content=prefix_query("EMAIL", "ERIN.E@"), headers=XML)
        )
    assert list(by_name) == [f"{DIRECTORY}erin.vcf"]
    card = by_name[f"{DIRECTORY}erin.vcf"].text(f"{{{CARDDAV_NS}}}address-data") or ""
    assert "FN:Erin Example" in card and "erin.e@example.org" in card
    assert list(by_mail) == [f"{DIRECTORY}erin.vcf"]


def test_nobody_writes_the_directory(server: LiveServer) -> None:
    with server.client("alice") as client:
        put = client.put(
            f"{DIRECTORY}forged.vcf", content=b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\n"
        )
        delete = client.delete(f"{DIRECTORY}bob.vcf")
        proppatch = client.request(
            "PROPPATCH",
            DIRECTORY,
            content='<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop>'
            "</D:set></D:propertyupdate>",
        )
        still = client.get(f"{DIRECTORY}bob.vcf")
    assert (put.status_code, delete.status_code, proppatch.status_code) == (404, 404, 404)
    assert still.status_code == 200


def test_the_directory_name_is_reserved(server: LiveServer) -> None:
    result = gateway(server.data_dir, "user", "add", "directory", stdin="pw\n")
    assert result.returncode != 0 and "reserved" in result.stderr


def test_the_directory_is_owned_by_no_user_and_is_read_only_to_everyone(server: LiveServer) -> None:
    with server.client("alice") as client:
        found = one(client, DIRECTORY, dav("owner"), dav("current-user-privilege-set"))
    assert found.prop(dav("owner")) is None
    privileges = found.prop(dav("current-user-privilege-set"))
    assert privileges is not None
    granted = {child[0].tag for child in privileges}
    assert dav("read") in granted and dav("write") not in granted and dav("all") not in granted
