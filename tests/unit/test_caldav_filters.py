"""CalDAV calendar-query filters (RFC 4791 §9.7): parsing, the §7.8 examples, and index pushdown."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from protocols.caldav.filters import (
    CompFilter,
    Filter,
    FilterError,
    IndexHint,
    ParamFilter,
    PropFilter,
    TimeRange,
    index_hint,
    matches,
    parse_filter,
)
from protocols.formats.ical import component_overlaps, parse_calendar
from protocols.webdav.textmatch import TextMatch
from protocols.webdav.xml import CALDAV, parse

# -- helpers -------------------------------------------------------------------------------------------------


def xml_filter(inner: str) -> Filter:
    return parse_filter(parse(f'<C:filter xmlns:C="{CALDAV}">{inner}</C:filter>'.encode()))


def vcalendar(inner: str) -> str:
    """The mandatory VCALENDAR comp-filter around ``inner``."""
    return f'<C:comp-filter name="VCALENDAR">{inner}</C:comp-filter>'


def ics(*components: str) -> bytes:
    body = "\n".join(component.strip() for component in components)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//filters//EN", *body.splitlines(), "END:VCALENDAR"]
    return ("\r\n".join(line.strip() for line in lines) + "\r\n").encode()


def vevent(inner: str = "") -> str:
    return f'<C:comp-filter name="VEVENT">{inner}</C:comp-filter>'


def time_range(start: str = "", end: str = "") -> str:
    return "<C:time-range" + (f' start="{start}"' if start else "") + (f' end="{end}"' if end else "") + "/>"


def selected(filter: Filter, floating_tz: tzinfo = UTC) -> set[str]:
    return {name for name, data in RESOURCES.items() if matches(filter, parse_calendar(data), floating_tz)}


# -- resources, after RFC 4791 Appendix B (times converted to UTC) ------------------------------------------

RESOURCES: dict[str, bytes] = {
    "abcd1.ics": ics("""
        BEGIN:VEVENT
        UID:74855313FA803DA593CD579A@example.com
        DTSTAMP:20060206T001102Z
        DTSTART:20060102T150000Z
        DURATION:PT1H
        SUMMARY:Event #1
        DESCRIPTION:Go Steelers!
        END:VEVENT
        """),
    "abcd2.ics": ics("""
        BEGIN:VEVENT
        UID:00959BC664CA650E933C892C@example.com
        DTSTAMP:20060206T001121Z
        DTSTART:20060102T170000Z
        DURATION:PT1H
        RRULE:FREQ=DAILY;COUNT=5
        SUMMARY:Event #2
        END:VEVENT
        BEGIN:VEVENT
        UID:00959BC664CA650E933C892C@example.com
        DTSTAMP:20060206T001121Z
        RECURRENCE-ID:20060104T170000Z
        DTSTART:20060104T190000Z
        DURATION:PT1H
        SUMMARY:Event #2 bis
        END:VEVENT
        """),
    "abcd3.ics": ics("""
        BEGIN:VEVENT
        UID:DC6C50A017428C5216A2F1CD@example.com
        DTSTAMP:20060206T001220Z
        DTSTART:20060104T150000Z
        DURATION:PT1H
        SUMMARY:Event #3
        ORGANIZER:mailto:cyrus@example.com
        ATTENDEE;PARTSTAT=ACCEPTED:mailto:cyrus@example.com
        ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@example.com
        CATEGORIES:Work,Home
        CATEGORIES:Travel
        BEGIN:VALARM
        ACTION:DISPLAY
        DESCRIPTION:Event #3 soon
        TRIGGER:-PT15M
        END:VALARM
        END:VEVENT
        """),
    "lisa-accepted.ics": ics("""
        BEGIN:VEVENT
        UID:lisa-accepted@example.com
        DTSTAMP:20060206T001220Z
        DTSTART:20060110T150000Z
        DURATION:PT1H
        SUMMARY:Lisa said yes, Bob did not
        ATTENDEE;PARTSTAT=ACCEPTED:mailto:lisa@example.com
        ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com
        CATEGORIES:Personal
        END:VEVENT
        """),
    "moved.ics": ics("""
        BEGIN:VEVENT
        UID:moved@example.com
        DTSTAMP:20060206T001121Z
        DTSTART:20060110T090000Z
        DURATION:PT1H
        RRULE:FREQ=DAILY;COUNT=3
        SUMMARY:Daily standup
        END:VEVENT
        BEGIN:VEVENT
        UID:moved@example.com
        DTSTAMP:20060206T001121Z
        RECURRENCE-ID:20060111T090000Z
        DTSTART:20060120T090000Z
        DURATION:PT1H
        SUMMARY:Daily standup (moved)
        END:VEVENT
        """),
    "floating.ics": ics("""
        BEGIN:VEVENT
        UID:floating@example.com
        DTSTAMP:20060206T001121Z
        DTSTART:20060104T230000
        DTEND:20060104T233000
        SUMMARY:Late call, local time
        END:VEVENT
        """),
    "task-alarm.ics": ics("""
        BEGIN:VTODO
        UID:task-alarm@example.com
        DTSTAMP:20060205T235335Z
        DTSTART:20060106T120000Z
        DUE:20060107T120000Z
        STATUS:NEEDS-ACTION
        SUMMARY:Task #1
        BEGIN:VALARM
        ACTION:AUDIO
        TRIGGER;RELATED=START:-PT10M
        END:VALARM
        END:VTODO
        """),
    "task-late-alarm.ics": ics("""
        BEGIN:VTODO
        UID:task-late-alarm@example.com
        DTSTAMP:20060205T235335Z
        DUE:20060106T120000Z
        STATUS:IN-PROCESS
        SUMMARY:Task #2
        BEGIN:VALARM
        ACTION:AUDIO
        TRIGGER;VALUE=DATE-TIME:20060108T100000Z
        END:VALARM
        END:VTODO
        """),
    "task-completed.ics": ics("""
        BEGIN:VTODO
        UID:task-completed@example.com
        DTSTAMP:20060205T235335Z
        DUE:20060106T120000Z
        COMPLETED:20060105T100000Z
        STATUS:COMPLETED
        SUMMARY:Task #3
        END:VTODO
        """),
    "task-cancelled.ics": ics("""
        BEGIN:VTODO
        UID:task-cancelled@example.com
        DTSTAMP:20060205T235335Z
        STATUS:CANCELLED
        SUMMARY:Task #4
        END:VTODO
        """),
    "task-no-status.ics": ics("""
        BEGIN:VTODO
        UID:task-no-status@example.com
        DTSTAMP:20060205T235335Z
        SUMMARY:Task #5
        END:VTODO
        """),
}

EVENTS = {"abcd1.ics", "abcd2.ics", "abcd3.ics", "lisa-accepted.ics", "moved.ics", "floating.ics"}
TASKS = set(RESOURCES) - EVENTS


def event_range(start: str, end: str) -> Filter:
    return xml_filter(
        vcalendar(f'<C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/></C:comp-filter>')
    )


# -- RFC 4791 §7.8 examples ----------------------------------------------------------------------------------


def test_7_8_1_events_by_time_range() -> None:
    """Event #2 is there only through its Jan 4 override; Event #3 starts on Jan 4; the floating event too."""
    assert selected(event_range("20060104T000000Z", "20060105T000000Z")) == {"abcd2.ics", "abcd3.ics", "floating.ics"}


