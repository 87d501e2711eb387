#!/usr/bin/env bash
# bundle-files.t.sh: bundles carry attached files. A bundle with files
# round-trips to a fresh home (get gives identical bytes); --without-files
# carries none (size, and the import lists the files as missing); an
# incremental bundle against an office that already has one of two files
# holds only the other; a chunk that does not match its hash list, and a
# chunk damaged in transit, cost only their file (named on one line) while
# every entry and the other files import and fsck stays clean; a truncated
# bundle yields every entry and every file whose chunks all came before
# the cut.
NAME=bundle-files
. "$(dirname "$0")/offline-lib.sh"
BHELPER="$HX_BUILD/tests/test_bundle_blob"

new_home a --name "Region Zealand"
A=$(key_of a)
python3 - "$T" <<'PY'
import os, random, sys
d = sys.argv[1]
random.seed(11)
def put(name, n):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(random.getrandbits(8) for _ in range(n)))
put("f1.bin", 3 * 262144 + 4321)   # 4 chunks
put("f2.bin", 2 * 262144 + 17)     # 3 chunks
put("f3.bin", 1000)                # 1 chunk
PY
doc() { # doc PATH: a Markdown document
	printf -- '---\npath: %s\ntitle: %s\nkind: toolkit\n---\nBody of %s.\n' "$1" "$1" "$1" >"$T/doc.md"
}
doc toolkits/one
run hx a publish "$T/doc.md" --attach "$T/f1.bin"
expect "publish one: $(err)" "$rc" -eq 0
# the office d gets the first document and its file now
run hx a export --bundle "$T/first.hxb"
expect "export first" "$rc" -eq 0
new_home d
add_member d "$A"
run hx d import "$T/first.hxb"
expect "office d takes the first file: $(err)" "$rc" -eq 0
grep -q "took 1 attached file" "$T/out" || fail "first import says it took a file: $(out)"
doc toolkits/two
run hx a publish "$T/doc.md" --attach "$T/f2.bin" --attach "$T/f3.bin"
expect "publish two: $(err)" "$rc" -eq 0
N=$(entries a)

# ---- full bundle into a fresh home ----
run hx a export --bundle "$T/full.hxb" --json
expect "export exit: $(err)" "$rc" -eq 0
expect "three files in the bundle" "$(out | jq .files)" -eq 3
fbytes=$(($(stat -c %s "$T/f1.bin") + $(stat -c %s "$T/f2.bin") + $(stat -c %s "$T/f3.bin")))
expect "bundle holds the files' bytes" "$(stat -c %s "$T/full.hxb")" -gt "$fbytes"
new_home b
add_member b "$A"
run hx b import --json "$T/full.hxb"
expect "import exit: $(err)" "$rc" -eq 0
expect "all entries added" "$(out | jq .added)" -eq "$N"
expect "three files taken" "$(out | jq .files.added)" -eq 3
for f in f1 f2 f3; do
	p=toolkits/two
	[ $f = f1 ] && p=toolkits/one
	run hx b get "$p" $f.bin -o "$T/b-$f.bin"
	expect "get $f: $(err)" "$rc" -eq 0
	cmp -s "$T/b-$f.bin" "$T/$f.bin" || fail "$f differs after the round trip"
done
fsck_ok b
run hx b import --json "$T/full.hxb"
expect "again: nothing new" "$(out | jq '[.added, .files.added, .files.present] | join(" ")' -r)" = "0 0 3"

# ---- --without-files ----
run hx a export --bundle "$T/bare.hxb" --without-files --json
expect "without-files exit" "$rc" -eq 0
expect "no file written" "$(out | jq .files)" -eq 0
expect "three left out" "$(out | jq .files_left_out)" -eq 3
expect "much smaller than the files" "$(stat -c %s "$T/bare.hxb")" -lt 20000
expect "no blob record" "$("$BHELPER" --blobs "$T/bare.hxb" | wc -l)" -eq 0
expect "an entries-only bundle is format 1" "$(od -An -tu1 -j9 -N1 "$T/bare.hxb" | tr -d ' ')" -eq 1
new_home c
add_member c "$A"
run hx c import "$T/bare.hxb"
expect "bare import exit: $(err)" "$rc" -eq 0
run hx c show toolkits/two
grep -q 'f2.bin .* missing$' "$T/out" || fail "show lists f2.bin as missing: $(out)"

# ---- incremental: office d has f1, lacks f2 and f3 ----
run hx d state --out "$T/d.state" --json
expect "state exit: $(err)" "$rc" -eq 0
expect "the state lists d's file" "$(out | jq .files)" -eq 1
run hx a export --bundle "$T/inc.hxb" --missing-from "$T/d.state" --json
expect "incremental exit: $(err)" "$rc" -eq 0
expect "two files in the incremental bundle" "$(out | jq .files)" -eq 2
"$BHELPER" --blobs "$T/inc.hxb" >"$T/inc.recs"
expect "two blob records" "$(grep -c '^B' "$T/inc.recs")" -eq 2
grep -q "^B [0-9]* $(stat -c %s "$T/f1.bin") " "$T/inc.recs" && fail "the incremental bundle carries f1, which d has"
expect "smaller than the full bundle by f1" "$(stat -c %s "$T/inc.hxb")" -lt $(($(stat -c %s "$T/full.hxb") - $(stat -c %s "$T/f1.bin")))
run hx d import --json "$T/inc.hxb"
expect "incremental import: $(err)" "$rc" -eq 0
expect "d takes the two files" "$(out | jq .files.added)" -eq 2
run hx d get toolkits/two f2.bin -o "$T/d-f2.bin"
cmp -s "$T/d-f2.bin" "$T/f2.bin" || fail "f2 differs at d"
fsck_ok d

