#!/usr/bin/env bash
# bundle.t.sh: offline offices and bundles end to end. A store's full
# bundle gives a fresh store the identical id set; importing twice adds
# nothing; a bundle with one byte flipped inside one entry imports all
# others and names that one; a truncated bundle imports the part before the
# cut, says where it broke and leaves fsck clean; a forged signature, a
# timestamp an hour ahead and a non-member author are refused and counted;
# the state file gives an incremental bundle that brings exactly the missing
# entries, much smaller than the full one; bad input gives one line and a
# non-zero exit.
NAME=bundle
. "$(dirname "$0")/offline-lib.sh"

corpus 1500 "$T/c.jsonl"
new_home a --name "Region Zealand" --town Sorø --country DK
new_home b --name "Cēsis office" --town Cēsis --country LV
A=$(key_of a)
B=$(key_of b)
hx a import "$T/c.jsonl" >/dev/null || fail "corpus import"
# a second version of a document and a deletion, so that history travels
printf -- '---\npath: tools/0ad\ntitle: 0ad, second version\n---\nNew body.\n' |
	hx a publish - >/dev/null || fail "publish v2"
hx a delete tools/0ad-data >/dev/null || fail "delete"
N=$(entries a)
expect "store a has entries" "$N" -gt 1500

# ---- full bundle into a fresh store ----
run hx a export --bundle "$T/full.hxb"
expect "export exit" "$rc" -eq 0
expect "export says how many" "$(out)" = "wrote $N entries ($(stat -c %s "$T/full.hxb") bytes) to $T/full.hxb"
run hx b import "$T/full.hxb"
expect "non-member entries refused" "$rc" -eq 1
grep -q "refused $N entries by $A: not a member" "$T/err" || fail "names the non-member: $(err)"
expect "nothing stored from a non-member" "$(entries b)" -eq 0
add_member b "$A"
run hx b import --json "$T/full.hxb"
expect "import exit" "$rc" -eq 0
expect "all added" "$(out | jq .added)" -eq "$N"
expect "manifest ok" "$(out | jq .manifest_ok)" = true
hx a list --ids | sort >"$T/ids.a"
hx b list --ids | sort >"$T/ids.b"
expect "identical id sets" "$(wc -l <"$T/ids.a")" -eq "$N"
cmp -s "$T/ids.a" "$T/ids.b" || fail "id sets differ after a full bundle"
expect "deleted stays deleted" "$(hx b list --json | jq '[.[] | select(.path == "tools/0ad-data")] | length')" -eq 0
expect "second version is current" "$(hx b show tools/0ad --author "$A" --json | jq -r .title)" = "0ad, second version"
fsck_ok b

# ---- twice: nothing new ----
run hx b import "$T/full.hxb"
expect "second import exit" "$rc" -eq 0
expect "second import adds nothing" "$(out | sed 's/.*imported \([0-9]*\) new.*/\1/')" -eq 0
grep -q "; $N already present" "$T/out" || fail "second import reports present: $(out)"

# ---- one byte flipped inside one entry ----
"$HELPER" --ids "$T/full.hxb" >"$T/recs"
K=700
read -r _ off len id path < <(sed -n "$((K + 1))p" "$T/recs")
at=$((off + 20 + len / 2))
cp "$T/full.hxb" "$T/tampered.hxb"
flip_byte "$T/tampered.hxb" "$at"
new_home c
add_member c "$A"
run hx c import --json "$T/tampered.hxb"
expect "tampered import exit" "$rc" -eq 1
expect "all but one imported" "$(out | jq .added)" -eq $((N - 1))
expect "one damaged" "$(out | jq .refused.damaged)" -eq 1
grep -q "record #$K at byte $off: entry damaged in transit.*$path by ${A:0:16}" "$T/err" ||
	fail "names the tampered entry ($path at byte $off): $(err)"
hx c list --ids | grep -q "$id" && fail "the tampered entry was stored"
fsck_ok c

# ---- truncated ----
size=$(stat -c %s "$T/full.hxb")
cut=$((size * 2 / 3))
head -c "$cut" "$T/full.hxb" >"$T/cut.hxb"
whole=$(awk -v c="$cut" '$2 + 20 + $3 <= c' "$T/recs" | wc -l)
new_home d
add_member d "$A"
run hx d import --json "$T/cut.hxb"
expect "truncated import exit" "$rc" -eq 1
expect "records before the cut imported" "$(out | jq .added)" -eq "$whole"
brk=$(awk -v c="$cut" '$2 + 20 + $3 > c {print $2; exit}' "$T/recs")
expect "says where it broke" "$(out | jq .truncated_at)" -eq "$brk"
grep -q "truncated at byte $brk of the $size the manifest announces: $whole of $N records read" "$T/err" ||
	fail "truncation message: $(err)"
