#!/usr/bin/env bash
# Run the litmus WebDAV test-suite (basic copymove props locks http) against a freshly started gateway.
#
#   conformance/litmus/run.sh
#
# Environment:
#   GATEWAY         gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON          python used for small helpers (default: .venv/bin/python, else python3)
#   TESTS           litmus groups to run (default: "basic copymove props locks http")
#   LITMUS_TIMEOUT  seconds litmus may run in total (default: 600)
#   LITMUS_URL      test an already running server at this URL instead of starting one (user litmus/secret)
#   START_TIMEOUT   seconds to wait for the started server to answer (default: 15)
#
# Exit status: 0 when every failure litmus reports is listed in expected-failures.txt, 1 when it reports any
# other failure (or a group does not finish), 2 when the run itself cannot be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/litmus
RESULTS=$ROOT/$HERE/results
LOG=$RESULTS/litmus.log
SERVER_LOG=$RESULTS/server.log
EXPECTED=$ROOT/$HERE/expected-failures.txt

GATEWAY=${GATEWAY:-$ROOT/.venv/bin/gateway}
TESTS=${TESTS:-basic copymove props locks http}
LITMUS_TIMEOUT=${LITMUS_TIMEOUT:-600}
LITMUS_USER=litmus
LITMUS_PASS=secret
START_TIMEOUT=${START_TIMEOUT:-15}

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"

if [[ -z ${PYTHON:-} ]]; then
    if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "python not found (tried $PYTHON); set PYTHON"

# --- litmus itself ---------------------------------------------------------------------------------------
if ! command -v litmus >/dev/null 2>&1; then
    say "litmus not found, installing the Debian package"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "litmus is not installed and we are not root: apt-get install litmus"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update || die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y litmus || die "apt-get install litmus failed"
    command -v litmus >/dev/null 2>&1 || die "litmus still not on PATH after installing it"
fi

mkdir -p "$RESULTS"
rm -f "$LOG" "$RESULTS/debug.log" "$RESULTS/child.log"

# --- the server --------------------------------------------------------------------------------------------
connect_gateway "${LITMUS_URL:-}" "$PYTHON" "$LITMUS_USER" "$LITMUS_PASS" litmus-gateway "dav/files/$LITMUS_USER/"

# --- litmus ------------------------------------------------------------------------------------------------
say "running litmus ($TESTS) against $URL, timeout ${LITMUS_TIMEOUT}s (log: $HERE/results/litmus.log)"
litmus_status=0
(
    cd "$RESULTS" # litmus appends debug.log and child.log to the working directory
    TESTS=$TESTS timeout --kill-after=10 "$LITMUS_TIMEOUT" litmus -k "$URL" "$LITMUS_USER" "$LITMUS_PASS"
) >"$LOG" 2>&1 </dev/null || litmus_status=$?

# --- verdict -----------------------------------------------------------------------------------------------
# litmus prints per test "\r NN. name....... \r NN. name....... RESULT", RESULT being pass, FAIL (context),
# SKIPPED, XFAIL or, after "WARNING: ..." lines, a continuation line of dots then the result; a FAIL context may
# span several lines. Each group ends with "<- summary for `group': of N tests run: P passed, F failed. X%".
run_judge "$PYTHON" "$LOG" "$EXPECTED" "$TESTS" "$litmus_status" "$LITMUS_TIMEOUT" <<'PY'
import re
import sys

log_path, expected_path, tests, litmus_status, timeout = sys.argv[1:6]
groups = tests.split()
litmus_status = int(litmus_status)

RUNNING = re.compile(r"^-> running `([^']+)':")
SUMMARY = re.compile(r"^<- summary for `([^']+)': of (\d+) tests run: (\d+) passed, (\d+) failed\.")
ALL_SKIPPED = re.compile(r"^<- all tests skipped for `([^']+)'\.")
TEST = re.compile(r"^\s*(\d+)\. (\S+?)\.* (.*)$")
CONTINUATION = re.compile(r"^    \.{22} (.*)$")

expected: set[str] = read_expected_failures(expected_path)

with open(log_path, encoding="utf-8", errors="replace") as handle:
    text = handle.read()

