#!/usr/bin/env bash
# Mail through a real Postfix: delivery over LMTP into the gateway and submission from the gateway, end to end
# (drive.py beside this script).
#
#   conformance/postfix/run.sh
#
# Installs the Debian package postfix when missing (preseeded "No configuration", so the package sets up no system
# instance and starts nothing), then runs a private Postfix instance: its own config directory and queue directory
# under a temporary directory, listening only on 127.0.0.1 high ports, no DNS, short queue timers, its log in
# results/postfix.log. Postfix takes example.org and catchall.example (virtual_mailbox_domains) and hands them to
# the gateway over LMTP; a second smtpd service is the gateway's relay (smtp.relay), a third rejects unknown
# recipients with address verification. The test domain sink.example goes to an LMTP sink that drive.py runs
# itself, which checks the Postfix side alone. A throw-away gateway serves the users alice
# (alice@example.org), bob (bob@example.org, alias robert@example.org) and dave (dave@catchall.example and the
# catch-all @catchall.example).
#
# Both are stopped at exit: the gateway by its PID, Postfix with `postfix -c CONF stop` (then its master PID); the
# instance runs under a small reaper so that no process of it outlives the run, not even as a zombie. Nothing else
# is touched: no system Postfix, no /etc/postfix/main.cf.
#
# Environment:
#   GATEWAY        gateway executable (default: .venv/bin/gateway of this repository)
#   PYTHON         python that has httpx and aiosmtpd (default: .venv/bin/python, where `make` installs them)
#   DRIVE_TIMEOUT  seconds drive.py may take (default: 150)
#   START_TIMEOUT  seconds to wait for the gateway and for Postfix to answer (default: 15)
#
# Exit status: 0 when every failed check is listed in expected-failures.txt, 1 otherwise, 2 when the run cannot
# be set up.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=conformance/postfix

PYTHON=${PYTHON:-$ROOT/.venv/bin/python}

# shellcheck source=conformance/lib.sh
source "$ROOT/conformance/lib.sh"
runner_defaults drive.log

DRIVE_TIMEOUT=${DRIVE_TIMEOUT:-150}
PASSWORD=secret
POSTFIX_LOG=$RESULTS/postfix.log
POSTFIX=/usr/sbin/postfix
POSTCONF=/usr/sbin/postconf

WORK= # the instance's directory: conf/ (main.cf, master.cf), queue/, data/
CONF=
QUEUE=
REAPER_PID=

require_python "httpx, aiosmtpd" "httpx and aiosmtpd"

mkdir -p "$RESULTS"
rm -f "$LOG" "$SERVER_LOG" "$POSTFIX_LOG" "$RESULTS"/http.log "$RESULTS"/postconf-*.txt "$RESULTS"/postfix-start.log

# --- Postfix, the Debian package ------------------------------------------------------------------------------
# The pid of the system instance's master, when one runs (its pid file holds it, and the process is a master).
system_master_pid() {
    local pid
    pid=$(sed -n '1s/ //gp' /var/spool/postfix/pid/master.pid 2>/dev/null) || return 0
    if [[ -n $pid ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == master ]]; then
        printf '%s\n' "$pid"
    fi
}

if [[ ! -x $POSTFIX ]] || ! id postfix >/dev/null 2>&1; then
    before=$(system_master_pid)
    say "installing the Debian package postfix (preseeded: No configuration)"
    started=$SECONDS
    if [[ $(id -u) -eq 0 ]]; then
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    elif command -v sudo >/dev/null 2>&1; then
        echo "postfix postfix/main_mailer_type select No configuration" | sudo debconf-set-selections
    fi
    apt_install postfix
    say "postfix installed in $((SECONDS - started))s"
    [[ -x $POSTFIX ]] || die "apt-get install postfix left no $POSTFIX"
    # "No configuration" writes no /etc/postfix/main.cf, so the system instance cannot start; should a postinst
    # have started one all the same, stop that instance (and only when it was not running before we installed).
    after=$(system_master_pid)
    if [[ -n $after && -z $before ]]; then
        say "the package started the system Postfix (master pid $after); stopping it"
        "$POSTFIX" stop >/dev/null 2>&1 || kill -TERM "$after" 2>/dev/null || true
    fi
fi
say "Postfix $("$POSTCONF" -d -h mail_version 2>/dev/null || echo '(version unknown)')"

