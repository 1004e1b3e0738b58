"""A thin JMAP client for the HTTP tests: raw JSON in and out, so every error shape is visible."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.testing import LiveServer

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
VACATION = "urn:ietf:params:jmap:vacationresponse"
USING = [CORE, MAIL, SUBMISSION, VACATION]
STREAM = "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}"
STREAM_TIMEOUT = 5.0

_names = itertools.count()


@dataclass
class Jmap:
    http: httpx.Client
    session: dict[str, Any]

    @property
    def account_id(self) -> str:
        return str(self.session["primaryAccounts"][MAIL])

    def request(self, calls: list[list[Any]], using: list[str] | None = None, **extra: Any) -> httpx.Response:
        return self.http.post("/jmap/api/", json={"using": using or USING, "methodCalls": calls, **extra})

    def calls(self, calls: list[list[Any]], using: list[str] | None = None) -> list[list[Any]]:
        response = self.request(calls, using)
        assert response.status_code == 200, response.text
        return list(response.json()["methodResponses"])

    def call(self, name: str, arguments: dict[str, Any], using: list[str] | None = None) -> dict[str, Any]:
        """One method call with ``accountId`` filled in; returns its arguments (asserting no error)."""
        [[answered, result, _]] = self.calls([[name, {"accountId": self.account_id, **arguments}, "c"]], using)
        assert answered == name, result
        return dict(result)

    def error(self, name: str, arguments: dict[str, Any], using: list[str] | None = None) -> dict[str, Any]:
        """One method call expected to fail: its error arguments."""
        [[answered, result, _]] = self.calls([[name, {"accountId": self.account_id, **arguments}, "c"]], using)
        assert answered == "error", result
        return dict(result)

    def upload(self, data: bytes, content_type: str = "message/rfc822") -> dict[str, Any]:
        response = self.http.post(
            f"/jmap/upload/{self.account_id}/", content=data, headers={"Content-Type": content_type}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def mailbox(self, role: str) -> str:
        listed = self.call("Mailbox/get", {"ids": None})["list"]
        return next(str(mailbox["id"]) for mailbox in listed if mailbox["role"] == role)

    def import_message(self, raw: bytes, role: str = "inbox", keywords: dict[str, bool] | None = None) -> str:
        blob = self.upload(raw)
        result = self.call(
            "Email/import",
            {
                "emails": {
                    "m": {
                        "blobId": blob["blobId"],
                        "mailboxIds": {self.mailbox(role): True},
                        "keywords": keywords or {},
                    }
                }
            },
        )
        assert result["created"], result
        return str(result["created"]["m"]["id"])


def connect(server: LiveServer, user: str = "alice") -> Jmap:
    http = server.client(user)
    response = http.get("/jmap/session")
    assert response.status_code == 200, response.text
    return Jmap(http, response.json())


def new_name(prefix: str) -> str:
    """A user name no test has taken yet on the shared server: ``prefix`` and a number."""
    return f"{prefix}{next(_names)}"


def new_user(server: LiveServer, prefix: str) -> Jmap:
    """A new user named by ``new_name(prefix)``, password ``pw-`` and the name, connected over JMAP."""
    name = new_name(prefix)
    server.add_user(name, "pw-" + name)
    return connect(server, name)


def message(
    subject: str = "Hello", body: str = "Hi there.", *, sender: str = "bob@example.org", **headers: str
) -> bytes:
    """A small RFC 5322 message; extra headers given as keyword arguments (underscores become dashes)."""
    lines = [
        f"From: Bob <{sender}>",
        "To: Alice <alice@example.org>",
        f"Subject: {subject}",
        "Date: Tue, 02 Jan 2024 10:00:00 +0100",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
        "",
    ]
    return "\r\n".join(lines).encode()


@dataclass
class Event:
    name: str
    id: str | None
    data: Any


def read_events(response: httpx.Response) -> Iterator[Event]:
    """Parse a text/event-stream as it arrives; ends when the server ends the response."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif fields:
            yield Event(fields["event"], fields.get("id"), json.loads(fields["data"]))
            fields = {}


@contextmanager
def event_stream(
    server: LiveServer, user: str, *, types: str = "*", closeafter: str = "no", ping: int = 0, **headers: str
) -> Iterator[tuple[httpx.Response, Iterator[Event]]]:
    with (
        server.client(user, timeout=STREAM_TIMEOUT) as http,
        http.stream("GET", STREAM.format(types=types, closeafter=closeafter, ping=ping), headers=headers) as response,
    ):
        yield response, read_events(response)
