"""What the vdirsyncer round trips (vdirsyncer/roundtrip.py, vdirsyncer-carddav/roundtrip.py) share.

The vdirsyncer configuration, running vdirsyncer (and other clients) with a log, a plain http.client view of the
server, the check counter, the common command line, and the sync-up / sync-down / byte comparison / idempotence
steps. Imported with the tools venv's python: each roundtrip.py puts this directory on sys.path.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as etree

FOLD = re.compile(rb"\r?\n[ \t]")
CHANGE = re.compile(r"^(Copying \((?:uploading|updating)\) item|Deleting item) ", re.M)


def unfold_bytes(data: bytes) -> bytes:
    """RFC 5545 §3.1 / RFC 6350 §3.2: unfold first (at the octet level, a fold may split a UTF-8 sequence), then
    decode."""
    return FOLD.sub(b"", data)


def errors_in(output: str) -> list[str]:
    """vdirsyncer's error and critical lines."""
    return [line for line in output.splitlines() if line.startswith(("error:", "critical:"))]


@dataclass
class Item:
    """One item of the upload storage (a round trip's own Item adds how the corpus file was prepared)."""

    source: str  # corpus file name
    local_name: str  # file name in the upload storage
    data: bytes  # what vdirsyncer uploads
    uid: str

    def prepared(self) -> str:
        """How the corpus file was prepared, for the reports; empty when it is carried as it is."""
        return ""


# --- the checks ----------------------------------------------------------------------------------------------
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


# --- HTTP helpers (plain http.client: what vdirsyncer did is checked independently) ---------------------------
@dataclass
class Server:
    url: str
    username: str
    password: str

    # further xmlns declarations of PROPFIND bodies
    PROPFIND_NAMESPACES = ""

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        all_headers = {"Authorization": f"Basic {token}", **(headers or {})}
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        connection.close()
        return result

    def propfind(self, path: str, depth: str, props: str) -> etree.Element:
        body = (
            f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"{self.PROPFIND_NAMESPACES}>'
            f"<D:prop>{props}</D:prop></D:propfind>"
        )
        status, _, data = self.request(
            "PROPFIND", path, body.encode(), {"Depth": depth, "Content-Type": "application/xml"}
        )
        if status != 207:
            raise RuntimeError(f"PROPFIND {path} answered {status}")
        return etree.fromstring(data)

    def members(self, collection: str) -> dict[str, bytes]:
        """href -> body of every member of a collection (PROPFIND Depth 1, then GET each)."""
        root = self.propfind(collection, "1", "<D:getetag/>")
        hrefs = [
            urlsplit(h.text or "").path
            for h in root.iter("{DAV:}href")
            if urlsplit(h.text or "").path.rstrip("/") != collection.rstrip("/")
        ]
        out = {}
        for href in hrefs:
            status, _, data = self.request("GET", href)
            if status != 200:
                raise RuntimeError(f"GET {href} answered {status}")
            out[href] = data
        return out

    def diagnose_put(self, href: str, data: bytes, content_type: str, condition: str) -> str:
        """Why the server refuses an item: PUT it to a fresh href (If-None-Match: *; removed again if it is
        accepted after all); the status and the precondition elements the answer names (``condition``: a
        regular expression with the element's name as group 1)."""
        code, _, body = self.request("PUT", href, data, {"Content-Type": content_type, "If-None-Match": "*"})
        conditions = re.findall(condition, body.decode("utf-8", "replace"))
        reason = f"PUT answered {code} {' '.join(c for c in conditions if c != 'error')}".strip()
        if 200 <= code < 300:
            self.request("DELETE", href)
            reason += " to a fresh PUT (vdirsyncer's own PUT failed)"
        return reason


def diagnose_refused(
    results: Results,
    server: Server,
    collection: str,
    items: Iterable[Item],
    upload_dir: Path,
    uids_in: Callable[[bytes], Iterable[str]],
    fileext: str,
    content_type: str,
    condition: str,
) -> dict[str, str]:
    """After `sync upload`: UID -> why the server refused it, for every item whose UID is not in the server
    collection; each is diagnosed with a PUT of its own (Server.diagnose_put) and taken out of the upload
    storage, so that the later checks are not about it again. A collection that cannot be listed fails
    `sync-up`."""
    try:
        on_server = {uid for data in server.members(collection).values() for uid in uids_in(data)}
    except Exception as error:
        on_server = set()
        results.fail("sync-up", f"could not list the server collection: {error}")
    refused: dict[str, str] = {}
    for item in items:
        if item.uid in on_server:
            continue
        href = f"{collection}diagnose-{uuid.uuid4().hex[:8]}{fileext}"
        refused[item.uid] = server.diagnose_put(href, item.data, content_type, condition)
        (upload_dir / item.local_name).unlink()
    return refused


