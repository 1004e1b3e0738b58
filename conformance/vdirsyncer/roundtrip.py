"""A vdirsyncer round trip of the .ics corpus through a live gateway: filesystem -> CalDAV -> filesystem.

    python roundtrip.py --url http://127.0.0.1:PORT/ --username U --password P \
        --corpus tests/fixtures/ics --work DIR --results DIR [--vdirsyncer PATH]

1. Every corpus file goes into a local `filesystem` storage (collection `roundtrip`), as it is where vdirsyncer
   can carry it. Two kinds of file cannot be one CalDAV resource as they are, and are prepared the way an
   importing client prepares them, which is reported for each:
   - an export (several UIDs, or a METHOD property): RFC 4791 §4.1 allows one UID per calendar object
     resource and no METHOD, so it is split into one item per UID with vdirsyncer's own `split_collection`
     (what its `singlefile` storage does on import); the split is checked to lose nothing;
   - a file that is not valid UTF-8 as bytes (a line folded inside a UTF-8 sequence, which RFC 5545 §3.1
     says readers must repair by unfolding before decoding): vdirsyncer's filesystem storage decodes files
     strictly and stops the whole sync on it, so the item is unfolded at the byte level first. The original
     bytes are then also PUT to the server directly and must GET back identical.
2. `vdirsyncer discover` + `sync` up (pair `upload`, the CalDAV storage discovers the home from the bare base
   URL and creates the collection), then down into an empty second filesystem storage (pair `download`).
3. Every item must come back with the same UID and the same content, compared on icalendar's parsed structure:
   every component, every property name, value and parameter; only ordering is ignored. Whether the bytes
   are identical is reported beside it (and a byte change is a warning, not a failure).
4. A second sync of both pairs must change nothing; then one local file is modified, synced up, and the
   server copy (GET) must be exactly the new file; a download sync must bring the change down.

Prints one line per check and a final `N passed, M failed` line; exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree

import icalendar
from vdirsyncer.vobject import split_collection

COLLECTION = "roundtrip"
FOLD = re.compile(rb"\r?\n[ \t]")


# --- comparison ----------------------------------------------------------------------------------------------
def unfold_bytes(data: bytes) -> bytes:
    """RFC 5545 §3.1: unfold first (at the octet level), then decode."""
    return FOLD.sub(b"", data)


def parse(data: bytes) -> icalendar.Calendar:
    text = unfold_bytes(data).decode("utf-8").lstrip("\ufeff")
    return icalendar.Calendar.from_ical(text)


def param_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def prop_key(name: str, value: object) -> tuple:
    text = value.to_ical() if hasattr(value, "to_ical") else str(value)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    params = getattr(value, "params", {}) or {}
    return (name, text, tuple(sorted((k.upper(), param_value(v)) for k, v in params.items())))


def canonical(component: icalendar.cal.Component) -> tuple:
    """(name, sorted properties, sorted sub-components): equal exactly when only ordering differs."""
    props = sorted(
        (
            prop_key(name, value)
            for name, value in component.property_items(recursive=False)
            if name not in ("BEGIN", "END")
        ),
        key=repr,
    )
    subs = sorted((canonical(sub) for sub in component.subcomponents), key=repr)
    return (component.name, tuple(props), tuple(subs))


def describe_difference(a: tuple, b: tuple, path: str = "") -> list[str]:
    """Human-readable differences between two canonical() structures."""
    name = f"{path}/{a[0]}" if path else a[0]
    out: list[str] = []
    props_a, props_b = Counter(a[1]), Counter(b[1])
    for prop in props_a - props_b:
        out.append(f"{name}: lost or changed {prop[0]}{''.join(f';{k}={v}' for k, v in prop[2])}:{prop[1][:120]}")
    for prop in props_b - props_a:
        out.append(f"{name}: gained {prop[0]}{''.join(f';{k}={v}' for k, v in prop[2])}:{prop[1][:120]}")
    subs_a, subs_b = Counter(a[2]), Counter(b[2])
    lost, gained = list((subs_a - subs_b).elements()), list((subs_b - subs_a).elements())
    for sub in list(lost):
        partner = next((g for g in gained if g[0] == sub[0]), None)
        if partner is not None:
            gained.remove(partner)
            lost.remove(sub)
            out.extend(describe_difference(sub, partner, name))
    out.extend(f"{name}: lost component {sub[0]}" for sub in lost)
    out.extend(f"{name}: gained component {sub[0]}" for sub in gained)
    return out


def uids_of(calendar: icalendar.Calendar) -> list[str]:
    return sorted({str(c["UID"]) for c in calendar.subcomponents if c.name != "VTIMEZONE" and "UID" in c})


# --- HTTP helpers (plain http.client: what vdirsyncer did is checked independently) ---------------------------
@dataclass
class Server:
    url: str
    username: str
    password: str

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        all_headers = {"Authorization": f"Basic {token}", **(headers or {})}
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        connection.close()
        return result

    def collection_path(self) -> str:
        return f"/dav/calendars/{self.username}/{COLLECTION}/"

    def members(self, collection: str) -> dict[str, bytes]:
        """href -> body of every member of a collection (PROPFIND Depth 1, then GET each)."""
        status, _, body = self.request(
            "PROPFIND",
            collection,
            b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>',
            {"Depth": "1", "Content-Type": "application/xml"},
        )
        if status != 207:
            raise RuntimeError(f"PROPFIND {collection} answered {status}")
        hrefs = [
            urlsplit(h.text or "").path
            for h in etree.fromstring(body).iter("{DAV:}href")
            if urlsplit(h.text or "").path.rstrip("/") != collection.rstrip("/")
        ]
        out = {}
        for href in hrefs:
            status, _, data = self.request("GET", href)
            if status != 200:
                raise RuntimeError(f"GET {href} answered {status}")
            out[href] = data
        return out


# --- the round trip ------------------------------------------------------------------------------------------
@dataclass
class Item:
    source: str  # corpus file name
    local_name: str  # file name in the upload storage
    data: bytes  # what vdirsyncer uploads
    uid: str
    preparation: str = ""  # empty when the file is carried as it is


@dataclass
class Results:
    passed: int = 0
    failed: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ok(self, name: str, detail: str = "") -> None:
        self.passed += 1
        print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)

    def fail(self, name: str, detail: str) -> None:
        self.failed += 1
        self.failures.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}", flush=True)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        print(f"     warning: {message}", flush=True)


def prepare(corpus: Path, results: Results) -> tuple[list[Item], dict[str, bytes]]:
    items: list[Item] = []
    originals: dict[str, bytes] = {}
    for path in sorted(corpus.glob("*.ics")):
        data = path.read_bytes()
        originals[path.name] = data
        try:
            calendar = parse(data)
        except Exception as error:
            results.fail(f"corpus/{path.name}", f"the corpus file does not parse ({error}); cannot round-trip it")
            continue
        uids = uids_of(calendar)
        method = "METHOD" in calendar
        try:
            data.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            utf8 = False
        if len(uids) > 1 or method:
            text = unfold_bytes(data).decode("utf-8") if not utf8 else data.decode("utf-8")
            parts = list(split_collection(text))
            why = f"{len(uids)} UIDs" if len(uids) > 1 else ""
            why += (" and " if why else "") + ("METHOD" if method else "")
            for index, part in enumerate(parts, 1):
                part_bytes = (part + "\r\n").encode("utf-8")
                part_uids = uids_of(parse(part_bytes))
                items.append(
                    Item(
                        path.name,
                        f"{path.stem}--{index}.ics",
                        part_bytes,
                        part_uids[0] if part_uids else "",
                        f"split into {len(parts)} items by vdirsyncer's split_collection ({why}: RFC 4791 §4.1)",
                    )
                )
        elif not utf8:
            items.append(
                Item(
                    path.name,
                    path.name,
                    unfold_bytes(data),
                    uids[0] if uids else "",
                    "unfolded at the byte level (not valid UTF-8 as folded; vdirsyncer decodes strictly)",
                )
            )
        else:
            items.append(Item(path.name, path.name, data, uids[0] if uids else ""))
    return items, originals


def check_split(items: list[Item], originals: dict[str, bytes], results: Results) -> None:
    """A split export holds every component of the original and its calendar properties (less METHOD)."""
    for source in sorted({item.source for item in items if item.preparation.startswith("split")}):
        original = parse(originals[source])
        parts = [parse(item.data) for item in items if item.source == source]
        want = Counter(canonical(c) for c in original.subcomponents if c.name != "VTIMEZONE")
        got = Counter(canonical(c) for p in parts for c in p.subcomponents if c.name != "VTIMEZONE")
        zones = {canonical(c) for c in original.subcomponents if c.name == "VTIMEZONE"}
        calendar_props = Counter(
            prop_key(n, v) for n, v in original.property_items(recursive=False) if n not in ("BEGIN", "END", "METHOD")
        )
        problems = []
        if want != got:
            problems.append("components differ after the split")
        for part in parts:
            part_props = Counter(
                prop_key(n, v) for n, v in part.property_items(recursive=False) if n not in ("BEGIN", "END")
            )
            if part_props != calendar_props:
                problems.append("calendar properties differ after the split")
            if not zones <= {canonical(c) for c in part.subcomponents if c.name == "VTIMEZONE"}:
                problems.append("a VTIMEZONE is missing from a split item")
        if problems:
            results.fail(f"split/{source}", "; ".join(sorted(set(problems))))


def write_config(work: Path, server: Server) -> Path:
    config = work / "config"
    config.write_text(
        f"""[general]
