"""A vdirsyncer + khard round trip of the .vcf corpus through a live gateway: filesystem -> CardDAV -> filesystem.

    python roundtrip.py --url http://127.0.0.1:PORT/ --username U --password P \
        --corpus tests/fixtures/vcf --work DIR --results DIR [--vdirsyncer PATH] [--khard PATH]

1. Every corpus file goes into a local `filesystem` storage (fileext .vcf, collection `contacts`, the name of the
   server's default address book) as one card per file. Files that cannot be one address object resource as
   they are (RFC 6352 §5.1: one vCard, with a UID, in 3.0 or 4.0) are prepared the way an importing client
   prepares them, and each preparation is reported:
   - a multi-card export is split into single cards with vdirsyncer's own `split_collection` (what its
     `singlefile` storage does on import);
   - a card without UID gets one with vdirsyncer's `Item.with_uid` (what `vdirsyncer repair` does); the UID is
     derived from the content so reruns are stable;
   - a vCard 2.1 file (quoted-printable, CHARSET, bare TYPE parameters) is converted to 3.0 as an importer
     does: the quoted-printable and charset are decoded, `TEL;CELL` becomes `TEL;TYPE=CELL`, text is escaped;
   - a file that is not valid UTF-8 as folded (a fold inside a UTF-8 sequence, repaired by unfolding before
     decoding, RFC 6350 §3.2) is unfolded at the byte level, because vdirsyncer decodes files strictly.
   The original bytes of every prepared file are also PUT directly to a scratch address book (extended MKCOL):
   a file the server must refuse (2.1, several cards, no UID) must be refused with the documented CardDAV
   precondition, a file it can store must GET back byte for byte.
   A second local collection, `vdirsyncer-made`, holds one card and does not exist on the server: `vdirsyncer
   discover` must create it (extended MKCOL, RFC 5689) and sync into it.
2. `vdirsyncer discover` + `sync` up (pair `upload`; the `carddav` storage discovers the home from the bare
   base URL), then down into an empty second filesystem storage (pair `download`, every server collection).
3. Every card must come back with the same UID and the same content, compared line by line on the unfolded
   content lines: every property's group and name, every parameter (name and values) and the value; only the
   order of properties and parameters is ignored. Byte identity is reported beside it (a byte change is a
   warning, not a failure).
4. A second sync of both pairs must change nothing; then one local card is edited, synced up, and the server
   copy (GET) must be exactly the new file; a download sync must bring it down.
5. khard, configured on the downloaded vdir, must list every card: `khard list` (the table) shows every card's
   name, and `khard list --parsable` has one row per card with its UID and name.

Prints one line per check and a final `N passed, M failed` line; exits 1 when any check failed.
"""

from __future__ import annotations

import hashlib
import quopri
import re
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vdirsyncer.vobject import Item as VdsItem
from vdirsyncer.vobject import split_collection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import vdirsyncer_common as common

COLLECTION = "contacts"
MADE = "vdirsyncer-made"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
MADE_CARD = (
    "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:conformance-vdirsyncer-made-0001\r\nFN:Created By Discover\r\n"
    "N:Discover;Created;;;\r\nEMAIL:discover@example.org\r\nEND:VCARD\r\n"
)


# --- a tolerant line-based vCard reader (no vobject: it would normalise what we want to compare) ---------------
@dataclass(frozen=True)
class Line:
    """One content line: ``name`` upper-case with its group, ``params`` sorted (NAME, value) pairs."""

    name: str
    params: tuple[tuple[str, str | None], ...]
    value: str

    def show(self) -> str:
        params = "".join(f";{k}={v}" if v is not None else f";{k}" for k, v in self.params)
        value = self.value if len(self.value) <= 100 else self.value[:100] + f"...({len(self.value)} chars)"
        return f"{self.name}{params}:{value}"


def split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_line(text: str) -> Line:
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = text[:index], text[index + 1 :]
            break
    else:
        raise ValueError(f"no ':' in content line {text[:80]!r}")
    name, *raw_params = split_outside_quotes(head, ";")
    params: list[tuple[str, str | None]] = []
    for raw in raw_params:
        key, sep, val = raw.partition("=")
        # Parameter values compare without their optional quotes (RFC 6350 §3.3 param-value).
        params.append((key.strip().upper(), val.replace('"', "") if sep else None))
    return Line(name.strip().upper(), tuple(sorted(params, key=repr)), value)


