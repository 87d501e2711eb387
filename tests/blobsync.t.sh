#!/usr/bin/env bash
# blobsync.t.sh: attached files between nodes (docs/PROTOCOL.md §9), three
# `hansa serve` nodes in a line A <- B <- C on 127.0.0.1:
#  1. policy and relay: a 3 MiB file published at A is fetched by B by
#     itself (under the 25 MiB policy), and by C from B; same bytes at C;
#  2. a 30 MiB file (over the policy): B, started with --blob-auto 64M,
#     fetches it by itself; C (default policy) does not, until
#     `hansa fetch`; same bytes at C;
#  3. resume: a second 30 MiB file, served by B at a limited rate; C is
#     killed with SIGKILL halfway, restarted, and resumes: B's chunk counter
#     shows that chunks C had were not sent again;
#  4. a bad peer (tests/hx_badpeer.c blobserve) that serves every chunk of
#     a file corrupted is caught: C counts it (status, per peer and in
#     total), gets the chunks from B, and the file is whole and right;
# then fsck is clean on every node and the sanitizers said nothing.
# Environment: HANSA, HX_BUILD (hx_badpeer).
NAME=blobsync
INTERVAL=2
. "$(dirname "$0")/nodes-lib.sh"
BADPEER=${HX_BUILD:-}/tests/hx_badpeer
[ -x "$BADPEER" ] || { echo "blobsync.t.sh: needs hx_badpeer (HX_BUILD)" >&2; exit 1; }

three_in_line
peer_bad() { # peer_bad NODE KEY: bad chunks NODE counted for the member KEY
	h "$1" status --json | jq -r --arg k "$2" '.peers[] | select(.key == $k) | .bad_chunks'
}

start a "$PA"
start b "$PB"
start c "$PC"

# --- 1. under the policy: A -> B -> C by itself ------------------------------------
mkfile small.bin $((3 * 1024 * 1024))
doc small small.bin
until_ok 60 has_file b small small.bin || fail "B did not fetch the 3 MiB file by itself"
until_ok 60 has_file c small small.bin || fail "C did not fetch the 3 MiB file from B"
echo "ok 1: a 3 MiB file went A -> B -> C by the size policy, same bytes at C"

# --- 2. over the policy: B raises it, C fetches on demand -------------------------
stop b
"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" --interval 2 --blob-auto 64M \
	2>>"$T/b.log" &
PID[b]=$!
mkfile big.bin $((30 * 1024 * 1024))
doc big big.bin
until_ok 120 has_file b big big.bin || fail "B (--blob-auto 64M) did not fetch the 30 MiB file"
until_ok 30 h c show files/big >/dev/null || fail "the entry did not reach C"
sleep_until=$((SECONDS + 3))
while [ $SECONDS -lt $sleep_until ]; do
	! has_file c big big.bin || fail "C fetched a 30 MiB file over its 25 MiB policy"
	sleep 0.5
done
h c fetch files/big big.bin --timeout 120 >"$T/fetch.out" 2>"$T/fetch.err" ||
	fail "hansa fetch at C: $(cat "$T/fetch.err")"
grep -q "big.bin: here" "$T/fetch.out" || fail "hansa fetch said: $(cat "$T/fetch.out")"
has_file c big big.bin || fail "C's copy of the 30 MiB file differs"
echo "ok 2: 30 MiB over the policy: B fetched it with --blob-auto 64M, C with hansa fetch"

# --- 3. resume after SIGKILL -------------------------------------------------------
stop b
"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" --interval 2 --blob-auto 64M \
	--blob-rate 3M 2>>"$T/b.log" &
PID[b]=$!
mkfile big2.bin $((30 * 1024 * 1024))
doc big2 big2.bin
until_ok 120 has_file b big2 big2.bin || fail "B did not fetch the second 30 MiB file"
until_ok 30 h c show files/big2 >/dev/null || fail "the second entry did not reach C"
out0=$(h b status --json | jq -r .blobs.chunks_out)
h c fetch files/big2 big2.bin --no-wait >/dev/null || fail "hansa fetch --no-wait at C"
# kill C once B has served it about a third (40 of 120 chunks)
served_over() { [ "$(($(blob_json b chunks_out) - out0))" -ge "$1" ]; }
until_ok 60 served_over 40 || fail "C's transfer did not start"
kill -KILL "${PID[c]}"
wait "${PID[c]}" 2>/dev/null
unset "PID[c]"
mid=$(($(blob_json b chunks_out) - out0))
has_file c big2 big2.bin && fail "C had the whole file before it was killed (too fast to test)"
start c "$PC"
until_ok 120 has_file c big2 big2.bin || fail "C did not resume the transfer after SIGKILL"
sleep 1.5 # B flushes its counters every second
sent=$(($(blob_json b chunks_out) - out0))
# 120 chunks; at most a window (16) in flight when C died may go twice, and
# the chunks written but not yet committed: the batch C's commit thread was
# syncing and the one filling meanwhile (at 3 MiB/s, 12 chunks a second,
# one or two each)
[ "$sent" -le $((120 + 16 + 4)) ] ||
	fail "B sent $sent chunks for a 120-chunk file (killed after $mid): finished chunks went again"
echo "ok 3: C killed with SIGKILL after $mid chunks resumed; B sent $sent chunks for 120"

# --- 4. a bad peer ------------------------------------------------------------------
stop b
start b "$PB" # no rate limit now
"$BADPEER" keygen "$T/bad.key" || fail "badpeer keygen"
KBAD=$("$BADPEER" pubkey "$T/bad.key")
h c member add "$("$BADPEER" code "$T/bad.key" tcp://127.0.0.1:1)" >/dev/null 2>&1 ||
	fail "c accepts the bad peer's code"
mkfile mid.bin $((8 * 1024 * 1024))
"$BADPEER" blobserve "$T/bad.key" "$CC" "$T/mid.bin" 90 >"$T/bad.out" 2>"$T/bad.err" &
BADPID=$!
bad_connected() {
	[ "$(h c status --json | jq --arg k "$KBAD" '[.peers[] | select(.key == $k and .connected)] | length')" = 1 ]
}
until_ok 30 bad_connected || fail "the bad peer did not connect to C"
doc mid mid.bin
until_ok 120 has_file c mid mid.bin || fail "C did not get the 8 MiB file despite the bad peer"
bad_counted() { [ "$(peer_bad c "$KBAD")" -ge 1 ]; }
until_ok 10 bad_counted || fail "C did not count the bad peer's chunks"
[ "$(peer_bad c "$(h b id --json | jq -r .key)")" = 0 ] || fail "C blamed B for bad chunks"
[ "$(blob_json c bad_chunks)" -ge 1 ] || fail "C's status does not count the bad chunks"
until_ok 10 logged c "bad chunk" || fail "C did not log the bad chunk"
kill "$BADPID" 2>/dev/null
wait "$BADPID" 2>/dev/null
echo "ok 4: the bad peer's corrupted chunks were caught ($(peer_bad c "$KBAD") counted); C got the file from B"

for n in a b c; do stop $n; done
for n in a b c; do h $n fsck >/dev/null 2>&1 || fail "fsck at $n"; done
sanitizer_clean || fail "sanitizer reports in the node logs"
echo "ok: blobsync"
