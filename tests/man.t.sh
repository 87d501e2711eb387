#!/usr/bin/env bash
# man.t.sh: the build wrote the manual ($HX_BUILD/man): hansa.1 and one
# hansa-COMMAND.1 per command of `hansa help`, each the same as what the
# binary makes now (`hansa man COMMAND`: not stale), free of troff
# warnings, and as man(1) renders it, naming every option `hansa COMMAND
# --help` lists. Skips (77) when man(1) is not installed.
# Needs: HANSA (the binary), HX_BUILD (the build folder).
NAME=man
. "$(dirname "$0")/cli-lib.sh"
: "${HX_BUILD:?set HX_BUILD to the build folder}"
M="$HX_BUILD/man"

"$HANSA" help >"$T/help" || { echo "man.t.sh: hansa help failed" >&2; exit 1; }
cmds=$(sed -n '/^commands:/,/^$/p' "$T/help" | awk 'NF >= 2 && /^  [a-z]/ {print $1}')
[ -n "$cmds" ] || { echo "man.t.sh: no commands in 'hansa help'" >&2; exit 1; }

check "hansa.1 was built" test -s "$M/hansa.1"
"$HANSA" man >"$T/hansa.1"
check "hansa.1 is up to date" cmp -s "$T/hansa.1" "$M/hansa.1"
for c in $cmds; do
	check "hansa-$c.1 was built" test -s "$M/hansa-$c.1"
	"$HANSA" man "$c" >"$T/page.1"
	check "hansa-$c.1 is up to date" cmp -s "$T/page.1" "$M/hansa-$c.1"
done
check "one page per command and hansa.1" test "$(ls "$M"/*.1 | wc -l)" -eq "$(($(echo "$cmds" | wc -w) + 1))"

if command -v groff >/dev/null; then
	for f in "$M"/*.1; do
		groff -man -ww -z "$f" 2>"$T/warn"
		check "$(basename "$f"): no troff warnings: $(head -c 300 "$T/warn")" test ! -s "$T/warn"
	done
fi

if ! command -v man >/dev/null; then
	echo "man.t.sh: man(1) is not installed: rendering skipped"
	done_checks || exit 1
	exit 77
fi
export MANWIDTH=80 LC_ALL=C.UTF-8
man -l "$M/hansa-search.1" >"$T/search.txt" 2>"$T/err"
check "man -l hansa-search.1 renders: $(head -c 200 "$T/err")" test -s "$T/search.txt"
check "hansa-search(1) has --limit" grep -q -- '--limit N' "$T/search.txt"
check "hansa-search(1) has its synopsis" grep -q 'hansa search \[--limit N\]' "$T/search.txt"
check "hansa-search(1) keeps the query table" grep -q '"two words"' "$T/search.txt"
check "hansa-search(1) keeps non-ASCII letters" grep -q 'Białystok' "$T/search.txt"
man -l "$M/hansa.1" >"$T/hansa.txt" 2>/dev/null
check "hansa(1) has --home" grep -q -- '--home DIR' "$T/hansa.txt"
for c in $cmds; do
	check "hansa(1) lists hansa-$c(1)" grep -q "hansa-$c(1)" "$T/hansa.txt"
	"$HANSA" "$c" --help >"$T/chelp"
	man -l "$M/hansa-$c.1" >"$T/page.txt" 2>/dev/null
	check "hansa-$c(1) has its NAME line" grep -q "hansa-$c - " "$T/page.txt"
	for o in $(sed -n '/^options/,$p' "$T/chelp" | grep -oE -- '^ +(-[a-z], )?--[a-z-]+' |
		grep -oE -- '--[a-z-]+'); do
		check "hansa-$c(1) has $o" grep -q -- "$o" "$T/page.txt"
	done
done

done_checks
