"""vCard 3.0 <-> 4.0 for address-data in the other version (RFC 6352 §10.4, RFC 6350 Appendix A, RFC 2426).

Only what differs between the versions is rewritten; every other property, parameter and value is copied as
written (values stay escaped as the client wrote them; parameters unknown to the target version are kept, as
readers of both versions skip what they do not know). Both directions, the mapping is:

==============================================  ===========================================================
vCard 3.0                                       vCard 4.0
==============================================  ===========================================================
TYPE=pref                                       PREF=1 (3.0 keeps PREF=2..100 as a parameter: no loss)
PHOTO|LOGO|SOUND|KEY;ENCODING=b;TYPE=JPEG:...   PHOTO:data:image/jpeg;base64,... (no TYPE: JPEG, PNG and GIF
                                                are recognised from the first bytes, else
                                                application/octet-stream; KEY TYPE=PGP|X509 <-> application/
                                                pgp-keys|pkix-cert)
PHOTO;VALUE=uri;TYPE=JPEG:http://...            PHOTO;MEDIATYPE=image/jpeg:http://...
X-ADDRESSBOOKSERVER-KIND / -MEMBER (Apple)      KIND / MEMBER
SORT-STRING                                     SORT-AS parameter of N
LABEL;TYPE=WORK                                 LABEL parameter of the ADR with the same TYPEs
GEO:37.38;-122.08                               GEO:geo:37.38,-122.08
BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15          BDAY:--0315 (a birthday without a year)
X-ANNIVERSARY, X-GENDER, X-RELATED, ...         ANNIVERSARY, GENDER, RELATED, ... (see V4_ONLY)
TEL:+1-555-0100                                 TEL;VALUE=uri:tel:+1-555-0100 is written as the 3.0 text
==============================================  ===========================================================

Parameters without a value (``TEL;CELL``, Apple's old ``PHOTO;BASE64``) become TYPE=CELL / ENCODING=b, and
quoted TYPE lists (``TYPE="voice,home"``) become plain lists; both mean the same in either version.

What is lost, and why (nothing else is):

- 4.0 -> 3.0: a GEO's altitude and uncertainty (3.0 GEO is two floats); a ``tel:`` URI's form (the number
  stays, VALUE=uri goes); several SORT-AS values are joined by spaces into the one SORT-STRING; a LABEL
  parameter's ADR gets a LABEL property whose parameters are the ADR's TYPEs.
- 3.0 -> 4.0: whitespace inside base64 (old macOS exports indent it); VALUE=uri on URI photos (the 4.0 default);
  a LABEL's own parameters other than TYPE; a LABEL or SORT-STRING with no ADR / N to carry it is kept as the
  (4.0-unknown) property instead.
- Both: a property whose counterpart is also present with the same value (KIND:group beside
  X-ADDRESSBOOKSERVER-KIND:group) is written once; parameter names are upper-cased and lines refolded.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence

from protocols.formats.vcard_syntax import (
    Property,
    VCard,
    decode_param,
    encode_param,
    escape_text,
    unescape_text,
    valueless_param,
)

Params = list[tuple[str, tuple[str, ...]]]

V4_ONLY = frozenset(
    {
        "ANNIVERSARY", "GENDER", "LANG", "RELATED", "XML", "CLIENTPIDMAP",  # RFC 6350
        "BIRTHPLACE", "DEATHPLACE", "DEATHDATE",  # RFC 6474
        "EXPERTISE", "HOBBY", "INTEREST", "ORG-DIRECTORY",  # RFC 6715
        "CONTACT-URI",  # RFC 8605
        "CREATED", "GRAMGENDER", "LANGUAGE", "PRONOUNS", "SOCIALPROFILE",  # RFC 9554
    }
)  # fmt: skip
"""Properties 3.0 has no counterpart for: written as X-<name> in 3.0 (KDE and Apple already read X-ANNIVERSARY,
X-SOCIALPROFILE), and such X- names become the property again in 4.0."""
TO_V3_NAMES = {"KIND": "X-ADDRESSBOOKSERVER-KIND", "MEMBER": "X-ADDRESSBOOKSERVER-MEMBER"} | {
    name: f"X-{name}" for name in V4_ONLY
}
TO_V4_NAMES = {v3: v4 for v4, v3 in TO_V3_NAMES.items()}
BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
OMITTED_YEAR = "1604"
"""The leap year Apple writes, with X-APPLE-OMIT-YEAR, for a birthday without a year (3.0 dates need one)."""

_KEY_TYPES = {"PGP": "application/pgp-keys", "X509": "application/pkix-cert"}
_OCTETS = "application/octet-stream"
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"))
_GEO_V3 = re.compile(r"\s*([-+]?[0-9.]+)\s*[;,]\s*([-+]?[0-9.]+)\s*")
_GEO_V4 = re.compile(r"geo:([-+]?[0-9.]+),([-+]?[0-9.]+)\S*", re.IGNORECASE)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_NO_YEAR = re.compile(r"--([0-9]{2})-?([0-9]{2})")


def to_v4(card: VCard) -> VCard:
    """The 4.0 form of a 3.0 card (see the table above)."""
    props = card.properties
    labels = _label_owners(props)
    sort_string, first_n = _first_of(props, "SORT-STRING"), _first_of(props, "N")
    if sort_string is None or first_n is None or _values(props[first_n].params, "SORT-AS"):
        sort_string = first_n = None  # nothing to move, or nowhere to put it: SORT-STRING stays as it is
    skipped = set(labels.values()) | ({sort_string} if sort_string is not None else set())
    existing = {(prop.key, prop.value) for prop in props}
    out = []
    for index, prop in enumerate(props):
        name = TO_V4_NAMES.get(prop.key, prop.name)
        key = name.upper()
        if index in skipped or (key != prop.key and (key, prop.value) in existing):
            continue
        params, value = _pref_to_v4(_normalised(prop.params)), prop.value
        if key in BINARY:
            params, value = _binary_to_v4(key, params, value)
        elif key == "GEO" and (geo := _GEO_V3.fullmatch(value)):
            value = f"geo:{geo[1]},{geo[2]}"
        elif key == "BDAY":
            params, value = _omitted_year_to_v4(params, value)
        elif key == "ADR" and index in labels:
            params.append(("LABEL", (encode_param(unescape_text(props[labels[index]].value)),)))
        elif index == first_n and sort_string is not None:
            params.append(("SORT-AS", (encode_param(unescape_text(props[sort_string].value).strip()),)))
        out.append(Property(name, value, tuple(params), prop.group))
    return VCard("4.0", tuple(out))


def to_v3(card: VCard) -> VCard:
    """The 3.0 form of a 4.0 card (see the table above)."""
    props = card.properties
    existing = {(prop.key, prop.value) for prop in props}
    has_sort_string = _first_of(props, "SORT-STRING") is not None
    out = []
    for prop in props:
        name = TO_V3_NAMES.get(prop.key, prop.name)
        key = name.upper()
        if key != prop.key and (key, prop.value) in existing:
            continue
        params, value, extra = _pref_to_v3(_normalised(prop.params)), prop.value, None
        if key in BINARY:
            params, value = _binary_to_v3(params, value)
        elif key == "GEO" and (geo := _GEO_V4.fullmatch(value)):
            value = f"{geo[1]};{geo[2]}"
        elif key == "BDAY" and _text_value(params) is None and (day := _NO_YEAR.fullmatch(value)):
            params, value = [*params, ("X-APPLE-OMIT-YEAR", (OMITTED_YEAR,))], f"{OMITTED_YEAR}-{day[1]}-{day[2]}"
        elif key == "TEL" and value[:4].lower() == "tel:":
            params, value = _without(params, "VALUE"), value[4:]
        elif key == "ADR" and (label := _values(params, "LABEL")):
            types = [(param, values) for param, values in params if param == "TYPE"]
            text = escape_text(decode_param(label[0]))
            params, extra = _without(params, "LABEL"), Property("LABEL", text, tuple(types), prop.group)
        elif key == "N" and (sort_as := _values(params, "SORT-AS")) and not has_sort_string:
            text = escape_text(" ".join(decode_param(part) for part in sort_as))
            params, extra = _without(params, "SORT-AS"), Property("SORT-STRING", text)
            has_sort_string = True  # 3.0 has one SORT-STRING; an ALTID variant of N keeps its SORT-AS
        out.append(Property(name, value, tuple(params), prop.group))
        if extra is not None:
            out.append(extra)
    return VCard("3.0", tuple(out))


def _normalised(params: Iterable[tuple[str, tuple[str, ...]]]) -> Params:
    """Valueless parameters spelled out, and TYPE lists split into single values."""
    out: Params = []
    for name, values in params:
        if not values:
            name, values = valueless_param(name)
        if name == "TYPE":
            values = tuple(item for value in values for item in value.split(",") if item)
        out.append((name, values))
    return out


def _pref_to_v4(params: Params) -> Params:
    """TYPE=pref becomes PREF=1 beside the first pref (unless a PREF is already there)."""
    out: Params = []
    has_pref = any(name == "PREF" for name, _ in params)
    for name, values in params:
        kept = tuple(value for value in values if value.lower() != "pref") if name == "TYPE" else values
        if kept:
            out.append((name, kept))
        if len(kept) < len(values) and not has_pref:
            out.append(("PREF", ("1",)))
            has_pref = True
    return out


def _pref_to_v3(params: Params) -> Params:
    return [("TYPE", ("pref",)) if name == "PREF" and values == ("1",) else (name, values) for name, values in params]


def _binary_to_v4(key: str, params: Params, value: str) -> tuple[Params, str]:
    """Inline base64 becomes a data: URI; a URI's TYPE becomes MEDIATYPE."""
    encoding = (_values(params, "ENCODING") or ("",))[0].upper()
    media = (_values(params, "TYPE") or (None,))[0]
    if encoding in ("B", "BASE64"):
        payload = "".join(value.split())
        mediatype = _mediatype(key, media) if media else _sniff(payload)
        return _without_first_type(_without(params, "ENCODING", "VALUE")), f"data:{mediatype};base64,{payload}"
    if encoding or not _URI.match(value) or (_values(params, "VALUE") or ("uri",))[0].lower() != "uri":
        return params, value
    params = _without(params, "VALUE")
    return ([*_without_first_type(params), ("MEDIATYPE", (_mediatype(key, media),))] if media else params), value


