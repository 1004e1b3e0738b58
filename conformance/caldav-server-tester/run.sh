#!/usr/bin/env bash
# Run the third-party caldav-server-tester (PyPI) against a freshly started gateway and judge its report.
#
#   conformance/caldav-server-tester/run.sh
#
# Environment:
#   GATEWAY        gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON         python used to create the tools venv (default: python3)
#   TOOLS_VENV     venv holding the tester (default: conformance/.venv-tools; created when missing)
#   CST_VERSION    caldav-server-tester version to install (default: 1.7.0)
#   CST_TIMEOUT    seconds one tester run may take (default: 240)
#   CST_URL        test an already running server at this URL instead of starting one (CST_USER/CST_PASS,
#                  default tester/secret); REPORT.md is then left alone
#   START_TIMEOUT  seconds to wait for the started server to answer (default: 15)
#
# The tester runs twice against the same server: `--format json` (its own report, results/report.json) and
# `--format hints` (every probed feature, not only the deviations; results/features.txt). Every feature the
# tester observed differently from its library's default (caldav.compatibility_hints) is a deviation. A
# deviation in a feature issue 3 requires (see REQUIRED in the judge below) fails the run unless it is listed
# in expected-failures.txt; any other deviation is printed as a warning. A tester crash, an "unexpected
# exception" in a check, or an ERROR/CRITICAL log line that is not a feature mismatch fails the run too.
#
# Exit status: 0 when nothing unexpected failed, 1 when something did, 2 when the run cannot be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/caldav-server-tester
RESULTS=$ROOT/$HERE/results
EXPECTED=$ROOT/$HERE/expected-failures.txt
REPORT_MD=$ROOT/$HERE/REPORT.md
SERVER_LOG=$RESULTS/server.log

GATEWAY=${GATEWAY:-$ROOT/.venv/bin/gateway}
PYTHON=${PYTHON:-python3}
TOOLS_VENV=${TOOLS_VENV:-$ROOT/conformance/.venv-tools}
CST_VERSION=${CST_VERSION:-1.7.0}
CST_TIMEOUT=${CST_TIMEOUT:-240}
START_TIMEOUT=${START_TIMEOUT:-15}
CST_USER=${CST_USER:-tester}
CST_PASS=${CST_PASS:-secret}

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"

# --- the tools venv ----------------------------------------------------------------------------------------
ensure_tools_venv
# vobject: the tester's timezone check asks the caldav library for a vobject instance; without it that check
# reports "broken" for any server.
if ! "$TOOLS_PY" - "$CST_VERSION" <<'PY' 2>/dev/null; then
import importlib.metadata as metadata
import sys

assert metadata.version("caldav-server-tester") == sys.argv[1]
import vobject  # noqa: F401
import yaml  # noqa: F401
PY
    pip_install_tools "caldav-server-tester==$CST_VERSION (and vobject, pyyaml)" caldav-server-tester \
        "caldav_server_tester, vobject, yaml" "caldav-server-tester==$CST_VERSION" vobject pyyaml
fi
TESTER=$TOOLS_VENV/bin/caldav-server-tester
[[ -x $TESTER ]] || die "$TESTER is missing after the install"

mkdir -p "$RESULTS"
rm -f "$RESULTS"/report.json "$RESULTS"/features.txt "$RESULTS"/tester-*.log "$RESULTS"/summary.txt \
    "$RESULTS"/REPORT.md "$SERVER_LOG"

# --- the server --------------------------------------------------------------------------------------------
# The bare base URL: the tester has to discover principal, home and calendars by itself.
connect_gateway "${CST_URL:-}" "$TOOLS_PY" "$CST_USER" "$CST_PASS" cst-gateway

# --- the tester --------------------------------------------------------------------------------------------
run_tester() { # format output-file log-file -> exit status of the tester
    local status=0
    # A config file of the user running this must not leak into the run.
    HOME=$RESULTS XDG_CONFIG_HOME=$RESULTS/.config timeout --kill-after=10 "$CST_TIMEOUT" \
        "$TESTER" --caldav-url "$URL" --caldav-username "$CST_USER" --caldav-password "$CST_PASS" \
        --format "$1" >"$2" 2>"$3" </dev/null || status=$?
    return "$status"
}