# --- the command line and the work directory -----------------------------------------------------------------
def argument_parser() -> argparse.ArgumentParser:
    """The options every round trip takes (run.sh passes them)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--vdirsyncer", default="vdirsyncer")
    return parser


def prepare_work(work: Path, collection: str) -> None:
    """Empty up/, down/ and status/ below the work directory, and the upload collection up/COLLECTION/."""
    for sub in ("up", "down", "status"):
        shutil.rmtree(work / sub, ignore_errors=True)
        (work / sub).mkdir(parents=True)
    (work / "up" / collection).mkdir()


def keep_storages(work: Path, results: Path) -> None:
    """Copy the up/ and down/ storages into the results directory, for inspection."""
    for sub in ("up", "down"):
        shutil.rmtree(results / sub, ignore_errors=True)
        if (work / sub).exists():
            shutil.copytree(work / sub, results / sub)


def print_summary(results: Results, files: int, units: int, unit: str, byte_identical: int) -> None:
    """The summary line and the final `N passed, M failed` line."""
    print(
        f"     summary: {files} corpus files, {units} {unit}, {byte_identical} came back byte-identical, "
        f"{len(results.warnings)} warning(s)",
        flush=True,
    )
    print(f"{results.passed} passed, {results.failed} failed")


# --- vdirsyncer ----------------------------------------------------------------------------------------------
def write_config(work: Path, server: Server, storage_type: str, fileext: str, download_collections: str) -> Path:
    """The vdirsyncer config: pair `upload` (work/up -> server, every local collection) and pair `download`
    (server -> work/down, ``download_collections``: a TOML list item such as ``"from b"``)."""
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
collections = ["{download_collections}"]

[storage local_up]
type = "filesystem"
path = "{work / "up"}/"
fileext = "{fileext}"

[storage local_down]
type = "filesystem"
path = "{work / "down"}/"
fileext = "{fileext}"

[storage gateway]
type = "{storage_type}"
url = "{server.url}"
username = "{server.username}"
password = "{server.password}"
""",
        encoding="utf-8",
    )
    return config


def run_logged(log: Path, label: str, command: list[str], stdin: str = "", timeout: int = 90) -> tuple[int, str, str]:
    """Run a client, log the command and its output; (status, stdout + stderr, stdout)."""
    try:
        completed = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        status, output, stdout = completed.returncode, completed.stdout + completed.stderr, completed.stdout
    except subprocess.TimeoutExpired as expired:
        status, output, stdout = 124, f"timed out after {timeout}s: {expired}", ""
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"\n$ {label} {' '.join(command[3:])}   # exit {status}\n{output}")
    return status, output, stdout


class Vdirsyncer:
    def __init__(self, executable: str, config: Path, log: Path) -> None:
        self.command = [executable, "-c", str(config)]
        self.log = log

    def run(self, *args: str, answer_yes: bool = False, timeout: int = 90) -> tuple[int, str]:
        stdin = "y\n" * 20 if answer_yes else ""
        status, output, _ = run_logged(self.log, "vdirsyncer", [*self.command, *args], stdin, timeout)
        return status, output


def check_sync_up(
    results: Results,
    status: int,
    output: str,
    refused: dict[str, str],
    detail: Callable[[int], str],
    problem: Callable[[int], str | None] = lambda uploaded: None,
) -> None:
    """`sync-up`: vdirsyncer may exit non-zero only for the items the server refused (one `Unknown error` line
    each); ``problem(uploads)`` is a further failure (or None), ``detail(uploads)`` what went up."""
    errors = errors_in(output)
    item_errors = [line for line in errors if line.startswith("error: Unknown error occurred for upload/")]
    other_errors = [line for line in errors if line not in item_errors and "Use `-vdebug`" not in line]
    uploaded = len(CHANGE.findall(output))
    failure = problem(uploaded)
    if status != 0 and (len(item_errors) != len(refused) or other_errors or not refused):
        results.fail("sync-up", f"vdirsyncer sync upload exited {status}: " + " | ".join(errors)[:2000])
    elif failure is not None:
        results.fail("sync-up", failure)
    else:
        results.ok(
            "sync-up",
            detail(uploaded) + (f", {len(refused)} refused by the server (reported per file below)" if refused else ""),
        )


