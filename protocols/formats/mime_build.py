"""Generate a message from a JMAP Email create object (RFC 8621 §4.6, Email/set create): pure, no storage.

The octets are written here rather than through EmailMessage and the header registry, because that registry
re-parses every value with a parser that is quadratic on hostile input in Python 3.11 (an 80 KB subject of
encoded-word look-alikes takes 7 s), and JMAP clients choose these values. What comes out is 7-bit (message/*
attachments may be 8-bit), CRLF, no line over 998 octets, header lines folded at 78 where there is room.

Choices where the RFC leaves room, and why:

- Header values: text that is plain printable ASCII is folded as is; anything else is UTF-8 encoded words (all of
  the value, so white space survives exactly). Display names are atoms, a quoted string, or encoded words.
  Non-ASCII domains are written in IDNA; a non-ASCII local part is refused (that needs SMTPUTF8 downstream).
  ``header:X:asRaw`` values are written verbatim and must be ASCII (use ``asText`` for anything else).
- Parameters (file names) use RFC 2231 when they are not plain ASCII, split into sections when long.
- Bodies: text from bodyValues is 7bit when it can be, else quoted-printable, in UTF-8; blobs are base64, except
  message/* blobs, which RFC 2046 requires to be 7bit or 8bit (a line over 998 octets is refused there).
- textBody/htmlBody/attachments become text, html or multipart/alternative of both; attachments with
  disposition "inline" and a cid go into a multipart/related with the HTML; the rest make it multipart/mixed.
  Attachments given without a disposition get "attachment" (so that parsing the result lists them the same way).
- On a body part, ``header:Content-Type`` and ``header:Content-Disposition`` are refused: type, charset, name and
  disposition say the same and the boundary and encoding must stay under the server's control.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from protocols.formats.mime import MAX_DEPTH
from protocols.formats.mime_headers import parse_header_property

__all__ = ["BlobNotFound", "InvalidEmail", "build_message"]


class InvalidEmail(ValueError):
    """The create object breaks a rule of RFC 8621 §4.6: the JMAP layer answers invalidProperties.
    ``args`` is (property, description)."""

    def __init__(self, property: str, description: str) -> None:
        super().__init__(property, description)
        self.property = property
        self.description = description

    def __str__(self) -> str:
        return f"{self.property}: {self.description}"


class BlobNotFound(LookupError):
    """Body parts name blobs that do not exist: the JMAP layer answers blobNotFound. ``args`` (and ``blob_ids``)
    are every missing blob id."""

    def __init__(self, *blob_ids: str) -> None:
        super().__init__(*blob_ids)
        self.blob_ids = blob_ids


_CONVENIENCE = {
    "messageId": ("Message-ID", "asMessageIds"),
    "inReplyTo": ("In-Reply-To", "asMessageIds"),
    "references": ("References", "asMessageIds"),
    "sender": ("Sender", "asAddresses"),
    "from": ("From", "asAddresses"),
    "to": ("To", "asAddresses"),
    "cc": ("Cc", "asAddresses"),
    "bcc": ("Bcc", "asAddresses"),
    "replyTo": ("Reply-To", "asAddresses"),
    "subject": ("Subject", "asText"),
    "sentAt": ("Date", "asDate"),
}
_METADATA = frozenset({"mailboxIds", "keywords", "receivedAt"})
"""Settable on create but no part of the message."""
_BODY = frozenset({"bodyStructure", "textBody", "htmlBody", "attachments", "bodyValues"})
_PART_FIELDS = {
    "type": "content-type",
    "charset": "content-type",
    "name": "content-type",
    "disposition": "content-disposition",
    "cid": "content-id",
    "language": "content-language",
    "location": "content-location",
}
_PART_KEYS = frozenset({*_PART_FIELDS, "partId", "blobId", "size", "subParts"})
_SERVER_FIELDS = frozenset({"content-type", "content-disposition", "content-transfer-encoding"})
_MEDIA_TYPE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+/[!#$%&'*+\-.^_`|~0-9a-z]+")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ATOM = re.compile(r"[!#$%&'*+\-/=?^_`{|}~0-9A-Za-z]+")
_DOT_ATOM = re.compile(r"[!#$%&'*+\-/=?^_`{|}~0-9A-Za-z]+(?:\.[!#$%&'*+\-/=?^_`{|}~0-9A-Za-z]+)*")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_DOMAIN_LITERAL = re.compile(r"\[[!-Z^-~]*\]")
_NO_SPACE = re.compile(r"[!-~]+")
_LANGUAGE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_RAW_FOLD = re.compile(r"\r\n(?=[ \t])")


def build_message(
    email: Mapping[str, Any],
    *,
    resolve_blob: Callable[[str], tuple[bytes, str | None] | None],
    now: float,
    message_id_domain: str,
) -> bytes:
    """The RFC 5322 octets for an Email/set create object. Raises InvalidEmail, and for an object that is valid
    but names blobs that do not exist, BlobNotFound with all of them."""
    for key in email:
        if key == "headers":
            raise InvalidEmail(key, "set each header field as its own property")
        if key not in _CONVENIENCE and key not in _METADATA and key not in _BODY and not key.startswith("header:"):
            raise InvalidEmail(key, "unknown or server-set property")
    fields = _header_lines(email, "", top=True)
    builder = _Builder(email.get("bodyValues"), resolve_blob)
    root = builder.root(email)
    names = {_field_name(line) for line in fields}
    overlap = names & {_field_name(line) for line in root.headers}
    if overlap:
        raise InvalidEmail("bodyStructure", f"the {min(overlap)} header field is also set on the Email")
    builder.finish()
    names |= {_field_name(line) for line in root.headers}
    if "date" not in names:
        fields.append(_fold("Date", format_datetime(datetime.fromtimestamp(now, UTC)).split(" ")))
    if "message-id" not in names:
        fields.append(f"Message-ID: <{uuid.uuid4().hex}@{message_id_domain}>\r\n")
    if "mime-version" not in names:
        fields.append("MIME-Version: 1.0\r\n")
    return "".join([*fields, *root.headers]).encode("ascii") + b"\r\n" + root.body


def _field_name(line: str) -> str:
    return line.partition(":")[0].lower()


# --- header fields ----------------------------------------------------------------------------------------------


def _header_lines(source: Mapping[str, Any], path: str, *, top: bool) -> list[str]:
    """The folded header fields that an Email (``top``) or an EmailBodyPart object sets, in its order; refuses
    two properties for one field and forms the field does not allow."""
    lines: list[str] = []
    seen = {} if top else {_PART_FIELDS[key]: key for key in source if key in _PART_FIELDS and source[key] is not None}
    for key, value in source.items():
        prop = f"{path}{key}"
        if key.startswith("header:"):
            try:
                spec = parse_header_property(key)
            except ValueError as error:
                raise InvalidEmail(prop, str(error)) from None
            name, form, every = spec.name, spec.form, spec.all
            if top and name.lower().startswith("content-"):
                raise InvalidEmail(prop, "Content-* header fields belong on body parts")
            if not top and name.lower() in _SERVER_FIELDS:
                raise InvalidEmail(prop, f"{name} is the server's (use type, charset, name and disposition)")
        elif top and key in _CONVENIENCE:
            (name, form), every = _CONVENIENCE[key], False
        else:
            continue
        if name.lower() in seen:
            raise InvalidEmail(prop, f"{seen[name.lower()]} sets the same header field")
        seen[name.lower()] = key
        if value is None:
            continue
        if every and not isinstance(value, list):
            raise InvalidEmail(prop, "an :all value must be a list")
        lines.extend(_encode_field(name, form, item, prop) for item in (value if every else [value]))
    return lines


def _fold(name: str, words: list[str]) -> str:
    """``Name: words``, the spaces between words being the fold points, lines kept to 78 octets where possible."""
    lines = [f"{name}:"]
    for word in words:
        if len(lines[-1]) + 1 + len(word) > 78 and lines[-1] != f"{name}:" and word:
            lines.append("")
        lines[-1] += f" {word}"
    return "\r\n".join(lines) + "\r\n"


def _encode_field(name: str, form: str, value: Any, prop: str) -> str:
    if form == "asRaw":
        field = f"{name}:{_string(value, prop)}\r\n"
        if not field.isascii() or "\0" in field or _LINE_BREAKS.search(_RAW_FOLD.sub("", field[:-2])):
            raise InvalidEmail(prop, "a raw value must be ASCII, folded with CRLF and white space")
    elif form == "asText":
        field = _fold(name, _text_words(_string(value, prop), prop))
    elif form in ("asAddresses", "asGroupedAddresses"):
        groups = [{"name": None, "addresses": value}] if form == "asAddresses" else value
        field = _fold(name, _address_words(groups, prop))
    elif form == "asDate":
        field = _fold(name, format_datetime(_date(value, prop)).split(" "))
    else:  # asMessageIds, asURLs
        items = [_string(item, prop) for item in _list(value, prop)]
        if not items or not all(_NO_SPACE.fullmatch(item) and not set(item) & set("<>") for item in items):
            raise InvalidEmail(prop, "needs at least one value, each ASCII without white space or <>")
        comma = "," if form == "asURLs" else ""
        field = _fold(name, _joined([[f"<{item}>"] for item in items], comma))
    if any(len(line) > 998 for line in field.split("\r\n")):
        raise InvalidEmail(prop, "a line of this header field would exceed 998 octets")
    return field


def _joined(items: list[list[str]], separator: str) -> list[str]:
    """The words of several items, the separator glued to the last word of each but the last item."""
    return [
        word + (separator if index < len(items) - 1 and position == len(words) - 1 else "")
        for index, words in enumerate(items)
        for position, word in enumerate(words)
    ]


def _string(value: Any, prop: str) -> str:
    if not isinstance(value, str):
        raise InvalidEmail(prop, "must be a string")
    return value


def _list(value: Any, prop: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidEmail(prop, "must be a list")
    return value


def _date(value: Any, prop: str) -> datetime:
    text = _string(value, prop)
    try:
        if _DATE.fullmatch(text):
            return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        pass
    raise InvalidEmail(prop, "must be an RFC 3339 date-time")


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 B-encoded UTF-8 words of at most 75 octets, never splitting a character."""
    chunks = [b""]
    for char in text:
        octets = char.encode("utf-8", "surrogatepass")
        if len(chunks[-1]) + len(octets) > 45:
            chunks.append(b"")
        chunks[-1] += octets
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode()}?=" for chunk in chunks]


