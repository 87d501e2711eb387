#!/usr/bin/env bash
# org.t.sh: two people, one organisation; a lost laptop; a new organisation
# key (issue 10, docs/FORMAT.md §1.8). Partner A's home holds the
# organisation key; Anna's laptop (home a2) is a device of A made with
# `device add` / `init --device`. Nodes: A <- B <- C in a line (B relays),
# and a2 connects to A only. Then:
#  - Anna edits a document A's first person wrote: every node shows one
#    document with two versions, the second by Anna;
#  - the laptop is lost: A revokes it from the time of an entry it signed,
#    which every node had: that entry is hidden everywhere (the document
#    falls back to the version before), fsck stays clean; an entry the
#    laptop signs afterwards is refused by A (counted as revoked-device)
#    and by C when it comes in a bundle; what B refuses it does not relay;
#  - A rotates its key: old documents still verify, a new version signed
#    by the successor reaches every node.
#  - the recovery code rebuilds A's identity; a wrong character is one
#    clear error.
# Every wait polls a condition with a deadline.
# Needs: HANSA, jq, python3 (nodes-lib.sh).
NAME=org
. "$(dirname "$0")/nodes-lib.sh"

doc() { # doc FILE PATH TITLE BODY
	printf -- '---\npath: %s\ntitle: %s\nkind: practice\n---\n%s\n' "$2" "$3" "$4" >"$T/$1"
}
versions() { h "$1" history "$2" --author "$KA" --json 2>/dev/null | jq length; }
has_versions() { [ "$(versions "$1" "$2")" = "$3" ]; }
title_is() { [ "$(h "$1" show "$2" --author "$KA" --json 2>/dev/null | jq -r .title)" = "$3" ]; }
absent() { ! h "$1" show "$2" --author "$KA" >/dev/null 2>&1; }
fsck_clean() { h "$1" fsck >/dev/null 2>&1; }

three_in_line
P2=$(free_port)

# ---- two people, one organisation ------------------------------------------
CODE=$(h a device add --name "Anna, communication manager, office laptop" \
	--endpoint "tcp://127.0.0.1:$PA" 2>/dev/null) || fail "device add"
case "$CODE" in hxdev1-*+hansa1:*) ;; *) fail "device code: $CODE" ;; esac
h a2 init --device "$CODE" >/dev/null || fail "init --device"
[ "$(h a2 id --json | jq -r .key)" = "$KA" ] || fail "a2 is not a home of A"
h a device list | grep -q "Anna, communication manager" || fail "device list lacks Anna"
# a damaged code: one clear line, nothing created
BAD=$(printf '%s' "$CODE" | sed 's/^hxdev1-\(.\)/hxdev1-9/')
h bad init --device "$BAD" 2>"$T/err" && fail "a damaged device code was accepted"
[ "$(wc -l <"$T/err")" = 1 ] || fail "damaged device code: $(cat "$T/err")"
[ -e "$T/bad/identity.key" ] && fail "a damaged code left a key"

doc v1.md practices/brokerage "Brokerage v1" "Written by the project manager."
h a publish "$T/v1.md" >/dev/null || fail "publish v1 at a"
start a "$PA"; start b "$PB"; start c "$PC"; start a2 "$P2"
until_ok 90 title_is c practices/brokerage "Brokerage v1" || fail "v1 did not reach c"
until_ok 90 title_is a2 practices/brokerage "Brokerage v1" || fail "v1 did not reach a2"

doc v2.md practices/brokerage "Brokerage v2" "Edited by Anna."
h a2 publish "$T/v2.md" >/dev/null || fail "Anna cannot publish the next version"
for n in a b c; do
	until_ok 90 has_versions $n practices/brokerage 2 || fail "$n lacks Anna's version"
done
for n in a b c a2; do
	h $n history practices/brokerage --author "$KA" --json |
		jq -e '.[1].signed_by == "Anna, communication manager, office laptop" and
			.[0].signed_by == "" and .[1].signer != null' >/dev/null ||
		fail "$n does not name Anna as the signer of v2"
done
h c history practices/brokerage --author "$KA" | grep -q "(by Anna, communication manager" ||
	fail "history text does not name Anna"