def test_7_8_2_to_7_8_4_recurring_events_by_time_range() -> None:
    """The filter of the partial, expanded and limit-recurrence-set examples (calendar-data differs, not this)."""
    assert selected(event_range("20060103T000000Z", "20060105T000000Z")) == {
        "abcd2.ics",
        "abcd3.ics",
        "floating.ics",
    }


def test_7_8_5_todos_by_alarm_time_range() -> None:
    """The late-alarm task is itself due inside the window, but its alarm is not, so it is out."""
    query = xml_filter(
        vcalendar(
            '<C:comp-filter name="VTODO"><C:comp-filter name="VALARM">'
            '<C:time-range start="20060106T100000Z" end="20060107T100000Z"/>'
            "</C:comp-filter></C:comp-filter>"
        )
    )
    assert selected(query) == {"task-alarm.ics"}


def test_7_8_6_event_by_uid() -> None:
    query = xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="UID">'
            '<C:text-match collation="i;octet">DC6C50A017428C5216A2F1CD@example.com</C:text-match>'
            "</C:prop-filter></C:comp-filter>"
        )
    )
    assert selected(query) == {"abcd3.ics"}
    octet_lower = xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="UID">'
            '<C:text-match collation="i;octet">dc6c50a017428c5216a2f1cd@example.com</C:text-match>'
            "</C:prop-filter></C:comp-filter>"
        )
    )
    assert selected(octet_lower) == set()


