"""RFC 3744 principal lookup: a search finds only the searcher's own principal."""

from __future__ import annotations

from tests.testing import LiveServer

SEARCH = (
    '<D:principal-property-search xmlns:D="DAV:" test="anyof"><D:property-search><D:prop><D:displayname/>'
    "</D:prop><D:match>{needle}</D:match></D:property-search><D:prop><D:displayname/></D:prop>"
    "</D:principal-property-search>"
)


def test_search_by_name_finds_own_principal_case_insensitively(server: LiveServer) -> None:
    with server.client("alice") as client:
        response = client.request("REPORT", "/dav/principals/", content=SEARCH.format(needle="LIC"))
    assert response.status_code == 207
    assert "<D:href>/dav/principals/alice/</D:href>" in response.text
    assert "<D:displayname>alice</D:displayname>" in response.text


def test_search_never_reveals_other_principals(server: LiveServer) -> None:
    with server.client("alice") as client:
        response = client.request("REPORT", "/", content=SEARCH.format(needle="bob"))
    assert response.status_code == 207
    assert "<D:response>" not in response.text and "bob" not in response.text


def test_search_property_set_and_collection_set(server: LiveServer) -> None:
    with server.client("alice") as client:
        listed = client.request(
            "REPORT", "/dav/principals/", content='<D:principal-search-property-set xmlns:D="DAV:"/>'
        )
        found = client.request(
            "PROPFIND",
            "/dav/files/alice/",
            headers={"Depth": "0"},
            content='<D:propfind xmlns:D="DAV:"><D:prop><D:principal-collection-set/></D:prop></D:propfind>',
        )
    assert listed.status_code == 200 and "<D:displayname/>" in listed.text
    assert "<D:principal-collection-set><D:href>/dav/principals/</D:href>" in found.text


def test_python_caldav_style_search_lists_own_principal(server: LiveServer) -> None:
    """python-caldav sends the wanted names beside an empty prop, and lists principals without a search."""
    body = (
        '<D:principal-property-search xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop/>'
        "<C:calendar-home-set/><D:displayname/></D:principal-property-search>"
    )
    with server.client("alice") as client:
        response = client.request("REPORT", "/", content=body)
    assert response.status_code == 207
    assert "<D:displayname>alice</D:displayname>" in response.text
    assert "<C:calendar-home-set><D:href>/dav/calendars/alice/</D:href>" in response.text
