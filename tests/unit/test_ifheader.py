"""The If header parser and evaluator, and the Timeout / Lock-Token helpers (RFC 4918 §10.4, §10.5, §10.7)."""

from __future__ import annotations

import pytest

from protocols.webdav.ifheader import (
    NO_LOCK,
    Condition,
    ConditionList,
    IfHeader,
    IfHeaderSyntaxError,
    ResourceState,
    evaluate,
    parse_if_header,
    parse_lock_token_header,
    parse_timeout,
    resource_tag_path,
)

T1 = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
T2 = "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092"
OLT = "opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4"


def tok(token: str, negated: bool = False) -> Condition:
    return Condition(negated, token, None)


def etag(value: str, negated: bool = False) -> Condition:
    return Condition(negated, None, value)


def lst(*conditions: Condition, resource: str | None = None) -> ConditionList:
    return ConditionList(resource, conditions)


# --- parsing -------------------------------------------------------------------------------------------------

PARSE_CASES: list[tuple[str, str, tuple[ConditionList, ...]]] = [
    # RFC 4918 §10.4.6: no-tag production
    (
        "rfc-10.4.6",
        f'(<{T1}> ["I am an ETag"]) (["I am another ETag"])',
        (lst(tok(T1), etag('"I am an ETag"')), lst(etag('"I am another ETag"'))),
    ),
    # §10.4.7: Not with no-tag production
    ("rfc-10.4.7", f"(Not <{T1}> <{T2}>)", (lst(tok(T1, True), tok(T2)),)),
    # §10.4.8: causing a condition to always evaluate to true
    ("rfc-10.4.8", f"(<{T1}>) (Not <DAV:no-lock>)", (lst(tok(T1)), lst(tok(NO_LOCK, True)))),
    # §10.4.9: tagged list in COPY, weak etag kept as written
    (
        "rfc-10.4.9",
        f'</resource1> (<{T1}> [W/"A weak ETag"]) (["strong ETag"])',
        (
            lst(tok(T1), etag('W/"A weak ETag"'), resource="/resource1"),
            lst(etag('"strong ETag"'), resource="/resource1"),
        ),
    ),
    # §10.4.10: matching lock tokens with collection locks
    (
        "rfc-10.4.10",
        f"<http://www.example.com/specs/> (<{T1}>)",
        (lst(tok(T1), resource="http://www.example.com/specs/"),),
    ),
    # §10.4.11: matching etags on unmapped URLs
    ("rfc-10.4.11", '</specs/rfc2518.doc> (["4217"])', (lst(etag('"4217"'), resource="/specs/rfc2518.doc"),)),
    # litmus / neon style headers
    ("litmus-cond-put", f'(<{OLT}> ["abc-123"])', (lst(tok(OLT), etag('"abc-123"')),)),
    ("spaces-in-brackets", f'(<{OLT}> [ "etag" ])', (lst(tok(OLT), etag('"etag"')),)),
    (
        "absolute-uri-tag",
        "<http://localhost:8080/dav/files/u/a> (<urn:uuid:x>)",
        (lst(tok("urn:uuid:x"), resource="http://localhost:8080/dav/files/u/a"),),
    ),
    ("not-no-lock-etag", '(Not <DAV:no-lock> ["etag"])', (lst(tok(NO_LOCK, True), etag('"etag"')),)),
    (
        "complex-cond-put",
        f'<http://h/dav/x> (<{OLT}> ["e1"]) (Not <DAV:no-lock> ["e1"])',
        (
            lst(tok(OLT), etag('"e1"'), resource="http://h/dav/x"),
            lst(tok(NO_LOCK, True), etag('"e1"'), resource="http://h/dav/x"),
        ),
    ),
    (
        "multiple-tagged",
        f'</a> (<{T1}>) </b> (<{T2}>) (Not ["x"])',
        (lst(tok(T1), resource="/a"), lst(tok(T2), resource="/b"), lst(etag('"x"', True), resource="/b")),
    ),
    # whitespace is optional and may be generous (LWS includes folded lines)
    (
        "no-whitespace",
        f'</a>(<{T1}>["e"])(Not<{T2}>)',
        (lst(tok(T1), etag('"e"'), resource="/a"), lst(tok(T2, True), resource="/a")),
    ),
    (
        "extra-whitespace",
        f'  \t( \t Not   <{T1}>\r\n  [ W/"w" ] )   ( [""] )  ',
        (lst(tok(T1, True), etag('W/"w"')), lst(etag('""'))),
    ),
    ("not-any-case", f'(NOT <{T1}>) (not ["e"])', (lst(tok(T1, True)), lst(etag('"e"', True)))),
    ("etag-with-bracket-and-paren", '(["a]b)c"])', (lst(etag('"a]b)c"')),)),
    ("escaped-quote-in-etag", r'(["a\"b"])', (lst(etag(r'"a\"b"')),)),
]


