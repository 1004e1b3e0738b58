"""Messages (RFC 5322 + MIME) for JMAP Mail (RFC 8621): parse once, then give storage its index fields
(``ParsedMessage.email_write``) and JMAP the Email properties that need the message (``ParsedMessage.properties``).
Header forms live in mime_headers, message generation in mime_build.

The MIME tree is split here, not by ``email.parser``, though it is handed out as ``email.message.EmailMessage``
objects: in Python 3.11 the feed parser matches every line against every open boundary in Python (100 nested
multiparts over 1 MB: 2 s), recurses once per level (RecursionError near 1,000) and reads each Content-Type with
the header registry, which is quadratic (50 KB of ";": 30 s). This splitter scans each multipart once with one
compiled expression, stops at MAX_DEPTH and keeps byte offsets, so part blobs are the original octets.

Choices where the RFCs leave room, and why:

- Nothing raises on any input. Nesting deeper than MAX_DEPTH, a multipart past MAX_ITEMS, or one without
  boundary or delimiter line, is an opaque leaf of its declared type.
- Part ids are IMAP section numbers ("1", "2.1"); multiparts have none (RFC 8621: partId is null for them). A
  part's blob id is the message blob id, "_" and the section with "-" for "." (``part_blob_id``): part blobs need
  no storage of their own, and attached messages nest the same way.
- textBody/htmlBody/attachments follow RFC 8621 §4.1.4 parseStructure exactly. hasAttachment counts attachments
  other than ``Content-Disposition: inline`` ones and other than parts with no disposition but a Content-ID or
  Content-Location (embedded images of HTML, which the RFC lets servers ignore).
- bodyStructure gets subParts when bodyProperties is omitted (the RFC default list lacks it, which would hide the
  tree); an explicit list is followed as given. A multipart's size is 0 (it has no blob).
- Bodies: an unknown Content-Transfer-Encoding, broken base64 or quoted-printable, an unknown charset or malformed
  octets set isEncodingProblem; see mime_headers.decode_text for the charset heuristics.
- preview: the textBody parts (HTML without tags), white space collapsed, at most 256 characters.
- sort_from/sort_to: the first address's name, else its email (RFC 8621 §4.4.2), lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from functools import cached_property
from typing import Any

from protocols.formats.mime_headers import (
    HeaderProperty,
    base_subject,
    decode_octets,
    decode_text,
    decode_transfer,
    decode_words,
    html_text,
    parameterized,
    parse_header_property,
    parsed_value,
    text,
    unfold,
)
from storage.mail import EmailWrite, SearchText

MAX_DEPTH = 100
"""Entities nested deeper than this (multiparts and attached messages) are opaque leaves."""
MAX_ITEMS = 20_000
"""Header fields plus entities in one message; past that, header lines count as body and multiparts as leaves, so
that hostile messages of a million tiny fields or parts cost no more than real ones (which have hundreds)."""
PREVIEW_CHARS = 256
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
SEARCH_BODY_BYTES = 512 * 1024
DEFAULT_BODY_PROPERTIES = (
    "partId", "blobId", "size", "name", "type", "charset", "disposition", "cid", "language", "location",
)  # fmt: skip
_BODY_PROPERTIES = frozenset({*DEFAULT_BODY_PROPERTIES, "headers", "subParts"})
_MESSAGE_TYPES = ("message/rfc822", "message/global")
_CONVENIENCE = {
    "messageId": ("message-id", "asMessageIds"),
    "inReplyTo": ("in-reply-to", "asMessageIds"),
    "references": ("references", "asMessageIds"),
    **{key: (key, "asAddresses") for key in ("sender", "from", "to", "cc", "bcc")},
    "replyTo": ("reply-to", "asAddresses"),
    "subject": ("subject", "asText"),
    "sentAt": ("date", "asDate"),
}
"""The convenience properties of RFC 8621 §4.1.3 and the header field and form each stands for."""


class _PlainHeaders(EmailPolicy):
    """The default policy, except that header values come back as plain unfolded strings: the header registry is
    slow on hostile input (see the module docs); mime_headers parses the forms JMAP needs."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return unfold(decode_octets(value.encode("utf-8", "surrogateescape"))).strip()


_POLICY = _PlainHeaders()


