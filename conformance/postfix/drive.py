"""Mail through a real Postfix into the gateway and out of it again, checked over JMAP (run by run.sh).

    python drive.py --url http://127.0.0.1:PORT/ --password P --smtp-port N --submission-port N --sink-port N
        --postfix-log FILE --server-log FILE --results DIR

run.sh has started a private Postfix instance (smtpd on ``--smtp-port``; example.org delivered over LMTP to the
gateway, sink.example to the LMTP sink this script runs on ``--sink-port``) and a gateway (LMTP server, relaying
through Postfix's ``--submission-port``) with the users alice (alice@example.org) and bob (bob@example.org, alias
robert@example.org) and dave (dave@catchall.example, the catch-all of catchall.example), all with password P.
Mail goes in with smtplib as any other MTA would send it; what arrives is looked at through JMAP (plain httpx and
JSON), and Postfix's own log says what Postfix did with it.

Prints one numbered check per line (PASS / FAIL; a check whose prerequisite failed fails as "not run") and a final
``N passed, M failed`` line; exits 1 when a check failed. Every JMAP exchange goes to DIR/http.log.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.lmtp import LMTP

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import drive_common as common
from drive_common import CheckFailure, check

RUN = uuid.uuid4().hex[:8]
WAIT = 5.0
"""Every wait for mail, a log line or an event ends after this many seconds."""
LATENCY_LIMIT = 1.0
"""Mail accepted by Postfix must be visible through JMAP within this many seconds."""
QUIET = 3.0
"""How long to watch for a second vacation reply that must not come."""
POLL = 0.02

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
VACATION = "urn:ietf:params:jmap:vacationresponse"
USING = [CORE, MAIL, SUBMISSION, VACATION]
EMAIL_PROPERTIES = ["id", "messageId", "subject", "from", "to", "mailboxIds", "keywords", "receivedAt", "headers"]


def message_id(name: str) -> str:
    return f"{name}-{RUN}@drive.postfix-conformance.test"


def make_message(name: str, sender: str, recipients: Sequence[str], subject: str, body: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"{subject} [{RUN}]"
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{message_id(name)}>"
    message.set_content(body)
    return message.as_bytes()


def header_values(email: dict[str, Any], name: str) -> list[str]:
    """The raw values of the header ``name`` in an Email's ``headers`` property, unfolded and trimmed."""
    return [
        " ".join(str(header.get("value", "")).split())
        for header in email.get("headers") or []
        if str(header.get("name", "")).lower() == name.lower()
    ]


def addresses(email: dict[str, Any], field_name: str) -> list[str]:
    return [str(address.get("email", "")).lower() for address in email.get(field_name) or []]


# --- Postfix: smtplib in, the maillog file out ------------------------------------------------------------------
@dataclass(frozen=True)
class Accepted:
    """One message Postfix accepted: its queue id, when (monotonic), and the final DATA reply."""

    queue_id: str
    at: float
    reply: str


DELIVERY = re.compile(
    r"postfix/(?P<service>[\w/.-]+)\[(?P<pid>\d+)\]: (?P<qid>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>,"
    r"(?: orig_to=<[^>]*>,)? relay=(?P<relay>\S+), .*?dsn=(?P<dsn>[\d.]+), status=(?P<status>\w+) \((?P<reply>.*)\)$"
)


@dataclass
class Postfix:
    smtp_port: int
    log_path: Path

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> Accepted:
        """One SMTP transaction; every recipient must be accepted. Returns when Postfix has queued the message."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.ehlo("drive.postfix-conformance.test")
            code, reply = smtp.mail(sender)
            check(code == 250, f"Postfix refused MAIL FROM:<{sender}>: {code} {reply.decode(errors='replace')}")
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                check(code == 250, f"Postfix refused RCPT TO:<{recipient}>: {code} {reply.decode(errors='replace')}")
            code, reply = smtp.data(message)
            accepted = time.monotonic()
        text = reply.decode(errors="replace")
        check(code == 250, f"Postfix refused the message: {code} {text}")
        found = re.search(r"queued as ([0-9A-Za-z]+)", text)
        check(found, f"no queue id in Postfix's reply {code} {text}")
        assert found is not None
        return Accepted(found.group(1), accepted, f"{code} {text}")

    def lines(self, queue_id: str | None = None) -> list[str]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        lines = text.splitlines()
        return [line for line in lines if f": {queue_id}: " in line] if queue_id else lines

    def deliveries(self, queue_id: str) -> list[re.Match[str]]:
        return [match for line in self.lines(queue_id) if (match := DELIVERY.search(line))]

    def wait_deliveries(self, queue_id: str, count: int, timeout: float = WAIT) -> list[re.Match[str]]:
        """The delivery lines (status=sent/bounced/deferred...) of ``queue_id`` once there are ``count`` final
        ones (sent or bounced), or what there is after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.deliveries(queue_id)
            if sum(match["status"] in ("sent", "bounced") for match in found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(POLL * 5)

    def wait_line(self, pattern: str, timeout: float = WAIT) -> re.Match[str] | None:
        deadline = time.monotonic() + timeout
        expression = re.compile(pattern)
        while True:
            for line in self.lines():
                if match := expression.search(line):
                    return match
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL * 5)


