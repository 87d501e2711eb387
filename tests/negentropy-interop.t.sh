#!/usr/bin/env bash
# negentropy-interop.t.sh: our Negentropy implementation (tests/ne_harness)
# against a separate one, the npm package @nostr-dev-kit/sync
# (tests/interop/ne-node.mjs), over the reference test suite's line
# protocol, driven by tests/interop/ne-fuzz.mjs:
#  - both roles, random sets of several sizes, with and without frame size
#    limits: both sides must end with the same set (the union);
#  - the same sessions run C-vs-C and npm-vs-npm: the first message must be
#    byte-identical, and without frame limits every message must be the
#    same range by range (npm writes echoed bounds with zero-padded 32-byte
#    id prefixes, so those are compared as values; with frame limits npm's
#    cut-off differs from the reference, so only convergence is checked);
#  - with NE_REF_HARNESS=CMD (a build of the reference C++ harness), every
#    message must also be byte-identical to the reference's.
# Needs node and npm; installs the pinned package into $HX_BUILD/ne-interop
# on first use (npm registry). Fails, never skips, when they are missing.
set -euo pipefail
: "${HX_BUILD:?}" "${HX_SRC:?}"

fail() { echo "FAIL: $*" >&2; exit 1; }

C="$HX_BUILD/tests/ne_harness"
[ -x "$C" ] || fail "no harness at $C (build the ne_harness target)"
command -v node >/dev/null || fail "node is required for the interop test (apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is required for the interop test"

I="$HX_BUILD/ne-interop"
mkdir -p "$I"
cp "$HX_SRC/tests/interop/package.json" "$HX_SRC/tests/interop/package-lock.json" \
   "$HX_SRC/tests/interop/ne-node.mjs" "$HX_SRC/tests/interop/ne-fuzz.mjs" "$I/"
if [ ! -f "$I/node_modules/@nostr-dev-kit/sync/package.json" ] ||
   ! cmp -s "$I/package-lock.json" "$I/node_modules/.package-lock.json.hansa" 2>/dev/null; then
	echo "installing @nostr-dev-kit/sync into $I ..."
	(cd "$I" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
		fail "npm ci of @nostr-dev-kit/sync failed (is the npm registry reachable?)"
	cp "$I/package-lock.json" "$I/node_modules/.package-lock.json.hansa"
fi
ver=$(node -e "console.log(require('$I/node_modules/@nostr-dev-kit/sync/package.json').version)")
[ "$ver" = "1.0.0" ] || fail "unexpected @nostr-dev-kit/sync version $ver"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
N="node $I/ne-node.mjs"
F="node $I/ne-fuzz.mjs"
runs=0

# The line protocol itself: version fallback and an empty full-range IdList.
for h in "$C" "$N"; do
	out=$(printf 'item,12345,%s\nseal\nmsg,62aabbccddeeff\nmsg,6100000200\n' \
		eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee | $h)
	[ "$(echo "$out" | sed -n 1p)" = "msg,61" ] || fail "$h: no version fallback: $out"
	echo "$out" | sed -n 2p | grep -q '^msg,6100.*0201eeee' || fail "$h: bad IdList reply: $out"
done

# Convergence in both roles.
while read -r opts; do
	[ -n "$opts" ] || continue
	$F --h1 "$C" --h2 "$N" $opts >"$T/log" || fail "C initiator vs npm responder: $opts"
	$F --h1 "$N" --h2 "$C" $opts >"$T/log" || fail "npm initiator vs C responder: $opts"
	runs=$((runs + 2))
	echo "converged both ways: $opts ($(cat "$T/log"))"
done <<'CASES'
--recs 1 --p1 1 --p2 1 --p3 1 --seed 1
--recs 31 --p1 1 --p2 1 --p3 2 --seed 2
--recs 32 --p1 0 --p2 1 --p3 2 --seed 3
--recs 33 --p1 1 --p2 0 --p3 2 --seed 4
--recs 1000 --p1 1 --p2 1 --p3 10 --seed 5
--recs 10000 --p1 1 --p2 1 --p3 98 --seed 6
--recs 5000 --p1 1 --p2 0 --p3 0 --seed 7
--recs 5000 --p1 0 --p2 1 --p3 0 --seed 8
--recs 10000 --p1 1 --p2 1 --p3 10 --fsl1 4096 --fsl2 8192 --seed 9
--recs 10000 --p1 1 --p2 1 --p3 10 --fsl1 60000 --fsl2 4096 --seed 10
--clustered --p1 1 --p2 1 --p3 5 --fsl1 5000 --fsl2 5000 --seed 11
CASES

# Same inputs, same messages.
while read -r opts; do
	[ -n "$opts" ] || continue
	what="C vs C converged"
	$F --h1 "$C" --h2 "$C" $opts --trace "$T/c" >/dev/null || fail "C vs C: $opts"
	case "$opts" in
	*fsl*) ;; # npm's frame cut-off differs from the reference: see above
	*)
		$F --h1 "$N" --h2 "$N" $opts --trace "$T/n" >/dev/null || fail "npm vs npm: $opts"
		head -1 "$T/c" >"$T/c1"; head -1 "$T/n" >"$T/n1"
		cmp -s "$T/c1" "$T/n1" || fail "first message differs from npm's: $opts"
		$F --compare "$T/c" "$T/n" --semantic >/dev/null || fail "messages differ from npm's: $opts"
		what="same messages as npm"
		runs=$((runs + 1)) ;;
	esac
	if [ -n "${NE_REF_HARNESS:-}" ]; then
		$F --h1 "$NE_REF_HARNESS" --h2 "$NE_REF_HARNESS" $opts --trace "$T/r" >/dev/null ||
			fail "reference vs reference: $opts"
		$F --compare "$T/c" "$T/r" >/dev/null || fail "messages differ from the reference's: $opts"
		what="$what, byte-identical to the reference"
	fi
	runs=$((runs + 1))
	echo "$what: $opts ($(wc -l <"$T/c") messages)"
done <<'CASES'
--recs 40 --p1 1 --p2 1 --p3 5 --seed 21
--recs 3000 --p1 1 --p2 1 --p3 10 --seed 22
--recs 10000 --p1 1 --p2 0 --p3 0 --seed 23
--recs 10000 --p1 0 --p2 1 --p3 0 --seed 24
--clustered --p1 1 --p2 1 --p3 3 --seed 25
--recs 20000 --p1 1 --p2 1 --p3 10 --fsl1 4096 --fsl2 30000 --seed 26
--clustered --p1 1 --p2 1 --p3 3 --fsl1 5000 --fsl2 5000 --seed 27
CASES

echo "ok: $runs sessions"
