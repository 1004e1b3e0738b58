"""LMTP delivery (RFC 2033) against a live server: real LMTP in, results read back through JMAP."""

from __future__ import annotations

import itertools
import smtplib
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest

from tests.http.jmap_support import Jmap, connect, event_stream, message
from tests.testing import LiveServer, SmtpSink, free_port, gateway, live_server, smtp_sink

MAX_MESSAGE_BYTES = 200_000
TIMEOUT = 30.0
SENDER = "bob@sender.example"

_names = itertools.count()


@pytest.fixture(scope="module")
def lmtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int, SmtpSink]]:
    """A server with LMTP on ``port``, relaying what it sends (vacation replies) to ``sink``."""
    port = free_port()
    with smtp_sink() as sink:
        env = {
            "GATEWAY_LMTP_LISTEN": f"127.0.0.1:{port}",
            "GATEWAY_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
            "GATEWAY_SMTP_RELAY": sink.address,
            "GATEWAY_SMTP_TLS": "off",
        }
        with live_server(tmp_path_factory.mktemp("lmtp"), {}, extra_env=env) as server:
            yield server, port, sink


@pytest.fixture
def server(lmtp_server: tuple[LiveServer, int, SmtpSink]) -> LiveServer:
    return lmtp_server[0]


@pytest.fixture
def port(lmtp_server: tuple[LiveServer, int, SmtpSink]) -> int:
    return lmtp_server[1]


@pytest.fixture
def sink(lmtp_server: tuple[LiveServer, int, SmtpSink]) -> SmtpSink:
    return lmtp_server[2]


def add_user(server: LiveServer, *flags: str) -> tuple[str, str]:
    """A fresh account with the address ``<name>@example.org`` plus ``flags``: its name and address."""
    name = f"rcpt{next(_names)}"
    added = gateway(server.data_dir, "user", "add", name, "--email", f"{name}@example.org", *flags, stdin="pw\n")
    assert added.returncode == 0, added.stderr
    server.passwords[name] = "pw"
    return name, f"{name}@example.org"


