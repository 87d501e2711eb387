#!/usr/bin/env bash
# backup.t.sh: hansa backup and restore.
#  1. B serves and receives 10,000 entries from A; a backup of B taken
#     while they arrive restores (into a new home) to a store that passes
#     fsck and holds every entry B had committed before the backup started;
#  2. restore is refused while B's node has the home open, and a backup
#     with a damaged page is refused before anything is replaced;
#  3. backup --every 1s --keep 2 keeps taking backups and keeps the 2 newest;
#  4. bad input: one line, non-zero exit.
# Needs: HANSA, jq, python3.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
command -v jq >/dev/null || { echo "backup.t.sh: needs jq" >&2; exit 1; }
command -v python3 >/dev/null || { echo "backup.t.sh: needs python3" >&2; exit 1; }
T=$(mktemp -d /tmp/hx-backup.XXXXXX)
declare -A PID=()
cleanup() {
	for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do [ -f "$f" ] && { echo "---- $f" >&2; tail -n 10 "$f" >&2; }; done
	exit 1
}
h() { local n=$1; shift; "$HANSA" --home "$T/$n" "$@"; }
free_port() {
	"$(dirname "$0")/../scripts/free-port"
}
until_ok() {
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
start() { # start NODE PORT
	"$HANSA" --home "$T/$1" serve --bind "tcp://127.0.0.1:$2" --interval 2 2>>"$T/$1.log" &
	PID[$1]=$!
	until_ok 60 grep -q 'listening on' "$T/$1.log" || die "$1 did not start"
}
stop() {
	kill "${PID[$1]}" && wait "${PID[$1]}" || fail "$1 did not stop cleanly"
	unset "PID[$1]"
}
count() { h "$1" list --ids 2>/dev/null | wc -l; }
N=${HX_BACKUP_N:-10000} # smaller only to debug the test

PA=$(free_port); PB=$(free_port)
h a init --name "Partner A" >/dev/null || die "init a"
h b init --name "Partner B" >/dev/null || die "init b"
CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || die "invite a"
CB=$(h b join "$CA" --endpoint "tcp://127.0.0.1:$PB" 2>/dev/null) || die "b joins a"
h a member add "$CB" 2>/dev/null || die "a accepts b"
python3 -c "
import json
for i in range($N):
    print(json.dumps({'doc': 'tools/t%05d' % i, 'title': 'Tool %d' % i, 'kind': 'toolkit',
                      'body': 'A toolkit for regional partners, number %d. ' % i * 4, 'tags': ['t%d' % (i % 50)]}))
" >"$T/bulk.jsonl"
h a import "$T/bulk.jsonl" >/dev/null || die "import at a"
echo "$(date +%T) imported $N at A"

# --- 1. a backup while B receives ---------------------------------------------
start b "$PB"
start a "$PA"
until_ok 300 sh -c "[ \$('$HANSA' --home '$T/b' list --ids 2>/dev/null | wc -l) -ge 200 ]" ||
	die "B received nothing from A"
h b list --ids | sort >"$T/before"   # committed before the backup starts
h b backup "$T/bk" >"$T/backup.out" 2>"$T/backup.err" || die "backup while serving: $(cat "$T/backup.err")"
[ -s "$T/backup.err" ] && fail "backup wrote to stderr: $(cat "$T/backup.err")"
grep -q "backup written to $T/bk" "$T/backup.out" || fail "backup says: $(cat "$T/backup.out")"
[ -d "$T/bk" ] && ! ls -d "$T"/bk.tmp-* >/dev/null 2>&1 || fail "the backup folder is not complete or a temporary one is left"
[ "$(stat -c %a "$T/bk/store/data.mdb")" = 600 ] || fail "the backup's data.mdb is readable by others"
[ "$(stat -c %a "$T/bk/identity.key")" = 600 ] || fail "the backup's key is readable by others"
before=$(wc -l <"$T/before")
echo "$(date +%T) backup taken with $before entries at B"
until_ok 600 sh -c "[ \$('$HANSA' --home '$T/b' list --ids 2>/dev/null | wc -l) -ge $N ]" ||
	die "B did not receive all $N entries"

# --- 2. restore refused while B serves; a damaged backup refused -------------
echo "$(date +%T) B has all $N"
h b list --ids | sort >"$T/b.ids"
if h b restore "$T/bk" >"$T/out" 2>"$T/err"; then
	fail "restore ran while the node serves the home"
else
	grep -q 'stop it first' "$T/err" || fail "restore while serving says: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one line: $(cat "$T/err")"
fi
[ "$(h b list --ids | sort)" = "$(cat "$T/b.ids")" ] || fail "a refused restore changed B's store"
stop a; stop b

h r restore "$T/bk" >"$T/restore.out" 2>"$T/restore.err" || die "restore: $(cat "$T/restore.err")"
h r fsck >"$T/fsck.out" 2>&1 || fail "the restored store fails fsck: $(cat "$T/fsck.out")"
h r list --ids | sort >"$T/restored"
restored=$(wc -l <"$T/restored")
missing=$(comm -23 "$T/before" "$T/restored" | wc -l)
[ "$missing" = 0 ] || fail "$missing entries committed before the backup started are not in it"
[ "$(h r id --json | jq -r .key)" = "$(h b id --json | jq -r .key)" ] || fail "the restored identity is not B's"
echo "backup during replication: $before entries before it started, $restored in it, $N at the end"
[ "$restored" -lt "$N" ] || echo "note: the transfer had finished before the copy started (fast machine)"

# a damaged backup: a page overwritten with garbage (the last pages hold
# the trees' roots); nothing in the home changes
cp -r "$T/bk" "$T/bad"
pages=$(($(stat -c %s "$T/bad/store/data.mdb") / 4096))
python3 -c "
import random, sys
r = random.Random(14)
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2]) * 4096); f.write(bytes(r.randrange(256) for _ in range(4096)))
" "$T/bad/store/data.mdb" $((pages - 2))
h r list --ids | sort >"$T/r.ids"
if h r restore "$T/bad" >"$T/out" 2>"$T/err"; then
	fail "a damaged backup was restored"
