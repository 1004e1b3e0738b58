"""Drive the python `caldav` library against a live gateway: discovery, create, query, multiget, sync, delete.

    python drive.py --url http://127.0.0.1:PORT/ --username U --password P --results DIR

Prints one line per step (PASS / FAIL / SKIP) and a final `N passed, M failed, K skipped` line; exits 1 when a
step failed or was skipped. Every HTTP exchange the library makes is written to DIR/http.log.

The library hides many server failures behind fallbacks (a failed multiget becomes single GETs, a failed
sync-collection becomes a full listing, time ranges are widened and post-filtered on the client). This
script asks for the strict behaviour where the library has a switch (disable_fallback, post_filter=False,
server_expand=True) and also fails a step in which the library logs an ERROR, or in which a request that the
step is about did not get the status it should.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import logging
import sys
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import caldav
import icalendar
from caldav.lib import error

# --- test data: one week in 2030, Monday 4 March to Saturday 9 March ------------------------------------------
RANGE_START = datetime(2030, 3, 4, tzinfo=UTC)
RANGE_END = datetime(2030, 3, 9, tzinfo=UTC)
RUN = uuid.uuid4().hex[:8]


def uid(name: str) -> str:
    return f"pycaldav-{name}-{RUN}@conformance.example"


def vcalendar(*components: str) -> str:
    body = "".join(components)
    prodid = "PRODID:-//groupware-gateway//python-caldav conformance//EN"
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{prodid}\r\n{body}END:VCALENDAR\r\n"


BERLIN = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)

EVENTS = {
    "simple": vcalendar(
        f"BEGIN:VEVENT\r\nUID:{uid('simple')}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300305T100000Z\r\n"
        "DTEND:20300305T110000Z\r\nSUMMARY:Simple event\r\nLOCATION:Room 1\r\nEND:VEVENT\r\n"
    ),
    "allday": vcalendar(
        f"BEGIN:VEVENT\r\nUID:{uid('allday')}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART;VALUE=DATE:20300306\r\n"
        "DTEND;VALUE=DATE:20300307\r\nSUMMARY:All-day event\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
    ),
    # Daily at 09:00Z from Friday 1 March, 10 times; the 6 March instance moved to 15:00Z, 8 March excluded.
    "recurring": vcalendar(
        f"BEGIN:VEVENT\r\nUID:{uid('recurring')}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300301T090000Z\r\n"
        "DURATION:PT30M\r\nRRULE:FREQ=DAILY;COUNT=10\r\nEXDATE:20300308T090000Z\r\nSUMMARY:Daily stand-up\r\n"
        "END:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid('recurring')}\r\nDTSTAMP:20300101T000000Z\r\n"
        "RECURRENCE-ID:20300306T090000Z\r\nDTSTART:20300306T150000Z\r\nDURATION:PT30M\r\n"
        "SUMMARY:Daily stand-up (moved)\r\nEND:VEVENT\r\n"
    ),
    # 18:00 in Berlin on Thursday 7 March 2030 (CET, UTC+1) = 17:00Z.
    "zoned": vcalendar(
        BERLIN,
        f"BEGIN:VEVENT\r\nUID:{uid('zoned')}\r\nDTSTAMP:20300101T000000Z\r\n"
        "DTSTART;TZID=Europe/Berlin:20300307T180000\r\nDTEND;TZID=Europe/Berlin:20300307T190000\r\n"
        "SUMMARY:Zoned event \u2013 Café\r\nEND:VEVENT\r\n",
    ),
    "outside": vcalendar(
        f"BEGIN:VEVENT\r\nUID:{uid('outside')}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300401T100000Z\r\n"
        "DTEND:20300401T110000Z\r\nSUMMARY:Next month\r\nEND:VEVENT\r\n"
    ),
}
IN_RANGE = {"simple", "allday", "recurring", "zoned"}
# (RECURRENCE-ID or None, DTSTART) of every instance the week's expansion must hold, in UTC.
EXPANDED = {
    ("simple", None, datetime(2030, 3, 5, 10, tzinfo=UTC)),
    ("allday", None, date(2030, 3, 6)),
    ("zoned", None, datetime(2030, 3, 7, 17, tzinfo=UTC)),
    ("recurring", datetime(2030, 3, 4, 9, tzinfo=UTC), datetime(2030, 3, 4, 9, tzinfo=UTC)),
    ("recurring", datetime(2030, 3, 5, 9, tzinfo=UTC), datetime(2030, 3, 5, 9, tzinfo=UTC)),
    ("recurring", datetime(2030, 3, 6, 9, tzinfo=UTC), datetime(2030, 3, 6, 15, tzinfo=UTC)),
    ("recurring", datetime(2030, 3, 7, 9, tzinfo=UTC), datetime(2030, 3, 7, 9, tzinfo=UTC)),
}

TODOS = {
    "todo-open": vcalendar(
        f"BEGIN:VTODO\r\nUID:{uid('todo-open')}\r\nDTSTAMP:20300101T000000Z\r\nDUE:20300307T170000Z\r\n"
        "SUMMARY:Write the report\r\nPRIORITY:1\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\n"
    ),
    "todo-done": vcalendar(
        f"BEGIN:VTODO\r\nUID:{uid('todo-done')}\r\nDTSTAMP:20300101T000000Z\r\nDUE:20300305T170000Z\r\n"
        "SUMMARY:Book the room\r\nSTATUS:COMPLETED\r\nCOMPLETED:20300304T120000Z\r\nPERCENT-COMPLETE:100\r\n"
        "END:VTODO\r\n"
    ),
}


# --- plumbing ------------------------------------------------------------------------------------------------
class StepFailure(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise StepFailure(message)


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None
    request_headers: dict[str, str]
    request_body: str
    response_headers: dict[str, str]
    response_body: str


@dataclass
class Recorder:
    """Wraps DAVClient.request: every exchange is kept for the step and written to http.log."""

    log_path: Path
    exchanges: list[Exchange] = field(default_factory=list)

    def install(self, client: caldav.DAVClient) -> None:
        original = client.request

        def recording(url: Any, method: str = "GET", body: Any = "", headers: Any = None, *args: Any, **kw: Any):
            response = None
            try:
                response = original(url, method, body, headers, *args, **kw)
                return response
            finally:
                self.record(str(url), method, body, headers, response)

        client.request = recording  # type: ignore[method-assign]

    def record(self, url: str, method: str, body: Any, headers: Any, response: Any) -> None:
        status = getattr(response, "status", None)
        response_headers = dict(getattr(response, "headers", {}) or {})
        try:
            raw = response._raw if response is not None and hasattr(response, "_raw") else None
            if raw is None and response is not None:
                raw = getattr(response, "raw", "")
            response_body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        except Exception as exc:
            response_body = f"<unreadable: {exc}>"
        request_body = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        exchange = Exchange(method, url, status, dict(headers or {}), request_body, response_headers, response_body)
        self.exchanges.append(exchange)
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n>>> {method} {url}\n")
            for key, value in exchange.request_headers.items():
                if key.lower() != "authorization":
                    log.write(f"{key}: {value}\n")
            if request_body:
                log.write(f"\n{request_body[:8000]}\n")
            log.write(f"<<< {status}\n")
            for key, value in response_headers.items():
                log.write(f"{key}: {value}\n")
            if response_body:
                log.write(f"\n{response_body[:8000]}\n")

    def since(self, mark: int) -> list[Exchange]:
        return self.exchanges[mark:]


class LogCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Runner:
    recorder: Recorder
    catcher: LogCatcher
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    done: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def step(self, name: str, function: Callable[[], str], needs: tuple[str, ...] = ()) -> None:
        missing = [need for need in needs if need not in self.done]
        if missing:
            self.skipped += 1
            print(f"SKIP {name}: needs {', '.join(missing)}", flush=True)
            return
        mark_http = len(self.recorder.exchanges)
        mark_log = len(self.catcher.records)
        with self.recorder.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n===== step: {name}\n")
        try:
            detail = function()
            errors = [r for r in self.catcher.records[mark_log:] if r.levelno >= logging.ERROR]
            check(not errors, "the caldav library logged: " + "; ".join(r.getMessage()[:300] for r in errors))
            server_errors = [e for e in self.recorder.since(mark_http) if e.status is not None and e.status >= 500]
            check(
                not server_errors,
                "server error: " + ", ".join(f"{e.method} {e.url} -> {e.status}" for e in server_errors),
            )
        except Exception as exc:
            self.failed += 1
            message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, StepFailure) else str(exc)
            message = " ".join(message.split())
            self.failures.append(f"{name}: {message}")
            print(f"FAIL {name}: {message[:1500]}", flush=True)
            if not isinstance(exc, StepFailure):
                with self.recorder.log_path.open("a", encoding="utf-8") as log:
                    log.write(traceback.format_exc())
            return
        for record in self.catcher.records[mark_log:]:
            print(f"     note: caldav logged {record.levelname}: {record.getMessage()[:300]}", flush=True)
        self.passed += 1
        self.done.add(name)
        print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)


def path_of(url: Any) -> str:
    return urlsplit(str(url)).path


def component_of(obj: Any) -> Any:
    return obj.icalendar_component


def uid_of(obj: Any) -> str:
    return str(component_of(obj)["UID"])


def name_of_uid(value: str) -> str:
    return value.removeprefix("pycaldav-").removesuffix(f"-{RUN}@conformance.example")


def as_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        check(value.tzinfo is not None, f"floating date-time {value} where UTC was expected")
        return value.astimezone(UTC)
    return value


def semantic(text: str) -> list[tuple[str, list[tuple[str, str, tuple[tuple[str, str], ...]]]]]:
    """Every component of a calendar object as (name, sorted properties with values and parameters)."""
    calendar = icalendar.Calendar.from_ical(text)
    out = []
    for component in calendar.walk():
        props = []
        for key, value in component.property_items(recursive=False):
            if key in ("BEGIN", "END"):
                continue
            params = tuple(sorted((k, str(v)) for k, v in getattr(value, "params", {}).items()))
            text = value.to_ical() if hasattr(value, "to_ical") else str(value)
            props.append((key, text.decode() if isinstance(text, bytes) else text, params))
        out.append((component.name, sorted(props)))
    return sorted(out, key=repr)


# --- the steps -----------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the server's bare base URL, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--results", required=True, type=Path)
    args = parser.parse_args()

    args.results.mkdir(parents=True, exist_ok=True)
    http_log = args.results / "http.log"
    http_log.write_text(f"python caldav {caldav.__version__} against {args.url}\n", encoding="utf-8")
    catcher = LogCatcher()
    logging.getLogger().addHandler(catcher)
    logging.getLogger().setLevel(logging.WARNING)

    base = args.url if args.url.endswith("/") else args.url + "/"
    user = args.username
    client = caldav.DAVClient(url=base, username=user, password=args.password)
    recorder = Recorder(http_log)
    recorder.install(client)
    runner = Runner(recorder, catcher)
    state: dict[str, Any] = {}

    def exchanges_since(mark: int, method: str) -> list[Exchange]:
        return [e for e in recorder.since(mark) if e.method.upper() == method]

    def report_bodies(mark: int, marker: str) -> list[Exchange]:
        return [e for e in exchanges_since(mark, "REPORT") if marker in e.request_body]

    # Discovery ---------------------------------------------------------------------------------------------
    def well_known() -> str:
        # RFC 6764 §5: the well-known URI redirects to the DAV root, for PROPFIND and OPTIONS alike.
        parts = urlsplit(base)
        for method in ("PROPFIND", "OPTIONS"):
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            token = base64.b64encode(f"{user}:{args.password}".encode()).decode()
            connection.request(method, "/.well-known/caldav", headers={"Authorization": f"Basic {token}", "Depth": "0"})
            response = connection.getresponse()
            location = response.getheader("Location") or ""
            connection.close()
            check(
                response.status in (301, 302, 303, 307, 308) and urlsplit(location).path == "/dav/",
                f"{method} /.well-known/caldav answered {response.status} Location {location!r}",
            )
        # The library started at the redirect's target finds the principal. (Started at the well-known URI
        # itself, caldav 3.6 follows the redirect but then looks for the well-known href in the multistatus,
        # does not find it and takes the well-known URI for the principal: a client limitation.)
        via = caldav.DAVClient(url=urljoin(base, location), username=user, password=args.password)
        principal = via.principal()
        check(path_of(principal.url) == f"/dav/principals/{user}/", f"via well-known: principal {principal.url}")
        return f"PROPFIND and OPTIONS /.well-known/caldav -> {response.status} {location}; principal found there"

    def discovery() -> str:
        principal = client.principal()
        state["principal"] = principal
        check(
            path_of(principal.url) == f"/dav/principals/{user}/",
            f"principal is {principal.url}, expected /dav/principals/{user}/",
        )
        return f"current-user-principal from {base} -> {path_of(principal.url)}"

    def home_set() -> str:
        home = state["principal"].calendar_home_set
        check(path_of(home.url) == f"/dav/calendars/{user}/", f"calendar-home-set is {home.url}")
        addresses = state["principal"].calendar_user_address_set()
        check(addresses, "calendar-user-address-set is empty")
        return f"calendar-home-set {path_of(home.url)}; calendar-user-address-set {addresses}"

    def list_calendars() -> str:
        calendars = state["principal"].calendars()
        found = {path_of(c.url): c for c in calendars}
        for slug, component in (("calendar", "VEVENT"), ("tasks", "VTODO")):
            path = f"/dav/calendars/{user}/{slug}/"
            check(path in found, f"default calendar {path} not listed (got {sorted(found)})")
            components = found[path].get_supported_components()
            check(list(components) == [component], f"{path} supports {components}, expected [{component}]")
        state["tasks"] = found[f"/dav/calendars/{user}/tasks/"]
        return f"{len(calendars)} calendars: " + ", ".join(sorted(found))

    def mkcalendar() -> str:
        mark = len(recorder.exchanges)
        name = f"Conformance {RUN} \u2013 Überprüfung"
        calendar = state["principal"].make_calendar(name=name, cal_id=f"pycaldav-{RUN}")
        state["calendar"] = calendar
        sent = exchanges_since(mark, "MKCALENDAR")
        check(sent and sent[0].status == 201, f"MKCALENDAR answered {[e.status for e in sent]}, expected 201")
        check(calendar.get_display_name() == name, f"displayname reads back as {calendar.get_display_name()!r}")
        listed = [path_of(c.url) for c in state["principal"].calendars()]
        check(path_of(calendar.url) in listed, f"{calendar.url} is not listed in the home ({listed})")
        components = sorted(calendar.get_supported_components())
        check({"VEVENT", "VTODO"} <= set(components), f"new calendar supports only {components}")
        return f"MKCALENDAR {path_of(calendar.url)} -> 201, displayname and component set {components} read back"

    def save_events() -> str:
        calendar = state["calendar"]
        state["events"] = {}
        for name, ics in EVENTS.items():
            mark = len(recorder.exchanges)
            event = calendar.add_event(ics, no_overwrite=True, increase_seqno=False)
            puts = exchanges_since(mark, "PUT")
            check(puts and puts[-1].status == 201, f"PUT of {name} answered {[e.status for e in puts]}, not 201")
            etag = {k.lower(): v for k, v in puts[-1].response_headers.items()}.get("etag")
            check(etag and etag.startswith('"'), f"PUT of {name} returned no strong ETag ({etag!r})")
            state["events"][name] = event
            loaded = calendar.event_by_url(event.url)
            loaded.load()
            check(uid_of(loaded) == uid(name), f"{name} reads back with UID {uid_of(loaded)}")
            check(
                semantic(loaded.data) == semantic(ics),
                f"{name} does not read back unchanged:\nsent {semantic(ics)}\ngot  {semantic(loaded.data)}",
            )
        kinds = "simple, all-day, recurring+override+EXDATE, zoned, outside"
        return f"{len(EVENTS)} events ({kinds}) PUT -> 201, read back equal"

    def save_todos() -> str:
        calendar = state["calendar"]
        state["todos"] = {}
        for name, ics in TODOS.items():
            todo = calendar.add_todo(ics, no_overwrite=True, increase_seqno=False)
            state["todos"][name] = todo
            loaded = calendar.todo_by_uid(uid(name))
            check(semantic(loaded.data) == semantic(ics), f"{name} does not read back unchanged")
        # The default task list takes todos too.
        state["tasks"].add_todo(TODOS["todo-open"], no_overwrite=True, increase_seqno=False)
        check(state["tasks"].todo_by_uid(uid("todo-open")), "todo not found in the default task list")
        return "open + completed todo in the new calendar, one in the default task list"

    def search_time_range() -> str:
        calendar = state["calendar"]
        mark = len(recorder.exchanges)
        found = calendar.search(event=True, start=RANGE_START, end=RANGE_END, expand=False, post_filter=False)
        names = sorted(name_of_uid(uid_of(o)) for o in found)
        check(names == sorted(IN_RANGE), f"time-range query found {names}, expected {sorted(IN_RANGE)}")
        reports = report_bodies(mark, "calendar-query")
        check(reports and all(e.status == 207 for e in reports), "calendar-query did not answer 207")
        # A recurring event with the whole recurrence set: master and override.
        recurring = next(o for o in found if name_of_uid(uid_of(o)) == "recurring")
        comps = [c for c in recurring.icalendar_instance.walk("VEVENT")]
        check(len(comps) == 2, f"recurring event came back with {len(comps)} VEVENTs, expected master + override")
        # Only the instance 6 March 15:00Z (the moved override) falls in 14:00-16:00Z that day.
        moved = calendar.search(
            event=True,
            start=datetime(2030, 3, 6, 14, tzinfo=UTC),
            end=datetime(2030, 3, 6, 16, tzinfo=UTC),
            expand=False,
            post_filter=False,
        )
        # (The all-day event covers all of 6 March, floating, read in UTC as the calendar has no time zone.)
        check(
            sorted(name_of_uid(uid_of(o)) for o in moved) == ["allday", "recurring"],
            f"query for the moved instance found {[uid_of(o) for o in moved]}",
        )
        # The master's own 6 March 09:00Z slot is overridden: 08:00-10:00Z must not find the recurring event.
        slot = calendar.search(
            event=True,
            start=datetime(2030, 3, 6, 8, tzinfo=UTC),
            end=datetime(2030, 3, 6, 10, tzinfo=UTC),
            expand=False,
            post_filter=False,
        )
        check(
            [name_of_uid(uid_of(o)) for o in slot] == ["allday"],
            f"query on the overridden slot found {[uid_of(o) for o in slot]}, expected only the all-day event",
        )
        # The excluded 8 March 09:00Z instance must not match.
        excluded = calendar.search(
            event=True,
            start=datetime(2030, 3, 8, 8, tzinfo=UTC),
            end=datetime(2030, 3, 8, 10, tzinfo=UTC),
            expand=False,
            post_filter=False,
        )
        check(not excluded, f"query on the EXDATE instance found {[uid_of(o) for o in excluded]}")
        # The all-day event of 6 March: a range ending at 6 March 00:00Z misses it.
        eve = calendar.search(
            event=True,
            start=datetime(2030, 3, 5, 23, tzinfo=UTC),
            end=datetime(2030, 3, 6, tzinfo=UTC),
            expand=False,
            post_filter=False,
        )
        check(not eve, f"range ending where the all-day event starts found {[uid_of(o) for o in eve]}")
        # The zoned event: 17:00Z-18:00Z; a range ending at 17:00Z must miss it, one ending 17:01Z hit it.
        before = calendar.search(
            event=True,
            start=datetime(2030, 3, 7, 16, tzinfo=UTC),
            end=datetime(2030, 3, 7, 17, tzinfo=UTC),
            expand=False,
            post_filter=False,
        )
        check(not before, f"range ending at the zoned event's start found {[uid_of(o) for o in before]}")
        at = calendar.search(
            event=True,
            start=datetime(2030, 3, 7, 16, tzinfo=UTC),
            end=datetime(2030, 3, 7, 17, 1, tzinfo=UTC),
            expand=False,
            post_filter=False,
        )
        check([name_of_uid(uid_of(o)) for o in at] == ["zoned"], f"zoned event not found at 17:00Z ({at})")
        return f"week -> {names}; override, EXDATE and Europe/Berlin boundaries exact"

    def search_expand() -> str:
        calendar = state["calendar"]
        mark = len(recorder.exchanges)
        found = calendar.search(
            event=True, start=RANGE_START, end=RANGE_END, expand=True, server_expand=True, post_filter=False
        )
        reports = report_bodies(mark, "expand")
        check(reports and all(e.status == 207 for e in reports), "no calendar-query with <expand> answered 207")
        got = set()
        for obj in found:
            for comp in obj.icalendar_instance.walk("VEVENT"):
                check("RRULE" not in comp and "EXDATE" not in comp, f"expanded instance keeps RRULE/EXDATE: {comp}")
                start = comp["DTSTART"].dt
                if isinstance(start, datetime):
                    check(
                        start.tzinfo is not None and start.utcoffset().total_seconds() == 0,
                        f"expanded DTSTART {comp['DTSTART'].to_ical().decode()} of {comp['UID']} is not UTC",
                    )
                rid = comp.get("RECURRENCE-ID")
                got.add((name_of_uid(str(comp["UID"])), as_utc(rid.dt) if rid else None, as_utc(start)))
                if rid is not None and as_utc(rid.dt) == datetime(2030, 3, 6, 9, tzinfo=UTC):
                    check("moved" in str(comp["SUMMARY"]), "the 6 March instance lost its override's SUMMARY")
        missing = EXPANDED - got
        extra = got - EXPANDED
        check(
            not missing and not extra,
            f"expansion differs: missing {sorted(map(str, missing))}, extra {sorted(map(str, extra))}",
        )
        return f"server-side expand: {len(got)} instances in UTC, override applied, EXDATE honoured"

    def search_todos() -> str:
        calendar = state["calendar"]
        pending = calendar.search(todo=True)
        names = sorted(name_of_uid(uid_of(o)) for o in pending)
        check(names == ["todo-open"], f"pending todos: {names}, expected ['todo-open']")
        everything = calendar.search(todo=True, include_completed=True)
        names_all = sorted(name_of_uid(uid_of(o)) for o in everything)
        check(names_all == ["todo-done", "todo-open"], f"all todos: {names_all}")
        # Todos by time range (RFC 4791 §9.9): due 7 March 17:00Z falls in the week; with post_filter off.
        ranged = calendar.search(todo=True, include_completed=True, start=RANGE_START, end=RANGE_END, post_filter=False)
        names_ranged = sorted(name_of_uid(uid_of(o)) for o in ranged)
        check(names_ranged == ["todo-done", "todo-open"], f"todos in the week: {names_ranged}")
        later = calendar.search(
            todo=True,
            include_completed=True,
            start=datetime(2030, 3, 6, tzinfo=UTC),
            end=datetime(2030, 3, 7, tzinfo=UTC),
            post_filter=False,
        )
        # todo-open: DUE 7 Mar 17:00Z, no DTSTART -> matches (start < DUE AND end >= DUE)? end 7 Mar 00:00 < DUE.
        # RFC 4791 §9.9 row "DUE only": (start < DUE) AND (end >= DUE) -> no. todo-done: COMPLETED 4 Mar,
        # DUE 5 Mar, no DTSTART -> row "COMPLETED only"/"DUE" -> no.
        check(not later, f"todos in 6 March: {[uid_of(o) for o in later]}, expected none")
        summary = calendar.search(todo=True, include_completed=True, summary="report", post_filter=False)
        check([name_of_uid(uid_of(o)) for o in summary] == ["todo-open"], "text-match on SUMMARY failed")
        return "pending filter, include_completed, VTODO time ranges and SUMMARY text-match"

    def multiget() -> str:
        calendar = state["calendar"]
        objects = list(state["events"].values()) + list(state["todos"].values())
        urls = [o.url for o in objects]
        mark = len(recorder.exchanges)
        got = calendar.multiget(urls, raise_notfound=True)
        reports = report_bodies(mark, "calendar-multiget")
        check(len(reports) == 1 and reports[0].status == 207, "calendar-multiget did not answer one 207")
        uids = sorted(uid_of(o) for o in got)
        check(uids == sorted(uid(n) for n in list(EVENTS) + list(TODOS)), f"multiget returned {uids}")
        for obj in got:
            check(obj.data and "BEGIN:VCALENDAR" in obj.data, f"multiget returned no calendar-data for {obj.url}")
        # A missing href must come back as 404 inside the multistatus.
        missing = calendar.url.join(f"missing-{RUN}.ics")
        try:
            calendar.multiget([urls[0], missing], raise_notfound=True)
            raise StepFailure("multiget of a missing href did not raise NotFoundError")
        except error.NotFoundError:
            pass
        by_uid = calendar.object_by_uid(uid("zoned"))
        check(path_of(by_uid.url) == path_of(state["events"]["zoned"].url), f"object_by_uid found {by_uid.url}")
        return f"{len(got)} objects in one calendar-multiget; missing href -> 404; object_by_uid"

    def sync_tokens() -> str:
        calendar = state["calendar"]
        first = calendar.objects_by_sync_token(load_objects=False, disable_fallback=True)
        check(first.sync_token, "initial sync-collection returned no sync-token")
        initial = {path_of(o.url) for o in first}
        expected = {path_of(o.url) for o in list(state["events"].values()) + list(state["todos"].values())}
        check(initial == expected, f"initial sync listed {sorted(initial)}, expected {sorted(expected)}")
        # Change one event, delete another.
        changed = calendar.event_by_url(state["events"]["simple"].url)
        changed.load()
        changed.icalendar_component["SUMMARY"] = "Simple event (changed)"
        changed.save(increase_seqno=False)
        gone = state["events"].pop("outside")
        gone.delete()
        second = calendar.objects_by_sync_token(sync_token=first.sync_token, load_objects=True, disable_fallback=True)
        check(second.sync_token and second.sync_token != first.sync_token, "sync token did not change")
        updated = {path_of(o.url) for o in second if o.url.canonical() not in second.deleted_urls}
        deleted = {path_of(u) for u in second.deleted_urls}
        check(updated == {path_of(changed.url)}, f"incremental sync changed {sorted(updated)}, expected only the one")
        check(
            deleted == {path_of(gone.url)}, f"incremental sync deleted {sorted(deleted)}, expected {path_of(gone.url)}"
        )
        reloaded = next(o for o in second if path_of(o.url) == path_of(changed.url))
        check("changed" in str(reloaded.icalendar_component["SUMMARY"]), "synced object has the old SUMMARY")
        third = calendar.objects_by_sync_token(sync_token=second.sync_token, disable_fallback=True)
        check(len(list(third)) == 0 and not third.deleted_urls, f"sync after no change returned {list(third)}")
        # A token the server never issued: 403 valid-sync-token (RFC 6578 §3.2).
        try:
            calendar.objects_by_sync_token(sync_token="http://example.com/never-issued", disable_fallback=True)
            raise StepFailure("a sync-token the server never issued was accepted")
        except error.DAVError as exc:
            status, preconditions = getattr(exc, "status", None), getattr(exc, "preconditions", None) or []
            check(
                status == 403 and "{DAV:}valid-sync-token" in preconditions,
                f"bogus token refused with {status} {preconditions}, expected 403 DAV:valid-sync-token",
            )
        return (
            f"initial {len(initial)} members; after 1 change + 1 delete exactly those two; idle sync empty; "
            "bogus token 403"
        )

    def update_with_etag() -> str:
        calendar = state["calendar"]
        event = calendar.event_by_url(state["events"]["zoned"].url)
        event.load()
        old_etag = event.props.get("{DAV:}getetag") or client.request(str(event.url), "HEAD").headers.get("etag")
        check(old_etag, "no ETag for the zoned event")
        event.icalendar_component["LOCATION"] = "Konzerthaus"
        mark = len(recorder.exchanges)
        event.save(increase_seqno=False, precondition="etag")
        puts = exchanges_since(mark, "PUT")
        check(puts and puts[-1].status in (200, 204), f"update PUT answered {[p.status for p in puts]}")
        sent = {k.lower(): v for k, v in puts[-1].request_headers.items()}
        check(sent.get("if-match") == old_etag, f"the library sent If-Match {sent.get('if-match')!r}, not {old_etag!r}")
        new_etag = {k.lower(): v for k, v in puts[-1].response_headers.items()}.get("etag")
        check(new_etag and new_etag != old_etag, f"ETag did not change on update ({old_etag} -> {new_etag})")
        # A stale ETag must be refused with 412 and change nothing.
        stale = client.put(str(event.url), EVENTS["zoned"], {"Content-Type": "text/calendar", "If-Match": old_etag})
        check(stale.status == 412, f"PUT with a stale If-Match answered {stale.status}, expected 412")
        fresh = calendar.event_by_url(event.url)
        fresh.load()
        check(str(fresh.icalendar_component.get("LOCATION")) == "Konzerthaus", "the stale PUT changed the event")
        # If-None-Match: * on an existing resource: 412.
        again = client.put(str(event.url), EVENTS["zoned"], {"Content-Type": "text/calendar", "If-None-Match": "*"})
        check(again.status == 412, f"PUT If-None-Match: * on an existing object answered {again.status}")
        return (
            f"If-Match {old_etag} -> {puts[-1].status}, new ETag {new_etag}; stale If-Match -> 412; "
            "If-None-Match * -> 412"
        )

    def delete_object() -> str:
        calendar = state["calendar"]
        event = state["events"].pop("allday")
        event.delete()
        try:
            calendar.event_by_url(event.url).load()
            raise StepFailure("the deleted event still loads")
        except error.NotFoundError:
            pass
        try:
            calendar.event_by_uid(uid("allday"))
            raise StepFailure("the deleted event is still found by UID")
        except error.NotFoundError:
            pass
        return f"DELETE {path_of(event.url)}; GET and UID lookup -> not found"

    def delete_calendar() -> str:
        calendar = state["calendar"]
        url = calendar.url
        calendar.delete()
        listed = [path_of(c.url) for c in state["principal"].calendars()]
        check(path_of(url) not in listed, f"deleted calendar still listed: {listed}")
        response = client.request(str(url), "PROPFIND", "", {"Depth": "0"})
        check(response.status == 404, f"PROPFIND on the deleted calendar answered {response.status}")
        return f"DELETE {path_of(url)}; no longer listed, PROPFIND -> 404"

    runner.step("well-known", well_known)
    runner.step("discovery", discovery)
    runner.step("calendar-home-set", home_set, ("discovery",))
    runner.step("list-calendars", list_calendars, ("discovery",))
    runner.step("mkcalendar", mkcalendar, ("discovery",))
    runner.step("save-events", save_events, ("mkcalendar",))
    runner.step("save-todos", save_todos, ("mkcalendar", "list-calendars"))
    runner.step("search-time-range", search_time_range, ("save-events",))
    runner.step("search-expand", search_expand, ("save-events",))
    runner.step("search-todos", search_todos, ("save-todos",))
    runner.step("multiget", multiget, ("save-events", "save-todos"))
    runner.step("sync-token", sync_tokens, ("save-events", "save-todos"))
    runner.step("update-with-etag", update_with_etag, ("save-events",))
    runner.step("delete-object", delete_object, ("save-events",))
    runner.step("delete-calendar", delete_calendar, ("mkcalendar",))

    print(f"{runner.passed} passed, {runner.failed} failed, {runner.skipped} skipped")
    return 1 if runner.failed or runner.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
