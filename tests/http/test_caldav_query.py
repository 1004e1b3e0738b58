"""calendar-query (RFC 4791 §7.8): the RFC's own examples, recurrence, floating and all-day times, bad filters."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http import unique
from tests.http.caldav_support import (
    APPENDIX_B,
    assert_condition,
    cal,
    calendar_data,
    event,
    events_in,
    ics,
    new_calendar,
    query,
    query_body,
    report,
    store,
    unfolded,
    vevent,
)
from tests.testing import LiveServer

EVENTS_ONLY = '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>'


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture(scope="module")
def rfc_calendar(server: LiveServer) -> str:
    """A calendar holding RFC 4791 Appendix B; the tests only read it."""
    with server.client("alice") as client:
        path = new_calendar(client, components=("VEVENT", "VTODO"))
        for name, data in APPENDIX_B.items():
            store(client, path + name, data)
    return path


def names(found: dict[str, object]) -> set[str]:
    return {name for name in found if name}


# --- the examples of RFC 4791 §7.8 ------------------------------------------------------------------------------


def test_7_8_1_partial_retrieval_of_events_by_time_range(alice: httpx.Client, rfc_calendar: str) -> None:
    data = (
        "<D:getetag/><C:calendar-data>"
        '<C:comp name="VCALENDAR"><C:prop name="VERSION"/>'
        '<C:comp name="VEVENT">'
        + "".join(
            f'<C:prop name="{p}"/>'
            for p in ("SUMMARY", "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXRULE", "EXDATE")
        )
        + '<C:prop name="RECURRENCE-ID"/></C:comp><C:comp name="VTIMEZONE"/></C:comp></C:calendar-data>'
    )
    found = query(alice, rfc_calendar, events_in("20060104T000000Z", "20060105T000000Z"), data)
    assert names(found) == {"abcd2.ics", "abcd3.ics"}
    series = unfolded(calendar_data(found["abcd2.ics"]))
    assert "VERSION:2.0" in series and "PRODID" not in series
    assert "BEGIN:VTIMEZONE" in series and "TZID:US/Eastern" in series
    assert "DTSTAMP" not in series
    assert "RRULE:FREQ=DAILY;COUNT=5" in series
    assert series.count("BEGIN:VEVENT") == 3, "no limit-recurrence-set: every override is returned"
    assert "\r\n" in series, "calendar-data keeps its CRLF line ends"
    single = unfolded(calendar_data(found["abcd3.ics"]))
    assert "SUMMARY:Event #3" in single
    assert "ATTENDEE" not in single and "X-ABC-GUID" not in single


def test_7_8_2_limit_recurrence_set(alice: httpx.Client, rfc_calendar: str) -> None:
    limit = '<C:limit-recurrence-set start="20060103T000000Z" end="20060105T000000Z"/>'
    extra = f"<C:calendar-data>{limit}</C:calendar-data>"
    found = query(alice, rfc_calendar, events_in("20060103T000000Z", "20060105T000000Z"), "<D:getetag/>" + extra)
    assert names(found) == {"abcd2.ics", "abcd3.ics"}
    series = unfolded(calendar_data(found["abcd2.ics"]))
    assert "RRULE:FREQ=DAILY;COUNT=5" in series
    assert "SUMMARY:Event #2 bis\r\n" in series
    assert "Event #2 bis bis" not in series, "the override outside the range is left out"


def test_7_8_3_expanded_retrieval_of_recurring_events(alice: httpx.Client, rfc_calendar: str) -> None:
    extra = '<C:calendar-data><C:expand start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data>'
    found = query(alice, rfc_calendar, events_in("20060103T000000Z", "20060105T000000Z"), "<D:getetag/>" + extra)
    assert names(found) == {"abcd2.ics", "abcd3.ics"}
    series = unfolded(calendar_data(found["abcd2.ics"]))
    assert series.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20060103T170000Z" in series and "RECURRENCE-ID:20060103T170000Z" in series
    assert "DTSTART:20060104T190000Z" in series and "RECURRENCE-ID:20060104T170000Z" in series
    assert "SUMMARY:Event #2 bis\r\n" in series
    for gone in ("RRULE", "BEGIN:VTIMEZONE", "TZID", "20060102T", "20060105T", "20060106T"):
        assert gone not in series, gone
    single = unfolded(calendar_data(found["abcd3.ics"]))
    assert "DTSTART:20060104T150000Z" in single and "TZID" not in single


def test_expand_outside_any_instance_keeps_the_vcalendar(alice: httpx.Client, rfc_calendar: str) -> None:
    extra = '<C:calendar-data><C:expand start="20060201T000000Z" end="20060202T000000Z"/></C:calendar-data>'
    body = query_body(
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID">'
        "<C:text-match>00959BC664CA650E933C892C@example.com</C:text-match></C:prop-filter></C:comp-filter>"
        "</C:comp-filter>",
        "<D:getetag/>" + extra,
    )
    response = report(alice, rfc_calendar, body)
    assert response.status_code == 207
    assert "BEGIN:VCALENDAR" in response.text


def test_7_8_5_todos_by_alarm_time_range(alice: httpx.Client) -> None:
    calendar = new_calendar(alice, components=("VTODO",))
    alarm = ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Due", "TRIGGER;RELATED=START:-PT10M", "END:VALARM"]
    for name, day in (("early.ics", "20060104"), ("late.ics", "20060106")):
        body = ics(
            "BEGIN:VTODO",
            f"UID:{unique('todo')}",
            "DTSTAMP:20060205T235335Z",
            f"DTSTART:{day}T120000Z",
            f"DUE:{day}T170000Z",
            "SUMMARY:Task",
            *alarm,
            "END:VTODO",
        )
        store(alice, calendar + name, body)
    alarm_filter = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:comp-filter name="VALARM">'
        '<C:time-range start="20060106T100000Z" end="20060107T100000Z"/></C:comp-filter></C:comp-filter>'
        "</C:comp-filter>"
    )
    assert names(query(alice, calendar, alarm_filter)) == {"late.ics"}
    before_alarm = alarm_filter.replace("20060106T100000Z", "20060106T115100Z").replace(
        "20060107T100000Z", "20060106T120000Z"
    )
    assert names(query(alice, calendar, before_alarm)) == set(), "the alarm fires at 11:50, not in [11:51, 12:00)"


def test_7_8_6_event_by_uid(alice: httpx.Client, rfc_calendar: str) -> None:
    uid_filter = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID">'
        '<C:text-match collation="i;octet">DC6C50A017428C5216A2F1CD@example.com</C:text-match>'
        "</C:prop-filter></C:comp-filter></C:comp-filter>"
    )
    found = query(alice, rfc_calendar, uid_filter, "<D:getetag/><C:calendar-data/>")
    assert names(found) == {"abcd3.ics"}
    assert calendar_data(found["abcd3.ics"]).encode() == APPENDIX_B["abcd3.ics"]


@pytest.mark.parametrize(("partstat", "expected"), [("NEEDS-ACTION", {"abcd3.ics"}), ("DECLINED", set())])
def test_7_8_7_events_by_attendee_partstat(
    alice: httpx.Client, rfc_calendar: str, partstat: str, expected: set[str]
) -> None:
    attendee_filter = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE">'
        '<C:text-match collation="i;ascii-casemap">mailto:lisa@example.com</C:text-match>'
        f'<C:param-filter name="PARTSTAT"><C:text-match collation="i;ascii-casemap">{partstat}</C:text-match>'
        "</C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>"
    )
    assert names(query(alice, rfc_calendar, attendee_filter)) == expected


def test_attendee_and_partstat_must_be_the_same_property(alice: httpx.Client, rfc_calendar: str) -> None:
    """cyrus ACCEPTED and lisa NEEDS-ACTION: lisa with ACCEPTED must not match through cyrus' parameter."""
    mixed = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE">'
        "<C:text-match>lisa@example.com</C:text-match>"
        '<C:param-filter name="PARTSTAT"><C:text-match>ACCEPTED</C:text-match></C:param-filter>'
        "</C:prop-filter></C:comp-filter></C:comp-filter>"
    )
    assert names(query(alice, rfc_calendar, mixed)) == set()