def discover_upload(vds: Vdirsyncer, results: Results) -> tuple[int, str]:
    """`vdirsyncer discover upload`: fails `discover-upload` when it exits non-zero; (status, output)."""
    status, output = vds.run("discover", "upload", answer_yes=True)
    if status != 0:
        results.fail("discover-upload", f"vdirsyncer discover upload exited {status}: {output.strip()[-600:]}")
    return status, output


def sync_down(vds: Vdirsyncer, results: Results, unit: str) -> None:
    """`vdirsyncer discover download` + `sync download`: check `sync-down`."""
    status, output = vds.run("discover", "download", answer_yes=True)
    if status != 0:
        results.fail("discover-download", f"vdirsyncer discover download exited {status}: {output.strip()[-600:]}")
    status, output = vds.run("sync", "download")
    errors = errors_in(output)
    if status != 0 or errors:
        results.fail("sync-down", f"vdirsyncer sync download exited {status}: " + " | ".join(errors)[:2000])
    else:
        results.ok("sync-down", f"{len(CHANGE.findall(output))} {unit} downloaded")


@dataclass
class Comparison:
    """What compare_items found for one corpus file's items."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    byte_identical: int = 0


def compare_items(
    items: Iterable[tuple[str, bytes]],
    refused: dict[str, str],
    down: dict[str, list[tuple[str, bytes]]],
    differences: Callable[[bytes, bytes], Sequence[str]],
) -> Comparison:
    """Compare (UID, uploaded bytes) items with their downloaded copies (UID -> [(file name, bytes)]):
    ``differences(sent, got)`` lists the content differences; byte identity is counted, a byte change noted."""
    out = Comparison()
    for uid, sent in items:
        if uid in refused:
            out.problems.append(f"UID {uid}: refused on upload: {refused[uid]}")
            continue
        copies = down.get(uid, [])
        if len(copies) != 1:
            out.problems.append(f"UID {uid}: {len(copies)} downloaded copies")
            continue
        _name, data = copies[0]
        out.problems.extend(f"UID {uid}: {d}" for d in differences(sent, data))
        if data == sent:
            out.byte_identical += 1
        else:
            out.notes.append(f"bytes differ ({len(sent)} sent, {len(data)} back)")
    return out


def read_down(
    down_dir: Path, fileext: str, uids_in: Callable[[bytes], Iterable[str]], results: Results
) -> dict[str, list[tuple[str, bytes]]]:
    """The download storage's files (``down_dir``/*``fileext``) by UID: UID -> [(file name, bytes)]; a file that
    does not parse fails `download/NAME`."""
    down: dict[str, list[tuple[str, bytes]]] = {}
    for path in sorted(down_dir.glob(f"*{fileext}")) if down_dir.is_dir() else []:
        data = path.read_bytes()
        try:
            for uid in uids_in(data):
                down.setdefault(uid, []).append((path.name, data))
        except Exception as error:
            results.fail(f"download/{path.name}", f"downloaded file does not parse: {error}")
    return down


def compare_sources(
    results: Results,
    sources: Iterable[str],
    items: Sequence[Item],
    refused: dict[str, str],
    down: dict[str, list[tuple[str, bytes]]],
    differences: Callable[[bytes, bytes], Sequence[str]],
    what: Callable[[int], str],
    unit: str,
) -> int:
    """`roundtrip/SOURCE` for every corpus file (``sources``, names) that has items (compare_items and
    report_comparison; ``what(count)`` names the items and what was equal), then `download/extra` when ``down``
    holds UIDs nobody uploaded (``unit``: what the items are called). Returns how many came back byte-identical."""
    byte_identical = 0
    for source in sources:
        mine = [item for item in items if item.source == source]
        if not mine:
            continue
        comparison = compare_items(((item.uid, item.data) for item in mine), refused, down, differences)
        byte_identical += comparison.byte_identical
        prep = f" [{mine[0].prepared()}]" if mine[0].prepared() else ""
        report_comparison(results, source, comparison, what(len(mine)), prep)
    extra = set(down) - {item.uid for item in items}
    if extra:
        results.fail("download/extra", f"downloaded {unit} nobody uploaded: {sorted(extra)}")
    return byte_identical


def report_comparison(results: Results, source: str, comparison: Comparison, what: str, prep: str) -> None:
    """`roundtrip/SOURCE` from compare_items' findings; ``what`` names the items and what was equal."""
    if comparison.problems:
        results.fail(f"roundtrip/{source}", "; ".join(comparison.problems)[:3000] + prep)
    else:
        notes = comparison.notes
        detail = f"{what}, " + ("bytes identical" if not notes else "; ".join(sorted(set(notes))))
        results.ok(f"roundtrip/{source}", detail + prep)
        if notes:
            results.warn(f"{source}: content equal but the bytes changed on the way (see vdirsyncer.log)")


