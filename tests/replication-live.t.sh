#!/usr/bin/env bash
# replication-live.t.sh: what live pushes and the statistics must get right
# when reconciliation does not come to the rescue (the nodes run with a
# 300 s interval, so an entry that arrives came by push). Three nodes in a
# line A <- B <- C on 127.0.0.1 (B connects to A, C to B). Checks:
#  1. `they lack` on the answering side: after B's `hansa sync` fetched 500
#     entries from A's daemon, A's status says B lacks 0, not 500;
#  2. a live push survives a closed connection: while B's daemon is
#     connected to A, `hansa sync` at B opens (and closes) a second
#     connection of the same member; an entry published at A right after
#     reaches B's daemon by push (on the connection still open), and B's
#     store then holds a push-latency histogram with count >= 1 (which
#     `hansa web` on B's home shows in /metrics, when curl is there);
#  3. relays carry LIVE (docs/PROTOCOL.md §6.3): an entry B fetched from A
#     by WANT (A restarted with an entry published while it was down) is
#     pushed on to C with flag LIVE, which C logs as "(live)".
# Every wait polls a condition with a generous deadline.
# Needs: HANSA, jq, python3 (nodes-lib.sh); curl for /metrics.
NAME=replication-live
INTERVAL=300
. "$(dirname "$0")/nodes-lib.sh"
# wrong WHAT: a check failed; the others still run, the test fails at the end
wrong=0
wrong() { echo "FAIL: $*" >&2; wrong=$((wrong + 1)); }

# lacks NODE KEY FIELD N: NODE's status says FIELD (we_lack, they_lack) is N
lacks() {
	h "$1" status --json |
		jq -e --arg k "$2" --arg f "$3" --argjson v "$4" '.peers[] | select(.key == $k) | .[$f] == $v'
}
# measured NODE: NODE's store holds a push-latency histogram with count >= 1
measured() {
	h "$1" status --json | jq -e '.push_latency | .count >= 1 and .sum_seconds >= 0
		and .buckets[-1].le == "+Inf" and .buckets[-1].count == .count'
}
doc() { # doc FILE PATH TITLE
	printf -- '---\ntitle: %s\npath: %s\n---\nA practice.\n' "$3" "$2" >"$1"
}

three_in_line
KB=$(h b id --json | jq -r .key)

# --- 1. they_lack on the answering side -------------------------------------
for i in $(seq 1 500); do
	printf '{"doc":"tools/t%03d","title":"Tool %d","body":"Toolkit %d.","lang":"en"}\n' "$i" "$i" "$i"
done >"$T/bulk.jsonl"
h a import "$T/bulk.jsonl" >/dev/null || fail "import at a"
start a "$PA"
h b sync >"$T/sync.out" 2>&1 || fail "b's sync with a: $(cat "$T/sync.out")"
same_ids a b || fail "b's sync did not bring a's 500 entries"
until_ok 30 lacks a "$KB" we_lack 0 || wrong "a's status: we_lack is not 0 after the sync"
until_ok 30 lacks a "$KB" they_lack 0 ||
	wrong "a's status still says b lacks $(h a status --json | jq --arg k "$KB" '.peers[] | select(.key == $k) | .they_lack') after b fetched everything"

# --- 2. a push survives the close of the member's newest connection ------------
start b "$PB"
until_ok 30 grep -q 'peer Partner A .* up' "$T/b.log" || fail "B did not connect to A"
until_ok 30 grep -q 'Partner B .* up (incoming)' "$T/a.log" || fail "A did not see B"
h b sync >"$T/sync.out" 2>&1 || fail "b's second sync: $(cat "$T/sync.out")"
doc "$T/d2.md" practices/after-sync "Published right after a sync"
h a publish "$T/d2.md" >/dev/null || fail "publish at a"
until_ok 30 h b show practices/after-sync --author "$KA" ||
	wrong "the entry A published right after B's sync did not reach B by push"
# B's node measured that push's latency (docs/API.md, /metrics)
until_ok 30 measured b >/dev/null ||
	wrong "B's store holds no push latency after a live push: $(h b status --json | jq -c .push_latency)"

# --- 3. relays carry LIVE ----------------------------------------------------
start c "$PC"
until_ok 30 grep -q 'peer Partner B .* up' "$T/c.log" || fail "C did not connect to B"
until_ok 60 same_ids b c || fail "C did not catch up with B on connect"
stop a
doc "$T/d3.md" practices/while-down "Published while A's node was down"
h a publish "$T/d3.md" >/dev/null || fail "publish at a"
start a "$PA"
until_ok 60 h b show practices/while-down --author "$KA" || fail "B did not fetch A's entry"
until_ok 60 h c show practices/while-down --author "$KA" || fail "B did not relay A's entry to C"
grep -q 'received 1 new entry from Partner B .*(live)' "$T/c.log" ||
	wrong "the relay of an entry B fetched by WANT did not carry LIVE"

for n in a b c; do stop $n; done

# --- /metrics shows B's histogram (hansa web on B's home, no node running) --
if command -v curl >/dev/null; then
	WB=$(free_port)
	"$HANSA" --home "$T/b" web --http "127.0.0.1:$WB" 2>>"$T/bweb.log" &
	PID[bweb]=$!
	until_ok 30 logged bweb "web app on" || fail "b's web app did not start"
	curl -s "http://127.0.0.1:$WB/metrics" >"$T/metrics" || wrong "GET /metrics failed"
	grep -q '^# TYPE hansa_push_latency_seconds histogram$' "$T/metrics" &&
		grep -qE '^hansa_push_latency_seconds_bucket\{le="\+Inf"\} [1-9]' "$T/metrics" &&
		grep -qE '^hansa_push_latency_seconds_count [1-9]' "$T/metrics" &&
		grep -qE '^hansa_push_latency_seconds_sum [0-9.]+$' "$T/metrics" ||
		wrong "/metrics lacks B's push latency: $(grep push_latency "$T/metrics")"
	kill "${PID[bweb]}" && wait "${PID[bweb]}" || fail "hansa web did not stop cleanly"
	unset "PID[bweb]"
else
	echo "replication-live.t.sh: no curl, /metrics not checked" >&2
fi
sanitizer_clean || fail "sanitizer report in a node's log"
[ $wrong = 0 ] || fail "$wrong check(s) failed"
echo "replication-live.t.sh: ok"
