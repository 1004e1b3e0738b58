"""The server's own bookkeeping properties stay invisible and out of clients' reach."""

from __future__ import annotations

from tests.testing import LiveServer

PRIVATE = "urn:x-groupware-gateway:ns"


def test_allprop_and_propname_of_the_calendar_home_hide_bookkeeping(server: LiveServer) -> None:
    with server.client("carol") as client:
        client.request("PROPFIND", "/dav/calendars/carol/", headers={"Depth": "1"})  # first login made defaults
        allprop = client.request("PROPFIND", "/dav/calendars/carol/", headers={"Depth": "0"})
        names = client.request(
            "PROPFIND",
            "/dav/calendars/carol/",
            headers={"Depth": "0"},
            content='<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>',
        )
    assert allprop.status_code == 207 and names.status_code == 207
    assert PRIVATE not in allprop.text and PRIVATE not in names.text


def test_bookkeeping_properties_cannot_be_set(server: LiveServer) -> None:
    body = (
        f'<D:propertyupdate xmlns:D="DAV:" xmlns:g="{PRIVATE}"><D:set><D:prop>'
        "<g:defaults-created>1</g:defaults-created></D:prop></D:set></D:propertyupdate>"
    )
    with server.client("carol") as client:
        response = client.request("PROPPATCH", "/dav/calendars/carol/", content=body)
    assert response.status_code == 207
    assert "HTTP/1.1 403 Forbidden" in response.text
