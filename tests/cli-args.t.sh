#!/usr/bin/env bash
# cli-args.t.sh: the one option parser (cli/args.c) through every command:
# --help works for each and lists the same options as its synopsis and its
# man page text; an unknown option, a missing value, a value given to a
# flag and a wrong number of arguments are each one line
# "hansa CMD: ... (try 'hansa CMD --help')" with exit 2 and nothing on
# stdout; --opt=VAL equals --opt VAL, -oVAL equals -o VAL, "--" ends the
# options, -h/--help wins over a bad option; hansa's own --home likewise.
# Needs: HANSA (the binary).
NAME=cli-args
. "$(dirname "$0")/cli-lib.sh"
H="$T/home"
h() { "$HANSA" --home "$H" "$@"; }

# usage WHO PATTERN CMD...: exit 2, one line on stderr naming WHO ("hansa
# list", "hansa member", "hansa") with PATTERN and the --help hint, no
# stdout.
usage() {
	local who=$1 pat=$2
	shift 2
	run "$@"
	checks=$((checks + 1))
	if [ "$rc" -ne 2 ] || [ -s "$T/out" ] || [ "$(wc -l <"$T/err")" -ne 1 ] ||
		! grep -q "^$who: .*$pat.* (try '$who --help')\$" "$T/err"; then
		fail "usage error for [$*]: exit $rc, stderr [$(cat "$T/err")], stdout [$(head -c 100 "$T/out")]"
	fi
}

h init --name "Args Test" >/dev/null 2>&1 || { echo "cli-args.t.sh: init failed" >&2; exit 1; }
printf -- '---\npath: notes/a\ntitle: Alpha practice\nkind: practice\ntags: [x]\n---\nbody\n' >"$T/a.md"
printf -- '---\npath: notes/b\ntitle: Beta toolkit\nkind: toolkit\n---\nbody\n' >"$T/b.md"
h publish "$T/a.md" >/dev/null && h publish "$T/b.md" >/dev/null || fail "publish"

# ---- every command: --help, its options, an unknown option ------------------
run "$HANSA" help
cmds=$(sed -n '/^commands:/,/^$/p' "$T/out" | awk 'NF >= 2 && /^  [a-z]/ {print $1}')
check "hansa help lists commands" test "$(echo "$cmds" | wc -w)" -ge 20
for c in $cmds; do
	run "$HANSA" "$c" --help
	check "$c --help: exit 0, nothing on stderr" test "$rc" -eq 0 -a ! -s "$T/err"
	cp "$T/out" "$T/help"
	check "$c --help starts with usage" grep -q "^usage: hansa $c" "$T/help"
	check "$c --help lists -h, --help" grep -q "^  -h, --help" "$T/help"
	# the synopsis (the usage lines) and the option list name the same options
	syn=$(sed -n '1,/^$/p' "$T/help" | grep -oE -- '(^|[ [])--[a-z][a-z-]*' |
		grep -oE -- '--[a-z-]+' | sort -u)
	list=$(sed -n '/^options/,$p' "$T/help" | grep -oE -- '^ +(-[a-z], )?--[a-z-]+' |
		grep -oE -- '--[a-z-]+' | grep -vx -- --help | sort -u)
	check "$c: synopsis and option list agree ($(echo $syn) / $(echo $list))" test "$syn" = "$list"
	run "$HANSA" man "$c"
	check "hansa man $c: exit 0" test "$rc" -eq 0
	check "hansa man $c: a man page" grep -q "^\.TH HANSA\\\\-" "$T/out"
	for o in $list; do
		check "hansa-$c(1) has $o" grep -qF -- "\\fB$(echo "$o" | sed 's/-/\\-/g')\\fR" "$T/out"
	done
	case $c in
	member | peer | device)
		usage "hansa $c" "unknown option '--no-such-option'" h "$c" list --no-such-option
		usage "hansa $c" "unknown option '-Z'" h "$c" list -Z
		;;
	org)
		usage "hansa $c" "unknown option '--no-such-option'" h "$c" rotate --no-such-option
		usage "hansa $c" "unknown option '-Z'" h "$c" rotate -Z
		;;
	search) # -Z is a query word there (excludes Z)
		usage "hansa $c" "unknown option '--no-such-option'" h "$c" --no-such-option ;;
	*)
		usage "hansa $c" "unknown option '--no-such-option'" h "$c" --no-such-option
		usage "hansa $c" "unknown option '-Z'" h "$c" -Z
		;;
	esac
