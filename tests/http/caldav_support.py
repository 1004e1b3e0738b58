"""Helpers for the CalDAV HTTP tests: calendars of a test's own, iCalendar bodies, REPORTs and error elements."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from lxml import etree

from tests.http import dav, multistatus, unique

CALDAV_NS = "urn:ietf:params:xml:ns:caldav"
CS_NS = "http://calendarserver.org/ns/"
APPLE_NS = "http://apple.com/ns/ical/"
XML = {"Content-Type": "application/xml; charset=utf-8"}
ICS = "text/calendar; charset=utf-8"
PROLOG = '<?xml version="1.0" encoding="utf-8"?>'
NAMESPACES = f'xmlns:D="DAV:" xmlns:C="{CALDAV_NS}" xmlns:CS="{CS_NS}" xmlns:A="{APPLE_NS}"'


def cal(local: str) -> str:
    """Clark name of a CalDAV element."""
    return f"{{{CALDAV_NS}}}{local}"


def cs(local: str) -> str:
    return f"{{{CS_NS}}}{local}"


def apple(local: str) -> str:
    return f"{{{APPLE_NS}}}{local}"


def home(user: str = "alice") -> str:
    return f"/dav/calendars/{user}/"


# --- iCalendar bodies --------------------------------------------------------------------------------------------


def ics(*lines: str) -> bytes:
    """A VCALENDAR around ``lines`` (components and their properties), CRLF line ends."""
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//caldav//EN", *lines, "END:VCALENDAR", ""]
    ).encode()


def vevent(uid: str, start: str, end: str | None = None, *extra: str, summary: str = "Event") -> list[str]:
    """VEVENT lines; ``start``/``end`` are values, with parameters if any (``;TZID=X:2006...``, ``2006...Z``)."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20060206T001102Z", f"DTSTART{_value(start)}"]
    if end is not None:
        lines.append(f"DTEND{_value(end)}")
    return [*lines, f"SUMMARY:{summary}", *extra, "END:VEVENT"]


def vtodo(uid: str, *extra: str, summary: str = "Task") -> list[str]:
    return ["BEGIN:VTODO", f"UID:{uid}", "DTSTAMP:20060205T235335Z", f"SUMMARY:{summary}", *extra, "END:VTODO"]


def event(uid: str, start: str, end: str | None = None, *extra: str, summary: str = "Event") -> bytes:
    return ics(*vevent(uid, start, end, *extra, summary=summary))


def todo(uid: str, *extra: str, summary: str = "Task") -> bytes:
    return ics(*vtodo(uid, *extra, summary=summary))


def _value(value: str) -> str:
    return value if value.startswith((":", ";")) else ":" + value


# --- collections -------------------------------------------------------------------------------------------------


def mkcalendar_body(*props: str) -> str:
    """An MKCALENDAR body setting the given property elements (XML with the prefixes of NAMESPACES)."""
    if not props:
        return ""
    return f"{PROLOG}<C:mkcalendar {NAMESPACES}><D:set><D:prop>{''.join(props)}</D:prop></D:set></C:mkcalendar>"


def component_set(*names: str) -> str:
    comps = "".join(f'<C:comp name="{name}"/>' for name in names)
    return f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"


def new_calendar(
    client: httpx.Client, *props: str, components: tuple[str, ...] | None = ("VEVENT",), user: str = "alice"
) -> str:
    """MKCALENDAR a calendar of the test's own in ``user``'s home; its path ends in "/"."""
    path = home(user) + unique("cal") + "/"
    all_props = (*props, component_set(*components)) if components else props
    response = client.request("MKCALENDAR", path, content=mkcalendar_body(*all_props), headers=XML)
    assert response.status_code == 201, (path, response.status_code, response.text)
    return path


