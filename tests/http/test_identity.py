"""What a principal says about its owner: display name and mail addresses set with the CLI."""

from __future__ import annotations

from tests.http import dav, one
from tests.testing import LiveServer, gateway

CALDAV_NS = "urn:ietf:params:xml:ns:caldav"


def test_principal_shows_display_name_and_mailto_addresses_primary_first(server: LiveServer) -> None:
    server.add_user("dora", "dora-secret")
    changed = gateway(
        server.data_dir,
        "user",
        "set",
        "dora",
        "--email",
        "dora@example.org",
        "--alias",
        "d.x@example.org",
        "--display-name",
        "Dora Explorer",
    )
    assert changed.returncode == 0, changed.stderr
    with server.client("dora") as client:
        found = one(client, "/dav/principals/dora/", dav("displayname"), f"{{{CALDAV_NS}}}calendar-user-address-set")
    assert found.text(dav("displayname")) == "Dora Explorer"
    addresses = found.prop(f"{{{CALDAV_NS}}}calendar-user-address-set")
    assert addresses is not None
    assert [href.text for href in addresses] == [
        "mailto:dora@example.org",
        "mailto:d.x@example.org",
        "/dav/principals/dora/",
    ]