# A's status names the laptop's node by its device name
anna_seen() { h a status --json | jq -e '[.peers[].name | select(test("^Anna, communication manager"))] | length >= 1' >/dev/null; }
until_ok 60 anna_seen || fail "A's status does not name Anna's node"

# an admin device certifies another: Carl (admin) adds Dora's tablet; Dora
# publishes at once (her code carries Carl's record too), and once Carl's
# node has brought Dora's record to A, Dora's node connects and her entry
# reaches C through A and B
P3=$(free_port); P4=$(free_port)
CODE3=$(h a device add --name "Carl, project manager" --admin \
	--endpoint "tcp://127.0.0.1:$PA" 2>/dev/null) || fail "device add --admin"
h c2 init --device "$CODE3" >/dev/null || fail "init carl"
CODE4=$(h c2 device add --name "Dora, legal representative, tablet" 2>/dev/null) ||
	fail "an admin device cannot add a device"
h d2 init --device "$CODE4" >/dev/null 2>"$T/err" || fail "init dora"
[ -s "$T/err" ] && fail "dora's home did not take its records: $(cat "$T/err")"
doc dora.md notes/dora "Dora's note" "From the tablet."
h d2 publish "$T/dora.md" >/dev/null || fail "Dora cannot publish"
start c2 "$P3"; start d2 "$P4"
until_ok 120 title_is c notes/dora "Dora's note" || fail "Dora's note did not reach C"
h c show notes/dora --author "$KA" --json | jq -e '.signed_by == "Dora, legal representative, tablet"' >/dev/null ||
	fail "C does not name Dora"
stop c2; stop d2

# ---- a lost laptop -----------------------------------------------------------
doc late.md practices/brokerage "Brokerage v3 (thief)" "Signed on the lost laptop."
h a2 publish "$T/late.md" >/dev/null || fail "publish late at a2"
until_ok 90 title_is c practices/brokerage "Brokerage v3 (thief)" || fail "v3 did not reach c"
TLATE=$(h a show practices/brokerage --json | jq -r .timestamp)
# C is offline while A revokes: it holds v3 and does not know yet
stop c
stop a2
h a device revoke "Anna, communication manager, office laptop" --from "$TLATE" 2>/dev/null ||
	fail "revoke"
h a device list --json | jq -e --argjson t "$TLATE" '.[] | select(.name | startswith("Anna")) | .revoked == $t' >/dev/null ||
	fail "device list does not show the revocation"
# the laptop, offline, signs more after the revocation
doc after.md notes/after "After the theft" "Signed after the revocation."
h a2 publish "$T/after.md" >/dev/null || fail "publish at the offline laptop"
h a2 export --bundle "$T/after.hxb" >/dev/null 2>&1 || fail "bundle at a2"
# A, which knows, refuses it from the bundle with its reason
h a import "$T/after.hxb" --json 2>/dev/null | jq -e '.refused.revoked_device >= 1' >/dev/null ||
	fail "A's import did not refuse the revoked laptop's entry as revoked_device"
# C, which does not know yet, takes it; when C comes back, B (which knows)
# is offered v3 and notes/after by C and refuses them, counting the reason,
# and C gets the revocation and hides both
h c import "$T/after.hxb" >/dev/null 2>&1
start c "$PC"
refused_revoked() {
	h "$1" status --json | jq -e '[.peers[].refused["revoked-device"] // 0] | add >= 1' >/dev/null
}
until_ok 90 refused_revoked b || fail "B did not count a revoked-device refusal"
# B relays only what its commit accepts: the entries it refused from C
# never reach A (B used to relay a batch ahead of its commit, refused
# entries included, and A refused them in turn). The sync point: an entry
# C publishes now reaches A through B after them, on the same connection.
received_a() { h a status --json | jq '[.peers[].received] | add'; }
R0=$(received_a)
doc sync.md notes/sync "Sync point" "Published after the refused ones."
h c publish "$T/sync.md" >/dev/null || fail "publish the sync point at c"
a_has_sync() { h a show notes/sync --author "$KC" >/dev/null 2>&1 && [ "$(received_a)" -gt "$R0" ]; }
until_ok 90 a_has_sync || fail "the sync point did not reach A (or A did not count it)"
h a status --json | jq -e '[.peers[].refused["revoked-device"] // 0] | add == 0' >/dev/null ||
	fail "B relayed entries its commit refused to A"
