# nodes-lib.sh: what the tests that run several `hansa serve` nodes on
# 127.0.0.1 share (replication.t.sh, replication-refused.t.sh,
# replication-live.t.sh, web.t.sh): a temp
# dir with one home per node, starting and stopping nodes with their logs in
# $T/NODE.log, waits that poll a condition with a deadline, and a sanitizer
# check. Sourced, not run; the caller sets NAME first, and INTERVAL (the
# nodes' --interval in seconds) if not 2.
# Environment: HANSA (binary). Needs jq and python3 (free ports).
set -u
: "${HANSA:?set HANSA to the hansa binary}"
command -v jq >/dev/null || { echo "$NAME: needs jq" >&2; exit 1; }
command -v python3 >/dev/null || { echo "$NAME: needs python3" >&2; exit 1; }

T=$(mktemp -d "/tmp/hx-$NAME.XXXXXX")
declare -A PID=()
cleanup() {
	for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last lines)" >&2
		tail -n 15 "$f" >&2
	done
	exit 1
}
h() { local n=$1; shift; "$HANSA" --home "$T/$n" "$@"; }
free_port() {
	"$(dirname "$0")/../scripts/free-port"
}
# until_ok SECONDS CMD...: polls CMD every 0.1 s until it succeeds
until_ok() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
logged() { grep -q "$2" "$T/$1.log" 2>/dev/null; }
count() { grep -c "$2" "$T/$1.log" 2>/dev/null; }
# logged_more NODE PATTERN N: NODE's log has more than N lines matching
logged_more() { [ "$(count "$1" "$2")" -gt "$3" ]; }
start() { # start NODE PORT: until it listens
	local before
	before=$(count "$1" 'listening on')
	# not through h(): $! must be the node's own pid
	"$HANSA" --home "$T/$1" serve --bind "tcp://127.0.0.1:$2" --interval "${INTERVAL:-2}" \
		2>>"$T/$1.log" &
	PID[$1]=$!
	until_ok 30 logged_more "$1" 'listening on' "${before:-0}" || fail "$1 did not start"
}
stop() {
	kill "${PID[$1]}" && wait "${PID[$1]}" || fail "$1 did not stop cleanly"
	unset "PID[$1]"
	grep -q 'stopped' "$T/$1.log" || fail "$1 did not log its stop"
}
ids() { h "$1" list --ids | sort; }
same_ids() { [ "$(ids "$1")" = "$(ids "$2")" ]; }
sanitizer_clean() {
	! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/*.log
}
# three_in_line: homes a, b, c ("Partner A", "Partner B", "Partner C") in a
# line A <- B <- C: B joined A and C joined B by invite (B connects to A, C
# to B); A and C accept each other's entries but never connect. Sets PA PB
# PC (free ports), KA KC (identity keys), CA CB CC (invite codes).
three_in_line() {
	PA=$(free_port); PB=$(free_port); PC=$(free_port)
	for n in a b c; do
		h $n init --name "Partner ${n^^}" --country DK >/dev/null || fail "init $n"
	done
	KA=$(h a id --json | jq -r .key)
	KC=$(h c id --json | jq -r .key)
	CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || fail "invite a"
	CB=$(h b join "$CA" --endpoint "tcp://127.0.0.1:$PB" 2>/dev/null) || fail "b join a"
	h a member add "$CB" 2>/dev/null || fail "a accepts b's code"
	CC=$(h c join "$CB" --endpoint "tcp://127.0.0.1:$PC" 2>/dev/null) || fail "c join b"
	h b member add "$CC" 2>/dev/null || fail "b accepts c's code"
	h c member add "$KA" --name "Partner A" 2>/dev/null || fail "c adds a's key"
	h a member add "$KC" --name "Partner C" 2>/dev/null || fail "a adds c's key"
}
# Attached files at A (blobsync.t.sh, blobserve.t.sh): a random file in $T,
# a document files/NAME at A attaching one, a blob counter of `hansa status
# --json`, and whether a node holds a file whole and as it was.
mkfile() { head -c "$2" /dev/urandom >"$T/$1"; }
doc() { # doc NAME FILE: a document at A with FILE attached
	printf -- '---\npath: files/%s\ntitle: %s\nkind: toolkit\nlang: en\n---\nThe %s toolkit.\n' \
		"$1" "$1" "$1" >"$T/$1.md"
	h a publish "$T/$1.md" --attach "$T/$2" >/dev/null || fail "publish $1 at a"
}
blob_json() { h "$1" status --json | jq -r ".blobs.$2"; }
has_file() { # has_file NODE DOC NAME: NODE holds the file whole, and it is the original
	h "$1" get "files/$2" "$3" -o "$T/out-$1-$3" >/dev/null 2>&1 && cmp -s "$T/out-$1-$3" "$T/$3"
}
