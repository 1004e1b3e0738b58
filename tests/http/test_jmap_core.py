"""RFC 8620 over real HTTP: session, request-level problems, method-level errors, references, standard methods."""

from __future__ import annotations

import pytest

from tests.http.jmap_support import CORE, MAIL, USING, Jmap, connect, new_user
from tests.testing import LiveServer


@pytest.fixture
def jmap(server: LiveServer) -> Jmap:
    """A fresh account per test, so counts and states are the test's own."""
    return new_user(server, "jcore")


def problem(response_status: int, body: dict[str, object], kind: str) -> None:
    assert body["type"] == f"urn:ietf:params:jmap:error:{kind}", body
    assert body["status"] == response_status


# --- session ---------------------------------------------------------------------------------------------------


def test_well_known_redirects_to_session(server: LiveServer) -> None:
    with server.client() as http:
        response = http.get("/.well-known/jmap", follow_redirects=False)
        assert response.status_code in (301, 307, 308)
        assert response.headers["location"].endswith("/jmap/session")
        assert http.get("/.well-known/jmap", follow_redirects=True).status_code == 200


def test_session_without_credentials_is_401(server: LiveServer) -> None:
    with server.client(None) as http:
        assert http.get("/jmap/session").status_code == 401


def test_session_describes_capabilities_accounts_and_urls(jmap: Jmap) -> None:
    session = jmap.session
    assert set(USING) <= set(session["capabilities"])
    core = session["capabilities"][CORE]
    for limit in ("maxSizeRequest", "maxCallsInRequest", "maxObjectsInGet", "maxObjectsInSet", "maxConcurrentRequests"):
        assert isinstance(core[limit], int) and core[limit] > 0
    account = session["accounts"][jmap.account_id]
    assert account["isPersonal"] is True and account["isReadOnly"] is False
    assert MAIL in account["accountCapabilities"]
    assert session["primaryAccounts"][MAIL] == jmap.account_id
    assert session["username"].startswith("jcore")
    for url in ("apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl"):
        assert session[url].startswith("http://127.0.0.1:")
    assert "{blobId}" in session["downloadUrl"] and "{accountId}" in session["uploadUrl"]
    assert session["state"]


def test_session_state_is_stable_and_echoed_in_responses(jmap: Jmap) -> None:
    again = jmap.http.get("/jmap/session").json()
    assert again["state"] == jmap.session["state"]
    body = jmap.request([["Core/echo", {"x": 1}, "0"]]).json()
    assert body["sessionState"] == jmap.session["state"]


# --- request-level problems (RFC 8620 §3.6.1) -----------------------------------------------------------------


def test_not_json(jmap: Jmap) -> None:
    response = jmap.http.post("/jmap/api/", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem(400, response.json(), "notJSON")


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"using": "core", "methodCalls": []}',
        b'{"using": [], "methodCalls": {}}',
        b'{"using": [], "methodCalls": [["Core/echo", {}]]}',
        b'{"using": [], "methodCalls": [["Core/echo", [], "0"]]}',
        b'{"using": [], "methodCalls": [], "createdIds": []}',
    ],
)
def test_not_request(jmap: Jmap, body: bytes) -> None:
    response = jmap.http.post("/jmap/api/", content=body, headers={"Content-Type": "application/json"})
    problem(400, response.json(), "notRequest")


def test_unknown_capability(jmap: Jmap) -> None:
    response = jmap.request([["Core/echo", {}, "0"]], using=[CORE, "urn:example:nope"])
    problem(400, response.json(), "unknownCapability")


def test_too_many_calls(jmap: Jmap) -> None:
    limit = jmap.session["capabilities"][CORE]["maxCallsInRequest"]
    response = jmap.request([["Core/echo", {}, str(i)] for i in range(limit + 1)])
    body = response.json()
    problem(400, body, "limit")
    assert body["limit"] == "maxCallsInRequest"


def test_request_too_large(jmap: Jmap) -> None:
    limit = jmap.session["capabilities"][CORE]["maxSizeRequest"]
    padding = "x" * (limit + 1)
    response = jmap.request([["Core/echo", {"pad": padding}, "0"]])
    assert response.status_code == 413
    body = response.json()
    assert body["type"].endswith(":limit") and body["limit"] == "maxSizeRequest"


