"""vCard for every protocol: validate and index address object resources, answer property questions for
addressbook-query, and write address-data in the version and subset a report asked for. No XML, HTTP or storage
in here, and the only module that may import a vCard library (it needs none, see vcard_syntax for why).

The work is split into ``vcard_syntax`` (bytes to content lines and back, escaping) and ``vcard_convert``
(3.0 <-> 4.0, with the exact list of what is lossy); this module adds the resource rules of RFC 6352 and is the
one to import. Stored bytes are what the client sent: parsing only validates and indexes, conversion and
selection happen on output.

Choices where the RFCs leave room, and why:

- vCard 3.0 and 4.0 are accepted. Any other VERSION (2.1 from Outlook's "Save as" or Android's export, with
  quoted-printable and legacy charsets) is refused as supported-address-data, the precondition RFC 6352 §6.3.2.1
  names for it: CardDAV clients send 3.0 or 4.0, clients asking for 3.0 must not receive 2.1, and 2.1 data is
  often not UTF-8, which address-data inside XML cannot carry. Importers convert such files first.
- A UID is required (RFC 6352 §6.3.2.1 needs it for no-uid-conflict); FN is not, although both RFCs make it
  mandatory: refusing a card cannot fix it, a 4xx makes Thunderbird drop the change, and nothing here needs FN.
  N (mandatory in 3.0) is not required or invented either.
- Parsing is lenient about what real address books hold: parameters without "=" (``TEL;CELL``), "_" in names
  (Lotus Notes), unknown escapes such as Apple's ``http\\://``, CHARSET parameters, LF line ends, a byte-order
  mark, blank lines, folds inside UTF-8 sequences and indented base64. Values are not validated: clients
  round-trip what they wrote. Control characters are refused (address-data is sent inside XML).
- property_values() reads structured values (N, ADR, ORG, GENDER, CLIENTPIDMAP) both ways: ``text`` is the
  components unescaped and joined by ";" (the RFC 6350 order, so "contains" finds a family name), ``parts`` is
  every non-empty component and list item (so "starts-with" and "equals" can test each name separately).
- Index terms: UID, FN, N (each part), NICKNAME (each), EMAIL, TEL (digits and a leading "+", nothing after
  ";"), ORG (each component), keyed by normalise_term() / normalise_tel(), which queries must use too. Both
  start from the RFC 5051 i;unicode-casemap key (collation.unicode_casemap_key, the CardDAV default collation),
  which is computed per code point, so a needle that equals or starts a value under that collation, or under
  i;octet or i;ascii-casemap (whose matches it also equates), has a key equal to or starting the value's key.
  At most MAX_TERMS terms are kept, in that field order; a card with more (a mailing list with hundreds of
  addresses) keeps MAX_TERMS - 1 of them and the CAPPED_TERM marker instead, which index searches always include.
- The kind is KIND, else Apple's X-ADDRESSBOOKSERVER-KIND, else "individual"; other tokens (RFC 6473
  "application", RFC 6869 "device") are kept, casefolded.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

from protocols.formats.collation import unicode_casemap_key
from protocols.formats.vcard_convert import to_v3, to_v4
from protocols.formats.vcard_syntax import (
    SUPPORTED,
    VALID,
    VERSIONS,
    Property,
    VCard,
    VCardDataError,
    decode_param,
    logical_line_name,
    logical_lines,
    parse_vcard,
    serialize,
    split_value,
    unescape_text,
    valueless_param,
)

__all__ = [
    "CAPPED_TERM",
    "MAX_TERMS",
    "SUPPORTED",
    "VALID",
    "VERSIONS",
    "Property",
    "PropertyValue",
    "VCard",
    "VCardDataError",
    "VCardIndex",
    "convert",
    "index_vcard",
    "normalise_tel",
    "normalise_term",
    "parse_vcard",
    "property_values",
    "select_properties",
    "serialize",
]

MAX_TERMS = 200
CAPPED_TERM = ("*capped", "")
"""The last term of a card whose terms were cut at MAX_TERMS: a search through the index must always take the cards
carrying it as candidates (and decide on their data), since their terms may lack the one it looks for. "*" can
start no vCard property name, so the field is never a property's."""
TERM_FIELDS = ("UID", "FN", "N", "NICKNAME", "EMAIL", "TEL", "ORG")
STRUCTURED = frozenset({"N", "ADR", "ORG", "GENDER", "CLIENTPIDMAP"})
"""Properties whose value is ";"-separated components (RFC 6350 §6.2.2, §6.3.1, §6.6.4, §6.2.7, §6.7.7)."""
LISTS = frozenset({"N", "ADR", "NICKNAME", "CATEGORIES"})
"""Properties whose components (or whole value) are ","-separated lists."""
ALWAYS_SELECTED = frozenset({"BEGIN", "END", "VERSION", "UID"})


@dataclass(frozen=True, slots=True)
class VCardIndex:
    """What storage keeps of an address object: ``terms`` are (field, normalised value) pairs for searches,
    ending with CAPPED_TERM when there were more than MAX_TERMS."""

    uid: str
    version: str
    kind: str
    terms: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PropertyValue:
    """One property instance as addressbook-query sees it: ``text`` unescaped (structured values joined by ";"),
    ``parts`` its non-empty components and list items, ``params`` upper-case names to RFC 6868-decoded values
    (TYPE lists split; a parameter without "=" counts as TYPE, or ENCODING for BASE64 and the like)."""

    text: str
    parts: tuple[str, ...]
    params: dict[str, list[str]]