# Test names repeat within a group (litmus re-runs propget, owner_modify, ...), so results are kept per number.
results: dict[tuple[str, int], tuple[str, str, str]] = {}  # (group, number) -> (name, status, message)
summaries: dict[str, str] = {}
summary_failed: dict[str, int] = {}
summary_run: dict[str, int] = {}
group = "?"
current: tuple[str, int, str] | None = None  # (group, number, name) of the test being printed
open_failure: tuple[str, int] | None = None  # a FAIL whose context may continue on the next lines

for line in text.split("\n"):
    for segment in line.split("\r"):
        if not segment.strip():
            continue
        match = RUNNING.match(segment)
        if match:
            group, current, open_failure = match.group(1), None, None
            continue
        match = SUMMARY.match(segment) or ALL_SKIPPED.match(segment)
        if match:
            summaries[match.group(1)] = segment.rstrip()
            if match.re is SUMMARY:
                summary_run[match.group(1)] = int(match.group(2))
                summary_failed[match.group(1)] = int(match.group(4))
            current = open_failure = None
            continue
        match = TEST.match(segment)
        if match:
            current = (group, int(match.group(1)), match.group(2))
            result = match.group(3).strip()
        else:
            match = CONTINUATION.match(segment)
            if not match:
                if open_failure and not segment.startswith("-> "):
                    name, status, message = results[open_failure]
                    results[open_failure] = (name, status, f"{message} {segment.strip()}")
                continue
            result = match.group(1).strip()
        open_failure = None
        if not result or current is None or result.startswith("WARNING:"):
            continue
        key = current[:2]
        if result.startswith(("FAIL", "OOPS")):
            results[key] = (current[2], "FAIL", result.removeprefix("FAIL").strip())
            open_failure = key
        elif result.startswith("SKIPPED"):
            results[key] = (current[2], "SKIPPED", result)
        elif result.startswith(("pass", "XFAIL")):
            results[key] = (current[2], "pass", result)


def label(key: tuple[str, int]) -> str:
    return f"{key[0]}/{results[key][0]}"


def listed(key: tuple[str, int]) -> bool:
    return results[key][0] in expected or label(key) in expected


for name in groups:
    if name in summaries:
        print(summaries[name])
    else:
        print(f"<- no summary for `{name}': the group did not finish (crashed, timed out or never started)")

failures = [key for key, (_, status, _) in results.items() if status == "FAIL"]
unexpected = [key for key in failures if not listed(key)]
problems: list[str] = []
for key in unexpected:
    problems.append(f"FAIL {label(key)} (#{key[1]}): {results[key][2]}")
for name in groups:
    if name not in summaries:
        problems.append(f"group `{name}' did not finish")
    elif summary_failed.get(name, 0) > sum(1 for key in failures if key[0] == name):
        problems.append(f"group `{name}' reports more failures than could be read from its test lines")
if litmus_status in (124, 137):
    problems.append(f"litmus timed out after {timeout}s")
elif litmus_status != 0:
    problems.append(f"litmus exited with status {litmus_status}")

skipped = [key for key, (_, status, _) in results.items() if status == "SKIPPED"]
if skipped:
    print(f"skipped ({len(skipped)}): {' '.join(sorted({label(key) for key in skipped}))}")
for key in failures:
    if listed(key):
        print(f"expected failure: {label(key)} (#{key[1]})")
passed_labels = {label(key) for key, (_, status, _) in results.items() if status == "pass"}
failed_labels = {label(key) for key in failures}


def hit(entry: str, labels: set[str]) -> bool:
    return any(entry in (item, item.split("/", 1)[1]) for item in labels)


for entry in sorted(expected):
    if hit(entry, passed_labels) and not hit(entry, failed_labels):
        print(f"note: `{entry}' is listed in expected-failures.txt but passed; remove it from the list")
for problem in problems:
    print(problem)

total_run = sum(summary_run.values())
verdict = "FAILED" if problems else "PASSED"
print(
    f"litmus-run: {verdict}: {len(summaries)}/{len(groups)} groups finished, {total_run} tests run, "
    f"{len(failures)} failed ({len(failures) - len(unexpected)} expected), {len(skipped)} skipped; "
    f"{len(problems)} problem(s)"
)
sys.exit(1 if problems else 0)
PY
