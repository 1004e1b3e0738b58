"""CardDAV addressbook-query filters (RFC 6352 §10.5): parsing, the §8.6 examples, matching, index pushdown."""

from __future__ import annotations

import unicodedata

import pytest

from protocols.carddav.filters import (
    Filter,
    FilterError,
    ParamFilter,
    PropFilter,
    TermQuery,
    index_terms,
    matches,
    parse_filter,
)
from protocols.carddav.reports import term_matches
from protocols.formats.collation import unicode_casemap_key
from protocols.formats.vcard import CAPPED_TERM, MAX_TERMS, VCard, index_vcard, parse_vcard
from protocols.webdav.textmatch import TextMatch
from protocols.webdav.xml import CALDAV, CARDDAV, parse

OCTET, ASCII, UNICODE = "i;octet", "i;ascii-casemap", "i;unicode-casemap"

# -- helpers -------------------------------------------------------------------------------------------------


def xml_filter(inner: str, test: str | None = None) -> Filter:
    attribute = f' test="{test}"' if test else ""
    return parse_filter(parse(f'<CR:filter xmlns:CR="{CARDDAV}"{attribute}>{inner}</CR:filter>'.encode()))


def prop(name: str, inner: str = "", test: str | None = None) -> str:
    attribute = f' test="{test}"' if test else ""
    return f'<CR:prop-filter name="{name}"{attribute}>{inner}</CR:prop-filter>'


def param(name: str, inner: str = "") -> str:
    return f'<CR:param-filter name="{name}">{inner}</CR:param-filter>'


def text(value: str, match_type: str | None = None, collation: str | None = None, negate: bool = False) -> str:
    attributes = f' match-type="{match_type}"' if match_type else ""
    attributes += f' collation="{collation}"' if collation else ""
    attributes += ' negate-condition="yes"' if negate else ""
    return f"<CR:text-match{attributes}>{value}</CR:text-match>"


NOT_DEFINED = "<CR:is-not-defined/>"


def vcard(version: str, *lines: str) -> VCard:
    body = ["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"]
    return parse_vcard(("\r\n".join(body) + "\r\n").encode())


# -- address objects -----------------------------------------------------------------------------------------

CARDS: dict[str, VCard] = {
    "daboo": vcard(
        "3.0",
        "UID:daboo",
        "N:Daboo;Cyrus;;;",
        "FN:Cyrus Daboo",
        "NICKNAME:me",
        "EMAIL;TYPE=work:daboo@example.com",
        "item1.EMAIL;TYPE=home:cyrus@example.net",
        "item1.X-ABLabel:_$!<Home>!$_",
        "TEL;TYPE=work,voice:+1 555 0100",
    ),
    "bernard": vcard(
        "4.0",
        "UID:urn:uuid:bernard",
        "FN:Bernard Desruisseaux",
        "EMAIL:bernard@example.com",
        "TEL;VALUE=uri;TYPE=home:tel:+1-555-0199",
    ),
    "muller": vcard(
        "4.0",
        "UID:muller",
        "FN:Jürgen Müller",
        "ORG:Bäckerei Müller",
    ),
    "york": vcard(
        "3.0",
        "UID:york",
        "N:York;Eric;;;",
        "FN:Eric York",
        "NICKNAME:Ricky",
        "EMAIL;TYPE=home:eric@example.com",
        "EMAIL;TYPE=work:york@work.example",
    ),
    "alvarez": vcard(
        "4.0",
        "UID:alvarez",
        "FN:José Álvarez",
        "EMAIL;TYPE=work:jose@example.org",
    ),
}


def selected(filter: Filter) -> set[str]:
    return {name for name, card in CARDS.items() if matches(filter, card)}


# -- parsing -------------------------------------------------------------------------------------------------


def test_rfc_8_6_4_nickname_equals() -> None:
    parsed = xml_filter(prop("NICKNAME", text("me", "equals", UNICODE)))
    assert parsed == Filter("anyof", (PropFilter("NICKNAME", text_matches=(TextMatch("me", UNICODE, "equals"),)),))
    assert selected(parsed) == {"daboo"}


def test_rfc_8_6_5_full_name_or_email() -> None:
    parsed = xml_filter(
        prop("FN", text("daboo", "contains", UNICODE)) + prop("EMAIL", text("daboo", "contains", UNICODE)),
        test="anyof",
    )
    assert [prop_filter.name for prop_filter in parsed.prop_filters] == ["FN", "EMAIL"]
    assert selected(parsed) == {"daboo"}


