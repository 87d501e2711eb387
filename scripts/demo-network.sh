#!/usr/bin/env bash
# scripts/demo-network.sh: partners replicate over the network. Two partners
# (Region Zealand, University of Tartu) become partners by exchanging invite
# codes and run their nodes; a third office (Kaunas) joins Tartu by invite,
# catches up, finds the others' practices, and what it publishes reaches
# Zealand through Tartu (store and forward). Everything on 127.0.0.1.
# Called by scripts/demo (which exports HANSA and HX_DEMO_DIR; the homes
# `zealand` and `tartu` it made are reused when they exist); runs on its
# own too: HANSA=build/release/hansa scripts/demo-network.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HANSA=${HANSA:-$ROOT/build/release/hansa}
[ -x "$HANSA" ] || { echo "demo-network.sh: no hansa binary at $HANSA (set HANSA)" >&2; exit 1; }
if [ -n "${HX_DEMO_DIR:-}" ]; then
	D="$HX_DEMO_DIR"
	OWN=
else
	D=$(mktemp -d /tmp/hansa-network-demo.XXXXXX)
	OWN=$D
fi
DOCS="$ROOT/docs/demo"
LOGS="$D/network-logs"
mkdir -p "$LOGS"
declare -A PID=()
cleanup() {
	for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "$OWN" ] && rm -rf "$OWN"
	return 0
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
show() { # show NODE ARGS...: prints the command line
	local node=$1 a shown=""
	shift
	for a in "$@"; do
		case $a in *" "*) shown="$shown \"$a\"" ;; *) shown="$shown $a" ;; esac
	done
	case $shown in *hansa1:*) shown=$(printf '%s' "$shown" | sed -E 's/(hansa1:[A-Za-z0-9_-]{8})[A-Za-z0-9_-]*/\1…/g') ;; esac
	printf '[%s] $ hansa%s\n' "$node" "$shown"
}
as() { show "$@"; local node=$1; shift; "$HANSA" --home "$D/$node" "$@"; }
# cap NODE ARGS...: for commands whose output is captured (the command
# line goes to stderr)
cap() { show "$@" >&2; local node=$1; shift; "$HANSA" --home "$D/$node" "$@"; }
quiet() { local node=$1; shift; "$HANSA" --home "$D/$node" "$@"; }
key() { quiet "$1" id --json | sed -n 's/.*"key":[[:space:]]*"\([0-9a-f]*\)".*/\1/p'; }
free_port() {
	if command -v python3 >/dev/null; then
		python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
	else
		echo $((20000 + RANDOM % 20000))
	fi
}
serve() { # serve NODE PORT: the node runs in the background, its log in LOGS
	local node=$1 port=$2
	printf '[%s] $ hansa serve --bind tcp://127.0.0.1:%s &    (log: %s)\n' "$node" "$port" "network-logs/$node.log"
	"$HANSA" --home "$D/$node" serve --bind "tcp://127.0.0.1:$port" --interval 5 2>>"$LOGS/$node.log" &
	PID[$node]=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$LOGS/$node.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "demo-network.sh: $node did not start; its log:" >&2
	cat "$LOGS/$node.log" >&2
	exit 1
}
# wait_same A B: until both hold the same entries (at most 60 s)
wait_same() {
	for _ in $(seq 600); do
		[ "$(quiet "$1" list --ids | sort)" = "$(quiet "$2" list --ids | sort)" ] && return 0
		sleep 0.1
	done
	echo "demo-network.sh: $1 and $2 did not converge" >&2
	tail -n 5 "$LOGS"/*.log >&2
	exit 1
}

PZ=$(free_port); PT=$(free_port); PK=$(free_port)

say "Network: two partners run their own nodes and replicate."
if [ ! -d "$D/zealand" ]; then
	as zealand init --name "Region Zealand" --town Sorø --region Zealand --country DK >/dev/null
	as zealand publish "$DOCS/innovation-brokerage.md"
	as zealand publish "$DOCS/peer-learning.md"
fi
if [ ! -d "$D/tartu" ]; then
	as tartu init --name "University of Tartu" --town Tartu --region "Lõuna-Eesti" --country EE >/dev/null
	as tartu publish "$DOCS/research-infrastructure.md"
	as tartu publish "$DOCS/culture-resilience.md"
fi

echo "They become partners by exchanging two lines (an invite code each way):"
CODE_Z=$(cap zealand invite --endpoint "tcp://127.0.0.1:$PZ")
echo "  ${CODE_Z:0:48}…"
CODE_T=$(cap tartu join "$CODE_Z" --endpoint "tcp://127.0.0.1:$PT")
as zealand join "$CODE_T" --endpoint "tcp://127.0.0.1:$PZ" >/dev/null
as zealand member list
as zealand peer list

serve zealand "$PZ"
serve tartu "$PT"
wait_same zealand tartu
echo "Within moments each holds the other's practices:"
as tartu list

say "A third office in Kaunas joins Tartu by invite and catches up."
as kaunas init --name "Kaunas Region Development Agency" --town Kaunas --country LT >/dev/null
CODE_T2=$(cap tartu invite --endpoint "tcp://127.0.0.1:$PT")
CODE_K=$(cap kaunas join "$CODE_T2" --endpoint "tcp://127.0.0.1:$PK")
as tartu member add "$CODE_K"
echo "Kaunas connects only to Tartu; it accepts Zealand's entries as an author, and Zealand Kaunas's:"
as kaunas member add "$(key zealand)" --name "Region Zealand" --town Sorø --country DK
as zealand member add "$(key kaunas)" --name "Kaunas Region Development Agency" --town Kaunas --country LT
serve kaunas "$PK"
wait_same tartu kaunas
as kaunas status | sed -n '1,12p'

say "Kaunas finds the others' practices."
if "$HANSA" help search >/dev/null 2>&1; then
	as kaunas search "innovation brokerage"
	as kaunas search "bialystok"
else
	as kaunas list
fi

say "Kaunas publishes; it reaches Zealand through Tartu (store and forward)."
printf -- '---\npath: practices/kaunas-cluster-vouchers\ntitle: Cluster vouchers for small firms in Kaunas\nkind: practice\ntags: [clusters, vouchers, smes]\n---\nSmall firms get vouchers to buy services from cluster members; brokers from Zealand and Tartu reviewed the scheme.\n' |
	as kaunas publish -
for _ in $(seq 300); do
	quiet zealand show practices/kaunas-cluster-vouchers >/dev/null 2>&1 && break
	sleep 0.1
done
as zealand show practices/kaunas-cluster-vouchers | sed -n '1,4p'
echo "What the nodes logged:"
sed 's/^/  /' "$LOGS/tartu.log" | tail -n 8
