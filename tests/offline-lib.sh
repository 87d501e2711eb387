# offline-lib.sh: what the offline-office tests (bundle.t.sh, markdown.t.sh,
# html.t.sh) share: a temp dir, pass/fail counting, running hansa with its
# output kept, a sanitizer check, members, and corpus slices. Sourced, not
# run; the caller sets NAME first.
# Environment: HANSA (binary), HX_BUILD (build dir), HX_SRC (source dir),
# HX_CORPUS (optional; default $HX_SRC/../shared/data/tools-corpus.jsonl.xz).
set -u
: "${HANSA:?set HANSA to the hansa binary}"
: "${HX_BUILD:?set HX_BUILD to the build directory}"
: "${HX_SRC:?set HX_SRC to the source directory}"
command -v jq >/dev/null || { echo "$NAME: needs jq (apt-get install jq)" >&2; exit 1; }
CORPUS=${HX_CORPUS:-$HX_SRC/../shared/data/tools-corpus.jsonl.xz}
HELPER="$HX_BUILD/tests/test_bundle"

T=$(mktemp -d "/tmp/hx-$NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset HANSA_HOME HANSA_PASSPHRASE
export XDG_DATA_HOME="$T/xdg"
fails=0
checks=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
pass() { checks=$((checks + 1)); }
expect() { # expect DESCRIPTION TEST-ARGS...: a `test` that must hold
	local what=$1
	shift
	checks=$((checks + 1))
	test "$@" || fail "$what (test $*)"
}
# run CMD...: keeps stdout in $T/out, stderr in $T/err, the status in $rc,
# and fails on a sanitizer report or a signal.
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ge 128 ] || grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err"; then
		fail "crash or sanitizer report (exit $rc) from: $*"
		sed 's/^/    /' "$T/err" | head -30 >&2
	fi
}
out() { cat "$T/out"; }
err() { cat "$T/err"; }
hx() { local h=$1; shift; "$HANSA" --home "$T/$h" "$@"; }
key_of() { hx "$1" id --json | jq -r .key; }
new_home() { # new_home NAME [init options...]
	local h=$1
	shift
	hx "$h" init "$@" >/dev/null || { echo "$NAME: init $h failed" >&2; exit 1; }
}
# add_member HOME KEY [--name N --town T ...]: with `hansa member add` when
# this build has it, else through the store API (tests/test_bundle.c).
add_member() {
	local h=$1 key=$2
	shift 2
	if "$HANSA" help member >/dev/null 2>&1; then
		hx "$h" member add "$key" "$@" >/dev/null 2>"$T/member.err" ||
			{ fail "member add $key in $h"; cat "$T/member.err" >&2; }
	else
		"$HELPER" --add-member "$T/$h/store" "$key" || fail "add member $key in $h"
	fi
}
# corpus LINES FILE: the first LINES lines of the corpus, English only.
corpus() {
	[ -r "$CORPUS" ] || { echo "$NAME: corpus not found: $CORPUS" >&2; exit 1; }
	xz -dc "$CORPUS" | grep '"lang": "en"' | head -n "$1" >"$2"
}
flip_byte() { # flip_byte FILE OFFSET: flips the lowest bit of one byte in place
	local byte
	byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((byte ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
entries() { # entries HOME: number of entries in the store (fsck line)
	hx "$1" fsck | sed -n 's/^ok: \([0-9]*\) entries.*/\1/p'
}
fsck_ok() { # fsck_ok HOME
	run hx "$1" fsck
	checks=$((checks + 1))
	[ "$rc" -eq 0 ] || { fail "fsck of $1: $(err)"; }
}
finish() {
	echo "$NAME: $checks checks, $fails failed"
	[ "$fails" -eq 0 ]
}
