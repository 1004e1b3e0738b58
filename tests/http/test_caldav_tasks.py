"""Task lists end to end (issue item 5): VTODOs with status, progress, due dates, relations and recurrence."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http import unique
from tests.http.caldav_support import (
    calendar_data,
    new_calendar,
    put_ics,
    query,
    store,
    todo,
    unfolded,
)
from tests.testing import LiveServer

INCOMPLETE = (
    '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
    '<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>'
    '<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">CANCELLED</C:text-match></C:prop-filter>'
    "</C:comp-filter></C:comp-filter>"
)
ALL_TODOS = '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter>'


def todos_in(start: str, end: str) -> str:
    return (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
        f'<C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter>'
    )


@pytest.fixture
def alice(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        yield client


@pytest.fixture
def tasks(alice: httpx.Client) -> str:
    return new_calendar(alice, "<D:displayname>Chores</D:displayname>", components=("VTODO",))


def names(found: dict[str, object]) -> set[str]:
    return {name for name in found if name}


def project(uid: str) -> dict[str, bytes]:
    """A parent task with two children, one done, one cancelled task and one without any status."""
    return {
        "parent.ics": todo(
            uid,
            "STATUS:IN-PROCESS",
            "PERCENT-COMPLETE:40",
            "PRIORITY:1",
            "DUE;TZID=Europe/Paris:20240315T180000",
            summary="Move house",
        ),
        "child-open.ics": todo(
            uid + "-boxes",
            "STATUS:NEEDS-ACTION",
            "PRIORITY:5",
            "DUE;VALUE=DATE:20240310",
            f"RELATED-TO;RELTYPE=PARENT:{uid}",
            summary="Buy boxes",
        ),
        "child-done.ics": todo(
            uid + "-van",
            "STATUS:COMPLETED",
            "COMPLETED:20240301T120000Z",
            "PERCENT-COMPLETE:100",
            f"RELATED-TO:{uid}",
            summary="Book a van",
        ),
        "cancelled.ics": todo(uid + "-party", "STATUS:CANCELLED", summary="Farewell party"),
        "plain.ics": todo(uid + "-plain", summary="Something, some day"),
    }


def test_tasks_round_trip_with_every_property(alice: httpx.Client, tasks: str) -> None:
    uid = unique("move")
    for name, data in project(uid).items():
        store(alice, tasks + name, data)
        assert alice.get(tasks + name).content == data
    found = query(alice, tasks, ALL_TODOS, "<D:getetag/><C:calendar-data/>")
    assert names(found) == set(project(uid))
    parent = unfolded(calendar_data(found["parent.ics"]))
    for line in ("STATUS:IN-PROCESS", "PERCENT-COMPLETE:40", "PRIORITY:1", "DUE;TZID=Europe/Paris:20240315T180000"):
        assert line in parent
    assert f"RELATED-TO;RELTYPE=PARENT:{uid}" in unfolded(calendar_data(found["child-open.ics"]))


def test_query_incomplete_tasks(alice: httpx.Client, tasks: str) -> None:
    uid = unique("move")
    for name, data in project(uid).items():
        store(alice, tasks + name, data)
    # A prop-filter with a text-match needs the property (RFC 4791 §9.7.2): the task without STATUS is left out.
    assert names(query(alice, tasks, INCOMPLETE)) == {"parent.ics", "child-open.ics"}
    not_completed = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
        '<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter></C:comp-filter></C:comp-filter>'
    )
    assert names(query(alice, tasks, not_completed)) == {"parent.ics", "child-open.ics", "cancelled.ics", "plain.ics"}


def test_query_children_of_a_task(alice: httpx.Client, tasks: str) -> None:
    uid = unique("move")
    for name, data in project(uid).items():
        store(alice, tasks + name, data)
    children = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:prop-filter name="RELATED-TO">'
        f'<C:text-match collation="i;octet">{uid}</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>'
    )
    assert names(query(alice, tasks, children)) == {"child-open.ics", "child-done.ics"}


def test_query_by_priority_and_due_date(alice: httpx.Client, tasks: str) -> None:
    uid = unique("move")
    for name, data in project(uid).items():
        store(alice, tasks + name, data)
    urgent = (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"><C:prop-filter name="PRIORITY">'
        '<C:text-match collation="i;octet">1</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>'
    )
    assert names(query(alice, tasks, urgent)) == {"parent.ics"}
    # DUE 18:00 Paris (CET) = 17:00Z; a task with only DUE overlaps [DUE - 1 instant, DUE] per RFC 4791 §9.9.
    assert "parent.ics" in names(query(alice, tasks, todos_in("20240315T163000Z", "20240315T171000Z")))
    assert "parent.ics" not in names(query(alice, tasks, todos_in("20240316T000000Z", "20240317T000000Z")))


def test_mark_complete_with_if_match(alice: httpx.Client, tasks: str) -> None:
    uid = unique("todo")
    etag = store(alice, tasks + "t.ics", todo(uid, "STATUS:NEEDS-ACTION", "PERCENT-COMPLETE:0", summary="Water plants"))
    assert names(query(alice, tasks, INCOMPLETE)) == {"t.ics"}
    done = todo(uid, "STATUS:COMPLETED", "PERCENT-COMPLETE:100", "COMPLETED:20240401T080000Z", summary="Water plants")
    response = put_ics(alice, tasks + "t.ics", done, headers={"If-Match": etag})
    assert response.status_code == 204
    assert response.headers["etag"] != etag
    assert names(query(alice, tasks, INCOMPLETE)) == set()
    # A second client still holding the old ETag loses (clients.md §2: 412 -> server wins).
    stale = put_ics(alice, tasks + "t.ics", todo(uid, "STATUS:NEEDS-ACTION"), headers={"If-Match": etag})
    assert stale.status_code == 412
    assert alice.get(tasks + "t.ics").content == done


def test_recurring_task(alice: httpx.Client, tasks: str) -> None:
    uid = unique("weekly")
    store(
        alice,
        tasks + "bins.ics",
        todo(
            uid,
            "DTSTART:20240101T180000Z",
            "DUE:20240101T190000Z",
            "RRULE:FREQ=WEEKLY;COUNT=10",
            "STATUS:NEEDS-ACTION",
            summary="Take out the bins",
        ),
    )
    # The 6th instance is on 2024-02-05.
    assert names(query(alice, tasks, todos_in("20240205T000000Z", "20240206T000000Z"))) == {"bins.ics"}
    assert names(query(alice, tasks, todos_in("20240206T000000Z", "20240212T000000Z"))) == set()
    assert names(query(alice, tasks, todos_in("20240311T000000Z", "20240312T000000Z"))) == set(), "after COUNT"
    extra = '<C:calendar-data><C:expand start="20240129T000000Z" end="20240213T000000Z"/></C:calendar-data>'
    found = query(alice, tasks, todos_in("20240129T000000Z", "20240213T000000Z"), extra)
    data = unfolded(calendar_data(found["bins.ics"]))
    assert data.count("BEGIN:VTODO") == 3
    assert "RECURRENCE-ID:20240205T180000Z" in data and "RRULE" not in data


def test_recurring_task_with_a_completed_instance(alice: httpx.Client, tasks: str) -> None:
    uid = unique("daily")
    body = (
        todo(uid, "DTSTART:20240501T070000Z", "DUE:20240501T080000Z", "RRULE:FREQ=DAILY;COUNT=3", summary="Stretch")
        .replace(b"END:VCALENDAR\r\n", b"")
        .decode()
        + "\r\n".join(
            [
                "BEGIN:VTODO",
                f"UID:{uid}",
                "DTSTAMP:20240502T090000Z",
                "RECURRENCE-ID:20240502T070000Z",
                "DTSTART:20240502T070000Z",
                "DUE:20240502T080000Z",
                "STATUS:COMPLETED",
                "COMPLETED:20240502T073000Z",
                "SUMMARY:Stretch",
                "END:VTODO",
                "END:VCALENDAR",
                "",
            ]
        )
    ).encode()
    assert put_ics(alice, tasks + "stretch.ics", body).status_code == 201
    assert names(query(alice, tasks, completed_between("20240502T000000Z", "20240503T000000Z"))) == {"stretch.ics"}
    assert names(query(alice, tasks, completed_between("20240503T000000Z", "20240504T000000Z"))) == set()


def completed_between(start: str, end: str) -> str:
    """COMPLETED tasks with an instance in the range: the comp-filter holds for one component (§9.7.1)."""
    return (
        '<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
        f'<C:time-range start="{start}" end="{end}"/>'
        '<C:prop-filter name="STATUS"><C:text-match>COMPLETED</C:text-match></C:prop-filter>'
        "</C:comp-filter></C:comp-filter>"
    )


# RFC 4791 §9.9: which VTODOs overlap the range [2024-06-10T00:00Z, 2024-06-11T00:00Z).
VTODO_TABLE = {
    "start-duration-in.ics": ("DTSTART:20240610T100000Z", "DURATION:PT1H"),
    "start-duration-out.ics": ("DTSTART:20240612T100000Z", "DURATION:PT1H"),
    "start-due-in.ics": ("DTSTART:20240609T100000Z", "DUE:20240610T010000Z"),
    "start-due-out.ics": ("DTSTART:20240601T100000Z", "DUE:20240605T100000Z"),
    "start-only-in.ics": ("DTSTART:20240610T230000Z",),
    "start-only-out.ics": ("DTSTART:20240611T000000Z",),
    "due-only-in.ics": ("DUE:20240610T120000Z",),
    "due-only-out.ics": ("DUE:20240612T120000Z",),
    "completed-created-in.ics": ("CREATED:20240601T000000Z", "COMPLETED:20240615T000000Z"),
    "completed-created-out.ics": ("CREATED:20240612T000000Z", "COMPLETED:20240615T000000Z"),
    "completed-only-in.ics": ("COMPLETED:20240610T120000Z",),
    "completed-only-out.ics": ("COMPLETED:20240601T120000Z",),
    "created-only-in.ics": ("CREATED:20240601T000000Z",),
    "created-only-out.ics": ("CREATED:20240612T000000Z",),
    "nothing-in.ics": (),
}


def test_vtodo_time_range_follows_rfc4791_table(alice: httpx.Client, tasks: str) -> None:
    for name, lines in VTODO_TABLE.items():
        store(alice, tasks + name, todo(unique("uid"), *lines))
    found = names(query(alice, tasks, todos_in("20240610T000000Z", "20240611T000000Z")))
    assert found == {name for name in VTODO_TABLE if name.endswith("-in.ics")}


def test_default_task_list_takes_tasks(alice: httpx.Client) -> None:
    name = unique("task") + ".ics"
    store(alice, "/dav/calendars/alice/tasks/" + name, todo(unique("uid"), "STATUS:NEEDS-ACTION"))
    found = query(alice, "/dav/calendars/alice/tasks/", INCOMPLETE)
    assert name in found
    assert alice.delete("/dav/calendars/alice/tasks/" + name).status_code == 204