def _text_words(text: str, prop: str) -> list[str]:
    """Unstructured text: its words when plain ASCII, else encoded words."""
    if _CONTROL.search(text):
        raise InvalidEmail(prop, "control characters are not allowed")
    words = text.split(" ")
    if text.isascii() and "=?" not in text and all(len(word) <= 76 for word in words):
        return words
    return _encoded_words(text)


def _address_words(groups: Any, prop: str) -> list[str]:
    items: list[list[str]] = []
    for group in _list(groups, prop):
        if not isinstance(group, dict) or not isinstance(group.get("addresses"), list):
            raise InvalidEmail(prop, "each EmailAddressGroup needs an addresses list")
        words = _joined([_mailbox_words(address, prop) for address in group["addresses"]], ",")
        if group.get("name") is not None:
            label = _phrase_words(_string(group["name"], prop), prop)
            words = [*label[:-1], label[-1] + ":", *words]
            words[-1] += ";"
        if words:
            items.append(words)
    return _joined(items, ",")


def _phrase_words(name: str, prop: str) -> list[str]:
    """A display name as atoms, one quoted string, or encoded words."""
    if _CONTROL.search(name):
        raise InvalidEmail(prop, "control characters are not allowed")
    words = name.split()
    if name.isascii() and "=?" not in name and words and all(_ATOM.fullmatch(word) for word in words):
        return words
    if name.isascii() and "=?" not in name and len(name) < 900:
        return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return _encoded_words(name)