def test_7_8_7_events_by_partstat() -> None:
    """Address and PARTSTAT must hold on the same ATTENDEE: Lisa accepted in one event where Bob did not."""
    query = xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE">'
            "<C:text-match>mailto:lisa@example.com</C:text-match>"
            '<C:param-filter name="PARTSTAT"><C:text-match>NEEDS-ACTION</C:text-match></C:param-filter>'
            "</C:prop-filter></C:comp-filter>"
        )
    )
    assert selected(query) == {"abcd3.ics"}


def test_7_8_8_events_only() -> None:
    assert selected(xml_filter(vcalendar('<C:comp-filter name="VEVENT"/>'))) == EVENTS


def test_7_8_9_pending_todos() -> None:
    """A negated text-match still needs the property (§9.7.2, the same as sabre/dav): a task with no STATUS
    is left out, so clients that want those ask again with STATUS is-not-defined."""
    query = xml_filter(
        vcalendar(
            '<C:comp-filter name="VTODO">'
            '<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>'
            '<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED</C:text-match></C:prop-filter>'
            "</C:comp-filter>"
        )
    )
    assert query == Filter(
        CompFilter(
            "VCALENDAR",
            comp_filters=(
                CompFilter(
                    "VTODO",
                    prop_filters=(
                        PropFilter("COMPLETED", is_not_defined=True),
                        PropFilter("STATUS", text_match=TextMatch("CANCELLED", negate=True)),
                    ),
                ),
            ),
        )
    )
    assert selected(query) == {"task-alarm.ics", "task-late-alarm.ics"}


def test_7_8_10_unsupported_collation() -> None:
    with pytest.raises(FilterError) as caught:
        xml_filter(
            vcalendar(
                '<C:comp-filter name="VEVENT"><C:prop-filter name="DESCRIPTION">'
                '<C:text-match collation="i;jis-casemap">Go Steelers!</C:text-match>'
                "</C:prop-filter></C:comp-filter>"
            )
        )
    assert caught.value.condition == "supported-collation"


# -- semantics beyond the examples ---------------------------------------------------------------------------


def test_override_alone_carries_range_and_text() -> None:
    """Jan 20 is reached only by the override, and only the override says "moved"; the master's own Jan 11
    slot was moved away, so it does not count, while Jan 10 and 12 still do."""

    def summary_in(start: str, end: str) -> Filter:
        return xml_filter(
            vcalendar(
                f'<C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/>'
                '<C:prop-filter name="SUMMARY"><C:text-match>MOVED</C:text-match></C:prop-filter></C:comp-filter>'
            )
        )

    assert "moved.ics" in selected(event_range("20060120T000000Z", "20060121T000000Z"))
    assert "moved.ics" not in selected(event_range("20060111T000000Z", "20060111T235959Z"))
    assert "moved.ics" in selected(event_range("20060110T000000Z", "20060111T000000Z"))
    assert "moved.ics" in selected(event_range("20060112T000000Z", "20060113T000000Z"))
    assert "moved.ics" in selected(summary_in("20060120T000000Z", "20060121T000000Z"))
    assert "moved.ics" not in selected(summary_in("20060110T000000Z", "20060113T000000Z"))


def test_open_ranges() -> None:
    """An open start or end (§9.9: -infinity / +infinity), including one that ends before a series begins."""
    until_jan_5 = xml_filter(vcalendar(vevent(time_range(end="20060105T000000Z"))))
    assert selected(until_jan_5) == {"abcd1.ics", "abcd2.ics", "abcd3.ics", "floating.ics"}
    from_jan_15 = xml_filter(vcalendar(vevent(time_range(start="20060115T000000Z"))))
    assert selected(from_jan_15) == {"moved.ics"}