def put_ics(
    client: httpx.Client, path: str, data: bytes, *, content_type: str = ICS, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.put(path, content=data, headers={"Content-Type": content_type, **(headers or {})})


def store(client: httpx.Client, path: str, data: bytes) -> str:
    """PUT a calendar object that must be accepted; returns its ETag."""
    response = put_ics(client, path, data)
    assert response.status_code in (201, 204), (path, response.status_code, response.text)
    return response.headers["etag"]


# --- reports -----------------------------------------------------------------------------------------------------


def report(client: httpx.Client, path: str, body: str, depth: str | None = "1") -> httpx.Response:
    headers = dict(XML)
    if depth is not None:
        headers["Depth"] = depth
    return client.request("REPORT", path, content=body, headers=headers)


def query_body(filter_xml: str, prop: str = "<D:getetag/>", extra: str = "") -> str:
    return (
        f"{PROLOG}<C:calendar-query {NAMESPACES}>"
        f"<D:prop>{prop}</D:prop><C:filter>{filter_xml}</C:filter>{extra}</C:calendar-query>"
    )


def events_in(start: str, end: str) -> str:
    """The filter of a time-range query on VEVENTs."""
    return (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f'<C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter>'
    )


def query(
    client: httpx.Client,
    path: str,
    filter_xml: str,
    prop: str = "<D:getetag/>",
    depth: str | None = "1",
    extra: str = "",
) -> dict[str, etree._Element]:
    """calendar-query; returns ``{member name: <D:response>}``."""
    return responses_by_name(report(client, path, query_body(filter_xml, prop, extra), depth))


def multiget_body(hrefs: list[str], prop: str = "<D:getetag/><C:calendar-data/>") -> str:
    inner = "".join(f"<D:href>{href}</D:href>" for href in hrefs)
    return f"{PROLOG}<C:calendar-multiget {NAMESPACES}><D:prop>{prop}</D:prop>{inner}</C:calendar-multiget>"


def sync_body(token: str = "", prop: str = "<D:getetag/>", limit: int | None = None) -> str:
    limit_xml = f"<D:limit><D:nresults>{limit}</D:nresults></D:limit>" if limit is not None else ""
    return (
        f"{PROLOG}<D:sync-collection {NAMESPACES}><D:sync-token>{token}</D:sync-token>"
        f"<D:sync-level>1</D:sync-level>{limit_xml}<D:prop>{prop}</D:prop></D:sync-collection>"
    )


def responses_by_name(response: httpx.Response) -> dict[str, etree._Element]:
    """``{last path segment of the href: <D:response>}`` of a 207 (the collection itself keyed "")."""
    assert response.status_code == 207, (response.status_code, response.text)
    root = etree.fromstring(response.content)
    found: dict[str, etree._Element] = {}
    for node in root.findall(dav("response")):
        path = urlsplit(node.findtext(dav("href")) or "").path
        found[path.rstrip("/").rsplit("/", 1)[-1] if not path.endswith("/") else ""] = node
    return found


def calendar_data(node: etree._Element) -> str:
    """The calendar-data text of a report response, "" when absent."""
    found = node.find(f"{dav('propstat')}/{dav('prop')}/{cal('calendar-data')}")
    return "" if found is None else found.text or ""


def unfolded(data: str) -> str:
    return data.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "")


def condition(response: httpx.Response) -> list[str]:
    """Clark names of the children of a ``<D:error>`` body."""
    root = etree.fromstring(response.content)
    assert root.tag == dav("error"), response.text
    return [child.tag for child in root if isinstance(child.tag, str)]


def assert_condition(response: httpx.Response, status: int, name: str) -> etree._Element:
    """The response has ``status`` and a ``<D:error>`` naming ``name``; returns that element."""
    assert response.status_code == status, (response.status_code, response.text)
    root = etree.fromstring(response.content)
    assert root.tag == dav("error"), response.text
    found = root.find(name)
    assert found is not None, (name, response.text)
    return found


def sync_token_of(response: httpx.Response) -> str:
    root = etree.fromstring(response.content)
    token = root.findtext(dav("sync-token"))
    assert token, response.text
    return token


def collection_props(client: httpx.Client, path: str, *names: str) -> dict[str, etree._Element]:
    """Depth 0 PROPFIND of a collection: ``{Clark name: element}`` of the properties found (200)."""
    body = "".join(f'<x:{n.split("}")[1]} xmlns:x="{n[1:].split("}")[0]}"/>' for n in names)
    response = client.request(
        "PROPFIND",
        path,
        content=f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>{body}</D:prop></D:propfind>',
        headers={"Depth": "0", **XML},
    )
    parsed = multistatus(response)
    assert len(parsed) == 1, list(parsed)
    (only,) = parsed.values()
    return {name: element for name in names if (element := only.prop(name)) is not None}


# --- RFC 4791 Appendix B: the calendar of the §7.8 examples (abcd1 to abcd7) ---------------------------------

RFC_HEADER = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Corp.//CalDAV Client//EN"]
US_EASTERN = [
    "BEGIN:VTIMEZONE",
    "LAST-MODIFIED:20040110T032845Z",
    "TZID:US/Eastern",
    "BEGIN:DAYLIGHT",
    "DTSTART:20000404T020000",
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4",
    "TZNAME:EDT",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "DTSTART:20001026T020000",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    "TZNAME:EST",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "END:STANDARD",
    "END:VTIMEZONE",
]


