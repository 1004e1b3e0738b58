"""RFC 8621 §7 over real HTTP: EmailSubmission sends through a real SMTP server standing in for the organisation's
MTA, then get, changes, query, queryChanges, set, and the implicit Email/set of the onSuccess arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.http.jmap_support import Jmap, connect, new_name
from tests.testing import LiveServer, SmtpSink, free_port, gateway, live_server, smtp_sink

GONE = "gone@example.net"
"""The sink refuses this recipient with 550."""
MAX_MESSAGE_BYTES = 20_000


def relayed_server(data_dir: Path, relay: str) -> AbstractContextManager[LiveServer]:
    env = {
        "GATEWAY_SMTP_RELAY": relay,
        "GATEWAY_SMTP_TLS": "off",
        "GATEWAY_MAIL_DOMAIN": "example.org",
        "GATEWAY_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
    }
    return live_server(data_dir, {}, extra_env=env)


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with smtp_sink(refuse={GONE}) as running:
        yield running


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[LiveServer]:
    with relayed_server(tmp_path_factory.mktemp("relayed"), sink.address) as running:
        yield running


def sender(server: LiveServer) -> Jmap:
    """A new user with the addresses ``NAME@example.org`` and ``NAME.alias@example.org``."""
    name = new_name("sender")
    server.add_user(name, "pw-" + name)
    changed = gateway(server.data_dir, "user", "set", name, "--email", f"{name}@example.org", "--alias", alias(name))
    assert changed.returncode == 0, changed.stderr
    return connect(server, name)


def alias(name: str) -> str:
    return f"{name}.alias@example.org"


@pytest.fixture
def jmap(relayed: LiveServer, sink: SmtpSink) -> Jmap:
    sink.received.clear()
    return sender(relayed)


def me(jmap: Jmap) -> str:
    return f"{jmap.session['username']}@example.org"


def identity(jmap: Jmap) -> str:
    """The id of the identity for the user's primary address."""
    return next(str(i["id"]) for i in jmap.call("Identity/get", {"ids": None})["list"] if i["email"] == me(jmap))


def draft(jmap: Jmap, **fields: Any) -> str:
    """An email in Drafts with ``$draft``, from the user to bob unless ``fields`` say otherwise."""
    obj = {
        "mailboxIds": {jmap.mailbox("drafts"): True},
        "keywords": {"$draft": True},
        "from": [{"name": "Me", "email": me(jmap)}],
        "to": [{"name": "Bob", "email": "bob@example.net"}],
        "subject": "Plans",
        "bodyValues": {"t": {"value": "See you at noon."}},
        "textBody": [{"partId": "t", "type": "text/plain"}],
        **fields,
    }
    created = jmap.call("Email/set", {"create": {"d": obj}})
    assert created["created"], created
    return str(created["created"]["d"]["id"])


def submit(jmap: Jmap, email_id: str, **extra: Any) -> dict[str, Any]:
    """EmailSubmission/set creating one submission ``s``: the whole response arguments."""
    create = {"s": {"identityId": identity(jmap), "emailId": email_id, **extra}}
    return jmap.call("EmailSubmission/set", {"create": create})


def submit_and_destroy(jmap: Jmap, email_id: str) -> list[list[Any]]:
    """``submit`` with ``onSuccessDestroyEmail``: every method response, the implicit Email/set among them."""
    arguments = {
        "accountId": jmap.account_id,
        "create": {"s": {"identityId": identity(jmap), "emailId": email_id}},
        "onSuccessDestroyEmail": ["#s"],
    }
    return jmap.calls([["EmailSubmission/set", arguments, "c"]])


def refusal(jmap: Jmap, email_id: str, **extra: Any) -> dict[str, Any]:
    result = submit(jmap, email_id, **extra)
    assert not result["created"], result
    return dict(result["notCreated"]["s"])


def email(jmap: Jmap, email_id: str) -> dict[str, Any]:
    properties = ["mailboxIds", "keywords", "bcc"]
    return dict(jmap.call("Email/get", {"ids": [email_id], "properties": properties})["list"][0])


def blob(jmap: Jmap, email_id: str) -> bytes:
    [found] = jmap.call("Email/get", {"ids": [email_id], "properties": ["blobId"]})["list"]
    url = jmap.session["downloadUrl"].format(
        accountId=jmap.account_id, blobId=found["blobId"], name="m.eml", type="message/rfc822"
    )
    return bytes(jmap.http.get(url).content)


