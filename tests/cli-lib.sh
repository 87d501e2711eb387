# cli-lib.sh: what cli-args.t.sh and man.t.sh share: a temp dir, pass/fail
# counting, and running a command with its output kept. Sourced, not run;
# the caller sets NAME first. Environment: HANSA (the binary).
set -u
: "${HANSA:?set HANSA to the hansa binary}"
T=$(mktemp -d "/tmp/hx-$NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset HANSA_HOME HANSA_PASSPHRASE
export XDG_DATA_HOME="$T/xdg"
fails=0
checks=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
	local what=$1
	shift
	checks=$((checks + 1))
	"$@" || fail "$what"
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
# done_checks: the summary line; the exit status of the test.
done_checks() {
	echo "$NAME: $checks checks, $fails failed"
	[ "$fails" -eq 0 ]
}
