#!/usr/bin/env bash
# Run every third-party conformance suite against its own freshly started gateway, one after the other:
# litmus (WebDAV), caldav-server-tester, python-caldav, vdirsyncer (CalDAV), vdirsyncer-carddav (CardDAV, with
# khard), jmap (the jmapc client library), postfix (a real Postfix delivering over LMTP and relaying). A failing
# suite does not stop the others.
#
#   conformance/run-all.sh              # all suites
#   SUITES="litmus vdirsyncer" conformance/run-all.sh
#
# Prints each suite's output, then one verdict line per suite; exits 0 only when every suite passed
# (1 when one failed, 2 when one could not be set up; the highest status wins).
set -euo pipefail

cd "$(dirname "$0")/.."
SUITES=${SUITES:-litmus caldav-server-tester python-caldav vdirsyncer vdirsyncer-carddav jmap postfix}

declare -a verdicts=()
worst=0
for suite in $SUITES; do
    script=conformance/$suite/run.sh
    printf '\n===== %s (%s) =====\n' "$suite" "$script"
    if [[ ! -f $script ]]; then
        verdicts+=("$(printf '%-22s ERROR    no %s' "$suite" "$script")")
        worst=2
        continue
    fi
    started=$SECONDS
    status=0
    bash "$script" </dev/null || status=$?
    elapsed=$((SECONDS - started))
    case $status in
    0) verdict=PASSED ;;
    1) verdict=FAILED ;;
    2) verdict="SETUP-ERROR" ;;
    *) verdict="FAILED" ;;
    esac
    verdicts+=("$(printf '%-22s %-11s exit %d, %ds; results in conformance/%s/results/' \
        "$suite" "$verdict" "$status" "$elapsed" "$suite")")
    if ((status != 0)); then
        ((status == 2)) && ((worst < 2)) && worst=2
        ((worst < 1)) && worst=1
    fi
done

printf '\n===== conformance summary =====\n'
printf '%s\n' "${verdicts[@]}"
if ((worst == 0)); then
    echo "conformance: PASSED: every suite passed"
else
    echo "conformance: FAILED: see the suites above"
fi
exit "$worst"
