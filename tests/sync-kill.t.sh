#!/usr/bin/env bash
# sync-kill.t.sh: a node killed (SIGKILL) during the initial sync, which it
# commits in bulk transactions on its writer thread (docs/PROTOCOL.md §6.4),
# restarts and resumes: its store passes `hansa fsck` right after the kill
# (no committed entry lost, the index in step), and once restarted it ends
# with exactly A's entries (the sorted id lists compared), fsck clean again.
# Environment: HX_BUILD (for tests/hx_badpeer) beside nodes-lib.sh's.
NAME=sync-kill
INTERVAL=30 # serve's default
. "$(dirname "$0")/nodes-lib.sh"
: "${HX_BUILD:?set HX_BUILD to the build directory}"
BAD="$HX_BUILD/tests/hx_badpeer"
N=${HX_SYNC_KILL_ENTRIES:-40000}
[ -x "$BAD" ] || { echo "sync-kill.t.sh: no $BAD (build the tests)" >&2; exit 1; }

entries() { h b status --json --no-probe 2>/dev/null | jq -r '.entries // 0'; }

PA=$(free_port)
PB=$(free_port)
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

start a "$PA"
base=$(entries)
"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" --interval "$INTERVAL" 2>"$T/b.log" &
PID[b]=$!

# killed once the first bulk commit is in and before the last one
end=$((SECONDS + 300))
got=$base
while [ $SECONDS -lt $end ]; do
	got=$(entries)
	[ "$got" -gt "$base" ] && break
	sleep 0.05
done
kill -9 "${PID[b]}"
wait "${PID[b]}" 2>/dev/null
unset "PID[b]"
got=$(entries)
echo "b killed with $((got - base)) of $N entries"
[ "$got" -gt "$base" ] || fail "no bulk commit within 300 s"
[ "$((got - base))" -lt "$N" ] && mid=1 || mid=0
h b fsck >"$T/fsck1" 2>&1 || fail "fsck after the kill: $(tail -n 5 "$T/fsck1")"
[ "$(entries)" = "$got" ] || fail "fsck changed the count"

"$HANSA" --home "$T/b" serve --bind "tcp://127.0.0.1:$PB" 2>>"$T/b.log" &
PID[b]=$!
until_ok 600 sh -c "[ \"\$('$HANSA' --home '$T/b' status --json --no-probe | jq -r .entries)\" = $((base + N)) ]" ||
	fail "b did not resume to $N entries: $(entries)"
kill "${PID[b]}"
wait "${PID[b]}" 2>/dev/null
unset "PID[b]"
[ "$(h a list --ids | sort)" = "$(h b list --ids | sort)" ] || fail "the id lists differ"
h b fsck >"$T/fsck2" 2>&1 || fail "fsck after the resume: $(tail -n 5 "$T/fsck2")"
[ "$mid" = 1 ] || echo "note: the kill came after the last commit (a fast machine)"
echo "sync-kill: ok"