fsck_ok d
run hx d import "$T/full.hxb"
expect "the whole bundle completes it" "$(entries d)" -eq "$N"

# ---- forged signature, future timestamp ----
"$HELPER" --forge "$T/full.hxb" "$T/forged.hxb" 5 || fail "forge helper"
read -r _ _ _ _ fpath < <(sed -n 6p "$T/recs")
new_home e
add_member e "$A"
run hx e import --json "$T/forged.hxb"
expect "forged exit" "$rc" -eq 1
expect "forged refused" "$(out | jq .refused.forged)" -eq 1
expect "the rest added" "$(out | jq .added)" -eq $((N - 1))
grep -q "record #5 at byte [0-9]*: forged (signature does not verify): $fpath by" "$T/err" ||
	fail "names the forged entry: $(err)"
FK=$("$HELPER" --future "$T/future.hxb")
add_member e "$FK"
run hx e import --json "$T/future.hxb"
expect "future refused" "$(out | jq .refused.future)" -eq 1
expect "present one added" "$(out | jq .added)" -eq 1
fsck_ok e

# ---- incremental: state -> bundle of what is missing -> import ----
# Office f holds everything but 12 entries spread evenly over the whole store
# (the worst case for buckets: each missing entry in a bucket of its own).
"$HELPER" --drop "$T/full.hxb" "$T/most.hxb" 12 || fail "drop helper"
new_home f
add_member f "$A"
hx f import "$T/most.hxb" >/dev/null 2>&1
expect "office f lacks 12" "$(entries f)" -eq $((N - 12))
run hx f state --out "$T/f.state" --json
expect "state exit" "$rc" -eq 0
state_bytes=$(stat -c %s "$T/f.state")
run hx a export --bundle "$T/inc.hxb" --missing-from "$T/f.state" --json
expect "incremental export exit" "$rc" -eq 0
inc_entries=$(out | jq .entries)
excess_max=$(out | jq .excess_max)
run hx f import --json "$T/inc.hxb"
expect "incremental import exit" "$rc" -eq 0
expect "exactly the missing 12 added" "$(out | jq .added)" -eq 12
present=$(out | jq .present)
expect "excess within the stated bound" "$present" -le "$excess_max"
hx f list --ids | sort >"$T/ids.f"
cmp -s "$T/ids.a" "$T/ids.f" || fail "office f is not complete after the incremental bundle"
full_bytes=$(stat -c %s "$T/full.hxb")
inc_bytes=$(stat -c %s "$T/inc.hxb")
expect "incremental much smaller than full (<= 1/4)" $((inc_bytes * 4)) -le "$full_bytes"
echo "bundle.t.sh: $N entries, 12 missing: full $full_bytes B, incremental $inc_bytes B" \
	"($inc_entries entries, $present already held), state $state_bytes B"
# an office that holds everything gets an empty bundle
hx a state --out "$T/a.state" >/dev/null
run hx a export --bundle "$T/none.hxb" --missing-from "$T/a.state" --json
expect "nothing missing, nothing sent" "$(out | jq .entries)" -eq 0
fsck_ok f

# ---- bad input: one line, non-zero, nothing half-written ----
bad() { # bad DESCRIPTION CMD...: one line on stderr, non-zero, empty stdout
	run "$@"
	checks=$((checks + 1))
	if [ "$rc" -eq 0 ] || [ "$(wc -l <"$T/err")" -ne 1 ] || [ -s "$T/out" ]; then
		fail "$1: want one error line and non-zero exit, got exit $rc: $(err)"
	fi
}
head -c 100 "$T/full.hxb" >"$T/short.hxb"
printf 'not a bundle\n' >"$T/text.hxb"
bad "manifest cut" hx f import "$T/short.hxb"
bad "missing file" hx f import "$T/nope.hxb"
bad "state not a state" hx a export --bundle "$T/x.hxb" --missing-from "$T/text.hxb"
head -c 50 "$T/f.state" >"$T/short.state"
bad "state cut" hx a export --bundle "$T/x.hxb" --missing-from "$T/short.state"
bad "bundle into a missing folder" hx a export --bundle "$T/no/such/dir/x.hxb"
bad "missing-from alone" hx a export --missing-from "$T/f.state"
bad "state without --out" hx a state
expect "no half-written bundle" ! -e "$T/x.hxb"
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
fsck_ok f
finish
