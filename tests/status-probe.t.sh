#!/usr/bin/env bash
# status-probe.t.sh: `hansa status` tells apart why a peer cannot be
# reached (issue 14): a name that does not resolve (DNS), a port where
# nothing listens (connection refused) and, where the test may use iptables
# in a network namespace of its own (root), a port whose packets are
# dropped (timeout). Text and --json. Only 127.0.0.1 and the reserved name
# nosuch.invalid (RFC 6761: never resolves) are used.
# Needs: HANSA, jq, python3 (nodes-lib.sh). No timed assertions.
NAME=status-probe
. "$(dirname "$0")/nodes-lib.sh"

for n in a b; do h $n init --name "Partner ${n^^}" --country DK >/dev/null || fail "init $n"; done
KA=$(h a id --json | jq -r .key)
PA=$(free_port)
CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || fail "invite a"
h b join "$CA" >/dev/null 2>&1 || fail "b joins a"
h b peer add "tcp://nosuch.invalid:7470" --key "$KA" >/dev/null 2>&1 || fail "peer add by name"

# A does not run: its port refuses; the invalid name does not resolve.
J=$(h b status --json) || fail "status --json"
probe() { echo "$J" | jq -r --arg ep "$1" '.peers[].probe[]? | select(.endpoint == $ep) | .result'; }
[ "$(probe "tcp://127.0.0.1:$PA")" = refused ] || fail "127.0.0.1:$PA: want refused, got '$(probe "tcp://127.0.0.1:$PA")'"
[ "$(probe tcp://nosuch.invalid:7470)" = dns ] || fail "nosuch.invalid: want dns, got '$(probe tcp://nosuch.invalid:7470)'"
T1=$(h b status) || fail "status"
echo "$T1" | grep -q "reachable:  tcp://127.0.0.1:$PA: connection refused" || fail "status text lacks the refusal: $T1"
echo "$T1" | grep -q "reachable:  tcp://nosuch.invalid:7470: the name nosuch.invalid does not resolve" ||
	fail "status text lacks the DNS failure: $T1"
h b status --no-probe --json | jq -e '[.peers[].probe] | all(. == null)' >/dev/null || fail "--no-probe still probes"

# A runs: its endpoint answers, and a connected peer is not probed.
start a "$PA"
h a member add "$(h b invite --endpoint tcp://127.0.0.1:1 2>/dev/null)" >/dev/null 2>&1 || true
J=$(h b status --json) || fail "status --json with a running"
[ "$(probe "tcp://127.0.0.1:$PA")" = ok ] || fail "a runs: want ok, got '$(probe "tcp://127.0.0.1:$PA")'"
stop a

# A timeout needs packets that vanish: iptables DROP in a namespace of our own.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v iptables >/dev/null &&
	unshare --net true 2>/dev/null; then
	PD=$(free_port)
	h b peer add "tcp://127.0.0.1:$PD" --key "$KA" >/dev/null 2>&1 || fail "peer add the dropped port"
	OUT=$(unshare --net bash -c '
		ip link set lo up 2>/dev/null || exit 3
		iptables -A INPUT -p tcp --dport "$1" -j DROP 2>/dev/null || exit 3
		"$2" --home "$3" status --json' _ "$PD" "$HANSA" "$T/b")
	rc=$?
	if [ $rc = 3 ]; then
		echo "status-probe.t.sh: iptables unusable in a network namespace: timeout case skipped"
	else
		[ $rc = 0 ] || fail "status in the namespace: rc $rc"
		J=$OUT
		[ "$(probe "tcp://127.0.0.1:$PD")" = timeout ] || fail "dropped port: want timeout, got '$(probe "tcp://127.0.0.1:$PD")'"
	fi
else
	echo "status-probe.t.sh: not root or no iptables/unshare: timeout case skipped"
fi
sanitizer_clean || fail "sanitizer report in the node log"
echo "status-probe.t.sh: ok"
