#!/usr/bin/env bash
# purge.t.sh: `hansa purge` across three nodes in a line A <- B <- C on
# 127.0.0.1 (docs/FORMAT.md §1.8.4). A publishes a contact with a phone
# number, corrects it, and a second note with another number; all reach C.
# Then:
#  1. only the author can purge: B's `hansa purge` of A's document is refused;
#  2. A purges the first version of the contact and the whole note: the
#     purge records reach B and C, the contact falls back to its corrected
#     version, the note is gone from list and search, and neither number is
#     left anywhere in B's or C's data file (grep);
#  3. the old content does not come back: an old bundle with it imported
#     again at C adds nothing, C and then B reconcile to the end (hansa
#     sync) to the same item set as A, and the data files still lack them;
#  4. a bundle, a Markdown and an HTML export made afterwards lack them, and
#     fsck passes on every node.
# Needs: HANSA, jq, python3 (nodes-lib.sh). No timed assertions.
NAME=purge
INTERVAL=1
. "$(dirname "$0")/nodes-lib.sh"

P1='Zanzibar-7731 telephone 0048 555 123 987'
P2='Quokka-4410 mobile 0045 2211 9090'
in_file() { grep -aqF "$2" "$1"; }
data() { echo "$T/$1/store/data.mdb"; }

three_in_line
start a "$PA"; start b "$PB"; start c "$PC"
until_ok 60 logged c "peer Partner B .* up" || fail "C did not connect to B"

pub() { # pub PATH TITLE BODY
	printf -- '---\ntitle: %s\npath: %s\n---\n%s\n' "$2" "$1" "$3" >"$T/doc.md"
	h a publish "$T/doc.md" >/dev/null || fail "publish $1 at a"
}
pub people/contact "Contact" "Call her on $P1 after nine."
pub people/contact "Contact" "Call her at the office (number removed)."
pub people/note "Note" "His private line: $P2."
nhist() { h "$1" history people/contact --author "$KA" --json 2>/dev/null | jq length; }
until_ok 60 sh -c "[ \"\$('$HANSA' --home '$T/c' history people/contact --author $KA --json | jq length)\" = 2 ]" ||
	fail "both versions did not reach C"
until_ok 60 h c show people/note --author "$KA" || fail "the note did not reach C"
h c export --bundle "$T/old.hxb" >/dev/null || fail "old bundle"
in_file "$T/old.hxb" "$P1" || fail "the old bundle should hold the number (the test's own check)"
for n in b c; do
	in_file "$(data $n)" "$P1" || fail "$n's data file should hold the number before the purge"
done

# --- 1. only the author -----------------------------------------------------
out=$(h b purge people/contact 2>&1) && fail "B purged A's document"
echo "$out" | grep -q "no document at path people/contact" || fail "B's refusal: $out"
V1=$(h a history people/contact --json | jq -r '.[0].id')
out=$(h b purge people/contact --version "$V1" 2>&1) && fail "B purged A's version"

# --- 2. A purges ------------------------------------------------------------
h a purge people/contact --version "$V1" | grep -q "purged 1 version of people/contact" ||
	fail "purge of the first version"
h a purge people/note | grep -q "purged 1 version of people/note" || fail "purge of the note"
out=$(h a purge people/note 2>&1) && fail "a second purge of the note should find nothing"
for n in b c; do
	until_ok 60 sh -c "[ \"\$('$HANSA' --home '$T/$n' history people/contact --author $KA --json | jq length)\" = 1 ]" ||
		fail "the purge of the first version did not reach $n"
	until_ok 60 sh -c "! '$HANSA' --home '$T/$n' show people/note --author $KA" ||
		fail "the purge of the note did not reach $n"
	h $n show people/contact --author "$KA" | grep -q "number removed" ||
		fail "$n: the contact did not fall back to its corrected version"
	h $n search Quokka-4410 2>/dev/null | grep -q people/note && fail "$n still finds the note"
	h $n list | grep -q people/note && fail "$n still lists the note"
done
for n in a b c; do
	for p in "$P1" "$P2"; do
		in_file "$(data $n)" "$p" && fail "$n's data file still holds '$p'"
	done
done

# --- 3. it does not come back -------------------------------------------------
stop c
h c import "$T/old.hxb" >"$T/reimport.out" 2>&1 || fail "import of the old bundle: $(cat "$T/reimport.out")"
grep -q "imported 0 new" "$T/reimport.out" || fail "the old bundle brought something back: $(cat "$T/reimport.out")"
h c history people/contact --author "$KA" --json | jq -e 'length == 1' >/dev/null ||
	fail "the old bundle brought the purged version back"
# a full reconciliation of C with B, then of B with A (hansa sync: once,
# to the end, while the other side serves)
h c sync >"$T/sync-c.out" 2>&1 || fail "sync c: $(cat "$T/sync-c.out")"
stop b
h b sync >"$T/sync-b.out" 2>&1 || fail "sync b: $(cat "$T/sync-b.out")"
same_ids a b || fail "B's item set differs from A's after the purge"
same_ids a c || fail "C's item set differs from A's after the purge"
for n in b c; do
	for p in "$P1" "$P2"; do
		in_file "$(data $n)" "$p" && fail "$n's data file holds '$p' again after reconciling"
	done
	h $n history people/contact --author "$KA" --json | jq -e 'length == 1' >/dev/null ||
		fail "$n fetched the purged version again"
done

# --- 4. exports and fsck -------------------------------------------------------
h c export --bundle "$T/new.hxb" >/dev/null || fail "bundle after the purge"
h c export --markdown "$T/md" >/dev/null || fail "markdown export"
h c export --html "$T/html" >/dev/null || fail "html export"
for p in "$P1" "$P2" Zanzibar Quokka; do
	in_file "$T/new.hxb" "$p" && fail "the bundle made after the purge holds '$p'"
	grep -raqF "$p" "$T/md" "$T/html" && fail "an export made after the purge holds '$p'"
done
grep -rq "number removed" "$T/md" || fail "the markdown export lacks the corrected contact"
stop a
for n in a b c; do
	h $n fsck >/dev/null 2>"$T/fsck.err" || fail "fsck at $n: $(cat "$T/fsck.err")"
done
for n in a b c; do # partners' own connections are never junk (status-net.t.sh)
	[ "$(h $n status --json | jq .connections_junk)" = 0 ] || fail "$n counted junk connections"
done
sanitizer_clean || fail "sanitizer report in a node log"
echo "purge.t.sh: ok"
