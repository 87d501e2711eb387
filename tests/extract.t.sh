#!/usr/bin/env bash
# extract.t.sh: `hansa extract`, the text search takes from attachments,
# and its sandboxed child: a PDF made by chromium with a known word on page
# 12, a .docx, .odt, .odp, .pptx and .xlsx made by tests/extract-files.py,
# text in UTF-8 and Latin-1; and hostile input, each refused with its reason
# well within the time limit: a truncated PDF, a zip bomb named .docx,
# XML entities, and a child that spins, sleeps, crashes, floods, sends
# malformed frames, allocates without end or tries to leave its sandbox
# ($HANSA_EXTRACT_TEST_HOOK). Without chromium the PDF checks are skipped
# and the test exits 77 after the others.
# Needs: HANSA (the binary), python3.
NAME=extract
. "$(dirname "$0")/cli-lib.sh"
F="$T/files"
mkdir -p "$F"
python3 "$(dirname "$0")/extract-files.py" "$F" || { echo "extract.t.sh: cannot make the files" >&2; exit 1; }

# The bound on every refusal: a busy 2-core machine (load 15) has taken
# 13 s for a 3 s timeout; a hang would take the default 20 s limit twice.
W=40

# ok NAME FILE [OPTIONS...]: extraction succeeds
ok() {
	local what=$1
	shift
	run "$HANSA" extract "$@"
	check "$what: exit 0 (got $rc: $(head -c 300 "$T/err"))" test "$rc" -eq 0
}
# refused WHAT REASON-REGEX SECONDS FILE [OPTIONS...]: exit 1 with one
# line on stderr matching the reason, within SECONDS, nothing on stdout
refused() {
	local what=$1 reason=$2 within=$3 t0
	shift 3
	t0=$(date +%s%N)
	run "$HANSA" extract "$@"
	local ms=$((($(date +%s%N) - t0) / 1000000))
	check "$what: exit 1 (got $rc)" test "$rc" -eq 1
	check "$what: reason /$reason/ (got: $(head -c 300 "$T/err"))" grep -qE "$reason" "$T/err"
	check "$what: one line on stderr" test "$(wc -l <"$T/err")" -eq 1
	check "$what: nothing on stdout" test ! -s "$T/out"
	check "$what: within $within s (took $ms ms)" test "$ms" -lt $((within * 1000))
}
# jqe FILTER FILE: the filter holds (jq -e, quiet)
jqe() { jq -e "$@" >/dev/null; }
# has WORD: the last output has it
has() { check "output has '$1'" grep -q -- "$1" "$T/out"; }
hasnt() { check "output has no '$1'" bash -c "! grep -q -- '$1' '$T/out'"; }

# ---- office files and text ----
ok docx "$F/report.docx"
has "Cēsis culture" && has municipalitiesword && hasnt HIDDENFIELD
check "docx: w:tab is a tab" grep -qP 'culture\ttoolkit' "$T/out"
ok "docx --json" --json "$F/report.docx"
check "docx --json: format docx, page 0" \
	jqe '.ok and .format == "docx" and (.parts | length) == 1 and .parts[0].page == 0' "$T/out"
ok odt "$F/notes.odt"
has "Peipsiääre heading" && has "odtword here" && hasnt STYLEONLY
ok "odp --json" --json "$F/slides.odp"
check "odp: a page per slide" jqe '.format == "odp" and ([.parts[].page] == [1, 2]) and
	(.parts[1].text | test("secondslideword"))' "$T/out"
ok "pptx --json" --json "$F/deck.pptx"
check "pptx: a page per slide" jqe '.format == "pptx" and ([.parts[].page] == [1, 2]) and
	(.parts[0].text | test("pptxone"))' "$T/out"
ok xlsx "$F/sheet.xlsx"
has xlsxcell && has Białystok
ok "Latin-1 text" "$F/latin1.txt"
has "café naïve Sørø"
printf '# Title\n\nsome *markdown* Gdańsk\n' >"$F/doc.md"
ok "markdown --json" --json "$F/doc.md"
check "markdown: format markdown" jqe '.format == "markdown" and (.parts[0].text | test("Gdańsk"))' "$T/out"
ok "the declared type is a hint for text" --type text/plain "$F/latin1.txt"
cp "$F/report.docx" "$F/report.pdf"
ok "the bytes decide, not the name" --json "$F/report.pdf"
check "a .docx named .pdf is read as docx" jqe '.format == "docx"' "$T/out"

# ---- files that are not what they say, or nothing ----
head -c 3000 /dev/urandom >"$F/noise.bin"
refused "random bytes" "unknown format" "$W" "$F/noise.bin"
refused "random bytes declared text/plain" "binary data|unknown format" "$W" --type text/plain "$F/noise.bin"
printf 'a\0b' >"$F/nul.txt"
refused "a NUL byte in a .txt" "binary data" "$W" "$F/nul.txt"
printf 'hello' >"$F/fake.pdf"
refused "a .pdf without %PDF-" "not a PDF" "$W" "$F/fake.pdf"
refused "a plain zip" "not an OpenDocument or Office Open XML" "$W" "$F/plain.zip"
refused "a directory" "not a regular file" "$W" "$F"
refused "a missing file" "cannot open" "$W" "$F/none.pdf"
refused "a zip bomb named .docx" "zip entry word/document.xml would inflate to 1 GiB" "$W" "$F/bomb.docx"
refused "a zip member larger than its header says" "word/document.xml is damaged" "$W" "$F/liar.docx"
refused "XML entities (billion laughs)" "DOCTYPE, refused" "$W" "$F/laughs.docx"
head -c 3000000 /dev/zero | tr '\0' 'x' | fold -w 70 >"$F/big.txt"
refused "text over --max-text 1" "over the 1 MiB text limit" "$W" --max-text 1 "$F/big.txt"
run "$HANSA" extract --timeout 0 "$F/doc.md"
check "--timeout 0: a usage error (exit $rc)" test "$rc" -eq 2