# --- the JMAP side: httpx and JSON ------------------------------------------------------------------------------
@dataclass
class Jmap:
    name: str
    http: httpx.Client
    log: Path
    session: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return str(self.session["primaryAccounts"][MAIL])

    def connect(self) -> None:
        response = self.http.get("/jmap/session")
        check(response.status_code == 200, f"{self.name}: GET /jmap/session -> {response.status_code} {response.text}")
        self.session = response.json()
        capabilities = set(self.session.get("capabilities", {}))
        missing = sorted(set(USING) - capabilities)
        check(not missing, f"{self.name}: the session lacks the capabilities {missing}")
        listed = self.call("Mailbox/get", {"ids": None})["list"]
        self.roles = {str(mailbox["role"]): str(mailbox["id"]) for mailbox in listed if mailbox.get("role")}
        for role in ("inbox", "drafts", "sent"):
            check(role in self.roles, f"{self.name}: no {role} mailbox ({sorted(self.roles)})")

    def api(self, calls: list[list[Any]]) -> list[list[Any]]:
        body = {"using": USING, "methodCalls": calls}
        response = self.http.post("/jmap/api/", json=body)
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n>>> {self.name} POST /jmap/api/\n{json.dumps(body)}\n<<< {response.status_code}\n")
            log.write(f"{response.text[:4000]}\n")
        check(response.status_code == 200, f"{self.name}: POST /jmap/api/ -> {response.status_code} {response.text}")
        return list(response.json()["methodResponses"])

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        [[answered, result, _]] = self.api([[name, {"accountId": self.account_id, **arguments}, "c"]])
        check(answered == name, f"{self.name}: {name} answered {answered} {result}")
        return dict(result)

    def emails(self, role: str = "inbox") -> list[dict[str, Any]]:
        """Every Email in the mailbox of ``role``, newest first, with EMAIL_PROPERTIES."""
        query: dict[str, Any] = {"accountId": self.account_id, "filter": {"inMailbox": self.roles[role]}}
        query["sort"] = [{"property": "receivedAt", "isAscending": False}]
        ids = {"resultOf": "q", "name": "Email/query", "path": "/ids"}
        get = {"accountId": self.account_id, "#ids": ids, "properties": EMAIL_PROPERTIES}
        responses = self.api([["Email/query", query, "q"], ["Email/get", get, "g"]])
        check(
            [answer for answer, _, _ in responses] == ["Email/query", "Email/get"],
            f"{self.name}: Email/query + Email/get answered {responses}",
        )
        return list(responses[1][1]["list"])

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT, role: str = "inbox"
    ) -> tuple[dict[str, Any] | None, float]:
        """The first Email of the mailbox matching ``predicate`` and when (monotonic) it was seen; None when none
        appeared within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for email in self.emails(role):
                if predicate(email):
                    return email, time.monotonic()
            if time.monotonic() > deadline:
                return None, time.monotonic()
            time.sleep(POLL)

    def wait_message_id(self, wanted: str, timeout: float = WAIT, role: str = "inbox") -> tuple[dict[str, Any], float]:
        email, seen = self.wait_for(lambda email: wanted in (email.get("messageId") or []), timeout, role)
        check(email is not None, f"{self.name}: no Email with Message-ID <{wanted}> in {role} within {timeout:.0f}s")
        assert email is not None
        return email, seen


# --- an LMTP sink, to check the Postfix side without the gateway --------------------------------------------------
@dataclass
class SinkTransaction:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    at: float


class SinkHandler:
    """aiosmtpd handler: refuses unknown@ at RCPT (550 5.1.1), gives one reply per recipient after DATA (LMTP)."""

    def __init__(self) -> None:
        self.transactions: list[SinkTransaction] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.lower().startswith("unknown@"):
            return f"550 5.1.1 <{address}>: no such user in the sink"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        self.transactions.append(
            SinkTransaction(envelope.mail_from, list(envelope.rcpt_tos), bytes(content), time.monotonic())
        )
        # RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
        return "\r\n".join(f"250 2.0.0 <{rcpt}> stored in the sink" for rcpt in envelope.rcpt_tos)


class Sink(common.LoopbackServer):
    description = "the LMTP sink"
    thread_name = "lmtp-sink"

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.handler = SinkHandler()

    async def serve(self) -> asyncio.Server:
        return await self.loop.create_server(
            lambda: LMTP(self.handler, hostname="sink.postfix-conformance.test"), "127.0.0.1", self.port
        )

    def wait(self, predicate: Callable[[SinkTransaction], bool], timeout: float = WAIT) -> SinkTransaction | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() <= deadline:
            for transaction in list(self.handler.transactions):
                if predicate(transaction):
                    return transaction
            time.sleep(POLL)
        return None


# --- an event source reader ---------------------------------------------------------------------------------------
@dataclass
class SseEvent:
    kind: str
    id: str | None
    data: dict[str, Any]
    at: float


def read_events(
    http: httpx.Client, url: str, headers: dict[str, str], opened: threading.Event, out: list[SseEvent | Exception]
) -> None:
    """Read ``url`` as an event stream until the server closes it, appending the events (or the error) to ``out``;
    sets ``opened`` once the response headers have arrived."""
    try:
        with http.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=WAIT + 5)) as response:
            if response.status_code != 200:
                response.read()
                out.append(CheckFailure(f"GET {url} -> {response.status_code} {response.text}"))
                return
            opened.set()
            kind, event_id, data = "message", None, ""
            for line in response.iter_lines():
                if line == "":
                    if data:
                        out.append(SseEvent(kind, event_id, json.loads(data), time.monotonic()))
                    kind, event_id, data = "message", None, ""
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
    except Exception as exc:
        out.append(exc)
    finally:
        opened.set()


# --- the checks -----------------------------------------------------------------------------------------------------
@dataclass
class Runner(common.Runner):
    diagnostics: Callable[[], str] = lambda: ""

    def check(self, name: str, function: Callable[[], str], needs: Sequence[str] = ()) -> None:
        if self.not_run(name, needs):
            return
        started = time.monotonic()
        try:
            detail = function()
        except Exception as exc:
            self.fail(name, exc, 3000)
            if not isinstance(exc, CheckFailure):
                traceback.print_exc(file=sys.stdout)
            extra = self.diagnostics()
            if extra:
                print(extra, flush=True)
            return
        self.ok(name, detail, f" ({time.monotonic() - started:.2f}s)")


class Drive:
    def __init__(
        self,
        postfix: Postfix,
        sink: Sink,
        users: dict[str, Jmap],
        server_log: Path,
        verify_port: int,
        examples: Path,
    ) -> None:
        self.postfix = postfix
        self.sink = sink
        self.alice = users["alice"]
        self.bob = users["bob"]
        self.dave = users["dave"]
        self.server_log = server_log
        self.verify_port = verify_port
        self.examples = examples
        self.queue_ids: list[str] = []
        """Queue ids of the current check, whose Postfix log lines a failure shows."""

    # Diagnostics printed after a failed check: Postfix's lines for its messages, the gateway log's tail.
    def diagnostics(self) -> str:
        out = []
        for queue_id in self.queue_ids:
            lines = self.postfix.lines(queue_id)
            out.append(f"     postfix.log for {queue_id}:")
            out.extend(f"       {line}" for line in lines[-12:] or ["(nothing logged)"])
        try:
            lines = self.server_log.read_text(encoding="utf-8", errors="replace").splitlines()
            # uvicorn's access lines ("INFO:     127.0.0.1:PORT - "POST /jmap/api/ ...") are the JMAP polling
            tail = [line for line in lines if not re.match(r'INFO: +[\d.]+:\d+ - "', line)][-15:]
        except FileNotFoundError:
            tail = ["(no server log)"]
        out.append("     server.log, last lines (without HTTP access lines):")
        out.extend(f"       {line}" for line in tail)
        return "\n".join(out)

    def send(self, name: str, sender: str, recipients: Sequence[str], subject: str, body: str) -> Accepted:
        """The message make_message(name, ...) into Postfix, from and to the addresses of its From and To headers;
        its queue id goes to the check's diagnostics."""
        message = make_message(name, sender, recipients, subject, body)
        sent = self.postfix.send(parseaddr(sender)[1], [parseaddr(rcpt)[1] for rcpt in recipients], message)
        self.queue_ids.append(sent.queue_id)
        return sent

    def expect_sent(self, queue_id: str, recipients: Sequence[str]) -> list[re.Match[str]]:
        """Postfix's delivery lines for ``queue_id``: every recipient status=sent (over LMTP)."""
        found = self.postfix.wait_deliveries(queue_id, len(recipients))
        sent = {match["to"].lower(): match for match in found if match["status"] == "sent"}
        missing = [rcpt for rcpt in recipients if rcpt.lower() not in sent]
        check(
            not missing,
            f"Postfix did not deliver {queue_id} to {missing} within {WAIT:.0f}s; it logged: "
            + ("; ".join(f"to=<{m['to']}> status={m['status']} ({m['reply']})" for m in found) or "no delivery"),
        )
        return [sent[rcpt.lower()] for rcpt in recipients]

    # 01 ---------------------------------------------------------------------------------------------------------------
    def postfix_sink(self) -> str:
        """Postfix alone: two recipients in one LMTP transaction to the sink, one refused and bounced."""
        rcpts = ["one@sink.example", "two@sink.example", "unknown@sink.example"]
        sent = self.send("sink", "Drive <postmaster@sink.example>", rcpts, "Sink test", "Postfix to a sink.\n")
        got = self.sink.wait(lambda t: message_id("sink").encode() in t.content)
        check(got is not None, f"the LMTP sink got nothing within {WAIT:.0f}s")
        assert got is not None
        check(got.rcpt_tos == rcpts[:2], f"the sink's transaction had recipients {got.rcpt_tos}, not {rcpts[:2]}")
        check(got.mail_from == "postmaster@sink.example", f"MAIL FROM:<{got.mail_from}>")
        check(b"Received: from" in got.content, "Postfix added no Received header")
        found = self.postfix.wait_deliveries(sent.queue_id, 3)
        status = {match["to"]: match for match in found}
        check(
            all(status.get(rcpt) and status[rcpt]["status"] == "sent" for rcpt in rcpts[:2]),
            f"Postfix logged {[(m['to'], m['status']) for m in found]}",
        )
        refused = status.get(rcpts[2])
        check(
            refused is not None and refused["status"] == "bounced" and "550 5.1.1" in refused["reply"],
            f"unknown@sink.example: {refused and refused.group(0)}",
        )
        assert refused is not None
        bounce = self.sink.wait(lambda t: t.mail_from in ("", "<>") and sent.queue_id.encode() in t.content)
        check(bounce is not None, "no bounce (MAIL FROM:<>) for the refused recipient reached the sink")
        assert bounce is not None
        pids = {match["pid"] for match in found if match["to"] in rcpts[:2]}
        return (
            f"queued {sent.queue_id}; one LMTP transaction to the sink for {got.rcpt_tos} after "
            f"{got.at - sent.at:.3f}s (lmtp pid {','.join(sorted(pids))}), replies "
            f"{[status[rcpt]['reply'] for rcpt in rcpts[:2]]}; unknown@ bounced ({refused['reply']}) and the "
            f"bounce reached postmaster@sink.example"
        )

    # 02 ---------------------------------------------------------------------------------------------------------------
    def accounts(self) -> str:
        for user in (self.alice, self.bob, self.dave):
            user.connect()
        return (
            f"alice account {self.alice.account_id}, bob {self.bob.account_id}, dave {self.dave.account_id}; "
            "inbox/drafts/sent found"
        )

    # 03 ---------------------------------------------------------------------------------------------------------------
    def delivery(self) -> str:
        sent = self.send(
            "latency", "Carol <carol@example.net>", ["Alice <alice@example.org>"], "Hello Alice", "Over LMTP.\n"
        )
        email, seen = self.alice.wait_message_id(message_id("latency"))
        latency = seen - sent.at
        [delivery] = self.expect_sent(sent.queue_id, ["alice@example.org"])
        check(
            latency <= LATENCY_LIMIT,
            f"visible through JMAP {latency:.3f}s after Postfix accepted it (limit {LATENCY_LIMIT}s)",
        )
        return_path = header_values(email, "Return-Path")
        delivered_to = header_values(email, "Delivered-To")
        check(return_path == ["<carol@example.net>"], f"Return-Path {return_path}, expected <carol@example.net>")
        check(
            any("alice@example.org" in value.lower() for value in delivered_to),
            f"Delivered-To headers {delivered_to}, expected alice@example.org",
        )
        check(self.alice.roles["inbox"] in (email.get("mailboxIds") or {}), f"mailboxIds {email.get('mailboxIds')}")
        return (
            f"queued {sent.queue_id}, LMTP reply ({delivery['reply']}), in alice's inbox {latency * 1000:.0f} ms "
            f"after Postfix accepted it; Return-Path {return_path[0]}, Delivered-To {delivered_to[0]}"
        )

    # 04 ---------------------------------------------------------------------------------------------------------------
    def alias(self) -> str:
        sent = self.send("alias", "Carol <carol@example.net>", ["Robert <robert@example.org>"], "Hi Robert", "Hi.\n")
        email, seen = self.bob.wait_message_id(message_id("alias"))
        [delivery] = self.expect_sent(sent.queue_id, ["robert@example.org"])
        delivered_to = header_values(email, "Delivered-To")
        return (
            f"robert@example.org -> bob's inbox {(seen - sent.at) * 1000:.0f} ms after acceptance "
            f"(LMTP reply: {delivery['reply']}; Delivered-To {delivered_to})"
        )

    # 05 ---------------------------------------------------------------------------------------------------------------
    def catch_all(self) -> str:
        """``--alias @catchall.example``: any address of the domain that no account owns reaches dave; an address
        another account owns would still win (there is none here)."""
        rcpt = f"whoever-{RUN}@catchall.example"
        sent = self.send("catchall", "Carol <carol@example.net>", [rcpt], "To anyone there", "Catch me.\n")
        email, seen = self.dave.wait_message_id(message_id("catchall"))
        [delivery] = self.expect_sent(sent.queue_id, [rcpt])
        delivered_to = header_values(email, "Delivered-To")
        check(
            any(rcpt in value.lower() for value in delivered_to),
            f"Delivered-To {delivered_to}, expected the address it was sent to, {rcpt}",
        )
        return (
            f"{rcpt} -> dave's inbox (catch-all) {(seen - sent.at) * 1000:.0f} ms after acceptance "
            f"(LMTP reply: {delivery['reply']}; Delivered-To {delivered_to[0]})"
        )

    # 06 ---------------------------------------------------------------------------------------------------------------
    def two_recipients(self) -> str:
        rcpts = ["alice@example.org", "bob@example.org"]
        sent = self.send("both", "Carol <carol@example.net>", rcpts, "For both of you", "One message, two boxes.\n")
        self.alice.wait_message_id(message_id("both"))
        self.bob.wait_message_id(message_id("both"))
        deliveries = self.expect_sent(sent.queue_id, rcpts)
        pids = {match["pid"] for match in deliveries}
        relays = {match["relay"] for match in deliveries}
        check(
            len(pids) == 1 and len(relays) == 1,
            f"the two recipients went through lmtp processes {pids} / relays {relays}, not one delivery",
        )
        return (
            f"queued {sent.queue_id}; one lmtp delivery (pid {pids.pop()}, {relays.pop()}) with per-recipient "
            f"replies {[match['reply'] for match in deliveries]}; in both inboxes"
        )

    # 07 ---------------------------------------------------------------------------------------------------------------
    def bounce(self) -> str:
        sent = self.send("nobody", "Alice <alice@example.org>", ["nobody@example.org"], "Anyone there?", "Hello?\n")
        found = self.postfix.wait_deliveries(sent.queue_id, 1)
        check(found, f"Postfix logged no delivery attempt for {sent.queue_id} within {WAIT:.0f}s")
        attempt = found[-1]
        check(
            attempt["status"] == "bounced" and "550" in attempt["reply"] and "5.1.1" in attempt["reply"],
            f"nobody@example.org: status={attempt['status']} ({attempt['reply']}); expected bounced after 550 5.1.1",
        )
        notification = self.postfix.wait_line(rf": {sent.queue_id}: sender non-delivery notification: (\w+)")
        check(notification is not None, f"Postfix logged no non-delivery notification for {sent.queue_id}")
        assert notification is not None
        bounce_id = notification.group(1)
        self.queue_ids.append(bounce_id)
        header = self.postfix.wait_line(rf": {bounce_id}: message-id=<([^>]+)>")
        check(header is not None, f"no message-id logged for the bounce {bounce_id}")
        assert header is not None
        email, _ = self.alice.wait_message_id(header.group(1))
        self.expect_sent(bounce_id, ["alice@example.org"])
        senders = addresses(email, "from")
        check(any(s.startswith("mailer-daemon@") for s in senders), f"the bounce is from {senders}")
        return_path = header_values(email, "Return-Path")
        check(return_path == ["<>"], f"the bounce's Return-Path headers are {return_path}, expected <> (null sender)")
        return (
            f"nobody@example.org refused ({attempt['reply']}); Postfix bounced {sent.queue_id} as {bounce_id}, "
            f"which reached alice's inbox from {senders[0]} with Return-Path <>"
        )

    # 08 ---------------------------------------------------------------------------------------------------------------
    def push(self) -> str:
        url = "/jmap/eventsource/?types=Email&closeafter=state&ping=0"
        baseline: list[SseEvent | Exception] = []
        read_events(self.alice.http, url, {"Accept": "text/event-stream"}, threading.Event(), baseline)
        first = baseline[0] if baseline else None
        check(isinstance(first, SseEvent), f"the first connection gave {baseline}, not a baseline state event")
        assert isinstance(first, SseEvent)
        check(first.kind == "state" and first.id, f"baseline event {first}")
        assert first.id is not None
        events: list[SseEvent | Exception] = []
        opened = threading.Event()
        headers = {"Accept": "text/event-stream", "Last-Event-ID": first.id}
        reader = threading.Thread(
            target=read_events, args=(self.alice.http, url, headers, opened, events), name="eventsource", daemon=True
        )
        reader.start()
        check(opened.wait(WAIT), f"the event source did not answer within {WAIT:.0f}s")
        check(not events or isinstance(events[0], SseEvent), f"the event source failed: {events}")
        sent = self.send("push", "Dave <dave@example.net>", ["alice@example.org"], "Push", "Ring ring.\n")
        reader.join(WAIT)
        state_events = [event for event in events if isinstance(event, SseEvent) and event.kind == "state"]
        errors = [event for event in events if isinstance(event, Exception)]
        check(
            state_events,
            f"no state event within {WAIT:.0f}s of Postfix accepting {sent.queue_id}"
            + (f"; the stream failed: {errors}" if errors else ""),
        )
        event = state_events[0]
        changed = event.data.get("changed", {}).get(self.alice.account_id, {})
        check("Email" in changed, f"the StateChange names {event.data}, not alice's Email")
        self.alice.wait_message_id(message_id("push"))
        return (
            f"StateChange {{Email: {changed['Email']}}} {(event.at - sent.at) * 1000:.0f} ms after Postfix accepted "
            f"{sent.queue_id} (stream resumed from id {first.id}, closed after the state)"
        )

    # 09 ---------------------------------------------------------------------------------------------------------------
    def submission(self) -> str:
        identities = self.alice.call("Identity/get", {"ids": None})["list"]
        mine = [identity for identity in identities if str(identity.get("email", "")).lower() == "alice@example.org"]
        check(mine, f"no identity for alice@example.org in {identities}")
        identity = mine[0]
        drafts, sent_box = self.alice.roles["drafts"], self.alice.roles["sent"]
        subject = f"Submitted through JMAP [{RUN}]"
        draft = {
            "mailboxIds": {drafts: True},
            "keywords": {"$draft": True, "$seen": True},
            "from": [{"name": "Alice Example", "email": "alice@example.org"}],
            "to": [{"name": "Bob Example", "email": "bob@example.org"}],
            "subject": subject,
            "bodyValues": {"body": {"value": "Sent by EmailSubmission, through Postfix and back over LMTP.\n"}},
            "textBody": [{"partId": "body", "type": "text/plain"}],
        }
        submission = {"identityId": identity["id"], "emailId": "#draft"}
        on_success = {"#send": {f"mailboxIds/{drafts}": None, f"mailboxIds/{sent_box}": True, "keywords/$draft": None}}
        account = self.alice.account_id
        responses = self.alice.api(
            [
                ["Email/set", {"accountId": account, "create": {"draft": draft}}, "e"],
                [
                    "EmailSubmission/set",
                    {"accountId": account, "create": {"send": submission}, "onSuccessUpdateEmail": on_success},
                    "s",
                ],
            ]
        )
        submitted = time.monotonic()
        names = [answer for answer, _, _ in responses]
        by_name: dict[str, dict[str, Any]] = {}
        for answer, result, _ in responses:
            by_name.setdefault(answer, result)  # the first Email/set is the draft's, the second the implicit one
        check("error" not in names, f"answered {responses}")
        created = (by_name["Email/set"].get("created") or {}).get("draft")
        check(created, f"Email/set did not create the draft: {by_name['Email/set']}")
        assert created is not None
        email_id = str(created["id"])
        result = by_name.get("EmailSubmission/set", {})
        sub = (result.get("created") or {}).get("send")
        check(sub, f"EmailSubmission/set created nothing: notCreated {result.get('notCreated')}")
        assert sub is not None
        check(names.count("Email/set") == 2, f"no implicit Email/set for onSuccessUpdateEmail: {names}")
        implicit = [res for answer, res, _ in responses if answer == "Email/set"][1]
        check(email_id in (implicit.get("updated") or {}), f"the implicit Email/set: {implicit}")
        got = self.alice.call("EmailSubmission/get", {"ids": [sub["id"]]})
        check(got.get("list"), f"EmailSubmission/get {sub['id']}: {got}")
        record = got["list"][0]
        status = (record.get("deliveryStatus") or {}).get("bob@example.org") or {}
        reply = str(status.get("smtpReply", ""))
        check(
            status.get("delivered") == "queued" and reply.startswith("250"),
            f"deliveryStatus {record.get('deliveryStatus')}; expected bob@example.org queued with a 250 reply",
        )
        check(record.get("undoStatus") == "final", f"undoStatus {record.get('undoStatus')!r}")
        properties = ["mailboxIds", "keywords", "messageId"]
        [moved] = self.alice.call("Email/get", {"ids": [email_id], "properties": properties})["list"]
        check(moved["mailboxIds"] == {sent_box: True}, f"the sent Email is in {moved['mailboxIds']}, not only Sent")
        check("$draft" not in (moved.get("keywords") or {}), f"keywords {moved.get('keywords')} still $draft")
        check(moved.get("messageId"), f"the sent Email has no Message-ID: {moved}")
        sent_id = str(moved["messageId"][0])
        queue_id = self.relayed_queue_id(sent_id)
        self.queue_ids.append(queue_id)
        [delivery] = self.expect_sent(queue_id, ["bob@example.org"])
        arrived, seen = self.bob.wait_message_id(sent_id)
        check(arrived.get("subject") == subject, f"bob got subject {arrived.get('subject')!r}")
        return_path = header_values(arrived, "Return-Path")
        check(return_path == ["<alice@example.org>"], f"Return-Path at bob {return_path}, expected <alice@example.org>")
        return (
            f"deliveryStatus bob@example.org: queued, smtpReply {reply!r}; Email moved Drafts -> Sent; the relay "
            f"smtpd queued it as {queue_id}, Postfix delivered it over LMTP ({delivery['reply']}) into bob's inbox "
            f"{(seen - submitted) * 1000:.0f} ms after EmailSubmission/set answered"
        )

    def relayed_queue_id(self, sent_message_id: str) -> str:
        """The queue id Postfix gave the message with ``sent_message_id``, which must have come in through the
        gateway's relay smtpd."""
        logged = self.postfix.wait_line(rf": (\w+): message-id=<{re.escape(sent_message_id)}>")
        check(logged is not None, f"Postfix logged no message <{sent_message_id}> within {WAIT:.0f}s")
        assert logged is not None
        queue_id = logged.group(1)
        smtpd = [line for line in self.postfix.lines(queue_id) if ": client=" in line]
        check(
            any("postfix/gateway-relay/smtpd" in line for line in smtpd),
            f"{queue_id} did not come through the relay smtpd: {smtpd}",
        )
        return queue_id

    # 10 ---------------------------------------------------------------------------------------------------------------
    def vacation(self) -> str:
        away = f"Away [{RUN}]"
        result = self.bob.call(
            "VacationResponse/set",
            {"update": {"singleton": {"isEnabled": True, "subject": away, "textBody": "I am away this week.\n"}}},
        )
        check("singleton" in (result.get("updated") or {}), f"VacationResponse/set: {result}")

        def is_reply(email: dict[str, Any]) -> bool:
            auto = " ".join(header_values(email, "Auto-Submitted")).lower()
            return "auto-replied" in auto and "bob@example.org" in addresses(email, "from")

        sent = self.send("away1", "Alice <alice@example.org>", ["Bob <bob@example.org>"], "Lunch?", "Lunch?\n")
        self.bob.wait_message_id(message_id("away1"))
        reply, seen = self.alice.wait_for(is_reply)
        check(reply is not None, f"no auto-reply from bob (Auto-Submitted: auto-replied) to alice within {WAIT}s")
        assert reply is not None
        latency = seen - sent.at
        self.send("away2", "Alice <alice@example.org>", ["Bob <bob@example.org>"], "Lunch??", "Hello?\n")
        self.bob.wait_message_id(message_id("away2"))
        time.sleep(QUIET)
        replies = [email for email in self.alice.emails() if is_reply(email)]
        check(
            len(replies) == 1,
            f"alice received {len(replies)} auto-replies from bob after two messages: "
            f"{[(e.get('subject'), e.get('receivedAt')) for e in replies]}",
        )
        reply_ids = reply.get("messageId") or []
        relayed = self.relayed_queue_id(str(reply_ids[0])) if reply_ids else "(no Message-ID)"
        return (
            f"one auto-reply {reply.get('subject')!r}, relayed through Postfix as {relayed} "
            f"(Auto-Submitted: {header_values(reply, 'Auto-Submitted')[0]}, "
            f"Return-Path {header_values(reply, 'Return-Path')}) {latency * 1000:.0f} ms after the first message; "
            f"none for the second within {QUIET:.0f}s"
        )

    # 11 ---------------------------------------------------------------------------------------------------------------
    def verification(self) -> str:
        """reject_unverified_recipient (examples/postfix/main.cf): Postfix probes the gateway over LMTP (RCPT, no
        DATA) and refuses an unknown recipient during the SMTP session instead of bouncing it afterwards."""
        before = len(self.alice.emails()) + len(self.bob.emails())
        answers = {}
        with smtplib.SMTP("127.0.0.1", self.verify_port, timeout=WAIT + 10) as smtp:
            smtp.ehlo("drive.postfix-conformance.test")
            code, reply = smtp.mail("carol@example.net")
            check(code == 250, f"MAIL FROM: {code} {reply.decode(errors='replace')}")
            for rcpt in ("alice@example.org", "robert@example.org", "nobody@example.org"):
                started = time.monotonic()
                code, reply = smtp.rcpt(rcpt)
                answers[rcpt] = (code, reply.decode(errors="replace"), time.monotonic() - started)
            smtp.rset()
        for rcpt in ("alice@example.org", "robert@example.org"):
            code, text, _ = answers[rcpt]
            check(code == 250, f"RCPT TO:<{rcpt}> answered {code} {text}, expected 250 (the gateway knows it)")
        code, text, _ = answers["nobody@example.org"]
        check(
            code == 550 and "nobody@example.org" in text,
            f"RCPT TO:<nobody@example.org> answered {code} {text}, expected 550 from the failed verification",
        )
        probe = self.postfix.wait_line(r"to=<nobody@example\.org>.*status=undeliverable \((.*)\)$")
        check(probe is not None, "Postfix logged no undeliverable verification probe for nobody@example.org")
        assert probe is not None
        after = len(self.alice.emails()) + len(self.bob.emails())
        check(after == before, f"the probes delivered mail: {before} Emails in the inboxes before, {after} after")
        return (
            f"RCPT alice@, robert@ -> 250; nobody@ -> {code} {text} after {answers['nobody@example.org'][2]:.2f}s "
            f"(probe: {probe.group(1)}); no message stored by the probes"
        )

    # 12 ---------------------------------------------------------------------------------------------------------------
    def example_fragments(self) -> str:
        """examples/postfix/main.cf and master.cf, added to Debian's stock files as an administrator would, parse
        without a single warning from postconf and give the settings the README names."""
        postconf = shutil.which("postconf") or "/usr/sbin/postconf"
        stock_main = Path("/usr/share/postfix/main.cf.debian")
        stock_master = Path("/etc/postfix/master.cf.proto")
        with tempfile.TemporaryDirectory(prefix="postfix-examples.") as tmp:
            conf = Path(tmp)
            for name, stock in (("main.cf", stock_main), ("master.cf", stock_master)):
                base = stock.read_text(encoding="utf-8") if stock.exists() else ""
                fragment = (self.examples / name).read_text(encoding="utf-8")
                (conf / name).write_text(base + "\n" + fragment, encoding="utf-8")
            outputs = {}
            for option in ("-n", "-M"):
                done = subprocess.run([postconf, "-c", tmp, option], capture_output=True, text=True, timeout=30)
                check(
                    done.returncode == 0 and not done.stderr.strip(),
                    f"postconf {option} on the examples: status {done.returncode}, {done.stderr.strip()}",
                )
                outputs[option] = done.stdout
            wanted = ["virtual_mailbox_domains", "virtual_transport", "smtpd_recipient_restrictions"]
            done = subprocess.run([postconf, "-c", tmp, "-h", *wanted], capture_output=True, text=True, timeout=30)
            values = done.stdout.splitlines()
        check(values[:2] == ["example.org", "lmtp:inet:127.0.0.1:2424"], f"{wanted[:2]} = {values[:2]}")
        check(len(values) > 2 and "reject_unverified_recipient" in values[2], f"{wanted[2]} = {values[2:]}")
        services = [line.split()[0] for line in outputs["-M"].splitlines() if line.strip()]
        check("127.0.0.1:10025" in services, f"no 127.0.0.1:10025 service in master.cf: {services}")
        sources = ", ".join(str(path) for path in (stock_main, stock_master) if path.exists()) or "empty files"
        return f"added to {sources}: postconf -n and -M without warnings; {wanted[1]} = {values[1]}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the gateway's base URL, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--password", required=True, help="alice's and bob's password")
    parser.add_argument("--smtp-port", required=True, type=int, help="Postfix's inbound smtpd on 127.0.0.1")
    parser.add_argument("--submission-port", required=True, type=int, help="the smtpd the gateway relays through")
    parser.add_argument("--verify-port", required=True, type=int, help="an smtpd with reject_unverified_recipient")
    parser.add_argument("--examples", required=True, type=Path, help="examples/postfix of the repository")
    parser.add_argument("--sink-port", required=True, type=int, help="where to run the LMTP sink for sink.example")
    parser.add_argument("--postfix-log", required=True, type=Path)
    parser.add_argument("--server-log", required=True, type=Path)
    parser.add_argument("--results", required=True, type=Path)
    args = parser.parse_args()

    logging.basicConfig(level=logging.WARNING, format="     note: %(name)s logged %(levelname)s: %(message)s")
    args.results.mkdir(parents=True, exist_ok=True)
    http_log = args.results / "http.log"
    http_log.write_text(f"JMAP exchanges with {args.url} (run {RUN})\n", encoding="utf-8")

    postfix = Postfix(args.smtp_port, args.postfix_log)
    sink = Sink(args.sink_port)
    sink.start()
    clients = {
        name: httpx.Client(base_url=args.url, auth=(name, args.password), timeout=10)
        for name in ("alice", "bob", "dave")
    }
    drive = Drive(
        postfix,
        sink,
        {name: Jmap(name, client, http_log) for name, client in clients.items()},
        args.server_log,
        args.verify_port,
        args.examples,
    )
    runner = Runner(diagnostics=drive.diagnostics)
    accounts = ("02-jmap-accounts",)
    checks: list[tuple[str, Callable[[], str], tuple[str, ...]]] = [
        ("01-postfix-lmtp-sink", drive.postfix_sink, ()),
        ("02-jmap-accounts", drive.accounts, ()),
        ("03-delivery-latency", drive.delivery, accounts),
        ("04-alias-delivery", drive.alias, accounts),
        ("06-two-recipients", drive.two_recipients, accounts),
        ("05-catch-all", drive.catch_all, accounts),
        ("07-unknown-recipient-bounce", drive.bounce, accounts),
        ("08-push-eventsource", drive.push, accounts),
        ("09-email-submission", drive.submission, accounts),
        ("10-vacation-response", drive.vacation, accounts),
        ("11-recipient-verification", drive.verification, accounts),
        ("12-example-fragments", drive.example_fragments, ()),
    ]
    for name, function, needs in checks:
        drive.queue_ids = []
        runner.check(name, function, needs)
    for client in clients.values():
        client.close()
    return runner.summary()


if __name__ == "__main__":
    sys.exit(main())
