"""Broken and hostile CalDAV input: MKCALENDAR and REPORT bodies, odd iCalendar. Always a 4xx or a 2xx, never 500."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.http import unique
from tests.http.caldav_support import (
    NAMESPACES,
    PROLOG,
    XML,
    assert_condition,
    cal,
    event,
    events_in,
    ics,
    multiget_body,
    new_calendar,
    put_ics,
    query_body,
    report,
    store,
    sync_body,
    vevent,
)
from tests.testing import LiveServer

SLOW_SECONDS = 5.0


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture(scope="module")
def calendar(server: LiveServer) -> str:
    """A calendar with a few objects for the reports to run against; tests only read it."""
    with server.client("alice") as client:
        path = new_calendar(client, components=("VEVENT", "VTODO"))
        store(client, path + "a.ics", event(unique("uid"), "20240101T100000Z", "20240101T110000Z"))
        store(client, path + "r.ics", event(unique("uid"), "20240101T100000Z", None, "RRULE:FREQ=DAILY"))
    return path


def not_a_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])


def still_alive(client: httpx.Client) -> None:
    assert client.request("PROPFIND", "/dav/calendars/alice/", headers={"Depth": "0"}).status_code == 207


GARBAGE = [
    b"",
    b"   ",
    b"not xml at all",
    b"<unclosed",
    b"\x00\x01\x02\xff",
    b'<?xml version="1.0" encoding="bogus-encoding"?><a/>',
    b"<a>" * 5000,
    b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
    b"<C:mkcalendar/>",
    '<?xml version="1.0"?><x:y xmlns:x="urn:☃">ünïcødé</x:y>'.encode(),
]


@pytest.mark.parametrize("body", GARBAGE)
def test_mkcalendar_garbage_bodies(alice: httpx.Client, body: bytes) -> None:
    response = alice.request("MKCALENDAR", "/dav/calendars/alice/" + unique("g") + "/", content=body, headers=XML)
    not_a_server_error(response)


MKCALENDAR_BODIES = [
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><C:supported-calendar-component-set/></D:prop></D:set></C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><C:supported-calendar-component-set><C:comp/>"
    "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><C:calendar-timezone/></D:prop></D:set></C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><C:calendar-timezone-id/></D:prop></D:set></C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><C:calendar-timezone-id>../../etc/passwd</C:calendar-timezone-id>"
    "</D:prop></D:set></C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><D:resourcetype><D:bogus/></D:resourcetype></D:prop></D:set>"
    "</C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set/><D:remove><D:prop><D:displayname/></D:prop></D:remove></C:mkcalendar>",
    f"<C:mkcalendar {NAMESPACES}><D:set><D:prop><A:calendar-color><b>nested</b></A:calendar-color></D:prop>"
    "</D:set></C:mkcalendar>",
]


@pytest.mark.parametrize("body", MKCALENDAR_BODIES)
def test_mkcalendar_odd_bodies(alice: httpx.Client, body: str) -> None:
    response = alice.request("MKCALENDAR", "/dav/calendars/alice/" + unique("o") + "/", content=body, headers=XML)
    not_a_server_error(response)


@pytest.mark.parametrize("body", GARBAGE)
def test_report_garbage_bodies(alice: httpx.Client, calendar: str, body: bytes) -> None:
    response = alice.request("REPORT", calendar, content=body, headers={**XML, "Depth": "1"})
    not_a_server_error(response)
    assert response.status_code != 207


CAL_DATA = "<D:getetag/><C:calendar-data>{}</C:calendar-data>"
ALL = '<C:comp-filter name="VCALENDAR"/>'
REPORT_BODIES = {
    "unknown-report": f"<C:calendar-nonsense {NAMESPACES}/>",
    "query-no-prop": f"<C:calendar-query {NAMESPACES}><C:filter>{ALL}</C:filter></C:calendar-query>",
    "query-empty": f"<C:calendar-query {NAMESPACES}/>",
    "comp-without-name": query_body(ALL, CAL_DATA.format("<C:comp/>")),
    "comp-nested-deep": query_body(ALL, CAL_DATA.format('<C:comp name="X">' * 200 + "</C:comp>" * 200)),
    "prop-without-name": query_body(ALL, CAL_DATA.format('<C:comp name="VCALENDAR"><C:prop/></C:comp>')),
    "expand-bad-dates": query_body(ALL, CAL_DATA.format('<C:expand start="yesterday" end="tomorrow"/>')),
    "expand-backwards": query_body(ALL, CAL_DATA.format('<C:expand start="20250101T000000Z" end="20240101T000000Z"/>')),
    "expand-no-end": query_body(ALL, CAL_DATA.format('<C:expand start="20240101T000000Z"/>')),
    "limit-no-attributes": query_body(ALL, CAL_DATA.format("<C:limit-recurrence-set/>")),
    "calendar-data-json": query_body(ALL, '<C:calendar-data content-type="application/calendar+json"/>'),
    "calendar-data-v1": query_body(ALL, '<C:calendar-data content-type="text/calendar" version="1.0"/>'),
    "time-range-year-zero": query_body(events_in("00000101T000000Z", "20240101T000000Z")),
    "time-range-month-13": query_body(events_in("20241301T000000Z", "20241401T000000Z")),
    "time-range-far": query_body(events_in("00010101T000000Z", "99991231T235959Z")),
    "text-match-empty": query_body(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
        "<C:text-match/></C:prop-filter></C:comp-filter></C:comp-filter>"
    ),
    "text-match-negate-junk": query_body(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
        '<C:text-match negate-condition="maybe">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>'
    ),
    "param-filter-nameless": query_body(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE">'
        "<C:param-filter/></C:prop-filter></C:comp-filter></C:comp-filter>"
    ),
    "prop-time-range-on-text": query_body(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
        '<C:time-range start="20240101T000000Z" end="20250101T000000Z"/></C:prop-filter></C:comp-filter>'
        "</C:comp-filter>"
    ),
    "time-range-on-vcalendar": query_body(
        '<C:comp-filter name="VCALENDAR"><C:time-range start="20240101T000000Z" end="20250101T000000Z"/>'
        "</C:comp-filter>"
    ),
    "time-range-on-vtimezone": query_body(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTIMEZONE">'
        '<C:time-range start="20240101T000000Z" end="20250101T000000Z"/></C:comp-filter></C:comp-filter>'
    ),
    "query-bad-timezone": query_body(ALL, extra="<C:timezone>garbage</C:timezone>"),
    "query-bad-timezone-id": query_body(ALL, extra="<C:timezone-id>Nowhere/Land</C:timezone-id>"),
    "multiget-no-hrefs": multiget_body([]),
    "multiget-odd-hrefs": multiget_body(
        [
            "",
            "%zz",
            "../../../../etc/passwd",
            "http://other.example/dav/x.ics",
            "/dav/calendars/alice/../../x",
            "\u2603",
        ]
    ),
    "multiget-many-hrefs": multiget_body([f"/dav/calendars/alice/none-{n}.ics" for n in range(3000)]),
    "sync-no-prop": f"<D:sync-collection {NAMESPACES}><D:sync-token/></D:sync-collection>",
    "sync-token-whitespace": sync_body("   "),
    "sync-token-huge-numbers": sync_body("http://gateway.invalid/ns/sync/99999999999999999999999-1"),
    "sync-limit-empty": sync_body().replace("<D:prop>", "<D:limit/><D:prop>"),
    "freebusy-empty": f"<C:free-busy-query {NAMESPACES}/>",
}


@pytest.mark.parametrize("name", list(REPORT_BODIES))
def test_report_odd_bodies(alice: httpx.Client, calendar: str, name: str) -> None:
    body = REPORT_BODIES[name]
    started = time.monotonic()
    response = report(alice, calendar, body if body.startswith("<?xml") else PROLOG + body)
    not_a_server_error(response)
    # A streamed 207 must also end properly: a failure half-way would cut the document short.
    if response.status_code == 207:
        assert response.text.rstrip().endswith("</D:multistatus>"), response.text[-200:]
    assert time.monotonic() - started < SLOW_SECONDS, name


@pytest.mark.parametrize(
    ("start", "end", "condition"),
    [
        ("00010101T000000Z", "99991231T235959Z", "min-date-time"),
        ("18991231T000000Z", "19000102T000000Z", "min-date-time"),
        ("20240101T000000Z", "99991231T235959Z", "max-date-time"),
    ],
)
@pytest.mark.parametrize("what", ["expand", "limit-recurrence-set", "free-busy-query"])
def test_ranges_beyond_min_and_max_date_time(
    alice: httpx.Client, calendar: str, what: str, start: str, end: str, condition: str
) -> None:
    """A daily rule over 0001-9999 is millions of instances: such ranges are refused up front (RFC 4791 §7.8)."""
    started = time.monotonic()
    if what == "free-busy-query":
        body = f'<C:free-busy-query {NAMESPACES}><C:time-range start="{start}" end="{end}"/></C:free-busy-query>'
    else:
        body = query_body(ALL, CAL_DATA.format(f'<C:{what} start="{start}" end="{end}"/>'))
    assert_condition(
        report(alice, calendar, PROLOG + body if not body.startswith("<?xml") else body), 403, cal(condition)
    )
    assert time.monotonic() - started < SLOW_SECONDS


ODD_OBJECTS = {
    "deep-nesting": ics(*["BEGIN:X-A"] * 50, *["END:X-A"] * 50),
    "secondly-forever": ics(*vevent("s", "20240101T000000Z", None, "RRULE:FREQ=SECONDLY")),
    "secondly-huge-count": ics(*vevent("c", "20240101T000000Z", None, "RRULE:FREQ=SECONDLY;COUNT=1000000000")),
    "never-happens": ics(*vevent("n", "20240101T000000Z", None, "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")),
    "bad-rrule": ics(*vevent("b", "20240101T000000Z", None, "RRULE:FREQ=SOMETIMES;BYDAY=XX")),
    "year-1": ics(*vevent("y1", "00010101T000000Z", "00010101T010000Z")),
    "year-9999": ics(*vevent("y9", "99991231T230000Z", "99991231T235959Z", "RRULE:FREQ=DAILY")),
    "unknown-tzid": ics(*vevent("tz", ";TZID=Mars/Olympus:20240101T100000", ";TZID=Mars/Olympus:20240101T110000")),
    "end-before-start": ics(*vevent("e", "20240102T000000Z", "20240101T000000Z")),
    "negative-duration": ics(*vevent("d", "20240101T000000Z", None, "DURATION:-P1D")),
    "many-exdates": ics(
        *vevent(
            "x",
            "20240101T000000Z",
            None,
            "RRULE:FREQ=DAILY;COUNT=2000",
            *[f"EXDATE:2024{m:02d}{d:02d}T000000Z" for m in range(1, 13) for d in range(1, 29)],
        )
    ),
    "rdate-period": ics(*vevent("p", "20240101T000000Z", None, "RDATE;VALUE=PERIOD:20240105T000000Z/PT1H,junk")),
    "alarm-trigger-junk": ics(*vevent("al", "20240101T000000Z", None, "BEGIN:VALARM", "TRIGGER:soon", "END:VALARM")),
    "latin1": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:l\r\nDTSTAMP:20240101T000000Z\r\n"
    "DTSTART:20240101T000000Z\r\nSUMMARY:Caf\xe9\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".encode("latin-1"),
    "bom": b"\xef\xbb\xbf" + ics(*vevent("bom", "20240101T000000Z")),
    "override-only": ics(*vevent("o", "20240102T000000Z", None, "RECURRENCE-ID:20240101T000000Z")),
    "thisandfuture": ics(
        *vevent("t", "20240101T100000Z", None, "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=10"),
        *vevent("t", "20240105T150000Z", None, "DURATION:PT2H", "RECURRENCE-ID;RANGE=THISANDFUTURE:20240105T100000Z"),
    ),
}


@pytest.mark.parametrize("name", list(ODD_OBJECTS))
def test_odd_calendar_objects_are_stored_or_refused_cleanly(alice: httpx.Client, name: str) -> None:
    calendar = new_calendar(alice)
    started = time.monotonic()
    response = put_ics(alice, calendar + f"{name}.ics", ODD_OBJECTS[name])
    not_a_server_error(response)
    assert time.monotonic() - started < SLOW_SECONDS, name
    if response.status_code in (201, 204):
        for window in (("20240101T000000Z", "20240201T000000Z"), ("99990101T000000Z", "99991231T000000Z")):
            found = report(alice, calendar, query_body(events_in(*window), "<C:calendar-data/>"))
            not_a_server_error(found)
            expand = '<C:calendar-data><C:expand start="{}" end="{}"/></C:calendar-data>'.format(*window)
            not_a_server_error(report(alice, calendar, query_body(events_in(*window), expand)))
        body = (
            f'{PROLOG}<C:free-busy-query {NAMESPACES}><C:time-range start="20240101T000000Z" '
            'end="20240201T000000Z"/></C:free-busy-query>'
        )
        not_a_server_error(report(alice, calendar, body))
    else:
        assert response.status_code in (400, 403, 409, 413, 415), (response.status_code, response.text)
    still_alive(alice)