def _binary_to_v3(params: Params, value: str) -> tuple[Params, str]:
    """A base64 data: URI becomes ENCODING=b (what Apple reads); any other URI needs VALUE=uri in 3.0."""
    if _text_value(params) is not None:
        return params, value
    header, comma, payload = value.partition(",")
    if header[:5].lower() == "data:" and comma and header.lower().endswith(";base64"):
        token = _type_token(header[5:-7])
        rest = _without(params, "VALUE", "MEDIATYPE", "ENCODING")
        return [("ENCODING", ("b",)), *([("TYPE", (token,))] if token else []), *rest], payload
    mediatype = _values(params, "MEDIATYPE")
    token = _type_token(mediatype[0]) if mediatype else None
    rest = _without(params, "VALUE", "MEDIATYPE")
    return [("VALUE", ("uri",)), *([("TYPE", (token,))] if token else []), *rest], value


def _omitted_year_to_v4(params: Params, value: str) -> tuple[Params, str]:
    year = _values(params, "X-APPLE-OMIT-YEAR")
    match = re.fullmatch(rf"{re.escape(year[0])}-?([0-9]{{2}})-?([0-9]{{2}})", value) if year else None
    if match is None:
        return params, value
    return _without(params, "X-APPLE-OMIT-YEAR"), f"--{match[1]}{match[2]}"