@pytest.mark.parametrize(("value", "expected"), [case[1:] for case in PARSE_CASES], ids=[c[0] for c in PARSE_CASES])
def test_parse(value: str, expected: tuple[ConditionList, ...]) -> None:
    assert parse_if_header(value) == IfHeader(expected)


BAD_HEADERS = {
    "empty": "",
    "blank": "   \t ",
    "empty-list": "()",
    "empty-list-after-good": f"(<{T1}>) ()",
    "unclosed-paren": f"(<{T1}>",
    "unopened-paren": f"<{T1}>)",
    "unclosed-angle": "(<urn:uuid:x)",
    "unclosed-bracket": '(["e")',
    "unclosed-quote": '(["e])',
    "unquoted-etag": "([e])",
    "empty-brackets": "([])",
    "empty-coded-url": "(<>)",
    "space-in-coded-url": "(<urn:uuid x>)",
    "nested-angle": "(<<urn:x>>)",
    "mixed-untagged-then-tagged": f"(<{T1}>) </a> (<{T2}>)",
    "garbage-after-tagged": f"</a> (<{T1}>) [junk]",
    "tag-without-list": "</a>",
    "tag-then-tag": f"</a> </b> (<{T1}>)",
    "tag-at-end": f"</a> (<{T1}>) </b>",
    "garbage": "hello",
    "garbage-after": f"(<{T1}>) x",
    "garbage-in-list": f"(<{T1}> foo)",
    "not-alone": "(Not)",
    "not-glued": f"(Nota <{T1}>)",
    "not-not": f"(Not Not <{T1}>)",
    "bare-etag": '"e"',
    "nested-list": f"((<{T1}>))",
    "relative-tag": f"<a/b> (<{T1}>)",
    "bad-utf8-tag": f"</%ff> (<{T1}>)",
    "bad-ipv6-tag": f"<http://[::1/x> (<{T1}>)",
}