# --- method-level errors (RFC 8620 §3.6.2) --------------------------------------------------------------------


def test_echo(jmap: Jmap) -> None:
    [[name, arguments, call_id]] = jmap.calls([["Core/echo", {"hello": True, "list": [1, 2]}, "e1"]])
    assert (name, arguments, call_id) == ("Core/echo", {"hello": True, "list": [1, 2]}, "e1")


def test_unknown_method(jmap: Jmap) -> None:
    [[name, arguments, call_id]] = jmap.calls([["Nope/get", {}, "x"]])
    assert (name, arguments["type"], call_id) == ("error", "unknownMethod", "x")


def test_method_of_capability_not_in_using_is_unknown(jmap: Jmap) -> None:
    [[name, arguments, _]] = jmap.calls([["Mailbox/get", {"accountId": jmap.account_id}, "x"]], using=[CORE])
    assert name == "error" and arguments["type"] == "unknownMethod"


def test_account_not_found(jmap: Jmap) -> None:
    for account in ("A999999", "nonsense", jmap.account_id + "0"):
        [[name, arguments, _]] = jmap.calls([["Mailbox/get", {"accountId": account}, "x"]])
        assert name == "error" and arguments["type"] == "accountNotFound"


def test_other_users_account_is_not_found(server: LiveServer, jmap: Jmap) -> None:
    other = connect(server, "bob")
    [[name, arguments, _]] = jmap.calls([["Mailbox/get", {"accountId": other.account_id, "ids": None}, "x"]])
    assert name == "error" and arguments["type"] == "accountNotFound"


@pytest.mark.parametrize(
    "arguments",
    [
        {"ids": "M1"},
        {"ids": [1, 2]},
        {"ids": None, "properties": ["nope"]},
        {"ids": None, "properties": "name"},
    ],
)
def test_invalid_arguments(jmap: Jmap, arguments: dict[str, object]) -> None:
    assert jmap.error("Mailbox/get", arguments)["type"] == "invalidArguments"


def test_errors_do_not_stop_later_calls(jmap: Jmap) -> None:
    responses = jmap.calls([["Nope/x", {}, "a"], ["Core/echo", {"ok": 1}, "b"]])
    assert [r[0] for r in responses] == ["error", "Core/echo"]


# --- result references (RFC 8620 §3.7) -------------------------------------------------------------------------


def test_result_reference_with_wildcard_path(jmap: Jmap) -> None:
    responses = jmap.calls(
        [
            ["Mailbox/query", {"accountId": jmap.account_id}, "q"],
            [
                "Mailbox/get",
                {
                    "accountId": jmap.account_id,
                    "#ids": {"resultOf": "q", "name": "Mailbox/query", "path": "/ids"},
                    "properties": ["name"],
                },
                "g",
            ],
            [
                "Core/echo",
                {"#names": {"resultOf": "g", "name": "Mailbox/get", "path": "/list/*/name"}},
                "e",
            ],
        ]
    )
    assert responses[1][0] == "Mailbox/get"
    assert len(responses[1][1]["list"]) == len(responses[0][1]["ids"]) == 6
    assert sorted(responses[2][1]["names"]) == ["Archive", "Drafts", "Inbox", "Junk", "Sent", "Trash"]


@pytest.mark.parametrize(
    "reference",
    [
        {"resultOf": "missing", "name": "Mailbox/query", "path": "/ids"},
        {"resultOf": "q", "name": "Mailbox/get", "path": "/ids"},
        {"resultOf": "q", "name": "Mailbox/query", "path": "/nope"},
        {"resultOf": "q", "name": "Mailbox/query", "path": "/ids/99"},
        {"resultOf": "q"},
    ],
)
def test_invalid_result_reference(jmap: Jmap, reference: dict[str, str]) -> None:
    responses = jmap.calls(
        [
            ["Mailbox/query", {"accountId": jmap.account_id}, "q"],
            ["Mailbox/get", {"accountId": jmap.account_id, "#ids": reference}, "g"],
        ]
    )
    assert responses[1][0] == "error" and responses[1][1]["type"] == "invalidResultReference"