say "running caldav-server-tester $CST_VERSION --format json against $URL (report: $HERE/results/report.json)"
json_status=0
run_tester json "$RESULTS/report.json" "$RESULTS/tester-json.log" || json_status=$?
say "running caldav-server-tester $CST_VERSION --format hints (every feature: $HERE/results/features.txt)"
hints_status=0
run_tester hints "$RESULTS/features.txt" "$RESULTS/tester-hints.log" || hints_status=$?

SERVER_VERSION=$(git -C "$ROOT" describe --always --dirty --tags 2>/dev/null || echo unknown)
SERVER_COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)

# --- verdict -----------------------------------------------------------------------------------------------
judge_status=0
"$TOOLS_PY" - "$RESULTS" "$EXPECTED" "$json_status" "$hints_status" "$CST_TIMEOUT" "$URL" \
    "$SERVER_VERSION" "$SERVER_COMMIT" <<'PY' || judge_status=$?
import ast
import datetime
import importlib.metadata as metadata
import json
import re
import sys
from pathlib import Path

from caldav.compatibility_hints import FeatureSet

results = Path(sys.argv[1])
expected_path = Path(sys.argv[2])
statuses = {"json": int(sys.argv[3]), "hints": int(sys.argv[4])}
timeout, url, server_version, server_commit = sys.argv[5:9]

# Features issue 3 requires, by name prefix (a feature is required when its name is one of these or starts
# with one of them followed by a dot), with the part of the issue that asks for them.
REQUIRED = {
    "auth.www-authenticate": "anonymous request -> 401 with WWW-Authenticate (clients.md §0.3)",
    "get-current-user-principal": "principal discovery (RFC 5397)",
    "propfind": "PROPFIND on principal, home and calendars",
    "get-supported-components": "supported-calendar-component-set (issue item 1)",
    "create-calendar": "MKCALENDAR (issue item 1)",
    "delete-calendar": "deleting calendars",
    "calendar-color": "Apple calendar-color (issue item 1)",
    "calendar-order": "Apple calendar-order (issue item 1)",
    "synchronous-write": "writes visible at once",
    "non-existing-raises-not-found": "404 for what does not exist",
    "save-load": "save/load of events, tasks, journals, recurrences, time zones (issue items 2, 5)",
    "save": "ETags, If-None-Match, UID handling, no-uid-conflict (issue item 2)",
    "search": "calendar-query: time-range, text, alarm, recurrence, is-not-defined (issue items 3, 4)",
    "sync-token": "sync-collection incl. limit and invalid tokens (issue item 4)",
    "freebusy-query": "free-busy-query REPORT (issue item 4)",
    "wrong-password-check": "wrong passwords are refused",
}
# Deviations that are fine whatever the prefix says: the reason is printed with them.
NOT_REQUIRED = {
    "scheduling": "RFC 6638 scheduling is not part of issue 3 (and the server does not advertise "
    "calendar-auto-schedule)",
    "principal-search": "RFC 3744 principal-property-search REPORT is not part of issue 3",
    "url.encode-at": "how '@' and '%40' in paths relate (informational); account names cannot contain '@', "
    "so the principal case cannot be probed",
    "well-known": "the tester does not probe /.well-known on a loopback server (python-caldav suite does)",
    "http": "HTTP/2 multiplexing is the reverse proxy's business",
    "calendar-color.name": "colour names instead of #RRGGBB[AA]: the de facto format is hex, refusing names is "
    "fine (clients.md: DAVx5 and Apple send #RRGGBBAA)",
}
GOOD = {"full"}


def prefixed(feature: str, names) -> str | None:
    for name in names:
        if feature == name or feature.startswith(name + "."):
            return name
    return None


expected: dict[str, str] = {}
if expected_path.exists():
    for line in expected_path.read_text(encoding="utf-8").splitlines():
        name, _, reason = line.partition("#")
        if name.strip():
            expected[name.strip()] = reason.strip()

