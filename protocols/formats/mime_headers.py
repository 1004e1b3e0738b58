"""Header fields in the parsed forms of RFC 8621 §4.1.2 (Raw, Text, Addresses, GroupedAddresses, MessageIds, Date,
URLs), the table of forms each header field allows, the base subject (RFC 5256) and the decoding that headers and
bodies share: parameters (RFC 2045, RFC 2231), charsets, transfer encodings, and the text of HTML.

Everything here is hand-written and linear in the length of its input, instead of going through
``email.headerregistry``: in Python 3.11 that parser is quadratic on hostile values (a 50 KB Content-Type of
semicolons takes 30 s) and raises RecursionError on nested comments, and message headers come from strangers.
No function here raises on any input; what cannot be parsed is skipped or gives None, as RFC 8621 asks.

Choices where the RFCs leave room:

- Raw octets are UTF-8 (RFC 6532); each sequence that is not valid UTF-8 is read as windows-1252, the legacy
  charset such headers nearly always are in (RFC 8621 allows heuristics; this registers the "mime-cp1252" codec
  error handler). NUL is dropped.
- RFC 2047 encoded words are decoded only where RFC 2047 places them (whole words separated by white space), as
  RFC 8621 requires, with two exceptions where mailers put them against the rules and nothing else can be meant: a
  quoted display name made only of encoded words, and file name parameters. Adjacent words in one charset are
  joined before decoding, so a character split across two words survives.
- A Date without a zone, or with an unknown zone name, is taken as UTC; ISO 8601 dates (some robots send them)
  are accepted. Invalid dates (31 February, hour 25) give None.
- A Message-ID without angle brackets is accepted when it is the only word and holds an "@".
"""

from __future__ import annotations

import binascii
import codecs
import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_to_bytes

FORMS = ("asRaw", "asText", "asAddresses", "asGroupedAddresses", "asMessageIds", "asDate", "asURLs")

_ADDRESS_FIELDS = ("from", "sender", "reply-to", "to", "cc", "bcc")
_KNOWN_FORMS: dict[str, frozenset[str]] = {
    **{name: frozenset({"asRaw"}) for name in ("return-path", "received")},
    **{name: frozenset({"asRaw", "asText"}) for name in ("subject", "comments", "keywords")},
    **{
        name: frozenset({"asRaw", "asAddresses", "asGroupedAddresses"})
        for name in (*_ADDRESS_FIELDS, *(f"resent-{field}" for field in _ADDRESS_FIELDS if field != "reply-to"))
    },
    **{
        name: frozenset({"asRaw", "asMessageIds"})
        for name in ("message-id", "in-reply-to", "references", "resent-message-id")
    },
    **{name: frozenset({"asRaw", "asDate"}) for name in ("date", "resent-date")},
    **{
        f"list-{name}": frozenset({"asRaw", "asURLs"})
        for name in ("help", "unsubscribe", "subscribe", "post", "owner", "archive")
    },
}
"""The fields RFC 5322 and RFC 2369 define, and the forms RFC 8621 §4.1.2 allows for them (Return-Path and
Received only Raw). Any other field allows every form (so List-Id and Resent-Reply-To do too)."""


def allowed_forms(name: str) -> frozenset[str]:
    return _KNOWN_FORMS.get(name.lower(), frozenset(FORMS))


@dataclass(frozen=True, slots=True)
class HeaderProperty:
    """A parsed ``header:{name}[:as{Form}][:all]`` property name."""

    name: str
    form: str
    all: bool


_PROPERTY = re.compile(r"header:([!-9;-~]+)(?::(as[A-Za-z]+))?(:all)?")


def parse_header_property(prop: str) -> HeaderProperty:
    """Raises ValueError, naming the property, for a malformed name, an unknown form or one the field forbids."""
    match = _PROPERTY.fullmatch(prop)
    if match is None:
        raise ValueError(f"{prop!r} is not a header:Name[:asForm][:all] property")
    name, form = match[1], match[2] or "asRaw"
    if form not in FORMS:
        raise ValueError(f"{prop!r}: unknown header form {form!r}")
    if form not in allowed_forms(name):
        raise ValueError(f"{prop!r}: the {name} header field cannot be parsed {form}")
    return HeaderProperty(name, form, match[3] is not None)


def parsed_value(form: str, raw: str) -> Any:
    """One header field value (in Raw form, see ``decode_octets``) in the given form."""
    return _PARSERS[form](raw)


# --- octets, charsets, unfolding, encoded words ------------------------------------------------------------


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("cp1252", "replace"), error.end


