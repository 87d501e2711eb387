#!/usr/bin/env bash
# search-lang.t.sh: searches typed the way partners type (issue 13): ASCII
# spellings of ä ö ü å ø (woerterbuch, koebenhavn, pakke aabne) find the
# documents with those letters in their language, a Polish inflected form
# finds the other forms through Hunspell lemmas, Swedish arkivet finds
# arkiv; and an English word with "oe" or "ue" does not gain false hits
# (an index of an older schema asking for a reindex: tests/test_search.c).
# Needs: HANSA, jq.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
command -v jq >/dev/null || { echo "search-lang.t.sh: needs jq (apt-get install jq)" >&2; exit 1; }

T=$(mktemp -d /tmp/hx-slang.XXXXXX)
trap 'rm -rf "$T"' EXIT
unset HANSA_HOME HANSA_PASSPHRASE NO_COLOR
H="$T/home"
fails=0
checks=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
expect() { # expect WANT QUERY...: the result paths, space separated
	local want=$1 got
	shift
	checks=$((checks + 1))
	run "$HANSA" --home "$H" search --json "$@"
	if [ "$rc" -ge 128 ] || grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err"; then
		fail "crash or sanitizer report (exit $rc) from search $*"
		head -20 "$T/err" >&2
	fi
	got=$(jq -r '[.[].path] | join(" ")' <"$T/out")
	[ "$got" = "$want" ] || fail "search $*: got [$got], want [$want] ($(head -c 200 "$T/err"))"
}

cat >"$T/lib.jsonl" <<'EOF'
{"doc": "de/woerterbuch", "kind": "toolkit", "title": "Ein Wörterbuch für die Oberfläche", "body": "Das Wörterbuch der Verwaltung erklärt jede Oberfläche.", "tags": ["sprache"], "lang": "de", "org": "Stadt Rostock", "country": "DE"}
{"doc": "de/betrieb", "kind": "toolkit", "title": "Betriebssysteme im Vergleich", "body": "Drei Betriebssysteme für kleine Ämter.", "tags": ["it"], "lang": "de", "org": "Stadt Rostock", "country": "DE"}
{"doc": "da/koebenhavn", "kind": "case", "title": "Værktøj fra København", "body": "Et værktøj til kommunerne i København og omegn.", "tags": ["kommune"], "lang": "da", "org": "Region Hovedstaden", "country": "DK"}
{"doc": "da/pakke", "kind": "practice", "title": "Sådan kan man åbne en pakke", "body": "Vejledning: åbne pakken og læse indholdet.", "tags": ["vejledning"], "lang": "da", "org": "Region Hovedstaden", "country": "DK"}
{"doc": "sv/arkiv", "kind": "toolkit", "title": "Ett arkiv för kommunen", "body": "Kommunens arkiv och bibliotek samlade.", "tags": ["arkiv"], "lang": "sv", "org": "Region Skåne", "country": "SE"}
{"doc": "en/toe", "kind": "note", "title": "A note on the toe of the page", "body": "What the queue does with a toe.", "tags": ["note"], "lang": "en", "org": "Tartu Agency", "country": "EE"}
EOF
# Each search process loads the Hunspell dictionaries of the languages its
# index holds (docs/SEARCH.md, Languages): the Polish one, the largest, is
# kept to a library of its own so that the other searches do not pay it.
library() { # library HOME FILE
	"$HANSA" --home "$1" init --name "Baltic Test" >/dev/null &&
		"$HANSA" --home "$1" import "$2" >/dev/null 2>"$T/err" ||
		{ echo "search-lang.t.sh: import failed: $(cat "$T/err")" >&2; exit 1; }
}
library "$T/home" "$T/lib.jsonl"
cat >"$T/pl.jsonl" <<'EOF'
{"doc": "pl/przegladarka", "kind": "toolkit", "title": "Przeglądarka plików", "body": "Prosta przeglądarka plików dla urzędów gminy.", "tags": ["narzedzia"], "lang": "pl", "org": "Podlaskie", "country": "PL"}
EOF
library "$T/home-pl" "$T/pl.jsonl"

# ASCII spellings in the language that has the letters.
expect "de/woerterbuch" woerterbuch
expect "de/woerterbuch" oberflaeche
expect "da/koebenhavn" koebenhavn
expect "da/koebenhavn" vaerktoej
expect "da/pakke" pakke aabne
# Morphology: Swedish definite forms, the German -e plural.
expect "sv/arkiv" arkivet
expect "sv/arkiv" biblioteket
expect "de/betrieb" betriebssystem
# No false hits: in English "toe" is not "to", "tue" is not "te".
expect "en/toe" toe
expect "" tue
expect "en/toe" queue
# A Polish inflected form (genitive przeglądarki, typed with and without
# diacritics; pliku for plików) finds the nominative through its lemma.
H="$T/home-pl"
expect "pl/przegladarka" przegladarki
expect "pl/przegladarka" przeglądarki
expect "pl/przegladarka" pliku

echo "search-lang.t.sh: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