def test_reference_to_an_error_response_is_invalid(jmap: Jmap) -> None:
    responses = jmap.calls(
        [
            ["Mailbox/query", {"accountId": "A0"}, "q"],
            [
                "Mailbox/get",
                {"accountId": jmap.account_id, "#ids": {"resultOf": "q", "name": "Mailbox/query", "path": "/ids"}},
                "g",
            ],
        ]
    )
    assert responses[1][1]["type"] == "invalidResultReference"


def test_argument_given_both_plain_and_as_reference(jmap: Jmap) -> None:
    responses = jmap.calls(
        [
            ["Mailbox/query", {"accountId": jmap.account_id}, "q"],
            [
                "Mailbox/get",
                {
                    "accountId": jmap.account_id,
                    "ids": [],
                    "#ids": {"resultOf": "q", "name": "Mailbox/query", "path": "/ids"},
                },
                "g",
            ],
        ]
    )
    assert responses[1][1]["type"] == "invalidArguments"


# --- created ids and /set ----------------------------------------------------------------------------------------


def test_created_ids_are_returned_and_usable_across_calls(jmap: Jmap) -> None:
    response = jmap.request(
        [
            ["Mailbox/set", {"accountId": jmap.account_id, "create": {"p": {"name": "Projects"}}}, "a"],
            ["Mailbox/set", {"accountId": jmap.account_id, "create": {"c": {"name": "Child", "parentId": "#p"}}}, "b"],
            ["Mailbox/get", {"accountId": jmap.account_id, "ids": ["#c"], "properties": ["parentId"]}, "g"],
        ],
        createdIds={"old": "M1"},
    ).json()
    parent = body_created(response, 0, "p")
    assert response["createdIds"]["p"] == parent and response["createdIds"]["old"] == "M1"
    assert response["methodResponses"][2][1]["list"][0]["parentId"] == parent


def body_created(body: dict[str, object], index: int, creation_id: str) -> str:
    responses = body["methodResponses"]
    assert isinstance(responses, list)
    return str(responses[index][1]["created"][creation_id]["id"])


def test_if_in_state_mismatch(jmap: Jmap) -> None:
    error = jmap.error("Mailbox/set", {"ifInState": "12345678", "create": {"x": {"name": "X"}}})
    assert error["type"] == "stateMismatch"
    state = jmap.call("Mailbox/get", {"ids": []})["state"]
    done = jmap.call("Mailbox/set", {"ifInState": state, "create": {"x": {"name": "X"}}})
    assert done["oldState"] == state and done["newState"] != state and done["created"]["x"]["id"]


def test_too_many_objects(jmap: Jmap) -> None:
    core = jmap.session["capabilities"][CORE]
    ids = [f"M{i}" for i in range(core["maxObjectsInGet"] + 1)]
    assert jmap.error("Mailbox/get", {"ids": ids})["type"] == "requestTooLarge"
    destroy = [f"M{i}" for i in range(core["maxObjectsInSet"] + 1)]
    assert jmap.error("Mailbox/set", {"destroy": destroy})["type"] == "requestTooLarge"


def test_patch_objects(jmap: Jmap) -> None:
    made = jmap.call("Mailbox/set", {"create": {"x": {"name": "Before", "sortOrder": 3}}})["created"]["x"]["id"]
    done = jmap.call("Mailbox/set", {"update": {made: {"name": "After", "isSubscribed": True}}})
    assert made in done["updated"]
    [got] = jmap.call("Mailbox/get", {"ids": [made]})["list"]
    assert (got["name"], got["sortOrder"], got["isSubscribed"]) == ("After", 3, True)
    bad = jmap.call("Mailbox/set", {"update": {made: {"totalEmails": 5}, "M999999": {"name": "x"}}})
    assert bad["notUpdated"][made]["type"] == "invalidProperties"
    assert bad["notUpdated"]["M999999"]["type"] == "notFound"
    overlap = jmap.call("Mailbox/set", {"update": {made: {"myRights": {}, "myRights/mayDelete": False}}})
    assert overlap["notUpdated"][made]["type"] == "invalidPatch"