def test_defaults() -> None:
    """§10.5.4: i;unicode-casemap and contains; §10.5 and §10.5.1: anyof."""
    parsed = xml_filter(prop("email", text("X") + param("type")))
    assert parsed.test == "anyof"
    prop_filter = parsed.prop_filters[0]
    assert (prop_filter.name, prop_filter.test, prop_filter.is_not_defined) == ("EMAIL", "anyof", False)
    assert prop_filter.text_matches == (TextMatch("X", UNICODE, "contains", False),)
    assert prop_filter.param_filters == (ParamFilter("TYPE"),)


def test_full_shape() -> None:
    parsed = xml_filter(
        prop("TEL", text("555", "starts-with", ASCII) + text("9", "ends-with", OCTET, negate=True), test="allof")
        + prop("NOTE", NOT_DEFINED)
        + prop("EMAIL", param("TYPE", NOT_DEFINED) + param("PREF", text("1", "equals"))),
        test="allof",
    )
    assert parsed == Filter(
        "allof",
        (
            PropFilter(
                "TEL",
                "allof",
                text_matches=(TextMatch("555", ASCII, "starts-with"), TextMatch("9", OCTET, "ends-with", True)),
            ),
            PropFilter("NOTE", is_not_defined=True),
            PropFilter(
                "EMAIL",
                param_filters=(
                    ParamFilter("TYPE", is_not_defined=True),
                    ParamFilter("PREF", text_match=TextMatch("1", UNICODE, "equals")),
                ),
            ),
        ),
    )


def test_empty_filter_and_foreign_elements() -> None:
    assert xml_filter("") == Filter()
    foreign = f'<X:note xmlns:X="urn:example"/><C:prop-filter xmlns:C="{CALDAV}" name="FN"/>'
    assert xml_filter(foreign + prop("FN", foreign)) == Filter(prop_filters=(PropFilter("FN"),))


ERRORS = [
    (prop("FN", "<CR:time-range/>"), "valid-filter"),
    ("<CR:text-match>x</CR:text-match>", "valid-filter"),
    (prop("FN", NOT_DEFINED + text("x")), "valid-filter"),
    (prop("EMAIL", param("TYPE", NOT_DEFINED + text("x"))), "valid-filter"),
    (prop("EMAIL", param("TYPE", text("a") + text("b"))), "valid-filter"),
    (prop("EMAIL", param("TYPE", prop("FN"))), "valid-filter"),
    ("<CR:prop-filter/>", "valid-filter"),
    (prop(""), "valid-filter"),
    (prop("E MAIL"), "valid-filter"),
    (prop("EMAIL", param("TY;PE")), "valid-filter"),
    (prop("EMAIL", param("item1.TYPE")), "valid-filter"),
    (prop("FN", test="any"), "valid-filter"),
    (prop("FN", text("x", "regex")), "valid-filter"),
    (prop("FN", '<CR:text-match negate-condition="maybe">x</CR:text-match>'), "valid-filter"),
    (prop("FN", text("x", collation="i;basic")), "supported-collation"),
    (prop("EMAIL", param("TYPE", text("x", collation="en;primary"))), "supported-collation"),
    (prop("item1.EMAIL"), "supported-filter"),
]


@pytest.mark.parametrize(("inner", "condition"), ERRORS)
def test_parse_errors(inner: str, condition: str) -> None:
    with pytest.raises(FilterError) as caught:
        xml_filter(inner)
    assert caught.value.condition == condition


def test_bad_filter_test_and_wrong_root() -> None:
    with pytest.raises(FilterError) as caught:
        xml_filter(prop("FN"), test="oneof")
    assert caught.value.condition == "valid-filter"
    with pytest.raises(FilterError) as caught:
        parse_filter(parse(f'<C:filter xmlns:C="{CALDAV}"/>'.encode()))
    assert caught.value.condition == "valid-filter"


# -- matching ------------------------------------------------------------------------------------------------


def test_empty_filter_matches_everything() -> None:
    assert selected(Filter()) == set(CARDS)
    assert selected(Filter("allof")) == set(CARDS)


