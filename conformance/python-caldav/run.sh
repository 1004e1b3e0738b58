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

say() { printf 'python-caldav-run: %s\n' "$*"; }
die() {
    printf 'python-caldav-run: ERROR: %s\n' "$*" >&2
    exit 2
}

# --- a python with caldav ----------------------------------------------------------------------------------
has_caldav() { "$1" -c 'import caldav, icalendar' >/dev/null 2>&1; }
if [[ -z ${PYTHON:-} ]]; then
    if [[ -x $ROOT/.venv/bin/python ]] && has_caldav "$ROOT/.venv/bin/python"; then
        PYTHON=$ROOT/.venv/bin/python
    else
        # Not in the project venv (it was installed without the test extras): use the tools venv.
        if [[ ! -x $TOOLS_VENV/bin/python ]]; then
            if ! python3 -m venv --help >/dev/null 2>&1; then
                SUDO=()
                [[ $(id -u) -eq 0 ]] || SUDO=(sudo)
                if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get update -q ||
                    ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q python3-venv; then
                    die "could not install python3-venv"
                fi
            fi
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
SERVER_PID=
DATA_DIR=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            say "server (pid $SERVER_PID) ignored SIGTERM, killing it"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n $DATA_DIR ]]; then rm -rf "$DATA_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Exit 0 as soon as the URL answers anything HTTP at all (401 and 404 included).
probe() {
    "$PYTHON" - "$1" <<'PY' 2>/dev/null
import sys
import urllib.error
import urllib.request

try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
PY
}

if [[ -n ${PYCALDAV_URL:-} ]]; then
    URL=$PYCALDAV_URL
    say "using the already running server at $URL"
else
    [[ -x $GATEWAY ]] || die "gateway executable not found at $GATEWAY (pip install -e . into .venv, or set GATEWAY)"
    PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
        die "could not pick a free port"
    DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pycaldav-gateway.XXXXXX")
    URL=http://127.0.0.1:$PORT/

    if ! out=$(printf '%s\n' "$PYCALDAV_PASS" | "$GATEWAY" --data-dir "$DATA_DIR" user add "$PYCALDAV_USER" 2>&1); then
        printf '%s\n' "$out" >&2
        die "could not create user $PYCALDAV_USER with: $GATEWAY --data-dir $DATA_DIR user add $PYCALDAV_USER"
    fi

    say "starting $GATEWAY serve on 127.0.0.1:$PORT (log: $HERE/results/server.log)"
    "$GATEWAY" --data-dir "$DATA_DIR" serve --listen "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 </dev/null &
    SERVER_PID=$!

    deadline=$((SECONDS + START_TIMEOUT))
    until probe "$URL"; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            status=0
            wait "$SERVER_PID" || status=$?
            SERVER_PID=
            tail -n 20 "$SERVER_LOG" >&2 || true
            die "the server exited (status $status) before answering; see $HERE/results/server.log"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 20 "$SERVER_LOG" >&2 || true
            die "the server did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s"
        fi
        sleep 0.25
    done
    say "server is up (pid $SERVER_PID)"
fi

# --- the drive ---------------------------------------------------------------------------------------------
say "driving python caldav ($("$PYTHON" -c 'import caldav; print(caldav.__version__)')) against $URL" \
    "(log: $HERE/results/drive.log, HTTP trace: $HERE/results/http.log)"
set +e
timeout --kill-after=10 "$DRIVE_TIMEOUT" "$PYTHON" "$ROOT/$HERE/drive.py" --url "$URL" \
    --username "$PYCALDAV_USER" --password "$PYCALDAV_PASS" --results "$RESULTS" </dev/null 2>&1 | tee "$LOG"
drive_status=${PIPESTATUS[0]}
set -e

# --- verdict -----------------------------------------------------------------------------------------------
"$PYTHON" - "$LOG" "$EXPECTED" "$drive_status" "$DRIVE_TIMEOUT" <<'PY'
import re
import sys

log_path, expected_path, status, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
expected: set[str] = set()
with open(expected_path, encoding="utf-8") as handle:
    for line in handle:
        name = line.split("#", 1)[0].strip()
        if name:
            expected.add(name)
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