# --- sending -------------------------------------------------------------------------------------------------


def test_sends_to_to_cc_and_bcc_without_the_bcc_header(jmap: Jmap, sink: SmtpSink) -> None:
    email_id = draft(
        jmap, cc=[{"email": "carol@example.net"}], bcc=[{"email": "dave@example.net"}, {"email": "BOB@example.net"}]
    )
    created = submit(jmap, email_id)["created"]["s"]
    recipients = ["bob@example.net", "carol@example.net", "dave@example.net"]
    assert created["envelope"] == {
        "mailFrom": {"email": me(jmap), "parameters": None},
        "rcptTo": [{"email": address, "parameters": None} for address in recipients],
    }
    assert created["undoStatus"] == "final" and created["sendAt"].endswith("Z")
    assert created["dsnBlobIds"] == created["mdnBlobIds"] == []
    [received] = sink.received
    assert (received.mail_from, received.rcpt_to) == (me(jmap), recipients)
    stored = blob(jmap, email_id)
    assert b"\r\nBcc: " in stored and email(jmap, email_id)["bcc"]
    without_bcc = stored.replace(b"Bcc: dave@example.net, BOB@example.net\r\n", b"")
    assert received.data.removesuffix(b"\r\n") == without_bcc.removesuffix(b"\r\n")  # DATA ends with a CRLF


def test_delivery_status_per_recipient(jmap: Jmap, sink: SmtpSink) -> None:
    email_id = draft(jmap, to=[{"email": "bob@example.net"}, {"email": GONE}])
    created = submit(jmap, email_id)["created"]["s"]
    assert created["deliveryStatus"] == {
        "bob@example.net": {
            "smtpReply": "250 2.0.0 Ok: queued as 12345",
            "delivered": "queued",
            "displayed": "unknown",
        },
        GONE: {"smtpReply": "550 5.1.1 No such user here", "delivered": "no", "displayed": "unknown"},
    }
    assert sink.received[0].rcpt_to == ["bob@example.net"]
    [stored] = jmap.call("EmailSubmission/get", {"ids": [created["id"]]})["list"]
    assert stored["deliveryStatus"] == created["deliveryStatus"] and stored["emailId"] == email_id


def test_envelope_given_by_the_client(jmap: Jmap, sink: SmtpSink) -> None:
    name = jmap.session["username"]
    envelope = {"mailFrom": {"email": alias(name)}, "rcptTo": [{"email": "eve@example.net", "parameters": None}]}
    created = submit(jmap, draft(jmap), envelope=envelope)["created"]["s"]
    assert "envelope" in created  # parameters filled in
    [received] = sink.received
    assert (received.mail_from, received.rcpt_to) == (alias(name), ["eve@example.net"])
    with_parameters = {**envelope, "mailFrom": {"email": alias(name), "parameters": {"RET": "HDRS"}}}
    assert refusal(jmap, draft(jmap), envelope=with_parameters)["type"] == "invalidProperties"


def test_a_sent_draft_is_filed_in_sent_by_default(jmap: Jmap) -> None:
    email_id = draft(jmap, keywords={"$draft": True, "$seen": True})
    submit(jmap, email_id)
    assert email(jmap, email_id)["mailboxIds"] == {jmap.mailbox("sent"): True}
    assert email(jmap, email_id)["keywords"] == {"$seen": True}


def test_on_success_update_email_is_an_implicit_email_set(jmap: Jmap) -> None:
    drafts, sent = jmap.mailbox("drafts"), jmap.mailbox("sent")
    archive = jmap.mailbox("archive")
    obj = {
        "mailboxIds": {drafts: True},
        "keywords": {"$draft": True},
        "from": [{"email": me(jmap)}],
        "to": [{"email": "bob@example.net"}],
        "subject": "One request",
    }
    responses = jmap.calls(
        [
            ["Email/set", {"accountId": jmap.account_id, "create": {"d": obj}}, "0"],
            [
                "EmailSubmission/set",
                {
                    "accountId": jmap.account_id,
                    "create": {"s": {"identityId": identity(jmap), "emailId": "#d"}},
                    "onSuccessUpdateEmail": {
                        "#s": {f"mailboxIds/{drafts}": None, f"mailboxIds/{archive}": True, "keywords/$draft": None}
                    },
                },
                "1",
            ],
        ]
    )
    assert [(name, call_id) for name, _, call_id in responses] == [
        ("Email/set", "0"),
        ("EmailSubmission/set", "1"),
        ("Email/set", "1"),
    ]
    email_id = responses[0][1]["created"]["d"]["id"]
    assert responses[2][1]["updated"] == {email_id: None}
    assert email(jmap, email_id)["mailboxIds"] == {archive: True}  # the client's choice, not Sent
    assert email(jmap, email_id)["keywords"] == {}
    assert sent not in email(jmap, email_id)["mailboxIds"]


