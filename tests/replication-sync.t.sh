#!/usr/bin/env bash
# replication-sync.t.sh: two nodes with 10,000 entries each, 5,000 of them
# the same (same bytes, same ids), the others different. B runs `hansa sync`
# against A's daemon once; afterwards both hold the union (15,000), checked
# by comparing the sorted id lists, and sync printed what moved (with the
# smallest Negentropy frame size limit, 4096 bytes: many round trips). Then a
# second sync finds nothing to do, and a sync with a stopped peer fails with
# one line and exit status 1.
# Needs: HANSA, HX_BUILD (for tests/hx_badpeer), jq, python3 (a free port).
set -u
: "${HANSA:?set HANSA to the hansa binary}"
: "${HX_BUILD:?set HX_BUILD to the build directory}"
BAD="$HX_BUILD/tests/hx_badpeer"
command -v jq >/dev/null || { echo "replication-sync.t.sh: needs jq" >&2; exit 1; }
command -v python3 >/dev/null || { echo "replication-sync.t.sh: needs python3" >&2; exit 1; }
[ -x "$BAD" ] || { echo "replication-sync.t.sh: no $BAD (build the tests)" >&2; exit 1; }

T=$(mktemp -d /tmp/hx-rsync.XXXXXX)
APID=
cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/a.log" ] && { echo "---- a.log" >&2; tail -n 20 "$T/a.log" >&2; }
	exit 1
}
h() { local n=$1; shift; "$HANSA" --home "$T/$n" "$@"; }
until_ok() {
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
listening() { grep -q 'listening on' "$T/a.log" 2>/dev/null; }

PA=$("$(dirname "$0")/../scripts/free-port")
h a init --name "Partner A" >/dev/null || fail "init a"
h b init --name "Partner B" >/dev/null || fail "init b"
CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || fail "invite"
CB=$(h b join "$CA" --endpoint tcp://127.0.0.1:9 2>/dev/null) || fail "join"
h a member add "$CB" 2>/dev/null || fail "a accepts b"

# The entries' author: a third partner both accept.
"$BAD" keygen "$T/gen.key" || fail keygen
KG=$("$BAD" pubkey "$T/gen.key")
h a member add "$KG" --name Generator 2>/dev/null || fail "a adds the author"
h b member add "$KG" --name Generator 2>/dev/null || fail "b adds the author"
"$BAD" fill "$T/gen.key" "$T/a/store" 0 10000 || fail "fill a"
"$BAD" fill "$T/gen.key" "$T/b/store" 5000 15000 || fail "fill b"
[ "$(h a list --ids | wc -l)" = 10000 ] || fail "a should hold 10000"
[ "$(h b list --ids | wc -l)" = 10000 ] || fail "b should hold 10000"
comm -12 <(h a list --ids | sort) <(h b list --ids | sort) | wc -l >"$T/common"
[ "$(cat "$T/common")" = 5000 ] || fail "the two sets should share 5000 ids"

"$HANSA" --home "$T/a" serve --bind "tcp://127.0.0.1:$PA" 2>"$T/a.log" &
APID=$!
until_ok 30 listening || fail "a did not start"

h b sync --frame-limit 4096 >"$T/sync.out" 2>"$T/sync.err" || fail "sync failed: $(cat "$T/sync.err")"
grep -q "received 5000, sent 5000, refused 0" "$T/sync.out" ||
	fail "sync output: $(cat "$T/sync.out")"
# B has everything at once; A stores what B sent before acknowledging it
[ "$(h b list --ids | wc -l)" = 15000 ] || fail "b does not hold the union"
[ "$(h a list --ids | sort)" = "$(h b list --ids | sort)" ] || fail "the id lists differ"

# Nothing left to do: a second sync moves nothing.
h b sync --json >"$T/sync2.json" || fail "second sync failed"
jq -e '.[0].ok and .[0].received == 0 and .[0].sent == 0' "$T/sync2.json" >/dev/null ||
	fail "second sync moved entries: $(cat "$T/sync2.json")"
until_ok 10 sh -c "'$HANSA' --home '$T/b' status --json | jq -e '.peers[0].we_lack == 0 and .peers[0].they_lack == 0 and .peers[0].syncs >= 2'" ||
	fail "b's status after sync: $(h b status --json)"

kill "$APID" && wait "$APID" || fail "a did not stop cleanly"
APID=
h b sync --timeout 2 >"$T/out" 2>"$T/err" && fail "sync with a stopped peer succeeded"
[ ! -s "$T/out" ] || fail "sync printed an answer on failure"
grep -q 'failed' "$T/err" || fail "no error line: $(cat "$T/err")"
! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/a.log" "$T/err" ||
	fail "sanitizer report"
h a fsck >/dev/null 2>&1 || fail "fsck a"
h b fsck >/dev/null 2>&1 || fail "fsck b"
echo "replication-sync.t.sh: ok"