def card_lines(data: bytes) -> list[Line]:
    """The content lines of a (single) vCard: unfolded, BOM and blank lines dropped, CRLF or LF."""
    text = common.unfold_bytes(data).decode("utf-8").lstrip("\ufeff")
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def card_count(data: bytes) -> int:
    return len(re.findall(rb"(?im)^(?:\xef\xbb\xbf)?BEGIN:VCARD\s*$", common.unfold_bytes(data)))


def first(lines: list[Line], name: str) -> str:
    return next((line.value for line in lines if line.name.rsplit(".", 1)[-1] == name), "")


def all_values(lines: list[Line], name: str) -> list[str]:
    return [line.value for line in lines if line.name.rsplit(".", 1)[-1] == name]


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def uid_of(data: bytes) -> str:
    return first(card_lines(data), "UID").strip()


def differences(sent: list[Line], got: list[Line]) -> list[str]:
    a, b = Counter(sent), Counter(got)
    out = [f"lost or changed {line.show()}" for line in (a - b).elements()]
    out += [f"gained {line.show()}" for line in (b - a).elements()]
    return out


def content_differences(sent: bytes, got: bytes) -> list[str]:
    try:
        return differences(card_lines(sent), card_lines(got))
    except Exception as error:
        return [f"the downloaded card does not read: {error}"]


# --- vCard 2.1 -> 3.0, as an importing client converts (Outlook and Android 2.1 exports) ----------------------
TEXT_PROPS = {"FN", "N", "ORG", "TITLE", "ROLE", "ADR", "LABEL", "NOTE"}
STRUCTURED_PROPS = {"N", "ADR", "ORG"}


def convert_21(data: bytes) -> bytes:
    """Decode quoted-printable (soft line breaks included) and CHARSET, name bare parameters TYPE=, escape
    text values for 3.0 (commas, backslashes, newlines), drop ENCODING/CHARSET, and say VERSION:3.0."""
    physical = data.split(b"\r\n") if b"\r\n" in data else data.split(b"\n")
    logical: list[bytes] = []
    for raw in physical:
        if logical and logical[-1].endswith(b"=") and b"QUOTED-PRINTABLE" in logical[-1].split(b":", 1)[0].upper():
            logical[-1] = logical[-1] + b"\r\n" + raw  # a soft line break: the next line continues the value
        elif raw[:1] in (b" ", b"\t") and logical:
            logical[-1] += raw[1:]
        elif raw.strip():
            logical.append(raw)
    out: list[str] = []
    for raw in logical:
        head, _, value = raw.partition(b":")
        name, *params = head.decode("ascii").split(";")
        charset, qp, kept, types = "utf-8", False, [], []
        for param in params:
            key, sep, val = param.partition("=")
            if not sep:
                types.append(key)
            elif key.upper() == "CHARSET":
                charset = val
            elif key.upper() == "ENCODING" and val.upper() == "QUOTED-PRINTABLE":
                qp = True
            elif key.upper() == "TYPE":
                types.extend(val.split(","))
            else:
                kept.append(f"{key}={val}")
        if qp:
            value = quopri.decodestring(value.replace(b"=\r\n", b""))
        text = value.decode(charset)
        key = name.upper()
        if key == "VERSION":
            text = "3.0"
        elif key in TEXT_PROPS:
            parts = text.split(";") if key in STRUCTURED_PROPS else [text]
            parts = [
                p.replace("\\", "\\\\").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n") for p in parts
            ]
            if key not in STRUCTURED_PROPS:
                parts = [p.replace(";", "\\;") for p in parts]
            text = ";".join(parts)
        if types:
            kept.insert(0, "TYPE=" + ",".join(types))
        out.append(";".join([name, *kept]) + ":" + text)
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


# --- HTTP helpers (plain http.client: what vdirsyncer did is checked independently) ---------------------------
class CardServer(common.Server):
    PROPFIND_NAMESPACES = f' xmlns:CR="{CARDDAV}"'

    def book(self, name: str = COLLECTION) -> str:
        return f"/dav/addressbooks/{self.username}/{name}/"

    def mkcol_addressbook(self, path: str) -> int:
        body = (
            f'<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:CR="{CARDDAV}"><D:set><D:prop>'
            "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>"
            "<D:displayname>conformance scratch</D:displayname></D:prop></D:set></D:mkcol>"
        )
        status, _, _ = self.request("MKCOL", path, body.encode(), {"Content-Type": "application/xml"})
        return status


# --- the round trip ------------------------------------------------------------------------------------------
@dataclass
class Item(common.Item):
    preparation: list[str] = field(default_factory=list)  # empty when the file is carried as it is

    def prepared(self) -> str:
        return "; ".join(self.preparation)


