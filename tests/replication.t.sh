#!/usr/bin/env bash
# replication.t.sh: three nodes in a line A <- B <- C on 127.0.0.1, each in
# its own home (B connects to A, C connects to B; A and C know each other
# only as authors). Checks:
#  1. an entry published at A shows up (and is found by search, when the
#     search command exists) at C, through B;
#  2. C stopped while A imports 1,000 entries, edits 50 and deletes 20; C
#     restarted converges to exactly A's set of entry ids, tombstones applied;
#  3. a key that is not a member cannot connect (the ZAP handler refuses it,
#     and status counts it);
#  4. a member pushing a forged, a tampered, an over-limit, a far-future and
#     a non-member entry: all refused, counted by reason in `status`, never
#     stored at B, never relayed to C; the good control entry it sends along
#     is stored and relayed;
#  5. a node D that B joins while both run: B connects to it and D catches
#     up, without a restart.
# No timed assertions: every wait polls with a generous deadline.
# Needs: HANSA, HX_BUILD (for tests/hx_badpeer), jq, python3 (nodes-lib.sh).
NAME=repl
. "$(dirname "$0")/nodes-lib.sh"
: "${HX_BUILD:?set HX_BUILD to the build directory}"
BAD="$HX_BUILD/tests/hx_badpeer"
[ -x "$BAD" ] || { echo "replication.t.sh: no $BAD (build the tests)" >&2; exit 1; }
has_id() { h "$1" list --ids | grep -qx "$2"; }

# --- partners by invite: B joins A, C joins B ---------------------------
# (A and C never connect to each other; they accept each other's entries)
three_in_line
[ "$(h b peer list --json | jq -r '.[0].endpoint')" = "tcp://127.0.0.1:$PA" ] || fail "b's peer"
[ "$(h a peer list --json | jq length)" = 0 ] || fail "a should have no peer"

start a "$PA"; start b "$PB"; start c "$PC"
# publish only once the line is connected, so that the entry travels by
# live push (reconciliation on connect would also bring it, but silently)
until_ok 30 logged b "peer Partner A .* up" || fail "B did not connect to A"
until_ok 30 logged c "peer Partner B .* up" || fail "C did not connect to B"

# --- 1. publish at A, visible at C through B ------------------------------
cat >"$T/doc.md" <<'EOF'
---
title: Innovation brokerage for SMEs in Peipsiääre
path: practices/innovation-brokerage
tags: [smes, brokerage]
---
Regional brokers meet firms monthly; a casebook from Białystok and Cēsis.
EOF
h a publish "$T/doc.md" >/dev/null || fail "publish at a"
until_ok 30 h c show practices/innovation-brokerage --author "$KA" ||
	fail "the entry published at A did not reach C"
if h c search --help >/dev/null 2>&1; then
	until_ok 30 sh -c "'$HANSA' --home '$T/c' search Peipsiaare | grep -q innovation-brokerage" ||
		fail "C does not find A's entry by search"
fi
grep -q 'received 1 new entry from Partner A' "$T/b.log" || fail "B did not log the live push"
grep -q 'received 1 new entry from Partner B' "$T/c.log" || fail "C did not log the relay"

# --- 2. C offline while A imports, edits and deletes ----------------------
stop c
for i in $(seq 1 1000); do
	printf '{"doc":"tools/t%04d","title":"Tool %d","body":"Toolkit number %d for municipalities.","tags":["t%d"],"lang":"en","org":"Org %d"}\n' \
		"$i" "$i" "$i" $((i % 7)) $((i % 13))
done >"$T/bulk.jsonl"
h a import "$T/bulk.jsonl" >/dev/null || fail "import at a"
for i in $(seq 1 50); do
	printf '{"doc":"tools/t%04d","title":"Tool %d, second edition","body":"Revised.","lang":"en"}\n' "$i" "$i"
done >"$T/edits.jsonl"
h a import "$T/edits.jsonl" >/dev/null || fail "edits at a"
for i in $(seq 101 120); do
	h a delete "$(printf 'tools/t%04d' "$i")" >/dev/null || fail "delete at a"
done
[ "$(h a list --ids | wc -l)" = 1071 ] || fail "A should hold 1071 entries"
until_ok 60 same_ids a b || fail "B did not get A's entries"
start c "$PC"
until_ok 90 same_ids a c || fail "C did not converge to A's set after restart"
[ "$(h c list --json | jq length)" = "$(h a list --json | jq length)" ] ||
	fail "C lists another number of documents than A"