def test_floating_time_follows_the_collection_zone() -> None:
    """23:00 floating is 04:00Z the next day in New York, so it leaves a Jan 4 UTC window."""
    jan_4 = event_range("20060104T000000Z", "20060105T000000Z")
    assert "floating.ics" in selected(jan_4, UTC)
    assert "floating.ics" not in selected(jan_4, ZoneInfo("America/New_York"))


def categories(text: str, *, match_type: str = "", negate: bool = False) -> Filter:
    attributes = (f' match-type="{match_type}"' if match_type else "") + (' negate-condition="yes"' if negate else "")
    return xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="CATEGORIES">'
            f"<C:text-match{attributes}>{text}</C:text-match></C:prop-filter></C:comp-filter>"
        )
    )


def test_categories_each_value_and_each_instance() -> None:
    assert selected(categories("home", match_type="equals")) == {"abcd3.ics"}
    assert selected(categories("TRAVEL", match_type="equals")) == {"abcd3.ics"}
    assert selected(categories("work,home")) == set()  # values are matched one by one, not joined
    assert selected(categories("o")) == {"abcd3.ics", "lisa-accepted.ics"}


def test_negate_condition() -> None:
    """Negation covers every value of one property: Work,Home is not "not Work"; the other CATEGORIES line
    (Travel) still is, because any property instance may satisfy a prop-filter."""
    assert selected(categories("Personal", negate=True)) == {"abcd3.ics"}
    assert selected(categories("Work", negate=True)) == {"abcd3.ics", "lisa-accepted.ics"}
    not_bis = xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
            '<C:text-match negate-condition="yes">#</C:text-match></C:prop-filter></C:comp-filter>'
        )
    )
    assert selected(not_bis) == {"lisa-accepted.ics", "moved.ics", "floating.ics"}


def test_nested_valarm() -> None:
    with_display_alarm = xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM">'
            '<C:prop-filter name="ACTION"><C:text-match match-type="equals">display</C:text-match></C:prop-filter>'
            "</C:comp-filter></C:comp-filter>"
        )
    )
    assert selected(with_display_alarm) == {"abcd3.ics"}
    without_alarm = xml_filter(vcalendar(vevent('<C:comp-filter name="VALARM"><C:is-not-defined/></C:comp-filter>')))
    assert selected(without_alarm) == EVENTS - {"abcd3.ics"}
    alarm_in_range = xml_filter(
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM">'
            '<C:time-range start="20060104T144000Z" end="20060104T145000Z"/></C:comp-filter></C:comp-filter>'
        )
    )
    assert selected(alarm_in_range) == {"abcd3.ics"}


def test_property_time_range() -> None:
    completed_jan_5 = xml_filter(
        vcalendar(
            '<C:comp-filter name="VTODO"><C:prop-filter name="COMPLETED">'
            '<C:time-range start="20060105T000000Z" end="20060106T000000Z"/></C:prop-filter></C:comp-filter>'
        )
    )
    assert selected(completed_jan_5) == {"task-completed.ics"}
    completed_later = xml_filter(
        vcalendar(
            '<C:comp-filter name="VTODO"><C:prop-filter name="COMPLETED">'
            '<C:time-range start="20060106T000000Z"/></C:prop-filter></C:comp-filter>'
        )
    )
    assert selected(completed_later) == set()


def test_param_filter_is_not_defined_and_defined() -> None:
    def attendee(param_filter: str) -> Filter:
        return xml_filter(
            vcalendar(
                '<C:comp-filter name="VEVENT"><C:prop-filter name="ORGANIZER">'
                f"{param_filter}</C:prop-filter></C:comp-filter>"
            )
        )

    assert selected(attendee('<C:param-filter name="CN"><C:is-not-defined/></C:param-filter>')) == {"abcd3.ics"}
    assert selected(attendee('<C:param-filter name="CN"/>')) == set()
    assert selected(
        xml_filter(vcalendar('<C:comp-filter name="VEVENT"><C:prop-filter name="ORGANIZER"/></C:comp-filter>'))
    ) == {"abcd3.ics"}


def test_root_and_absent_components() -> None:
    everything = xml_filter(vcalendar(""))
    assert selected(everything) == set(RESOURCES)
    assert selected(xml_filter('<C:comp-filter name="VCALENDAR"><C:is-not-defined/></C:comp-filter>')) == set()
    no_timezone = xml_filter(vcalendar('<C:comp-filter name="VTIMEZONE"><C:is-not-defined/></C:comp-filter>'))
    assert selected(no_timezone) == set(RESOURCES)
    events_without_todos = xml_filter(
        vcalendar('<C:comp-filter name="VEVENT"/><C:comp-filter name="VTODO"><C:is-not-defined/></C:comp-filter>')
    )
    assert selected(events_without_todos) == EVENTS


