"""Drive the `jmapc` client library against a live gateway's JMAP endpoint (RFC 8620 core, RFC 8621 mail).

    python drive.py --url http://127.0.0.1:PORT/ --username U --password P --results DIR [--tls-port N]

jmapc only speaks https (it fetches ``https://{host}/.well-known/jmap`` and offers no scheme switch), and the
gateway speaks plain HTTP behind a reverse proxy. So, unless ``--url`` is already https, this script puts a TLS
front on ``--tls-port`` (a byte pipe with a throw-away self-signed certificate, trusted through
``REQUESTS_CA_BUNDLE``), the shape of ``examples/nginx.conf``; the gateway should run with
``base_url = https://127.0.0.1:N`` so its session hands out https URLs. Nothing about the server is altered.

The account must be fresh (its mailboxes empty). Prints one numbered check per line (PASS / FAIL, a dependent
check fails when what it needs failed) and a final ``N passed, M failed`` line; exits 1 when a check failed.
Every HTTP exchange jmapc makes is written to DIR/http.log, every push event to DIR/events.log.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import logging
import os
import queue
import ssl
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
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import jmapc
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jmapc import Comparator, EmailQueryFilterCondition, EventSourceConfig, constants
from jmapc.methods import (
    CoreEcho,
    CoreEchoResponse,
    EmailChanges,
    EmailChangesResponse,
    EmailGet,
    EmailGetResponse,
    EmailQuery,
    EmailQueryChanges,
    EmailQueryChangesResponse,
    EmailQueryResponse,
    EmailSet,
    EmailSetResponse,
    IdentityGet,
    IdentityGetResponse,
    MailboxGet,
    MailboxGetResponse,
    Method,
    Response,
    SearchSnippetGet,
    SearchSnippetGetResponse,
    ThreadGet,
    ThreadGetResponse,
)
from jmapc.methods.base import MethodWithAccount, ResponseWithAccount
from jmapc.serializer import Model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import drive_common as common
from drive_common import CheckFailure, check

RUN = uuid.uuid4().hex[:8]
DOMAIN = "conformance.example"
ROLES = ("inbox", "drafts", "sent", "archive", "junk", "trash")
PUSH_TIMEOUT = 5.0
R = TypeVar("R", bound=Response)


# --- Email/import and Email/parse: jmapc 0.4 has no classes for them, so they get some the way jmapc.fastmail adds
# its methods ---------------------------------------------------------------------------------------------------------
@dataclass
class EmailImportItem(Model):
    blob_id: str
    mailbox_ids: dict[str, bool]
    keywords: dict[str, bool] = field(default_factory=dict)
    received_at: str | None = None


class EmailImportBase:
    method_namespace: ClassVar[str | None] = "Email"
    method_type: ClassVar[str | None] = "import"
    using: ClassVar[set[str]] = {constants.JMAP_URN_MAIL}


@dataclass
class EmailImport(EmailImportBase, MethodWithAccount):
    emails: dict[str, EmailImportItem] = field(default_factory=dict)


@dataclass
class EmailImportResponse(EmailImportBase, ResponseWithAccount):
    old_state: str | None = None
    new_state: str | None = None
    created: dict[str, jmapc.Email] | None = None
    not_created: dict[str, jmapc.SetError] | None = None


@dataclass
class EmailParse(EmailImportBase, MethodWithAccount):
    blob_ids: list[str] = field(default_factory=list)
    properties: list[str] | None = None
    fetch_text_body_values: bool | None = None

    method_type: ClassVar[str | None] = "parse"


@dataclass
class EmailParseResponse(EmailImportBase, ResponseWithAccount):
    parsed: dict[str, jmapc.Email] | None = None
    not_parsable: list[str] | None = None
    not_found: list[str] | None = None

    method_type: ClassVar[str | None] = "parse"


# --- the test messages ---------------------------------------------------------------------------------------------
def message_id(name: str) -> str:
    return f"{name}-{RUN}@{DOMAIN}"


def at(hour: int) -> dt.datetime:
    return dt.datetime(2024, 5, 6, hour, tzinfo=dt.UTC)


def base_message(sender: str, subject: str, name: str, hour: int, user: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = f"{user} <{user}@{DOMAIN}>"
    message["Subject"] = subject
    message["Date"] = format_datetime(at(hour))
    message["Message-ID"] = f"<{message_id(name)}>"
    return message


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 12 + b"\n%%EOF\n"
SUBJECT = f"Quarterly figures {RUN}"


def test_messages(user: str) -> dict[str, bytes]:
    """A plain message, a multipart one with a PDF attached, and a multipart/alternative reply to the first."""
    plain = base_message("Alice Example <alice@example.org>", SUBJECT, "plain", 8, user)
    plain.set_content("Hello,\n\nthe quarterly figures are in. Revenue grew in the Zanzibar region.\n\nGrüße, Alice\n")
    contract = base_message("Carol <carol@example.net>", "Signed contract", "contract", 9, user)
    contract.set_content("Please find the signed contract attached.\n\nKind regards, Carol\n")
    contract.add_attachment(PDF, maintype="application", subtype="pdf", filename="contract.pdf")
    reply = base_message("Bob <bob@example.org>", f"Re: {SUBJECT}", "reply", 10, user)
    reply["In-Reply-To"] = f"<{message_id('plain')}>"
    reply["References"] = f"<{message_id('plain')}>"
    reply.set_content("> the quarterly figures are in.\n\nThanks, looks good.\n")
    reply.add_alternative("<p>Thanks, <b>looks good</b>.</p>\n", subtype="html")
    return {name: message.as_bytes() for name, message in (("plain", plain), ("contract", contract), ("reply", reply))}


def push_message(user: str) -> bytes:
    message = base_message("Dave <dave@example.org>", "Push test", "push", 11, user)
    message.set_content("This one arrives while the event source is open.\n")
    return message.as_bytes()


# --- a TLS front, as the reverse proxy in front of the gateway ----------------------------------------------------
def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    alt = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(alt, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class TlsFront(common.LoopbackServer):
    """Terminates TLS on a loopback port and pipes the bytes, unchanged, to the plain-HTTP gateway."""

    description = "TLS front"
    thread_name = "tls-front"

    def __init__(self, port: int, backend: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(port)
        self.backend = backend
        self.context = context

    async def serve(self) -> asyncio.Server:
        return await asyncio.start_server(self.handle, "127.0.0.1", self.port, ssl=self.context)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.backend)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer), return_exceptions=True)

    @staticmethod
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


# --- plumbing --------------------------------------------------------------------------------------------------------
@dataclass
class HttpLog:
    """A requests response hook: every exchange into http.log, and the statuses seen, for the 5xx check."""

    path: Path
    statuses: list[tuple[str, str, int]] = field(default_factory=list)

    def hook(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> requests.Response:
        request = response.request
        self.statuses.append((str(request.method), str(request.url), response.status_code))
        body = request.body
        if isinstance(body, bytes):
            sent = body.decode("utf-8", "replace")
        elif isinstance(body, str):
            sent = body
        else:
            sent = "" if body is None else "<streamed upload>"
        content_type = response.headers.get("content-type", "")
        # Only JSON answers are read here: reading a download would consume the stream jmapc reads afterwards.
        received = response.text if "json" in content_type else f"<{content_type or 'no content type'}>"
        with self.path.open("a", encoding="utf-8") as log:
            log.write(f"\n>>> {request.method} {request.url}\n")
            for key, value in request.headers.items():
                if key.lower() != "authorization":
                    text = value.decode("latin-1") if isinstance(value, bytes) else value
                    log.write(f"{key}: {text}\n")
            if sent:
                log.write(f"\n{sent[:8000]}\n")
            log.write(f"<<< {response.status_code} {response.reason}\n")
            for key, value in response.headers.items():
                log.write(f"{key}: {value}\n")
            log.write(f"\n{received[:8000]}\n")
        return response


@dataclass
class Runner(common.Runner):
    http: HttpLog = field(kw_only=True)

    def check(self, name: str, function: Callable[[], str], needs: Sequence[str] = ()) -> None:
        if self.not_run(name, needs):
            return
        mark = len(self.http.statuses)
        with self.http.path.open("a", encoding="utf-8") as log:
            log.write(f"\n===== check: {name}\n")
        try:
            detail = function()
            errors = [
                f"{method} {url} -> {status}" for method, url, status in self.http.statuses[mark:] if status >= 500
            ]
            check(not errors, "server error: " + ", ".join(errors))
        except Exception as exc:
            self.fail(name, exc, 1500)
            if not isinstance(exc, CheckFailure):
                with self.http.path.open("a", encoding="utf-8") as log:
                    log.write(traceback.format_exc())
            return
        self.ok(name, detail)


def call(client: jmapc.Client, method: Method, expected: type[R]) -> R:
    """One method call; a JMAP error response or an unexpected response type fails the check."""
    response = client.request(method)
    if isinstance(response, jmapc.Error):
        raise CheckFailure(f"{method.jmap_method_name} answered error {response.to_dict()}")
    check(isinstance(response, expected), f"{method.jmap_method_name} answered {type(response).__name__}: {response}")
    assert isinstance(response, expected)
    return response


def by_id(emails: Sequence[jmapc.Email]) -> dict[str, jmapc.Email]:
    return {email.id: email for email in emails if email.id}


def utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


# --- the checks ------------------------------------------------------------------------------------------------------
class Drive:
    """The checks in order; what one finds (ids, states) the next ones use."""

    def __init__(
        self, client: jmapc.Client, push_client: jmapc.Client, user: str, work: Path, http: HttpLog, events: Path
    ) -> None:
        self.client = client
        self.http = http
        self.push_client = push_client
        self.user = user
        self.work = work
        self.events_log = events
        self.messages = test_messages(user)
        self.mailboxes: dict[str, str] = {}
        self.blobs: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.threads: dict[str, str] = {}
        self.email_state = ""
        self.query_state = ""
        self.emails: dict[str, jmapc.Email] = {}

    def inbox_query(self, collapse: bool) -> EmailQuery:
        return EmailQuery(
            filter=EmailQueryFilterCondition(in_mailbox=self.mailboxes["inbox"]),
            sort=[Comparator(property="receivedAt", is_ascending=False)],
            collapse_threads=collapse,
            calculate_total=True,
        )

    def names(self, ids: object) -> list[str]:
        """Ids as the names of the test messages, for readable failures."""
        known = {value: key for key, value in self.ids.items()}
        return [known.get(str(email_id), str(email_id)) for email_id in ids] if isinstance(ids, list) else [repr(ids)]

    def session(self) -> str:
        session = self.client.jmap_session
        urns = self.client.jmap_session.capabilities.urns
        for urn in (constants.JMAP_URN_CORE, constants.JMAP_URN_MAIL, constants.JMAP_URN_SUBMISSION):
            check(urn in urns, f"capability {urn} missing from the session ({sorted(urns)})")
        check(session.primary_accounts.mail, "no primary account for urn:ietf:params:jmap:mail")
        check(session.username == self.user, f"session username {session.username!r}, expected {self.user!r}")
        for url in (session.api_url, session.upload_url, session.download_url, session.event_source_url):
            check(urlsplit(url).scheme == "https", f"session URL {url} is not https behind the https front")
        redirects = [(method, url, status) for method, url, status in self.http.statuses if "/.well-known/jmap" in url]
        check(redirects and 300 <= redirects[0][2] < 400, f"GET /.well-known/jmap answered {redirects}")
        return (
            f"GET /.well-known/jmap -> {redirects[0][2]} -> session of {session.username}, account "
            f"{self.client.account_id}, apiUrl {session.api_url}"
        )

    def echo(self) -> str:
        data = {"hello": True, "run": RUN, "nested": [1, "two", None]}
        response = call(self.client, CoreEcho(data=data), CoreEchoResponse)
        check(response.data == data, f"Core/echo answered {response.data}")
        return "Core/echo returns its arguments"

    def mailbox_list(self) -> str:
        response = call(self.client, MailboxGet(ids=None), MailboxGetResponse)
        roles = [mailbox.role for mailbox in response.data if mailbox.role]
        for role in ROLES:
            check(roles.count(role) == 1, f"role {role} appears {roles.count(role)} times (roles {roles})")
        self.mailboxes = {mailbox.role: str(mailbox.id) for mailbox in response.data if mailbox.role}
        for mailbox in response.data:
            check(mailbox.name, f"mailbox {mailbox.id} has no name")
            counts = (mailbox.total_emails, mailbox.unread_emails, mailbox.total_threads, mailbox.unread_threads)
            check(counts == (0, 0, 0, 0), f"mailbox {mailbox.name} of a fresh account counts {counts}")
        check(response.state, "Mailbox/get answered without state")
        names = ", ".join(f"{m.role}={m.name}" for m in response.data if m.role)
        return f"{len(response.data)} mailboxes, every role once: {names}"

    def upload(self) -> str:
        for name, raw in self.messages.items():
            path = self.work / f"{name}.eml"
            path.write_bytes(raw)
            blob = self.client.upload_blob(path)
            check(blob.size == len(raw), f"upload of {name}: size {blob.size}, sent {len(raw)} bytes")
            check(blob.type == "message/rfc822", f"upload of {name}: type {blob.type!r}")
            self.blobs[name] = blob.id
        return f"{len(self.blobs)} blobs uploaded, sizes and types echoed"

    def email_import(self) -> str:
        inbox = self.mailboxes["inbox"]
        emails = {
            name: EmailImportItem(
                blob_id=blob, mailbox_ids={inbox: True}, received_at=f"{at(8 + n):%Y-%m-%dT%H:%M:%SZ}"
            )
            for n, (name, blob) in enumerate(self.blobs.items())
        }
        response = call(self.client, EmailImport(emails=emails), EmailImportResponse)
        check(not response.not_created, f"notCreated: {response.not_created}")
        created = response.created or {}
        check(set(created) == set(emails), f"created {sorted(created)}, expected {sorted(emails)}")
        for name, email in created.items():
            check(email.id and email.blob_id and email.thread_id, f"{name}: created without id/blobId/threadId")
            check(
                email.size == len(self.messages[name]),
                f"{name}: size {email.size}, blob has {len(self.messages[name])}",
            )
            self.ids[name] = str(email.id)
            self.threads[name] = str(email.thread_id)
        check(response.new_state and response.new_state != response.old_state, "newState did not move")
        self.email_state = str(response.new_state)
        return f"Email/import of {len(created)} messages: ids {self.ids}"

    def threading(self) -> str:
        check(
            self.threads["reply"] == self.threads["plain"],
            f"the reply (In-Reply-To/References the plain message) is in thread {self.threads['reply']}, "
            f"the plain message in {self.threads['plain']}",
        )
        check(self.threads["contract"] != self.threads["plain"], "the unrelated contract joined the plain's thread")
        return f"reply joined thread {self.threads['plain']}, contract has its own ({self.threads['contract']})"

    def query(self) -> str:
        response = call(self.client, self.inbox_query(False), EmailQueryResponse)
        expected = [self.ids[name] for name in ("reply", "contract", "plain")]
        check(response.ids == expected, f"ids {self.names(response.ids)}, expected reply, contract, plain")
        check(response.total == 3, f"total {response.total}, expected 3")
        check(response.position == 0, f"position {response.position}")
        self.query_state = response.query_state
        return "inbox by receivedAt descending: reply, contract, plain (total 3)"

    def query_collapsed(self) -> str:
        response = call(self.client, self.inbox_query(True), EmailQueryResponse)
        expected = [self.ids["reply"], self.ids["contract"]]
        check(response.ids == expected, f"ids {self.names(response.ids)}, expected reply, contract")
        check(response.total == 2, f"total {response.total}, expected 2 (one per thread)")
        return "collapseThreads: reply, contract (total 2): one Email per thread, the newest"

    def get_bodies(self) -> str:
        properties = [
            "id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "messageId", "inReplyTo",
            "references", "from", "to", "subject", "sentAt", "hasAttachment", "preview", "textBody", "htmlBody",
            "attachments", "bodyValues",
        ]  # fmt: skip
        method = EmailGet(ids=[*self.ids.values(), "Mnonexistent0"], properties=properties, fetch_text_body_values=True)
        response = call(self.client, method, EmailGetResponse)
        check(response.not_found == ["Mnonexistent0"], f"notFound {response.not_found}")
        emails = by_id(response.data)
        check(set(emails) == set(self.ids.values()), f"got {self.names(list(emails))}")
        self.emails = {name: emails[email_id] for name, email_id in self.ids.items()}
        plain, contract, reply = (self.emails[name] for name in ("plain", "contract", "reply"))
        for name, email in self.emails.items():
            check(email.mailbox_ids == {self.mailboxes["inbox"]: True}, f"{name}: mailboxIds {email.mailbox_ids}")
            check(email.keywords == {}, f"{name}: keywords {email.keywords}")
            check(email.received_at and email.size, f"{name}: receivedAt {email.received_at}, size {email.size}")
            check(email.message_id == [message_id(name)], f"{name}: messageId {email.message_id}")
        check(plain.subject == SUBJECT, f"plain: subject {plain.subject!r}")
        sender = plain.mail_from[0] if plain.mail_from else None
        check(
            sender is not None and (sender.name, sender.email) == ("Alice Example", "alice@example.org"),
            f"plain: from {plain.mail_from}",
        )
        check(utc(plain.sent_at) == at(8), f"plain: sentAt {plain.sent_at}, Date says {at(8)}")
        check(plain.has_attachment is False and not plain.attachments, f"plain: attachments {plain.attachments}")
        check(plain.preview and plain.preview.startswith("Hello"), f"plain: preview {plain.preview!r}")
        self.check_text(plain, "plain", "Grüße, Alice")
        self.check_text(contract, "contract", "signed contract attached")
        check(contract.has_attachment is True, "contract: hasAttachment is not true")
        attachments = contract.attachments or []
        check(len(attachments) == 1, f"contract: {len(attachments)} attachments")
        pdf = attachments[0]
        check(
            (pdf.name, pdf.type, pdf.size) == ("contract.pdf", "application/pdf", len(PDF)),
            f"contract: attachment {pdf.name!r} {pdf.type!r} {pdf.size}, expected contract.pdf, application/pdf, "
            f"{len(PDF)}",
        )
        self.check_text(reply, "reply", "looks good")
        check(reply.in_reply_to == [message_id("plain")], f"reply: inReplyTo {reply.in_reply_to}")
        check(reply.references == [message_id("plain")], f"reply: references {reply.references}")
        check(reply.subject == f"Re: {SUBJECT}", f"reply: subject {reply.subject!r}")
        html = reply.html_body or []
        check(len(html) == 1 and html[0].type == "text/html", f"reply: htmlBody {[p.type for p in html]}")
        check(
            html[0].part_id not in (reply.body_values or {}),
            "reply: bodyValues holds the text/html part though only fetchTextBodyValues was asked",
        )
        return "3 Emails with headers, addresses, sentAt, textBody/htmlBody, attachments, bodyValues; notFound listed"

    def check_text(self, email: jmapc.Email, name: str, snippet: str) -> None:
        parts = email.text_body or []
        check(len(parts) == 1 and parts[0].type == "text/plain", f"{name}: textBody {[p.type for p in parts]}")
        values = email.body_values or {}
        value = values.get(str(parts[0].part_id))
        check(value is not None, f"{name}: no bodyValue for textBody part {parts[0].part_id} ({sorted(values)})")
        assert value is not None
        check(value.value and snippet in value.value, f"{name}: body value {value.value!r} lacks {snippet!r}")
        check(not value.is_encoding_problem and not value.is_truncated, f"{name}: body value flags {value}")

    def download(self) -> str:
        attachment = (self.emails["contract"].attachments or [])[0]
        target = self.work / "contract.pdf"
        self.client.download_attachment(attachment, target)
        data = target.read_bytes()
        check(data == PDF, f"downloaded {len(data)} bytes, not the {len(PDF)} attached")
        return f"attachment blob {attachment.blob_id} downloads as the original {len(PDF)} bytes"

    def set_update(self, name: str, patch: dict[str, Any]) -> jmapc.Email:
        email_id = self.ids[name]
        response = call(self.client, EmailSet(update={email_id: patch}), EmailSetResponse)
        check(not response.not_updated, f"notUpdated: {response.not_updated}")
        check(email_id in (response.updated or {}), f"updated {response.updated}")
        get = call(self.client, EmailGet(ids=[email_id], properties=["mailboxIds", "keywords"]), EmailGetResponse)
        check(len(get.data) == 1, f"Email/get found {len(get.data)}")
        return get.data[0]

    def set_seen(self) -> str:
        email = self.set_update("plain", {"keywords/$seen": True})
        check(email.keywords == {"$seen": True}, f"keywords {email.keywords}")
        return "Email/set patch keywords/$seen: true -> keywords {$seen: true}"

    def set_move(self) -> str:
        inbox, archive = self.mailboxes["inbox"], self.mailboxes["archive"]
        email = self.set_update("contract", {f"mailboxIds/{inbox}": None, f"mailboxIds/{archive}": True})
        check(email.mailbox_ids == {archive: True}, f"mailboxIds {email.mailbox_ids}, expected only archive")
        return "Email/set patches mailboxIds/inbox: null, mailboxIds/archive: true -> in archive only"

    def mailbox_counts(self) -> str:
        response = call(self.client, MailboxGet(ids=None), MailboxGetResponse)
        # inbox: plain ($seen) and reply (unread), one thread; archive: the unread contract.
        expected = {"inbox": (2, 1, 1, 1), "archive": (1, 1, 1, 1)}
        for mailbox in response.data:
            counts = (mailbox.total_emails, mailbox.unread_emails, mailbox.total_threads, mailbox.unread_threads)
            want = expected.get(str(mailbox.role), (0, 0, 0, 0))
            check(
                counts == want,
                f"{mailbox.role or mailbox.name}: total/unread emails, total/unread threads {counts}, expected {want}",
            )
        return "inbox 2/1 emails 1/1 threads, archive 1/1 and 1/1, the rest empty"

    def thread_get(self) -> str:
        ids = [self.threads["plain"], self.threads["contract"]]
        response = call(self.client, ThreadGet(ids=ids), ThreadGetResponse)
        threads = {thread.id: thread.email_ids for thread in response.data}
        want = {ids[0]: [self.ids["plain"], self.ids["reply"]], ids[1]: [self.ids["contract"]]}
        named = {thread_id: self.names(email_ids) for thread_id, email_ids in threads.items()}
        check(threads == want, f"threads {named}, expected [plain, reply] (oldest first) and [contract]")
        return "Thread/get: [plain, reply] oldest first, [contract]"

    def search_snippet(self) -> str:
        text = EmailQueryFilterCondition(text="zanzibar")
        query = EmailQuery(filter=text, sort=[Comparator(property="receivedAt", is_ascending=False)])
        found = call(self.client, query, EmailQueryResponse)
        check(found.ids == [self.ids["plain"]], f"text search for zanzibar found {self.names(found.ids)}")
        method = SearchSnippetGet(ids=[self.ids["plain"], self.ids["contract"]], filter=text)
        response = call(self.client, method, SearchSnippetGetResponse)
        snippets = {snippet.email_id: snippet for snippet in response.data}
        check(set(snippets) == {self.ids["plain"], self.ids["contract"]}, f"snippets for {self.names(list(snippets))}")
        preview = snippets[self.ids["plain"]].preview or ""
        check("<mark>zanzibar</mark>" in preview.lower(), f"plain: preview snippet {preview!r} does not mark the hit")
        miss = snippets[self.ids["contract"]]
        check(miss.subject is None and miss.preview is None, f"contract (no hit): snippet {miss}")
        return f"text:zanzibar finds the plain message; snippet {preview!r}"

    def email_changes(self) -> str:
        response = call(self.client, EmailChanges(since_state=self.email_state), EmailChangesResponse)
        changed = {self.ids["plain"], self.ids["contract"]}
        check(changed <= set(response.updated), f"updated {self.names(response.updated)}, expected plain and contract")
        check(not response.created and not response.destroyed, f"created {response.created}, {response.destroyed}")
        check(response.new_state != self.email_state, "newState equals the old state after two updates")
        state = call(self.client, EmailGet(ids=[], properties=["id"]), EmailGetResponse).state
        check(response.new_state == state, f"newState {response.new_state} is not Email/get's state {state}")
        return f"since the import: updated {self.names(response.updated)}, newState = Email/get state"

    def query_changes(self) -> str:
        query = self.inbox_query(False)
        method = EmailQueryChanges(
            filter=query.filter, sort=query.sort, since_query_state=self.query_state, calculate_total=True
        )
        response = self.client.request(method)
        if isinstance(response, jmapc.Error) and response.type == "cannotCalculateChanges":
            return "cannotCalculateChanges (allowed by RFC 8620 §5.6)"
        check(isinstance(response, EmailQueryChangesResponse), f"Email/queryChanges answered {response}")
        assert isinstance(response, EmailQueryChangesResponse)
        ids = [self.ids[name] for name in ("reply", "contract", "plain")]
        check(self.ids["contract"] in response.removed, f"removed {self.names(response.removed)} lacks the moved one")
        ids = [email_id for email_id in ids if email_id not in response.removed]
        for added in sorted(response.added, key=lambda item: item.index):
            ids.insert(added.index, added.id)
        check(ids == [self.ids["reply"], self.ids["plain"]], f"old list + changes = {self.names(ids)}")
        check(response.total == 2, f"total {response.total}")
        return f"removed {self.names(response.removed)}, added {self.names([a.id for a in response.added])}"

    def identities(self) -> str:
        response = call(self.client, IdentityGet(), IdentityGetResponse)
        check(response.data, "no identity")
        for identity in response.data:
            check(identity.id and "@" in identity.email, f"identity {identity}")
            check(isinstance(identity.may_delete, bool), f"identity {identity.id}: mayDelete {identity.may_delete!r}")
        return ", ".join(f"{i.name!r} <{i.email}>" for i in response.data)

    def parse(self) -> str:
        blob = self.blobs["reply"]
        properties = ["subject", "from", "messageId", "inReplyTo", "textBody", "htmlBody", "bodyValues", "size"]
        method = EmailParse(blob_ids=[blob, "Bnonexistent0"], properties=properties, fetch_text_body_values=True)
        response = call(self.client, method, EmailParseResponse)
        check(response.not_found == ["Bnonexistent0"], f"notFound {response.not_found}")
        parsed = (response.parsed or {}).get(blob)
        check(parsed is not None, f"parsed {response.parsed}, notParsable {response.not_parsable}")
        assert parsed is not None
        check(parsed.subject == f"Re: {SUBJECT}", f"subject {parsed.subject!r}")
        check(parsed.in_reply_to == [message_id("plain")], f"inReplyTo {parsed.in_reply_to}")
        check(parsed.size == len(self.messages["reply"]), f"size {parsed.size}")
        self.check_text(parsed, "reply", "looks good")
        return "Email/parse of the uploaded reply: subject, inReplyTo, size, text body; notFound listed"

    def push(self) -> str:
        events: queue.Queue[jmapc.Event | BaseException] = queue.Queue()

        def listen() -> None:
            try:
                for event in self.push_client.events:
                    with self.events_log.open("a", encoding="utf-8") as log:
                        log.write(f"{time.strftime('%H:%M:%S')} id={event.id} {event.data.to_json()}\n")
                    events.put(event)
            except BaseException as exc:
                events.put(exc)

        threading.Thread(target=listen, name="eventsource", daemon=True).start()
        # jmapc opens the stream lazily; its SSE client is stored once the response headers arrived.
        deadline = time.monotonic() + PUSH_TIMEOUT
        while self.push_client._events is None and events.empty():
            check(time.monotonic() < deadline, f"the event source did not answer within {PUSH_TIMEOUT:.0f}s")
            time.sleep(0.05)
        path = self.work / "push.eml"
        path.write_bytes(push_message(self.user))
        blob = self.client.upload_blob(path)
        item = EmailImportItem(blob_id=blob.id, mailbox_ids={self.mailboxes["inbox"]: True})
        response = call(self.client, EmailImport(emails={"push": item}), EmailImportResponse)
        check(response.created and "push" in response.created, f"import: notCreated {response.not_created}")
        started = time.monotonic()
        seen: list[str] = []
        account = self.client.account_id
        while (left := started + PUSH_TIMEOUT - time.monotonic()) > 0:
            try:
                got = events.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(got, BaseException):
                raise CheckFailure(f"the event stream failed: {type(got).__name__}: {got}")
            state = got.data.changed.get(account)
            seen.append(str(got.data.to_dict()))
            if state is not None and state.email == response.new_state:
                waited = time.monotonic() - started
                return f"StateChange with Email {state.email} (= Email/import newState) after {waited:.2f}s"
        raise CheckFailure(
            f"no StateChange with Email state {response.new_state} within {PUSH_TIMEOUT:.0f}s; "
            f"received {seen or 'nothing'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the gateway's base URL, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--tls-port", type=int, default=0, help="port of the TLS front (0: any free one)")
    args = parser.parse_args()

    args.results.mkdir(parents=True, exist_ok=True)
    http_log = HttpLog(args.results / "http.log")
    http_log.path.write_text(f"jmapc {jmapc.version} against {args.url}\n", encoding="utf-8")
    events_log = args.results / "events.log"
    events_log.write_text("", encoding="utf-8")
    logging.basicConfig(level=logging.WARNING, format="     note: %(name)s logged %(levelname)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="jmapc-drive.") as tmp:
        work = Path(tmp)
        parts = urlsplit(args.url)
        if parts.scheme == "https":
            host = parts.netloc
        else:
            cert, key = self_signed(work)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            front = TlsFront(args.tls_port, (parts.hostname or "127.0.0.1", parts.port or 80), context)
            front.start()
            os.environ["REQUESTS_CA_BUNDLE"] = str(cert)  # requests (and so jmapc and its SSE client) trust it
            host = f"127.0.0.1:{front.port}"
            print(f"     note: TLS front https://{host}/ -> {args.url}", flush=True)

        client = jmapc.Client.create_with_password(host, args.username, args.password)
        client.requests_session.hooks["response"].append(http_log.hook)
        push_client = jmapc.Client.create_with_password(
            host, args.username, args.password, event_source_config=EventSourceConfig(types="*", ping=0)
        )
        drive = Drive(client, push_client, args.username, work, http_log, events_log)
        runner = Runner(http=http_log)
        checks: list[tuple[str, Callable[[], str], tuple[str, ...]]] = [
            ("01-session-discovery", drive.session, ()),
            ("02-core-echo", drive.echo, ("01-session-discovery",)),
            ("03-mailbox-get-roles", drive.mailbox_list, ("01-session-discovery",)),
            ("04-upload", drive.upload, ("01-session-discovery",)),
            ("05-email-import", drive.email_import, ("03-mailbox-get-roles", "04-upload")),
            ("06-threading", drive.threading, ("05-email-import",)),
            ("07-query-newest-first", drive.query, ("05-email-import",)),
            ("08-query-collapse-threads", drive.query_collapsed, ("05-email-import",)),
            ("09-email-get-bodies", drive.get_bodies, ("05-email-import",)),
            ("10-download-attachment", drive.download, ("09-email-get-bodies",)),
            ("11-set-seen", drive.set_seen, ("05-email-import",)),
            ("12-set-move", drive.set_move, ("05-email-import",)),
            ("13-mailbox-counts", drive.mailbox_counts, ("11-set-seen", "12-set-move")),
            ("14-thread-get", drive.thread_get, ("05-email-import",)),
            ("15-search-snippet", drive.search_snippet, ("05-email-import",)),
            ("16-email-changes", drive.email_changes, ("11-set-seen", "12-set-move")),
            ("17-email-query-changes", drive.query_changes, ("07-query-newest-first", "12-set-move")),
            ("18-identity-get", drive.identities, ("01-session-discovery",)),
            ("19-eventsource-push", drive.push, ("03-mailbox-get-roles",)),
            ("20-email-parse", drive.parse, ("04-upload",)),
        ]
        for name, function, needs in checks:
            runner.check(name, function, needs)
    return runner.summary()


if __name__ == "__main__":
    sys.exit(main())