status_path = "{work / "status"}/"

[pair upload]
a = "local_up"
b = "gateway"
collections = ["from a"]

[pair download]
a = "local_down"
b = "gateway"
collections = ["{COLLECTION}"]

[storage local_up]
type = "filesystem"
path = "{work / "up"}/"
fileext = ".ics"

[storage local_down]
type = "filesystem"
path = "{work / "down"}/"
fileext = ".ics"

[storage gateway]
type = "caldav"
url = "{server.url}"
username = "{server.username}"
password = "{server.password}"
""",
        encoding="utf-8",
    )
    return config


class Vdirsyncer:
    def __init__(self, executable: str, config: Path, log: Path) -> None:
        self.executable = executable
        self.config = config
        self.log = log

    def run(self, *args: str, answer_yes: bool = False, timeout: int = 90) -> tuple[int, str]:
        command = [self.executable, "-c", str(self.config), *args]
        try:
            completed = subprocess.run(
                command,
                input="y\n" * 20 if answer_yes else "",
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            status, output = completed.returncode, completed.stdout + completed.stderr
        except subprocess.TimeoutExpired as expired:
            status, output = 124, f"timed out after {timeout}s: {expired}"
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n$ vdirsyncer {' '.join(args)}   # exit {status}\n{output}")
        return status, output


CHANGE = re.compile(r"^(Copying \((?:uploading|updating)\) item|Deleting item) ", re.M)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--vdirsyncer", default="vdirsyncer")
    args = parser.parse_args()

    server = Server(args.url, args.username, args.password)
    results = Results()
    work: Path = args.work
    for sub in ("up", "down", "status"):
        shutil.rmtree(work / sub, ignore_errors=True)
        (work / sub).mkdir(parents=True)
    (work / "up" / COLLECTION).mkdir()
    log = args.results / "vdirsyncer.log"
    log.write_text("", encoding="utf-8")
    vds = Vdirsyncer(args.vdirsyncer, write_config(work, server), log)

    # 1. The upload storage.
    items, originals = prepare(args.corpus, results)
    if not originals:
        results.fail("corpus", f"no .ics files in {args.corpus}")
    for item in items:
        (work / "up" / COLLECTION / item.local_name).write_bytes(item.data)
        if item.preparation and item.local_name in (item.source, f"{Path(item.source).stem}--1.ics"):
            results.warn(f"{item.source}: {item.preparation}")
    check_split(items, originals, results)
    print(f"     {len(originals)} corpus files -> {len(items)} items in the local storage", flush=True)

    # 2. Discover and sync up, then down.
    status, output = vds.run("discover", "upload", answer_yes=True)
    if status != 0:
        results.fail("discover-upload", f"vdirsyncer discover upload exited {status}: {output.strip()[-600:]}")
    status, output = vds.run("sync", "upload")
    errors = [line for line in output.splitlines() if line.startswith(("error:", "critical:"))]
    item_errors = [line for line in errors if line.startswith("error: Unknown error occurred for upload/")]
    # What reached the server; what did not is diagnosed with a PUT of its own (refused again, so no change)
    # and taken out of the local storage, so that the later checks are not about it again.
    try:
        on_server = {one for data in server.members(server.collection_path()).values() for one in uids_of(parse(data))}
    except Exception as error:
        on_server = set()
        results.fail("sync-up", f"could not list the server collection: {error}")
    refused: dict[str, str] = {}
    for item in items:
        if item.uid in on_server:
            continue
        href = f"{server.collection_path()}diagnose-{uuid.uuid4().hex[:8]}.ics"
        code, _, body = server.request("PUT", href, item.data, {"Content-Type": "text/calendar", "If-None-Match": "*"})
        conditions = re.findall(r"<(?:\w+:)?([\w-]+)/>", body.decode("utf-8", "replace"))
        refused[item.uid] = f"PUT answered {code} {' '.join(c for c in conditions if c != 'error')}".strip()
        if 200 <= code < 300:
            server.request("DELETE", href)
            refused[item.uid] += " to a fresh PUT (vdirsyncer's own PUT failed)"
        (work / "up" / COLLECTION / item.local_name).unlink()
    other_errors = [line for line in errors if line not in item_errors and "Use `-vdebug`" not in line]
    if status != 0 and (len(item_errors) != len(refused) or other_errors or not refused):
        results.fail("sync-up", f"vdirsyncer sync upload exited {status}: " + " | ".join(errors)[:2000])
    else:
        results.ok(
            "sync-up",
            f"{len(CHANGE.findall(output)) - len(refused)} items uploaded"
            + (f", {len(refused)} refused by the server (reported per file below)" if refused else ""),
        )
    status, output = vds.run("discover", "download", answer_yes=True)
    if status != 0:
        results.fail("discover-download", f"vdirsyncer discover download exited {status}: {output.strip()[-600:]}")
    status, output = vds.run("sync", "download")
    errors = [line for line in output.splitlines() if line.startswith(("error:", "critical:"))]
    if status != 0 or errors:
        results.fail("sync-down", f"vdirsyncer sync download exited {status}: " + " | ".join(errors)[:2000])
    else:
        results.ok("sync-down", f"{len(CHANGE.findall(output))} items downloaded")

    # 3. Compare, per corpus file.
    down: dict[str, list[tuple[str, bytes]]] = {}
    for path in sorted((work / "down" / COLLECTION).glob("*.ics")) if (work / "down" / COLLECTION).is_dir() else []:
        data = path.read_bytes()
        try:
            for one in uids_of(parse(data)):
                down.setdefault(one, []).append((path.name, data))
        except Exception as error:
            results.fail(f"download/{path.name}", f"downloaded file does not parse: {error}")
    byte_identical = 0
    for source in sorted(originals):
        mine = [item for item in items if item.source == source]
        if not mine:
            continue
        problems: list[str] = []
        notes: list[str] = []
        for item in mine:
            if item.uid in refused:
                problems.append(f"UID {item.uid}: refused on upload: {refused[item.uid]}")
                continue
            copies = down.get(item.uid, [])
            if len(copies) != 1:
                problems.append(f"UID {item.uid}: {len(copies)} downloaded copies")
                continue
            _name, data = copies[0]
            sent, got = canonical(parse(item.data)), canonical(parse(data))
            if sent != got:
                problems.extend(f"UID {item.uid}: {d}" for d in describe_difference(sent, got))
            if data == item.data:
                byte_identical += 1
            else:
                notes.append(f"bytes differ ({len(item.data)} sent, {len(data)} back)")
        prep = f" [{mine[0].preparation}]" if mine[0].preparation else ""
        if problems:
            results.fail(f"roundtrip/{source}", "; ".join(problems)[:3000] + prep)
        else:
            detail = f"{len(mine)} item(s), same UID and content, " + (
                "bytes identical" if not notes else "; ".join(sorted(set(notes)))
            )
            results.ok(f"roundtrip/{source}", detail + prep)
            if notes:
                results.warn(f"{source}: content equal but the bytes changed on the way (see vdirsyncer.log)")
    extra = set(down) - {item.uid for item in items}
    if extra:
        results.fail("download/extra", f"downloaded items nobody uploaded: {sorted(extra)}")

    # Files vdirsyncer could not carry as they are: the original bytes through the server directly.
    for source in sorted({item.source for item in items if item.preparation.startswith("unfolded")}):
        scratch = f"/dav/calendars/{server.username}/direct-{uuid.uuid4().hex[:8]}/"
        status, _, body = server.request("MKCALENDAR", scratch)
        href = f"{scratch}{Path(source).stem}.ics"
        if status != 201:
            results.fail(f"direct/{source}", f"MKCALENDAR {scratch} answered {status}")
            continue
        status, _headers, body = server.request(
            "PUT", href, originals[source], {"Content-Type": "text/calendar", "If-None-Match": "*"}
        )
        if status != 201:
            results.fail(f"direct/{source}", f"PUT of the original bytes answered {status}: {body[:300]!r}")
        else:
            status, _, data = server.request("GET", href)
            if status == 200 and data == originals[source]:
                results.ok(f"direct/{source}", "original bytes PUT -> GET identical")
            elif status == 200 and canonical(parse(data)) == canonical(parse(originals[source])):
                results.ok(f"direct/{source}", "original bytes PUT -> GET equal in content, bytes changed")
            else:
                results.fail(f"direct/{source}", f"GET answered {status}, content changed")
        server.request("DELETE", scratch)

    # 4a. Idempotence: nothing to do on a second sync of either pair.
    changes = []
    for pair in ("upload", "download"):
        status, output = vds.run("sync", pair)
        changes += [f"{pair}: {line}" for line in output.splitlines() if CHANGE.match(line)]
        changes += [f"{pair}: {line}" for line in output.splitlines() if line.startswith(("error:", "critical:"))]
        if status != 0:
            changes.append(f"{pair}: exit {status}")
    if changes:
        results.fail("idempotent", "second sync was not a no-op: " + " | ".join(changes)[:2000])
    else:
        results.ok("idempotent", "second sync of both pairs changed nothing")

    # 4b. A local modification reaches the server, and comes down again.
    target = next((item for item in items if not item.preparation and item.uid and item.uid in down), None)
    if target is None:
        results.fail("modify", "no item made the round trip, nothing to modify")
    else:
        local = work / "up" / COLLECTION / target.local_name
        text = local.read_bytes()
        marker = f"conformance-{uuid.uuid4().hex[:8]}"
        modified, count = re.subn(rb"(\r?\n)(SUMMARY[;:][^\r\n]*)", rb"\1\2 (" + marker.encode() + rb")", text, count=1)
        if not count:
            modified = text.replace(b"\nUID:", f"\nCOMMENT:{marker}\r\nUID:".encode(), 1)
        local.write_bytes(modified)
        status, output = vds.run("sync", "upload")
        updated = [line for line in output.splitlines() if line.startswith("Copying (updating) item")]
        try:
            on_server = [
                (href, data)
                for href, data in server.members(server.collection_path()).items()
                if target.uid in uids_of(parse(data))
            ]
        except Exception as error:
            on_server = []
            results.fail("modify", f"could not read the server collection: {error}")
        if status != 0 or len(updated) != 1:
            results.fail(
                "modify", f"sync after a local change: exit {status}, {len(updated)} update(s): {output.strip()[-600:]}"
            )
        elif len(on_server) != 1:
            results.fail("modify", f"{len(on_server)} server copies of UID {target.uid}")
        else:
            href, data = on_server[0]
            if data == modified:
                results.ok(
                    "modify", f"{target.local_name} changed locally -> GET {unquote(href)} returns the new bytes"
                )
            elif canonical(parse(data)) == canonical(parse(modified)):
                results.ok("modify", f"GET {unquote(href)} returns the new content (bytes differ)")
            else:
                difference = describe_difference(canonical(parse(modified)), canonical(parse(data)))
                results.fail("modify", f"GET {unquote(href)} does not hold the change: {difference}")
            status, output = vds.run("sync", "download")
            pulled = [line for line in output.splitlines() if line.startswith("Copying (updating) item")]
            copies = [
                p for p in (work / "down" / COLLECTION).glob("*.ics") if target.uid in uids_of(parse(p.read_bytes()))
            ]
            if (
                status != 0
                or len(pulled) != 1
                or not copies
                or marker.encode() not in unfold_bytes(copies[0].read_bytes())
            ):
                results.fail("modify-down", f"download sync after the change: exit {status}, {len(pulled)} update(s)")
            else:
                results.ok("modify-down", "the change came down to the second storage")

    # Keep the storages for inspection.
    for sub in ("up", "down"):
        shutil.rmtree(args.results / sub, ignore_errors=True)
        if (work / sub).exists():
            shutil.copytree(work / sub, args.results / sub)

    print(
        f"     summary: {len(originals)} corpus files, {len(items)} items, {byte_identical} came back byte-identical, "
        f"{len(results.warnings)} warning(s)",
        flush=True,
    )
    print(f"{results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
