#!/usr/bin/env bash
# status-net.t.sh: `hansa status` explains the network (issue 14): a node on
# 127.0.0.1 gets 200 connections that never authenticate: 100 send junk
# bytes instead of a ZMTP greeting (an HTTP request, a scanner's probe), 100
# connect and hang up; status and its --json count them as junk, not as 0,
# and not as refused members, and the count outlives the node.
# Needs: HANSA, jq, python3 (nodes-lib.sh). No timed assertions.
NAME=status-net
. "$(dirname "$0")/nodes-lib.sh"

h a init --name "Partner A" --country DK >/dev/null || fail "init"
PA=$(free_port)
start a "$PA"
python3 - "$PA" <<'PY' || fail "the junk client"
import socket, sys
port = int(sys.argv[1])
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if i % 2 == 0:
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n" + bytes(range(256)))
    s.close()
PY
junk() { h a status --json | jq -e ".connections_junk >= $1" >/dev/null; }
until_ok 120 junk 200 || fail "status counts $(h a status --json | jq .connections_junk) junk connections, want 200"
h a status | grep -qE "^junk connections \(failed before authentication\): [0-9]+" ||
	fail "status text lacks the junk line"
[ "$(h a status --json | jq .connections_refused)" = 0 ] || fail "junk counted as refused members"
stop a
junk 200 || fail "the count did not survive the stop"
sanitizer_clean || fail "sanitizer report in the node log"
echo "status-net.t.sh: ok"
