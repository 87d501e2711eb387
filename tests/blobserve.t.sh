#!/usr/bin/env bash
# blobserve.t.sh: serving what was checked (docs/PROTOCOL.md §9.2, FORMAT.md
# §3.2), two `hansa serve` nodes, B a member of A, on 127.0.0.1:
#  1. a restarted node serves a published file without hashing it: A
#     publishes, is restarted, and B fetches the file; A's counter of chunks
#     hashed when served stays 0 (the mark came from the store);
#  2. a file altered at A behind the store's back (one byte flipped, same
#     size, mtime put back with touch -r) before B fetches it: fsck at A
#     reports it; A hashes what it serves (the stat shows the change) and
#     its scrub turns the blob partial without the damaged chunk, counted
#     and logged; B never holds the file whole, counts no bad chunk, and
#     its fsck is clean;
#  3. the same with the mtime changed too, on a file B already holds: A's
#     scrub drops the damaged chunk and A fetches it again from B, and its
#     copy is the original again;
# then fsck is clean on both nodes and the sanitizers said nothing.
# Environment: HANSA.
NAME=blobserve
INTERVAL=2
. "$(dirname "$0")/nodes-lib.sh"

three_in_line # C is never started
blob_path() { # blob_path FILE: where A keeps FILE whole (found by its bytes)
	local f
	for f in "$T"/a/store/blobs/??/*; do
		cmp -s "$f" "$T/$1" && { echo "$f"; return 0; }
	done
	return 1
}
start_a() { # as start, with a scrub that looks again every 2 s
	local before
	before=$(count a 'listening on')
	"$HANSA" --home "$T/a" serve --bind "tcp://127.0.0.1:$PA" --interval 2 --scrub-every 2 \
		2>>"$T/a.log" &
	PID[a]=$!
	until_ok 30 logged_more a 'listening on' "${before:-0}" || fail "a did not start"
}
flip() { # flip PATH OFFSET: one byte changed in place
	python3 - "$1" "$2" <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0x55]))
EOF
}
at_least() { [ "$(blob_json "$1" "$2")" -ge "$3" ]; }

# --- 1. restarted: served without hashing ------------------------------------------
start_a
mkfile one.bin $((2 * 1024 * 1024 + 100))
doc one one.bin
stop a
start_a
start b "$PB"
until_ok 60 has_file b one one.bin || fail "B did not fetch the file"
until_ok 10 at_least a chunks_out 9 || fail "A's status does not count the chunks it served"
[ "$(blob_json a chunks_hashed_out)" = 0 ] ||
	fail "A hashed $(blob_json a chunks_hashed_out) chunks it published before its restart"
echo "ok 1: a restarted node served a published file (9 chunks) without hashing it"

# --- 2. altered behind the store's back, mtime put back ----------------------------
stop b
mkfile two.bin $((2 * 1024 * 1024))
doc two two.bin
P=$(blob_path two.bin) || fail "no blob file at A holds two.bin"
cp -p "$P" "$T/two.stamp"
stop a
flip "$P" $((3 * 262144 + 17))
touch -r "$T/two.stamp" "$P"
[ "$(stat -c '%s %Y' "$P")" = "$(stat -c '%s %Y' "$T/two.stamp")" ] || fail "touch -r"
h a fsck >"$T/fsck2.out" 2>&1 && fail "fsck at A did not report the altered file"
grep -q "chunk 3 does not match" "$T/fsck2.out" || fail "fsck at A said: $(cat "$T/fsck2.out")"
start_a
start b "$PB"
until_ok 30 h b show files/two || fail "the entry did not reach B"
until_ok 60 at_least a scrub_damaged 1 || fail "A's scrub did not find the damaged file"
until_ok 10 logged a "damaged on disk (scrub)" || fail "A did not log the damage"
# B gets every chunk but the damaged one, from nowhere
until_ok 60 at_least b chunks_in 16 || fail "B did not get the 7 undamaged chunks"
sleep_until=$((SECONDS + 3))
while [ $SECONDS -lt $sleep_until ]; do
	! h b get files/two two.bin -o "$T/out-b-two" >/dev/null 2>&1 || fail "B holds the file whole"
	sleep 0.5
done
[ "$(blob_json b bad_chunks)" = 0 ] || fail "B was sent a bad chunk"
h b fsck >"$T/fsck2b.out" 2>&1 || fail "fsck at B: $(cat "$T/fsck2b.out")"
echo "ok 2: a file altered at A with its mtime put back: fsck reports it, A's scrub drops the" \
	"damaged chunk, B never gets it (A hashed $(blob_json a chunks_hashed_out) chunks it served)"

# --- 3. altered (mtime changed) on a file B holds: A fetches the chunk back --------
mkfile three.bin $((1024 * 1024 + 5))
doc three three.bin
until_ok 60 has_file b three three.bin || fail "B did not fetch the third file"
P=$(blob_path three.bin) || fail "no blob file at A holds three.bin"
flip "$P" 300000
until_ok 60 at_least a scrub_damaged 2 || fail "A's scrub did not find the second damaged file"
until_ok 60 has_file a three three.bin || fail "A did not fetch the damaged chunk back from B"
[ "$(blob_json b bad_chunks)" = 0 ] || fail "B was sent a bad chunk"
echo "ok 3: a file altered at A (mtime changed): the scrub dropped the chunk, A got it back from B"

for n in a b; do
	h "$n" fsck >"$T/fsck-$n.out" 2>&1 || fail "fsck at $n: $(cat "$T/fsck-$n.out")"
done
stop a
stop b
sanitizer_clean || fail "the sanitizers reported errors"
echo "ok: fsck clean on both nodes, sanitizers quiet"
