"""CalDAV discovery (RFC 4791 §6, clients.md §0): principal home set, the home listing, OPTIONS."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http import dav, one, propfind
from tests.http.caldav_support import cal, cs, home, new_calendar
from tests.testing import LiveServer


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


def test_principal_has_calendar_home_and_address_set(alice: httpx.Client) -> None:
    principal = one(alice, "/dav/principals/alice/", cal("calendar-home-set"), cal("calendar-user-address-set"))
    assert principal.href_in(cal("calendar-home-set")) == "/dav/calendars/alice/"
    addresses = principal.prop(cal("calendar-user-address-set"))
    assert addresses is not None and addresses.findall(dav("href")), "calendar-user-address-set has no href"


def test_calendar_home_set_is_not_the_calendar_itself(alice: httpx.Client) -> None:
    """A home set that is a calendar hangs Apple clients at "Verifying" (clients.md §1)."""
    found = one(alice, home(), dav("resourcetype"))
    resourcetype = found.prop(dav("resourcetype"))
    assert resourcetype is not None
    assert resourcetype.find(cal("calendar")) is None


def test_home_depth1_lists_calendars_with_what_clients_need(alice: httpx.Client) -> None:
    path = new_calendar(alice, "<D:displayname>Listed</D:displayname>")
    names = (
        dav("resourcetype"),
        cal("supported-calendar-component-set"),
        cs("getctag"),
        dav("sync-token"),
        dav("displayname"),
        dav("supported-report-set"),
    )
    listing = propfind(alice, home(), *names, depth="1")
    for default in ("calendar/", "tasks/"):
        assert home() + default in listing, list(listing)
    entry = listing[path]
    resourcetype = entry.prop(dav("resourcetype"))
    assert resourcetype is not None
    assert resourcetype.find(dav("collection")) is not None and resourcetype.find(cal("calendar")) is not None
    components = entry.prop(cal("supported-calendar-component-set"))
    assert components is not None
    assert [c.get("name") for c in components.findall(cal("comp"))] == ["VEVENT"]
    assert entry.text(cs("getctag"))
    assert entry.text(dav("sync-token"))
    assert entry.text(dav("displayname")) == "Listed"
    reports = entry.prop(dav("supported-report-set"))
    assert reports is not None
    advertised = {r.tag for r in reports.iter() if r.getparent() is not None and r.getparent().tag == dav("report")}
    assert {cal("calendar-query"), cal("calendar-multiget"), cal("free-busy-query"), dav("sync-collection")} <= (
        advertised
    )


def test_default_calendars_have_their_component_sets(alice: httpx.Client) -> None:
    listing = propfind(alice, home(), cal("supported-calendar-component-set"), depth="1")
    for default, component in (("calendar/", "VEVENT"), ("tasks/", "VTODO")):
        components = listing[home() + default].prop(cal("supported-calendar-component-set"))
        assert components is not None
        assert [c.get("name") for c in components.findall(cal("comp"))] == [component]


def test_each_principal_gets_default_calendars(server: LiveServer) -> None:
    with server.client("carol") as carol:
        listing = propfind(carol, home("carol"), dav("resourcetype"), depth="1")
    assert {home("carol") + "calendar/", home("carol") + "tasks/"} <= set(listing)


@pytest.mark.parametrize("where", ["principal", "home", "calendar"])
def test_options_says_calendar_access_not_auto_schedule(alice: httpx.Client, where: str) -> None:
    path = {"principal": "/dav/principals/alice/", "home": home(), "calendar": home() + "calendar/"}[where]
    response = alice.options(path)
    assert response.status_code == 200
    classes = [c.strip() for c in response.headers["dav"].split(",")]
    assert "calendar-access" in classes
    assert "calendar-auto-schedule" not in classes
    assert "1" in classes and "3" in classes
    assert "PROPFIND" in response.headers["allow"]


def test_options_on_a_calendar_allows_report_and_put_on_members(alice: httpx.Client) -> None:
    path = new_calendar(alice)
    allow = {m.strip() for m in alice.options(path).headers["allow"].split(",")}
    assert {"REPORT", "PROPFIND", "PROPPATCH", "DELETE"} <= allow
    member_allow = {m.strip() for m in alice.options(path + "new.ics").headers["allow"].split(",")}
    assert "PUT" in member_allow


def test_options_on_the_home_allows_mkcalendar_below_it(alice: httpx.Client) -> None:
    allow = {m.strip() for m in alice.options(home() + "not-yet/").headers["allow"].split(",")}
    assert "MKCALENDAR" in allow


def test_calendar_properties_depth0(alice: httpx.Client) -> None:
    """What DAVx5 and Thunderbird read per calendar (clients.md §2, §3)."""
    path = new_calendar(alice, components=("VEVENT", "VTODO"))
    names = (
        cal("supported-calendar-data"),
        cal("max-resource-size"),
        cal("min-date-time"),
        cal("max-date-time"),
        cal("max-instances"),
        cal("max-attendees-per-instance"),
        cal("schedule-calendar-transp"),
        dav("getcontenttype"),
    )
    found = one(alice, path, *names, cal("supported-calendar-component-set"))
    data = found.prop(cal("supported-calendar-data"))
    assert data is not None
    formats = data.findall(cal("calendar-data"))
    assert any(f.get("content-type") == "text/calendar" and f.get("version") == "2.0" for f in formats)
    assert int(found.text(cal("max-resource-size")) or "0") > 0
    assert found.text(cal("min-date-time")) == "19000101T000000Z"
    assert (found.text(cal("max-date-time")) or "").endswith("Z")
    assert int(found.text(cal("max-instances")) or "0") > 0
    assert int(found.text(cal("max-attendees-per-instance")) or "0") > 0
    transp = found.prop(cal("schedule-calendar-transp"))
    assert transp is not None and transp.find(cal("opaque")) is not None
    components = found.prop(cal("supported-calendar-component-set"))
    assert components is not None
    assert sorted(c.get("name") for c in components.findall(cal("comp"))) == ["VEVENT", "VTODO"]


def test_calendar_without_component_set_accepts_every_type(alice: httpx.Client) -> None:
    path = new_calendar(alice, components=None)
    components = one(alice, path, cal("supported-calendar-component-set")).prop(cal("supported-calendar-component-set"))
    assert components is not None
    assert {"VEVENT", "VTODO", "VJOURNAL"} <= {c.get("name") for c in components.findall(cal("comp"))}


def test_unknown_properties_are_404_not_an_error(alice: httpx.Client) -> None:
    """Apple asks for 30+ properties; unknown ones are a 404 propstat, 200 first (clients.md §0.4)."""
    path = new_calendar(alice)
    response = propfind(
        alice, path, cs("getctag"), cs("pushkey"), cal("schedule-default-calendar-URL"), "{urn:x-none}nothing"
    )[path]
    assert response.propstats[0].status == "HTTP/1.1 200 OK"
    assert response.status_of(cs("pushkey")) == "HTTP/1.1 404 Not Found"


def test_component_set_is_unchanged_by_a_listing(alice: httpx.Client) -> None:
    """Sanity: the same calendar reports the same set through Depth 0 and Depth 1."""
    path = new_calendar(alice, components=("VTODO",))
    depth0 = one(alice, path, cal("supported-calendar-component-set")).prop(cal("supported-calendar-component-set"))
    depth1 = propfind(alice, home(), cal("supported-calendar-component-set"), depth="1")[path].prop(
        cal("supported-calendar-component-set")
    )
    assert depth0 is not None and depth1 is not None
    assert [c.get("name") for c in depth0] == [c.get("name") for c in depth1] == ["VTODO"]