for n in a b c; do
	until_ok 90 title_is $n practices/brokerage "Brokerage v2" ||
		fail "$n still shows the revoked laptop's version"
	until_ok 90 absent $n notes/after || fail "$n keeps the revoked laptop's new entry"
	has_versions $n practices/brokerage 2 || fail "$n: history not 2 versions after revoke"
	fsck_clean $n || fail "fsck on $n after the revocation: $(h $n fsck 2>&1 | tail -3)"
	# quoted: the word itself, without the typo correction of a query with no hits
	h $n search '"thief"' --json | jq -e 'length == 0' >/dev/null ||
		fail "$n still finds the hidden version in the index"
done
# the earliest revocation stands: a later record (here a plain revoke,
# from now) does not move it, so a stolen admin device cannot lift it
h a device revoke "Anna, communication manager, office laptop" 2>/dev/null || fail "revoke again"
h a device list --json | jq -e --argjson t "$TLATE" '.[] | select(.name | startswith("Anna")) | .revoked == $t' >/dev/null ||
	fail "a later revocation moved the earlier one"
# the laptop's node is no longer let in
start a2 "$P2"
until_ok 90 logged a2 'refused by the peer' || fail "A still admits the revoked laptop's node"

# ---- a new organisation key ----------------------------------------------------
h a org rotate 2>/dev/null || fail "org rotate"
[ -e "$T/a/identity.key.retired" ] || fail "rotate kept no retired key"
doc v4.md practices/brokerage "Brokerage v4" "Signed by the new organisation key."
h a publish "$T/v4.md" >/dev/null || fail "publish after the rotation"
for n in a b c; do
	until_ok 90 title_is $n practices/brokerage "Brokerage v4" ||
		fail "$n did not accept the new key's version"
	fsck_clean $n || fail "fsck on $n after the rotation"
done
h c show practices/brokerage --author "$KA" --json | jq -e '.signer != null' >/dev/null ||
	fail "v4 was not signed by the successor"
# the new key certifies devices (the code hands on the invite from before)
CODE5=$(h a device add --name "Eve, financial manager" 2>/dev/null) ||
	fail "device add after the rotation"
h e2 init --device "$CODE5" >/dev/null 2>"$T/err" || fail "init eve"
[ -s "$T/err" ] && fail "eve's home did not take its record: $(cat "$T/err")"
doc eve.md notes/eve "Eve's note" "Certified by the new key."
h e2 publish "$T/eve.md" >/dev/null || fail "Eve cannot publish"
h a invite 2>"$T/err" && fail "a rotated home signed an invite"
grep -q "only the organisation key signs invite codes" "$T/err" || fail "invite: $(cat "$T/err")"
# the old key's later signatures are refused: a copy of A's home (a
# backup keeps org.json) given the retired key cannot publish
h a backup "$T/old" >/dev/null 2>&1 || fail "backup of a"
[ -e "$T/old/org.json" ] || fail "the backup lacks org.json"
cp "$T/a/identity.key.retired" "$T/old/identity.key" && rm "$T/old/org.json"
doc old.md notes/old "Old key" "Signed with the retired key."
h old publish "$T/old.md" 2>"$T/err" && fail "the retired key could still publish"
grep -q "revoked device" "$T/err" || fail "retired key: $(cat "$T/err")"

# ---- recovery code -----------------------------------------------------------
RC=$(h a org export-key 2>/dev/null) || fail "export-key"
h r init --recover "$RC" >/dev/null || fail "init --recover"
[ "$(h r id --json | jq -r .key)" = "$KA" ] || fail "recovered home is not A"
WRONG=$(printf '%s' "$RC" | sed 's/^\(hxorg1-....\)./\1A/;s/^\(hxorg1-....\)AA/\1BA/')
[ "$WRONG" != "$RC" ] || WRONG=$(printf '%s' "$RC" | sed 's/^\(hxorg1-....\)./\1B/')
h r2 init --recover "$WRONG" 2>"$T/err" && fail "a wrong recovery code was accepted"
grep -q "checksum" "$T/err" && [ "$(wc -l <"$T/err")" = 1 ] || fail "wrong code: $(cat "$T/err")"

for n in a b c a2; do stop $n; done
sanitizer_clean || fail "sanitizer report in a node's log"
echo "org.t.sh: ok"