else
	grep -q 'nothing was changed' "$T/err" || fail "damaged backup: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "damaged backup: more than one line: $(cat "$T/err")"
fi
grep -qE 'AddressSanitizer|runtime error' "$T/err" && fail "sanitizer report on a damaged backup"
[ "$(h r list --ids | sort)" = "$(cat "$T/r.ids")" ] || fail "a refused restore changed the home"
h r fsck >/dev/null 2>&1 || fail "the home fails fsck after a refused restore"
ls -d "$T"/r/store.restore-* >/dev/null 2>&1 && fail "a refused restore left its copy"
# another partner's backup over this home: refused without --force
h a backup "$T/bk-a" >/dev/null 2>&1 || fail "backup of a"
h r restore "$T/bk-a" >/dev/null 2>"$T/err" && fail "restored another partner's identity without --force"
grep -q 'another partner' "$T/err" || fail "other identity: $(cat "$T/err")"

# --- 3. --every --keep ----------------------------------------------------------
"$HANSA" --home "$T/b" backup --every 1s --keep 2 "$T/every" 2>"$T/every.log" &
PID[every]=$!
until_ok 120 sh -c "[ \$(grep -c 'backup .* written' '$T/every.log') -ge 4 ]" || die "backup --every did not make 4 backups"
kill -TERM "${PID[every]}"; wait "${PID[every]}" || fail "backup --every did not stop cleanly: $(tail -5 "$T/every.log")"
unset "PID[every]"
kept=$(ls -d "$T"/every/hansa-*Z 2>/dev/null | wc -l)
[ "$kept" = 2 ] || fail "--keep 2 kept $kept backups: $(ls "$T/every")"
ls -d "$T"/every/*.tmp-* >/dev/null 2>&1 && fail "--every left a temporary folder"
newest=$(ls -d "$T"/every/hansa-*Z | tail -1)
h n restore "$newest" >"$T/out" 2>&1 && h n fsck >>"$T/out" 2>&1 || fail "the newest periodic backup does not restore: $(cat "$T/out")"
[ "$(count n)" = "$N" ] || fail "the periodic backup holds $(count n) documents, not $N"

# --- 4. bad input ----------------------------------------------------------------
for args in "backup" "backup --every 0 $T/x" "backup --every 5y $T/x" "backup --keep 3 $T/x" \
	"backup $T/bk" "restore" "restore $T/nothing" "restore $T/bulk.jsonl"; do
	# shellcheck disable=SC2086
	h b $args >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "'$args' exited $rc"
	[ "$(wc -l <"$T/err")" -ge 1 ] && [ ! -s "$T/out" ] || fail "'$args': no error line or output on stdout"
done

grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/*.log && fail "sanitizer report in a log"
[ "$fails" = 0 ] || { echo "backup.t.sh: $fails failure(s)" >&2; exit 1; }
echo "backup.t.sh: ok"