# ---- a misbehaving child (test hooks), each within its limit ----
hook() { HANSA_EXTRACT_TEST_HOOK=$1 refused "child: $1" "$2" "$3" "${@:4}" "$F/doc.md"; }
hook spin "timed out after 3 s" "$W" --timeout 3 --cpu 60
hook sleep "timed out after 2 s" "$W" --timeout 2
hook spin "over the 1 s CPU limit" "$W" --cpu 1
hook crash "killed by signal 11 \(SIGSEGV\)" "$W"
hook flood "over the 4 MiB text limit" "$W"
hook badutf8 "invalid UTF-8" "$W"
hook badframe "malformed frame" "$W"
hook hog "out of memory" "$W" --memory 256

# ---- a child whose parent is killed dies with it (it does not spin on to
# its CPU limit in a process group of its own) ----
cp "$F/doc.md" "$F/orphan-$$.md"
HANSA_EXTRACT_TEST_HOOK=spin "$HANSA" extract --timeout 600 --cpu 600 "$F/orphan-$$.md" >/dev/null 2>&1 &
parent=$!
wpid=
for _ in $(seq 1 400); do # up to 40 s on a busy machine
	wpid=$(pgrep -f "extract-worker .*orphan-$$.md" | head -1)
	[ -n "$wpid" ] && break
	sleep 0.1
done
check "orphan: the worker started" test -n "$wpid"
kill -9 "$parent"
wait "$parent" 2>/dev/null
gone=0
for _ in $(seq 1 400); do
	# (gone, or a zombie that nobody has reaped yet)
	if [ -z "$wpid" ] || ! kill -0 "$wpid" 2>/dev/null ||
		[ "$(awk '{print $3}' "/proc/$wpid/stat" 2>/dev/null)" = Z ]; then
		gone=1
		break
	fi
	sleep 0.1
done
check "orphan: the worker died with its parent" test "$gone" -eq 1
[ "$gone" -eq 1 ] || kill -9 "$wpid" 2>/dev/null
HANSA_EXTRACT_TEST_HOOK=escape run "$HANSA" extract "$F/doc.md"
check "escape: the child answers (exit $rc)" test "$rc" -eq 0
has "create denied" && has "socket denied" && has "exec denied"
if ! ldd "$HANSA" | grep -q libasan; then # (LeakSanitizer needs fork and files)
	has "fork denied" && has "open-read denied"
fi
check "escape: no file created" test ! -e /tmp/hx-extract-escape

# ---- PDF ----
if ! command -v chromium >/dev/null; then
	echo "extract.t.sh: chromium is missing: PDF checks skipped"
	done_checks || exit 1
	exit 77
fi
python3 - "$F/book.html" <<'PY'
import sys
pages = []
for i in range(1, 15):
    word = "zanzibarquokka" if i == 12 else "filler"
    pages.append('<div style="page-break-after: always"><h1>Chapter %d</h1><p>Page %d of the toolkit, %s.</p></div>' % (i, i, word))
open(sys.argv[1], "w").write("<html><body>%s</body></html>" % "".join(pages))
PY
HOME="$T" timeout 120 chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
	--user-data-dir="$T/chromium" --print-to-pdf="$F/book.pdf" "$F/book.html" >/dev/null 2>&1
check "chromium made the PDF" test -s "$F/book.pdf"
ok "pdf --json" --json "$F/book.pdf"
check "pdf: 14 pages, the word on page 12 only" jqe '.format == "pdf" and (.parts | length) == 14 and
	([.parts[] | select(.text | test("zanzibarquokka")) | .page] == [12])' "$T/out"
ok "pdf as text" "$F/book.pdf"
check "pdf text: page 12's heading" grep -qx -- "--- page 12 ---" "$T/out"
size=$(stat -c %s "$F/book.pdf")
head -c $((size / 2)) "$F/book.pdf" >"$F/half.pdf"
head -c 400 "$F/book.pdf" >"$F/stub.pdf"
refused "a PDF cut to 400 bytes" "damaged or truncated PDF" "$W" "$F/stub.pdf"
# poppler recovers what it can from half a PDF: some pages, or a refusal
run "$HANSA" extract --json "$F/half.pdf"
check "half a PDF: pages or a damaged-PDF reason (exit $rc)" \
	bash -c "[ $rc -eq 0 ] && jq -e '.ok' '$T/out' >/dev/null || grep -q 'damaged or truncated' '$T/err'"
# a PDF whose one page is 8 million text operators (a 250 KiB stream):
# stopped by its limits, not hanging
python3 - "$F/slow.pdf" <<'PY'
import sys, zlib
ops = b"BT /F1 1 Tf 0 0 Td (a) Tj ET\n" * 8000000
body = zlib.compress(ops, 9)
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out, offs = bytearray(b"%PDF-1.4\n"), []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offs)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
PY
refused "a PDF of 8 million text operators" "timed out after 3 s|over the .* limit|killed by signal" "$W" \
	--timeout 3 "$F/slow.pdf"

done_checks
