#!/usr/bin/env bash
# clock.t.sh: a partner whose clock runs 1 hour ahead learns why it is
# refused. A (clock +3600 s through HX_TEST_CLOCK_OFFSET_S, test-only) and
# "Vidzeme Planning Region" (V) are partners. A publishes: its entry is
# dated an hour after V's clock, so V refuses it as "future" and tells A in a
# REFUSED message. A's `status --json` must name V, the reason and the
# offset; both logs warn about the skew (from HELLO); V's status names A's
# clock too. Then an entry A signs with a right clock reaches V.
# Needs: HANSA, jq, python3 (nodes-lib.sh).
NAME=clock
. "$(dirname "$0")/nodes-lib.sh"

PA=$(free_port); PV=$(free_port)
h a init --name "Partner A" --country DK >/dev/null || fail "init a"
h v init --name "Vidzeme Planning Region" --country LV >/dev/null || fail "init v"
KV=$(h v id --json | jq -r .key)
KA=$(h a id --json | jq -r .key)
CA=$(h a invite --endpoint "tcp://127.0.0.1:$PA") || fail "invite a"
CV=$(h v join "$CA" --endpoint "tcp://127.0.0.1:$PV" 2>/dev/null) || fail "v joins a"
h a member add "$CV" 2>/dev/null || fail "a accepts v's code"

cat >"$T/doc.md" <<'EOF'
---
title: Regional innovation vouchers
path: practices/innovation-vouchers
kind: practice
---
Small grants that let SMEs buy their first study from a university.
EOF
HX_TEST_CLOCK_OFFSET_S=3600 h a publish "$T/doc.md" >/dev/null || fail "publish at a"
HX_TEST_CLOCK_OFFSET_S=3600 start a "$PA"
start v "$PV"

# future_warning: A's status names V, the reason "future", 1 entry of A's,
# and A's clock about an hour ahead
future_warning() {
	h a status --json | jq -e --arg k "$KV" '.warnings[] | select(.key == $k and
		(.name | startswith("Vidzeme Planning Region")) and .reason == "future" and .yours >= 1 and
		.our_clock_ahead_s > 3500 and .our_clock_ahead_s < 3700)' >/dev/null
}
until_ok 90 future_warning || { h a status --json >&2; fail "A's status does not say why V refuses"; }
text=$(h a status --json | jq -r --arg k "$KV" '.warnings[] | select(.key == $k and .reason == "future") | .text')
case "$text" in
*"Vidzeme Planning Region ("*") refuses 1 of your entries: dated in the future"*"your clock is 60 minutes ahead"*) ;;
*) fail "A's warning reads: $text" ;;
esac
h a status | grep -q "warning:.*refuses 1 of your entries: dated in the future" ||
	fail "A's plain status has no warning"
h a status --json | jq -e --arg k "$KV" '.peers[] | select(.key == $k) |
	.refused_by_them.future == 1 and .refused_by_them_ours.future == 1' >/dev/null ||
	fail "A's peer row does not count V's refusal"
# V counted it as its own refusal, and both ends warn about the clock
h v status --json | jq -e --arg k "$KA" '.peers[] | select(.key == $k) | .refused.future >= 1' \
	>/dev/null || fail "V did not count the refusal"
h v status --json | jq -e --arg k "$KA" '.warnings[] | select(.key == $k and .reason == "clock" and
	.our_clock_ahead_s < -3500)' >/dev/null || fail "V's status does not warn about A's clock"
logged a 'clock of Vidzeme Planning Region.* is 3[56][0-9][0-9] s behind ours' ||
	fail "A did not log V's clock"
logged v 'clock of Partner A.* is 3[56][0-9][0-9] s ahead of ours' || fail "V did not log A's clock"
logged a 'Vidzeme Planning Region.* refused 1 entry we sent (1 of ours), e.g. dated in the future' ||
	fail "A did not log the refusal"
# the refused entry is not at V
h v show practices/innovation-vouchers >/dev/null 2>&1 && fail "V stored an entry from the future"

for n in a v; do stop $n; done
sanitizer_clean || fail "sanitizer report in a node's log"
echo "clock.t.sh: ok"
