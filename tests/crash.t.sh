#!/usr/bin/env bash
# crash.t.sh: an import of a corpus slice killed with SIGKILL at random
# moments, many times, each time resuming into the same home after the last
# line the import had reported as committed ("committed through line N" of
# `hansa import --verbose`). After every kill `hansa fsck` must be clean and
# every committed line must be in the store (doc path and title, compared
# with `hansa export`); at the end an uninterrupted import of the rest must
# leave exactly the slice's documents.
# Environment: HANSA (binary), HX_SRC (source dir; the corpus is
# $HX_SRC/../shared/data/tools-corpus.jsonl.xz, or HX_CORPUS), optional
# HX_CRASH_LINES (default 15000), HX_CRASH_KILLS (20), HX_CRASH_SEED,
# HX_CRASH_IMPORT_ARGS (options of every import; default --batch 1000, so
# that a run commits many times: the default batch of 16 MiB would hold
# the whole slice; crash-bulk.t.sh runs the bulk path).
set -u
: "${HANSA:?set HANSA to the hansa binary}"
SRC=${HX_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
CORPUS=${HX_CORPUS:-$SRC/../shared/data/tools-corpus.jsonl.xz}
LINES=${HX_CRASH_LINES:-15000}
KILLS=${HX_CRASH_KILLS:-20}
SEED=${HX_CRASH_SEED:-$$}
read -r -a IARGS <<<"${HX_CRASH_IMPORT_ARGS:---batch 1000}"

command -v xz >/dev/null || { echo "crash.t.sh: needs xz (apt-get install xz-utils)" >&2; exit 1; }
command -v jq >/dev/null || { echo "crash.t.sh: needs jq (apt-get install jq)" >&2; exit 1; }
[ -r "$CORPUS" ] || { echo "crash.t.sh: corpus not found: $CORPUS (the repository is checked out next to shared/)" >&2; exit 1; }

T=$(mktemp -d /tmp/hx-crash.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
H="$T/home"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
RANDOM=$SEED
echo "crash.t.sh: $LINES lines, $KILLS kills, import ${IARGS[*]}, seed $SEED (HX_CRASH_SEED=$SEED to repeat the delays)"

xz -dc "$CORPUS" 2>/dev/null | head -n "$LINES" >"$T/slice.jsonl"
have=$(wc -l <"$T/slice.jsonl")
[ "$have" -eq "$LINES" ] || { echo "crash.t.sh: the corpus gave $have lines, want $LINES" >&2; exit 1; }
# [doc, title] of each line, in line order, for the comparisons below
jq -c '[.doc, .title]' "$T/slice.jsonl" >"$T/keys" || { echo "crash.t.sh: the slice is not JSON lines" >&2; exit 1; }
: >"$T/bad-lines"

"$HANSA" --home "$H" init --name "Crash test" >/dev/null || { echo "crash.t.sh: init failed" >&2; exit 1; }

# What the store holds, as sorted [doc, title] lines.
stored() {
	"$HANSA" --home "$H" export --format jsonl >"$T/export.jsonl" 2>"$T/export.err" ||
		{ fail "export failed: $(head -n3 "$T/export.err")"; return 1; }
	jq -c '[.doc, .title]' "$T/export.jsonl" | LC_ALL=C sort >"$T/stored"
}
# The [doc, title] of lines 1..N that were not reported as bad, sorted.
expected() {
	head -n "$1" "$T/keys" |
		awk -v badfile="$T/bad-lines" 'BEGIN { while ((getline l <badfile) > 0) bad[l] = 1 } !(NR in bad)' |
		LC_ALL=C sort >"$T/expected"
}
fsck_ok() {
	"$HANSA" --home "$H" fsck >"$T/fsck.out" 2>"$T/fsck.err"
	local st=$?
	if [ $st -ne 0 ] || ! grep -q '^ok: ' "$T/fsck.out"; then
		fail "$1: fsck exit $st: $(head -n5 "$T/fsck.err")"
		return 1
	fi
}
sane_log() {
	if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$1"; then
		fail "$2: sanitizer report"
		head -n 20 "$1" >&2
	fi
}

done_lines=0 # lines committed so far (absolute)
kills=0 finished_early=0 docs_before=0 in_compact=0
run_ms=0 run_lines=0 # for the rate of this machine
for ((k = 1; k <= KILLS && done_lines < LINES; k++)); do
	tail -n +"$((done_lines + 1))" "$T/slice.jsonl" >"$T/part.jsonl"
	"$HANSA" --home "$H" import --verbose "${IARGS[@]}" "$T/part.jsonl" >"$T/import.out" 2>"$T/import.log" &
	pid=$!
	# A random moment from 30 ms (before the store opens) to about twice
	# the time this machine takes for its share of the remaining lines, so
	# that the kills spread over the slice: between batches, mid-commit.
	# Until a run has committed anything, the span doubles after each run
	# (a busy machine, or large batches, take longer to the first commit).
	if [ "$run_lines" -gt 0 ]; then
		span=$((2 * (LINES - done_lines) / (KILLS - k + 1) * run_ms / run_lines))
	else
		span=$((600 << (k - 1 < 6 ? k - 1 : 6)))
	fi
	[ "$span" -ge 50 ] || span=50
	ms=$((30 + (RANDOM * 32768 + RANDOM) % span))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	if kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
	else
		finished_early=$((finished_early + 1))
	fi
	wait "$pid" 2>/dev/null
	st=$?
	pid=
	# a compacted copy left behind: the kill came while the store was compacted
	[ -d "$H/store/data.mdb.compact" ] && in_compact=$((in_compact + 1))
	sane_log "$T/import.log" "import run $k"
	[ $st -eq 0 ] || [ $st -eq 137 ] || [ $st -eq 1 ] || fail "import run $k: exit $st"
	# bad lines of this run, as absolute line numbers
	grep -oE "^$T/part\\.jsonl:[0-9]+: " "$T/import.log" | cut -d: -f2 |
		awk -v off="$done_lines" '{ print $1 + off }' >>"$T/bad-lines"
	sort -nu -o "$T/bad-lines" "$T/bad-lines"
	last=$(grep -E '^committed through line [0-9]+$' "$T/import.log" | tail -n1 | awk '{ print $4 }')
	done_lines=$((done_lines + ${last:-0}))
	run_ms=$((run_ms + ms))
	run_lines=$((run_lines + ${last:-0}))
	echo "run $k: killed after ${ms} ms, committed through line $done_lines"

	fsck_ok "after kill $k" || continue
	docs=$(sed -E 's/^ok: [0-9]+ entries, ([0-9]+) documents$/\1/' "$T/fsck.out")
	[ "$docs" -ge "$docs_before" ] || fail "after kill $k: $docs documents, $docs_before before"
	docs_before=$docs
	stored || continue
	expected "$done_lines"
	missing=$(LC_ALL=C comm -23 "$T/expected" "$T/stored" | wc -l)
	[ "$missing" -eq 0 ] || {
		fail "after kill $k: $missing committed lines missing, e.g. $(LC_ALL=C comm -23 "$T/expected" "$T/stored" | head -n2)"
	}
	# A run that finished the slice before its kill while too few runs were
	# killed (a busy machine takes long to its first commit, so the span
	# grew past a whole run): again from an empty home, with the delays now
	# from this machine's rate.
	if [ "$done_lines" -ge "$LINES" ] && [ "$kills" -lt $((KILLS / 2)) ] && [ "$k" -lt "$KILLS" ]; then
		rm -rf "$H"
		"$HANSA" --home "$H" init --name "Crash test" >/dev/null || { fail "init again failed"; break; }
		done_lines=0 docs_before=0
		run_ms=$ms run_lines=$LINES # the whole slice took at most ms
		echo "run $k finished the slice: again from an empty home"
	fi
done

# The rest, without a kill: then the store holds exactly the slice.
if [ "$done_lines" -lt "$LINES" ]; then
	tail -n +"$((done_lines + 1))" "$T/slice.jsonl" >"$T/part.jsonl"
	"$HANSA" --home "$H" import --verbose "${IARGS[@]}" "$T/part.jsonl" >"$T/import.out" 2>"$T/import.log"
	st=$?
	sane_log "$T/import.log" "final import"
	grep -oE "^$T/part\\.jsonl:[0-9]+: " "$T/import.log" | cut -d: -f2 |
		awk -v off="$done_lines" '{ print $1 + off }' >>"$T/bad-lines"
	sort -nu -o "$T/bad-lines" "$T/bad-lines"
	if [ -s "$T/bad-lines" ]; then
		[ $st -eq 1 ] || fail "final import with bad lines: exit $st"
	else
		[ $st -eq 0 ] || fail "final import: exit $st: $(tail -n3 "$T/import.log")"
	fi
fi
if fsck_ok "at the end" && stored; then
	expected "$LINES"
	cmp -s "$T/expected" "$T/stored" || fail "at the end: the store does not hold exactly the slice ($(wc -l <"$T/stored") documents, $(wc -l <"$T/expected") expected; $(diff "$T/expected" "$T/stored" | head -n3 | tr '\n' ' '))"
fi
[ "$kills" -ge $((KILLS / 2)) ] || fail "only $kills of $KILLS runs were killed: the slice is too small for the machine"
echo "crash.t.sh: $kills kills ($in_compact while compacting), $finished_early runs finished first, $(wc -l <"$T/bad-lines") bad lines, $fails failed"
[ "$fails" -eq 0 ]
