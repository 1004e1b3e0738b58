#!/usr/bin/env bash
# A vdirsyncer round trip of the .ics corpus (tests/fixtures/ics/) through a freshly started gateway:
# filesystem -> CalDAV -> a second, empty filesystem storage; then idempotence and a propagated change.
# roundtrip.py beside this script does the work and the comparison (see its docstring).
#
#   conformance/vdirsyncer/run.sh
#
# Environment:
#   GATEWAY            gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON             python used to create the tools venv (default: python3)
#   TOOLS_VENV         venv holding vdirsyncer (default: conformance/.venv-tools; created when missing)
#   VDIRSYNCER_VERSION vdirsyncer version to install (default: 0.21.0)
#   CORPUS             directory of .ics files (default: tests/fixtures/ics; read only)
#   ROUNDTRIP_TIMEOUT  seconds the whole round trip may take (default: 300)
#   VDS_URL            test an already running server at this URL instead of starting one (VDS_USER/VDS_PASS,
#                      default vdirsyncer/secret)
#   START_TIMEOUT      seconds to wait for the started server to answer (default: 15)
#
# Exit status: 0 when every failed check is listed in expected-failures.txt, 1 otherwise, 2 when the run
# cannot be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/vdirsyncer
RESULTS=$ROOT/$HERE/results
EXPECTED=$ROOT/$HERE/expected-failures.txt
LOG=$RESULTS/roundtrip.log
SERVER_LOG=$RESULTS/server.log

GATEWAY=${GATEWAY:-$ROOT/.venv/bin/gateway}
PYTHON=${PYTHON:-python3}
TOOLS_VENV=${TOOLS_VENV:-$ROOT/conformance/.venv-tools}
VDIRSYNCER_VERSION=${VDIRSYNCER_VERSION:-0.21.0}
CORPUS=${CORPUS:-$ROOT/tests/fixtures/ics}
ROUNDTRIP_TIMEOUT=${ROUNDTRIP_TIMEOUT:-300}
START_TIMEOUT=${START_TIMEOUT:-15}
VDS_USER=${VDS_USER:-vdirsyncer}
VDS_PASS=${VDS_PASS:-secret}

say() { printf 'vdirsyncer-run: %s\n' "$*"; }
die() {
    printf 'vdirsyncer-run: ERROR: %s\n' "$*" >&2
    exit 2
}

# --- the tools venv ----------------------------------------------------------------------------------------
apt_install() {
    local SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need the Debian package(s) $*, and we are not root"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q || die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y -q "$@" || die "apt-get install $* failed"
}

command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3
if [[ ! -x $TOOLS_VENV/bin/python ]]; then
    "$PYTHON" -m venv --help >/dev/null 2>&1 || apt_install python3-venv
    say "creating the tools venv $TOOLS_VENV"
    rm -rf "$TOOLS_VENV"
    "$PYTHON" -m venv "$TOOLS_VENV" || die "could not create $TOOLS_VENV"
    "$TOOLS_VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
fi
TOOLS_PY=$TOOLS_VENV/bin/python
if ! "$TOOLS_PY" - "$VDIRSYNCER_VERSION" <<'PY' 2>/dev/null; then
import importlib.metadata as metadata
import sys

assert metadata.version("vdirsyncer") == sys.argv[1]
import icalendar  # noqa: F401
PY
    say "installing vdirsyncer==$VDIRSYNCER_VERSION (and icalendar) into $TOOLS_VENV"
    "$TOOLS_PY" -m pip install -q "vdirsyncer==$VDIRSYNCER_VERSION" icalendar 2>&1 |
        grep -v '^WARNING: Location' >&2 || true
    "$TOOLS_PY" -c 'import vdirsyncer, icalendar' 2>/dev/null || die "could not install vdirsyncer into $TOOLS_VENV"
fi
VDIRSYNCER=$TOOLS_VENV/bin/vdirsyncer
[[ -x $VDIRSYNCER ]] || die "$VDIRSYNCER is missing after the install"
[[ -d $CORPUS ]] || die "corpus directory $CORPUS not found"

mkdir -p "$RESULTS"
rm -rf "$LOG" "$RESULTS/vdirsyncer.log" "$SERVER_LOG" "$RESULTS/up" "$RESULTS/down"

# --- the server --------------------------------------------------------------------------------------------
SERVER_PID=
DATA_DIR=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vdirsyncer-work.XXXXXX")
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
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Exit 0 as soon as the URL answers anything HTTP at all (401 and 404 included).
probe() {
    "$TOOLS_PY" - "$1" <<'PY' 2>/dev/null
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

if [[ -n ${VDS_URL:-} ]]; then
    URL=$VDS_URL
    say "using the already running server at $URL"
else
    [[ -x $GATEWAY ]] || die "gateway executable not found at $GATEWAY (pip install -e . into .venv, or set GATEWAY)"
    PORT=$("$TOOLS_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
        die "could not pick a free port"
    DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vdirsyncer-gateway.XXXXXX")
    URL=http://127.0.0.1:$PORT/

    if ! out=$(printf '%s\n' "$VDS_PASS" | "$GATEWAY" --data-dir "$DATA_DIR" user add "$VDS_USER" 2>&1); then
        printf '%s\n' "$out" >&2
        die "could not create user $VDS_USER with: $GATEWAY --data-dir $DATA_DIR user add $VDS_USER"
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

# --- the round trip ----------------------------------------------------------------------------------------
say "vdirsyncer $VDIRSYNCER_VERSION round trip of $(find "$CORPUS" -maxdepth 1 -name '*.ics' | wc -l) files" \
    "from ${CORPUS#"$ROOT"/} through $URL (log: $HERE/results/roundtrip.log, vdirsyncer's: vdirsyncer.log)"
set +e
timeout --kill-after=10 "$ROUNDTRIP_TIMEOUT" "$TOOLS_PY" "$ROOT/$HERE/roundtrip.py" --url "$URL" \
    --username "$VDS_USER" --password "$VDS_PASS" --corpus "$CORPUS" --work "$WORK" --results "$RESULTS" \
    --vdirsyncer "$VDIRSYNCER" </dev/null 2>&1 | tee "$LOG"
roundtrip_status=${PIPESTATUS[0]}
set -e

# --- verdict -----------------------------------------------------------------------------------------------
"$TOOLS_PY" - "$LOG" "$EXPECTED" "$roundtrip_status" "$ROUNDTRIP_TIMEOUT" <<'PY'
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
checks = re.findall(r"^(PASS|FAIL) (\S+?):?(?: |$)", text, re.M)
final = re.search(r"^(\d+) passed, (\d+) failed$", text, re.M)
failed = [name for result, name in checks if result == "FAIL"]
problems = [f"FAIL {name}" for name in failed if name not in expected]
for name in failed:
    if name in expected:
        print(f"expected failure: {name}")
for name in sorted(expected):
    if name not in failed:
        print(f"note: `{name}' is listed in expected-failures.txt but did not fail; remove it from the list")
if not final:
    problems.append("roundtrip.py did not finish (no final count line)")
if status in (124, 137):
    problems.append(f"roundtrip.py timed out after {timeout}s")
elif status not in (0, 1):
    problems.append(f"roundtrip.py exited with status {status}")
for problem in problems:
    print(f"unexpected: {problem}")
verdict = "FAILED" if problems else "PASSED"
print(
    f"vdirsyncer-run: {verdict}: {len(checks)} checks, {len(checks) - len(failed)} passed, {len(failed)} failed "
    f"({len(failed) - len([p for p in problems if p.startswith('FAIL')])} expected); {len(problems)} problem(s)"
)
sys.exit(1 if problems else 0)
PY
