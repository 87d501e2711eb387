#!/usr/bin/env bash
# search.t.sh: `hansa search` and `hansa reindex` end to end: a small
# library imported from JSON lines, then searches for names typed without
# diacritics, stems, phrases, prefixes, exclusions, OR and filters; --json
# (checked with jq), --limit/--offset, --facets, plain output when piped,
# did-you-mean, a new version and a deletion through publish/delete, fsck
# and reindex; and bad queries, each one line on stderr, exit 1, nothing on
# stdout. Needs: HANSA (the binary), jq.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
command -v jq >/dev/null || { echo "search.t.sh: needs jq (apt-get install jq)" >&2; exit 1; }

T=$(mktemp -d /tmp/hx-search.XXXXXX)
trap 'rm -rf "$T"' EXIT
unset HANSA_HOME HANSA_PASSPHRASE NO_COLOR
H="$T/home"
fails=0
checks=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
sane() {
	if [ "$rc" -ge 128 ] || grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err"; then
		fail "crash or sanitizer report (exit $rc) from: $*"
		head -20 "$T/err" >&2
	fi
}
hs() { run "$HANSA" --home "$H" search "$@"; sane search "$@"; }
# paths QUERY...: the result paths, one line, space separated
paths() { hs --json "$@"; jq -r '[.[].path] | join(" ")' <"$T/out"; }
expect() { # expect WANT QUERY...
	local want=$1
	shift
	checks=$((checks + 1))
	local got
	got=$(paths "$@")
	[ "$rc" -eq 0 ] || fail "search $* exited $rc: $(head -c 300 "$T/err")"
	[ "$got" = "$want" ] || fail "search $*: got [$got], want [$want]"
}
bad() { # bad PATTERN QUERY...: one line on stderr matching PATTERN, exit 1, empty stdout
	local pat=$1
	shift
	checks=$((checks + 1))
	hs "$@"
	[ "$rc" -eq 1 ] || fail "search $*: exit $rc, want 1"
	[ -s "$T/out" ] && fail "search $*: wrote to stdout: $(head -c 200 "$T/out")"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "search $*: want one line on stderr, got: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "search $*: stderr [$(cat "$T/err")] lacks [$pat]"
}

badopt() { # usage errors: exit 2, nothing on stdout
	local pat=$1
	shift
	checks=$((checks + 1))
	hs "$@"
	[ "$rc" -eq 2 ] || fail "search $*: exit $rc, want 2"
	[ -s "$T/out" ] && fail "search $*: wrote to stdout"
	grep -q -- "$pat" "$T/err" || fail "search $*: stderr [$(cat "$T/err")] lacks [$pat]"
}

"$HANSA" --home "$H" init --name "Podlaskie Test" >/dev/null || { echo "search.t.sh: init failed" >&2; exit 1; }

cat >"$T/lib.jsonl" <<'EOF'
{"doc": "places/bialystok", "kind": "practice", "title": "Białystok innovation brokerage", "body": "The region of Białystok runs an innovation brokerage for SMEs.", "tags": ["smes", "brokerage"], "lang": "en", "org": "Podlaskie Region", "country": "PL"}
{"doc": "places/strasse", "kind": "practice", "title": "Die Straße der Kooperation", "body": "Kooperation zwischen Gemeinden entlang der Straße.", "tags": ["kooperation"], "lang": "de", "org": "Stadt Rostock", "country": "DE"}
{"doc": "places/cesis", "kind": "toolkit", "title": "Cēsis toolkit for municipalities", "body": "A toolkit from Cēsis with good practices for small municipalities.", "tags": ["toolkit", "municipalities"], "lang": "en", "org": "Cesis Municipality", "country": "LV"}
{"doc": "places/stovring", "kind": "case", "title": "Støvring erhvervsudvikling", "body": "Erhvervsudvikling i Støvring med fokus på iværksættere.", "tags": ["erhverv"], "lang": "da", "org": "Rebild Kommune", "country": "DK"}
{"doc": "places/louna", "kind": "case", "title": "Lõuna-Eesti koostöö", "body": "Lõuna-Eesti ja Peipsiääre piirkonna koostöö.", "tags": ["koostoo"], "lang": "et", "org": "Tartu Agency", "country": "EE"}
{"doc": "practices/one", "kind": "practice", "title": "One practice for SMEs", "body": "A single practice, described once.", "tags": ["smes"], "lang": "en", "org": "Tartu Agency", "country": "EE"}
{"doc": "practices/many", "kind": "practice", "title": "Many practices for SMEs", "body": "Several practices, described in turn.", "tags": ["smes"], "lang": "en", "org": "Tartu Agency", "country": "EE"}
EOF
run "$HANSA" --home "$H" import "$T/lib.jsonl"
[ "$rc" -eq 0 ] || { echo "search.t.sh: import failed: $(cat "$T/err")" >&2; exit 1; }