@dataclass(frozen=True, slots=True, eq=False)
class _Entity:
    """One MIME entity: where its content lies in the raw message and what its headers say."""

    part_id: str
    """IMAP-style section number; "" for a multipart at the root."""
    message: EmailMessage
    headers: tuple[tuple[str, str], ...]
    """(name, value in Raw form) in message order."""
    type: str
    params: Mapping[str, str]
    disposition: str | None
    name: str | None
    body: int
    end: int
    children: tuple[_Entity, ...] | None = None
    """The parts of a multipart; None for a leaf."""

    def first(self, name: str) -> str | None:
        return _first(self.headers, name)


def _first(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of a header field (the MIME fields occur once)."""
    return next((value for field, value in headers if field.lower() == name), None)


# --- splitting -------------------------------------------------------------------------------------------------

_HEADER_NAME = re.compile(rb"([!-9;-~]+)[ \t]*:")
_MEDIA_TYPE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+/[!#$%&'*+\-.^_`|~0-9a-z]+")


class _Budget:
    """What is left of MAX_ITEMS while one message is split."""

    def __init__(self) -> None:
        self.left = MAX_ITEMS


def _header_section(
    raw: bytes, start: int, end: int, budget: _Budget
) -> tuple[list[tuple[bytes, list[bytes]]], int, bytes]:
    """The header fields (name, value lines) of the entity at ``start``, where its body begins, and the unix
    "From " line of an mbox export. A line that is no header field ends the header section."""
    fields: list[tuple[bytes, list[bytes]]] = []
    unixfrom = b""
    pos = start
    while pos < end:
        newline = raw.find(b"\n", pos, end)
        line_end = end if newline < 0 else newline + 1
        line = raw[pos:line_end]
        if line in (b"\r\n", b"\n"):
            return fields, line_end, unixfrom
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1].append(line)
        elif (match := _HEADER_NAME.match(line)) is not None and budget.left > 0:
            budget.left -= 1
            fields.append((match[1], [line[match.end() :]]))
        elif pos == 0 and line.startswith(b"From "):
            unixfrom = line.rstrip(b"\r\n")
        else:
            return fields, pos, unixfrom
        pos = line_end
    return fields, end, unixfrom


def _before_break(raw: bytes, begin: int, pos: int) -> int:
    """The line break before a delimiter line belongs to the delimiter (RFC 2046 §5.1.1)."""
    if pos > begin and raw[pos - 1] == 0x0A:
        pos -= 1
        if pos > begin and raw[pos - 1] == 0x0D:
            pos -= 1
    return pos


def _split(
    raw: bytes, start: int, end: int, boundary: str, limit: int
) -> tuple[list[tuple[int, int]], int, int] | None:
    """The (start, end) of each body part of a multipart, the end of its preamble and the start of its epilogue;
    None without any delimiter line or with more than ``limit`` parts. A missing close delimiter ends the last part
    at the end of the body."""
    if not boundary:
        return None
    delimiter = re.compile(rb"^--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*\r?$", re.MULTILINE)
    spans: list[tuple[int, int]] = []
    preamble_end = part_start = -1
    for match in delimiter.finditer(raw, start, end):
        if part_start < 0:
            preamble_end = _before_break(raw, start, match.start())
        else:
            spans.append((part_start, _before_break(raw, part_start, match.start())))
            if len(spans) > limit:
                return None
        part_start = min(match.end() + 1, end)  # past the line break
        if match[1]:
            return spans, preamble_end, part_start
    if part_start < 0 or len(spans) >= limit:
        return None
    spans.append((part_start, end))
    return spans, preamble_end, end


def _parse(raw: bytes, start: int, end: int, depth: int, part_id: str, default_type: str, budget: _Budget) -> _Entity:
    """The entity in raw[start:end] and everything below it (recursion is bounded by MAX_DEPTH)."""
    fields, body, unixfrom = _header_section(raw, start, end, budget)
    message = EmailMessage(policy=_POLICY)
    if unixfrom:
        message.set_unixfrom(unixfrom.decode("ascii", "surrogateescape"))
    headers = []
    for name_octets, lines in fields:
        value = b"".join(lines)
        value = value[:-2] if value.endswith(b"\r\n") else value[:-1] if value.endswith(b"\n") else value
        name = name_octets.decode("ascii")
        message.set_raw(name, value.decode("ascii", "surrogateescape"))
        headers.append((name, decode_octets(value)))
    content_type = _first(headers, "content-type")
    media_type, params = parameterized(content_type) if content_type is not None else (default_type, {})
    if not _MEDIA_TYPE.fullmatch(media_type):
        media_type, params = "text/plain", {}
    if default_type != "text/plain":
        message.set_default_type(default_type)
    disposition_field = _first(headers, "content-disposition")
    disposition, disposition_params = parameterized(disposition_field) if disposition_field else ("", {})
    filename = disposition_params.get("filename") or params.get("name")
    children = None
    multipart = media_type.startswith("multipart/") and depth < MAX_DEPTH
    split = _split(raw, body, end, params.get("boundary", ""), budget.left) if multipart else None
    if split is not None:
        spans, preamble_end, epilogue_start = split
        budget.left -= len(spans)
        child_type = "message/rfc822" if media_type == "multipart/digest" else "text/plain"
        children = tuple(
            _parse(raw, begin, finish, depth + 1, f"{part_id}.{index}" if part_id else str(index), child_type, budget)
            for index, (begin, finish) in enumerate(spans, 1)
        )
        message.set_payload([child.message for child in children])
        message.preamble = raw[body:preamble_end].decode("ascii", "surrogateescape")
        message.epilogue = raw[epilogue_start:end].decode("ascii", "surrogateescape")
    elif media_type in _MESSAGE_TYPES and depth < MAX_DEPTH:
        content = decode_transfer(raw[body:end], _first(headers, "content-transfer-encoding"))[0]
        message.set_payload([_parse(content, 0, len(content), depth + 1, "", "text/plain", budget).message])
    else:
        message.set_payload(raw[body:end].decode("ascii", "surrogateescape"))
    return _Entity(
        part_id if children is not None else part_id or "1",
        message,
        tuple(headers),
        media_type,
        params,
        disposition or None,
        decode_words(filename, anywhere=True) if filename else None,
        body,
        end,
        children,
    )


# --- the parsed message ----------------------------------------------------------------------------------------


def _inline_media(media_type: str) -> bool:
    return media_type.startswith(("image/", "audio/", "video/"))


def _parse_structure(
    parts: Sequence[_Entity],
    multipart_type: str,
    in_alternative: bool,
    html_body: list[_Entity] | None,
    text_body: list[_Entity] | None,
    attachments: list[_Entity],
) -> None:
    """RFC 8621 §4.1.4 parseStructure, line for line (a null list is None; the RFC's JavaScript would fail on a
    null list inside a nested alternative, which is skipped here)."""
    text_length = -1 if text_body is None else len(text_body)
    html_length = -1 if html_body is None else len(html_body)
    for index, part in enumerate(parts):
        is_inline = (
            part.disposition != "attachment"
            and (part.type in ("text/plain", "text/html") or _inline_media(part.type))
            and (index == 0 or (multipart_type != "related" and (_inline_media(part.type) or not part.name)))
        )
        if part.children is not None:
            subtype = part.type.partition("/")[2]
            _parse_structure(
                part.children, subtype, in_alternative or subtype == "alternative", html_body, text_body, attachments
            )
        elif is_inline:
            if multipart_type == "alternative":
                target = {"text/plain": text_body, "text/html": html_body}.get(part.type, attachments)
                if target is not None:
                    target.append(part)
                continue
            if in_alternative:
                if part.type == "text/plain":
                    html_body = None
                if part.type == "text/html":
                    text_body = None
            if text_body is not None:
                text_body.append(part)
            if html_body is not None:
                html_body.append(part)
            if (text_body is None or html_body is None) and _inline_media(part.type):
                attachments.append(part)
        else:
            attachments.append(part)
    if multipart_type == "alternative" and text_body is not None and html_body is not None:
        if text_length == len(text_body) and html_length != len(html_body):
            text_body.extend(html_body[html_length:])
        if html_length == len(html_body) and text_length != len(text_body):
            html_body.extend(text_body[text_length:])


@dataclass(frozen=True, eq=False)
class ParsedMessage:
    """A message split into its MIME tree once; the JMAP views are computed on demand and cached."""

    raw: bytes
    message: EmailMessage
    """The tree as email.message objects. Header values read through it are plain strings (octets as text,
    unfolded, encoded words left alone): use ``properties`` for the parsed forms, and ``raw`` for the octets."""
    root: _Entity = field(repr=False)

    @cached_property
    def looks_like_message(self) -> bool:
        """Whether the octets start with at least one header field: what Email/parse and Email/import need before
        calling a blob a message (this parser makes something of anything)."""
        return bool(self.root.headers)

    @cached_property
    def _layout(self) -> tuple[list[_Entity], list[_Entity], list[_Entity]]:
        """textBody, htmlBody, attachments."""
        text_body: list[_Entity] = []
        html_body: list[_Entity] = []
        attachments: list[_Entity] = []
        _parse_structure([self.root], "mixed", False, html_body, text_body, attachments)
        return text_body, html_body, attachments

    @cached_property
    def _decoded(self) -> dict[str, tuple[bytes, bool]]:
        return {}

    def _content(self, part: _Entity) -> tuple[bytes, bool]:
        """A leaf's octets after transfer decoding, and whether that hit a problem."""
        if part.part_id not in self._decoded:
            raw = self.raw[part.body : part.end]
            self._decoded[part.part_id] = decode_transfer(raw, part.first("content-transfer-encoding"))
        return self._decoded[part.part_id]

    def _text(self, part: _Entity) -> tuple[str, bool]:
        """A text part decoded to a string with LF line ends; the flag is isEncodingProblem."""
        octets, transfer_problem = self._content(part)
        value, charset_problem = decode_text(octets, part.params.get("charset"))
        return value.replace("\r\n", "\n"), transfer_problem or charset_problem

    def _plain(self, part: _Entity) -> str:
        return html_text(self._text(part)[0]) if part.type == "text/html" else self._text(part)[0]

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The JSON-ready Email properties that storage keeps (see storage.mail.EmailWrite.summary)."""
        headers = self.root.headers

        def last(name: str, form: str) -> Any:
            values = [value for field, value in headers if field.lower() == name]
            return parsed_value(form, values[-1]) if values else None

        text_body, _, attachments = self._layout
        preview = ""
        for part in text_body:
            if part.type.startswith("text/") and len(preview) < PREVIEW_CHARS:
                plain = _CONTROLS.sub(" ", self._plain(part)[: PREVIEW_CHARS * 8])
                preview = " ".join(f"{preview} {plain}".split())
        return {
            **{key: last(name, form) for key, (name, form) in _CONVENIENCE.items()},
            "hasAttachment": any(not _embedded(part) for part in attachments),
            "preview": preview[:PREVIEW_CHARS],
        }

    def email_write(
        self,
        *,
        blob_id: str,
        received_at: float,
        mailbox_ids: frozenset[int],
        keywords: frozenset[str],
        delivered: bool = False,
    ) -> EmailWrite:
        """Everything storage indexes about this message."""
        summary = self.summary
        subject = base_subject(summary["subject"] or "")
        return EmailWrite(
            blob_id=blob_id,
            size=len(self.raw),
            received_at=received_at,
            mailbox_ids=mailbox_ids,
            keywords=keywords,
            summary=summary,
            message_ids=tuple(summary["messageId"] or ()),
            reference_ids=tuple(dict.fromkeys([*(summary["inReplyTo"] or ()), *(summary["references"] or ())])),
            thread_subject=subject,
            sort_subject=subject,
            sort_from=_sort_key(summary["from"]),
            sort_to=_sort_key(summary["to"]),
            sent_at=None if summary["sentAt"] is None else datetime.fromisoformat(summary["sentAt"]).timestamp(),
            has_attachment=summary["hasAttachment"],
            search=self._search(),
            delivered=delivered,
        )

    def _search(self) -> SearchText:
        summary = self.summary
        text_body, _, attachments = self._layout
        body: list[str] = []
        budget = SEARCH_BODY_BYTES
        for part in dict.fromkeys(part for part in (*text_body, *attachments) if part.type.startswith("text/")):
            if budget <= 0:
                break
            chunk = _truncate(self._plain(part), budget)[0]
            budget -= len(chunk.encode("utf-8")) + 1
            body.append(chunk)
        return SearchText(
            subject=summary["subject"] or "",
            from_=_address_text(summary["from"]),
            to=_address_text(summary["to"]),
            cc=_address_text(summary["cc"]),
            bcc=_address_text(summary["bcc"]),
            body="\n".join(body),
            attachments="\n".join(part.name for part in attachments if part.name),
            headers="\n".join(f"{name.lower()}: {text(value)}" for name, value in self.root.headers),
        )

    def properties(
        self,
        properties: Collection[str],
        *,
        blob_id: str,
        body_properties: Sequence[str] | None = None,
        fetch_text_body_values: bool = False,
        fetch_html_body_values: bool = False,
        fetch_all_body_values: bool = False,
        max_body_value_bytes: int = 0,
    ) -> dict[str, Any]:
        """The requested Email properties that come from the message (RFC 8621 §4.1.2-4.1.4); others (id,
        mailboxIds, keywords, ...) are left to the caller. Raises ValueError naming a malformed or forbidden
        ``header:`` property or an unknown body property (the caller's invalidArguments)."""
        parts = _BodyParts(self, blob_id, body_properties)
        text_body, html_body, attachments = self._layout
        result: dict[str, Any] = {}
        for prop in properties:
            if prop.startswith("header:"):
                result[prop] = _header_value(self.root.headers, parse_header_property(prop))
            elif prop in _CONVENIENCE or prop in ("hasAttachment", "preview"):
                result[prop] = self.summary[prop]
            elif prop == "headers":
                result[prop] = [{"name": name, "value": value} for name, value in self.root.headers]
            elif prop == "bodyStructure":
                result[prop] = parts.render(self.root, tree=True)
            elif prop in ("textBody", "htmlBody", "attachments"):
                chosen = {"textBody": text_body, "htmlBody": html_body, "attachments": attachments}[prop]
                result[prop] = [parts.render(part) for part in chosen]
            elif prop == "bodyValues":
                selected = [
                    *(text_body if fetch_text_body_values else ()),
                    *(html_body if fetch_html_body_values else ()),
                    *(_leaves(self.root) if fetch_all_body_values else ()),
                ]
                result[prop] = {
                    part.part_id: self._body_value(part, max_body_value_bytes)
                    for part in selected
                    if part.type.startswith("text/")
                }
        return result

    def _body_value(self, part: _Entity, max_bytes: int) -> dict[str, Any]:
        value, problem = self._text(part)
        truncated = False
        if max_bytes > 0:
            value, truncated = _truncate(value, max_bytes, html=part.type == "text/html")
        return {"value": value, "isEncodingProblem": problem, "isTruncated": truncated}


class _BodyParts:
    """Renders EmailBodyPart objects with the requested bodyProperties."""

    def __init__(self, parsed: ParsedMessage, blob_id: str, body_properties: Sequence[str] | None) -> None:
        self.parsed = parsed
        self.blob_id = blob_id
        self.properties = list(DEFAULT_BODY_PROPERTIES if body_properties is None else body_properties)
        self.tree_properties = [*self.properties, "subParts"] if body_properties is None else self.properties
        self.headers: dict[str, HeaderProperty] = {}
        for prop in self.properties:
            if prop.startswith("header:"):
                self.headers[prop] = parse_header_property(prop)
            elif prop not in _BODY_PROPERTIES:
                raise ValueError(f"{prop!r} is not an EmailBodyPart property")

    def render(self, part: _Entity, *, tree: bool = False) -> dict[str, Any]:
        """One EmailBodyPart; in bodyStructure (``tree``) the default properties include subParts."""
        leaf = part.children is None
        attributes = _attributes(part)
        result: dict[str, Any] = {}
        for prop in self.tree_properties if tree else self.properties:
            if prop in attributes:
                result[prop] = attributes[prop]
            elif prop == "partId":
                result[prop] = part.part_id if leaf else None
            elif prop == "blobId":
                blob = part_blob_id(self.blob_id, part.part_id)
                result[prop] = blob if leaf and len(blob) <= 255 else None
            elif prop == "size":
                result[prop] = len(self.parsed._content(part)[0]) if leaf else 0
            elif prop == "headers":
                result[prop] = [{"name": name, "value": value} for name, value in part.headers]
            elif prop == "subParts":
                result[prop] = (
                    None if part.children is None else [self.render(child, tree=tree) for child in part.children]
                )
            else:
                result[prop] = _header_value(part.headers, self.headers[prop])
        return result


def _attributes(part: _Entity) -> dict[str, Any]:
    """The EmailBodyPart properties that come from the Content-* fields (RFC 8621 §4.1.4)."""
    cid, language, location = (part.first(f"content-{name}") for name in ("id", "language", "location"))
    implicit = part.type.startswith("text/") or part.first("content-type") is None
    tags = [tag.strip() for tag in unfold(language or "").split(",") if tag.strip()]
    return {
        "name": part.name,
        "type": part.type,
        "charset": part.params.get("charset") or ("us-ascii" if implicit else None),
        "disposition": part.disposition,
        "cid": None if cid is None else "".join(cid.split()).strip("<>") or None,
        "language": tags or None,
        "location": None if location is None else "".join(location.split()) or None,
    }


def _leaves(part: _Entity) -> list[_Entity]:
    if part.children is None:
        return [part]
    return [leaf for child in part.children for leaf in _leaves(child)]


def _embedded(part: _Entity) -> bool:
    """An attachment that clients show in the body rather than offer for download."""
    if part.disposition is not None:
        return part.disposition == "inline"
    return part.first("content-id") is not None or part.first("content-location") is not None


def _header_value(headers: Sequence[tuple[str, str]], spec: HeaderProperty) -> Any:
    values = [value for name, value in headers if name.lower() == spec.name.lower()]
    if spec.all:
        return [parsed_value(spec.form, value) for value in values]
    return parsed_value(spec.form, values[-1]) if values else None


def _sort_key(addresses: list[dict[str, Any]] | None) -> str:
    if not addresses:
        return ""
    return (addresses[0]["name"] or addresses[0]["email"] or "").lower()


def _address_text(addresses: list[dict[str, Any]] | None) -> str:
    return ", ".join(f"{item['name']} <{item['email']}>" if item["name"] else item["email"] for item in addresses or [])


def _truncate(value: str, limit: int, *, html: bool = False) -> tuple[str, bool]:
    """At most ``limit`` UTF-8 octets, cut between characters (and for HTML, not inside a tag)."""
    data = value.encode("utf-8")
    if len(data) <= limit:
        return value, False
    cut = limit
    while cut > 0 and data[cut] & 0xC0 == 0x80:
        cut -= 1
    value = data[:cut].decode("utf-8")
    if html and value.rfind("<") > value.rfind(">"):
        value = value[: value.rfind("<")]
    return value, True


# --- blob ids and entry points ----------------------------------------------------------------------------

_SECTION = re.compile(r"\d+(?:-\d+)*")


def part_blob_id(message_blob_id: str, part_id: str) -> str:
    """The blob id of a part: a valid JMAP id as long as the message blob id is one (and the nesting is sane)."""
    return f"{message_blob_id}_{part_id.replace('.', '-')}"


def split_part_blob_id(blob_id: str) -> tuple[str, str] | None:
    """(message blob id, part id) of a part blob id, or None for any other id."""
    message_blob_id, separator, section = blob_id.rpartition("_")
    if not separator or not message_blob_id or not _SECTION.fullmatch(section):
        return None
    return message_blob_id, section.replace("-", ".")


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse any octets as a message; never raises (garbage gives a message with whatever could be recovered)."""
    root = _parse(raw, 0, len(raw), 0, "", "text/plain", _Budget())
    return ParsedMessage(raw, root.message, root)


def _find(parsed: ParsedMessage, part_id: str) -> _Entity | None:
    return next((part for part in _leaves(parsed.root) if part.part_id == part_id), None)


def extract_part(raw: bytes, part_id: str) -> tuple[bytes, str, str | None] | None:
    """The decoded octets, media type and file name of a leaf part, or None if the message has no such part."""
    parsed = parse_message(raw)
    part = _find(parsed, part_id)
    return None if part is None else (parsed._content(part)[0], part.type, part.name)


def parse_attached(raw: bytes, part_id: str) -> ParsedMessage | None:
    """The message attached as a message/rfc822 (or message/global) part, for Email/parse; None if there is no
    such part or it is no message."""
    parsed = parse_message(raw)
    part = _find(parsed, part_id)
    return None if part is None or part.type not in _MESSAGE_TYPES else parse_message(parsed._content(part)[0])