# -- parsing ------------------------------------------------------------------------------------------------


def test_parse_normalises_names_and_ignores_foreign_elements() -> None:
    parsed = parse_filter(
        parse(
            f'<C:filter xmlns:C="{CALDAV}" xmlns:X="urn:example:x"><X:hint/><C:comp-filter name="vcalendar">'
            '<C:comp-filter name="vevent"><C:time-range start="20060104T000000Z"/>'
            '<C:prop-filter name="x-custom"><C:param-filter name="x-param"><C:is-not-defined/></C:param-filter>'
            "</C:prop-filter></C:comp-filter></C:comp-filter></C:filter>".encode()
        )
    )
    assert parsed.root == CompFilter(
        "VCALENDAR",
        comp_filters=(
            CompFilter(
                "VEVENT",
                time_range=TimeRange(datetime(2006, 1, 4, tzinfo=UTC), None),
                prop_filters=(PropFilter("X-CUSTOM", param_filters=(ParamFilter("X-PARAM", is_not_defined=True),)),),
            ),
        ),
    )


BAD_FILTERS = [
    ("", "valid-filter"),
    (vcalendar("") * 2, "valid-filter"),
    ('<C:comp-filter name="VEVENT"/>', "valid-filter"),
    ("<C:comp-filter/>", "valid-filter"),
    ('<C:comp-filter name=" "/>', "valid-filter"),
    (vcalendar('<C:time-range start="20060104T000000Z"/>'), "valid-filter"),
    (
        vcalendar('<C:comp-filter name="VTIMEZONE"><C:time-range start="20060104T000000Z"/></C:comp-filter>'),
        "supported-filter",
    ),
    (vcalendar('<C:comp-filter name="VEVENT"><C:time-range/></C:comp-filter>'), "valid-filter"),
    (
        vcalendar(vevent(time_range("20060105T000000Z", "20060104T000000Z"))),
        "valid-filter",
    ),
    (
        vcalendar(vevent(time_range("20060104T000000Z", "20060104T000000Z"))),
        "valid-filter",
    ),
    (vcalendar('<C:comp-filter name="VEVENT"><C:time-range start="20060104T000000"/></C:comp-filter>'), "valid-filter"),
    (vcalendar('<C:comp-filter name="VEVENT"><C:time-range start="20060104"/></C:comp-filter>'), "valid-filter"),
    (vcalendar('<C:comp-filter name="VEVENT"><C:time-range end="20061304T000000Z"/></C:comp-filter>'), "valid-filter"),
    (
        vcalendar('<C:comp-filter name="VEVENT"><C:time-range start="2006-01-04T00:00:00Z"/></C:comp-filter>'),
        "valid-filter",
    ),
    (
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z"/>'
            '<C:time-range end="20060105T000000Z"/></C:comp-filter>'
        ),
        "valid-filter",
    ),
    (
        vcalendar('<C:comp-filter name="VEVENT"><C:is-not-defined/><C:prop-filter name="UID"/></C:comp-filter>'),
        "valid-filter",
    ),
    (
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART"><C:time-range start="20060104T000000Z"/>'
            "<C:text-match>x</C:text-match></C:prop-filter></C:comp-filter>"
        ),
        "valid-filter",
    ),
    (
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE"><C:param-filter name="PARTSTAT">'
            "<C:text-match>a</C:text-match><C:text-match>b</C:text-match></C:param-filter></C:prop-filter></C:comp-filter>"
        ),
        "valid-filter",
    ),
    (vcalendar('<C:comp-filter name="VEVENT"><C:text-match>x</C:text-match></C:comp-filter>'), "valid-filter"),
    (vcalendar('<C:comp-filter name="VEVENT"><C:is-defined/></C:comp-filter>'), "valid-filter"),
    (
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">'
            '<C:text-match negate-condition="true">x</C:text-match></C:prop-filter></C:comp-filter>'
        ),
        "valid-filter",
    ),
    (
        vcalendar(
            '<C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE"><C:param-filter name="CN">'
            '<C:text-match collation="i;basic">x</C:text-match></C:param-filter></C:prop-filter></C:comp-filter>'
        ),
        "supported-collation",
    ),
]


