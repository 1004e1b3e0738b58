"""RFC 8621 over real HTTP: mailboxes, import, get, flags, moves, threads, changes, Email/set, parse, snippets."""

from __future__ import annotations

import pytest

from tests.http.jmap_support import Jmap, connect, message, new_name, new_user
from tests.testing import LiveServer, gateway


@pytest.fixture
def jmap(server: LiveServer) -> Jmap:
    return new_user(server, "jmail")


def mailboxes_by_role(jmap: Jmap) -> dict[str, dict[str, object]]:
    return {str(m["role"]): m for m in jmap.call("Mailbox/get", {"ids": None})["list"] if m["role"]}


def get_email(jmap: Jmap, email_id: str, **arguments: object) -> dict[str, object]:
    [found] = jmap.call("Email/get", {"ids": [email_id], **arguments})["list"]
    return dict(found)


def test_role_mailboxes_exist_with_rights_and_counts(jmap: Jmap) -> None:
    boxes = mailboxes_by_role(jmap)
    assert set(boxes) == {"inbox", "drafts", "sent", "archive", "junk", "trash"}
    inbox = boxes["inbox"]
    assert inbox["name"] == "Inbox" and inbox["parentId"] is None
    assert inbox["totalEmails"] == inbox["unreadEmails"] == inbox["totalThreads"] == inbox["unreadThreads"] == 0
    rights = inbox["myRights"]
    assert isinstance(rights, dict) and rights.pop("mayDelete") is False and all(rights.values())
    assert all(boxes["archive"]["myRights"].values())  # type: ignore[union-attr]


def test_import_and_get_default_properties(jmap: Jmap) -> None:
    raw = message("Lunch?", "Shall we meet at noon?", Message_ID="<lunch-1@example.org>")
    email_id = jmap.import_message(raw)
    email = get_email(jmap, email_id, fetchTextBodyValues=True)
    assert email["subject"] == "Lunch?"
    assert email["from"] == [{"name": "Bob", "email": "bob@example.org"}]
    assert email["to"] == [{"name": "Alice", "email": "alice@example.org"}]
    assert email["messageId"] == ["lunch-1@example.org"]
    assert email["sentAt"] == "2024-01-02T10:00:00+01:00"
    assert email["size"] == len(raw) and email["hasAttachment"] is False
    assert email["preview"] == "Shall we meet at noon?"
    assert email["keywords"] == {} and list(email["mailboxIds"]) == [jmap.mailbox("inbox")]  # type: ignore[arg-type]
    [text_part] = email["textBody"]  # type: ignore[misc]
    assert email["bodyValues"][text_part["partId"]]["value"].startswith("Shall we meet")  # type: ignore[index]
    assert email["receivedAt"].endswith("Z")  # type: ignore[union-attr]
    raw_back = jmap.http.get(
        jmap.session["downloadUrl"]
        .replace("{accountId}", jmap.account_id)
        .replace("{blobId}", str(email["blobId"]))
        .replace("{name}", "m.eml")
        .replace("{type}", "message/rfc822")
    )
    assert raw_back.content == raw


