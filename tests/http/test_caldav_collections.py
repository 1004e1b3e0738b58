"""Calendar collections: MKCALENDAR (RFC 4791 §5.3.1), extended MKCOL (RFC 5689), properties and PROPPATCH."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from tests.http import dav, files, multistatus, one, unique
from tests.http.caldav_support import (
    NAMESPACES,
    PROLOG,
    XML,
    apple,
    assert_condition,
    cal,
    collection_props,
    component_set,
    cs,
    event,
    home,
    mkcalendar_body,
    new_calendar,
    put_ics,
    store,
    todo,
)
from tests.testing import LiveServer

NEW_YORK = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tests//caldav//EN",
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        "BEGIN:DAYLIGHT",
        "DTSTART:20070311T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
        "TZNAME:EDT",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "DTSTART:20071104T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
        "TZNAME:EST",
        "TZOFFSETFROM:-0400",
        "TZOFFSETTO:-0500",
        "END:STANDARD",
        "END:VTIMEZONE",
        "END:VCALENDAR",
        "",
    ]
)


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


def mkcalendar(client: httpx.Client, path: str, *props: str) -> httpx.Response:
    return client.request("MKCALENDAR", path, content=mkcalendar_body(*props), headers=XML)


def proppatch(client: httpx.Client, path: str, *props: str, remove: tuple[str, ...] = ()) -> httpx.Response:
    set_xml = f"<D:set><D:prop>{''.join(props)}</D:prop></D:set>" if props else ""
    remove_xml = f"<D:remove><D:prop>{''.join(remove)}</D:prop></D:remove>" if remove else ""
    body = f"{PROLOG}<D:propertyupdate {NAMESPACES}>{set_xml}{remove_xml}</D:propertyupdate>"
    return client.request("PROPPATCH", path, content=body, headers=XML)


def statuses(response: httpx.Response) -> dict[str, str]:
    """``{property Clark name: status line}`` of a single-resource 207 (PROPPATCH)."""
    (only,) = multistatus(response).values()
    return {name: propstat.status for propstat in only.propstats for name in propstat.props}


def exists(client: httpx.Client, path: str) -> bool:
    status = client.request("PROPFIND", path, headers={"Depth": "0"}).status_code
    assert status in (207, 404), status
    return status == 207


# --- MKCALENDAR ------------------------------------------------------------------------------------------------


def test_mkcalendar_with_initial_properties(alice: httpx.Client) -> None:
    path = home() + unique("cal") + "/"
    response = mkcalendar(
        alice,
        path,
        "<D:displayname>Work</D:displayname>",
        "<C:calendar-description>Meetings &amp; deadlines</C:calendar-description>",
        "<A:calendar-color>#FF5733FF</A:calendar-color>",
        "<A:calendar-order>3</A:calendar-order>",
        f"<C:calendar-timezone>{NEW_YORK.replace(chr(13), '&#13;')}</C:calendar-timezone>",
        component_set("VEVENT", "VTODO"),
    )
    assert response.status_code == 201, response.text
    found = collection_props(
        alice,
        path,
        dav("resourcetype"),
        dav("displayname"),
        cal("calendar-description"),
        apple("calendar-color"),
        apple("calendar-order"),
        cal("calendar-timezone"),
        cal("supported-calendar-component-set"),
    )
    assert found[dav("resourcetype")].find(cal("calendar")) is not None
    assert found[dav("displayname")].text == "Work"
    assert found[cal("calendar-description")].text == "Meetings & deadlines"
    assert found[apple("calendar-color")].text == "#FF5733FF"
    assert found[apple("calendar-order")].text == "3"
    assert "TZID:America/New_York" in (found[cal("calendar-timezone")].text or "")
    assert sorted(c.get("name") for c in found[cal("supported-calendar-component-set")]) == ["VEVENT", "VTODO"]


def test_mkcalendar_like_davx5(alice: httpx.Client) -> None:
    """DAVx5 sends resourcetype, colour, calendar-timezone-id and the component set in the body (clients.md §2)."""
    path = home() + unique("cal") + "/"
    response = mkcalendar(
        alice,
        path,
        "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>",
        "<D:displayname>Phone</D:displayname>",
        "<A:calendar-color>#0000FFFF</A:calendar-color>",
        "<C:calendar-timezone-id>Europe/Berlin</C:calendar-timezone-id>",
        component_set("VEVENT"),
    )
    assert response.status_code == 201, response.text
    found = collection_props(alice, path, dav("resourcetype"), cal("calendar-timezone-id"))
    assert found[dav("resourcetype")].find(cal("calendar")) is not None
    assert found[cal("calendar-timezone-id")].text == "Europe/Berlin"


def test_mkcalendar_without_body(alice: httpx.Client) -> None:
    path = home() + unique("cal") + "/"
    assert alice.request("MKCALENDAR", path).status_code == 201
    resourcetype = one(alice, path, dav("resourcetype")).prop(dav("resourcetype"))
    assert resourcetype is not None and resourcetype.find(cal("calendar")) is not None


def test_mkcalendar_without_trailing_slash(alice: httpx.Client) -> None:
    name = unique("cal")
    assert alice.request("MKCALENDAR", home() + name).status_code == 201
    assert exists(alice, home() + name + "/")


@pytest.mark.parametrize(
    "where",
    ["files", "inside-calendar", "inside-plain-collection"],
)
def test_mkcalendar_outside_the_calendar_home(alice: httpx.Client, where: str) -> None:
    if where == "files":
        path = files("alice", unique("cal"), "")
    elif where == "inside-calendar":
        path = new_calendar(alice) + unique("nested") + "/"
    else:
        folder = home() + unique("plain") + "/"
        assert alice.request("MKCOL", folder).status_code == 201
        path = folder + unique("cal") + "/"
    assert_condition(mkcalendar(alice, path), 403, cal("calendar-collection-location-ok"))
    assert not exists(alice, path)


@pytest.mark.parametrize("existing", ["own", "default", "item"])
def test_mkcalendar_on_something_existing_is_405(alice: httpx.Client, existing: str) -> None:
    if existing == "own":
        path = new_calendar(alice)
    elif existing == "default":
        path = home() + "calendar/"
    else:
        calendar = new_calendar(alice)
        store(alice, calendar + "a.ics", event(unique("uid"), "20240101T100000Z", "20240101T110000Z"))
        path = calendar + "a.ics"
    assert alice.request("MKCALENDAR", path).status_code == 405


@pytest.mark.parametrize("names", [("VFOO",), ("VEVENT", "VNOPE"), ()])
def test_mkcalendar_with_invalid_component_set(alice: httpx.Client, names: tuple[str, ...]) -> None:
    path = home() + unique("cal") + "/"
    response = mkcalendar(alice, path, "<D:displayname>x</D:displayname>", component_set(*names))
    assert response.status_code == 403, response.text
    root = etree.fromstring(response.content)
    assert root.tag == cal("mkcalendar-response")
    failed = {
        child.tag: propstat.findtext(dav("status"))
        for propstat in root.findall(dav("propstat"))
        for child in propstat.iterfind(f"{dav('prop')}/*")
    }
    assert failed[cal("supported-calendar-component-set")] == "HTTP/1.1 403 Forbidden"
    assert failed[dav("displayname")] == "HTTP/1.1 424 Failed Dependency"
    assert not exists(alice, path)


@pytest.mark.parametrize(
    "prop",
    [
        "<C:calendar-timezone>not a calendar</C:calendar-timezone>",
        "<C:calendar-timezone>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n</C:calendar-timezone>",
        "<C:calendar-timezone-id>Mars/Olympus_Mons</C:calendar-timezone-id>",
    ],
)
def test_mkcalendar_with_invalid_timezone(alice: httpx.Client, prop: str) -> None:
    path = home() + unique("cal") + "/"
    response = mkcalendar(alice, path, prop)
    assert response.status_code == 403, response.text
    assert etree.fromstring(response.content).tag == cal("mkcalendar-response")
    assert not exists(alice, path)


@pytest.mark.parametrize("prop", ["<CS:getctag>1</CS:getctag>", "<D:sync-token>x</D:sync-token>"])
def test_mkcalendar_with_a_protected_property(alice: httpx.Client, prop: str) -> None:
    path = home() + unique("cal") + "/"
    response = mkcalendar(alice, path, prop)
    assert response.status_code == 403
    assert not exists(alice, path)


@pytest.mark.parametrize(
    "body",
    [
        b"<not-xml",
        b'<D:propfind xmlns:D="DAV:"/>',
        b"\x00\xff\xfe",
        b'<C:mkcalendar xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set xmlns:D="DAV:"/>',
    ],
)
def test_mkcalendar_with_a_garbage_body(alice: httpx.Client, body: bytes) -> None:
    path = home() + unique("cal") + "/"
    response = alice.request("MKCALENDAR", path, content=body, headers=XML)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert not exists(alice, path)


def test_new_calendar_accepts_objects_and_delete_removes_it(alice: httpx.Client) -> None:
    path = new_calendar(alice)
    store(alice, path + "e.ics", event(unique("uid"), "20240101T100000Z", "20240101T110000Z"))
    assert alice.delete(path).status_code == 204
    assert not exists(alice, path)
    assert alice.get(path + "e.ics").status_code == 404


def test_calendar_home_cannot_be_deleted(alice: httpx.Client) -> None:
    assert alice.delete(home()).status_code == 403


# --- extended MKCOL --------------------------------------------------------------------------------------------


def extended_mkcol(client: httpx.Client, path: str, *props: str) -> httpx.Response:
    body = f"{PROLOG}<D:mkcol {NAMESPACES}><D:set><D:prop>{''.join(props)}</D:prop></D:set></D:mkcol>"
    return client.request("MKCOL", path, content=body, headers=XML)


CALENDAR_TYPE = "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"


def test_extended_mkcol_makes_a_calendar(alice: httpx.Client) -> None:
    """vdirsyncer creates calendars this way (clients.md §6)."""
    path = home() + unique("mkcol") + "/"
    response = extended_mkcol(
        alice, path, CALENDAR_TYPE, "<D:displayname>Via MKCOL</D:displayname>", component_set("VTODO")
    )
    assert response.status_code == 201, response.text
    found = collection_props(
        alice, path, dav("resourcetype"), dav("displayname"), cal("supported-calendar-component-set")
    )
    assert found[dav("resourcetype")].find(cal("calendar")) is not None
    assert found[dav("displayname")].text == "Via MKCOL"
    assert [c.get("name") for c in found[cal("supported-calendar-component-set")]] == ["VTODO"]
    # It is a calendar: writes are validated as calendar object resources.
    store(alice, path + "t.ics", todo(unique("uid")))
    assert_condition(
        put_ics(alice, path + "e.ics", event(unique("uid"), "20240101T100000Z")),
        403,
        cal("supported-calendar-component"),
    )
    assert_condition(put_ics(alice, path + "x.ics", b"hello"), 403, cal("valid-calendar-data"))


def test_extended_mkcol_calendar_with_invalid_component_set(alice: httpx.Client) -> None:
    path = home() + unique("mkcol") + "/"
    response = extended_mkcol(alice, path, CALENDAR_TYPE, component_set("VBOGUS"))
    assert response.status_code == 403
    assert etree.fromstring(response.content).tag == dav("mkcol-response")
    assert not exists(alice, path)


@pytest.mark.parametrize("where", ["files", "inside-calendar"])
def test_extended_mkcol_calendar_outside_the_calendar_home(alice: httpx.Client, where: str) -> None:
    path = files("alice", unique("cal"), "") if where == "files" else new_calendar(alice) + unique("nested") + "/"
    response = extended_mkcol(alice, path, CALENDAR_TYPE)
    assert_condition(response, 403, cal("calendar-collection-location-ok"))
    assert not exists(alice, path)


# --- PROPPATCH -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("color", ["#FF5733", "#FF5733CC", "#abcdef"])
def test_proppatch_calendar_color(alice: httpx.Client, color: str) -> None:
    path = new_calendar(alice)
    response = proppatch(alice, path, f"<A:calendar-color>{color}</A:calendar-color>")
    assert statuses(response) == {apple("calendar-color"): "HTTP/1.1 200 OK"}
    assert collection_props(alice, path, apple("calendar-color"))[apple("calendar-color")].text == color


@pytest.mark.parametrize("color", ["red", "#12345", "#GGGGGG", ""])
def test_proppatch_invalid_calendar_color_changes_nothing(alice: httpx.Client, color: str) -> None:
    path = new_calendar(alice, "<D:displayname>Before</D:displayname>")
    response = proppatch(
        alice, path, f"<A:calendar-color>{color}</A:calendar-color>", "<D:displayname>After</D:displayname>"
    )
    found = statuses(response)
    assert found[apple("calendar-color")].split()[1] in ("403", "409"), found
    assert found[dav("displayname")] == "HTTP/1.1 424 Failed Dependency"
    props = collection_props(alice, path, dav("displayname"), apple("calendar-color"))
    assert props[dav("displayname")].text == "Before"
    assert apple("calendar-color") not in props


@pytest.mark.parametrize("order", ["0", "7", "-2", "120"])
def test_proppatch_calendar_order(alice: httpx.Client, order: str) -> None:
    path = new_calendar(alice)
    assert statuses(proppatch(alice, path, f"<A:calendar-order>{order}</A:calendar-order>")) == {
        apple("calendar-order"): "HTTP/1.1 200 OK"
    }
    assert collection_props(alice, path, apple("calendar-order"))[apple("calendar-order")].text == order


@pytest.mark.parametrize("order", ["first", "1.5", ""])
def test_proppatch_invalid_calendar_order(alice: httpx.Client, order: str) -> None:
    path = new_calendar(alice)
    found = statuses(proppatch(alice, path, f"<A:calendar-order>{order}</A:calendar-order>"))
    assert found[apple("calendar-order")].split()[1] in ("403", "409"), found
    assert apple("calendar-order") not in collection_props(alice, path, apple("calendar-order"))


def test_proppatch_calendar_timezone_id(alice: httpx.Client) -> None:
    path = new_calendar(alice)
    response = proppatch(alice, path, "<C:calendar-timezone-id>America/New_York</C:calendar-timezone-id>")
    assert statuses(response) == {cal("calendar-timezone-id"): "HTTP/1.1 200 OK"}
    found = collection_props(alice, path, cal("calendar-timezone-id"))
    assert found[cal("calendar-timezone-id")].text == "America/New_York"
    bad = proppatch(alice, path, "<C:calendar-timezone-id>Nowhere/Special</C:calendar-timezone-id>")
    assert statuses(bad) == {cal("calendar-timezone-id"): "HTTP/1.1 403 Forbidden"}
    found = collection_props(alice, path, cal("calendar-timezone-id"))
    assert found[cal("calendar-timezone-id")].text == "America/New_York"
    removed = proppatch(alice, path, remove=("<C:calendar-timezone-id/>",))
    assert statuses(removed) == {cal("calendar-timezone-id"): "HTTP/1.1 200 OK"}
    assert cal("calendar-timezone-id") not in collection_props(alice, path, cal("calendar-timezone-id"))


def test_proppatch_calendar_timezone(alice: httpx.Client) -> None:
    path = new_calendar(alice)
    good = proppatch(alice, path, f"<C:calendar-timezone>{NEW_YORK.replace(chr(13), '&#13;')}</C:calendar-timezone>")
    assert statuses(good) == {cal("calendar-timezone"): "HTTP/1.1 200 OK"}
    bad = proppatch(alice, path, "<C:calendar-timezone>garbage</C:calendar-timezone>")
    assert statuses(bad) == {cal("calendar-timezone"): "HTTP/1.1 403 Forbidden"}
    text = collection_props(alice, path, cal("calendar-timezone"))[cal("calendar-timezone")].text or ""
    assert "TZID:America/New_York" in text


def test_proppatch_description_and_displayname(alice: httpx.Client) -> None:
    path = new_calendar(alice)
    response = proppatch(
        alice,
        path,
        "<D:displayname>Renamed ☃</D:displayname>",
        "<C:calendar-description>Snow</C:calendar-description>",
    )
    assert set(statuses(response).values()) == {"HTTP/1.1 200 OK"}
    found = collection_props(alice, path, dav("displayname"), cal("calendar-description"))
    assert found[dav("displayname")].text == "Renamed ☃"
    assert found[cal("calendar-description")].text == "Snow"


@pytest.mark.parametrize("transp", ["transparent", "opaque"])
def test_proppatch_schedule_calendar_transp(alice: httpx.Client, transp: str) -> None:
    path = new_calendar(alice)
    response = proppatch(alice, path, f"<C:schedule-calendar-transp><C:{transp}/></C:schedule-calendar-transp>")
    assert statuses(response) == {cal("schedule-calendar-transp"): "HTTP/1.1 200 OK"}
    found = collection_props(alice, path, cal("schedule-calendar-transp"))[cal("schedule-calendar-transp")]
    assert found.find(cal(transp)) is not None


@pytest.mark.parametrize(
    "prop",
    [
        "<CS:getctag>forged</CS:getctag>",
        '<C:supported-calendar-data><C:calendar-data content-type="text/plain"/></C:supported-calendar-data>',
        "<D:sync-token>forged</D:sync-token>",
        "<C:max-resource-size>1</C:max-resource-size>",
        component_set("VEVENT", "VTODO"),
    ],
)
def test_protected_properties_are_refused(alice: httpx.Client, prop: str) -> None:
    path = new_calendar(alice, "<D:displayname>Kept</D:displayname>")
    before = collection_props(alice, path, cs("getctag"), cal("supported-calendar-component-set"))
    response = proppatch(alice, path, prop, "<D:displayname>Changed</D:displayname>")
    found = statuses(response)
    refused = [name for name, status in found.items() if name != dav("displayname")]
    assert [found[name] for name in refused] == ["HTTP/1.1 403 Forbidden"], found
    assert found[dav("displayname")] == "HTTP/1.1 424 Failed Dependency"
    after = collection_props(alice, path, cs("getctag"), cal("supported-calendar-component-set"), dav("displayname"))
    assert after[dav("displayname")].text == "Kept"
    assert after[cs("getctag")].text == before[cs("getctag")].text
    assert [c.get("name") for c in after[cal("supported-calendar-component-set")]] == ["VEVENT"]


# --- COPY and MOVE of calendars ----------------------------------------------------------------------------------


def test_move_renames_a_calendar_with_its_objects(server: LiveServer, alice: httpx.Client) -> None:
    source = new_calendar(alice, "<D:displayname>Moving</D:displayname>")
    data = event(unique("uid"), "20240101T100000Z")
    store(alice, source + "e.ics", data)
    target = home() + unique("moved") + "/"
    response = alice.request("MOVE", source, headers={"Destination": server.base_url + target})
    assert response.status_code == 201
    assert not exists(alice, source)
    assert alice.get(target + "e.ics").content == data
    assert collection_props(alice, target, dav("displayname"))[dav("displayname")].text == "Moving"


def test_copy_of_a_calendar_is_a_calendar(server: LiveServer, alice: httpx.Client) -> None:
    source = new_calendar(alice, components=("VTODO",))
    store(alice, source + "t.ics", todo(unique("uid")))
    target = home() + unique("copy") + "/"
    assert alice.request("COPY", source, headers={"Destination": server.base_url + target}).status_code == 201
    assert alice.get(target + "t.ics").status_code == 200
    assert_condition(
        put_ics(alice, target + "e.ics", event(unique("uid"), "20240101T100000Z")),
        403,
        cal("supported-calendar-component"),
    )


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_a_calendar_cannot_go_inside_another(server: LiveServer, alice: httpx.Client, method: str) -> None:
    source = new_calendar(alice)
    outer = new_calendar(alice)
    target = outer + unique("nested") + "/"
    response = alice.request(method, source, headers={"Destination": server.base_url + target})
    assert_condition(response, 403, cal("calendar-collection-location-ok"))
    assert not exists(alice, target)
    assert exists(alice, source)
