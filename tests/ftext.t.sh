#!/usr/bin/env bash
# ftext.t.sh: text inside attachments between nodes (docs/SEARCH.md "Text
# inside attachments"), three `hansa serve` nodes in a line A <- B <- C on
# 127.0.0.1:
#  1. a 30 MiB PDF made here (chromium prints 14 pages with a known word on
#     page 12; tests/ftext-pad.py pads it with an incompressible image) is
#     published at A, reaches C through B with the same hash, and
#     `hansa search` at C names the file and page 12, with the word in the
#     snippet (C's node extracted it on its own thread after the fetch);
#  2. a truncated PDF and a zip bomb named .docx published at A are found
#     at C by name only; C's node logged why their text was not extracted,
#     `hansa show` says so, and C keeps serving (a new entry still arrives);
# then fsck is clean on every node and the sanitizers said nothing.
# Skips (77) without chromium. Environment: HANSA, HX_SRC.
NAME=ftext
INTERVAL=2
. "$(dirname "$0")/nodes-lib.sh"
command -v chromium >/dev/null || { echo "ftext.t.sh: chromium is missing: skipped"; exit 77; }
SRC=$(cd "$(dirname "$0")" && pwd)

# --- the files ---------------------------------------------------------------------
python3 - "$T/book.html" <<'PY'
import sys
pages = []
for i in range(1, 15):
    word = "zanzibarquokka" if i == 12 else "filler"
    pages.append('<div style="page-break-after: always"><h1>Chapter %d</h1>'
                 '<p>Page %d of the resilience toolkit, %s.</p></div>' % (i, i, word))
open(sys.argv[1], "w").write("<html><body>%s</body></html>" % "".join(pages))
PY
HOME="$T" timeout 120 chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
	--user-data-dir="$T/chromium" --print-to-pdf="$T/book14.pdf" "$T/book.html" >/dev/null 2>&1
[ -s "$T/book14.pdf" ] || fail "chromium did not make the PDF"
python3 "$SRC/ftext-pad.py" "$T/book14.pdf" "$T/toolkit.pdf" 30 || fail "cannot pad the PDF"
size=$(stat -c %s "$T/toolkit.pdf")
[ "$size" -ge $((30 * 1024 * 1024)) ] || fail "the PDF is $size bytes, not 30 MiB"
head -c 400 "$T/book14.pdf" >"$T/truncated.pdf"
mkdir -p "$T/x"
python3 "$SRC/extract-files.py" "$T/x" || fail "cannot make the zip bomb"
cp "$T/x/bomb.docx" "$T/casebook.docx"

three_in_line
start a "$PA"
for n in b c; do # both fetch 30 MiB files by themselves
	eval port=\$P${n^^}
	"$HANSA" --home "$T/$n" serve --bind "tcp://127.0.0.1:$port" --interval 2 \
		--blob-auto 64M 2>>"$T/$n.log" &
	PID[$n]=$!
	until_ok 30 logged "$n" 'listening on' || fail "$n did not start"
done

doc() { # doc NAME FILE: a document at A with FILE attached
	printf -- '---\npath: files/%s\ntitle: %s\nkind: toolkit\nlang: en\n---\nAn entry with one file.\n' \
		"$1" "$1" >"$T/$1.md"
	h a publish "$T/$1.md" --attach "$T/$2" >/dev/null 2>"$T/publish-$1.err" ||
		fail "publish $1 at a: $(cat "$T/publish-$1.err")"
}
# the entry's id covers its signed attachment list, hashes included
id_of() { h "$1" show "files/$2" --json | jq -r .id; }

# --- 1. the 30 MiB PDF: A -> B -> C, found at C on page 12 ---------------------------
doc toolkit toolkit.pdf
found_p12() {
	h c search zanzibarquokka --json >"$T/s.json" 2>/dev/null &&
		jq -e 'map(select(.path == "files/toolkit" and .file == "toolkit.pdf" and .page == 12
			and (.snippet | test("zanzibarquokka")))) | length == 1' "$T/s.json"
}
until_ok 150 found_p12 || fail "search at C did not find the word on page 12 of toolkit.pdf: $(cat "$T/s.json")"
h c get files/toolkit toolkit.pdf -o "$T/c-toolkit.pdf" >/dev/null || fail "get at C"
cmp -s "$T/c-toolkit.pdf" "$T/toolkit.pdf" || fail "C's copy differs"
[ "$(id_of a toolkit)" = "$(id_of c toolkit)" ] || fail "the entry (and so the file's hash) differs between A and C"
h c search zanzibarquokka >"$T/s.txt" || fail "search at C"
grep -q "toolkit.pdf, page 12" "$T/s.txt" || fail "search said: $(cat "$T/s.txt")"
echo "ok 1: a $((size >> 20)) MiB PDF went A -> B -> C, same hash; search at C: toolkit.pdf, page 12"

# --- 2. hostile files: found by name only, the node keeps serving -----------------------
doc truncated truncated.pdf
doc bomb casebook.docx
grep -q "text not extracted" "$T/publish-bomb.err" || fail "publish did not warn about the bomb"
by_name() { # by_name FILE: C finds FILE's document by the file's name, with no page
	local word=${1%%.*}
	h c search "$word" --json >"$T/n.json" 2>/dev/null &&
		jq -e --arg f "$1" 'map(select(.file == $f and .page == 0)) | length == 1' "$T/n.json"
}
until_ok 90 by_name truncated.pdf || fail "C did not find truncated.pdf by name: $(cat "$T/n.json")"
until_ok 90 by_name casebook.docx || fail "C did not find casebook.docx by name: $(cat "$T/n.json")"
until_ok 60 logged c "text not extracted (zip entry word/document.xml would inflate" ||
	fail "C did not log why the bomb's text was not extracted"
until_ok 60 logged c "text not extracted (a damaged or truncated PDF" ||
	fail "C did not log why the truncated PDF's text was not extracted"
h c show files/bomb >"$T/show.txt" || fail "show at C"
grep -q "text: not extracted" "$T/show.txt" || fail "show said: $(cat "$T/show.txt")"
printf -- '---\npath: notes/after\ntitle: After\nkind: note\nlang: en\n---\nStill serving.\n' >"$T/after.md"
h a publish "$T/after.md" >/dev/null || fail "publish after"
until_ok 60 h c show notes/after || fail "C stopped taking entries after the hostile files"
echo "ok 2: a truncated PDF and a zip bomb .docx are found at C by name only, the reason logged"

# --- fsck and sanitizers ----------------------------------------------------------------
for n in a b c; do stop $n; done
for n in a b c; do
	h $n fsck >"$T/fsck-$n.out" 2>&1 || fail "fsck at $n: $(cat "$T/fsck-$n.out")"
done
sanitizer_clean || fail "a sanitizer complained"
echo "ok 3: fsck clean on A, B and C; no sanitizer reports"
