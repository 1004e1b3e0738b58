# shellcheck shell=bash
# Shared helpers of the conformance runners (conformance/*/run.sh): messages, Debian packages, the tools venv,
# and a throw-away gateway on a free loopback port that is stopped (by its PID only) when the runner exits.
#
# Source it after setting ROOT (the repository), HERE (conformance/<suite>), SERVER_LOG, GATEWAY and
# START_TIMEOUT (or set those last three, with RESULTS, EXPECTED, LOG, PYTHON and TOOLS_VENV, by calling
# runner_defaults right after sourcing it). Messages are prefixed with "<suite>-run:". Functions that start or find things set globals:
# PORT, DATA_DIR, SERVER_PID (start_gateway), URL and LOCAL (connect_gateway), TOOLS_PY (ensure_tools_venv),
# STEP_STATUS (run_logged_step), WORK (prepare_roundtrip).

# shellcheck disable=SC2154 # ROOT, HERE, SERVER_LOG, GATEWAY and START_TIMEOUT come from the sourcing runner.

SERVER_PID=
DATA_DIR=
CLEANUP_PATHS=() # further temporary paths the runner wants removed on exit

# runner_defaults LOG_NAME: the usual settings of a runner, after ROOT and HERE: RESULTS ($HERE/results),
# EXPECTED ($HERE/expected-failures.txt), LOG (results/LOG_NAME), SERVER_LOG (results/server.log), and GATEWAY,
# PYTHON, TOOLS_VENV and START_TIMEOUT from the environment or their defaults.
# shellcheck disable=SC2034 # used by the sourcing runner
runner_defaults() {
    RESULTS=$ROOT/$HERE/results
    EXPECTED=$ROOT/$HERE/expected-failures.txt
    LOG=$RESULTS/$1
    SERVER_LOG=$RESULTS/server.log
    GATEWAY=${GATEWAY:-$ROOT/.venv/bin/gateway}
    PYTHON=${PYTHON:-python3}
    TOOLS_VENV=${TOOLS_VENV:-$ROOT/conformance/.venv-tools}
    START_TIMEOUT=${START_TIMEOUT:-15}
}

# Print a progress message, prefixed with the suite name.
say() { printf '%s-run: %s\n' "${HERE##*/}" "$*"; }

# Print an error and exit 2 (the run could not be set up).
die() {
    printf '%s-run: ERROR: %s\n' "${HERE##*/}" "$*" >&2
    exit 2
}

# Install Debian packages with apt-get (through sudo when not root); dies when that is impossible.
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

# Make sure the tools venv $TOOLS_VENV exists (created with $PYTHON, installing python3/python3-venv when
# missing) and set TOOLS_PY to its python.
ensure_tools_venv() {
    command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3
    if [[ ! -x $TOOLS_VENV/bin/python ]]; then
        "$PYTHON" -m venv --help >/dev/null 2>&1 || apt_install python3-venv
        say "creating the tools venv $TOOLS_VENV"
        rm -rf "$TOOLS_VENV"
        "$PYTHON" -m venv "$TOOLS_VENV" || die "could not create $TOOLS_VENV"
        "$TOOLS_VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    fi
    # shellcheck disable=SC2034 # used by the sourcing runner
    TOOLS_PY=$TOOLS_VENV/bin/python
}

# exited_within_5s PID: wait up to 5 s for the process PID to exit; fails when it still runs then.
exited_within_5s() {
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$1" 2>/dev/null
}

# Stop the server this runner started (SERVER_PID only): SIGTERM, up to 5 s grace, then SIGKILL.
stop_server() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        if ! exited_within_5s "$SERVER_PID"; then
            say "server (pid $SERVER_PID) ignored SIGTERM, killing it"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}