defaults = FeatureSet()
problems: list[str] = []
warnings: list[str] = []
observed: dict[str, dict[str, dict]] = {}  # run -> feature -> info

# The json run: the tester's own (compacted) report.
try:
    report = json.loads((results / "report.json").read_text(encoding="utf-8") or "null")
    observed["json"] = dict(report["features"])
except Exception as error:  # noqa: BLE001
    report = None
    problems.append(f"the json run produced no readable report ({type(error).__name__}: {error})")
# The hints run: every feature the tester probed, as a Python dict literal.
try:
    observed["hints"] = ast.literal_eval((results / "features.txt").read_text(encoding="utf-8"))
    assert isinstance(observed["hints"], dict)
except Exception as error:  # noqa: BLE001
    problems.append(f"the hints run produced no readable feature list ({type(error).__name__}: {error})")

for run, status in statuses.items():
    if status in (124, 137):
        problems.append(f"the {run} run timed out after {timeout}s")
    elif status != 0:
        problems.append(f"the {run} run exited with status {status} (see results/tester-{run}.log)")

# The tester's log: feature mismatches against its default profile are re-derived below; any other ERROR or
# CRITICAL line (a library fallback hiding a failed request, a missing dependency, a crashed check) counts.
MISMATCH = re.compile(r"^ERROR:root:Server checker found something unexpected for (\S+?)\.  ")
log_lines: list[str] = []
for run in statuses:
    path = results / f"tester-{run}.log"
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    if "Traceback (most recent call last)" in text:
        problems.append(f"the {run} run printed a Python traceback (see results/tester-{run}.log)")
    for line in text.splitlines():
        if MISMATCH.match(line):
            continue
        if line.startswith(("ERROR:", "CRITICAL:")) or "raised an unexpected exception" in line:
            problems.append(f"{run} run log: {line.strip()}")
        elif line.startswith("WARNING:"):
            warnings.append(f"{run} run log: {line.strip()}")


def level(feature: str, info: dict) -> str | None:
    if "support" in info:
        return str(info["support"])
    if "enable" in info or "value" in info:
        return None  # an observation, not a support level
    return "full"


deviations: dict[str, tuple[str, str, dict]] = {}  # feature -> (observed, default, info)
for run, features in observed.items():
    for feature, info in features.items():
        info = info if isinstance(info, dict) else {"support": info}
        kind = FeatureSet.find_feature(feature).get("type", "server-feature")
        if kind in FeatureSet._UNCHECKABLE_FEATURE_TYPES:
            continue
        got = level(feature, info)
        if got is None:
            continue
        default = defaults.is_supported(feature, str)
        if got == default:
            continue
        previous = deviations.get(feature)
        if previous and previous[0] != got:
            problems.append(f"{feature}: the two runs disagree ({previous[0]} / {got}): flaky")
        deviations[feature] = (got, default, info)


def describe(info: dict) -> str:
    extra = {key: value for key, value in info.items() if key != "support"}
    return "; ".join(f"{key}: {value}" for key, value in extra.items())


failed_features: list[str] = []
better: list[str] = []  # observed "full" where the library expects less: nothing to report but a note
expected_hits: list[str] = []
for feature, (got, default, info) in sorted(deviations.items()):
    detail = describe(info)
    line = f"{feature}: {got} (default {default})" + (f" - {detail}" if detail else "")
    exempt = prefixed(feature, NOT_REQUIRED)
    required = prefixed(feature, REQUIRED)
    if got in GOOD:
        better.append(feature)
    elif exempt or not required:
        why = NOT_REQUIRED.get(exempt or "", "not required by issue 3")
        warnings.append(f"{line} [warning: {why}]")
    elif feature in expected or prefixed(feature, expected):
        expected_hits.append(feature)
        warnings.append(f"{line} [expected failure: {expected.get(feature) or expected.get(prefixed(feature, expected))}]")
    else:
        failed_features.append(feature)
        problems.append(f"FAIL {line} [required: {REQUIRED[required]}]")