def _mailbox_words(address: Any, prop: str) -> list[str]:
    if not isinstance(address, dict):
        raise InvalidEmail(prop, "an EmailAddress must be an object")
    email = _string(address.get("email"), prop)
    if _CONTROL.search(email) or "\t" in email:
        raise InvalidEmail(prop, "control characters are not allowed")
    local, at, domain = email.rpartition("@") if "@" in email else (email, "", "")
    if not local.isascii():
        raise InvalidEmail(prop, "a non-ASCII local part needs SMTPUTF8, which is not supported")
    try:
        domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidEmail(prop, f"{domain!r} is not a valid domain") from None
    if domain and not (_DOT_ATOM.fullmatch(domain) or _DOMAIN_LITERAL.fullmatch(domain)):
        raise InvalidEmail(prop, f"{domain!r} is not a valid domain")
    if local and not (_DOT_ATOM.fullmatch(local) or _QUOTED.fullmatch(local)):
        local = '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'
    spec = f"{local}{at}{domain}"
    name = address.get("name")
    return [spec] if not name else [*_phrase_words(_string(name, prop), prop), f"<{spec}>"]


def _parameter(name: str, value: str) -> list[str]:
    """``name=value`` as a token or a quoted string, or RFC 2231 UTF-8 sections for anything else."""
    if _TOKEN.fullmatch(value) and len(value) < 70:
        return [f"{name}={value}"]
    if value.isascii() and value.isprintable() and len(value) < 70:
        return [f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"']
    encoded = "utf-8''" + quote(value, safe="")
    sections = []
    while encoded:
        cut = len(encoded) if len(encoded) <= 60 else 60 - (encoded[59] == "%") - 2 * (encoded[58] == "%")
        sections.append(encoded[:cut])  # never inside a %XX escape
        encoded = encoded[cut:]
    if len(sections) == 1:
        return [f"{name}*={sections[0]}"]
    return [f"{name}*{index}*={section}" for index, section in enumerate(sections)]


def _parameterized(name: str, value: str, params: list[str]) -> str:
    return _fold(name, _joined([[value], *([param] for param in params)], ";"))


# --- bodies -----------------------------------------------------------------------------------------------------


class _Part:
    """A generated MIME entity: its header lines and its encoded body."""

    def __init__(self, headers: list[str], body: bytes) -> None:
        self.headers = headers
        self.body = body


_EMPTY_TEXT = _Part(["Content-Type: text/plain; charset=utf-8\r\n", "Content-Transfer-Encoding: 7bit\r\n"], b"")


class _Builder:
    """Turns bodyStructure, or textBody/htmlBody/attachments, into MIME entities, resolving blobs once each."""

    def __init__(self, body_values: Any, resolve_blob: Callable[[str], tuple[bytes, str | None] | None]) -> None:
        if body_values is not None and not isinstance(body_values, dict):
            raise InvalidEmail("bodyValues", "must be an object")
        self.values: dict[str, str] = {}
        for part_id, body_value in (body_values or {}).items():
            prop = f"bodyValues/{part_id}"
            if not isinstance(body_value, dict) or not isinstance(body_value.get("value"), str):
                raise InvalidEmail(prop, "must be an EmailBodyValue with a string value")
            for flag in ("isEncodingProblem", "isTruncated"):
                if body_value.get(flag, False) is not False:
                    raise InvalidEmail(f"{prop}/{flag}", "must be false or omitted")
            self.values[part_id] = body_value["value"]
        self.resolve_blob = resolve_blob
        self.blobs: dict[str, tuple[bytes, str | None] | None] = {}
        self.used: set[str] = set()

    def root(self, email: Mapping[str, Any]) -> _Part:
        if email.get("bodyStructure") is not None:
            if any(email.get(key) is not None for key in ("textBody", "htmlBody", "attachments")):
                raise InvalidEmail("bodyStructure", "cannot be given with textBody, htmlBody or attachments")
            return self.part(email["bodyStructure"], "bodyStructure", 0, None)
        text = self.single(email, "textBody", "text/plain")
        html = self.single(email, "htmlBody", "text/html")
        inline: list[_Part] = []
        mixed: list[_Part] = []
        for index, spec in enumerate(_list(email.get("attachments") or [], "attachments")):
            if not isinstance(spec, dict):
                raise InvalidEmail(f"attachments/{index}", "must be an EmailBodyPart")
            related = html is not None and spec.get("disposition") == "inline" and spec.get("cid") is not None
            spec = spec if spec.get("disposition") is not None else {**spec, "disposition": "attachment"}
            (inline if related else mixed).append(self.part(spec, f"attachments/{index}", 1, None))
        if html is not None and inline:
            html = _multipart("related", [html, *inline])
        bodies = [part for part in (text, html) if part is not None]
        body = _multipart("alternative", bodies) if len(bodies) == 2 else bodies[0] if bodies else None
        if mixed:
            return _multipart("mixed", [body, *mixed] if body else mixed)
        return body or _EMPTY_TEXT

    def single(self, email: Mapping[str, Any], key: str, media_type: str) -> _Part | None:
        specs = email.get(key)
        if specs is None:
            return None
        if not isinstance(specs, list) or len(specs) != 1 or not isinstance(specs[0], dict):
            raise InvalidEmail(key, "must hold exactly one EmailBodyPart")
        if specs[0].get("type", media_type) != media_type:
            raise InvalidEmail(f"{key}/0/type", f"must be {media_type}")
        return self.part(specs[0], f"{key}/0", 1, media_type)

    def part(self, spec: Any, path: str, depth: int, default_type: str | None) -> _Part:
        if not isinstance(spec, dict):
            raise InvalidEmail(path, "must be an EmailBodyPart")
        for key in spec:
            if key == "headers":
                raise InvalidEmail(f"{path}/headers", "set each header field as its own property")
            if key not in _PART_KEYS and not key.startswith("header:"):
                raise InvalidEmail(f"{path}/{key}", "unknown EmailBodyPart property")
        headers = _header_lines(spec, f"{path}/", top=False)
        media_type = spec.get("type") or default_type
        if media_type is not None and not (isinstance(media_type, str) and _MEDIA_TYPE.fullmatch(media_type.lower())):
            raise InvalidEmail(f"{path}/type", "must be a media type such as text/plain")
        media_type = media_type and media_type.lower()
        if spec.get("subParts") is not None or (media_type or "").startswith("multipart/"):
            return self.multipart(spec, path, depth, media_type, headers)
        content, charset, media_type = self.content(spec, path, media_type)
        params = _parameter("charset", charset) if charset else []
        if spec.get("name") is not None:
            params += _parameter("name", _string(spec["name"], f"{path}/name"))
        lines = [_parameterized("Content-Type", media_type, params)]
        if spec.get("disposition") is not None:
            disposition = _string(spec["disposition"], f"{path}/disposition")
            if not _TOKEN.fullmatch(disposition):
                raise InvalidEmail(f"{path}/disposition", "must be a token such as attachment or inline")
            filename = _parameter("filename", spec["name"]) if spec.get("name") is not None else []
            lines.append(_parameterized("Content-Disposition", disposition.lower(), filename))
        lines += _part_fields(spec, path)
        encoding, body = _encode_body(content, media_type, spec.get("partId") is not None, path)
        return _Part([*lines, f"Content-Transfer-Encoding: {encoding}\r\n", *headers], body)

    def multipart(
        self, spec: dict[str, Any], path: str, depth: int, media_type: str | None, headers: list[str]
    ) -> _Part:
        given = {key for key, value in spec.items() if value is not None and not key.startswith("header:")}
        if given - {"type", "subParts"}:
            raise InvalidEmail(path, "a multipart has only type, subParts and header fields")
        children = _list(spec.get("subParts"), f"{path}/subParts")
        if not media_type or not media_type.startswith("multipart/") or not children:
            raise InvalidEmail(f"{path}/subParts", "a multipart type needs subParts, and only it may have them")
        if depth >= MAX_DEPTH:
            raise InvalidEmail(path, "body parts are nested too deeply")
        parts = [self.part(child, f"{path}/subParts/{index}", depth + 1, None) for index, child in enumerate(children)]
        multipart = _multipart(media_type.partition("/")[2], parts)
        return _Part(multipart.headers + headers, multipart.body)

    def content(self, spec: dict[str, Any], path: str, media_type: str | None) -> tuple[bytes, str | None, str]:
        """The octets, charset and media type of a leaf given by partId or blobId."""
        part_id, blob_id = spec.get("partId"), spec.get("blobId")
        if (part_id is None) == (blob_id is None):
            raise InvalidEmail(path, "give exactly one of partId and blobId")
        if part_id is not None:
            for key in ("charset", "size"):
                if spec.get(key) is not None:
                    raise InvalidEmail(f"{path}/{key}", "cannot be given with a partId")
            if _string(part_id, f"{path}/partId") not in self.values:
                raise InvalidEmail(f"{path}/partId", "no such partId in bodyValues")
            self.used.add(part_id)
            media_type = media_type or "text/plain"
            content = _LINE_BREAKS.sub("\r\n", self.values[part_id]).encode("utf-8", "surrogatepass")
            return content, "utf-8" if media_type.startswith("text/") else None, media_type
        blob = self.blob(_string(blob_id, f"{path}/blobId"))
        if media_type is None:
            found = ((blob[1] if blob else None) or "").partition(";")[0].strip().lower()
            usable = _MEDIA_TYPE.fullmatch(found) and not found.startswith("multipart/")
            media_type = found if usable else "application/octet-stream"
        charset = spec.get("charset")
        if charset is not None and not (isinstance(charset, str) and _TOKEN.fullmatch(charset)):
            raise InvalidEmail(f"{path}/charset", "must be a charset name")
        return (blob[0] if blob else b""), charset, media_type

    def blob(self, blob_id: str) -> tuple[bytes, str | None] | None:
        if blob_id not in self.blobs:
            self.blobs[blob_id] = self.resolve_blob(blob_id)
        return self.blobs[blob_id]

    def finish(self) -> None:
        """Refuse bodyValues that no part uses, then report every missing blob."""
        for part_id in self.values:
            if part_id not in self.used:
                raise InvalidEmail(f"bodyValues/{part_id}", "no body part references this partId")
        missing = [blob_id for blob_id, blob in self.blobs.items() if blob is None]
        if missing:
            raise BlobNotFound(*missing)


def _part_fields(spec: dict[str, Any], path: str) -> list[str]:
    """Content-ID, Content-Language and Content-Location of a leaf."""
    lines = []
    if spec.get("cid") is not None:
        cid = _string(spec["cid"], f"{path}/cid")
        if not _NO_SPACE.fullmatch(cid) or set(cid) & set("<>"):
            raise InvalidEmail(f"{path}/cid", "must be ASCII without white space or <>")
        lines.append(_fold("Content-ID", [f"<{cid}>"]))
    if spec.get("language") is not None:
        tags = [_string(tag, f"{path}/language") for tag in _list(spec["language"], f"{path}/language")]
        if not tags or not all(_LANGUAGE.fullmatch(tag) for tag in tags):
            raise InvalidEmail(f"{path}/language", "must be language tags")
        lines.append(_fold("Content-Language", _joined([[tag] for tag in tags], ",")))
    if spec.get("location") is not None:
        location = _string(spec["location"], f"{path}/location")
        if not _NO_SPACE.fullmatch(location):
            raise InvalidEmail(f"{path}/location", "must be a URI")
        lines.append(_fold("Content-Location", [location]))
    if any(len(line) > 998 for field in lines for line in field.split("\r\n")):
        raise InvalidEmail(path, "a header line would exceed 998 octets")
    return lines


def _encode_body(content: bytes, media_type: str, is_text: bool, path: str) -> tuple[str, bytes]:
    """The Content-Transfer-Encoding and encoded body of a leaf."""
    if media_type.startswith("message/"):
        content = re.sub(rb"\r\n|\r|\n", b"\r\n", content)
        if any(len(line) > 998 for line in content.split(b"\r\n")):
            raise InvalidEmail(f"{path}/blobId", "an attached message cannot have lines over 998 octets")
        return ("7bit" if content.isascii() else "8bit"), content
    if not is_text:
        return "base64", base64.encodebytes(content).replace(b"\n", b"\r\n")
    if content.isascii() and b"\0" not in content and all(len(line) <= 998 for line in content.split(b"\r\n")):
        return "7bit", content
    return "quoted-printable", re.sub(rb"\r?\n", b"\r\n", binascii.b2a_qp(content, istext=True))


def _multipart(subtype: str, parts: list[_Part]) -> _Part:
    delimiter = f"--=_{uuid.uuid4().hex}".encode()
    body = b"".join(
        delimiter + b"\r\n" + "".join(part.headers).encode("ascii") + b"\r\n" + part.body + b"\r\n" for part in parts
    )
    header = f'Content-Type: multipart/{subtype};\r\n boundary="{delimiter[2:].decode()}"\r\n'
    return _Part([header], body + delimiter + b"--\r\n")