@dataclass
class Source:
    name: str
    data: bytes
    expect_refusal: str = ""  # the CardDAV precondition the server must answer a PUT of the original bytes with
    needs_direct: bool = False  # the original bytes are storable but vdirsyncer cannot carry them as they are


def prepare(corpus: Path, results: common.Results) -> tuple[list[Item], list[Source]]:
    items: list[Item] = []
    sources: list[Source] = []
    for path in sorted(corpus.glob("*.vcf")):
        data = path.read_bytes()
        source = Source(path.name, data)
        sources.append(source)
        steps: list[str] = []
        cards = card_count(data)
        if cards == 0:
            results.fail(f"corpus/{path.name}", "no BEGIN:VCARD in the file")
            continue
        version = re.search(rb"(?im)^VERSION:\s*([0-9.]+)", common.unfold_bytes(data))
        if version and version.group(1) == b"2.1":
            data = convert_21(data)
            steps.append("vCard 2.1 converted to 3.0 as an importer does (quoted-printable/CHARSET decoded)")
            source.expect_refusal = "supported-address-data"
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data = common.unfold_bytes(data)
            steps.append("unfolded at the byte level (not valid UTF-8 as folded; vdirsyncer decodes strictly)")
            source.needs_direct = True
        if cards > 1:
            parts = [(part + "\r\n").encode("utf-8") for part in split_collection(data.decode("utf-8"))]
            steps.append(f"a {cards}-card export split into single cards with vdirsyncer's split_collection")
            source.expect_refusal = source.expect_refusal or "valid-address-data"
        else:
            parts = [data]
        for index, part in enumerate(parts, 1):
            part_steps = list(steps)
            try:
                uid = uid_of(part)
            except Exception as error:
                results.fail(f"corpus/{path.name}", f"card {index} does not parse: {error}")
                continue
            if not uid:
                uid = str(uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(part).hexdigest()))
                part = (VdsItem(part.decode("utf-8")).with_uid(uid).raw + "\r\n").encode("utf-8")
                part_steps.append("UID added with vdirsyncer's Item.with_uid (as `vdirsyncer repair` does)")
                source.expect_refusal = source.expect_refusal or "valid-address-data"
            local = path.name if len(parts) == 1 else f"{path.stem}--{index}.vcf"
            items.append(Item(path.name, local, part, uid, part_steps))
    return items, sources


def write_khard_config(work: Path, storage: str) -> Path:
    config = work / f"khard-{storage}.conf"
    config.write_text(
        f"""[general]
editor = true
merge_editor = true

[addressbooks]
[[{COLLECTION}]]
path = {work / storage / COLLECTION}/

[contact table]
display = formatted_name
sort = formatted_name
show_uids = yes
""",
        encoding="utf-8",
    )
    return config


def check_direct(server: CardServer, sources: list[Source], results: common.Results) -> None:
    """The original bytes of every prepared file, PUT straight to a scratch address book."""
    todo = [s for s in sources if s.expect_refusal or s.needs_direct]
    if not todo:
        return
    scratch = server.book(f"direct-{uuid.uuid4().hex[:8]}")
    status = server.mkcol_addressbook(scratch)
    if status != 201:
        results.fail("mkcol", f"extended MKCOL {scratch} (RFC 5689, RFC 6352 §6.3.1) answered {status}")
        return
    root = server.propfind(scratch, "0", "<D:resourcetype/>")
    if root.find(f".//{{{CARDDAV}}}addressbook") is None:
        results.fail("mkcol", f"{scratch} was created but its resourcetype has no CR:addressbook")
    else:
        results.ok("mkcol", f"extended MKCOL {scratch} made an address book")
    for source in todo:
        href = f"{scratch}{Path(source.name).stem}.vcf"
        status, _, body = server.request(
            "PUT", href, source.data, {"Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"}
        )
        conditions = [c for c in re.findall(r"<(?:[\w-]+:)?([\w-]+)\s*/>", body.decode("utf-8", "replace"))]
        if source.expect_refusal:
            if 400 <= status < 500 and source.expect_refusal in conditions:
                results.ok(f"refused/{source.name}", f"original bytes refused: {status} {source.expect_refusal}")
            else:
                results.fail(
                    f"refused/{source.name}",
                    f"original bytes: want a 4xx with {source.expect_refusal}, got {status} {' '.join(conditions)}",
                )
            continue
        if status != 201:
            results.fail(f"direct/{source.name}", f"PUT of the original bytes answered {status}: {body[:300]!r}")
            continue
        status, _, data = server.request("GET", href)
        if status == 200 and data == source.data:
            results.ok(f"direct/{source.name}", "original bytes PUT -> GET identical")
        elif status == 200 and Counter(card_lines(data)) == Counter(card_lines(source.data)):
            results.ok(f"direct/{source.name}", "original bytes PUT -> GET equal in content, bytes changed")
            results.warn(f"{source.name}: PUT -> GET changed the bytes of the original file")
        else:
            results.fail(f"direct/{source.name}", f"GET answered {status}, content changed")
    status, _, _ = server.request("DELETE", scratch)
    if status not in (200, 204):
        results.warn(f"DELETE {scratch} answered {status}")