# Folding, stemming, exact forms first.
expect "places/bialystok" bialystok
expect "places/strasse" strasse
expect "places/cesis" cesis
expect "places/stovring" stovring
expect "places/louna" louna
expect "places/louna" eesti
expect "places/louna" louna-eesti
expect "places/louna" peipsiaare
expect "places/strasse" Kooperationen
expect "practices/many practices/one places/cesis" practices
expect "practices/one practices/many places/cesis" practice
# Phrases, prefixes, exclusion, OR.
expect "places/bialystok" '"innovation brokerage"'
expect "places/bialystok" 'broker*'
expect "practices/one practices/many" smes -bialystok
expect "places/stovring places/cesis" cesis OR stovring
# Filters.
expect "places/bialystok" smes country:pl
expect "practices/one practices/many" smes 'org:"Tartu Agency"'
expect "practices/many practices/one places/louna" 'org:tartu*'
expect "places/cesis" kind:toolkit
expect "places/strasse" lang:de
expect "places/strasse" tag:kooperation
expect "places/louna places/stovring" kind:case
expect "places/louna places/stovring" 'kind:case' 'since:2000-01-01'
expect "" 'kind:case' 'until:2000-01-01'
author=$("$HANSA" --home "$H" id --json 2>/dev/null | jq -r '.key // .id // .author // empty' 2>/dev/null)
if [ -n "$author" ]; then
	expect "places/cesis" toolkit "author:${author:0:12}"
fi

# --json fields, --limit/--offset, --facets.
hs --json --limit 1 smes
checks=$((checks + 1))
jq -e 'length == 1 and (.[0] | has("id") and has("path") and has("author") and has("title") and has("score") and has("snippet"))' \
	<"$T/out" >/dev/null || fail "--json lacks fields: $(cat "$T/out")"
expect "practices/many" --limit 1 --offset 1 smes
hs --json --facets smes
checks=$((checks + 1))
jq -e '.total == 3 and .facets.tag.smes == 3 and .facets.lang.en == 3 and (.results | length) == 3' \
	<"$T/out" >/dev/null || fail "--facets: $(cat "$T/out")"

# Plain output when piped: rank, title, path, organisation, snippet; no escapes.
hs cesis toolkit
checks=$((checks + 1))
grep -q '^  1\. Cēsis toolkit for municipalities$' "$T/out" || fail "plain output: $(cat "$T/out")"
grep -q 'places/cesis' "$T/out" && grep -q 'Cesis Municipality' "$T/out" && grep -q 'toolkit from Cēsis' "$T/out" ||
	fail "plain output lacks path, org or snippet: $(cat "$T/out")"
grep -q $'\033' "$T/out" && fail "colour escapes when piped"

# Colour on a terminal (when script(1) can give us one), none with NO_COLOR.
if command -v script >/dev/null; then
	checks=$((checks + 1))
	script -qc "\"$HANSA\" --home \"$H\" search cesis toolkit" /dev/null >"$T/tty" 2>&1
	grep -q $'\033\\[1;33m' "$T/tty" || fail "no highlight colour on a terminal: $(head -c 300 "$T/tty")"
	NO_COLOR=1 script -qc "\"$HANSA\" --home \"$H\" search cesis toolkit" /dev/null >"$T/tty" 2>&1
	grep -q $'\033' "$T/tty" && fail "colour despite NO_COLOR"
fi

# Typos correct themselves (issue 13): the corrected query's results, and
# how to search as typed; did-you-mean when the correction finds nothing.
hs inovation brokerage
checks=$((checks + 1))
[ "$rc" -eq 0 ] && grep -q '^showing results for innovation brokerage; search instead for "inovation" brokerage$' "$T/out" &&
	grep -q 'places/bialystok' "$T/out" || fail "typo correction: $(cat "$T/out" "$T/err")"
