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

import re
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import icalendar
from vdirsyncer.vobject import split_collection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import vdirsyncer_common as common

COLLECTION = "roundtrip"


# --- comparison ----------------------------------------------------------------------------------------------
def parse(data: bytes) -> icalendar.Calendar:
    text = common.unfold_bytes(data).decode("utf-8").lstrip("\ufeff")
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


def content_differences(sent_data: bytes, got_data: bytes) -> list[str]:
    sent, got = canonical(parse(sent_data)), canonical(parse(got_data))
    return describe_difference(sent, got) if sent != got else []


class CalendarServer(common.Server):
    def collection_path(self) -> str:
        return f"/dav/calendars/{self.username}/{COLLECTION}/"


# --- the round trip ------------------------------------------------------------------------------------------
@dataclass
class Item(common.Item):
    preparation: str = ""  # empty when the file is carried as it is

    def prepared(self) -> str:
        return self.preparation


def prepare(corpus: Path, results: common.Results) -> tuple[list[Item], dict[str, bytes]]:
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
            text = common.unfold_bytes(data).decode("utf-8") if not utf8 else data.decode("utf-8")
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
                    common.unfold_bytes(data),
                    uids[0] if uids else "",
                    "unfolded at the byte level (not valid UTF-8 as folded; vdirsyncer decodes strictly)",
                )
            )
        else:
            items.append(Item(path.name, path.name, data, uids[0] if uids else ""))
    return items, originals


def check_split(items: list[Item], originals: dict[str, bytes], results: common.Results) -> None:
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


def main() -> int:
    args = common.argument_parser().parse_args()

    server = CalendarServer(args.url, args.username, args.password)
    results = common.Results()
    work: Path = args.work
    common.prepare_work(work, COLLECTION)
    log = args.results / "vdirsyncer.log"
    log.write_text("", encoding="utf-8")
    vds = common.Vdirsyncer(args.vdirsyncer, common.write_config(work, server, "caldav", ".ics", COLLECTION), log)

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
    common.discover_upload(vds, results)
    status, output = vds.run("sync", "upload")
    # What reached the server; what did not is diagnosed with a PUT of its own (refused again, so no change)
    # and taken out of the local storage, so that the later checks are not about it again.
    refused = common.diagnose_refused(
        results,
        server,
        server.collection_path(),
        items,
        work / "up" / COLLECTION,
        lambda data: uids_of(parse(data)),
        ".ics",
        "text/calendar",
        r"<(?:\w+:)?([\w-]+)/>",
    )
    common.check_sync_up(results, status, output, refused, lambda uploaded: f"{uploaded - len(refused)} items uploaded")
    common.sync_down(vds, results, "items")

    # 3. Compare, per corpus file.
    down = common.read_down(work / "down" / COLLECTION, ".ics", lambda data: uids_of(parse(data)), results)
    byte_identical = common.compare_sources(
        results,
        sorted(originals),
        items,
        refused,
        down,
        content_differences,
        lambda count: f"{count} item(s), same UID and content",
        "items",
    )

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
    common.check_idempotent(vds, results)

    # 4b. A local modification reaches the server, and comes down again.
    target = next((item for item in items if not item.preparation and item.uid and item.uid in down), None)
    if target is None:
        results.fail("modify", "no item made the round trip, nothing to modify")
    else:
        local = work / "up" / COLLECTION / target.local_name
        text = local.read_bytes()
        marker = common.new_marker()
        modified, count = re.subn(rb"(\r?\n)(SUMMARY[;:][^\r\n]*)", rb"\1\2 (" + marker.encode() + rb")", text, count=1)
        if not count:
            modified = text.replace(b"\nUID:", f"\nCOMMENT:{marker}\r\nUID:".encode(), 1)
        local.write_bytes(modified)
        common.check_modify(
            vds,
            results,
            server,
            server.collection_path(),
            work / "down" / COLLECTION,
            target,
            modified,
            uids_in=lambda data: uids_of(parse(data)),
            same_content=lambda got, sent: canonical(parse(got)) == canonical(parse(sent)),
            describe=lambda sent, got: describe_difference(canonical(parse(sent)), canonical(parse(got))),
            holds_marker=lambda data: marker.encode() in common.unfold_bytes(data),
            fileext=".ics",
        )

    # Keep the storages for inspection.
    common.keep_storages(work, args.results)

    common.print_summary(results, len(originals), len(items), "items", byte_identical)
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
