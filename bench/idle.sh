#!/bin/bash
# idle.sh: what an idle node costs. Starts a node X with 3 peers on
# 127.0.0.1 (X joins each one's invite; each makes X a member), waits until
# X is connected to all three and reconciled, then lets the four nodes idle
# for DURATION seconds (default 60) and reads from /proc:
#   - X's CPU time: utime + stime of /proc/PID/stat (all threads, clock
#     ticks) and the sum of /proc/PID/task/*/schedstat (nanoseconds);
#   - X's wake-ups: voluntary context switches of its main thread (the
#     node's loop) and of all its threads (ZeroMQ's I/O threads answer the
#     ZMTP heartbeats), per second;
# and prints them against the goal (<= 0.05% of a core, <= 2 wake-ups/s).
#
#   bench/idle.sh [DURATION]     (HANSA=path/to/hansa, else build/release/hansa)
#
# Not a test: it never fails on the figures. Uses tests/nodes-lib.sh (jq,
# python3).
set -u
DURATION=${1:-60}
case $DURATION in '' | *[!0-9]*) echo "idle.sh: DURATION is a number of seconds" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "$0")/.." && pwd)
HANSA=${HANSA:-$HERE/build/release/hansa}
[ -x "$HANSA" ] || { echo "idle.sh: no hansa at $HANSA (set HANSA)" >&2; exit 2; }
export HANSA
NAME=bench-idle
INTERVAL=30 # the default of `hansa serve`
. "$HERE/tests/nodes-lib.sh"
die() { fail "$@"; }

declare -A PORT=()
for n in x p1 p2 p3; do
	PORT[$n]=$(free_port)
	h $n init --name "Node $n" --country DK >/dev/null || die "init $n"
done
for p in p1 p2 p3; do
	code=$(h $p invite --endpoint "tcp://127.0.0.1:${PORT[$p]}") || die "invite $p"
	back=$(h x join "$code" --endpoint "tcp://127.0.0.1:${PORT[x]}" 2>/dev/null) || die "x joins $p"
	h $p member add "$back" >/dev/null 2>&1 || die "$p adds x"
done
for n in p1 p2 p3 x; do
	start $n "${PORT[$n]}"
done
reconciled() {
	[ "$(h x status --json | jq '[.peers[] | select(.connected and .syncs > 0)] | length')" = 3 ]
}
until_ok 60 reconciled || die "x did not connect to its 3 peers and reconcile"
sleep 1 # the first reconciliations' transfers and stats writes end

X=${PID[x]}
ticks() { awk '{ print $14 + $15 }' "/proc/$X/stat"; }
ns() { cat /proc/"$X"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }
vol_main() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$X/status"; }
vol_all() { cat /proc/"$X"/task/*/status | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'; }
threads() { ls "/proc/$X/task" | wc -l; }
t0=$(ticks) n0=$(ns) m0=$(vol_main) a0=$(vol_all) w0=$(date +%s.%N)
sleep "$DURATION"
t1=$(ticks) n1=$(ns) m1=$(vol_main) a1=$(vol_all) w1=$(date +%s.%N)
kill -0 "$X" 2>/dev/null || die "x stopped"
HZ=$(getconf CLK_TCK)
echo "idle node with 3 peers, $DURATION s (load: $(cut -d' ' -f1-3 /proc/loadavg)), $(threads) threads:"
awk -v t="$((t1 - t0))" -v hz="$HZ" -v n="$((n1 - n0))" -v m="$((m1 - m0))" -v a="$((a1 - a0))" \
    -v w0="$w0" -v w1="$w1" 'BEGIN {
	d = w1 - w0
	cpu_stat = 100 * t / hz / d; cpu_ns = 100 * n / 1e9 / d
	printf "  CPU: %.3f%% of a core (schedstat; /proc/PID/stat: %d ticks = %.3f%%), goal <= 0.05%%: %s\n",
	    cpu_ns, t, cpu_stat, cpu_ns <= 0.05 ? "met" : "NOT met"
	printf "  wake-ups of the node loop (main thread): %.2f/s, goal <= 2/s: %s\n", m / d,
	    m / d <= 2 ? "met" : "NOT met"
	printf "  wake-ups of all threads (with ZeroMQ I/O and heartbeats): %.2f/s\n", a / d
}'