def test_on_success_destroy_email(jmap: Jmap) -> None:
    email_id = draft(jmap)
    result = submit_and_destroy(jmap, email_id)
    assert [name for name, _, _ in result] == ["EmailSubmission/set", "Email/set"]
    assert result[1][1]["destroyed"] == [email_id]
    assert jmap.call("Email/get", {"ids": [email_id]})["notFound"] == [email_id]
    submission_id = result[0][1]["created"]["s"]["id"]
    [kept] = jmap.call("EmailSubmission/get", {"ids": [submission_id]})["list"]
    assert kept["emailId"] == email_id


# --- refusals ------------------------------------------------------------------------------------------------


def test_only_the_accounts_own_addresses_may_send(jmap: Jmap, sink: SmtpSink) -> None:
    foreign_from = refusal(jmap, draft(jmap, **{"from": [{"email": "ceo@example.org"}]}))
    assert foreign_from["type"] == "forbiddenFrom"
    envelope = {"mailFrom": {"email": "ceo@example.org"}, "rcptTo": [{"email": "bob@example.net"}]}
    assert refusal(jmap, draft(jmap), envelope=envelope)["type"] == "forbiddenMailFrom"
    assert sink.received == []


def test_recipients_must_exist_and_be_valid(jmap: Jmap, sink: SmtpSink) -> None:
    nobody = refusal(jmap, draft(jmap, to=None))
    assert nobody["type"] == "noRecipients"
    envelope = {"mailFrom": {"email": me(jmap)}, "rcptTo": [{"email": "bob@example.net"}, {"email": "not an address"}]}
    invalid = refusal(jmap, draft(jmap), envelope=envelope)
    assert invalid["type"] == "invalidRecipients" and invalid["invalidRecipients"] == ["not an address"]
    email_id = draft(jmap, to=[{"email": GONE}])
    refused = refusal(jmap, email_id)
    assert refused["type"] == "invalidRecipients" and refused["invalidRecipients"] == [GONE]
    assert email(jmap, email_id)["mailboxIds"] == {jmap.mailbox("drafts"): True}  # nothing sent, still a draft
    assert sink.received == []


def test_too_large(jmap: Jmap, sink: SmtpSink) -> None:
    big = draft(jmap, bodyValues={"t": {"value": "All work and no play. " * 1000}})
    result = submit(jmap, big)
    assert result["notCreated"], "gateway.app must pass settings.max_message_bytes to jmap_routes"
    refused = result["notCreated"]["s"]
    assert refused["type"] == "tooLarge"
    assert refused["maxSize"] == MAX_MESSAGE_BYTES and sink.received == []


def test_unknown_identity_or_email(jmap: Jmap) -> None:
    email_id = draft(jmap)
    result = jmap.call(
        "EmailSubmission/set",
        {
            "create": {
                "a": {"identityId": "I99999999", "emailId": email_id},
                "b": {"identityId": identity(jmap), "emailId": "E99999999"},
                "c": {"identityId": identity(jmap), "emailId": "#nothing"},
                "d": {"identityId": identity(jmap), "emailId": email_id, "undoStatus": "pending"},
            }
        },
    )
    refused = result["notCreated"]
    assert {key: (value["type"], value["properties"]) for key, value in refused.items()} == {
        "a": ("invalidProperties", ["identityId"]),
        "b": ("invalidProperties", ["emailId"]),
        "c": ("invalidProperties", ["emailId"]),
        "d": ("invalidProperties", ["undoStatus"]),
    }