class Session:
    """A raw LMTP connection: send lines as they are (pipelined if several), read whole replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.reader = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(line + "\r\n" for line in lines).encode())

    def reply(self) -> str:
        """One reply; a multi-line reply comes back joined by newlines."""
        lines = []
        while True:
            line = self.reader.readline().decode().rstrip("\r\n")
            assert line, "connection closed"
            lines.append(line)
            if line[3:4] != "-":
                return "\n".join(lines)

    def replies(self, count: int) -> list[str]:
        return [self.reply() for _ in range(count)]

    def command(self, line: str) -> str:
        self.send(line)
        return self.reply()

    def data(self, raw: bytes, replies: int) -> list[str]:
        """Send the message (dot-stuffed) after a 354; the ``replies`` that follow its end."""
        stuffed = b"".join(b"." + line if line.startswith(b".") else line for line in raw.splitlines(keepends=True))
        self.sock.sendall(stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        return self.replies(replies)

    def transaction(self, raw: bytes, *recipients: str, sender: str = SENDER) -> tuple[list[str], list[str]]:
        """MAIL, RCPT for each recipient and DATA pipelined in one write: the replies to those commands, then the
        replies after the message (none when DATA was refused)."""
        self.send(f"MAIL FROM:<{sender}>", *(f"RCPT TO:<{rcpt}>" for rcpt in recipients), "DATA")
        answers = self.replies(len(recipients) + 2)
        if not answers[-1].startswith("354"):
            return answers, []
        accepted = sum(answer.startswith("250") for answer in answers[1:-1])
        return answers, self.data(raw, accepted)


@contextmanager
def lmtp(port: int) -> Iterator[Session]:
    session = Session(port)
    try:
        assert session.command("LHLO client.example").startswith("250-")
        yield session
    finally:
        session.sock.close()
        session.reader.close()


def lines(size: int) -> str:
    """About ``size`` bytes of text in lines of 72."""
    return ("x" * 70 + "\r\n") * (size // 72 + 1)


def inbox(jmap: Jmap, *properties: str) -> list[dict[str, Any]]:
    """The messages in the inbox, newest first."""
    ids = jmap.call("Email/query", {"filter": {"inMailbox": jmap.mailbox("inbox")}})["ids"]
    return list(jmap.call("Email/get", {"ids": ids, "properties": ["subject", *properties]})["list"])


def subjects(jmap: Jmap) -> list[str]:
    return [email["subject"] for email in inbox(jmap)]


def download(jmap: Jmap, blob_id: str) -> bytes:
    url = (
        jmap.session["downloadUrl"]
        .replace("{accountId}", jmap.account_id)
        .replace("{blobId}", blob_id)
        .replace("{name}", "message.eml")
        .replace("{type}", "message/rfc822")
    )
    response = jmap.http.get(url)
    assert response.status_code == 200, response.text
    return response.content


# --- the conversation ------------------------------------------------------------------------------------------------


def test_lhlo_advertises_the_lmtp_extensions(port: int) -> None:
    with closing(smtplib.LMTP("127.0.0.1", port, timeout=TIMEOUT)) as client:
        code, _ = client.ehlo("client.example")  # smtplib.LMTP sends LHLO
        assert code == 250
        assert client.esmtp_features["size"] == str(MAX_MESSAGE_BYTES)
        assert {"8bitmime", "pipelining", "enhancedstatuscodes"} <= set(client.esmtp_features)
        assert client.docmd("HELO", "client.example")[0] == 500  # RFC 2033 §4.1: LHLO only
        assert client.docmd("EHLO", "client.example")[0] == 500
        assert client.quit()[0] == 221


def test_rset_noop_quit_and_enhanced_codes(server: LiveServer, port: int) -> None:
    _, address = add_user(server)
    with lmtp(port) as session:
        assert session.greeting.startswith("220 ")  # RFC 2034: the greeting carries no enhanced code
        assert session.command("NOOP") == "250 2.0.0 OK"
        assert session.command(f"MAIL FROM:<{SENDER}>") == "250 2.1.0 Sender OK"
        assert session.command(f"RCPT TO:<{address}>") == "250 2.1.5 Recipient OK"
        assert session.command("RSET") == "250 2.0.0 OK"
        assert session.command("DATA").startswith("503 5.5.1 ")  # RSET forgot the recipient
        assert session.command(f"RCPT TO:<{address}>").startswith("503 5.5.1 ")  # and the sender
        assert session.command("MAIL FROM:<a\x01b@sender.example>").startswith("553 5.1.3 ")
        assert session.command(f"MAIL FROM:<{SENDER}> SIZE={MAX_MESSAGE_BYTES + 1}").startswith("552 5.3.4 ")
        assert session.command("FROB").startswith("500 5.5.2 ")
        assert session.command("QUIT") == "221 2.0.0 Bye"


def test_delivery_files_the_message_in_the_inbox_with_trace_headers(server: LiveServer, port: int) -> None:
    name, address = add_user(server)
    raw = message("Trace me", body="Line one.\r\n.Line starting with a dot.")
    with closing(smtplib.LMTP("127.0.0.1", port, timeout=TIMEOUT)) as client:
        assert client.sendmail(SENDER, [address], raw) == {}
    jmap = connect(server, name)
    [email] = inbox(jmap, "blobId", "keywords", "header:Return-Path", "header:Delivered-To:asText")
    assert email["subject"] == "Trace me" and email["keywords"] == {}
    assert email["header:Return-Path"] == f" <{SENDER}>"  # raw: RFC 8621 parses Return-Path no other way
    assert email["header:Delivered-To:asText"] == address
    stored = download(jmap, email["blobId"])
    assert stored == f"Return-Path: <{SENDER}>\r\nDelivered-To: {address}\r\n".encode() + raw


def test_an_alias_and_a_catch_all_reach_their_accounts(server: LiveServer, port: int) -> None:
    alias = f"alias-{next(_names)}@example.org"
    name, _ = add_user(server, "--alias", alias)
    domain = f"d{next(_names)}.example"
    catcher, own = add_user(server, "--alias", f"@{domain}")
    refused = gateway(server.data_dir, "user", "add", "nope", "--email", f"@{domain}", stdin="pw\n")
    assert refused.returncode == 2  # a catch-all is an alias, never the primary address
    with lmtp(port) as session:
        assert session.transaction(message("To the alias"), alias)[1] == ["250 2.0.0 Delivered"]
        assert session.transaction(message("Caught"), f"anyone@{domain}", sender="")[1] == ["250 2.0.0 Delivered"]
        assert session.transaction(message("Own"), own)[1] == ["250 2.0.0 Delivered"]
        answers, _ = session.transaction(message("Sub"), f"anyone@sub.{domain}")
        assert answers[1].startswith("550 5.1.1 ")
    [email] = inbox(connect(server, name), "header:Delivered-To:asText")
    assert email["header:Delivered-To:asText"] == alias
    caught = inbox(connect(server, catcher), "header:Delivered-To:asText", "header:Return-Path")
    assert [(e["subject"], e["header:Delivered-To:asText"]) for e in caught] == [
        ("Own", own),
        ("Caught", f"anyone@{domain}"),
    ]
    assert caught[1]["header:Return-Path"] == " <>"  # a bounce keeps its null sender


def test_unknown_recipient_is_refused_at_rcpt_and_data_needs_one(server: LiveServer, port: int) -> None:
    with closing(smtplib.LMTP("127.0.0.1", port, timeout=TIMEOUT)) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail(SENDER, ["nobody@example.org"], message())
        code, text = refused.value.recipients["nobody@example.org"]
        assert code == 550 and text.startswith(b"5.1.1 ")
    with lmtp(port) as session:
        answers, after = session.transaction(message(), "nobody@example.org")
        assert answers[2].startswith("503 5.5.1 ") and after == []  # RFC 2033 §4.2: no recipient, no DATA


def test_mixed_recipients_each_get_their_reply_in_order(server: LiveServer, port: int) -> None:
    first, first_address = add_user(server)
    second, second_address = add_user(server)
    with lmtp(port) as session:
        answers, after = session.transaction(
            message("Mixed"), first_address, "nobody@example.org", second_address, "ghost@example.org"
        )
    assert [answer[:9] for answer in answers] == [
        "250 2.1.0",
        "250 2.1.5",
        "550 5.1.1",
        "250 2.1.5",
        "550 5.1.1",
        "354 End d",
    ]
    assert after == ["250 2.0.0 Delivered", "250 2.0.0 Delivered"]
    assert subjects(connect(server, first)) == ["Mixed"] == subjects(connect(server, second))


def test_the_same_recipient_twice_gets_one_copy_and_two_replies(server: LiveServer, port: int) -> None:
    alias = f"twice-{next(_names)}@example.org"
    name, address = add_user(server, "--alias", alias)
    with lmtp(port) as session:
        _, after = session.transaction(message("Once"), address, address.upper(), alias)
    assert after == ["250 2.0.0 Delivered"] * 3
    [email] = inbox(connect(server, name), "header:Delivered-To:asText")  # one copy per account
    assert email["header:Delivered-To:asText"] == address


def test_pipelined_transactions(server: LiveServer, port: int) -> None:
    name, address = add_user(server)
    with lmtp(port) as session:
        session.send("RSET", "NOOP", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{address}>", "DATA")
        assert [answer[:3] for answer in session.replies(5)] == ["250", "250", "250", "250", "354"]
        assert session.data(message("First"), 1) == ["250 2.0.0 Delivered"]
        assert session.transaction(message("Second"), address)[1] == ["250 2.0.0 Delivered"]
        session.send(f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{address}>", "RSET", "NOOP", "QUIT")
        assert [answer[:3] for answer in session.replies(5)] == ["250", "250", "250", "250", "221"]
    assert subjects(connect(server, name)) == ["Second", "First"]


def test_broken_mime_is_still_delivered(server: LiveServer, port: int) -> None:
    name, address = add_user(server)
    broken = (
        b"Subject: Broken\r\nFrom: =?utf-8?B?not base64?= <bob@sender.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\nX-Raw: caf\xc3\xa9 \xff\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=unknown-8bit\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!! not base64 !!!\r\n--never-closed\r\n"
        b"Content-Type: message/rfc822\r\n\r\nno headers here\r\n"
    )
    headerless = b"just a line of text, no header at all\r\n"
    with lmtp(port) as session:
        assert session.transaction(broken, address)[1] == ["250 2.0.0 Delivered"]
        assert session.transaction(headerless, address)[1] == ["250 2.0.0 Delivered"]
    assert len(subjects(connect(server, name))) == 2


# --- limits --------------------------------------------------------------------------------------------------------


def test_oversize_gets_one_reply_per_recipient_and_the_session_goes_on(server: LiveServer, port: int) -> None:
    names, addresses = zip(*(add_user(server) for _ in range(3)), strict=True)
    big = message("Big", body=lines(MAX_MESSAGE_BYTES + 1000))
    long_line = message("Long", body="y" * 5000)
    with lmtp(port) as session:
        assert session.transaction(big, *addresses)[1] == ["552 5.3.4 Error: Too much mail data"] * 3
        assert session.command("NOOP") == "250 2.0.0 OK"  # every reply was read: the session is in step
        assert [answer[:9] for answer in session.transaction(long_line, *addresses)[1]] == ["500 5.5.2"] * 3
        assert session.transaction(message("Small"), *addresses)[1] == ["250 2.0.0 Delivered"] * 3
    for name in names:
        assert subjects(connect(server, name)) == ["Small"]


def test_quota(server: LiveServer, port: int) -> None:
    """RFC 3463 X.2.2: 452 4.2.2 when the message fits once space is freed, 552 5.2.2 when it never can."""
    name, address = add_user(server, "--quota", "3000")
    with lmtp(port) as session:
        assert session.transaction(message("Fits", body=lines(1500)), address)[1] == ["250 2.0.0 Delivered"]
        assert session.transaction(message("Full", body=lines(1500)), address)[1] == [
            "452 4.2.2 Mailbox full, try again later"
        ]
        assert session.transaction(message("Never", body=lines(4000)), address)[1] == [
            "552 5.2.2 Message larger than the mailbox quota"
        ]
        session.send(f"MAIL FROM:<{SENDER}> SIZE=4000", f"RCPT TO:<{address}>", "RSET")
        assert session.replies(3)[1].startswith("552 5.2.2 ")  # declared too big: refused before the data
    assert subjects(connect(server, name)) == ["Fits"]


# --- what clients see --------------------------------------------------------------------------------------------


def test_delivery_is_pushed_to_the_event_source(server: LiveServer, port: int) -> None:
    name, address = add_user(server)
    jmap = connect(server, name)
    with event_stream(server, name, types="Email,EmailDelivery", closeafter="state") as (_, events):
        [baseline] = list(events)
    started = time.monotonic()
    with event_stream(
        server, name, types="Email,EmailDelivery", closeafter="state", **{"Last-Event-ID": str(baseline.id)}
    ) as (_, events):
        with lmtp(port) as session:
            assert session.transaction(message("Pushed"), address)[1] == ["250 2.0.0 Delivered"]
        [event] = list(events)
    assert time.monotonic() - started < 5
    changed = event.data["changed"][jmap.account_id]
    assert set(changed) == {"Email", "EmailDelivery"}
    assert changed["Email"] == jmap.call("Email/get", {"ids": []})["state"]
    assert subjects(jmap) == ["Pushed"]


def test_delivery_runs_the_vacation_response(server: LiveServer, port: int, sink: SmtpSink) -> None:
    name, address = add_user(server)
    jmap = connect(server, name)
    jmap.call("VacationResponse/set", {"update": {"singleton": {"isEnabled": True, "subject": "Away this week"}}})
    raw = message("Are you there?").replace(b"alice@example.org", address.encode())
    with lmtp(port) as session:
        assert session.transaction(raw, address)[1] == ["250 2.0.0 Delivered"]
    deadline = time.monotonic() + 10
    while not (replies := [r for r in sink.received if r.rcpt_to == [SENDER]]) and time.monotonic() < deadline:
        time.sleep(0.05)
    [reply] = replies
    assert b"Subject: Away this week" in reply.data and f"From: {address}".encode() in reply.data


def test_a_storage_failure_is_451_and_the_retry_delivers_once(server: LiveServer, port: int) -> None:
    """Another process holds SQLite's write lock longer than the server waits for it (10 s): a real storage failure.
    (That one recipient's failure spares the others is tested on the service, in tests/unit/test_delivery.py.)"""
    name, address = add_user(server)
    database = sqlite3.connect(server.data_dir / "gateway.db", isolation_level=None)
    try:
        with lmtp(port) as session:
            database.execute("BEGIN IMMEDIATE")
            try:
                answers, after = session.transaction(message("Retried"), address)
            finally:
                database.execute("ROLLBACK")
            assert answers[1] == "250 2.1.5 Recipient OK"  # reads go on while the writer is blocked
            assert after == ["451 4.3.0 Delivery failed, try again later"]
            assert subjects(connect(server, name)) == []
            assert session.transaction(message("Retried"), address)[1] == ["250 2.0.0 Delivered"]
    finally:
        database.close()
    assert subjects(connect(server, name)) == ["Retried"]