def test_presence_and_is_not_defined() -> None:
    assert selected(xml_filter(prop("NICKNAME"))) == {"daboo", "york"}
    assert selected(xml_filter(prop("EMAIL", NOT_DEFINED))) == {"muller"}
    assert selected(xml_filter(prop("X-UNKNOWN", NOT_DEFINED))) == set(CARDS)


def test_filter_level_anyof_and_allof() -> None:
    tests = prop("NICKNAME") + prop("EMAIL", text("example.com"))
    assert selected(xml_filter(tests, test="anyof")) == {"daboo", "york", "bernard"}
    assert selected(xml_filter(tests, test="allof")) == {"daboo", "york"}


def test_prop_level_test_is_per_instance() -> None:
    """York has a home address and a work address, but no single EMAIL is both york and home."""
    tests = text("york") + param("TYPE", text("home", "equals"))
    assert selected(xml_filter(prop("EMAIL", tests, test="allof"))) == set()
    assert selected(xml_filter(prop("EMAIL", tests, test="anyof"))) == {"daboo", "york"}
    assert selected(xml_filter(prop("EMAIL", tests))) == {"daboo", "york"}
    two_texts = text("eric") + text("york")
    assert selected(xml_filter(prop("EMAIL", two_texts, test="allof"))) == set()
    assert selected(xml_filter(prop("EMAIL", two_texts, test="anyof"))) == {"york"}


def test_param_filter_on_type() -> None:
    work = param("TYPE", text("work", "equals"))
    assert selected(xml_filter(prop("EMAIL", work))) == {"daboo", "york", "alvarez"}
    assert selected(xml_filter(prop("TEL", work))) == {"daboo"}
    assert selected(xml_filter(prop("TEL", param("type", text("VOICE", "equals"))))) == {"daboo"}
    assert selected(xml_filter(prop("TEL", param("TYPE")))) == {"daboo", "bernard"}
    assert selected(xml_filter(prop("EMAIL", param("TYPE", NOT_DEFINED)))) == {"bernard"}
    assert selected(xml_filter(prop("EMAIL", param("X-NOPE")))) == set()


def test_negated_param_text_match_covers_the_whole_list() -> None:
    """TYPE=work,voice does contain work, so it is not a TEL "whose TYPE does not contain work"."""
    assert selected(xml_filter(prop("TEL", param("TYPE", text("work", negate=True))))) == {"bernard"}


def test_negate_condition_asks_for_a_non_matching_instance() -> None:
    """Not "no EMAIL contains it": an EMAIL that does not; cards without EMAIL never match."""
    not_example = prop("EMAIL", text("@example.com", negate=True))
    assert selected(xml_filter(not_example)) == {"daboo", "york", "alvarez"}
    assert selected(xml_filter(prop("NICKNAME", text("me", "equals", negate=True)))) == {"york"}


def test_grouped_properties_count_as_their_name() -> None:
    assert selected(xml_filter(prop("EMAIL", text("cyrus@example.net", "equals")))) == {"daboo"}
    assert selected(xml_filter(prop("Email", param("TYPE", text("home", "equals")), test="allof"))) == {
        "daboo",
        "york",
    }
    assert selected(xml_filter(prop("X-ABLABEL", text("Home")))) == {"daboo"}


MATCH_TYPES = [
    ("equals", "cyrus daboo", {"daboo"}),
    ("equals", "cyrus", set()),
    ("contains", "UISS", {"bernard"}),
    ("starts-with", "eric", {"york"}),
    ("starts-with", "york", set()),
    ("ends-with", "YORK", {"york"}),
    ("ends-with", "eric", set()),
]


@pytest.mark.parametrize(("match_type", "needle", "expected"), MATCH_TYPES)
def test_match_types(match_type: str, needle: str, expected: set[str]) -> None:
    assert selected(xml_filter(prop("FN", text(needle, match_type)))) == expected


def test_collations_on_non_ascii() -> None:
    assert selected(xml_filter(prop("FN", text("MÜLLER")))) == {"muller"}
    assert selected(xml_filter(prop("FN", text("MÜLLER", collation=ASCII)))) == set()
    assert selected(xml_filter(prop("FN", text("MüLLER", collation=ASCII)))) == {"muller"}
    assert selected(xml_filter(prop("FN", text("müller", collation=OCTET)))) == set()
    assert selected(xml_filter(prop("FN", text("Müller", collation=OCTET)))) == {"muller"}
    # RFC 5051 decomposes é into E + U+0301, so "jose" starts "José"; equality still needs the accent
    assert selected(xml_filter(prop("FN", text("jose", "starts-with")))) == {"alvarez"}
    assert selected(xml_filter(prop("FN", text("JOSÉ ÁLVAREZ", "equals")))) == {"alvarez"}
    assert selected(xml_filter(prop("FN", text("jose alvarez", "equals")))) == set()


