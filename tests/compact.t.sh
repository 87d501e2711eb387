#!/usr/bin/env bash
# compact.t.sh: `hansa compact` and compressed entry values from the CLI.
#  1. an import of 3000 lines (past the store's dictionary threshold)
#     exports byte-identical entries before and after `hansa compact`, the
#     compacted store passes fsck and its data file is not larger;
#  2. compact refuses, and changes nothing, while another process has the
#     store open.
# Needs: HANSA, python3, cmp.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
T=$(mktemp -d /tmp/hx-compact.XXXXXX)
trap 'exec 9<&- 2>/dev/null; rm -rf "$T"' EXIT
unset HANSA_HOME HANSA_PASSPHRASE
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
h() { "$HANSA" --home "$T/home" "$@"; }

h init --name "Compact" >/dev/null || { echo "FAIL: init" >&2; exit 1; }
python3 -c "
import json
for i in range(3000):
    print(json.dumps({'doc': 'tools/t%05d' % i, 'title': 'Tool %d for municipalities' % i,
                      'body': 'Body of tool %d: peer learning between regions, step %d.' % (i, i % 17),
                      'tags': ['a', 'b%d' % (i % 7)], 'org': 'Org %d' % (i % 13)}))
" >"$T/a.jsonl"
h import "$T/a.jsonl" >/dev/null 2>"$T/err" || fail "import: $(cat "$T/err")"
h export --bundle "$T/before.bundle" >/dev/null 2>"$T/err" || fail "export: $(cat "$T/err")"
size() { stat -c %s "$T/home/store/data.mdb"; }
s0=$(size)

# --- 1. compact ---------------------------------------------------------------
h compact >"$T/out" 2>"$T/err" || fail "compact: $(cat "$T/err")"
grep -q "^compacted .* MB -> .* MB (3000 entries)$" "$T/out" || fail "compact said: $(cat "$T/out")"
[ "$(size)" -le "$s0" ] || fail "the data file grew: $s0 -> $(size)"
h fsck >"$T/out" 2>&1 || fail "fsck after compact: $(cat "$T/out")"
grep -q "^ok: 3000 entries" "$T/out" || fail "fsck after compact: $(cat "$T/out")"
h export --bundle "$T/after.bundle" >/dev/null 2>"$T/err" || fail "export after: $(cat "$T/err")"
# the records after the 200-byte manifest (which holds the export's time)
cmp -s <(tail -c +201 "$T/before.bundle") <(tail -c +201 "$T/after.bundle") ||
	fail "the entries exported differ after compact"
[ "$(h search municipalities --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)) > 0)')" = True ] ||
	fail "search after compact finds nothing"

# --- 2. refused while the store is open ---------------------------------------
exec 9<"$T/home/store/data.mdb"
s1=$(size)
if h compact >"$T/out" 2>"$T/err"; then fail "compact ran while the store was open"; fi
grep -q "has the store in .* open" "$T/err" || fail "refusal said: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "refusal is not one line: $(cat "$T/err")"
[ "$(size)" = "$s1" ] || fail "a refused compact changed the data file"
exec 9<&-

[ $fails = 0 ] && echo "compact.t.sh: all passed" || echo "compact.t.sh: $fails failed"
exit $((fails > 0))