done
run "$HANSA" man
check "hansa man: hansa(1)" grep -q '^\.TH HANSA 1' "$T/out"
for c in $cmds; do
	check "hansa(1) names hansa-$c(1)" grep -qF "hansa\\-$c (1)" "$T/out"
done
usage "hansa man" "no command 'frob'" "$HANSA" man frob

# ---- the same errors everywhere ----------------------------------------------
usage "hansa list" "missing value for option '--kind K'" h list --kind
usage "hansa export" "missing value for option '-o FILE'" h export --format jsonl -o
usage "hansa list" "option '--json' takes no value" h list --json=yes
usage "hansa list" "unknown option '--kind-of'" h list --kind-of=x
usage "hansa show" "give one PATH or ID" h show notes/a notes/b
usage "hansa show" "give one PATH or ID" h show
usage "hansa fsck" "unexpected argument 'extra'.*takes no arguments" h fsck extra
usage "hansa sync" "at most one PEER" h sync a b
usage "hansa member" "give add, remove, list, policy or introduce" h member
usage "hansa member" "unknown subcommand 'frob'" h member frob
usage "hansa member" "member remove takes one KEY" h member remove
usage "hansa peer" "unknown option '--json'" h peer add --json tcp://127.0.0.1:1
usage "hansa search" "no query" h search --json
usage "hansa state" "give --out FILE" h state --json
usage "hansa" "unknown option '--bogus'" "$HANSA" --bogus list
usage "hansa" "missing value for option '--home DIR'" "$HANSA" --home

# ---- what parses ---------------------------------------------------------------
run h list --kind practice
cp "$T/out" "$T/kind1"
check "list --kind practice lists one" test "$(wc -l <"$T/kind1")" -eq 1
run h list --kind=practice
check "--kind=practice is --kind practice" cmp -s "$T/out" "$T/kind1"
run h list --json --kind=toolkit
check "options in any order, --opt=VAL" grep -q '"notes/b"' "$T/out"
run h search --limit=1 --json practice
check "search --limit=1" test "$rc" -eq 0
run h export --format=jsonl -o "$T/x1.jsonl"
check "export -o FILE" test "$rc" -eq 0 -a -s "$T/x1.jsonl"
run h export --format jsonl -o"$T/x2.jsonl"
check "export -oFILE" cmp -s "$T/x1.jsonl" "$T/x2.jsonl"
run h export --out="$T/x3.jsonl" --format=jsonl
check "export --out=FILE" cmp -s "$T/x1.jsonl" "$T/x3.jsonl"
run h show -- notes/a
check "show -- PATH" grep -q '^Alpha practice' "$T/out"
# after --, an option-like word is an argument: here a path nobody has
run h show -- --json
check "show -- --json: an argument, not an option (exit 1)" test "$rc" -eq 1
check "show -- --json: says no document" grep -q "no document at path --json" "$T/err"
# a query word with one '-' excludes, it is no option
run h search practice -toolkit --json
check "search -word is a query word" test "$rc" -eq 0
check "search -toolkit keeps notes/a" grep -q '"notes/a"' "$T/out"
check "search -toolkit drops notes/b" test "$(grep -c '"notes/b"' "$T/out")" -eq 0
run h search practice -hotel --json
check "search -hotel is a query word, not -h" grep -q '"notes/a"' "$T/out"
# help wins over a bad option, before "--" only
run h list --bogus --help
check "list --bogus --help: help, exit 0" test "$rc" -eq 0
check "list --bogus --help: usage" grep -q '^usage: hansa list' "$T/out"
run h member add -h
check "member add -h: the member help" grep -q '^usage: hansa member add' "$T/out"
run "$HANSA" --home="$H" id --json
check "hansa --home=DIR" grep -q 'Args Test' "$T/out"
# a repeatable option keeps every value
run h publish --tag one --tag=two "$T/a.md"
run h show --json notes/a
check "--tag twice gives two tags" grep -q '"one",' "$T/out"
check "--tag=two" grep -q '"two"' "$T/out"

done_checks