# EXIT trap: stop the server, remove its data dir and the paths in CLEANUP_PATHS.
cleanup() {
    stop_server
    if [[ -n $DATA_DIR ]]; then rm -rf "$DATA_DIR"; fi
    if ((${#CLEANUP_PATHS[@]})); then rm -rf "${CLEANUP_PATHS[@]}"; fi
}

# install_cleanup_traps HANDLER: run the function HANDLER (cleanup, or a runner's own that calls it) on exit, and
# exit 130/143 on SIGINT/SIGTERM (which runs it too).
install_cleanup_traps() {
    # shellcheck disable=SC2064 # the handler's name is meant to expand now
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# probe PYTHON URL: exit 0 as soon as the URL answers anything HTTP at all (401 and 404 included).
probe() {
    "$1" - "$2" <<'PY' 2>/dev/null
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

# free_port PYTHON: print a free port on 127.0.0.1.
free_port() {
    "$1" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# require_python IMPORTS WHAT: die unless $PYTHON (the project venv's) exists and imports IMPORTS (a
# comma-separated module list); WHAT names them in the message.
require_python() {
    [[ -x $PYTHON ]] || die "$PYTHON not found (run make to create .venv, or set PYTHON)"
    "$PYTHON" -c "import $1" >/dev/null 2>&1 || die "$PYTHON cannot import $2 (pip install -e '.[test]' into .venv)"
}

# add_gateway_user PASS ARGS...: `$GATEWAY --data-dir $DATA_DIR user add ARGS...` with PASS on stdin; shows its
# output and fails when it fails.
add_gateway_user() {
    local pass=$1 out
    shift
    if ! out=$(printf '%s\n' "$pass" | "$GATEWAY" --data-dir "$DATA_DIR" user add "$@" 2>&1); then
        printf '%s\n' "$out" >&2
        return 1
    fi
}

# wait_for_gateway PYTHON: wait up to START_TIMEOUT seconds until the server SERVER_PID, started on PORT, answers;
# dies (showing the server log's tail) when it exits before or does not answer in time.
wait_for_gateway() {
    local python=$1 status deadline
    deadline=$((SECONDS + START_TIMEOUT))
    until probe "$python" "http://127.0.0.1:$PORT/"; do
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
}

# start_gateway PYTHON USER PASS TMP_PREFIX: pick a free loopback PORT, make a temporary DATA_DIR
# ($TMPDIR/TMP_PREFIX.XXXXXX), add USER (password PASS on stdin), start `gateway serve` in the background
# (SERVER_PID, output in SERVER_LOG) and wait up to START_TIMEOUT seconds until it answers; dies (showing the
# server log's tail) when any of that fails.
start_gateway() {
    local python=$1 user=$2 pass=$3 prefix=$4
    [[ -x $GATEWAY ]] || die "gateway executable not found at $GATEWAY (pip install -e . into .venv, or set GATEWAY)"
    PORT=$(free_port "$python") || die "could not pick a free port"
    DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$prefix.XXXXXX")
    add_gateway_user "$pass" "$user" ||
        die "could not create user $user with: $GATEWAY --data-dir $DATA_DIR user add $user"

    say "starting $GATEWAY serve on 127.0.0.1:$PORT (log: $HERE/results/server.log)"
    "$GATEWAY" --data-dir "$DATA_DIR" serve --listen "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 </dev/null &
    SERVER_PID=$!
    wait_for_gateway "$python"
}

# connect_gateway EXISTING_URL PYTHON USER PASS TMP_PREFIX [URL_PATH]: install the cleanup traps, then use the
# already running server at EXISTING_URL when it is not empty (LOCAL=0), else start one with start_gateway and
# set URL to http://127.0.0.1:$PORT/URL_PATH (LOCAL=1).
# shellcheck disable=SC2034 # URL and LOCAL are used by the sourcing runner
connect_gateway() {
    install_cleanup_traps cleanup
    if [[ -n $1 ]]; then
        URL=$1
        LOCAL=0
        say "using the already running server at $URL"
    else
        start_gateway "$2" "$3" "$4" "$5"
        URL=http://127.0.0.1:$PORT/${6:-}
        LOCAL=1
    fi
}

# Python put before every judge script run_judge runs.
JUDGE_PRELUDE='def read_expected_failures(path):
    """The names listed in an expected-failures.txt file, one a line; "#" starts a comment."""
    with open(path, encoding="utf-8") as handle:
        return {name for name in (line.split("#", 1)[0].strip() for line in handle) if name}
'

# run_judge PYTHON ARGS... <SCRIPT: run the Python SCRIPT (stdin) with ARGS, after JUDGE_PRELUDE, which gives
# it read_expected_failures(path); exits with the script's status.
run_judge() {
    local python=$1
    shift
    "$python" - "$@" < <(printf '%s\n' "$JUDGE_PRELUDE" && cat)
}

# pip_install_tools INSTALLING FAILED IMPORTS PACKAGE...: pip install the PACKAGEs into the tools venv (TOOLS_PY,
# see ensure_tools_venv), saying "installing INSTALLING"; dies ("could not install FAILED") when python cannot
# import IMPORTS (a comma-separated module list) afterwards.
pip_install_tools() {
    local installing=$1 failed=$2 imports=$3
    shift 3
    say "installing $installing into $TOOLS_VENV"
    "$TOOLS_PY" -m pip install -q "$@" 2>&1 | grep -v '^WARNING: Location' >&2 || true
    "$TOOLS_PY" -c "import $imports" 2>/dev/null || die "could not install $failed into $TOOLS_VENV"
}

# run_logged_step TIMEOUT LOG COMMAND...: run COMMAND (stdin /dev/null, stderr into stdout) for at most TIMEOUT
# seconds (then SIGTERM, SIGKILL 10 s later), showing its output and writing it to LOG; sets STEP_STATUS to its
# exit status (124 or 137 when it timed out) and never fails itself.
run_logged_step() {
    local timeout=$1 log=$2 errexit=0
    shift 2
    [[ $- == *e* ]] && errexit=1
    set +e
    timeout --kill-after=10 "$timeout" "$@" </dev/null 2>&1 | tee "$log"
    # shellcheck disable=SC2034 # used by the sourcing runner
    STEP_STATUS=${PIPESTATUS[0]}
    ((errexit)) && set -e
    return 0
}

# judge_checks_log PYTHON LOG EXPECTED STATUS TIMEOUT SCRIPT: the verdict on a log of "PASS name" / "FAIL name"
# lines ending in "N passed, M failed", written by SCRIPT, which exited with STATUS (124/137: killed after
# TIMEOUT seconds). Every failure must be listed in EXPECTED (expected-failures.txt); prints the expected
# failures, notes on listed names that did not fail, the unexpected problems and a "<suite>-run: PASSED|FAILED"
# line; exits 0 when there is no problem, 1 otherwise.
judge_checks_log() {
    run_judge "$1" "$2" "$3" "$4" "$5" "$6" "${HERE##*/}" <<'PY'
import re
import sys

log_path, expected_path, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
timeout, script, suite = sys.argv[4], sys.argv[5], sys.argv[6]
expected: set[str] = read_expected_failures(expected_path)
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
    problems.append(f"{script} did not finish (no final count line)")
if status in (124, 137):
    problems.append(f"{script} timed out after {timeout}s")
elif status not in (0, 1):
    problems.append(f"{script} exited with status {status}")
for problem in problems:
    print(f"unexpected: {problem}")
verdict = "FAILED" if problems else "PASSED"
print(
    f"{suite}-run: {verdict}: {len(checks)} checks, {len(checks) - len(failed)} passed, {len(failed)} failed "
    f"({len(failed) - len([p for p in problems if p.startswith('FAIL')])} expected); {len(problems)} problem(s)"
)
sys.exit(1 if problems else 0)
PY
}

# --- the vdirsyncer round trips (vdirsyncer/, vdirsyncer-carddav/) ------------------------------------------------
# prepare_roundtrip: check CORPUS, empty the round trip's results (LOG, vdirsyncer.log, SERVER_LOG, up/, down/) and
# make its temporary WORK directory ($TMPDIR/<suite>-work.XXXXXX, removed on exit).
prepare_roundtrip() {
    [[ -d $CORPUS ]] || die "corpus directory $CORPUS not found"
    mkdir -p "$RESULTS"
    rm -rf "$LOG" "$RESULTS/vdirsyncer.log" "$SERVER_LOG" "$RESULTS/up" "$RESULTS/down"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/${HERE##*/}-work.XXXXXX")
    CLEANUP_PATHS+=("$WORK")
}

# run_roundtrip USER PASS [ARGS...]: run roundtrip.py beside the runner with the tools venv's python (at most
# ROUNDTRIP_TIMEOUT seconds, output in LOG) against URL as USER with the options every round trip takes and ARGS,
# then judge its log (judge_checks_log).
run_roundtrip() {
    local user=$1 pass=$2
    shift 2
    run_logged_step "$ROUNDTRIP_TIMEOUT" "$LOG" "$TOOLS_PY" "$ROOT/$HERE/roundtrip.py" --url "$URL" \
        --username "$user" --password "$pass" --corpus "$CORPUS" --work "$WORK" --results "$RESULTS" \
        --vdirsyncer "$VDIRSYNCER" "$@"
    judge_checks_log "$TOOLS_PY" "$LOG" "$EXPECTED" "$STEP_STATUS" "$ROUNDTRIP_TIMEOUT" roundtrip.py
}
