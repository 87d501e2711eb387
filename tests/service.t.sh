#!/usr/bin/env bash
# service.t.sh: hansa as a systemd service, without systemd running:
#  1. systemd-analyze verify passes on dist/hansa.service and
#     dist/hansa-backup.service (ExecStart pointed at the built binary) with
#     no message at all, and the units carry the hardening issue 14 asks for;
#  2. readiness: `hansa serve` with NOTIFY_SOCKET pointing at a UNIX
#     datagram socket this test listens on (python3) sends READY=1, and
#     only once it listens (a peer can connect when READY=1 arrives);
#     STOPPING=1 on SIGTERM;
#  3. logs: with JOURNAL_STREAM naming its stderr, every line starts with a
#     "<N>" syslog level and carries no time of its own; without it, every
#     line starts with the time.
# Skips (77) when systemd-analyze is missing, after running 2 and 3.
set -u
: "${HANSA:?set HANSA to the hansa binary}" "${HX_SRC:?set HX_SRC}"
command -v python3 >/dev/null || { echo "service.t.sh: needs python3" >&2; exit 1; }
T=$(mktemp -d /tmp/hx-svc.XXXXXX)
LPID=
NPID=
cleanup() {
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE JOURNAL_STREAM NOTIFY_SOCKET
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
until_ok() {
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
free_port() {
	"$(dirname "$0")/../scripts/free-port"
}

# --- 1. the units ---------------------------------------------------------
for u in hansa.service hansa-backup.service; do
	f="$HX_SRC/dist/$u"
	for key in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
		'SystemCallFilter=@system-service' 'Restart=on-failure' 'StateDirectory=hansa' 'User=hansa'; do
		grep -q "^$key" "$f" || fail "$u lacks $key"
	done
done
grep -q '^Type=notify' "$HX_SRC/dist/hansa.service" || fail "hansa.service is not Type=notify"
verified=0
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	for u in hansa.service hansa-backup.service; do
		sed "s#/usr/bin/hansa#$HANSA#" "$HX_SRC/dist/$u" >"$T/units/$u"
	done
	if ! systemd-analyze verify --man=no "$T/units/hansa.service" "$T/units/hansa-backup.service" \
		>"$T/verify" 2>&1 || [ -s "$T/verify" ]; then
		fail "systemd-analyze verify: $(cat "$T/verify")"
	fi
	verified=1
fi

# --- 2. readiness through NOTIFY_SOCKET ------------------------------------
H="$T/home"
"$HANSA" --home "$H" init --name "Service test" >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
cat >"$T/listen.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        out.write(msg.replace("\n", " | ") + "\n")
PY
python3 "$T/listen.py" "$T/notify" "$T/notified" &
LPID=$!
until_ok 120 test -S "$T/notify" || fail "the notify listener did not start"
P=$(free_port)
NOTIFY_SOCKET="$T/notify" "$HANSA" --home "$H" serve --bind "tcp://127.0.0.1:$P" 2>"$T/serve.log" &
NPID=$!
until_ok 60 grep -q 'READY=1' "$T/notified" || fail "no READY=1 from hansa serve: $(cat "$T/serve.log")"
# READY=1 means listening: the port takes a connection at once
python3 -c "import socket; socket.create_connection(('127.0.0.1', $P), 2).close()" ||
	fail "READY=1 arrived but nothing listens on port $P"
grep -q 'READY=1.*STATUS=listening on' "$T/notified" || fail "READY=1 without a STATUS line"
kill -TERM "$NPID"
wait "$NPID" || fail "hansa serve did not stop cleanly on SIGTERM"
NPID=
until_ok 60 grep -q 'STOPPING=1' "$T/notified" || fail "no STOPPING=1 on SIGTERM"
[ "$(grep -c 'READY=1' "$T/notified")" = 1 ] || fail "READY=1 sent more than once"
# not under systemd: no NOTIFY_SOCKET, nothing sent, nothing fails
grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$T/serve.log" || fail "terminal log lines lack the time"
grep -vqE '^20[0-9]{2}-' "$T/serve.log" && fail "a terminal log line without the time: $(grep -vE '^20' "$T/serve.log" | head -1)"

# --- 3. journal lines --------------------------------------------------------
: >"$T/journal.log"
JS=$(stat -c '%d:%i' "$T/journal.log")
exec 3>>"$T/journal.log"
JOURNAL_STREAM="$JS" "$HANSA" --home "$H" serve --bind "tcp://127.0.0.1:$P" 2>&3 &
NPID=$!
exec 3>&-
until_ok 60 grep -q 'listening on' "$T/journal.log" || fail "serve did not log its start to the journal stream"
kill -TERM "$NPID"
wait "$NPID" || fail "hansa serve (journal) did not stop cleanly"
NPID=
grep -qx '<5>listening on tcp://127.0.0.1:'"$P" "$T/journal.log" ||
	fail "the journal line of the start is not '<5>listening on ...': $(head -2 "$T/journal.log")"
grep -qx '<5>stopped' "$T/journal.log" || fail "no '<5>stopped' line"
bad=$(grep -vE '^<[0-7]>[^<]' "$T/journal.log" | head -1)
[ -z "$bad" ] || fail "a journal line without a level prefix: $bad"
grep -qE '^<[0-7]>20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$T/journal.log" && fail "a journal line carries its own time"
# a JOURNAL_STREAM that is not stderr (inherited by a shell) changes nothing
JOURNAL_STREAM="1:1" "$HANSA" --home "$H" serve --bind "tcp://127.0.0.1:$P" 2>"$T/other.log" &
NPID=$!
until_ok 60 grep -q 'listening on' "$T/other.log" || fail "serve did not start (foreign JOURNAL_STREAM)"
kill -TERM "$NPID"; wait "$NPID"; NPID=
grep -q '^<' "$T/other.log" && fail "level prefixes although stderr is not the journal"

[ "$fails" = 0 ] || { echo "service.t.sh: $fails failure(s)" >&2; exit 1; }
[ "$verified" = 1 ] || { echo "service.t.sh: no systemd-analyze: units not verified (skipped)" >&2; exit 77; }
echo "service.t.sh: ok"