# ---- a chunk that does not match its hash list ----
"$BHELPER" --blobs "$T/full.hxb" >"$T/full.recs"
f2hash=$(awk -v s="$(stat -c %s "$T/f2.bin")" '$1 == "B" && $3 == s { print $4 }' "$T/full.recs")
off=$(awk -v h="$f2hash" '$1 == "C" && $4 == h && $5 == 1 { print $2 }' "$T/full.recs")
expect "found f2's chunk 1" -n "$off"
cp "$T/full.hxb" "$T/forged.hxb"
"$BHELPER" --reforge "$T/forged.hxb" "$off" || fail "reforge"
new_home e
add_member e "$A"
run hx e import --json "$T/forged.hxb"
expect "forged chunk: exit 1" "$rc" -eq 1
expect "forged chunk: every entry" "$(out | jq .added)" -eq "$N"
expect "forged chunk: the two others taken" "$(out | jq .files.added)" -eq 2
expect "forged chunk: one refused" "$(out | jq .files.damaged)" -eq 1
expect "one line names f2.bin" "$(grep -c 'f2.bin: chunk 1 does not match its hash' "$T/err")" -eq 1
run hx e show toolkits/two
grep -q 'f2.bin .* missing$' "$T/out" || fail "f2.bin is missing at e: $(out)"
run hx e fsck
expect "fsck clean after a forged chunk: $(err)" "$rc" -eq 0
grep -q "0 partly received" "$T/out" || fail "no half file left: $(out)"

# ---- a chunk damaged in transit (its record check fails) ----
at=$((off + 56 + 5000))
cp "$T/full.hxb" "$T/flip.hxb"
flip_byte "$T/flip.hxb" "$at"
new_home g
add_member g "$A"
run hx g import --json "$T/flip.hxb"
expect "damaged chunk: exit 1" "$rc" -eq 1
expect "damaged chunk: every entry" "$(out | jq .added)" -eq "$N"
expect "damaged chunk: the two others taken" "$(out | jq .files.added)" -eq 2
grep -q "f2.bin: 1 of its 3 chunks are missing" "$T/err" || fail "names f2.bin: $(err)"
fsck_ok g

# ---- truncated inside the second file ----
second=$(awk '$1 == "B" { n++; if (n == 2) print $2 }' "$T/full.recs")
coff=$(awk -v b="$second" '$1 == "C" && $2 > b { print $2; exit }' "$T/full.recs")
cut=$((coff + 1000))
head -c "$cut" "$T/full.hxb" >"$T/cut.hxb"
# files whose every chunk record ends before the cut
whole=$(awk -v c="$cut" '$1 == "B" { h = $4; ok[h] = 1; seen[h] = 1 }
	$1 == "C" && $2 + 56 + $3 > c { ok[$4] = 0 }
	END { n = 0; for (h in seen) n += ok[h]; print n }' "$T/full.recs")
expect "the cut leaves one whole file" "$whole" -eq 1
new_home k
add_member k "$A"
run hx k import --json "$T/cut.hxb"
expect "truncated: exit 1" "$rc" -eq 1
expect "truncated: every entry" "$(out | jq .added)" -eq "$N"
expect "truncated: the files before the cut" "$(out | jq .files.added)" -eq "$whole"
expect "truncated: reported" "$(out | jq .truncated_at)" != null
grep -q "chunks are missing from the bundle" "$T/err" || fail "names the cut file: $(err)"
run hx k fsck
expect "fsck clean after a cut: $(err)" "$rc" -eq 0
grep -q "0 partly received" "$T/out" || fail "no half file after a cut: $(out)"

# ---- over the blob limit: refused and counted, never half-stored ----
new_home l
add_member l "$A"
run hx l import --json --blob-max 500K "$T/full.hxb"
expect "over the limit: exit 1" "$rc" -eq 1
expect "over the limit: every entry" "$(out | jq .added)" -eq "$N"
expect "over the limit: two refused" "$(out | jq .files.limit)" -eq 2
expect "over the limit: the small one taken" "$(out | jq .files.added)" -eq 1
expect "one line per refused file" "$(grep -c 'over this node.s blob limits; not imported' "$T/err")" -eq 2
run hx l fsck
expect "fsck clean after refusals: $(err)" "$rc" -eq 0
grep -q "ok: 1 attached files .*, 0 partly received" "$T/out" || fail "only the small file stored: $(out)"
run hx l import --blob-max lots "$T/full.hxb"
expect "a bad --blob-max is a usage error" "$rc" -eq 2

# ---- a file no current version attaches is ignored ----
doc toolkits/one
run hx a publish "$T/doc.md"
expect "publish one again, without its file: $(err)" "$rc" -eq 0
run hx a export --bundle "$T/now.hxb" --without-files
new_home m
add_member m "$A"
run hx m import "$T/now.hxb"
expect "m has the newest versions" "$rc" -eq 0
run hx m import --json "$T/first.hxb"
expect "an older bundle: exit 0: $(err)" "$rc" -eq 0
expect "f1 is no current version's: ignored" "$(out | jq .files.ignored)" -eq 1
expect "f1 not taken" "$(out | jq .files.added)" -eq 0
fsck_ok m

finish