hs --json inovation brokerage
checks=$((checks + 1))
jq -e '.corrected_query == "innovation brokerage" and .original_query == "inovation brokerage" and
	.search_instead == "\"inovation\" brokerage" and (.results | length) == 1 and .results[0].path == "places/bialystok"' \
	<"$T/out" >/dev/null || fail "typo correction --json: $(cat "$T/out")"
expect "" '"inovation"' brokerage
hs smes -lang:en bialystock
checks=$((checks + 1))
[ "$rc" -eq 0 ] && grep -q 'no results; did you mean: smes -lang:en bialystok' "$T/out" || fail "did you mean: $(cat "$T/out" "$T/err")"
# Parentheses group; an empty one is an error, not a silent empty result.
expect "places/strasse" kooperation '(lang:de)'
bad 'empty group' kooperation '()'
bad "OR joins" '(smes practice) OR cesis'

# A new version replaces the old one in search; a deletion hides it.
printf -- '---\npath: places/bialystok\ntitle: Białystok cluster\nlang: en\n---\nCluster management in Podlasie.\n' >"$T/v2.md"
run "$HANSA" --home "$H" publish "$T/v2.md"
[ "$rc" -eq 0 ] || fail "publish v2: $(cat "$T/err")"
expect "places/bialystok" cluster
expect "" '"innovation brokerage"'
run "$HANSA" --home "$H" delete places/bialystok
[ "$rc" -eq 0 ] || fail "delete: $(cat "$T/err")"
expect "" bialystok
run "$HANSA" --home "$H" fsck
[ "$rc" -eq 0 ] || fail "fsck after updates: $(cat "$T/err")"
run "$HANSA" --home "$H" reindex
checks=$((checks + 1))
[ "$rc" -eq 0 ] && grep -q '^reindexed 6 documents' "$T/out" || fail "reindex: $(cat "$T/out" "$T/err")"
expect "practices/many practices/one places/cesis" practices
run "$HANSA" --home "$H" fsck
[ "$rc" -eq 0 ] || fail "fsck after reindex: $(cat "$T/err")"

# Bad queries and options.
bad 'unclosed quote' '"innovation brokerage'
bad "lone '-'" innovation - smes
bad "unknown filter 'colour:'" colour:red
bad 'since: wants a date' since:2024-13-01
bad 'until: wants a date' until:tomorrow
bad 'OR needs a word' OR smes
bad 'prefix too short' 'a*'
bad 'nothing to search for' -smes
badopt 'no query' --json
badopt 'unknown option' --colour smes
badopt 'limit wants a number' --limit x smes
badopt 'limit must be at least 1' --limit 0 smes

# Translations (translation_of: PATH, a metadata key) come back as one
# result in the query's language or --lang, "also in" the others.
cat >"$T/tr.jsonl" <<'EOF'
{"doc": "practices/cluster", "kind": "practice", "title": "Cluster management in Białystok", "body": "How the Białystok cluster is run (klyngeledelse).", "lang": "en"}
{"doc": "practices/cluster-da", "kind": "practice", "title": "Klyngeledelse i Białystok", "body": "Sådan ledes klyngen i Białystok (cluster management).", "lang": "da", "translation_of": "practices/cluster"}
{"doc": "practices/cluster-de", "kind": "practice", "title": "Clustermanagement in Białystok", "body": "Białystok: cluster management, klyngeledelse.", "lang": "de", "translation_of": "practices/cluster"}
EOF
run "$HANSA" --home "$H" import "$T/tr.jsonl"
[ "$rc" -eq 0 ] || fail "import translations: $(cat "$T/err")"
expect "practices/cluster-da" klyngeledelse bialystok
expect "practices/cluster-de" --lang de cluster management bialystok
hs --json --lang de cluster management bialystok
checks=$((checks + 1))
jq -e 'length == 1 and (.[0].also_in | sort) == ["da", "en"]' <"$T/out" >/dev/null || fail "also_in: $(cat "$T/out")"
hs klyngeledelse bialystok
checks=$((checks + 1))
grep -q 'also in: ' "$T/out" || fail "plain output lacks 'also in': $(cat "$T/out")"
badopt 'lang wants a language code' --lang '' smes

echo "search.t.sh: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
