#!/usr/bin/env bash
# replication-refused.t.sh: a node that is refused by a peer (it is not yet a
# member there) keeps trying, and connects once the peer has accepted it.
# B joins D's invite, so B knows D; D does not know B yet. Both run; B's
# handshake is refused (D's ZAP handler says "not a member", B logs it).
# Then D adds B while both run: B must connect and catch up with what D
# published, without a restart. libzmq gives up on an endpoint after a
# refused handshake, so this failed before the node retried by itself.
# Every wait polls a condition with a generous deadline.
# Needs: HANSA, jq, python3 (nodes-lib.sh).
NAME=replication-refused
. "$(dirname "$0")/nodes-lib.sh"

# connected NODE KEY: NODE's status shows the member KEY connected
connected() {
	h "$1" status --json | jq -e --arg k "$2" '.peers[] | select(.key == $k) | .connected' >/dev/null
}

PB=$(free_port); PD=$(free_port)
h b init --name "Partner B" --country DK >/dev/null || fail "init b"
h d init --name "Partner D" --country DK >/dev/null || fail "init d"
KD=$(h d id --json | jq -r .key)
CD=$(h d invite --endpoint "tcp://127.0.0.1:$PD") || fail "invite d"
CB=$(h b join "$CD" --endpoint "tcp://127.0.0.1:$PB" 2>/dev/null) || fail "b joins d"
cat >"$T/doc.md" <<'EOF'
---
title: Peer learning between regions
path: practices/peer-learning
---
Study visits, twinning, and a casebook.
EOF
h d publish "$T/doc.md" >/dev/null || fail "publish at d"

start d "$PD"
start b "$PB"
# D does not know B: B's handshake is refused, and B says so
until_ok 60 logged b 'refused by the peer' || fail "B was not refused by D"
until_ok 30 logged d 'refused connection' || fail "D did not log the refusal"
connected b "$KD" && fail "B connected to D before D accepted it"

# D accepts B while both run: B must connect without a restart
h d member add "$CB" 2>/dev/null || fail "d accepts b's code"
until_ok 90 connected b "$KD" || fail "B did not connect to D after D accepted it"
until_ok 60 same_ids b d || fail "B did not catch up with D"

for n in b d; do stop $n; done
sanitizer_clean || fail "sanitizer report in a node's log"
echo "replication-refused.t.sh: ok"