# -- index pushdown ------------------------------------------------------------------------------------------


def indexed(*lines: str) -> tuple[VCard, tuple[tuple[str, str], ...]]:
    """A card as the store sees it: parsed, and the terms vcard.index_vcard wrote for it."""
    uid = [] if any(line.startswith("UID:") for line in lines) else ["UID:x"]
    data = ("\r\n".join(["BEGIN:VCARD", "VERSION:4.0", *uid, *lines, "END:VCARD"]) + "\r\n").encode()
    card, index = index_vcard(data)
    return card, index.terms


def candidate(terms: tuple[tuple[str, str], ...], queries: tuple[TermQuery, ...]) -> bool:
    """What the store's term lookup answers for one item, with the capped-card marker reports.term_matches adds."""
    return CAPPED_TERM in terms or any(
        field == query.field
        and (value == query.value if query.match_type == "equals" else value.startswith(query.value))
        for query in queries
        for field, value in terms
    )


PUSHED = [
    (prop("NICKNAME", text("me", "equals", ASCII)), None, {TermQuery("NICKNAME", "equals", "ME")}),
    (prop("NICKNAME", text("me", "equals")), None, {TermQuery("NICKNAME", "equals", "ME")}),
    (prop("EMAIL", text("Jo@X.org", "equals", ASCII)), None, {TermQuery("EMAIL", "equals", "JO@X.ORG")}),
    (prop("UID", text("abc", "equals", OCTET)), None, {TermQuery("UID", "equals", "ABC")}),
    (
        prop("FN", text("Jürgen  Müller", "equals", OCTET)),
        None,
        {TermQuery("FN", "equals", "JU\u0308RGEN MU\u0308LLER")},
    ),
    # the key is computed per code point, so a prefix is never cut short
    (prop("FN", text("Jo", "starts-with", ASCII)), None, {TermQuery("FN", "starts-with", "JO")}),
    (prop("FN", text("J", "starts-with", ASCII)), None, {TermQuery("FN", "starts-with", "J")}),
    (prop("FN", text("Jo ", "starts-with")), None, {TermQuery("FN", "starts-with", "JO")}),
    (prop("FN", text("Mü", "starts-with")), None, {TermQuery("FN", "starts-with", "MU\u0308")}),
    (prop("FN", text("\u01c6e", "starts-with")), None, {TermQuery("FN", "starts-with", "DZ\u030cE")}),
    (prop("EMAIL", text("jo@", "starts-with", OCTET)), None, {TermQuery("EMAIL", "starts-with", "JO@")}),
    (prop("org", text("Bäck", "starts-with", ASCII)), None, {TermQuery("ORG", "starts-with", "BA\u0308CK")}),
    (prop("TEL", text("+1 (555) 01", "starts-with", ASCII)), None, {TermQuery("TEL", "starts-with", "+155501")}),
    (prop("TEL", text("tel:+1-555-0100", "equals", OCTET)), None, {TermQuery("TEL", "equals", "+15550100")}),
    (prop("TEL", text("\u00b9\u00b2\u00b3", "equals")), None, {TermQuery("TEL", "equals", "123")}),
    (
        prop("FN", text("Jo ", "starts-with", ASCII)) + prop("EMAIL", text("jo@", "starts-with", ASCII)),
        "anyof",
        {TermQuery("FN", "starts-with", "JO"), TermQuery("EMAIL", "starts-with", "JO@")},
    ),
    (
        prop("FN", text("ann", "equals", ASCII) + text("bob", "equals", ASCII)),
        None,
        {TermQuery("FN", "equals", "ANN"), TermQuery("FN", "equals", "BOB")},
    ),
    (
        prop("FN", text("jo") + text("ann", "equals", ASCII) + param("TYPE"), test="allof"),
        None,
        {TermQuery("FN", "equals", "ANN")},
    ),
    (
        prop("NOTE", text("x", "equals", ASCII))
        + prop("EMAIL", NOT_DEFINED)
        + prop("N", text("Doe;", "starts-with", ASCII))
        + prop("N", text("Doe-", "starts-with", ASCII)),
        "allof",
        {TermQuery("N", "starts-with", "DOE-")},
    ),
    (
        prop("FN", text("a!", "starts-with", ASCII) + text("b!", "starts-with", ASCII))
        + prop("UID", text("u", "equals", ASCII)),
        "allof",
        {TermQuery("UID", "equals", "U")},
    ),
]