def test_7_8_8_events_only(alice: httpx.Client, rfc_calendar: str) -> None:
    assert names(query(alice, rfc_calendar, EVENTS_ONLY)) == {"abcd1.ics", "abcd2.ics", "abcd3.ics"}


def test_7_8_9_all_pending_todos(alice: httpx.Client, rfc_calendar: str) -> None:
    pending = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
        '<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>'
        '<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED</C:text-match></C:prop-filter>'
        "</C:comp-filter></C:comp-filter>"
    )
    assert names(query(alice, rfc_calendar, pending)) == {"abcd4.ics", "abcd5.ics"}


def test_whole_calendar_without_a_component_filter(alice: httpx.Client, rfc_calendar: str) -> None:
    everything = query(alice, rfc_calendar, '<C:comp-filter name="VCALENDAR"/>')
    assert names(everything) == set(APPENDIX_B)


def test_summary_substring_is_case_insensitive_by_default(alice: httpx.Client, rfc_calendar: str) -> None:
    summary = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
        "<C:text-match>EVENT #2 BIS</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>"
    )
    assert names(query(alice, rfc_calendar, summary)) == {"abcd2.ics"}, "matches through the override"
    octet = summary.replace("<C:text-match>", '<C:text-match collation="i;octet">')
    assert names(query(alice, rfc_calendar, octet)) == set()


