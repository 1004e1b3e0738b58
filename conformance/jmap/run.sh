#!/usr/bin/env bash
# Drive the `jmapc` JMAP client library against a freshly started gateway (drive.py beside this script): session
# discovery through /.well-known/jmap, the role mailboxes, upload + Email/import, queries with and without
# collapseThreads, Email/get with body values, an attachment download, flag and move by Email/set patches, the
# mailbox counts, Thread/get, SearchSnippet/get, Email/changes and queryChanges, Identity/get, and a StateChange
# pushed over the event source.
#
#   conformance/jmap/run.sh
#
# jmapc only speaks https, so drive.py puts a TLS front (self-signed, trusted for the run only) on a second free
# port, and the gateway runs with base_url https://127.0.0.1:THAT_PORT, as behind a reverse proxy.
#
# Environment:
#   GATEWAY        gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON         python that has jmapc (default: .venv/bin/python, where `make` installs it with the test extras)
#   DRIVE_TIMEOUT  seconds drive.py may take (default: 120)
#   JMAP_URL       test an already running server at this https:// URL (behind its TLS proxy; set REQUESTS_CA_BUNDLE
#                  for a private CA) instead of starting one (JMAP_USER / JMAP_PASS, default jmapc/secret; the
#                  account's mailboxes must be empty)
#   START_TIMEOUT  seconds to wait for the started server to answer (default: 15)
#
# Exit status: 0 when every failed check is listed in expected-failures.txt, 1 otherwise, 2 when the run cannot
# be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/jmap

PYTHON=${PYTHON:-$ROOT/.venv/bin/python}

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"
runner_defaults drive.log

DRIVE_TIMEOUT=${DRIVE_TIMEOUT:-120}
JMAP_USER=${JMAP_USER:-jmapc}
JMAP_PASS=${JMAP_PASS:-secret}

require_python "jmapc, cryptography" jmapc

mkdir -p "$RESULTS"
rm -f "$LOG" "$RESULTS/http.log" "$RESULTS/events.log" "$SERVER_LOG"

# --- the server, with https URLs in its session --------------------------------------------------------------
TLS_PORT=0
if [[ -n ${JMAP_URL:-} ]]; then
    [[ $JMAP_URL == https://* ]] || die "JMAP_URL must be https:// (jmapc speaks nothing else): $JMAP_URL"
else
    TLS_PORT=$(free_port "$PYTHON") || die "could not pick a free port for the TLS front"
    export GATEWAY_BASE_URL=https://127.0.0.1:$TLS_PORT
fi
connect_gateway "${JMAP_URL:-}" "$PYTHON" "$JMAP_USER" "$JMAP_PASS" jmap-gateway

# --- the drive -----------------------------------------------------------------------------------------------
say "driving jmapc $("$PYTHON" -c 'import jmapc; print(jmapc.version)') against $URL" \
    "(log: $HERE/results/drive.log, HTTP trace: http.log, push events: events.log)"
run_logged_step "$DRIVE_TIMEOUT" "$LOG" "$PYTHON" "$ROOT/$HERE/drive.py" --url "$URL" --username "$JMAP_USER" \
    --password "$JMAP_PASS" --results "$RESULTS" --tls-port "$TLS_PORT"

# --- verdict -------------------------------------------------------------------------------------------------
judge_checks_log "$PYTHON" "$LOG" "$EXPECTED" "$STEP_STATUS" "$DRIVE_TIMEOUT" drive.py