@pytest.mark.parametrize(("inner", "test", "expected"), PUSHED)
def test_index_terms_when_safe(inner: str, test: str | None, expected: set[TermQuery]) -> None:
    terms = index_terms(xml_filter(inner, test))
    assert terms is not None and set(terms) == expected and len(terms) == len(expected)


NOT_PUSHED = [
    ("", None),
    (prop("FN"), None),
    (prop("FN", text("jo", collation=ASCII)), None),
    (prop("FN", text("jo")), None),
    (prop("FN", text("jo", "ends-with", ASCII)), None),
    (prop("FN", text("jo", "equals", ASCII, negate=True)), None),
    (prop("NOTE", text("jo", "equals", ASCII)), None),
    (prop("X-ABLABEL", text("home", "equals", ASCII)), None),
    (prop("EMAIL", NOT_DEFINED), None),
    (prop("FN", text("", "starts-with", ASCII)), None),
    (prop("FN", text("  ", "starts-with")), None),
    (prop("TEL", text("(-)", "starts-with", ASCII)), None),
    (prop("TEL", text("te", "starts-with")), None),
    (prop("N", text("Daboo;Cyrus;;;", "equals", ASCII)), None),
    (prop("N", text("Daboo\u037e", "starts-with")), None),  # Greek question mark: ";" under RFC 5051
    (prop("NICKNAME", text("Jim\uff0cJimmy", "equals")), None),  # fullwidth comma: ","
    (prop("NICKNAME", text("Jim,Jimmy", "equals", ASCII)), None),
    (prop("EMAIL", param("TYPE", text("work", "equals", ASCII))), None),
    (prop("EMAIL", param("TYPE", text("work", "equals", ASCII)), test="allof"), None),
    (prop("EMAIL", text("jo", "equals", ASCII) + param("TYPE", text("work", "equals", ASCII))), None),
    (prop("FN", text("jo", "equals", ASCII) + text("ann", collation=ASCII)), None),
    (prop("FN", text("jo!", "starts-with", ASCII)) + prop("NOTE", text("x", "equals", ASCII)), "anyof"),
    (prop("FN", text("jo!", "starts-with", ASCII)) + prop("EMAIL", NOT_DEFINED), "anyof"),
    (prop("FN", text("jo", collation=ASCII)) + prop("EMAIL", text("x", "ends-with", ASCII)), "allof"),
]


@pytest.mark.parametrize(("inner", "test"), NOT_PUSHED)
def test_index_terms_none_when_the_index_could_miss(inner: str, test: str | None) -> None:
    assert index_terms(xml_filter(inner, test)) is None


def test_unicode_casemap_is_pushed_down() -> None:
    """RFC 5051 matches that a casefolded NFC index would miss are found through the RFC 5051 keys."""
    for line, needle, match_type in [
        ("FN:José Álvarez", "Jose", "starts-with"),
        ("FN:\uff2aohn", "john", "equals"),
        ("FN:\u01c5emal", "d", "starts-with"),
        ("FN:\ufb01nn", "FI", "starts-with"),
        ("TEL:\u00b9\u00b2\u00b3", "123", "equals"),
        ("TEL:\uff0b\uff14\uff19 30", "+49", "starts-with"),
    ]:
        card, terms = indexed(line)
        field = line.partition(":")[0]
        query = Filter(prop_filters=(PropFilter(field, text_matches=(TextMatch(needle, UNICODE, match_type),)),))
        assert matches(query, card)
        queries = index_terms(query)
        assert queries is not None and candidate(terms, queries), (line, terms, queries)


