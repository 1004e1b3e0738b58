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

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"
runner_defaults roundtrip.log

VDIRSYNCER_VERSION=${VDIRSYNCER_VERSION:-0.21.0}
CORPUS=${CORPUS:-$ROOT/tests/fixtures/ics}
ROUNDTRIP_TIMEOUT=${ROUNDTRIP_TIMEOUT:-300}
VDS_USER=${VDS_USER:-vdirsyncer}
VDS_PASS=${VDS_PASS:-secret}

# --- the tools venv ----------------------------------------------------------------------------------------
ensure_tools_venv
if ! "$TOOLS_PY" - "$VDIRSYNCER_VERSION" <<'PY' 2>/dev/null; then
import importlib.metadata as metadata
import sys

assert metadata.version("vdirsyncer") == sys.argv[1]
import icalendar  # noqa: F401
PY
    pip_install_tools "vdirsyncer==$VDIRSYNCER_VERSION (and icalendar)" vdirsyncer "vdirsyncer, icalendar" \
        "vdirsyncer==$VDIRSYNCER_VERSION" icalendar
fi
VDIRSYNCER=$TOOLS_VENV/bin/vdirsyncer
[[ -x $VDIRSYNCER ]] || die "$VDIRSYNCER is missing after the install"
prepare_roundtrip

# --- the server --------------------------------------------------------------------------------------------
connect_gateway "${VDS_URL:-}" "$TOOLS_PY" "$VDS_USER" "$VDS_PASS" vdirsyncer-gateway

# --- the round trip, then the verdict ----------------------------------------------------------------------
say "vdirsyncer $VDIRSYNCER_VERSION round trip of $(find "$CORPUS" -maxdepth 1 -name '*.ics' | wc -l) files" \
    "from ${CORPUS#"$ROOT"/} through $URL (log: $HERE/results/roundtrip.log, vdirsyncer's: vdirsyncer.log)"
run_roundtrip "$VDS_USER" "$VDS_PASS"
