#!/usr/bin/env bash
# markdown.t.sh: Markdown folders out and in. A store exported with
# `export --markdown` and imported into another home gives the same titles,
# bodies, tags, kinds, languages and metadata (compared field by field
# through `export --format jsonl`); importing the folder again changes
# nothing; editing one file makes exactly one new version; re-importing
# into the original home publishes nothing; bad files are reported as
# FILE:LINE: reason while the rest still imports; files without a path take
# it from their place in the folder.
NAME=markdown
. "$(dirname "$0")/offline-lib.sh"

corpus 300 "$T/c.jsonl"
new_home a --name "Region Zealand" --town Sorø --country DK
new_home b --name "Białystok office" --town Białystok --country PL
hx a import "$T/c.jsonl" >/dev/null || fail "corpus import"
# A document that YAML could easily get wrong.
cat >"$T/odd.md" <<'EOF'
---
path: practices/peer-learning
title: "Peer learning: \"what works\" in Cēsis & Peipsiääre"
kind: practice
lang: en
tags: [peer learning, "regions: Baltic", łódź]
org: "Vidzeme \"Planning\" Region"
region: Vidzeme
url: https://example.org/a?b=1&c=2
note: "back\\slash, colon: yes, tab\there"
---

# Peer learning

Regions learn from each other:

- study visits
- *mentoring* with `code`

> A quote, and a line with trailing spaces   
Last line: no newline at the end.
EOF
hx a publish "$T/odd.md" >/dev/null || fail "publish odd.md"
docs=$(hx a list --json | jq length)

run hx a export --markdown "$T/md"
expect "export exit" "$rc" -eq 0
expect "one file per document" "$(find "$T/md" -name '*.md' | wc -l)" -eq "$docs"
expect "folders follow the paths" -f "$T/md/practices/peer-learning.md"
for k in path title kind lang tags org author id timestamp; do
	grep -q "^$k: " "$T/md/practices/peer-learning.md" || fail "front matter has $k"
done

run hx b import --json "$T/md"
expect "import exit" "$rc" -eq 0
expect "all published" "$(out | jq .published)" -eq "$docs"
hx a export --format jsonl | sort >"$T/a.jsonl"
hx b export --format jsonl | sort >"$T/b.jsonl"
expect "same number of documents" "$(wc -l <"$T/b.jsonl")" -eq "$docs"
cmp -s "$T/a.jsonl" "$T/b.jsonl" || {
	fail "titles, bodies, tags or metadata differ after the round trip"
	diff "$T/a.jsonl" "$T/b.jsonl" | head -6 >&2
}
expect "odd title survives" "$(hx b show practices/peer-learning --json | jq -r .title)" = \
	'Peer learning: "what works" in Cēsis & Peipsiääre'
expect "odd metadata survives" "$(hx b show practices/peer-learning --json | jq -r .meta.note)" = \
	"$(printf 'back\\slash, colon: yes, tab\there')"

# ---- again: nothing changes ----
before=$(entries b)
run hx b import --json "$T/md"
expect "second import exit" "$rc" -eq 0
expect "second import publishes nothing" "$(out | jq .published)" -eq 0
expect "all unchanged" "$(out | jq .unchanged)" -eq "$docs"
expect "no new entries" "$(entries b)" -eq "$before"

# ---- the original home: its own files are unchanged ----
run hx a import --json "$T/md"
expect "re-import into the origin publishes nothing" "$(out | jq .published)" -eq 0

# ---- edit one file: exactly one new version ----
f="$T/md/practices/peer-learning.md"
sed -i 's/^- study visits$/- study visits and job shadowing/' "$f"
run hx b import --json "$T/md"
expect "edit: exit" "$rc" -eq 0
expect "edit: exactly one published" "$(out | jq .published)" -eq 1
expect "edit: one more entry" "$(entries b)" -eq $((before + 1))
expect "edit: two versions" "$(hx b history practices/peer-learning --json | jq length)" -eq 2
hx b show practices/peer-learning | grep -q "job shadowing" || fail "edit: new body is current"
run hx b import --json "$T/md"
expect "edit: then nothing" "$(out | jq .published)" -eq 0

# ---- bad files are named, the rest imports ----
mkdir -p "$T/md/new"
printf -- '---\ntitle: [unclosed\npath: x\n---\nbody\n' >"$T/md/new/broken.md"
printf -- '---\ntitle: ok\npath: BAD PATH\n---\nbody\n' >"$T/md/new/badpath.md"
printf -- '---\ntitle: no end\n' >"$T/md/new/noclose.md"
printf -- '# Hand-written note\n\nNo front matter at all.\n' >"$T/md/new/hand-note.md"
printf -- '---\npath: practices/peer-learning\ntitle: twin\n---\nsame path\n' >"$T/md/new/twin.md"
run hx b import --json "$T/md"
expect "bad files: exit 1" "$rc" -eq 1
expect "bad files: the good new one published" "$(out | jq .published)" -eq 1
expect "bad files: four bad" "$(out | jq .bad)" -eq 4
grep -q "^$T/md/new/broken.md:[0-9]*: front matter: " "$T/err" || fail "broken.md named: $(err)"
grep -q "^$T/md/new/badpath.md:1: " "$T/err" || fail "badpath.md named: $(err)"
grep -q "^$T/md/new/noclose.md:1: front matter: no closing" "$T/err" || fail "noclose.md named: $(err)"
grep -q "^$T/md/new/twin.md:1: another file .* same path" "$T/err" || fail "twin.md named: $(err)"
expect "path from the file's place" "$(hx b show new/hand-note --json | jq -r .title)" = "Hand-written note"
fsck_ok b

# ---- --dry-run changes nothing ----
echo "extra line" >>"$T/md/new/hand-note.md"
before=$(entries b)
run hx b import --dry-run "$T/md/new"
grep -q "would publish $T/md/new/hand-note.md as hand-note" "$T/out" || fail "dry run says what: $(out)"
expect "dry run writes nothing" "$(entries b)" -eq "$before"

# ---- bad input ----
run hx b import "$T/no-such-dir"
expect "missing folder: non-zero" "$rc" -ne 0
expect "missing folder: one line" "$(wc -l <"$T/err")" -eq 1
run hx b export --markdown /proc/version/x
expect "unwritable folder: non-zero" "$rc" -ne 0
finish