codecs.register_error("mime-cp1252", _as_cp1252)


def decode_octets(data: bytes) -> str:
    """Header octets as text: UTF-8 (RFC 6532), each invalid sequence read as windows-1252 (legacy 8-bit headers
    nearly always are); NUL octets dropped."""
    return data.replace(b"\0", b"").decode("utf-8", "mime-cp1252")


_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949", "shift_jis": "cp932"}
"""Labels that mail (like the web) uses for the larger Microsoft/Chinese charsets."""
_REFUSED_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})
"""Text codecs that are no MIME charsets and are slow or raise on hostile input."""


def codec(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown (or not a text encoding)."""
    if not charset:
        return None
    try:
        name = codecs.lookup(charset.strip().strip('"')).name
        b"A".decode(name, "replace")  # LookupError for codecs that are no text encodings (rot13, base64)
    except (LookupError, ValueError):
        return None
    return None if name in _REFUSED_CODECS else _SUPERSETS.get(name, name)


def decode_text(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode a body or encoded word; the flag is RFC 8621's isEncodingProblem (unknown charset or malformed
    octets). US-ASCII (the default) that is not ASCII is read as UTF-8, else windows-1252, without a flag when UTF-8
    fits: mislabelled 8-bit text is common and that is what it nearly always is."""
    name = codec(charset or "us-ascii")
    if name is None or name == "ascii":
        try:
            return data.decode("utf-8"), name is None
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace"), True
    try:
        decoded, problem = data.decode(name), False
    except (UnicodeError, ValueError):
        decoded, problem = data.decode(name, "replace"), True
    return _LONE_SURROGATE.sub("\ufffd", decoded), problem  # UTF-7 and UTF-16 can leave halves of pairs


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAK = re.compile(r"[\r\n]")


def unfold(value: str) -> str:
    """RFC 5322 §2.2.3: remove the line breaks of folding white space (and any stray CR or LF)."""
    return _LINE_BREAK.sub("", _FOLD.sub("", value))


_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*)\?=")
_GLUED_WORD = re.compile(r"(=\?[^?\s*]+(?:\*[^?\s]*)?\?[QqBb]\?[^?\s]*\?=)")
_BAD_Q = re.compile(r"=(?![0-9A-Fa-f]{2})")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_WHITE = re.compile(r"([ \t]+)")


def _word_octets(word: str) -> tuple[str, bytes] | None:
    """The charset and octets of a syntactically correct encoded word in a known charset, else None."""
    match = _ENCODED_WORD.fullmatch(word)
    if match is None or not match[3].isascii() or codec(match[1]) is None:
        return None
    encoded = match[3]
    if match[2] in "Qq":
        return None if _BAD_Q.search(encoded) else (match[1].lower(), binascii.a2b_qp(encoded.encode(), header=True))
    data = encoded.rstrip("=")
    if not _B64.fullmatch(encoded) or len(data) % 4 == 1:
        return None
    return match[1].lower(), binascii.a2b_base64(data + "=" * (-len(data) % 4))


def decode_words(value: str, *, anywhere: bool = False) -> str:
    """Decode RFC 2047 encoded words in unstructured text: only whole words between white space, unless
    ``anywhere`` (for parameter values, where mailers put them against the rules). White space between two encoded
    words goes; adjacent words in one charset are decoded together."""
    out: list[str] = []
    charset, octets, held = "", b"", ""
    for piece in (_GLUED_WORD if anywhere else _WHITE).split(value):
        word = _word_octets(piece) if piece.strip() else None
        if word is None:
            if octets and not piece.strip():
                held += piece
                continue
            if octets:
                out.append(_CONTROLS.sub("", decode_text(octets, charset)[0]))
                octets = b""
            out.append(held + piece)
        elif octets and word[0] == charset:
            octets += word[1]
        else:
            if octets:
                out.append(_CONTROLS.sub("", decode_text(octets, charset)[0]))
            charset, octets = word
        held = ""
    if octets:
        out.append(_CONTROLS.sub("", decode_text(octets, charset)[0]))
    out.append(held)
    return "".join(out)


def text(raw: str) -> str:
    """The Text form: unfolded, trimmed, encoded words decoded, NFC."""
    return unicodedata.normalize("NFC", decode_words(unfold(raw).strip(" \t")).strip())


