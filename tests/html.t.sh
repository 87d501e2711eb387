#!/usr/bin/env bash
# html.t.sh: the static public library (`hansa export --html DIR`) opened
# from the file system in headless Chromium (Debian's `chromium`, installed
# here when missing; run as root for that). The index groups documents by
# kind, tag and partner with the partner's town, region and country; a
# search typed without diacritics finds the document, and following the
# result opens its page with the right title; a body holding <script>, an
# onerror handler and a javascript: link runs none of them, and a title
# holding markup shows as text, on its page and in search results; the site
# loads nothing from outside.
NAME=html
. "$(dirname "$0")/offline-lib.sh"

if ! command -v chromium >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "html.t.sh: installing Debian's chromium" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >"$T/apt.log" 2>&1 ||
			{ echo "html.t.sh: apt-get install -y chromium failed:" >&2; tail -5 "$T/apt.log" >&2; exit 1; }
	else
		echo "html.t.sh: needs chromium; as root run: apt-get install -y chromium" >&2
		exit 1
	fi
fi

# dump URL OUT: the DOM after the page's scripts ran, from a fresh profile,
# without any network use.
dump() {
	local ud
	ud=$(mktemp -d "$T/chrome.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$ud" --dump-dom "$1" >"$2" 2>"$T/chrome.err"
	local r=$?
	rm -rf "$ud"
	[ "$r" -eq 0 ] && [ -s "$2" ] || { fail "chromium could not open $1 (exit $r)"; tail -3 "$T/chrome.err" >&2; }
}

corpus 60 "$T/c.jsonl"
new_home a --name "Region Zealand" --town Sorø --region Zealand --country DK
new_home b --name "Podlaskie Agency" --town Białystok --region Podlaskie --country PL
A=$(key_of a)
B=$(key_of b)
hx a import "$T/c.jsonl" >/dev/null || fail "corpus import"
cat >"$T/p1.md" <<'EOF'
---
path: practices/lake-learning
title: Peer learning around Lake Peipsi
kind: practice
tags: [peer learning, cross-border]
---
Partners from Peipsiääre and Cēsis visit each other's municipalities.
EOF
hx a publish "$T/p1.md" >/dev/null || fail "publish p1"
cat >"$T/xss.md" <<'EOF'
---
path: notes/xss
title: Safe <b>title</b> <script>document.title="PWNED-T"</script>
kind: note
tags: [<i>tag</i>]
---
Hello <em>inline</em> world, plainword.

<script>document.title="PWNED";document.documentElement.setAttribute("data-pwned","1")</script>

<img src="x" onerror="document.documentElement.setAttribute('data-pwned','2')">

[click me](javascript:document.documentElement.setAttribute('data-pwned','3'))
EOF
hx a publish "$T/xss.md" >/dev/null || fail "publish xss"
printf -- '---\npath: toolkits/brokerage\ntitle: Brokerage toolkit from Białystok\nkind: toolkit\n---\nSteps for brokers.\n' |
	hx b publish - >/dev/null || fail "publish b"
hx b export --bundle "$T/b.hxb" >/dev/null
add_member a "$B" --name "Podlaskie Agency" --town Białystok --region Podlaskie --country PL
hx a import "$T/b.hxb" >/dev/null || fail "import b's bundle"

run hx a export --html "$T/site" --json
expect "export exit" "$rc" -eq 0
docs=$(hx a list --json | jq length)
expect "every document exported" "$(out | jq .documents)" -eq "$docs"
expect "two partners" "$(out | jq .partners)" -eq 2
S="$T/site"
for f in index.html search.js search-index.js hansa.css doc/notes/xss.html \
	doc/practices/lake-learning.html kind/practice.html; do
	expect "$f written" -s "$S/$f"
done

# ---- the index groups by kind, tag and partner, with the partner's place ----
grep -q '<section id="by-kind"><h2>By kind</h2>' "$S/index.html" || fail "index: by kind"
grep -q '<section id="by-tag"><h2>By tag</h2>' "$S/index.html" || fail "index: by tag"
grep -q '<summary>Podlaskie Agency <span class="meta">— Białystok, Podlaskie, PL</span>' "$S/index.html" ||
	fail "index: partner b with its town, region and country"
grep -q '<summary>Region Zealand <span class="meta">— Sorø, Zealand, DK</span>' "$S/index.html" ||
	fail "index: partner a with its town, region and country"
grep -q '<summary>cross-border <span class="count">(1)</span>' "$S/index.html" || fail "index: tag group"

# ---- nothing from outside: scripts and styles are the site's own files ----
ext=$(grep -rhoE '<(script|link|img|iframe)[^>]*(src|href)="[^"]*"' "$S" | grep -vE '"(\.\./)*(hansa\.css|search\.js|search-index\.js)"')
expect "no external resources ($ext)" -z "$ext"

# ---- search without diacritics, then follow the first result ----
dump "file://$S/index.html?q=peipsiaare+cesis" "$T/search.html"
grep -q '<p id="count" class="meta">1 document found</p>' "$T/search.html" || fail "search finds one: $(grep -o '<p id="count"[^<]*' "$T/search.html")"
href=$(grep -o '<a href="[^"]*" class="result">' "$T/search.html" | head -1 | sed 's/<a href="\([^"]*\)".*/\1/')
expect "result links the document page" "$href" = "doc/practices/lake-learning.html"
dump "file://$S/$href" "$T/doc.html"
expect "followed page shows the title" "$(grep -o '<h1>[^<]*</h1>' "$T/doc.html")" = "<h1>Peer learning around Lake Peipsi</h1>"
grep -q '<title>Peer learning around Lake Peipsi</title>' "$T/doc.html" || fail "followed page: <title>"
# a prefix of a word and the other partner's document
dump "file://$S/index.html#q=broker" "$T/search2.html"
grep -q 'class="result">Brokerage toolkit from Białystok</a>' "$T/search2.html" || fail "prefix search finds b's toolkit"

# ---- <script> in a body (and in a title) does not run ----
dump "file://$S/doc/notes/xss.html" "$T/xss.html"
grep -q 'data-pwned' "$T/xss.html" && fail "a script or handler from the body ran"
expect "document.title unchanged" "$(grep -o '<title>.*</title>' "$T/xss.html")" = \
	'<title>Safe &lt;b&gt;title&lt;/b&gt; &lt;script&gt;document.title="PWNED-T"&lt;/script&gt;</title>'
grep -q '<script' "$T/xss.html" && fail "a <script> element reached the document page"
grep -q '<img' "$T/xss.html" && fail "raw <img> reached the page"
grep -q '<!-- raw HTML omitted -->' "$T/xss.html" || fail "raw HTML is dropped by cmark"
grep -q '<h1>Safe &lt;b&gt;title&lt;/b&gt; &lt;script&gt;' "$T/xss.html" || fail "the title's markup shows as text"
grep -q 'href="javascript' "$T/xss.html" && fail "a javascript: link was kept"
grep -q 'plainword' "$T/xss.html" || fail "the body text is there"
dump "file://$S/index.html?q=plainword" "$T/xss-search.html"
grep -q 'data-pwned' "$T/xss-search.html" && fail "a script ran on the index"
grep -q 'class="result">Safe &lt;b&gt;title&lt;/b&gt; &lt;script&gt;' "$T/xss-search.html" ||
	fail "a title with markup shows as text in the results"
expect "index keeps its title" "$(grep -o '<title>[^<]*</title>' "$T/xss-search.html")" = "<title>Library</title>"

# ---- again into the same folder; never into a folder that is not a site ----
run hx a export --html "$S"
expect "re-export into the site" "$rc" -eq 0
mkdir -p "$T/home-folder"
echo precious >"$T/home-folder/notes.txt"
run hx a export --html "$T/home-folder"
expect "refuses a foreign folder" "$rc" -ne 0
expect "one line" "$(wc -l <"$T/err")" -eq 1
expect "foreign file untouched" "$(cat "$T/home-folder/notes.txt")" = precious
finish