def check_idempotent(vds: Vdirsyncer, results: Results) -> None:
    """`idempotent`: a second sync of both pairs changes nothing."""
    changes = []
    for pair in ("upload", "download"):
        status, output = vds.run("sync", pair)
        changes += [f"{pair}: {line}" for line in output.splitlines() if CHANGE.match(line)]
        changes += [f"{pair}: {line}" for line in errors_in(output)]
        if status != 0:
            changes.append(f"{pair}: exit {status}")
    if changes:
        results.fail("idempotent", "second sync was not a no-op: " + " | ".join(changes)[:2000])
    else:
        results.ok("idempotent", "second sync of both pairs changed nothing")


def updated_lines(output: str) -> list[str]:
    """vdirsyncer's `Copying (updating) item` lines."""
    return [line for line in output.splitlines() if line.startswith("Copying (updating) item")]


def check_modify(
    vds: Vdirsyncer,
    results: Results,
    server: Server,
    collection: str,
    down_dir: Path,
    target: Item,
    modified: bytes,
    *,
    uids_in: Callable[[bytes], Iterable[str]],
    same_content: Callable[[bytes, bytes], bool],
    describe: Callable[[bytes, bytes], object],
    holds_marker: Callable[[bytes], bool],
    fileext: str,
    change: str = "change",
    changed: str = "changed",
    edit_made: bool = True,
) -> None:
    """`modify` and `modify-down`, after the target's upload file was rewritten to ``modified`` (``edit_made``
    False fails `modify`): `sync upload` updates exactly one item and the server collection holds one copy of
    the UID with the new bytes (or content, ``same_content(got, sent)``; else ``describe(sent, got)`` says how
    it differs); then `sync download` updates one item and the copy in ``down_dir`` passes ``holds_marker``."""
    status, output = vds.run("sync", "upload")
    updated = updated_lines(output)
    try:
        copies = [(href, data) for href, data in server.members(collection).items() if target.uid in uids_in(data)]
    except Exception as error:
        copies = []
        results.fail("modify", f"could not read the server collection: {error}")
    if status != 0 or len(updated) != 1 or not edit_made:
        results.fail(
            "modify", f"sync after a local change: exit {status}, {len(updated)} update(s): {output.strip()[-600:]}"
        )
        return
    if len(copies) != 1:
        results.fail("modify", f"{len(copies)} server copies of UID {target.uid}")
        return
    href, data = copies[0]
    if data == modified:
        results.ok("modify", f"{target.local_name} {changed} locally -> GET {unquote(href)} returns the new bytes")
    elif same_content(data, modified):
        results.ok("modify", f"GET {unquote(href)} returns the new content (bytes differ)")
    else:
        results.fail("modify", f"GET {unquote(href)} does not hold the {change}: {describe(modified, data)}")
    status, output = vds.run("sync", "download")
    pulled = updated_lines(output)
    files = [p for p in down_dir.glob(f"*{fileext}") if target.uid in uids_in(p.read_bytes())]
    if status != 0 or len(pulled) != 1 or not files or not holds_marker(files[0].read_bytes()):
        results.fail("modify-down", f"download sync after the {change}: exit {status}, {len(pulled)} update(s)")
    else:
        results.ok("modify-down", f"the {change} came down to the second storage")


def new_marker() -> str:
    return f"conformance-{uuid.uuid4().hex[:8]}"