# --- ports, the instance's directory ---------------------------------------------------------------------------
read -r PORT LMTP_PORT SMTP_PORT SUBMISSION_PORT VERIFY_PORT SINK_PORT < <("$PYTHON" - <<'PY'
import socket

sockets = [socket.socket() for _ in range(6)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
PY
) || die "could not pick free ports"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/postfix-conformance.XXXXXX")
CONF=$WORK/conf
QUEUE=$WORK/queue
# Postfix's daemons run as the postfix user and must reach the queue, so the whole path is traversable; the
# configuration is root's and not writable by anyone else (`postfix check` insists).
chmod 755 "$WORK"
mkdir -m 755 "$CONF" "$QUEUE"
mkdir -m 700 "$WORK/data"
chown postfix: "$WORK/data"

# --- cleanup: Postfix, then the gateway and the temporary directories -----------------------------------------
stop_postfix() {
    [[ -n $CONF && -n $REAPER_PID ]] || return 0
    local pid
    pid=$(sed -n '1s/ //gp' "$QUEUE/pid/master.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        "$POSTFIX" -c "$CONF" stop >/dev/null 2>&1 || true
        if ! exited_within_5s "$pid"; then
            say "Postfix master (pid $pid) still runs 5s after postfix stop; killing it"
            "$POSTFIX" -c "$CONF" abort >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # The reaper leaves once every process of the instance has exited; give the daemons a moment to finish.
    if ! exited_within_5s "$REAPER_PID"; then
        # The reaper's remaining children are processes of our instance only (it started nothing else).
        local children
        children=$(cat "/proc/$REAPER_PID/task/$REAPER_PID/children" 2>/dev/null || true)
        say "processes of our Postfix instance remain (${children:-none listed}); ending them"
        # shellcheck disable=SC2086 # a list of pids
        [[ -z $children ]] || kill -TERM $children 2>/dev/null || true
        sleep 0.5
        kill -TERM "$REAPER_PID" 2>/dev/null || true
    fi
    wait "$REAPER_PID" 2>/dev/null || true
    REAPER_PID=
}

postfix_cleanup() {
    stop_postfix
    cleanup # lib.sh: the gateway, its data dir, CLEANUP_PATHS
}
install_cleanup_traps postfix_cleanup
CLEANUP_PATHS+=("$WORK")

# --- the instance's configuration --------------------------------------------------------------------------------
# main.cf: nothing is delivered locally (mydestination empty); example.org is a virtual mailbox domain whose mail
# goes to the gateway over LMTP, sink.example goes to drive.py's LMTP sink. No DNS: next hops are IP addresses.
cat >"$CONF/main.cf" <<EOF
# A private Postfix instance for conformance/postfix (written by run.sh; removed after the run).
compatibility_level = 3.6
queue_directory = $QUEUE
data_directory = $WORK/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop

# Log to a file: there may be no syslog.
maillog_file = $POSTFIX_LOG
maillog_file_prefixes = $RESULTS

# Loopback only; nothing is delivered locally.
myhostname = mx.postfix-conformance.test
mydomain = postfix-conformance.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
smtpd_banner = \$myhostname ESMTP Postfix (conformance)
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination

# The gateway's domains (catchall.example has a catch-all account): delivered over LMTP (no recipient map: the gateway's LMTP answers 550 5.1.1 for unknown
# addresses, and Postfix bounces them). sink.example: drive.py's own LMTP sink, to check Postfix alone.
virtual_mailbox_domains = example.org, catchall.example, sink.example
virtual_mailbox_maps =
virtual_alias_maps =
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
transport_maps = texthash:$CONF/transport
lmtp_destination_recipient_limit = 50
lmtp_destination_concurrency_limit = 4
lmtp_tls_security_level = none

# No DNS and no reverse lookups: every next hop is a literal address.
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no

# Deferred mail is retried within seconds, not minutes.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 10m
bounce_queue_lifetime = 10m
in_flow_delay = 0

# Address verification (the verifying smtpd of master.cf): probes ask the gateway over LMTP, answers come fast.
unverified_recipient_reject_code = 550
address_verify_poll_delay = 1s
address_verify_poll_count = 5
EOF
printf 'sink.example lmtp:inet:127.0.0.1:%s\n' "$SINK_PORT" >"$CONF/transport"

# master.cf: three smtpd services: the inbound one (mail from the world, here drive.py), the one the gateway relays
# through (as in examples/postfix/master.cf) and an inbound one that rejects unknown recipients with address
# verification (as examples/postfix/main.cf recommends); no chroot (the queue is a temporary directory), only the
# daemons this needs.
cat >"$CONF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/gateway-relay
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_sasl_auth_enable=no
  -o smtpd_tls_security_level=none
127.0.0.1:$VERIFY_PORT inet n - n - - smtpd
  -o syslog_name=postfix/verifying-smtpd
  -o smtpd_recipient_restrictions=reject_unauth_destination,reject_unverified_recipient
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
"$POSTCONF" -c "$CONF" -n >"$RESULTS/postconf-n.txt" 2>&1 || die "postconf -c $CONF -n rejects main.cf"
"$POSTCONF" -c "$CONF" -M >"$RESULTS/postconf-M.txt" 2>&1 || die "postconf -c $CONF -M rejects master.cf"

# `postfix check` creates the queue's subdirectories with the owners and modes Postfix wants.
if ! "$POSTFIX" -c "$CONF" check 2>&1; then
    tail -n 20 "$POSTFIX_LOG" >&2 2>/dev/null || true
    die "postfix -c $CONF check failed (see $HERE/results/postfix.log)"
fi
"$POSTFIX" -c "$CONF" set-permissions >/dev/null 2>&1 || say "note: postfix set-permissions reported problems"

# --- the gateway -------------------------------------------------------------------------------------------------
# add_user NAME ARGS...: `gateway user add NAME ARGS...`, the password on standard input.
add_user() { add_gateway_user "$PASSWORD" "$@" || die "could not create a user with: gateway user add $*"; }

[[ -x $GATEWAY ]] || die "gateway executable not found at $GATEWAY (pip install -e . into .venv, or set GATEWAY)"
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/postfix-gateway.XXXXXX")
add_user alice --email alice@example.org --display-name "Alice Example"
add_user bob --email bob@example.org --alias robert@example.org --display-name "Bob Example"
add_user dave --email dave@catchall.example --alias @catchall.example --display-name "Dave Catch-All"

say "starting $GATEWAY serve on 127.0.0.1:$PORT, LMTP on 127.0.0.1:$LMTP_PORT, relaying through" \
    "127.0.0.1:$SUBMISSION_PORT (log: $HERE/results/server.log)"
# smtp.relay and smtp.tls through the environment (GATEWAY_SMTP_RELAY is the same setting as --smtp-relay).
GATEWAY_SMTP_RELAY=127.0.0.1:$SUBMISSION_PORT GATEWAY_SMTP_TLS=off GATEWAY_MAIL_DOMAIN=example.org \
    "$GATEWAY" --data-dir "$DATA_DIR" serve --listen "127.0.0.1:$PORT" --lmtp-listen "127.0.0.1:$LMTP_PORT" \
    >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!
wait_for_gateway "$PYTHON"

# --- Postfix, our instance ---------------------------------------------------------------------------------------
# A reaper (a child subreaper, prctl PR_SET_CHILD_SUBREAPER) runs `postfix -c CONF start`: the master daemon and
# every process it forks stay its descendants, so it reaps them all, and it leaves once the last one has exited.
say "starting Postfix -c $CONF: smtpd on 127.0.0.1:$SMTP_PORT, the gateway's relay on 127.0.0.1:$SUBMISSION_PORT," \
    "a verifying smtpd on 127.0.0.1:$VERIFY_PORT (log: $HERE/results/postfix.log)"
"$PYTHON" - "$POSTFIX" "$CONF" >"$RESULTS/postfix-start.log" 2>&1 </dev/null <<'PY' &
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36
signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops the instance with `postfix stop`
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    print("reaper: prctl(PR_SET_CHILD_SUBREAPER) failed; daemons may outlive their master as zombies", flush=True)
status = subprocess.call([sys.argv[1], "-c", sys.argv[2], "start"])
print(f"reaper: postfix start exited with status {status}", flush=True)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
sys.exit(status)
PY
REAPER_PID=$!

deadline=$((SECONDS + START_TIMEOUT))
until "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
    "$SMTP_PORT" 2>/dev/null; do
    if ! kill -0 "$REAPER_PID" 2>/dev/null; then
        wait "$REAPER_PID" 2>/dev/null || true
        REAPER_PID=
        cat "$RESULTS/postfix-start.log" >&2 || true
        tail -n 20 "$POSTFIX_LOG" >&2 2>/dev/null || true
        die "Postfix did not start (see $HERE/results/postfix.log)"
    fi
    if ((SECONDS >= deadline)); then
        tail -n 20 "$POSTFIX_LOG" >&2 2>/dev/null || true
        die "Postfix did not answer on 127.0.0.1:$SMTP_PORT within ${START_TIMEOUT}s"
    fi
    sleep 0.1
done
say "Postfix is up (master pid $(sed -n '1s/ //gp' "$QUEUE/pid/master.pid" 2>/dev/null || echo '?'))"

# --- the drive -----------------------------------------------------------------------------------------------
say "driving mail through Postfix (log: $HERE/results/drive.log, JMAP trace: http.log, Postfix: postfix.log)"
run_logged_step "$DRIVE_TIMEOUT" "$LOG" "$PYTHON" "$ROOT/$HERE/drive.py" --url "http://127.0.0.1:$PORT/" \
    --password "$PASSWORD" --smtp-port "$SMTP_PORT" --submission-port "$SUBMISSION_PORT" \
    --verify-port "$VERIFY_PORT" --sink-port "$SINK_PORT" --postfix-log "$POSTFIX_LOG" --server-log "$SERVER_LOG" \
    --examples "$ROOT/examples/postfix" --results "$RESULTS"

# --- verdict -------------------------------------------------------------------------------------------------
judge_checks_log "$PYTHON" "$LOG" "$EXPECTED" "$STEP_STATUS" "$DRIVE_TIMEOUT" drive.py
