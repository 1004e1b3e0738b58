"""vCard bytes to content lines and back (RFC 6350 §3, RFC 2426 §4), keeping every value exactly as written.

vobject's reader is not used, for four measured reasons: its content-line regular expression backtracks
exponentially on a malformed parameter list (a 146-byte card took 24 s, four times longer per extra parameter,
so one PUT could stall a worker); it decodes text before unfolding, so a fold inside a UTF-8 sequence (which
naive writers produce) fails; its quoted-printable reader copies the logical line on every physical line
(quadratic on a multi-megabyte photo); and it decodes base64 photos while parsing. The grammar is small enough
to read here in linear time without decoding any value; values stay escaped as written, and the helpers below
unescape them on demand.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

VALID = "valid-address-data"
SUPPORTED = "supported-address-data"
VERSIONS = ("3.0", "4.0")

_FOLD = re.compile(rb"\r?\n[ \t]")
_FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f\ufffe\uffff]")
"""Control characters (RFC 6350 §3.3 allows none but HTAB in a line) and what XML 1.0 cannot carry: address-data
is sent inside XML, so one such card would break every report over its collection."""
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t"
_NAME = re.compile(r"(?:([A-Za-z0-9_-]+)\.)?([A-Za-z0-9_-]+)")
"""Group and property name; "_" is not in the grammar but Lotus Notes writes it."""
_PARAM = re.compile(r';([A-Za-z0-9_-]+)(?:=((?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*))?')
"""One parameter: every alternative is decided by its first character, so matching is linear."""
_PARAM_VALUE = re.compile(r'(?:^|,)(?:"([^"]*)"|([^";:,]*))')
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "N": "\n"}
_CARET = re.compile(r"\^([n^'])")
_CARETS = {"n": "\n", "^": "^", "'": '"'}
_TEXT_SPECIALS = str.maketrans({"\\": "\\\\", "\n": "\\n", ",": "\\,", ";": "\\;"})
_PARAM_SPECIALS = str.maketrans({"^": "^^", "\n": "^n", '"': "^'"})
_FOLD_AT = 75
_ENCODINGS = frozenset({"B", "BASE64", "QUOTED-PRINTABLE", "8BIT", "7BIT"})


class VCardDataError(ValueError):
    """Refused vCard data: ``condition`` is the CardDAV precondition's local name (valid-address-data or
    supported-address-data, RFC 6352 §6.3.2.1), ``message`` is short and safe to show to clients."""

    def __init__(self, condition: str, message: str) -> None:
        super().__init__(message)
        self.condition = condition
        self.message = message


@dataclass(frozen=True, slots=True)
class Property:
    """One content line. ``name`` is spelled as written (Apple's X-ABLabel stays X-ABLabel on output; compare
    with ``key``); ``params`` keep their order and repeats, with upper-case names and values as written minus
    quotes (a parameter without "=", as in ``TEL;CELL:``, has no values); ``value`` is still escaped."""

    name: str
    value: str
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    group: str | None = None

    @property
    def key(self) -> str:
        return self.name.upper()


@dataclass(frozen=True, slots=True)
class VCard:
    """One vCard: its VERSION and its other properties in order (BEGIN, END and VERSION are implied)."""

    version: str
    properties: tuple[Property, ...]


def parse_vcard(data: bytes) -> VCard:
    """Exactly one vCard 3.0 or 4.0 (RFC 6352 §5.1: one per resource) from UTF-8 bytes.

    A byte-order mark, LF or CR line ends, blank lines and folds inside UTF-8 sequences are tolerated. Raises
    VCardDataError only: supported-address-data for any VERSION but 3.0 and 4.0 (checked before the bytes are
    decoded, so that a vCard 2.1 in Windows-1252 is told the real reason), valid-address-data otherwise."""
    numbered = enumerate(logical_lines(data.removeprefix(codecs.BOM_UTF8)), 1)
    lines = [(number, line) for number, line in numbered if line.strip()]
    versions = [line.partition(b":")[2].strip() for _, line in lines if _is_version_line(line)]
    vcard = bool(lines) and lines[0][1].strip().upper() == b"BEGIN:VCARD"
    if vcard and any(version.decode("latin-1") not in VERSIONS for version in versions):
        raise VCardDataError(SUPPORTED, "only vCard 3.0 and 4.0 are supported")
    if not lines:
        raise VCardDataError(VALID, "the vCard data is empty")
    properties = [_content_line(_decoded(line), number) for number, line in lines]
    if not _is_marker(properties[0], "BEGIN") or not _is_marker(properties[-1], "END"):
        raise VCardDataError(VALID, "expected exactly one vCard (BEGIN:VCARD ... END:VCARD)")
    inner = properties[1:-1]
    if any(prop.key in ("BEGIN", "END") for prop in inner):
        raise VCardDataError(VALID, "expected exactly one vCard per resource, and no nested components")
    if len(versions) != 1:
        raise VCardDataError(VALID, "a vCard needs exactly one VERSION")
    return VCard(versions[0].decode(), tuple(prop for prop in inner if prop.key != "VERSION"))


def logical_lines(data: bytes, keepends: bool = False) -> list[bytes]:
    """The unfolded lines (RFC 6350 §3.2), as bytes since naive writers fold inside a multi-octet character.

    With ``keepends`` each line is returned exactly as stored, folds and line end included. (Faster than a
    regular expression on a photo folded into tens of thousands of lines.)"""
    groups: list[list[bytes]] = []
    for physical in data.splitlines(keepends):
        if physical[:1] in (b" ", b"\t") and groups:
            groups[-1].append(physical if keepends else physical[1:])
        else:
            groups.append([physical])
    return [b"".join(group) for group in groups]


def serialize(card: VCard) -> bytes:
    """CRLF lines folded at 75 octets, never inside a UTF-8 sequence (RFC 6350 §3.2)."""
    out = bytearray()
    for line in ("BEGIN:VCARD", f"VERSION:{card.version}", *map(content_line, card.properties), "END:VCARD"):
        _fold(line.encode(), out)
    return bytes(out)


def content_line(prop: Property) -> str:
    """A property as one unfolded line; parameter values are quoted when they hold , ; or :."""
    params = "".join(
        f";{name}" + ("=" + ",".join(map(_quoted, values)) if values else "") for name, values in prop.params
    )
    return f"{prop.group + '.' if prop.group else ''}{prop.name}{params}:{prop.value}"


def logical_line_name(line: bytes) -> str | None:
    """The upper-case property name of a raw (possibly folded) logical line; None for a blank or broken one."""
    match = _NAME.match(_FOLD.sub(b"", line[:256]).decode("ascii", "replace"))
    return match.group(2).upper() if match else None


def unescape_text(raw: str) -> str:
    """A TEXT value as a reader sees it (RFC 6350 §3.4); unknown escapes such as Apple's "\\:" yield the char."""
    return _UNESCAPE.sub(lambda match: _ESCAPES.get(match.group(1), match.group(1)), raw) if "\\" in raw else raw