def test_relay_refusing_the_sender(jmap: Jmap, sink: SmtpSink) -> None:
    name = jmap.session["username"]
    sink.refuse_senders.add(alias(name))
    envelope = {"mailFrom": {"email": alias(name)}, "rcptTo": [{"email": "bob@example.net"}]}
    refused = refusal(jmap, draft(jmap), envelope=envelope)
    assert refused["type"] == "forbiddenMailFrom" and "553 5.7.1 Sender not allowed" in refused["description"]


def test_without_a_relay_nothing_can_be_sent(server: LiveServer) -> None:
    jmap = sender(server)
    refused = refusal(jmap, draft(jmap))
    assert refused["type"] == "forbiddenToSend" and refused["description"]


def test_relay_down(tmp_path: Path) -> None:
    with relayed_server(tmp_path, f"127.0.0.1:{free_port()}") as down:
        jmap = sender(down)
        email_id = draft(jmap)
        result = submit_and_destroy(jmap, email_id)
        assert [name for name, _, _ in result] == ["EmailSubmission/set"]  # no success, no implicit Email/set
        refused = result[0][1]["notCreated"]["s"]
        assert refused["type"] == "forbiddenToSend" and "Try again later" in refused["description"]
        assert email(jmap, email_id)["mailboxIds"] == {jmap.mailbox("drafts"): True}


# --- the other methods ---------------------------------------------------------------------------------------


def test_get_changes_query_and_query_changes(jmap: Jmap) -> None:
    state = jmap.call("EmailSubmission/get", {"ids": []})["state"]
    query_state = jmap.call("EmailSubmission/query", {})["queryState"]
    first_email, second_email = draft(jmap), draft(jmap)
    first = submit(jmap, first_email)["created"]["s"]
    second = submit(jmap, second_email)["created"]["s"]
    changes = jmap.call("EmailSubmission/changes", {"sinceState": state})
    assert changes["created"] == [first["id"], second["id"]] and changes["updated"] == changes["destroyed"] == []
    both = jmap.call("EmailSubmission/query", {"sort": [{"property": "sentAt", "isAscending": False}]})["ids"]
    assert set(both) == {first["id"], second["id"]} and len(both) == 2
    by_email = jmap.call("EmailSubmission/query", {"filter": {"emailIds": [second_email]}})
    assert by_email["ids"] == [second["id"]]
    conditions = {"undoStatus": "final", "identityIds": [identity(jmap)], "after": "2000-01-01T00:00:00Z"}
    assert len(jmap.call("EmailSubmission/query", {"filter": conditions})["ids"]) == 2
    assert jmap.call("EmailSubmission/query", {"filter": {"before": "2000-01-01T00:00:00Z"}})["ids"] == []
    negated = {"operator": "NOT", "conditions": [{"threadIds": [first["threadId"]]}]}
    assert jmap.call("EmailSubmission/query", {"filter": negated})["ids"] == [second["id"]]
    assert jmap.error("EmailSubmission/query", {"filter": {"subject": "x"}})["type"] == "unsupportedFilter"
    assert jmap.error("EmailSubmission/query", {"sort": [{"property": "size"}]})["type"] == "unsupportedSort"
    jmap.call("EmailSubmission/set", {"destroy": [first["id"]]})
    changed = jmap.call("EmailSubmission/queryChanges", {"sinceQueryState": query_state, "calculateTotal": True})
    assert changed["added"] == [{"id": second["id"], "index": 0}] and changed["total"] == 1
    assert first["id"] in changed["removed"]


def test_cannot_unsend_and_destroy_keeps_the_email(jmap: Jmap) -> None:
    email_id = draft(jmap)
    submission_id = submit(jmap, email_id)["created"]["s"]["id"]
    result = jmap.call(
        "EmailSubmission/set",
        {"update": {submission_id: {"undoStatus": "canceled"}}, "onSuccessUpdateEmail": {submission_id: {}}},
    )
    assert result["notUpdated"][submission_id]["type"] == "cannotUnsend"
    immutable = jmap.call("EmailSubmission/set", {"update": {submission_id: {"emailId": "E1"}}})
    assert immutable["notUpdated"][submission_id]["type"] == "invalidProperties"
    destroyed = jmap.call("EmailSubmission/set", {"destroy": [submission_id]})
    assert destroyed["destroyed"] == [submission_id]
    assert jmap.call("EmailSubmission/get", {"ids": [submission_id]})["notFound"] == [submission_id]
    assert email(jmap, email_id)["mailboxIds"] == {jmap.mailbox("sent"): True}
