"""Vacation auto-replies after delivery: a real SQLite store and a real SMTP server on loopback as the relay."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from gateway.settings import Settings
from protocols.jmap.types.vacation import DEFAULTS
from protocols.services.vacation import LOG_TYPE, PERIOD_SECONDS, after_delivery
from protocols.smtp import Relay
from storage.api import Store
from tests.testing import SmtpSink, free_port, smtp_sink

ME = "alice@example.org"


@pytest.fixture
async def account(store: Store) -> int:
    async with store.write() as tx:
        made = await tx.create_account("alice", "hash", None)
        await tx.set_addresses(made.id, ME, ["a.l@example.org"])
    return made.id


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as running:
        yield running


def relay_to(address: str) -> Relay:
    found = Relay.from_settings(Settings(smtp_relay=address, smtp_tls="off", mail_domain="example.org"))
    assert found is not None
    return found


@pytest.fixture
def relay(sink: SmtpSink) -> Relay:
    return relay_to(sink.address)


async def set_vacation(store: Store, account_id: int, **fields: Any) -> None:
    """Create or replace the VacationResponse, enabled unless ``fields`` say otherwise."""
    data = {**DEFAULTS, "isEnabled": True, **fields}
    async with store.write() as tx:
        found = await tx.list_objects(account_id, "VacationResponse")
        if found:
            await tx.update_object(account_id, "VacationResponse", found[0].id, data)
        else:
            await tx.create_object(account_id, "VacationResponse", data)


def incoming(*extra: str, to: str = ME) -> bytes:
    """A message from bob to ``to``, with ``extra`` header lines."""
    lines = [
        "From: Bob <bob@example.net>",
        f"To: {to}",
        "Subject: Lunch",
        "Message-ID: <m1@example.net>",
        "References: <m0@example.net>",
        *extra,
        "",
        "Are you there?",
        "",
    ]
    return "\r\n".join(lines).encode()


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def deliver(store: Store, relay: Relay | None, account: int, message: bytes, sender: str | None) -> None:
    await after_delivery(store, relay, account, message, sender, ME)


async def test_reply_follows_rfc_3834(store: Store, account: int, relay: Relay, sink: SmtpSink) -> None:
    await set_vacation(store, account, textBody="Back on Monday.")
    await deliver(store, relay, account, incoming(), "bob@example.net")
    [received] = sink.received
    assert received.mail_from == "<>" and received.rcpt_to == ["bob@example.net"]
    reply = parsed(received.data)
    assert reply["From"] == ME and reply["To"] == "bob@example.net"
    assert reply["Subject"] == "Auto: Lunch" and reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == "<m1@example.net>"
    assert reply["References"] == "<m0@example.net> <m1@example.net>"
    assert reply.get_content_type() == "text/plain" and reply.get_content().strip() == "Back on Monday."


async def test_once_per_sender_per_period(store: Store, account: int, relay: Relay, sink: SmtpSink) -> None:
    await set_vacation(store, account, subject="Away")
    await deliver(store, relay, account, incoming(), "bob@example.net")
    await deliver(store, relay, account, incoming(), "BOB@example.net")
    await deliver(store, relay, account, incoming(), "carol@example.net")
    assert [r.rcpt_to for r in sink.received] == [["bob@example.net"], ["carol@example.net"]]
    assert parsed(sink.received[0].data)["Subject"] == "Away"
    async with store.write() as tx:  # a week passes
        [log] = await tx.list_objects(account, LOG_TYPE)
        sent = {address: moment - PERIOD_SECONDS for address, moment in log.data["sent"].items()}
        await tx.update_object(account, LOG_TYPE, log.id, {**log.data, "sent": sent})
    await deliver(store, relay, account, incoming(), "bob@example.net")
    assert len(sink.received) == 3


async def test_a_changed_setting_answers_everyone_again(
    store: Store, account: int, relay: Relay, sink: SmtpSink
) -> None:
    await set_vacation(store, account, textBody="Away.")
    await deliver(store, relay, account, incoming(), "bob@example.net")
    await set_vacation(store, account, textBody="Away longer.")
    await deliver(store, relay, account, incoming(), "bob@example.net")
    assert [parsed(r.data).get_content().strip() for r in sink.received] == ["Away.", "Away longer."]


@pytest.mark.parametrize(
    ("message", "sender"),
    [
        pytest.param(incoming("List-Id: <talk.example.net>"), "list@example.net", id="list"),
        pytest.param(incoming("List-Unsubscribe: <mailto:x@example.net>"), "bob@example.net", id="list-*"),
        pytest.param(incoming("Precedence: bulk"), "news@example.net", id="bulk"),
        pytest.param(incoming("Precedence: junk"), "bob@example.net", id="junk"),
        pytest.param(incoming("Auto-Submitted: auto-generated"), "bob@example.net", id="auto-submitted"),
        pytest.param(incoming(), "MAILER-DAEMON@example.net", id="mailer-daemon"),
        pytest.param(incoming(), "owner-talk@example.net", id="owner"),
        pytest.param(incoming(), "talk-request@example.net", id="request"),
        pytest.param(incoming(), "", id="empty sender"),
        pytest.param(incoming(), "<>", id="null sender"),
        pytest.param(incoming(), None, id="no sender"),
        pytest.param(incoming(), "a.l@example.org", id="own address"),
        pytest.param(incoming(to="someone@example.net"), "bob@example.net", id="not in To or Cc"),
    ],
)
async def test_no_reply(
    store: Store, account: int, relay: Relay, sink: SmtpSink, message: bytes, sender: str | None
) -> None:
    await set_vacation(store, account)
    await deliver(store, relay, account, message, sender)
    assert sink.received == []


async def test_auto_submitted_no_and_an_alias_in_cc_are_answered(
    store: Store, account: int, relay: Relay, sink: SmtpSink
) -> None:
    await set_vacation(store, account)
    message = incoming("Cc: A <A.L@example.org>", "Auto-Submitted: no", to="x@example.net")
    await deliver(store, relay, account, message, "bob@example.net")
    assert len(sink.received) == 1
    assert "away" in parsed(sink.received[0].data).get_content()  # the default body


@pytest.mark.parametrize(
    ("fields", "answered"),
    [
        ({"isEnabled": False}, False),
        ({"fromDate": "2999-01-01T00:00:00Z"}, False),
        ({"toDate": "2000-01-01T00:00:00Z"}, False),
        ({"fromDate": "2000-01-01T00:00:00Z", "toDate": "2999-01-01T00:00:00Z"}, True),
    ],
)
async def test_enabled_and_dates(
    store: Store, account: int, relay: Relay, sink: SmtpSink, fields: dict[str, Any], answered: bool
) -> None:
    await set_vacation(store, account, **fields)
    await deliver(store, relay, account, incoming(), "bob@example.net")
    assert len(sink.received) == int(answered)


async def test_html_body_is_sent_as_alternative(store: Store, account: int, relay: Relay, sink: SmtpSink) -> None:
    await set_vacation(store, account, htmlBody="<p>Back <b>Monday</b>.</p>")
    await deliver(store, relay, account, incoming(), "bob@example.net")
    reply = parsed(sink.received[0].data)
    assert reply.get_content_type() == "multipart/alternative"
    plain, html = (part.get_content() for part in reply.iter_parts())
    assert plain.strip() == "Back Monday." and "<b>Monday</b>" in html


async def test_no_relay_or_relay_down_is_quiet(store: Store, account: int, caplog: pytest.LogCaptureFixture) -> None:
    await set_vacation(store, account)
    down = relay_to(f"127.0.0.1:{free_port()}")
    await deliver(store, None, account, incoming(), "bob@example.net")
    await deliver(store, down, account, b"\x00\xff garbage", "bob@example.net")
    await deliver(store, down, account, incoming(), "bob@example.net")
    assert "vacation reply for account" in caplog.text