# --- structured fields: a tokenizer shared by addresses, message ids and URLs ------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>[ \t]+)
    | (?P<quoted>"(?:[^"\\]|\\.)*(?:"|\Z))
    | (?P<comment>\()
    | (?P<literal>\[(?:[^\[\]\\]|\\.)*(?:\]|\Z))
    | (?P<special>[<>,;:@.])
    | (?P<atom>(?:[^ \t"()\[\]<>,;:@.\\]|\\.?)+)
    | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_PAREN = re.compile(r"\\.|[()]", re.DOTALL)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _comment_end(value: str, start: int) -> int:
    """The index after the comment opening at ``start`` (nested comments count; unterminated runs to the end)."""
    depth = 0
    for match in _PAREN.finditer(value, start):
        if match[0] == "(":
            depth += 1
        elif match[0] == ")":
            depth -= 1
            if depth == 0:
                return match.end()
    return len(value)


def _tokens(value: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs; a comment's text is its content without the outer parentheses."""
    pos = 0
    while pos < len(value):
        match = _TOKEN.match(value, pos)
        assert match is not None and match.lastgroup is not None  # the last alternative takes any character
        if match.lastgroup == "comment":
            end = _comment_end(value, pos)
            yield "comment", value[pos + 1 : end - 1 if value[end - 1 : end] == ")" else end]
            pos = end
        else:
            yield match.lastgroup, match[0]
            pos = match.end()


def _unquote(quoted: str) -> str:
    return _QUOTED_PAIR.sub(r"\1", quoted[1:-1] if len(quoted) > 1 and quoted.endswith('"') else quoted[1:])


def _phrase(tokens: list[tuple[str, str]]) -> str | None:
    """A display name: atoms keep their spacing and have their encoded words decoded, quoted strings are unquoted
    (and decoded when made only of encoded words), comments go."""
    out: list[str] = []
    run: list[str] = []
    for kind, value in tokens:
        if kind == "quoted":
            out.append(decode_words("".join(run)))
            run = []
            inner = _unquote(value)
            words = inner.split()
            out.append(decode_words(inner) if words and all(map(_ENCODED_WORD.fullmatch, words)) else inner)
        elif kind != "comment":
            run.append(" " if kind == "ws" else value)
    out.append(decode_words("".join(run)))
    name = unicodedata.normalize("NFC", " ".join(part.strip() for part in out if part.strip()))
    return name or None


def _mailbox(tokens: list[tuple[str, str]]) -> dict[str, str | None] | None:
    """An EmailAddress from one list item, best effort; None for an item with nothing in it."""
    kinds = [kind for kind, _ in tokens]
    if "<" in (value for _, value in tokens):
        opening = next(i for i, (kind, value) in enumerate(tokens) if kind == "special" and value == "<")
        closing = next((i for i in range(opening, len(tokens)) if tokens[i] == ("special", ">")), len(tokens))
        route = tokens[opening + 1 : closing]
        colons = [i for i, token in enumerate(route) if token == ("special", ":")]
        spec = route[colons[-1] + 1 :] if colons else route  # obs-route: "<@relay:user@host>"
        email = "".join(value for kind, value in spec if kind not in ("ws", "comment"))
        return {"name": _phrase(tokens[:opening]), "email": email}
    if all(kind in ("ws", "comment") for kind in kinds):
        return None
    comments = [value for kind, value in tokens if kind == "comment"]
    if ("special", "@") in tokens:
        email = "".join(value for kind, value in tokens if kind not in ("ws", "comment"))
        return {"name": text(comments[0]) or None if comments else None, "email": email}
    return {"name": None, "email": _phrase(tokens) or ""}


def grouped_addresses(raw: str) -> list[dict[str, Any]]:
    """The GroupedAddresses form; ungrouped mailboxes in a row share a group named null."""
    groups: list[dict[str, Any]] = []
    item: list[tuple[str, str]] = []
    current: dict[str, Any] | None = None  # the group that the next mailbox joins
    named = in_angle = False
    for kind, value in [*_tokens(unfold(raw)), ("end", ",")]:
        if kind == "special" and value in "<>":
            in_angle = value == "<"
        elif kind == "special" and not in_angle and value == ":" and not named:
            current, named = {"name": _phrase(item), "addresses": []}, True
            groups.append(current)
            item.clear()
            continue
        elif kind == "end" or (kind == "special" and not in_angle and value in ",;"):
            mailbox = _mailbox(item)
            item.clear()
            if mailbox is not None:
                if current is None:
                    current = {"name": None, "addresses": []}
                    groups.append(current)
                current["addresses"].append(mailbox)
            if value == ";" and named:
                current, named = None, False
            continue
        item.append((kind, value))
    return groups


def addresses(raw: str) -> list[dict[str, str | None]]:
    """The Addresses form: every mailbox of the address list, groups flattened."""
    return [mailbox for group in grouped_addresses(raw) for mailbox in group["addresses"]]


def _angle_items(value: str) -> list[str]:
    """The contents of each <...> outside quoted strings and comments, white space removed."""
    items: list[str] = []
    in_angle: list[str] | None = None
    for kind, token in _tokens(unfold(value)):
        if kind == "special" and token == "<":
            in_angle = []
        elif kind == "special" and token == ">" and in_angle is not None:
            items.append("".join(in_angle))
            in_angle = None
        elif in_angle is not None and kind != "ws":
            in_angle.append(f"({token})" if kind == "comment" else token)
    if in_angle:
        items.append("".join(in_angle))
    return [item for item in items if item]


def message_ids(raw: str) -> list[str] | None:
    """The MessageIds form: ids without angle brackets, or None when there is none."""
    ids = _angle_items(raw)
    if ids:
        return ids
    bare = _without_comments(unfold(raw))
    return [bare] if "@" in bare and not any(char in bare for char in " \t<>") else None


def urls(raw: str) -> list[str] | None:
    """The URLs form (RFC 2369 lists of <url>), or None when there is none."""
    return _angle_items(raw) or None


# --- subjects ------------------------------------------------------------------------------------------------

_SUBJECT_LEADER = re.compile(r"(?:(?:\[[^\[\]]*\] ?)*(?:re|fwd?|aw|sv|antw) ?(?:\[\d+\])? ?: ?)+")
_SUBJECT_BLOB = re.compile(r"\[[^\[\]]*\] ?")


def base_subject(subject: str) -> str:
    """The base subject of RFC 5256 §2.1 (also Aw:/Sv:/Antw:, "Re[2]:", [list] tags), lower-cased, white space
    collapsed: for threading and sorting."""
    value = " ".join(subject.split()).lower()
    for _ in range(100):  # each round removes something; real subjects need two or three
        previous = value
        end = len(value)
        while value.endswith("(fwd)", 0, end):
            end -= 5
            while end and value[end - 1] == " ":
                end -= 1
        value = value[:end]
        leader = _SUBJECT_LEADER.match(value)
        value = value[leader.end() :] if leader else value
        blob = _SUBJECT_BLOB.match(value)
        if blob and blob.end() < len(value):
            value = value[blob.end() :]
        if value.startswith("[fwd:") and value.endswith("]"):
            value = value[5:-1].strip()
        if value == previous:
            break
    return value


# --- dates ---------------------------------------------------------------------------------------------------

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october")
_MONTHS = {
    name: number for number, full in enumerate((*_MONTH_NAMES, "november", "december"), 1) for name in (full, full[:3])
}
_ZONES = {"ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6}
_ZONES |= {"pst": -8, "pdt": -7}
_DATE = re.compile(
    r"(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})[\s-]*([A-Za-z]+)[\s-]*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{1,2})"
    r"(?:\s*:\s*(\d{1,2}))?\s*([+-]\d{4}|[A-Za-z]+)?"
)


def _without_comments(value: str) -> str:
    return "".join(" " if kind == "comment" else token for kind, token in _tokens(value)).strip()


def date(raw: str) -> datetime | None:
    """A Date header field (RFC 5322 §3.3 with the obsolete forms) as an aware datetime, or None."""
    value = _without_comments(unfold(raw))
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            parsed = datetime.fromisoformat(value) if len(value) <= 40 else None
            return None if parsed is None else parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        day, month_name, year_text, hour, minute, second, zone = match.groups()
        month = _MONTHS.get(month_name.lower())
        year = int(year_text)
        year += 2000 if len(year_text) == 2 and year < 50 else 1900 if len(year_text) < 4 else 0
        if zone and zone[0] in "+-":
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
            if int(zone[3:5]) >= 60:
                return None
            offset = -offset if zone[0] == "-" else offset
        else:
            offset = timedelta(hours=_ZONES.get((zone or "").lower(), 0))
        if month is None:
            return None
        result = datetime(
            year, month, int(day), int(hour), int(minute), min(int(second or 0), 59), tzinfo=timezone(offset)
        )
        result.timestamp()  # OverflowError for dates at the very ends of the range
    except (ValueError, OverflowError):
        return None
    return result


def jmap_date(moment: datetime) -> str:
    """RFC 3339 with the original offset ("Z" for UTC), no fractions, as the JMAP Date type wants."""
    minutes = int((moment.utcoffset() or timedelta()).total_seconds()) // 60
    zone = "Z" if not minutes else f"{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    return f"{day}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{zone}"


def _date_form(raw: str) -> str | None:
    moment = date(raw)
    return None if moment is None else jmap_date(moment)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "asRaw": lambda raw: raw,
    "asText": text,
    "asAddresses": addresses,
    "asGroupedAddresses": grouped_addresses,
    "asMessageIds": message_ids,
    "asDate": _date_form,
    "asURLs": urls,
}


# --- MIME parameters and transfer encodings --------------------------------------------------------------------

_PARAMETER = re.compile(r';\s*([^=;\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*(?:"|\Z)|[^;]*))?', re.DOTALL)
_SECTION = re.compile(r"(.+?)\*(\d{1,3})?(\*)?")


def parameterized(raw: str) -> tuple[str, dict[str, str]]:
    """The lower-cased value (before the first ";", "" when absent) and the parameters of a MIME field, names
    lower-cased, RFC 2231 sections joined and decoded, quoted strings unquoted. The first of a repeated name wins."""
    value = _without_comments(unfold(raw))
    head, _, _ = value.partition(";")
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for match in _PARAMETER.finditer(value, len(head)):
        name, quoted = match[1].lower(), (match[2] or "").strip()
        content = _unquote(quoted) if quoted.startswith('"') else quoted
        section = _SECTION.fullmatch(name)
        if section is None:
            plain.setdefault(name, content)
        else:
            parts = sections.setdefault(section[1], {})
            parts.setdefault(int(section[2] or 0), (content, section[3] is not None or section[2] is None))
    for name, parts in sections.items():
        plain[name] = _rfc2231(parts)
    return head.strip().lower(), plain


def _rfc2231(parts: dict[int, tuple[str, bool]]) -> str:
    """Join the sections 0, 1, ... (up to the first gap); the first one names the charset if encoded."""
    charset = None
    octets = b""
    for index in range(len(parts)):
        if index not in parts:
            break
        content, encoded = parts[index]
        if encoded and index == 0 and content.count("'") >= 2:
            charset, _, content = content.split("'", 2)
        octets += unquote_to_bytes(content) if encoded else content.encode("utf-8")
    return decode_text(octets, charset)[0] if charset else decode_octets(octets)


_IDENTITY_ENCODINGS = ("", "7bit", "8bit", "binary")
_BAD_QP = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r?\n|\Z))")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\s]")
_BASE64_FILLER = re.compile(rb"[^A-Za-z0-9+/]")


def decode_transfer(data: bytes, encoding: str | None) -> tuple[bytes, bool]:
    """Undo a Content-Transfer-Encoding (the field's raw value), leniently; the flag says something was malformed
    or the encoding unknown (isEncodingProblem)."""
    name = (encoding or "").strip().split("(")[0].strip().lower()
    if name == "base64":
        clean = _BASE64_FILLER.sub(b"", data)
        problem = bool(_NOT_BASE64.search(data)) or b"=" in data.rstrip().rstrip(b"=") or len(clean) % 4 == 1
        if len(clean) % 4 == 1:
            clean = clean[:-1]
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4)), problem
    if name == "quoted-printable":
        return binascii.a2b_qp(data), bool(_BAD_QP.search(data))
    return data, name not in _IDENTITY_ENCODINGS


# --- the text of HTML bodies -------------------------------------------------------------------------------

_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_HTML_DROP = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b[^<>]*>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)\b([^<>]*)>|</?([A-Za-z][A-Za-z0-9]*)[^<>]*>|<[!?/][^<>]*>")
_HTML_SHOWN = re.compile(r"""\b(?:alt|title)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_BLOCKS = frozenset(("address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "header", "hr"))
_BLOCKS |= {"h1", "h2", "h3", "h4", "h5", "h6", "li", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"}


def html_text(markup: str) -> str:
    """The text a reader sees: no head, scripts, styles, comments or tags; alt and title texts kept; entities
    decoded. Regular expressions rather than html.parser, which is quadratic on malformed input in Python 3.11."""
    head = _HEAD_END.search(markup)
    markup = _HTML_DROP.sub(" ", markup[head.end() :] if head else markup)

    def tag(match: re.Match[str]) -> str:
        name = (match[1] or match[3] or "").lower()
        shown = [next(filter(None, found.groups()), "") for found in _HTML_SHOWN.finditer(match[2] or "")]
        return ("\n" if name in _BLOCKS else "") + (f" {' '.join(shown)} " if shown else "")

    return html.unescape(_HTML_TAG.sub(tag, markup))