def index_vcard(data: bytes) -> tuple[VCard, VCardIndex]:
    """Parse, validate (RFC 6352 §5.1, §6.3.2.1) and index an address object resource.

    Raises VCardDataError only: supported-address-data for a version other than 3.0 and 4.0,
    valid-address-data for anything else (not one vCard, no UID or several)."""
    card = parse_vcard(data)
    uids = [unescape_text(prop.value).strip() for prop in card.properties if prop.key == "UID"]
    if len(uids) > 1:
        raise VCardDataError(VALID, "a vCard has at most one UID")
    if not uids or not uids[0]:
        raise VCardDataError(VALID, "the vCard needs a UID")
    return card, VCardIndex(uids[0], card.version, _kind(card), _terms(card))


def property_values(card: VCard, name: str) -> list[PropertyValue]:
    """Every instance of a property (the name is case-insensitive; groups such as item1. are ignored)."""
    key = name.upper()
    return [_property_value(prop) for prop in card.properties if prop.key == key]


def convert(data: bytes, version: str) -> bytes:
    """The card in vCard ``version`` ("3.0" or "4.0"); the input bytes unchanged when it is already in it.

    What the conversion rewrites and loses is listed in vcard_convert. Raises VCardDataError only
    (supported-address-data for another target version)."""
    if version not in VERSIONS:
        raise VCardDataError(SUPPORTED, "only vCard 3.0 and 4.0 are supported")
    card = parse_vcard(data)
    if card.version == version:
        return data
    return serialize(to_v4(card) if version == "4.0" else to_v3(card))


def select_properties(data: bytes, names: tuple[str, ...] | None) -> bytes:
    """The address-data property subset of RFC 6352 §10.4.2: BEGIN, END, VERSION and UID, plus every instance
    of the named properties (case-insensitive). The kept lines are the stored bytes, folds included; None means
    the whole card."""
    if names is None:
        return data
    keep = ALWAYS_SELECTED | {name.upper() for name in names}
    lines = logical_lines(data.removeprefix(codecs.BOM_UTF8), keepends=True)
    return b"".join(line for line in lines if logical_line_name(line) in keep)


def normalise_term(text: str) -> str:
    """The i;unicode-casemap key (RFC 5051: simple titlecase, full decomposition) with runs of white space as one
    space and none at either end.

    Collapsing runs after the key is safe for prefixes: when one key starts another, the collapsed one still
    starts the other collapsed one (its words but the last are the other's first words, and its last starts the
    next). Every white space character has a key that is white space only, so stripping a value first changes
    nothing either.
    """
    return " ".join(unicode_casemap_key(text).split())


def normalise_tel(text: str) -> str:
    """A phone number as its digits, with "+" when it starts with one. What follows a ";" is left out: tel: URI
    parameters (ext=, isub=), kept as text when converted to 3.0, and iOS's wait-then-dial suffix.

    Read from the i;unicode-casemap key (fullwidth and superscript digits and U+FF0B become ASCII), so texts equal
    under any supported collation give equal numbers, and a prefix with a digit gives a prefix of the number."""
    value = unicode_casemap_key(text).strip().split(";", 1)[0]
    if value[:4].lower() == "tel:":
        value = value[4:]
    digits = "".join(str(unicodedata.decimal(char)) for char in value if char.isdecimal())
    return "+" + digits if digits and value.lstrip().startswith("+") else digits


def _property_value(prop: Property) -> PropertyValue:
    if prop.key in STRUCTURED:
        components = split_value(prop.value, ";")
        text = ";".join(unescape_text(component) for component in components)
    else:
        components = [prop.value]
        text = unescape_text(prop.value)
    items = (
        [item for component in components for item in split_value(component, ",")] if prop.key in LISTS else components
    )
    parts = tuple(part for item in items if (part := unescape_text(item).strip()))
    return PropertyValue(text, parts, _params(prop))


def _params(prop: Property) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, values in prop.params:
        key, spelled = (name, values) if values else valueless_param(name)
        decoded = [decode_param(value) for value in spelled]
        if key == "TYPE":
            decoded = [item for value in decoded for item in value.split(",") if item]
        params.setdefault(key, []).extend(decoded)
    return params


def _kind(card: VCard) -> str:
    for key in ("KIND", "X-ADDRESSBOOKSERVER-KIND"):
        for prop in card.properties:
            if prop.key == key and (kind := unescape_text(prop.value).strip().casefold()):
                return kind
    return "individual"


def _terms(card: VCard) -> tuple[tuple[str, str], ...]:
    terms: dict[tuple[str, str], None] = {}
    for field in TERM_FIELDS:
        for value in property_values(card, field):
            if field == "TEL":
                found = [normalise_tel(value.text)]
            elif field in ("N", "NICKNAME", "ORG"):
                found = [normalise_term(part) for part in value.parts]
            else:
                found = [normalise_term(value.text)]
            for term in found:
                if term:
                    terms[(field, term)] = None
                if len(terms) > MAX_TERMS:
                    return (*list(terms)[: MAX_TERMS - 1], CAPPED_TERM)
    return tuple(terms)