def khard_rows(khard: str, work: Path, storage: str, log: Path) -> tuple[int, dict[str, list[str]], set[str], str]:
    """`khard list --parsable` on a storage: status, UID -> names, the files khard could not parse, and the
    plain `khard list` table."""
    base = [khard, "-c", str(write_khard_config(work, storage)), "--skip-unparsable"]
    status, output, stdout = common.run_logged(log, "khard", [*base, "list", "--parsable"])
    rows: dict[str, list[str]] = {}
    for row in stdout.splitlines():
        uid, _, rest = row.partition("\t")
        rows.setdefault(uid.strip(), []).append(rest.split("\t")[0])
    unparsable = {Path(p).name for p in re.findall(r"(?:parse|parsing) (?:file )?(\S+\.vcf)", output)}
    table_status, _, table = common.run_logged(log, "khard", [*base, "list"])
    return status or table_status, rows, unparsable, table


def check_khard(khard: str, work: Path, log: Path, results: common.Results) -> None:
    """khard on the downloaded vdir lists every card by name; a card khard cannot read is a failure only when
    khard can read the uploaded original (otherwise it is khard's limitation, reported as a warning)."""
    cards: dict[str, tuple[list[str], str]] = {}  # UID -> (FN values, downloaded file name)
    for path in sorted((work / "down" / COLLECTION).glob("*.vcf")):
        lines = card_lines(path.read_bytes())
        cards[first(lines, "UID").strip()] = ([unescape(fn).strip() for fn in all_values(lines, "FN")], path.name)
    up_names = {}
    for path in sorted((work / "up" / COLLECTION).glob("*.vcf")):
        up_names[uid_of(path.read_bytes())] = path.name
    status, rows, unparsable, table = khard_rows(khard, work, "down", log)
    if status != 0:
        results.fail("khard-list", f"khard list exited {status} (see vdirsyncer.log)")
        return
    _, up_rows, up_unparsable, _ = khard_rows(khard, work, "up", log)
    problems, limits = [], []
    for uid, (names, file_name) in sorted(cards.items()):
        if file_name in unparsable:
            if up_names.get(uid) in up_unparsable:
                limits.append(f"{uid} ({names[0] if names else '?'}): khard cannot parse it, nor the uploaded original")
            else:
                problems.append(f"{uid}: khard cannot parse the downloaded card but parses the uploaded original")
        elif not names:
            problems.append(f"{uid}: the downloaded card has no FN")
        elif uid not in rows:
            problems.append(f"{uid} ({names[0]}): no row in `khard list --parsable`")
        elif not any(name in rows[uid] for name in names):
            problems.append(f"{uid}: listed as {rows[uid]!r}, FN is {names!r}")
        elif not any(name in table for name in names):
            problems.append(f"{uid}: name {names[0]!r} not in the `khard list` table")
    extra = set(rows) - set(cards)
    if extra:
        problems.append(f"khard lists UIDs that are not in the vdir: {sorted(extra)}")
    if rows != up_rows:
        problems.append("khard lists the downloaded vdir differently from the uploaded one")
    for limit in limits:
        results.warn(f"khard: {limit} (see vdirsyncer.log)")
    if problems:
        results.fail("khard-list", "; ".join(problems)[:3000])
    else:
        results.ok(
            "khard-list",
            f"khard list shows {len(cards) - len(limits)} of {len(cards)} cards by name and UID, as it lists the "
            f"uploaded originals" + (f"; {len(limits)} unreadable by khard in both (warning)" if limits else ""),
        )


