#!/usr/bin/env bash
# scripts/reconnect-figures.sh: how soon a node is connected again. Two
# nodes on 127.0.0.1, B connecting to A. Measures, ROUNDS times each (default
# 5), the seconds from an event until B's `hansa status --json` shows A
# connected (polled every 50 ms, so the figures include a status call):
#   restart: A stopped for 3 s, then started again (from A listening);
#   refused: A does not know B; B is refused; then A adds B while both run
#            (from `hansa member add` returning; B retries with backoff).
# Prints each figure, the median and the largest. A figure, not a test.
#   HANSA=build/release/hansa scripts/reconnect-figures.sh [ROUNDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-5}
HANSA=${HANSA:-$ROOT/build/release/hansa}
[ -x "$HANSA" ] || { echo "reconnect-figures.sh: $HANSA missing (set HANSA)" >&2; exit 1; }
command -v jq >/dev/null || { echo "reconnect-figures.sh: needs jq" >&2; exit 1; }
T=$(mktemp -d /tmp/hx-reconnect.XXXXXX)
APID= BPID=
cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE
hx() { local h=$1; shift; "$HANSA" --home "$T/$h" "$@"; }
now() { date +%s.%N; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_for SECONDS CMD...: polls CMD every 50 ms; fails after SECONDS
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || { echo "reconnect-figures.sh: timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}
connected() { hx b status --json | jq -e --arg k "$KA" '.peers[] | select(.key == $k) | .connected'; }
listening() { [ "$(grep -c 'listening on' "$T/a.log" 2>/dev/null)" -gt "$1" ]; }
start_a() {
	local before
	before=$(grep -c 'listening on' "$T/a.log" 2>/dev/null || true)
	"$HANSA" --home "$T/a" serve --bind "tcp://127.0.0.1:$PA" 2>>"$T/a.log" &
	APID=$!
	wait_for 30 listening "${before:-0}"
}
stop_a() { kill "$APID"; wait "$APID" || true; APID=; }
report() { # report NAME FIGURES...
	local name=$1; shift
	printf '%s\n' "$@" | sort -n | awk -v n="$name" '{ v[NR] = $1 } END {
		printf "%-8s median %.2f s, max %.2f s (%d rounds)\n", n, v[int((NR + 1) / 2)], v[NR], NR }'
}

PA=$(port); PB=$(port)
hx a init --name A >/dev/null
hx b init --name B >/dev/null
KA=$(hx a id --json | jq -r .key)
CA=$(hx a invite --endpoint "tcp://127.0.0.1:$PA")
CB=$(hx b join "$CA" --endpoint "tcp://127.0.0.1:$PB" 2>/dev/null)
hx a member add "$CB" >/dev/null 2>&1
start_a
"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" 2>>"$T/b.log" &
BPID=$!
wait_for 60 connected

restart=()
for i in $(seq 1 "$ROUNDS"); do
	stop_a
	wait_for 30 sh -c "! '$HANSA' --home '$T/b' status --json | jq -e '.peers[] | select(.key == \"$KA\") | .connected'"
	sleep 3
	start_a
	t0=$(now)
	wait_for 60 connected
	restart+=("$(echo "$(now) - $t0" | bc)")
	echo "restart $i: ${restart[-1]} s"
done

refused=()
for i in $(seq 1 "$ROUNDS"); do
	stop_a
	hx a member remove "$(hx b id --json | jq -r .key)" >/dev/null 2>&1
	start_a
	wait_for 60 grep -q 'refused connection' "$T/a.log"
	: >"$T/a.log" # the next round looks for the next refusal
	sleep 2 # B is now waiting out its first backoff (1 s) or the next
	hx a member add "$CB" >/dev/null 2>&1
	t0=$(now)
	wait_for 90 connected
	refused+=("$(echo "$(now) - $t0" | bc)")
	echo "refused $i: ${refused[-1]} s"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
report restart "${restart[@]}"
report refused "${refused[@]}"