def _label_owners(props: Sequence[Property]) -> dict[int, int]:
    """ADR index -> index of the 3.0 LABEL that formats it: the first unlabelled ADR with the same TYPEs."""
    owners: dict[int, int] = {}
    for label_index, label in enumerate(props):
        if label.key != "LABEL":
            continue
        wanted = _type_set(label.params)
        for adr_index, adr in enumerate(props):
            free = adr.key == "ADR" and adr_index not in owners and not _values(adr.params, "LABEL")
            if free and _type_set(adr.params) == wanted:
                owners[adr_index] = label_index
                break
    return owners


def _type_set(params: Iterable[tuple[str, tuple[str, ...]]]) -> frozenset[str]:
    return frozenset(value.casefold() for name, values in _normalised(params) if name == "TYPE" for value in values)


def _mediatype(key: str, token: str) -> str:
    if "/" in token:
        return token.lower()
    if key == "KEY":
        return _KEY_TYPES.get(token.upper(), f"application/{token.lower()}")
    return f"{'audio' if key == 'SOUND' else 'image'}/{token.lower()}"


def _type_token(mediatype: str) -> str | None:
    """The 3.0 TYPE for a media type: the subtype for images and sounds (TYPE=JPEG), else the media type."""
    lower = mediatype.strip().lower()
    if lower in ("", _OCTETS):
        return None
    tokens = [token for token, known in _KEY_TYPES.items() if known == lower]
    major, _, minor = lower.partition("/")
    return tokens[0] if tokens else minor.upper() if major in ("image", "audio") and minor else lower


def _sniff(payload: str) -> str:
    """The media type of base64 data sent without TYPE, from its first bytes (only 16 characters are decoded)."""
    try:
        head = base64.b64decode(payload[:16])
    except (binascii.Error, ValueError):
        return _OCTETS
    return next((mediatype for magic, mediatype in _MAGIC if head.startswith(magic)), _OCTETS)


def _values(params: Iterable[tuple[str, tuple[str, ...]]], name: str) -> tuple[str, ...]:
    return next((values for key, values in params if key == name and values), ())


def _text_value(params: Params) -> str | None:
    value = _values(params, "VALUE")
    return value[0] if value and value[0].lower() == "text" else None


def _without(params: Params, *names: str) -> Params:
    return [(name, values) for name, values in params if name not in names]


def _without_first_type(params: Params) -> Params:
    """The parameters without the first TYPE value, which is the media type on PHOTO, LOGO, SOUND and KEY."""
    out, done = [], False
    for name, values in params:
        if name == "TYPE" and not done:
            done, values = True, values[1:]
            if not values:
                continue
        out.append((name, values))
    return out


def _first_of(props: Sequence[Property], key: str) -> int | None:
    return next((index for index, prop in enumerate(props) if prop.key == key), None)