@pytest.mark.parametrize("value", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_parse_rejects(value: str) -> None:
    with pytest.raises(IfHeaderSyntaxError):
        parse_if_header(value)


def test_syntax_error_is_value_error() -> None:
    assert issubclass(IfHeaderSyntaxError, ValueError)


def test_submitted_tokens_include_negated_and_skip_no_lock() -> None:
    header = parse_if_header(f'</a> (Not <{T1}>) (<DAV:no-lock>) </b> (<{T2}> ["e"]) (Not <DAV:no-lock>)')
    assert header.submitted_tokens == frozenset({T1, T2})


def test_submitted_tokens_empty_for_etags_only() -> None:
    assert parse_if_header('(["a"]) (Not ["b"])').submitted_tokens == frozenset()


@pytest.mark.parametrize(
    ("tag", "path"),
    [
        ("/a/b", "/a/b"),
        ("http://localhost:8080/dav/files/u/a", "/dav/files/u/a"),
        ("https://example.com", "/"),
        ("http://h/dav/a%20b/c%C3%A9?q=1#f", "/dav/a b/cé"),
        ("/s?query", "/s"),
    ],
)
def test_resource_tag_path(tag: str, path: str) -> None:
    assert resource_tag_path(tag) == path


# --- evaluation ----------------------------------------------------------------------------------------------


class FakeStore:
    """A ``state`` callback over a dict of path -> state, recording every call."""

    def __init__(self, states: dict[str, ResourceState]) -> None:
        self.states = states
        self.calls: list[str] = []

    async def __call__(self, path: str) -> ResourceState:
        self.calls.append(path)
        return self.states.get(path, ResourceState(None, frozenset()))


REQ = "/dav/files/u/doc.txt"
COLL = "/dav/files/u/"
STATES = {
    REQ: ResourceState('"e1"', frozenset({T1})),
    COLL: ResourceState('"c1"', frozenset({T1})),
    "/dav/files/u/free.txt": ResourceState('"e2"', frozenset()),
    "/dav/files/u/a b": ResourceState('"sp"', frozenset({T2})),
}

EVAL_CASES: list[tuple[str, str, bool]] = [
    ("token-match", f"(<{T1}>)", True),
    ("token-mismatch", f"(<{T2}>)", False),
    ("not-token-match", f"(Not <{T1}>)", False),
    ("not-token-mismatch", f"(Not <{T2}>)", True),
    ("etag-match", '(["e1"])', True),
    ("etag-mismatch", '(["nope"])', False),
    ("not-etag-mismatch", '(Not ["nope"])', True),
    ("etag-is-exact", '(["E1"])', False),
    ("weak-etag-never-matches-strongly", '([W/"e1"])', False),
    ("not-weak-etag", '(Not [W/"e1"])', True),
    ("all-true", f'(<{T1}> ["e1"])', True),
    ("all-one-false", f'(<{T1}> ["bad"])', False),
    ("any-second-true", f'(<{T2}>) (["e1"])', True),
    ("any-all-false", f'(<{T2}>) (["x"]) (Not <{T1}>)', False),
    ("rfc-10.4.7-shape", f"(Not <{T2}> <{T1}>)", True),
    ("no-lock", "(<DAV:no-lock>)", False),
    ("not-no-lock", "(Not <DAV:no-lock>)", True),
    ("not-no-lock-or-bad-token", f"(<{T2}>) (Not <DAV:no-lock>)", True),
    ("not-no-lock-with-etag", '(Not <DAV:no-lock> ["e1"])', True),
    ("not-no-lock-with-bad-etag", '(Not <DAV:no-lock> ["e0"])', False),
    ("litmus-complex-cond-put", f'<http://localhost:8080{REQ}> (<{T1}> ["e1"]) (Not <DAV:no-lock> ["e1"])', True),
    ("litmus-fail-complex-cond-put", f'(<{T1}> ["bad"]) (Not <DAV:no-lock> ["bad"])', False),
    ("corrupt-token", "(<opaquelocktoken:foobar>)", False),
    ("tagged-request-path", f"<{REQ}> (<{T1}>)", True),
    ("tagged-collection-absolute", f"<http://www.example.com{COLL}> (<{T1}>)", True),
    ("tagged-other-unlocked", f"</dav/files/u/free.txt> (<{T1}>)", False),
    ("tagged-other-etag", '</dav/files/u/free.txt> (["e2"])', True),
    ("tagged-percent-encoded", f'<http://h/dav/files/u/a%20b> (<{T2}> ["sp"])', True),
    ("tagged-any-across-resources", f'</dav/files/u/free.txt> (["zz"]) <{COLL}> (["c1"])', True),
    ("missing-resource-etag", '</dav/files/u/gone> (["e1"])', False),
    ("missing-resource-not-etag", '</dav/files/u/gone> (Not ["e1"])', True),
    ("missing-resource-token", f"</dav/files/u/gone> (<{T1}>)", False),
    ("missing-resource-not-no-lock", "</dav/files/u/gone> (Not <DAV:no-lock>)", True),
]


@pytest.mark.parametrize(("value", "expected"), [case[1:] for case in EVAL_CASES], ids=[c[0] for c in EVAL_CASES])
async def test_evaluate(value: str, expected: bool) -> None:
    assert await evaluate(parse_if_header(value), REQ, FakeStore(STATES)) is expected


async def test_weak_resource_etag_never_matches() -> None:
    store = FakeStore({REQ: ResourceState('W/"e1"', frozenset())})
    assert not await evaluate(parse_if_header('([W/"e1"])'), REQ, store)
    assert not await evaluate(parse_if_header('(["e1"])'), REQ, store)


async def test_request_path_is_used_for_untagged_lists() -> None:
    store = FakeStore(STATES)
    assert await evaluate(parse_if_header('(["e2"])'), "/dav/files/u/free.txt", store)
    assert store.calls == ["/dav/files/u/free.txt"]


async def test_state_called_once_per_path() -> None:
    store = FakeStore(STATES)
    header = parse_if_header(
        f'<{REQ}> (["x"]) (<{T2}>) </dav/files/u/free.txt> (["y"]) <http://h/dav/files/u/free.txt> (Not ["e2"]) '
        f'<http://h:80{REQ}> (<{T2}>) <http://h{COLL}> (["no"]) (Not <{T1}>)'
    )
    assert not await evaluate(header, "/elsewhere", store)
    assert sorted(store.calls) == sorted([REQ, "/dav/files/u/free.txt", COLL])


async def test_untagged_lists_share_one_state_call() -> None:
    store = FakeStore(STATES)
    assert not await evaluate(parse_if_header(f'(["x"]) (<{T2}>) (Not <{T1}>) (Not ["e1"])'), REQ, store)
    assert store.calls == [REQ]


async def test_state_passed_decoded_path() -> None:
    store = FakeStore(STATES)
    assert await evaluate(parse_if_header(f"</dav/files/u/a%20b> (<{T2}>)"), REQ, store)
    assert store.calls == ["/dav/files/u/a b"]


async def test_evaluation_stops_at_first_true_list() -> None:
    store = FakeStore(STATES)
    assert await evaluate(parse_if_header(f'<{REQ}> (<{T1}>) </dav/files/u/free.txt> (["e2"])'), REQ, store)
    assert store.calls == [REQ]


# --- Timeout -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "max_seconds", "expected"),
    [
        (None, 3600, 600),
        ("", 3600, 600),
        (None, 300, 300),
        ("Second-3600", 7200, 3600),
        ("Second-3600", 1800, 1800),
        ("second-42", 3600, 42),
        ("Infinite", 3600, 3600),
        ("Infinite, Second-4100000000", 86400, 86400),
        ("Second-4100000000", 86400, 86400),
        ("Second-60, Infinite", 3600, 60),
        ("garbage, Second-120", 3600, 120),
        ("  Second-120  ,Infinite", 3600, 120),
        ("Second-", 3600, 600),
        ("Second--5", 3600, 600),
        ("Second-abc", 3600, 600),
        ("Minute-5", 3600, 600),
        ("Second-0", 3600, 1),
    ],
)
def test_parse_timeout(value: str | None, max_seconds: int, expected: int) -> None:
    assert parse_timeout(value, max_seconds) == expected


# --- Lock-Token ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(f"<{T1}>", T1), (f"  <{OLT}> ", OLT), ("<urn:uuid:x>", "urn:uuid:x")],
)
def test_parse_lock_token_header(value: str, expected: str) -> None:
    assert parse_lock_token_header(value) == expected


@pytest.mark.parametrize("value", ["", T1, f"<{T1}", f"{T1}>", "<>", "<a b>", f"<{T1}> <{T2}>", f"(<{T1}>)"])
def test_parse_lock_token_header_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_lock_token_header(value)
