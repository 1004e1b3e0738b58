#!/usr/bin/env bash
# A vdirsyncer round trip of the .vcf corpus (tests/fixtures/vcf/) through a freshly started gateway:
# filesystem -> CardDAV -> a second, empty filesystem storage; then idempotence, a propagated edit, and khard
# listing the downloaded address book. roundtrip.py beside this script does the work and the comparison (see its
# docstring).
#
#   conformance/vdirsyncer-carddav/run.sh
#
# Environment:
#   GATEWAY            gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON             python used to create the tools venv (default: python3)
#   TOOLS_VENV         venv holding vdirsyncer and khard (default: conformance/.venv-tools; created when missing)
#   VDIRSYNCER_VERSION vdirsyncer version to install (default: 0.21.0)
#   KHARD_VERSION      khard version to install (default: 0.22.0)
#   CORPUS             directory of .vcf files (default: tests/fixtures/vcf; read only)
#   ROUNDTRIP_TIMEOUT  seconds the whole round trip may take (default: 300)
#   CARDDAV_URL        test an already running server at this URL instead of starting one (CARDDAV_USER /
#                      CARDDAV_PASS, default vdirsyncer/secret; the user's address book `contacts` is used)
#   START_TIMEOUT      seconds to wait for the started server to answer (default: 15)
#
# Exit status: 0 when every failed check is listed in expected-failures.txt, 1 otherwise, 2 when the run
# cannot be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/vdirsyncer-carddav

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"
runner_defaults roundtrip.log

VDIRSYNCER_VERSION=${VDIRSYNCER_VERSION:-0.21.0}
KHARD_VERSION=${KHARD_VERSION:-0.22.0}
CORPUS=${CORPUS:-$ROOT/tests/fixtures/vcf}
ROUNDTRIP_TIMEOUT=${ROUNDTRIP_TIMEOUT:-300}
CARDDAV_USER=${CARDDAV_USER:-vdirsyncer}
CARDDAV_PASS=${CARDDAV_PASS:-secret}

# --- the tools venv ----------------------------------------------------------------------------------------
ensure_tools_venv
if ! "$TOOLS_PY" - "$VDIRSYNCER_VERSION" "$KHARD_VERSION" <<'PY' 2>/dev/null; then
import importlib.metadata as metadata
import sys

assert metadata.version("vdirsyncer") == sys.argv[1]
assert metadata.version("khard") == sys.argv[2]
PY
    pip_install_tools "vdirsyncer==$VDIRSYNCER_VERSION and khard==$KHARD_VERSION" "vdirsyncer and khard" \
        "vdirsyncer, khard" "vdirsyncer==$VDIRSYNCER_VERSION" "khard==$KHARD_VERSION"
fi
VDIRSYNCER=$TOOLS_VENV/bin/vdirsyncer
KHARD=$TOOLS_VENV/bin/khard
[[ -x $VDIRSYNCER ]] || die "$VDIRSYNCER is missing after the install"
[[ -x $KHARD ]] || die "$KHARD is missing after the install"
prepare_roundtrip

# --- the server --------------------------------------------------------------------------------------------
connect_gateway "${CARDDAV_URL:-}" "$TOOLS_PY" "$CARDDAV_USER" "$CARDDAV_PASS" vdirsyncer-carddav-gateway

# --- the round trip, then the verdict ----------------------------------------------------------------------
say "vdirsyncer $VDIRSYNCER_VERSION + khard $KHARD_VERSION round trip of" \
    "$(find "$CORPUS" -maxdepth 1 -name '*.vcf' | wc -l) files from ${CORPUS#"$ROOT"/} through $URL" \
    "(log: $HERE/results/roundtrip.log, vdirsyncer's and khard's: vdirsyncer.log)"
say "multi-card exports are split into single cards, cards without UID get one, vCard 2.1 is converted to 3.0," \
    "as an importing client does; the original bytes are PUT directly and must be refused as documented"
run_roundtrip "$CARDDAV_USER" "$CARDDAV_PASS" --khard "$KHARD"