h c show tools/t0110 --author "$KA" 2>"$T/err" && fail "a deleted document is shown at C"
grep -q deleted "$T/err" || fail "C does not say the document was deleted"
h c show tools/t0007 --author "$KA" | grep -q 'second edition' || fail "C lacks an edit"
b_connected() { h c status --json | jq -e '.peers[] | select(.name | startswith("Partner B")) | .connected'; }
until_ok 10 b_connected || fail "C's status does not show B connected"

# --- 3. a key that is not a member cannot connect --------------------------
"$BAD" keygen "$T/stranger.key" || fail "keygen"
"$BAD" hello "$T/stranger.key" "$CB" 2>/dev/null
rc=$?
[ $rc = 3 ] || fail "a non-member's connection was not refused (hx_badpeer hello: $rc)"
until_ok 10 sh -c "'$HANSA' --home '$T/b' status --json | jq -e '.connections_refused >= 1'" ||
	fail "B's status does not count the refused connection"
grep -q 'refused connection' "$T/b.log" || fail "B did not log the refused connection"

# --- 4. a member sending bad entries ------------------------------------------
"$BAD" keygen "$T/bad.key" || fail "keygen"
KBAD=$("$BAD" pubkey "$T/bad.key")
h b member add "$("$BAD" code "$T/bad.key" tcp://127.0.0.1:9)" 2>/dev/null || fail "b adds badpeer"
h c member add "$KBAD" --name badpeer 2>/dev/null || fail "c adds badpeer's key"
"$BAD" hello "$T/bad.key" "$CB" 2>/dev/null || fail "a member's connection was refused"
NB=$(h b list --ids | wc -l)
"$BAD" attack "$T/bad.key" "$CB" >"$T/attack.ids" 2>"$T/attack.err" ||
	fail "attack: the node did not refuse 5 and store 1: $(cat "$T/attack.err")"
[ "$(wc -l <"$T/attack.ids")" = 6 ] || fail "attack printed no ids"
GOOD=$(tail -n 1 "$T/attack.ids")
until_ok 30 has_id c "$GOOD" || fail "the good entry was not relayed to C"
[ "$(h b list --ids | wc -l)" = $((NB + 1)) ] || fail "B stored more than the good entry"
head -n 5 "$T/attack.ids" >"$T/bad.ids"
for n in b c; do
	h $n list --ids | grep -qxFf "$T/bad.ids" && fail "a refused entry is stored at $n"
done
until_ok 10 sh -c "'$HANSA' --home '$T/b' status --json | jq -e '.peers[] | select(.key == \"$KBAD\") | .refused_total == 5'" ||
	fail "B's status does not count 5 refused entries"
h b status --json | jq -e ".peers[] | select(.key == \"$KBAD\") | .refused |
	.\"bad-signature\" == 2 and .\"over-limit\" == 1 and .future == 1 and .\"not-member\" == 1" \
	>/dev/null || fail "refusals by reason: $(h b status --json | jq -c ".peers[] | select(.key == \"$KBAD\") | .refused")"
h b status | grep -q 'refused 5 (over-limit 1, bad-signature 2, not-member 1, future 1)' ||
	fail "status text does not list the refusals"
# C never heard of them
h c status --json | jq -e '[.peers[].refused_total] | add == 0' >/dev/null ||
	fail "C saw refused entries: they were relayed"

# --- 5. partners joined while the nodes run: no restart needed ------------------
PD=$(free_port)
h d init --name "Partner D" --country DK >/dev/null || fail "init d"
start d "$PD"
CD=$(h d invite --endpoint "tcp://127.0.0.1:$PD") || fail "invite d"
h b join "$CD" >/dev/null 2>&1 || fail "b joins d while running"
h d member add "$CB" 2>/dev/null || fail "d accepts b's code while running"
h d member add "$KA" --name "Partner A" 2>/dev/null || fail "d adds a's key"
h d member add "$KBAD" --name badpeer 2>/dev/null || fail "d adds badpeer's key"
until_ok 90 same_ids b d || fail "B did not connect to D, added while running"
grep -q 'connecting to new peer' "$T/b.log" || fail "B did not log the new peer"

for n in a b c d; do stop $n; done
sanitizer_clean || fail "sanitizer report in a node's log"
for n in a b c d; do
	h $n fsck >/dev/null 2>&1 || fail "fsck of $n"
done
echo "replication.t.sh: ok"