def test_capped_cards_are_always_candidates() -> None:
    """A card whose terms were cut at MAX_TERMS carries the marker, and term_matches always asks for it."""
    card, terms = indexed("FN:List", *(f"EMAIL:member{number}@example.org" for number in range(MAX_TERMS + 5)))
    assert terms[-1] == CAPPED_TERM and len(terms) == MAX_TERMS
    query = xml_filter(prop("EMAIL", text("member204@", "starts-with")))
    assert matches(query, card)
    queries = index_terms(query)
    assert queries is not None
    assert not any(field == "EMAIL" and value.startswith(queries[0].value) for field, value in terms)
    found = term_matches(query)
    assert found is not None and any((term.field, term.value, term.prefix) == (*CAPPED_TERM, False) for term in found)
    assert term_matches(xml_filter(prop("FN", text("x", "ends-with")))) is None


TRICKY = {
    "FN": [
        "José Álvarez",
        "Jose\u0301  A\u0301lvarez",
        "\uff2aohn \uff33mith",
        "\u01c5emal \u01c4EMAL \u01c6emal",
        "Straße STRASSE \u1e9e",
        "e\u0301\u0323!",
        "\u0130stanbul \u0131sparta I\u011fd\u0131r",
        "\ufb01nn \ufb03 \ufb06",
        "x\u00b2 \u2075 \u2460 \u2167",
        "\u1f00\u0345 \u1f80 \u03a3\u03c3\u03c2",
        "\u00b4a \u00a8 \u00a0b\u2003c",
        "\ud55c\uae00 \u1112\u1161\u11ab",
        "\u212b \u00c5 A\u030a \u2126",
    ],
    "N": [
        "Álvarez;José;;;",
        "Daboo;Cyrus;;Dr.;",
        "Smith\\, Jr;Jo,Ann;;;",
        " \u00a0Weiß ; Jürgen",
        "A\u037eB;\u01c5;;;",
        "\uff21\uff22,\u0130;;;",
    ],
    "NICKNAME": ["Jim,Jimmy", " Jo , Bo ", "\ufb01fi,\u01c5e", "\u00df,SS"],
    "ORG": ["Bäckerei Müller;Vertrieb", "A\\;B;C", "\uff2f\uff32\uff27;\u2460", "x\uff1by;z"],
    "EMAIL": ["Jo.Ann@Example.COM", "ﬁnn@example.org", "\u0130@x.tr", "jos\u00e9@\uff45x.org"],
    "UID": ["urn:uuid:ABC-def", "\u00c5\u212b"],
    "TEL": [
        "+1 (555) 010-0",
        "\uff11\uff12\uff13-\uff14",
        "tel:+44-20-7946-0958;ext=1",
        "+",
        "(0)30 1234",
        "\uff0b\u00b9\u00b2 \u0663\u0664",
        "TEL:\u2460\u2461",
    ],
}


def needles(value: str) -> set[str]:
    """Every prefix of the value as written, in upper, lower, title and ASCII-only case, decomposed and recomposed,
    and of its RFC 5051 key, so collation-prefixes that are no prefix of the text as written are tried too."""
    forms = {value, value.upper(), value.lower(), value.swapcase(), value.title(), value.replace("\\", "")}
    forms |= {unicodedata.normalize(form, value) for form in ("NFC", "NFD", "NFKC", "NFKD")}
    forms |= {unicodedata.normalize("NFKD", value.casefold())}
    forms.add(unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode())
    forms.add(unicode_casemap_key(value))
    forms.add(unicode_casemap_key(value).lower())
    return {form[:end] for form in forms for end in range(len(form) + 1)}


@pytest.mark.parametrize("field", sorted(TRICKY))
def test_pushdown_never_drops_a_match(field: str) -> None:
    """Every card a filter accepts is among the candidates its terms select from the real index."""
    cards = [indexed(f"{field}:{value}") for value in TRICKY[field]]
    accepted = pushed = 0
    checked: dict[str, int] = dict.fromkeys((OCTET, ASCII, UNICODE), 0)
    for value in TRICKY[field]:
        for needle in needles(value):
            for collation in checked:
                for match_type in ("equals", "starts-with"):
                    text_match = TextMatch(needle, collation, match_type)
                    query = Filter(prop_filters=(PropFilter(field, text_matches=(text_match,)),))
                    queries = index_terms(query)
                    pushed += queries is not None
                    for card, terms in cards:
                        if matches(query, card):
                            accepted += 1
                            checked[collation] += queries is not None
                            assert queries is None or candidate(terms, queries), (terms, text_match)
    assert accepted > 20 and pushed > 20
    assert all(count > 5 for count in checked.values()), checked