@pytest.mark.parametrize(("inner", "condition"), BAD_FILTERS)
def test_parse_errors(inner: str, condition: str) -> None:
    with pytest.raises(FilterError) as caught:
        xml_filter(inner)
    assert caught.value.condition == condition


def test_parse_requires_the_filter_element() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(parse(f'<C:comp-filter xmlns:C="{CALDAV}" name="VCALENDAR"/>'.encode()))
    assert caught.value.condition == "valid-filter"


def test_time_range_checks_programmatic_construction() -> None:
    with pytest.raises(FilterError):
        TimeRange(None, None)
    with pytest.raises(FilterError):
        TimeRange(datetime(2006, 1, 5, tzinfo=UTC), datetime(2006, 1, 4, tzinfo=UTC))


# -- index pushdown ------------------------------------------------------------------------------------------

JAN_4, JAN_5 = 1136332800, 1136419200
HINTS = [
    (vcalendar(""), IndexHint(None, None, None)),
    ('<C:comp-filter name="VCALENDAR"><C:is-not-defined/></C:comp-filter>', IndexHint(None, None, None)),
    (vcalendar('<C:comp-filter name="VTODO"/>'), IndexHint("VTODO", None, None)),
    (
        vcalendar(vevent(time_range("20060104T000000Z", "20060105T000000Z"))),
        IndexHint("VEVENT", JAN_4, JAN_5),
    ),
    (
        vcalendar('<C:comp-filter name="VEVENT"><C:time-range start="20060104T000000Z"/></C:comp-filter>'),
        IndexHint("VEVENT", JAN_4, None),
    ),
    (
        vcalendar('<C:comp-filter name="VEVENT"><C:time-range end="20060105T000000Z"/></C:comp-filter>'),
        IndexHint("VEVENT", None, JAN_5),
    ),
    (
        vcalendar(
            vevent(time_range("20060104T000000Z", "20060105T000000Z"))
            + '<C:comp-filter name="VTODO"><C:is-not-defined/></C:comp-filter>'
        ),
        IndexHint("VEVENT", JAN_4, JAN_5),
    ),
    (vcalendar('<C:comp-filter name="VEVENT"><C:is-not-defined/></C:comp-filter>'), IndexHint(None, None, None)),
    (vcalendar('<C:comp-filter name="VEVENT"/><C:comp-filter name="VTODO"/>'), IndexHint(None, None, None)),
    (vcalendar('<C:comp-filter name="VTIMEZONE"/>'), IndexHint(None, None, None)),
    (
        vcalendar(
            '<C:comp-filter name="VTODO"><C:comp-filter name="VALARM">'
            '<C:time-range start="20060106T100000Z" end="20060107T100000Z"/></C:comp-filter></C:comp-filter>'
        ),
        IndexHint("VTODO", None, None),
    ),
    (
        vcalendar(
            '<C:comp-filter name="VTODO"><C:prop-filter name="COMPLETED">'
            '<C:time-range start="20060105T000000Z" end="20060106T000000Z"/></C:prop-filter></C:comp-filter>'
        ),
        IndexHint("VTODO", None, None),
    ),
]


@pytest.mark.parametrize(("inner", "expected"), HINTS)
def test_index_hint(inner: str, expected: IndexHint) -> None:
    assert index_hint(xml_filter(inner)) == expected


def _epoch(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@pytest.mark.parametrize("inner", [inner for inner, _ in HINTS])
def test_index_hint_only_widens(inner: str) -> None:
    """Every resource the filter selects has a component of the hinted type overlapping the hinted range."""
    query = xml_filter(inner)
    hint = index_hint(query)
    for name in selected(query):
        if hint.component is None:
            continue
        calendar = parse_calendar(RESOURCES[name])
        found = [c for c in calendar.subcomponents if c.name == hint.component]
        assert found, name
        if hint.start is not None or hint.end is not None:
            start, end = _epoch(hint.start), _epoch(hint.end)
            assert any(component_overlaps(calendar, c, start, end, UTC) for c in found), name