for entry in sorted(expected):
    if not any(f == entry or f.startswith(entry + ".") for f in expected_hits):
        warnings.append(f"`{entry}' is listed in expected-failures.txt but did not fail; remove it from the list")

probed = observed.get("hints") or observed.get("json") or {}
verdict = "FAILED" if problems else "PASSED"
summary = (
    f"caldav-server-tester-run: {verdict}: {len(probed)} features probed, "
    f"{len(deviations) - len(better)} worse than the library defaults, {len(failed_features)} required feature(s) failed "
    f"({len(expected_hits)} expected), {len(warnings)} warning(s); {len(problems)} problem(s)"
)

out: list[str] = []
for warning in warnings:
    out.append(f"warning: {warning}")
for problem in problems:
    out.append(problem)
out.append(summary)
(results / "summary.txt").write_text("\n".join(out) + "\n", encoding="utf-8")
print("\n".join(out))

# REPORT.md: the latest report, kept in git.
now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
md = [
    "# caldav-server-tester report",
    "",
    f"- Date: {now}",
    f"- Server: groupware gateway `{server_version}` (commit `{server_commit}`), started by `run.sh` on "
    "loopback with a fresh SQLite data dir; the tester was given only the bare base URL.",
    f"- Tester: caldav-server-tester {metadata.version('caldav-server-tester')}, caldav library "
    f"{metadata.version('caldav')}",
    f"- Verdict: **{verdict}** — {summary.split(': ', 2)[2]}",
    "",
    "Regenerated by `conformance/caldav-server-tester/run.sh`; the raw output is in `results/` (gitignored):",
    "`report.json` (the tester's `--format json`), `features.txt` (`--format hints`), `tester-*.log`.",
    "",
    "## Deviations from the caldav library's defaults",
    "",
]
if deviations:
    md += ["| Feature | Observed | Default | Counts as | Detail |", "|---|---|---|---|---|"]
    for feature, (got, default, info) in sorted(deviations.items()):
        exempt = prefixed(feature, NOT_REQUIRED)
        required = prefixed(feature, REQUIRED)
        if feature in better:
            counts = "fine (better than the default)"
        elif feature in failed_features:
            counts = "**failure** (required)"
        elif feature in expected_hits:
            counts = "expected failure: " + (expected.get(feature) or "")
        else:
            counts = "warning: " + NOT_REQUIRED.get(exempt or "", "not required by issue 3")
        detail = describe(info).replace("|", "\\|")
        md.append(f"| `{feature}` | {got} | {default} | {counts} | {detail} |")
else:
    md.append("None.")
if problems:
    md += ["", "## Problems", ""] + [f"- {problem}" for problem in problems]
# The tester logs every observation that differs from its expected profile (none given: the library's
# defaults) as an ERROR line; they are the deviations above, listed here as the tester printed them.
mismatch_lines = sorted(
    {
        line.strip()
        for run in statuses
        if (results / f"tester-{run}.log").exists()
        for line in (results / f"tester-{run}.log").read_text(encoding="utf-8", errors="replace").splitlines()
        if MISMATCH.match(line)
    }
)
if mismatch_lines:
    md += ["", "## The tester's own ERROR lines (feature mismatches against its default profile)", ""]
    md += [f"- `{line}`" for line in mismatch_lines]
md += ["", "## Every probed feature", "", "| Feature | Result | Detail |", "|---|---|---|"]
for feature, info in sorted(probed.items()):
    info = info if isinstance(info, dict) else {"support": info}
    shown = info.get("support") or json.dumps(info)
    detail = describe(info).replace("|", "\\|") if "support" in info else ""
    md.append(f"| `{feature}` | {shown} | {detail} |")
(results / "REPORT.md").write_text("\n".join(md) + "\n", encoding="utf-8")
sys.exit(1 if problems else 0)
PY

if [[ $LOCAL -eq 1 && -s $RESULTS/REPORT.md ]]; then
    cp "$RESULTS/REPORT.md" "$REPORT_MD"
    say "report kept in $HERE/REPORT.md"
fi
exit "$judge_status"
