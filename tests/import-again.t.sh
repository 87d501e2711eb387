#!/usr/bin/env bash
# import-again.t.sh: a JSON-lines import can be run again. A line that says
# the same as the current version of its path is left alone, so:
#  1. the same file imported three times gives one version per document;
#  2. an import killed (SIGKILL) once some batches are committed and then
#     run again gives one version per document, and the second run says how
#     many it left alone;
#  3. a changed line still makes a new version, and only that one.
# Needs: HANSA, jq, python3.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
command -v jq >/dev/null || { echo "import-again.t.sh: needs jq" >&2; exit 1; }
T=$(mktemp -d /tmp/hx-reimport.XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill -9 "$IPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
unset HANSA_HOME HANSA_PASSPHRASE
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
h() { "$HANSA" --home "$T/$H" "$@"; }
# versions: "ENTRIES DOCUMENTS" from fsck (which also checks the store)
versions() { h fsck | sed -n 's/^ok: \([0-9]*\) entries, \([0-9]*\) documents$/\1 \2/p'; }
gen() { # gen N FILE
	python3 -c "
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({'doc': 'tools/t%05d' % i, 'title': 'Tool %d' % i, 'body': 'Body of tool %d.' % i,
                      'tags': ['a', 'b%d' % (i % 7)], 'org': 'Org %d' % (i % 13), 'url': ''}))
" "$1" >"$2"
}

# --- 1. three times --------------------------------------------------------------
H=three
h init --name "Three" >/dev/null || { echo "FAIL: init" >&2; exit 1; }
gen 3000 "$T/a.jsonl"
for run in 1 2 3; do
	h import --json "$T/a.jsonl" >"$T/out" 2>"$T/err" || fail "import run $run: $(cat "$T/err")"
	want=$([ $run = 1 ] && echo 3000 || echo 0)
	[ "$(jq .added "$T/out")" = "$want" ] || fail "run $run added $(jq .added "$T/out"), not $want"
	[ $run = 1 ] || [ "$(jq .unchanged "$T/out")" = 3000 ] || fail "run $run: $(jq .unchanged "$T/out") unchanged, not 3000"
done
[ "$(versions)" = "3000 3000" ] || fail "three imports give entries/documents $(versions), not 3000 3000"
h import "$T/a.jsonl" >"$T/out" 2>&1
grep -qx "imported 0 entries from $T/a.jsonl, 3000 unchanged" "$T/out" || fail "summary: $(cat "$T/out")"

# --- 3. a changed line ------------------------------------------------------------
sed 's/"Body of tool 17\."/"Body of tool 17, revised."/' "$T/a.jsonl" >"$T/b.jsonl"
h import --json "$T/b.jsonl" >"$T/out" 2>&1 || fail "import of one changed line"
[ "$(jq .added "$T/out")" = 1 ] || fail "a changed line added $(jq .added "$T/out"), not 1"
[ "$(versions)" = "3001 3000" ] || fail "after one changed line: $(versions), not 3001 3000"
[ "$(h history tools/t00017 | wc -l)" = 2 ] || fail "tools/t00017 has not two versions"

# --- 2. killed and run again -------------------------------------------------------
H=killed
h init --name "Killed" >/dev/null || { echo "FAIL: init" >&2; exit 1; }
N=20000
gen $N "$T/big.jsonl"
# --batch 1000: several commits (the default batch of 16 MiB holds the whole file)
"$HANSA" --home "$T/killed" import --batch 1000 "$T/big.jsonl" >/dev/null 2>"$T/kill.err" &
IPID=$!
end=$((SECONDS + 300))
got=0
while [ $SECONDS -lt $end ] && kill -0 "$IPID" 2>/dev/null; do
	got=$(h list --ids 2>/dev/null | wc -l)
	[ "$got" -ge 1000 ] && break
	sleep 0.1
done
kill -9 "$IPID" 2>/dev/null
wait "$IPID" 2>/dev/null
IPID=
killed_at=$(versions | cut -d' ' -f1)
echo "killed with ${killed_at:-?} of $N entries committed"
[ -n "$killed_at" ] || fail "the store fails fsck after SIGKILL"
[ "${killed_at:-0}" -lt "$N" ] || echo "note: the import had finished before the kill (fast machine)"
h import --json "$T/big.jsonl" >"$T/out" 2>"$T/err" || fail "the import run again: $(cat "$T/err")"
[ "$(jq .unchanged "$T/out")" = "${killed_at:-x}" ] ||
	fail "the second run left $(jq .unchanged "$T/out") alone, not the ${killed_at:-?} committed before"
[ "$(versions)" = "$N $N" ] || fail "killed and run again: entries/documents $(versions), not $N $N"
h import --json "$T/big.jsonl" >"$T/out" 2>&1
[ "$(jq .added "$T/out")" = 0 ] || fail "a third run added $(jq .added "$T/out")"

grep -qE 'AddressSanitizer|runtime error' "$T/err" "$T/out" && fail "sanitizer report"
[ "$fails" = 0 ] || { echo "import-again.t.sh: $fails failure(s)" >&2; exit 1; }
echo "import-again.t.sh: ok"