def escape_text(text: str) -> str:
    return text.translate(_TEXT_SPECIALS)


def split_value(raw: str, separator: str) -> list[str]:
    """Split an escaped value on unescaped ``separator`` (";" between components, "," between list items);
    the pieces stay escaped."""
    pieces, start, escaped = [], 0, False
    for position, char in enumerate(raw):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            pieces.append(raw[start:position])
            start = position + 1
    pieces.append(raw[start:])
    return pieces


def decode_param(value: str) -> str:
    """RFC 6868 caret escapes (^n, ^^, ^') in a parameter value."""
    return _CARET.sub(lambda match: _CARETS[match.group(1)], value) if "^" in value else value


def encode_param(value: str) -> str:
    return value.translate(_PARAM_SPECIALS)


def valueless_param(name: str) -> tuple[str, tuple[str, ...]]:
    """What a parameter without "=" means (vCard 2.1 style, still written by some 3.0 exporters, and Apple's old
    ``PHOTO;BASE64``): an encoding for the encoding names, else a TYPE."""
    return ("ENCODING" if name in _ENCODINGS else "TYPE"), (name,)


def _is_version_line(line: bytes) -> bool:
    return line[:7].upper() == b"VERSION" and line[7:].lstrip().startswith(b":")


def _decoded(line: bytes) -> str:
    if line.isascii():  # the fast path for base64 photos: no regular expression over megabytes
        if line.translate(None, _PLAIN_ASCII):
            raise VCardDataError(VALID, "control characters are not allowed")
        return line.decode("ascii")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise VCardDataError(VALID, "vCard data must be UTF-8") from None
    if _FORBIDDEN.search(text):
        raise VCardDataError(VALID, "control characters are not allowed")
    return text


def _is_marker(prop: Property, key: str) -> bool:
    return prop.key == key and prop.group is None and prop.value.strip().upper() == "VCARD"


def _content_line(line: str, number: int) -> Property:
    """RFC 6350 §3.3 contentline, leniently: parameters without "=" (vCard 2.1 style, still written by some 3.0
    exporters) are kept as a name without values."""
    match = _NAME.match(line)
    if match is None:
        raise VCardDataError(VALID, f"line {number} is not a vCard content line")
    group, name = match.groups()
    position, params = match.end(), []
    while line.startswith(";", position):
        param = _PARAM.match(line, position)
        if param is None:
            break
        values = () if param.group(2) is None else tuple(q or p for q, p in _PARAM_VALUE.findall(param.group(2)))
        params.append((param.group(1).upper(), values))
        position = param.end()
    if not line.startswith(":", position):
        raise VCardDataError(VALID, f"line {number} is not a vCard content line")
    return Property(name, line[position + 1 :], tuple(params), group)


def _quoted(value: str) -> str:
    return f'"{value}"' if any(char in value for char in ",;:") else value


def _fold(line: bytes, out: bytearray) -> None:
    start, limit = 0, _FOLD_AT
    while len(line) - start > limit:
        cut = start + limit
        while line[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its sequence
            cut -= 1
        out += line[start:cut]
        out += b"\r\n "
        start, limit = cut, _FOLD_AT - 1
    out += line[start:]
    out += b"\r\n"