def main() -> int:
    parser = common.argument_parser()
    parser.add_argument("--khard", default="khard")
    args = parser.parse_args()

    server = CardServer(args.url, args.username, args.password)
    results = common.Results()
    work: Path = args.work
    common.prepare_work(work, COLLECTION)
    (work / "up" / MADE).mkdir()
    (work / "up" / MADE / "made.vcf").write_bytes(MADE_CARD.encode())
    log = args.results / "vdirsyncer.log"
    log.write_text("", encoding="utf-8")
    vds = common.Vdirsyncer(args.vdirsyncer, common.write_config(work, server, "carddav", ".vcf", "from b"), log)

    # 1. The upload storage.
    items, sources = prepare(args.corpus, results)
    if not sources:
        results.fail("corpus", f"no .vcf files in {args.corpus}")
    for item in items:
        (work / "up" / COLLECTION / item.local_name).write_bytes(item.data)
    for source in sources:
        steps = next((item.preparation for item in items if item.source == source.name and item.preparation), [])
        if steps:
            results.warn(f"{source.name}: " + "; ".join(steps))
    duplicates = [uid for uid, n in Counter(item.uid for item in items).items() if n > 1]
    if duplicates:
        results.fail("corpus", f"UIDs used by more than one card: {duplicates}")
    print(f"     {len(sources)} corpus files -> {len(items)} single cards in the local storage", flush=True)

    # 2. Discover and sync up, then down.
    status, output = common.discover_upload(vds, results)
    if status == 0 and f'No collection "{COLLECTION}"' in output:
        results.fail("discover-upload", f"the default address book `{COLLECTION}` was not discovered: {output[-600:]}")
    elif status == 0:
        results.ok("discover-upload", f"found `{COLLECTION}` on the server, created `{MADE}` (see vdirsyncer.log)")
    status, output = vds.run("sync", "upload")
    refused = common.diagnose_refused(
        results,
        server,
        server.book(),
        items,
        work / "up" / COLLECTION,
        lambda data: [uid_of(data)],
        ".vcf",
        "text/vcard",
        r"<(?:[\w-]+:)?([\w-]+)\s*/>",
    )
    common.check_sync_up(
        results,
        status,
        output,
        refused,
        lambda uploaded: (
            f"{uploaded - len(refused)} cards uploaded ({len(items) - len(refused)} to `{COLLECTION}`, 1 to `{MADE}`)"
        ),
        lambda uploaded: (
            f"{uploaded} uploads for {len(items)} + 1 cards: {output[-600:]}"
            if uploaded - len(refused) != len(items) + 1 - len(refused)
            else None
        ),
    )
    common.sync_down(vds, results, "cards")
    made = work / "down" / MADE
    made_files = sorted(made.glob("*.vcf")) if made.is_dir() else []
    if len(made_files) == 1 and Counter(card_lines(made_files[0].read_bytes())) == Counter(
        card_lines(MADE_CARD.encode())
    ):
        results.ok("discover-create", f"`{MADE}` was created by vdirsyncer discover and its card came back")
    else:
        results.fail("discover-create", f"`{MADE}` on the server: {len(made_files)} card(s) came down, want 1")

    # 3. Compare, per corpus file.
    down_dir = work / "down" / COLLECTION
    down = common.read_down(down_dir, ".vcf", lambda data: [uid_of(data)], results)
    byte_identical = common.compare_sources(
        results,
        [source.name for source in sources],
        items,
        refused,
        down,
        content_differences,
        lambda count: f"{count} card(s), same UID and every property",
        "cards",
    )

    # Original bytes of prepared files, straight through the server.
    check_direct(server, sources, results)

    # 4a. Idempotence: nothing to do on a second sync of either pair.
    common.check_idempotent(vds, results)

    # 4b. A local edit reaches the server, and comes down again.
    target = next((item for item in items if not item.preparation and item.uid in down), None)
    if target is None:
        results.fail("modify", "no card made the round trip, nothing to modify")
    else:
        local = work / "up" / COLLECTION / target.local_name
        text = local.read_bytes()
        marker = common.new_marker()
        newline = b"\r\n" if b"\r\n" in text else b"\n"
        modified, count = re.subn(
            rb"(?im)^(END:VCARD)", b"NOTE:edited locally (" + marker.encode() + b")" + newline + rb"\1", text, count=1
        )
        local.write_bytes(modified)
        common.check_modify(
            vds,
            results,
            server,
            server.book(),
            down_dir,
            target,
            modified,
            uids_in=lambda data: [uid_of(data)],
            same_content=lambda got, sent: Counter(card_lines(got)) == Counter(card_lines(sent)),
            describe=lambda sent, got: differences(card_lines(sent), card_lines(got)),
            holds_marker=lambda data: marker.encode() in data,
            fileext=".vcf",
            change="edit",
            changed="edited",
            edit_made=bool(count),
        )

    # 5. khard on the downloaded vdir.
    check_khard(args.khard, work, log, results)

    # Keep the storages for inspection.
    common.keep_storages(work, args.results)

    common.print_summary(results, len(sources), len(items), "cards", byte_identical)
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