def test_header_forms_and_truncated_body_values(jmap: Jmap) -> None:
    raw = message("=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "x" * 100, List_Post="<mailto:list@example.org>")
    email_id = jmap.import_message(raw)
    email = get_email(
        jmap,
        email_id,
        properties=[
            "header:Subject",
            "header:Subject:asText",
            "header:From:asAddresses",
            "header:List-Post:asURLs",
            "bodyValues",
            "textBody",
        ],
        fetchAllBodyValues=True,
        maxBodyValueBytes=10,
    )
    assert email["header:Subject"] == " =?utf-8?q?Gr=C3=BC=C3=9Fe?="
    assert email["header:Subject:asText"] == "Grüße"
    assert email["header:From:asAddresses"] == [{"name": "Bob", "email": "bob@example.org"}]
    assert email["header:List-Post:asURLs"] == ["mailto:list@example.org"]
    [value] = email["bodyValues"].values()  # type: ignore[union-attr]
    assert value["isTruncated"] is True and value["value"] == "x" * 10
    error = jmap.error("Email/get", {"ids": [email_id], "properties": ["header:From:asDate"]})
    assert error["type"] == "invalidArguments"


def test_flags_moves_and_counts(jmap: Jmap) -> None:
    inbox, archive = jmap.mailbox("inbox"), jmap.mailbox("archive")
    first = jmap.import_message(message("One"))
    jmap.import_message(message("Two"))
    boxes = mailboxes_by_role(jmap)
    assert (boxes["inbox"]["totalEmails"], boxes["inbox"]["unreadEmails"]) == (2, 2)
    before = jmap.call("Mailbox/get", {"ids": []})["state"]
    done = jmap.call("Email/set", {"update": {first: {"keywords/$seen": True}}})
    assert first in done["updated"]
    assert get_email(jmap, first, properties=["keywords"])["keywords"] == {"$seen": True}
    boxes = mailboxes_by_role(jmap)
    assert (boxes["inbox"]["totalEmails"], boxes["inbox"]["unreadEmails"], boxes["inbox"]["unreadThreads"]) == (2, 1, 1)
    counts = jmap.call("Mailbox/changes", {"sinceState": before})
    assert counts["updated"] == [inbox] and counts["updatedProperties"] is not None
    assert "unreadEmails" in counts["updatedProperties"]
    jmap.call("Email/set", {"update": {first: {f"mailboxIds/{inbox}": None, f"mailboxIds/{archive}": True}}})
    assert get_email(jmap, first, properties=["mailboxIds"])["mailboxIds"] == {archive: True}
    boxes = mailboxes_by_role(jmap)
    assert boxes["inbox"]["totalEmails"] == 1 and boxes["archive"]["totalEmails"] == 1
    refused = jmap.call(
        "Email/set",
        {
            "update": {
                first: {"mailboxIds": {}},
                "E99999999": {"keywords/$seen": True},
            }
        },
    )
    assert refused["notUpdated"][first]["type"] == "invalidProperties"
    assert refused["notUpdated"]["E99999999"]["type"] == "notFound"
    immutable = jmap.call("Email/set", {"update": {first: {"subject": "changed"}}})
    assert immutable["notUpdated"][first]["type"] == "invalidProperties"
    bad_keyword = jmap.call("Email/set", {"update": {first: {"keywords/$seen": False}}})
    assert bad_keyword["notUpdated"][first]["type"] == "invalidProperties"


def test_threads_follow_references_and_subject(jmap: Jmap) -> None:
    root = jmap.import_message(message("Plans", Message_ID="<root@example.org>"))
    reply = jmap.import_message(
        message(
            "Re: Plans",
            Message_ID="<reply@example.org>",
            In_Reply_To="<root@example.org>",
            References="<root@example.org>",
        )
    )
    unrelated = jmap.import_message(message("Other topic", In_Reply_To="<root@example.org>"))
    threads = {
        e["id"]: e["threadId"]
        for e in jmap.call("Email/get", {"ids": [root, reply, unrelated], "properties": ["threadId"]})["list"]
    }
    assert threads[root] == threads[reply] != threads[unrelated]
    [thread] = jmap.call("Thread/get", {"ids": [threads[root]]})["list"]
    assert thread["emailIds"] == [root, reply]
    assert mailboxes_by_role(jmap)["inbox"]["totalThreads"] == 2


def test_query_filters_sorts_and_collapse(jmap: Jmap) -> None:
    inbox = jmap.mailbox("inbox")
    a = jmap.import_message(message("Alpha report", "quarterly numbers", sender="ann@example.org", Message_ID="<a@x>"))
    b = jmap.import_message(message("Re: Alpha report", "looks good", sender="bea@example.org", In_Reply_To="<a@x>"))
    c = jmap.import_message(message("Zulu", "nothing to see", sender="cid@example.org"), keywords={"$flagged": True})

    def query(**arguments: object) -> list[str]:
        return list(jmap.call("Email/query", arguments)["ids"])

    assert query(filter={"inMailbox": inbox}) == [c, b, a]
    assert query(filter={"inMailbox": inbox}, sort=[{"property": "receivedAt", "isAscending": True}]) == [a, b, c]
    assert query(filter={"from": "bea"}) == [b]
    assert query(filter={"subject": "alpha"}, sort=[{"property": "receivedAt", "isAscending": True}]) == [a, b]
    assert query(filter={"text": "quarterly"}) == [a]
    assert query(filter={"body": "nothing"}) == [c]
    assert query(filter={"hasKeyword": "$flagged"}) == [c]
    assert query(filter={"notKeyword": "$flagged"}) == [b, a]
    assert query(filter={"operator": "NOT", "conditions": [{"from": "ann"}]}) == [c, b]
    assert query(filter={"operator": "OR", "conditions": [{"from": "ann"}, {"from": "cid"}]}) == [c, a]
    assert query(filter={"inMailbox": jmap.mailbox("trash")}) == []
    assert query(filter={"inMailbox": "M99999999"}) == []
    assert query(filter={"inMailboxOtherThan": [jmap.mailbox("trash")]}) == [c, b, a]
    assert query(sort=[{"property": "subject"}]) == [a, b, c]
    assert query(sort=[{"property": "from", "isAscending": False}]) == [c, b, a]
    assert query(filter={"header": ["Message-ID"]}) == [a]
    assert query(filter={"minSize": 1, "maxSize": 10}) == []
    assert query(filter={"after": "2000-01-01T00:00:00Z", "before": "2100-01-01T00:00:00Z"}) == [c, b, a]
    assert query(collapseThreads=True) == [c, b]
    result = jmap.call("Email/query", {"collapseThreads": True, "calculateTotal": True, "limit": 1})
    assert result["total"] == 2 and result["ids"] == [c] and result["collapseThreads"] is True
    assert query(anchor=b, anchorOffset=0) == [b, a]
    assert jmap.error("Email/query", {"anchor": "E99999999"})["type"] == "anchorNotFound"
    assert jmap.error("Email/query", {"sort": [{"property": "colour"}]})["type"] == "unsupportedSort"
    assert jmap.error("Email/query", {"filter": {"colour": "red"}})["type"] == "unsupportedFilter"
    assert jmap.error("Email/query", {"filter": {"before": "yesterday"}})["type"] == "invalidArguments"
    assert jmap.error("Email/query", {"sort": [{"property": "hasKeyword"}]})["type"] == "invalidArguments"
    hostile = jmap.call("Email/query", {"filter": {"text": '"NEAR( * AND OR'}})
    assert hostile["ids"] == []


def test_search_snippets_mark_terms_and_escape_html(jmap: Jmap) -> None:
    email_id = jmap.import_message(message("Budget <b>draft</b>", "The budget for next year is attached."))
    result = jmap.call("SearchSnippet/get", {"filter": {"text": "budget"}, "emailIds": [email_id, "E99999999"]})
    [snippet] = result["list"]
    assert snippet["emailId"] == email_id
    assert snippet["subject"] == "<mark>Budget</mark> &lt;b&gt;draft&lt;/b&gt;"
    assert "<mark>budget</mark>" in snippet["preview"]
    assert result["notFound"] == ["E99999999"]


def test_changes_across_email_thread_and_mailbox(jmap: Jmap) -> None:
    email_state = jmap.call("Email/get", {"ids": []})["state"]
    thread_state = jmap.call("Thread/get", {"ids": []})["state"]
    made = jmap.import_message(message("Changes"))
    changed = jmap.call("Email/changes", {"sinceState": email_state})
    assert changed["created"] == [made] and changed["updated"] == changed["destroyed"] == []
    threads = jmap.call("Thread/changes", {"sinceState": thread_state})
    assert len(threads["created"]) == 1
    later = changed["newState"]
    jmap.call("Email/set", {"destroy": [made]})
    gone = jmap.call("Email/changes", {"sinceState": later})
    assert gone["destroyed"] == [made]
    assert jmap.call("Email/get", {"ids": [made]})["notFound"] == [made]
    assert jmap.call("Email/set", {"destroy": [made]})["notDestroyed"][made]["type"] == "notFound"


def test_query_changes_report_new_mail(jmap: Jmap) -> None:
    inbox = jmap.mailbox("inbox")
    first = jmap.import_message(message("First"))
    state = jmap.call("Email/query", {"filter": {"inMailbox": inbox}})["queryState"]
    second = jmap.import_message(message("Second"))
    changes = jmap.call(
        "Email/queryChanges", {"filter": {"inMailbox": inbox}, "sinceQueryState": state, "calculateTotal": True}
    )
    assert changes["added"] == [{"id": second, "index": 0}] and changes["total"] == 2
    assert first not in changes["removed"]
    too_many = jmap.error("Email/queryChanges", {"sinceQueryState": "0", "maxChanges": 1})
    assert too_many["type"] == "tooManyChanges"


def test_email_set_creates_a_mime_message(jmap: Jmap) -> None:
    drafts = jmap.mailbox("drafts")
    attachment = jmap.upload(b"%PDF-1.4 fake", "application/pdf")
    created = jmap.call(
        "Email/set",
        {
            "create": {
                "d": {
                    "mailboxIds": {drafts: True},
                    "keywords": {"$draft": True, "$seen": True},
                    "from": [{"name": "Jmail", "email": "jmail@example.org"}],
                    "to": [{"name": "Bob", "email": "bob@example.org"}],
                    "subject": "Report ✓",
                    "bodyValues": {"t": {"value": "See attached."}, "h": {"value": "<p>See attached.</p>"}},
                    "textBody": [{"partId": "t", "type": "text/plain"}],
                    "htmlBody": [{"partId": "h", "type": "text/html"}],
                    "attachments": [{"blobId": attachment["blobId"], "type": "application/pdf", "name": "r.pdf"}],
                }
            }
        },
    )["created"]["d"]
    email = get_email(jmap, created["id"], fetchAllBodyValues=True)
    assert email["subject"] == "Report ✓" and email["hasAttachment"] is True
    assert email["keywords"] == {"$draft": True, "$seen": True}
    [pdf] = email["attachments"]  # type: ignore[misc]
    assert pdf["name"] == "r.pdf" and pdf["type"] == "application/pdf"
    downloaded = jmap.http.get(
        jmap.session["downloadUrl"]
        .replace("{accountId}", jmap.account_id)
        .replace("{blobId}", pdf["blobId"])
        .replace("{name}", "r.pdf")
        .replace("{type}", "application/pdf")
    )
    assert downloaded.content == b"%PDF-1.4 fake"
    html_values = [email["bodyValues"][part["partId"]]["value"] for part in email["htmlBody"]]  # type: ignore[index]
    assert "<p>See attached.</p>" in html_values[0]
    refused = jmap.call(
        "Email/set",
        {
            "create": {
                "nobox": {"subject": "x", "mailboxIds": {}},
                "badbox": {"subject": "x", "mailboxIds": {"M99999999": True}},
                "noblob": {"mailboxIds": {drafts: True}, "attachments": [{"blobId": "Bmissing", "type": "text/plain"}]},
                "serverset": {"mailboxIds": {drafts: True}, "id": "E1"},
            }
        },
    )["notCreated"]
    assert refused["nobox"]["type"] == refused["badbox"]["type"] == refused["serverset"]["type"] == "invalidProperties"
    assert refused["noblob"]["type"] == "blobNotFound"


def test_import_errors_and_malformed_mail(jmap: Jmap) -> None:
    inbox = jmap.mailbox("inbox")
    garbage = jmap.upload(b"\x00\xff not a message at all \r\n\r\n\xfe")["blobId"]
    result = jmap.call(
        "Email/import",
        {
            "emails": {
                "ok": {"blobId": garbage, "mailboxIds": {inbox: True}},
                "missing": {"blobId": "Bmissing", "mailboxIds": {inbox: True}},
                "nobox": {"blobId": garbage, "mailboxIds": {}},
            }
        },
    )
    assert result["created"]["ok"]["id"]
    assert result["notCreated"]["missing"]["type"] == "blobNotFound"
    assert result["notCreated"]["nobox"]["type"] == "invalidProperties"
    assert jmap.error("Email/import", {"ifInState": "1", "emails": {}})["type"] == "stateMismatch"


def test_email_parse(jmap: Jmap) -> None:
    blob = jmap.upload(message("Parse me", "body text"))["blobId"]
    result = jmap.call("Email/parse", {"blobIds": [blob, "Bmissing"], "fetchTextBodyValues": True})
    parsed = result["parsed"][blob]
    assert parsed["subject"] == "Parse me" and parsed["blobId"] == blob
    assert result["notFound"] == ["Bmissing"]
    assert jmap.error("Email/parse", {})["type"] == "invalidArguments"


FORWARDED = (
    b"From: a@example.org\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
    b"--outer\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
    b"--outer\r\nContent-Type: message/rfc822\r\n\r\n"
    b"From: b@example.org\r\nSubject: Inner\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="inner"\r\n\r\n'
    b"--inner\r\nContent-Type: text/plain\r\n\r\nInner text.\r\n"
    b"--inner\r\nContent-Type: application/octet-stream; name=secret.bin\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--inner--\r\n"
    b"--outer--\r\n"
)


def test_attached_message_parts_resolve_through_parse_and_download(jmap: Jmap) -> None:
    email_id = jmap.import_message(FORWARDED)
    [attached] = get_email(jmap, email_id, properties=["attachments"])["attachments"]  # type: ignore[misc]
    assert attached["type"] == "message/rfc822"
    parsed = jmap.call("Email/parse", {"blobIds": [attached["blobId"]]})["parsed"][attached["blobId"]]
    assert parsed["subject"] == "Inner"
    [inner] = parsed["attachments"]
    assert inner["name"] == "secret.bin"
    url = (
        jmap.session["downloadUrl"]
        .replace("{accountId}", jmap.account_id)
        .replace("{blobId}", inner["blobId"])
        .replace("{name}", "secret.bin")
        .replace("{type}", "application/octet-stream")
    )
    assert jmap.http.get(url).content == b"hello"


def test_email_copy_needs_another_reachable_account(jmap: Jmap) -> None:
    error = jmap.error("Email/copy", {"fromAccountId": "A99999999", "create": {}})
    assert error["type"] == "fromAccountNotFound"
    same = jmap.error("Email/copy", {"fromAccountId": jmap.account_id, "create": {}})
    assert same["type"] == "invalidArguments"


def test_identities_and_forbidden_from(server: LiveServer) -> None:
    name = new_name("jmail")
    server.add_user(name, "pw")
    jmap = connect(server, name)
    [identity] = jmap.call("Identity/get", {"ids": None})["list"]
    assert identity["email"].startswith(name + "@") and identity["mayDelete"] is True
    refused = jmap.call("Identity/set", {"create": {"x": {"email": "ceo@example.org", "name": "CEO"}}})
    assert refused["notCreated"]["x"]["type"] == "forbiddenFrom"
    updated = jmap.call("Identity/set", {"update": {identity["id"]: {"name": "Me", "textSignature": "-- me"}}})
    assert identity["id"] in updated["updated"]
    [again] = jmap.call("Identity/get", {"ids": [identity["id"]]})["list"]
    assert (again["name"], again["textSignature"]) == ("Me", "-- me")


def test_catch_all_is_no_identity(server: LiveServer) -> None:
    name = new_name("jmail")
    result = gateway(
        server.data_dir,
        "user",
        "add",
        name,
        "--email",
        f"{name}@catch.example",
        "--alias",
        "@catch.example",
        stdin="pw\n",
    )
    assert result.returncode == 0, result.stderr
    server.passwords[name] = "pw"
    identities = connect(server, name).call("Identity/get", {"ids": None})["list"]
    assert [identity["email"] for identity in identities] == [f"{name}@catch.example"]


def test_vacation_response_singleton(jmap: Jmap) -> None:
    [setting] = jmap.call("VacationResponse/get", {"ids": None})["list"]
    assert setting == {
        "id": "singleton",
        "isEnabled": False,
        "fromDate": None,
        "toDate": None,
        "subject": None,
        "textBody": None,
        "htmlBody": None,
    }
    done = jmap.call(
        "VacationResponse/set",
        {"update": {"singleton": {"isEnabled": True, "subject": "Away", "textBody": "Back Monday."}}},
    )
    assert "singleton" in done["updated"]
    [setting] = jmap.call("VacationResponse/get", {"ids": ["singleton"]})["list"]
    assert setting["isEnabled"] is True and setting["textBody"] == "Back Monday."
    refused = jmap.call(
        "VacationResponse/set",
        {"create": {"x": {}}, "destroy": ["singleton"], "update": {"other": {"isEnabled": True}}},
    )
    assert refused["notCreated"]["x"]["type"] == "singleton"
    assert refused["notDestroyed"]["singleton"]["type"] == "singleton"
    assert refused["notUpdated"]["other"]["type"] == "notFound"
    bad = jmap.call("VacationResponse/set", {"update": {"singleton": {"fromDate": "soon"}}})
    assert bad["notUpdated"]["singleton"]["type"] == "invalidProperties"


def test_mailbox_set_rules(jmap: Jmap) -> None:
    inbox = jmap.mailbox("inbox")
    made = jmap.call(
        "Mailbox/set",
        {"create": {"p": {"name": "Parent"}, "c": {"name": "Kid", "parentId": "#p"}, "dup": {"name": "Inbox"}}},
    )
    assert made["notCreated"]["dup"]["type"] == "invalidProperties"
    parent, child = made["created"]["p"]["id"], made["created"]["c"]["id"]
    assert made["created"]["p"]["totalEmails"] == 0
    archive = jmap.mailbox("archive")
    jmap.import_message(message("Keep"), role="archive")
    refused = jmap.call("Mailbox/set", {"destroy": [parent, inbox, archive]})
    assert refused["notDestroyed"][parent]["type"] == "mailboxHasChild"
    assert refused["notDestroyed"][inbox]["type"] == "forbidden"
    assert refused["notDestroyed"][archive]["type"] == "mailboxHasEmail"
    emptied = jmap.call("Mailbox/set", {"destroy": [archive], "onDestroyRemoveEmails": True})
    assert emptied["destroyed"] == [archive]
    assert jmap.call("Email/query", {})["ids"] == []
    cycle = jmap.call("Mailbox/set", {"update": {parent: {"parentId": child}}})
    assert cycle["notUpdated"][parent]["type"] == "invalidProperties"
    role = jmap.call("Mailbox/set", {"create": {"r": {"name": "Second inbox", "role": "inbox"}}})
    assert role["notCreated"]["r"]["type"] == "invalidProperties"
    gone = jmap.call("Mailbox/set", {"destroy": [child, parent]})
    assert gone["destroyed"] == [child, parent]
    tree = jmap.call("Mailbox/query", {"sortAsTree": True, "filter": {"role": "inbox"}})
    assert tree["ids"] == [inbox]


def test_other_users_cannot_see_mail(server: LiveServer, jmap: Jmap) -> None:
    email_id = jmap.import_message(message("Private"))
    bob = connect(server, "bob")
    assert bob.call("Email/get", {"ids": [email_id]})["notFound"] == [email_id]
    assert email_id not in bob.call("Email/query", {})["ids"]