# --- /changes ------------------------------------------------------------------------------------------------------


def test_changes_paginate_and_report_created_updated_destroyed(jmap: Jmap) -> None:
    start = jmap.call("Mailbox/get", {"ids": []})["state"]
    created = jmap.call("Mailbox/set", {"create": {str(i): {"name": f"Box {i}"} for i in range(5)}})["created"]
    ids = [created[str(i)]["id"] for i in range(5)]
    first = jmap.call("Mailbox/changes", {"sinceState": start, "maxChanges": 3})
    assert first["hasMoreChanges"] is True and len(first["created"]) == 3 and first["oldState"] == start
    second = jmap.call("Mailbox/changes", {"sinceState": first["newState"], "maxChanges": 3})
    assert second["hasMoreChanges"] is False and sorted(first["created"] + second["created"]) == sorted(ids)
    middle = second["newState"]
    jmap.call("Mailbox/set", {"update": {ids[0]: {"name": "Renamed"}}, "destroy": [ids[1]]})
    after = jmap.call("Mailbox/changes", {"sinceState": middle})
    assert after["updated"] == [ids[0]] and after["destroyed"] == [ids[1]] and after["created"] == []
    assert after["updatedProperties"] is None
    nothing = jmap.call("Mailbox/changes", {"sinceState": after["newState"]})
    assert nothing["created"] == nothing["updated"] == nothing["destroyed"] == []
    assert nothing["newState"] == after["newState"]


@pytest.mark.parametrize("state", ["garbage", "99999999999", "-1"])
def test_cannot_calculate_changes(jmap: Jmap, state: str) -> None:
    assert jmap.error("Mailbox/changes", {"sinceState": state})["type"] == "cannotCalculateChanges"


def test_changes_need_a_positive_max(jmap: Jmap) -> None:
    assert jmap.error("Mailbox/changes", {"sinceState": "0", "maxChanges": 0})["type"] == "invalidArguments"


# --- /query -------------------------------------------------------------------------------------------------------


def test_query_window_anchor_and_errors(jmap: Jmap) -> None:
    everything = jmap.call("Mailbox/query", {"sort": [{"property": "name"}], "calculateTotal": True})
    ids = everything["ids"]
    assert everything["total"] == len(ids) == 6 and everything["position"] == 0
    page = jmap.call("Mailbox/query", {"sort": [{"property": "name"}], "position": 2, "limit": 2})
    assert page["ids"] == ids[2:4] and page["position"] == 2
    tail = jmap.call("Mailbox/query", {"sort": [{"property": "name"}], "position": -2})
    assert tail["ids"] == ids[-2:] and tail["position"] == 4
    anchored = jmap.call(
        "Mailbox/query", {"sort": [{"property": "name"}], "anchor": ids[3], "anchorOffset": -1, "limit": 2}
    )
    assert anchored["ids"] == ids[2:4] and anchored["position"] == 2
    assert jmap.error("Mailbox/query", {"anchor": "M999999"})["type"] == "anchorNotFound"
    assert jmap.error("Mailbox/query", {"sort": [{"property": "colour"}]})["type"] == "unsupportedSort"
    assert jmap.error("Mailbox/query", {"filter": {"colour": "red"}})["type"] == "unsupportedFilter"
    assert jmap.error("Mailbox/query", {"position": "1"})["type"] == "invalidArguments"


def test_query_changes(jmap: Jmap) -> None:
    before = jmap.call("Mailbox/query", {"filter": {"hasAnyRole": False}})
    made = jmap.call("Mailbox/set", {"create": {"n": {"name": "Zeta"}}})["created"]["n"]["id"]
    changes = jmap.call(
        "Mailbox/queryChanges", {"filter": {"hasAnyRole": False}, "sinceQueryState": before["queryState"]}
    )
    assert changes["oldQueryState"] == before["queryState"] and changes["newQueryState"] != before["queryState"]
    assert changes["added"] == [{"id": made, "index": 0}] and made in changes["removed"]
    stale = jmap.error("Mailbox/queryChanges", {"sinceQueryState": "nonsense"})
    assert stale["type"] == "cannotCalculateChanges"
