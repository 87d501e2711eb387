#!/usr/bin/env bash
# scripts/offline-figures.sh: measures what an offline office carries. A
# store of ENTRIES corpus entries (default 100000) writes a full bundle; an
# office that lacks MISSING of them (default 100) writes its state file, the
# store writes the incremental bundle, the office imports it. Two cases:
# the missing entries spread evenly over the whole store (each in a bucket
# of its own: the most buckets differ), and the MISSING most recent ones (an
# office offline since a date). Prints sizes, entries sent, the excess (sent but already held) and
# state sizes for several bucket sizes. Takes about a minute per 100,000
# entries on two cores.
#   HANSA=build/hansa HX_BUILD=build scripts/offline-figures.sh [ENTRIES] [MISSING]
# HX_BUILD is needed for its tests/test_bundle (which drops records from a
# bundle); HX_CORPUS overrides the corpus.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
M=${2:-100}
HX_BUILD=${HX_BUILD:-$ROOT/build/release}
HANSA=${HANSA:-$HX_BUILD/hansa}
HELPER=$HX_BUILD/tests/test_bundle
CORPUS=${HX_CORPUS:-$ROOT/../shared/data/tools-corpus.jsonl.xz}
for f in "$HANSA" "$HELPER"; do
	[ -x "$f" ] || { echo "offline-figures.sh: $f missing (set HANSA and HX_BUILD)" >&2; exit 1; }
done
[ -r "$CORPUS" ] || { echo "offline-figures.sh: corpus not found: $CORPUS" >&2; exit 1; }
T=$(mktemp -d /tmp/hx-figures.XXXXXX)
trap 'rm -rf "$T"' EXIT
hx() { local h=$1; shift; "$HANSA" --home "$T/$h" "$@"; }
key() { hx "$1" id --json | sed -n 's/.*"key":[[:space:]]*"\([0-9a-f]*\)".*/\1/p'; }
size() { stat -c %s "$1"; }
num() { sed -n "s/.*\"$1\":[[:space:]]*\([0-9]*\).*/\1/p"; }

{ xz -dc "$CORPUS" || true; } | head -n $((N + M)) >"$T/all.jsonl" # xz stops on SIGPIPE
head -n "$N" "$T/all.jsonl" >"$T/base.jsonl"
tail -n "$M" "$T/all.jsonl" >"$T/new.jsonl"
[ "$(wc -l <"$T/new.jsonl")" -eq "$M" ] || { echo "offline-figures.sh: corpus too short" >&2; exit 1; }

hx hub init --name Hub >/dev/null
HUB=$(key hub)
echo "importing $N entries into the connected store ..."
hx hub import "$T/base.jsonl" >/dev/null
hx hub export --bundle "$T/full.hxb" >/dev/null
FULL=$(size "$T/full.hxb")

office() { # office NAME BUNDLE: a new office holding what BUNDLE brings
	hx "$1" init --name "$1" >/dev/null
	hx "$1" member add "$HUB" >/dev/null 2>&1
	hx "$1" import "$2" >/dev/null 2>&1 || true
}
# measure OFFICE LABEL: state -> incremental bundle -> import, one line
measure() {
	local o=$1 label=$2 b line=""
	for b in 8 16 32 64; do
		hx "$o" state --out "$T/$o.$b.state" --bucket "$b" >/dev/null
		hx hub export --bundle "$T/$o.$b.hxb" --missing-from "$T/$o.$b.state" --json >"$T/exp.json"
		line="$line  $(printf 'b=%-2s state %7s B, bundle %8s B (%s entries)' "$b" \
			"$(size "$T/$o.$b.state")" "$(size "$T/$o.$b.hxb")" "$(num entries <"$T/exp.json")")"$'\n'
	done
	hx "$o" import --json "$T/$o.16.hxb" >"$T/imp.json" || true
	printf '%s\n' "$label"
	printf '%s' "$line"
	printf '  import of the b=16 bundle: %s added, %s already held (the excess)\n' \
		"$(num added <"$T/imp.json")" "$(num present <"$T/imp.json")"
	printf '  incremental / full (b=16): %s\n' \
		"$(awk -v a="$(size "$T/$o.16.hxb")" -v b="$FULL" 'BEGIN { printf "%.4f%%", 100 * a / b }')"
}

"$HELPER" --drop "$T/full.hxb" "$T/most.hxb" "$M"
office spread "$T/most.hxb"
office recent "$T/full.hxb"
echo
echo "full bundle of $N entries: $FULL B"
measure spread "office lacking $M entries spread evenly over the $N:"
hx hub import "$T/new.jsonl" >/dev/null
measure recent "office lacking the $M most recent of $((N + M)):"
