#!/usr/bin/env bash
# damaged.t.sh: a store file with a damaged page. LMDB 0.9 has no page
# checksums and may crash (SIGSEGV, SIGBUS, an assertion) on one; fsck and
# serve read every page in a child process first. For pages overwritten
# with garbage near the end of data.mdb (where the trees' roots are):
#  - `hansa fsck` and `hansa serve` exit non-zero with one clear line ("the
#    store is damaged (...); restore from backup (hansa restore) or rebuild
#    from peers (hansa rebuild)") or fsck's list of problems, never a
#    crash or a sanitizer report; at least one page must be one that makes
#    liblmdb crash (the case the child is there for);
#  - `hansa rebuild CODE` puts a new store in place and fills it from a
#    partner's node: the same identity, every document back, fsck clean.
# Needs: HANSA, jq, python3.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
command -v jq >/dev/null || { echo "damaged.t.sh: needs jq" >&2; exit 1; }
T=$(mktemp -d /tmp/hx-damaged.XXXXXX)
BPID=
cleanup() {
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
h() { local n=$1; shift; "$HANSA" --home "$T/$n" "$@"; }
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
garble() { # garble FILE PAGE: 4096 bytes of fixed garbage over the page
	python3 -c "
import random, sys
r = random.Random(14)
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2]) * 4096); f.write(bytes(r.randrange(256) for _ in range(4096)))
" "$1" "$2"
}
insane() { grep -qE 'AddressSanitizer|runtime error|LeakSanitizer|Assertion' "$1"; }

PA=$(free_port); PB=$(free_port)
h a init --name "Partner A" >/dev/null || { echo "FAIL: init a" >&2; exit 1; }
h b init --name "Partner B" >/dev/null || { echo "FAIL: init b" >&2; exit 1; }
CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || { echo "FAIL: invite" >&2; exit 1; }
CB=$(h b join "$CA" --endpoint "tcp://127.0.0.1:$PB" 2>/dev/null) || { echo "FAIL: join" >&2; exit 1; }
h a member add "$CB" >/dev/null 2>&1 || { echo "FAIL: member add" >&2; exit 1; }
python3 -c "
import json
for i in range(400):
    print(json.dumps({'doc': 'notes/n%04d' % i, 'title': 'Note %d' % i, 'body': 'Text of note %d. ' % i * 20}))
" >"$T/a.jsonl"
h a import "$T/a.jsonl" >/dev/null || { echo "FAIL: import" >&2; exit 1; }
KA=$(h a id --json | jq -r .key)

# --- the damaged pages -----------------------------------------------------------
h a fsck >/dev/null || { echo "FAIL: a's store is not clean to begin with" >&2; exit 1; }
pages=$(($(stat -c %s "$T/a/store/data.mdb") / 4096))
crashes=0
for back in 1 2 3 4 6 10 16; do
	p=$((pages - back))
	rm -rf "$T/d"
	mkdir -p "$T/d/store"
	cp "$T/a/identity.key" "$T/a/profile.json" "$T/d/"
	cp "$T/a/store/data.mdb" "$T/d/store/"
	garble "$T/d/store/data.mdb" "$p"
	h d fsck >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 0 ] && grep -q '^ok: 400 entries' "$T/out"; then
		echo "page $p of $pages: not in use (fsck clean)"
		continue
	fi
	if [ "$rc" = 0 ] || [ "$rc" -ge 128 ] || insane "$T/err"; then
		fail "page $p: fsck exits $rc: $(head -5 "$T/err")"
		continue
	fi
	if grep -q 'the store is damaged' "$T/err"; then
		[ "$(wc -l <"$T/err")" = 1 ] || fail "page $p: fsck says more than one line: $(cat "$T/err")"
		grep -q 'restore from backup (hansa restore) or rebuild from peers (hansa rebuild)$' "$T/err" ||
			fail "page $p: no advice: $(cat "$T/err")"
		grep -q 'crashed' "$T/err" && crashes=$((crashes + 1))
	else
		grep -q '^hansa fsck: ' "$T/err" || fail "page $p: fsck says neither damaged nor a problem: $(cat "$T/err")"
	fi
	timeout 60 "$HANSA" --home "$T/d" serve --bind "tcp://127.0.0.1:$(free_port)" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 0 ] || [ "$rc" -ge 124 ] || insane "$T/err"; then
		fail "page $p: serve exits $rc: $(head -5 "$T/err")"
	elif grep -q 'crashed' "$T/err"; then
		grep -q '^hansa: the store is damaged (.*); restore from backup (hansa restore) or rebuild from peers (hansa rebuild)$' "$T/err" ||
			fail "page $p: serve: $(cat "$T/err")"
	fi
	echo "page $p of $pages: $(head -1 "$T/err" | cut -c1-150)"
done
[ "$crashes" -ge 1 ] || fail "no damaged page made liblmdb crash: the child check was not exercised"

# --- rebuild from a partner -------------------------------------------------------
"$HANSA" --home "$T/a" serve --bind "tcp://127.0.0.1:$PA" 2>"$T/a.log" &
APID=$!
until_ok 60 grep -q 'listening on' "$T/a.log" || fail "a did not start"
h b sync --timeout 120 >/dev/null 2>"$T/err" || fail "b's first sync with a: $(cat "$T/err")"
kill "$APID"; wait "$APID"
[ "$(h b list --ids --author "$KA" 2>/dev/null | wc -l)" = 400 ] || [ "$(h b list --ids | wc -l)" -ge 400 ] ||
	fail "b does not hold a's 400 notes"
garble "$T/a/store/data.mdb" $((pages - 2))
h a fsck >/dev/null 2>&1 && fail "a's damaged store passes fsck"
"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" 2>"$T/b.log" &
BPID=$!
until_ok 60 grep -q 'listening on' "$T/b.log" || fail "b did not start"
CODE=$(h b invite --endpoint "tcp://127.0.0.1:$PB") || fail "invite from b"
h a rebuild --timeout 60 "$CODE" >"$T/out" 2>"$T/err" || fail "rebuild: $(cat "$T/err")"
insane "$T/err" && fail "rebuild: sanitizer report"
grep -q '^rebuilt ' "$T/out" || fail "rebuild says: $(cat "$T/out")"
h a fsck >"$T/fsck" 2>&1 || fail "the rebuilt store fails fsck: $(cat "$T/fsck")"
[ "$(h a id --json | jq -r .key)" = "$KA" ] || fail "the rebuilt home has another identity"
[ "$(h a list --ids | wc -l)" = 400 ] || fail "the rebuilt store holds $(h a list --ids | wc -l) documents, not 400"
h a show notes/n0123 >/dev/null 2>&1 || fail "a's own note is not back"
ls -d "$T"/a/store.damaged-* >/dev/null 2>&1 || fail "the damaged store was not kept aside"
kill "$BPID"; wait "$BPID"; BPID=

[ "$fails" = 0 ] || { echo "damaged.t.sh: $fails failure(s)" >&2; exit 1; }
echo "damaged.t.sh: ok ($crashes crash(es) caught)"
