#!/usr/bin/env bash
# Drive the python `caldav` library against a freshly started gateway (drive.py beside this script): discovery
# from the bare base URL, MKCALENDAR, events and todos, time-range and text queries with and without expand,
# multiget, sync tokens, conditional updates, deletes.
#
#   conformance/python-caldav/run.sh
#
# Environment:
#   GATEWAY        gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON         python that has `caldav` (default: .venv/bin/python, where `make` installs it with the test
#                  extras; when it lacks caldav, the tools venv conformance/.venv-tools gets it instead)
#   TOOLS_VENV     fallback venv (default: conformance/.venv-tools)
#   DRIVE_TIMEOUT  seconds drive.py may take (default: 180)
#   PYCALDAV_URL   test an already running server at this URL instead of starting one
#                  (PYCALDAV_USER/PYCALDAV_PASS, default pycaldav/secret)
#   START_TIMEOUT  seconds to wait for the started server to answer (default: 15)
#
# Exit status: 0 when every failed or skipped step is listed in expected-failures.txt, 1 otherwise, 2 when the
# run cannot be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/python-caldav
RESULTS=$ROOT/$HERE/results
EXPECTED=$ROOT/$HERE/expected-failures.txt
LOG=$RESULTS/drive.log
SERVER_LOG=$RESULTS/server.log

GATEWAY=${GATEWAY:-$ROOT/.venv/bin/gateway}
TOOLS_VENV=${TOOLS_VENV:-$ROOT/conformance/.venv-tools}
DRIVE_TIMEOUT=${DRIVE_TIMEOUT:-180}
START_TIMEOUT=${START_TIMEOUT:-15}
PYCALDAV_USER=${PYCALDAV_USER:-pycaldav}
PYCALDAV_PASS=${PYCALDAV_PASS:-secret}

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"

# --- a python with caldav ----------------------------------------------------------------------------------
has_caldav() { "$1" -c 'import caldav, icalendar' >/dev/null 2>&1; }
if [[ -z ${PYTHON:-} ]]; then
    if [[ -x $ROOT/.venv/bin/python ]] && has_caldav "$ROOT/.venv/bin/python"; then
        PYTHON=$ROOT/.venv/bin/python
    else
        # Not in the project venv (it was installed without the test extras): use the tools venv.
        if [[ ! -x $TOOLS_VENV/bin/python ]]; then
            python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
            python3 -m venv "$TOOLS_VENV" || die "could not create $TOOLS_VENV"
        fi
        PYTHON=$TOOLS_VENV/bin/python
        if ! has_caldav "$PYTHON"; then
            say "installing caldav into $TOOLS_VENV"
            "$PYTHON" -m pip install -q caldav icalendar 2>&1 | grep -v '^WARNING: Location' >&2 || true
        fi
    fi
fi
has_caldav "$PYTHON" || die "$PYTHON cannot import caldav"

mkdir -p "$RESULTS"
rm -f "$LOG" "$RESULTS/http.log" "$SERVER_LOG"

# --- the server --------------------------------------------------------------------------------------------
connect_gateway "${PYCALDAV_URL:-}" "$PYTHON" "$PYCALDAV_USER" "$PYCALDAV_PASS" pycaldav-gateway

# --- the drive ---------------------------------------------------------------------------------------------
say "driving python caldav ($("$PYTHON" -c 'import caldav; print(caldav.__version__)')) against $URL" \
    "(log: $HERE/results/drive.log, HTTP trace: $HERE/results/http.log)"
run_logged_step "$DRIVE_TIMEOUT" "$LOG" "$PYTHON" "$ROOT/$HERE/drive.py" --url "$URL" \
    --username "$PYCALDAV_USER" --password "$PYCALDAV_PASS" --results "$RESULTS"

# --- verdict -----------------------------------------------------------------------------------------------
run_judge "$PYTHON" "$LOG" "$EXPECTED" "$STEP_STATUS" "$DRIVE_TIMEOUT" <<'PY'
import re
import sys

log_path, expected_path, status, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
expected: set[str] = read_expected_failures(expected_path)
text = open(log_path, encoding="utf-8", errors="replace").read()
steps = re.findall(r"^(PASS|FAIL|SKIP) ([\w-]+)", text, re.M)
final = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", text, re.M)
bad = [(result, name) for result, name in steps if result != "PASS"]
problems = [f"{result} {name}" for result, name in bad if name not in expected]
for result, name in bad:
    if name in expected:
        print(f"expected failure: {name}")
for name in sorted(expected):
    if ("PASS", name) in steps:
        print(f"note: `{name}' is listed in expected-failures.txt but passed; remove it from the list")
if not final:
    problems.append("drive.py did not finish (no final count line)")
if status in (124, 137):
    problems.append(f"drive.py timed out after {timeout}s")
elif status not in (0, 1):
    problems.append(f"drive.py exited with status {status}")
elif status == 1 and not bad:
    problems.append("drive.py exited 1 without a failed step")
for problem in problems:
    print(f"unexpected: {problem}")
passed = sum(1 for result, _ in steps if result == "PASS")
verdict = "FAILED" if problems else "PASSED"
print(
    f"python-caldav-run: {verdict}: {len(steps)} steps, {passed} passed, {len(bad)} failed or skipped "
    f"({len(bad) - len([p for p in problems if p.startswith(('FAIL', 'SKIP'))])} expected); {len(problems)} problem(s)"
)
sys.exit(1 if problems else 0)
PY
