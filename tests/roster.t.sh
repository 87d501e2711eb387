#!/usr/bin/env bash
# roster.t.sh: membership that replicates (PROTOCOL.md §4.1). Five nodes on
# loopback joined B by invite; B's `member add CODE` publishes introductions
# (B's operator chose policy "any": it takes part in the roster). Policies:
# A "any", C and D "from B" (what `join` sets), E "none". A sixth
# partner F joins by one invite exchange with B. Then every node whose
# policy trusts B has F as a member, connects to it and stores its entries;
# E does not, until it adds F by hand. A removal by B drops F at A, C, D, and
# E's local decision stands. Every wait polls with a deadline.
# Needs: HANSA, jq, python3 (nodes-lib.sh).
NAME=roster
INTERVAL=2
. "$(dirname "$0")/nodes-lib.sh"

declare -A P K
for n in a b c d e f; do
	P[$n]=$(free_port)
	h $n init --name "Partner ${n^^}" --country EE >/dev/null || fail "init $n"
	K[$n]=$(h $n id --json | jq -r .key)
done
CB=$(h b invite --endpoint "tcp://127.0.0.1:${P[b]}") || fail "invite b"
# B takes part in the roster (a policy chosen by its operator): it introduces
h b member policy any 2>/dev/null || fail "policy any at b"
for n in a c d e; do
	code=$(h $n join "$CB" --endpoint "tcp://127.0.0.1:${P[$n]}" 2>"$T/join-$n.err") ||
		fail "$n joins b"
	grep -q "following the introductions" "$T/join-$n.err" || fail "$n's join set no policy"
	h b member add "$code" 2>"$T/add-$n.err" || fail "b adds $n's code"
	grep -q "introduced Partner ${n^^}" "$T/add-$n.err" || fail "b did not introduce $n"
done
h a member policy any 2>/dev/null || fail "policy any"
h e member policy none 2>/dev/null || fail "policy none"
[ "$(h a member policy)" = any ] || fail "a's policy reads $(h a member policy)"
case "$(h c member policy)" in "from Partner B"*) ;; *) fail "c's policy: $(h c member policy)" ;; esac
h e member policy sometimes 2>/dev/null && fail "a bad policy was accepted"

# member_of NODE KEY: NODE holds KEY's signed record (it can connect)
member_of() {
	h "$1" member list --json | jq -e --arg k "$2" '.[] | select(.key == $k and .signed)' >/dev/null
}
not_member_of() { ! h "$1" member list --json | jq -e --arg k "$2" '.[] | select(.key == $k)' >/dev/null; }
connected() {
	h "$1" status --json | jq -e --arg k "$2" '.peers[] | select(.key == $k) | .connected' \
		>/dev/null
}
has_id() { h "$1" list --ids | grep -qx "$2"; }

for n in a b c d e; do start $n "${P[$n]}"; done
# the four that trust B learned each other from B's introductions
until_ok 90 member_of c "${K[d]}" || fail "C did not follow B's introduction of D"
until_ok 60 member_of a "${K[c]}" || fail "A did not follow B's introduction of C"
member_of e "${K[a]}" && fail "E (policy none) followed an introduction"

# F joins by one invite exchange with B; F publishes
CF=$(h f join "$CB" --endpoint "tcp://127.0.0.1:${P[f]}" 2>/dev/null) || fail "f joins b"
h b member add "$CF" 2>/dev/null || fail "b adds f's code"
cat >"$T/f.md" <<'EOF'
---
title: Cross-border cluster matchmaking
path: practices/cluster-matchmaking
kind: practice
---
Two clusters meet twice a year and swap one project each.
EOF
h f publish "$T/f.md" >/dev/null || fail "publish at f"
IDF=$(h f list --ids)
start f "${P[f]}"
for n in a c d; do
	until_ok 90 member_of $n "${K[f]}" || fail "$n did not add F from B's introduction"
	until_ok 90 connected $n "${K[f]}" || fail "$n did not connect to F"
	until_ok 60 has_id $n "$IDF" || fail "$n does not store F's entry"
done
until_ok 60 has_id b "$IDF" || fail "B does not store F's entry"
# E follows nobody: no F, no entry, until a local decision
member_of e "${K[f]}" && fail "E (policy none) added F"
has_id e "$IDF" && fail "E stored an entry of a partner it does not accept"
h e member add "${K[f]}" 2>/dev/null || fail "e adds f by hand"
until_ok 90 has_id e "$IDF" || fail "E does not store F's entry after adding F"
member_of e "${K[f]}" || fail "E did not take F's signed record from the introduction"

# B removes F: who follows B drops it; E's own decision stands
h b member remove "${K[f]}" 2>"$T/rm.err" || fail "b removes f"
grep -q "the network was told" "$T/rm.err" || fail "b did not announce the removal"
for n in a c d; do
	until_ok 90 not_member_of $n "${K[f]}" || fail "$n did not drop F after B's removal"
done
member_of e "${K[f]}" || fail "E's local decision was overridden"

for n in a b c d e f; do stop $n; done
sanitizer_clean || fail "sanitizer report in a node's log"
echo "roster.t.sh: ok"