# --- recurrence -------------------------------------------------------------------------------------------------


def test_recurring_event_is_found_in_a_later_week_through_its_rule(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(
        alice,
        calendar + "weekly.ics",
        event(
            unique("uid"),
            ";TZID=Europe/Berlin:20240108T090000",
            ";TZID=Europe/Berlin:20240108T100000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=40",
            "EXDATE;TZID=Europe/Berlin:20240617T090000",
        ),
    )
    store(alice, calendar + "once.ics", event(unique("uid"), "20240108T080000Z", "20240108T090000Z"))
    # 2024-06-10 is a Monday in summer time: 09:00 CEST = 07:00Z.
    assert names(query(alice, calendar, events_in("20240610T000000Z", "20240617T000000Z"))) == {"weekly.ics"}
    assert names(query(alice, calendar, events_in("20240610T070000Z", "20240610T070001Z"))) == {"weekly.ics"}
    assert names(query(alice, calendar, events_in("20240610T080000Z", "20240610T090000Z"))) == set()
    assert names(query(alice, calendar, events_in("20240617T000000Z", "20240618T000000Z"))) == set(), "EXDATE"
    # COUNT=40 weekly from 2024-01-08 ends on 2024-10-07.
    assert names(query(alice, calendar, events_in("20241007T000000Z", "20241008T000000Z"))) == {"weekly.ics"}
    assert names(query(alice, calendar, events_in("20241014T000000Z", "20241015T000000Z"))) == set()


def test_moved_override_is_found_where_it_moved_to(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    uid = unique("uid")
    store(
        alice,
        calendar + "moved.ics",
        ics(
            *vevent(uid, "20240101T100000Z", "20240101T110000Z", "RRULE:FREQ=DAILY;COUNT=10"),
            *vevent(uid, "20240120T100000Z", "20240120T110000Z", "RECURRENCE-ID:20240105T100000Z"),
        ),
    )
    assert names(query(alice, calendar, events_in("20240105T000000Z", "20240106T000000Z"))) == set()
    assert names(query(alice, calendar, events_in("20240120T000000Z", "20240121T000000Z"))) == {"moved.ics"}
    assert names(query(alice, calendar, events_in("20240106T000000Z", "20240107T000000Z"))) == {"moved.ics"}


def test_unbounded_rule_matches_far_in_the_future_but_not_before_it_starts(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(
        alice,
        calendar + "forever.ics",
        event(unique("uid"), "20240115T120000Z", "20240115T130000Z", "RRULE:FREQ=MONTHLY;BYMONTHDAY=15"),
    )
    assert names(query(alice, calendar, events_in("20390315T000000Z", "20390316T000000Z"))) == {"forever.ics"}
    assert names(query(alice, calendar, events_in("20390316T000000Z", "20390410T000000Z"))) == set()
    assert names(query(alice, calendar, events_in("20231201T000000Z", "20240115T000000Z"))) == set()
    open_end = '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20500101T000000Z"/>'
    assert names(query(alice, calendar, open_end + "</C:comp-filter></C:comp-filter>")) == {"forever.ics"}


def test_expand_of_an_unbounded_rule_gives_the_instances_in_range(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    store(
        alice,
        calendar + "daily.ics",
        event(unique("uid"), ";TZID=America/New_York:20240101T090000", None, "DURATION:PT30M", "RRULE:FREQ=DAILY"),
    )
    extra = '<C:calendar-data><C:expand start="20300601T000000Z" end="20300604T000000Z"/></C:calendar-data>'
    found = query(alice, calendar, events_in("20300601T000000Z", "20300604T000000Z"), extra)
    data = unfolded(calendar_data(found["daily.ics"]))
    assert data.count("BEGIN:VEVENT") == 3
    for day in ("01", "02", "03"):  # 09:00 EDT = 13:00Z
        assert f"DTSTART:203006{day}T130000Z" in data and f"RECURRENCE-ID:203006{day}T130000Z" in data


# --- floating and all-day times ---------------------------------------------------------------------------------


@pytest.fixture
def new_york(alice: httpx.Client) -> str:
    return new_calendar(alice, "<C:calendar-timezone-id>America/New_York</C:calendar-timezone-id>")


def test_floating_time_is_read_in_the_calendar_timezone(alice: httpx.Client, new_york: str) -> None:
    utc = new_calendar(alice)
    for calendar in (new_york, utc):
        store(alice, calendar + "floating.ics", event(unique("uid"), "20240105T230000", "20240105T233000"))
    # 23:00 in New York (EST) is 04:00Z the next day.
    assert names(query(alice, new_york, events_in("20240106T040000Z", "20240106T041000Z"))) == {"floating.ics"}
    assert names(query(alice, new_york, events_in("20240105T230000Z", "20240105T233000Z"))) == set()
    assert names(query(alice, utc, events_in("20240105T230000Z", "20240105T233000Z"))) == {"floating.ics"}
    assert names(query(alice, utc, events_in("20240106T040000Z", "20240106T041000Z"))) == set()


def test_query_timezone_overrides_the_calendar_timezone(alice: httpx.Client, new_york: str) -> None:
    """RFC 7809 §5.2: a calendar-query may name the zone for its floating times."""
    store(alice, new_york + "floating.ics", event(unique("uid"), "20240105T230000", "20240105T233000"))
    in_utc = "<C:timezone-id>UTC</C:timezone-id>"
    found = query(alice, new_york, events_in("20240105T230000Z", "20240105T233000Z"), extra=in_utc)
    assert names(found) == {"floating.ics"}


def test_calendar_timezone_vtimezone_is_used_for_floating_times(alice: httpx.Client) -> None:
    tokyo = (
        "BEGIN:VCALENDAR&#13;\nVERSION:2.0&#13;\nPRODID:-//x//y//EN&#13;\n"
        "BEGIN:VTIMEZONE&#13;\nTZID:Custom Tokyo&#13;\n"
        "BEGIN:STANDARD&#13;\nDTSTART:19700101T000000&#13;\nTZOFFSETFROM:+0900&#13;\nTZOFFSETTO:+0900&#13;\n"
        "END:STANDARD&#13;\nEND:VTIMEZONE&#13;\nEND:VCALENDAR&#13;\n"
    )
    calendar = new_calendar(alice, f"<C:calendar-timezone>{tokyo}</C:calendar-timezone>")
    store(alice, calendar + "floating.ics", event(unique("uid"), "20240105T090000", "20240105T100000"))
    assert names(query(alice, calendar, events_in("20240105T000000Z", "20240105T010000Z"))) == {"floating.ics"}
    assert names(query(alice, calendar, events_in("20240105T090000Z", "20240105T100000Z"))) == set()


def test_all_day_events(alice: httpx.Client, new_york: str) -> None:
    utc = new_calendar(alice)
    for calendar in (utc, new_york):
        store(
            alice,
            calendar + "day.ics",
            event(unique("uid"), ";VALUE=DATE:20240110", ";VALUE=DATE:20240111", summary="All day"),
        )
        store(alice, calendar + "no-end.ics", event(unique("uid"), ";VALUE=DATE:20240120", summary="No DTEND"))
        store(
            alice,
            calendar + "three.ics",
            event(unique("uid"), ";VALUE=DATE:20240201", ";VALUE=DATE:20240204", summary="Three days"),
        )
    assert names(query(alice, utc, events_in("20240110T120000Z", "20240110T130000Z"))) == {"day.ics"}
    assert names(query(alice, utc, events_in("20240111T000000Z", "20240112T000000Z"))) == set()
    assert names(query(alice, utc, events_in("20240109T000000Z", "20240110T000000Z"))) == set()
    # In New York the day of 2024-01-10 runs from 05:00Z to 05:00Z.
    assert names(query(alice, new_york, events_in("20240111T020000Z", "20240111T030000Z"))) == {"day.ics"}
    assert names(query(alice, new_york, events_in("20240110T000000Z", "20240110T040000Z"))) == set()
    # A DATE DTSTART without DTEND or DURATION lasts the whole day (RFC 5545 §3.6.1).
    assert names(query(alice, utc, events_in("20240120T220000Z", "20240120T230000Z"))) == {"no-end.ics"}
    assert names(query(alice, utc, events_in("20240203T120000Z", "20240203T130000Z"))) == {"three.ics"}
    assert names(query(alice, utc, events_in("20240204T000000Z", "20240205T000000Z"))) == set()


# --- refused filters and Depth ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter_xml",
    [
        '<C:comp-filter name="VEVENT"/>',
        '<C:comp-filter name="VCALENDAR"/><C:comp-filter name="VCALENDAR"/>',
        "",
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        '<C:time-range start="2024-01-01" end="20240102T000000Z"/></C:comp-filter></C:comp-filter>',
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        '<C:time-range start="20240102T000000Z" end="20240101T000000Z"/></C:comp-filter></C:comp-filter>',
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range/></C:comp-filter></C:comp-filter>',
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:bogus/></C:comp-filter></C:comp-filter>',
        '<C:comp-filter name="VCALENDAR"><C:comp-filter><C:is-not-defined/></C:comp-filter></C:comp-filter>',
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:is-not-defined/>'
        '<C:prop-filter name="UID"/></C:comp-filter></C:comp-filter>',
    ],
    ids=[
        "root-not-vcalendar",
        "two-roots",
        "empty",
        "bad-date",
        "start-after-end",
        "empty-time-range",
        "unknown-element",
        "nameless",
        "is-not-defined-not-alone",
    ],
)
def test_invalid_filter_is_valid_filter(alice: httpx.Client, filter_xml: str) -> None:
    calendar = new_calendar(alice)
    response = report(alice, calendar, query_body(filter_xml))
    assert_condition(response, 403, cal("valid-filter"))


def test_query_without_a_filter_is_refused(alice: httpx.Client) -> None:
    calendar = new_calendar(alice)
    body = query_body("").replace("<C:filter></C:filter>", "")
    assert_condition(report(alice, calendar, body), 403, cal("valid-filter"))


@pytest.mark.parametrize("collation", ["i;unknown", "en-US", "i;basic"])
def test_unsupported_collation(alice: httpx.Client, collation: str) -> None:
    calendar = new_calendar(alice)
    filter_xml = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
        f'<C:text-match collation="{collation}">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>'
    )
    assert_condition(report(alice, calendar, query_body(filter_xml)), 403, cal("supported-collation"))


@pytest.mark.parametrize("collation", ["i;ascii-casemap", "i;octet", "i;unicode-casemap"])
def test_supported_collations(alice: httpx.Client, collation: str) -> None:
    calendar = new_calendar(alice)
    store(alice, calendar + "e.ics", event(unique("uid"), "20240105T100000Z", summary="Réunion générale"))
    filter_xml = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
        f'<C:text-match collation="{collation}">union</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>'
    )
    assert names(query(alice, calendar, filter_xml)) == {"e.ics"}


@pytest.mark.parametrize("depth", ["0", "1", "infinity", None])
def test_any_depth_on_the_collection_queries_its_members(
    alice: httpx.Client, rfc_calendar: str, depth: str | None
) -> None:
    """Clients send Depth 0 or nothing and expect members (clients.md §11)."""
    found = query(alice, rfc_calendar, EVENTS_ONLY, depth=depth)
    assert names(found) == {"abcd1.ics", "abcd2.ics", "abcd3.ics"}


def test_query_on_one_object(alice: httpx.Client, rfc_calendar: str) -> None:
    found = query(alice, rfc_calendar + "abcd3.ics", EVENTS_ONLY, depth="0")
    assert names(found) == {"abcd3.ics"}
    assert names(query(alice, rfc_calendar + "abcd4.ics", EVENTS_ONLY, depth="0")) == set()


def test_query_results_carry_etags_equal_to_get(alice: httpx.Client, rfc_calendar: str) -> None:
    found = query(alice, rfc_calendar, EVENTS_ONLY)
    node = found["abcd1.ics"]
    etag = node.findtext("{DAV:}propstat/{DAV:}prop/{DAV:}getetag")
    assert etag == alice.get(rfc_calendar + "abcd1.ics").headers["etag"]


def test_query_on_the_home_is_not_supported(alice: httpx.Client) -> None:
    response = report(alice, "/dav/calendars/alice/", query_body(EVENTS_ONLY))
    assert response.status_code == 403