def _object(*lines: str, zone: bool = True) -> bytes:
    return "\r\n".join([*RFC_HEADER, *(US_EASTERN if zone else []), *lines, "END:VCALENDAR", ""]).encode()


APPENDIX_B: dict[str, bytes] = {
    "abcd1.ics": _object(
        "BEGIN:VEVENT",
        "DTSTAMP:20060206T001102Z",
        "DTSTART;TZID=US/Eastern:20060102T100000",
        "DURATION:PT1H",
        "SUMMARY:Event #1",
        "Description:Go Steelers!",
        "UID:74855313FA803DA593CD579A@example.com",
        "END:VEVENT",
    ),
    "abcd2.ics": _object(
        "BEGIN:VEVENT",
        "DTSTAMP:20060206T001121Z",
        "DTSTART;TZID=US/Eastern:20060102T120000",
        "DURATION:PT1H",
        "RRULE:FREQ=DAILY;COUNT=5",
        "SUMMARY:Event #2",
        "UID:00959BC664CA650E933C892C@example.com",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTAMP:20060206T001121Z",
        "DTSTART;TZID=US/Eastern:20060104T140000",
        "DURATION:PT1H",
        "RECURRENCE-ID;TZID=US/Eastern:20060104T120000",
        "SUMMARY:Event #2 bis",
        "UID:00959BC664CA650E933C892C@example.com",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTAMP:20060206T001121Z",
        "DTSTART;TZID=US/Eastern:20060106T140000",
        "DURATION:PT1H",
        "RECURRENCE-ID;TZID=US/Eastern:20060106T120000",
        "SUMMARY:Event #2 bis bis",
        "UID:00959BC664CA650E933C892C@example.com",
        "END:VEVENT",
    ),
    "abcd3.ics": _object(
        "BEGIN:VEVENT",
        "ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:cyrus@example.com",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@example.com",
        "DTSTAMP:20060206T001220Z",
        "DTSTART;TZID=US/Eastern:20060104T100000",
        "DURATION:PT1H",
        "LAST-MODIFIED:20060206T001330Z",
        "ORGANIZER:mailto:cyrus@example.com",
        "SEQUENCE:1",
        "STATUS:TENTATIVE",
        "SUMMARY:Event #3",
        "UID:DC6C50A017428C5216A2F1CD@example.com",
        "X-ABC-GUID:E1CX5Dr-0007ym-Hz@example.com",
        "END:VEVENT",
    ),
    "abcd4.ics": _object(
        "BEGIN:VTODO",
        "DTSTAMP:20060205T235335Z",
        "DUE;VALUE=DATE:20060104",
        "STATUS:NEEDS-ACTION",
        "SUMMARY:Task #1",
        "UID:DDDEEB7915FA61233B861457@example.com",
        "BEGIN:VALARM",
        "ACTION:AUDIO",
        "TRIGGER;RELATED=START:-PT10M",
        "END:VALARM",
        "END:VTODO",
        zone=False,
    ),
    "abcd5.ics": _object(
        "BEGIN:VTODO",
        "DTSTAMP:20060205T235300Z",
        "DUE;VALUE=DATE:20060106",
        "LAST-MODIFIED:20060205T235308Z",
        "SEQUENCE:1",
        "STATUS:NEEDS-ACTION",
        "SUMMARY:Task #2",
        "UID:E10BA47467C5C69BB74E8720@example.com",
        "BEGIN:VALARM",
        "ACTION:AUDIO",
        "TRIGGER;RELATED=START:-PT10M",
        "END:VALARM",
        "END:VTODO",
        zone=False,
    ),
    "abcd6.ics": _object(
        "BEGIN:VTODO",
        "COMPLETED:20051223T122322Z",
        "DTSTAMP:20060205T235400Z",
        "DUE;VALUE=DATE:20051225",
        "LAST-MODIFIED:20060205T235308Z",
        "SEQUENCE:1",
        "STATUS:COMPLETED",
        "SUMMARY:Task #3",
        "UID:E10BA47467C5C69BB74E8722@example.com",
        "END:VTODO",
        zone=False,
    ),
    "abcd7.ics": _object(
        "BEGIN:VTODO",
        "DTSTAMP:20060205T235600Z",
        "DUE;VALUE=DATE:20060101",
        "LAST-MODIFIED:20060205T235308Z",
        "SEQUENCE:1",
        "STATUS:CANCELLED",
        "SUMMARY:Task #4",
        "UID:E10BA47467C5C69BB74E8725@example.com",
        "END:VTODO",
        zone=False,
    ),
}
