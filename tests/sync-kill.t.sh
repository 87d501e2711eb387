#!/usr/bin/env bash
# sync-kill.t.sh: a node killed (SIGKILL) during the initial sync, which it
# commits in bulk transactions on its writer thread (docs/PROTOCOL.md §6.4),
# restarts and resumes: its store passes `hansa fsck` right after the kill
# (no committed entry lost, the index in step), and once restarted it ends
# with exactly A's entries (the sorted id lists compared), fsck clean again.
# Needs: HANSA, HX_BUILD (for tests/hx_badpeer), jq, python3 (free ports).
set -u
: "${HANSA:?set HANSA to the hansa binary}"
: "${HX_BUILD:?set HX_BUILD to the build directory}"
BAD="$HX_BUILD/tests/hx_badpeer"
N=${HX_SYNC_KILL_ENTRIES:-40000}
command -v jq >/dev/null || { echo "sync-kill.t.sh: needs jq" >&2; exit 1; }
command -v python3 >/dev/null || { echo "sync-kill.t.sh: needs python3" >&2; exit 1; }
[ -x "$BAD" ] || { echo "sync-kill.t.sh: no $BAD (build the tests)" >&2; exit 1; }

T=$(mktemp -d /tmp/hx-synckill.XXXXXX)
APID= BPID=
cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE

fail() {
	echo "FAIL: $*" >&2
	for f in a b; do
		[ -f "$T/$f.log" ] && { echo "---- $f.log" >&2; tail -n 15 "$T/$f.log" >&2; }
	done
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
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
count() { h b status --json --no-probe 2>/dev/null | jq -r '.entries // 0'; }

PA=$(port)
PB=$(port)
h a init --name "Partner A" >/dev/null || fail "init a"
h b init --name "Partner B" >/dev/null || fail "init b"
CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || fail "invite"
CB=$(h b join "$CA" --endpoint "tcp://127.0.0.1:$PB" 2>/dev/null) || fail "join"
h a member add "$CB" 2>/dev/null || fail "a accepts b"
"$BAD" keygen "$T/gen.key" || fail keygen
KG=$("$BAD" pubkey "$T/gen.key")
h a member add "$KG" --name Generator 2>/dev/null || fail "a adds the author"
h b member add "$KG" --name Generator 2>/dev/null || fail "b adds the author"
"$BAD" fill "$T/gen.key" "$T/a/store" 0 "$N" || fail "fill a"

"$HANSA" --home "$T/a" serve --bind "tcp://127.0.0.1:$PA" 2>"$T/a.log" &
APID=$!
until_ok 60 grep -q 'listening on' "$T/a.log" || fail "a did not start"
base=$(count)
"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" 2>"$T/b.log" &
BPID=$!

# killed once the first bulk commit is in and before the last one
end=$((SECONDS + 300))
got=$base
while [ $SECONDS -lt $end ]; do
	got=$(count)
	[ "$got" -gt "$base" ] && break
	sleep 0.05
done
kill -9 "$BPID"
wait "$BPID" 2>/dev/null
BPID=
got=$(count)
echo "b killed with $((got - base)) of $N entries"
[ "$got" -gt "$base" ] || fail "no bulk commit within 300 s"
[ "$((got - base))" -lt "$N" ] && mid=1 || mid=0
h b fsck >"$T/fsck1" 2>&1 || fail "fsck after the kill: $(tail -n 5 "$T/fsck1")"
[ "$(count)" = "$got" ] || fail "fsck changed the count"

"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" 2>>"$T/b.log" &
BPID=$!
until_ok 600 sh -c "[ \"\$('$HANSA' --home '$T/b' status --json --no-probe | jq -r .entries)\" = $((base + N)) ]" ||
	fail "b did not resume to $N entries: $(count)"
kill "$BPID"
wait "$BPID" 2>/dev/null
BPID=
[ "$(h a list --ids | sort)" = "$(h b list --ids | sort)" ] || fail "the id lists differ"
h b fsck >"$T/fsck2" 2>&1 || fail "fsck after the resume: $(tail -n 5 "$T/fsck2")"
[ "$mid" = 1 ] || echo "note: the kill came after the last commit (a fast machine)"
echo "sync-kill: ok"
