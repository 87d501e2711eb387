#!/usr/bin/env bash
# attach.t.sh: attached files on one node: the front matter's attachments:
# and publish --attach store blobs; show lists them (present or not); get
# writes one out byte for byte; a missing file says to fetch it; importing
# a folder again makes a new version only when a file changed; fsck finds
# a damaged blob; gc removes blobs no current version names; limits.
# Needs: HANSA, python3, cmp (curl for the web part).
NAME=attach
. "$(dirname "$0")/cli-lib.sh"
h() { "$HANSA" --home "$T/home" "$@"; }

run h init --name "Attach Test"
check "init" [ "$rc" = 0 ]
mkdir -p "$T/docs/files"
python3 - "$T/docs/files" <<'PY'
import sys, os, random, zipfile
d = sys.argv[1]
random.seed(7)
with open(os.path.join(d, "toolkit.pdf"), "wb") as f:   # 3 chunks and a bit
    f.write(b"%PDF-1.4\n" + bytes(random.getrandbits(8) for _ in range(3 * 262144 + 999)))
with zipfile.ZipFile(os.path.join(d, "casebook.docx"), "w") as z:
    z.writestr("word/document.xml", "<w:document>casebook</w:document>")
with open(os.path.join(d, "fake.pdf"), "wb") as f:
    f.write(b"not a pdf at all\n")
PY
cat >"$T/docs/toolkit.md" <<'MD'
---
path: toolkits/resilience
title: Culture-driven resilience toolkit
kind: toolkit
attachments: [files/toolkit.pdf, files/casebook.docx]
---
The toolkit and its casebook.
MD

run h publish "$T/docs/toolkit.md"
check "publish with attachments: $(cat "$T/err")" [ "$rc" = 0 ]
run h show toolkits/resilience
check "show lists toolkit.pdf as a present PDF" \
	grep -qE '^files: +toolkit.pdf  787440 bytes  application/pdf  present$' "$T/out"
check "show lists casebook.docx as a Word document" \
	grep -q 'casebook.docx  .* application/vnd.openxmlformats-officedocument.wordprocessingml.document  present' "$T/out"

run h get toolkits/resilience toolkit.pdf -o "$T/out.pdf"
check "get -o: $(cat "$T/err")" [ "$rc" = 0 ]
check "get writes the same bytes" cmp -s "$T/out.pdf" "$T/docs/files/toolkit.pdf"
(cd "$T" && "$HANSA" --home "$T/home" get toolkits/resilience casebook.docx >/dev/null 2>&1)
check "get without -o writes NAME here" cmp -s "$T/casebook.docx" "$T/docs/files/casebook.docx"
run h get toolkits/resilience nosuch.pdf
check "get of an unknown name fails with one line" \
	sh -c "[ $rc = 1 ] && [ \$(wc -l <'$T/err') = 1 ] && grep -q 'no attached file' '$T/err'"

# --attach; a .pdf without %PDF is not called a PDF
printf -- '---\npath: notes/x\ntitle: X\n---\nbody\n' >"$T/x.md"
run h publish "$T/x.md" --attach "$T/docs/files/fake.pdf" -a "$T/docs/files/casebook.docx"
check "publish --attach: $(cat "$T/err")" [ "$rc" = 0 ]
run h show notes/x
check "a fake .pdf is application/octet-stream" grep -q 'fake.pdf  17 bytes  application/octet-stream  present' "$T/out"
run h publish "$T/x.md" --attach "$T/docs/files/nonexistent.bin"
check "a missing --attach file fails and stores nothing" \
	sh -c "[ $rc = 1 ] && grep -q 'nonexistent.bin' '$T/err'"
printf -- '---\npath: notes/y\ntitle: Y\nattachments: [../../etc/passwd]\n---\nbody\n' >"$T/docs/y.md"
run h publish "$T/docs/y.md"
check "an attachment outside the folder is refused" \
	sh -c "[ $rc = 1 ] && grep -q 'inside the document' '$T/err'"
rm "$T/docs/y.md"

run h fsck
check "fsck clean: $(cat "$T/err")" [ "$rc" = 0 ]
check "fsck counts the attached files" grep -q 'ok: 3 attached files' "$T/out"

# import the folder: the same files -> nothing new; a changed file -> a new version
run h import "$T/docs"
check "import of the unchanged folder: $(cat "$T/err")" [ "$rc" = 0 ]
n1=$(h history toolkits/resilience | grep -c .)
echo "extra" >>"$T/docs/files/casebook.docx"
run h import "$T/docs"
check "import after a change: $(cat "$T/err")" [ "$rc" = 0 ]
n2=$(h history toolkits/resilience | grep -c .)
check "a changed file made a new version ($n1 -> $n2)" [ "$n2" -gt "$n1" ]
run h import "$T/docs"
n3=$(h history toolkits/resilience | grep -c .)
check "importing again changes nothing ($n2 -> $n3)" [ "$n3" = "$n2" ]

# gc: a new version of notes/x without files; the old casebook.docx and
# fake.pdf are then named by no current version
run h publish "$T/x.md"
run h gc --grace 0
check "gc: $(cat "$T/out") $(cat "$T/err")" sh -c "[ $rc = 0 ] && grep -q 'removed 2 blobs' '$T/out'"
run h get toolkits/resilience casebook.docx -o "$T/cb2.docx"
check "the new casebook is kept" cmp -s "$T/cb2.docx" "$T/docs/files/casebook.docx"
run h get toolkits/resilience toolkit.pdf -o "$T/tk2.pdf"
check "the toolkit is kept" cmp -s "$T/tk2.pdf" "$T/docs/files/toolkit.pdf"
run h fsck
check "fsck clean after gc: $(cat "$T/err")" [ "$rc" = 0 ]

# export --markdown writes the files into NAME.files/ beside NAME.md, and
# importing the exported folder changes nothing
run h export --markdown "$T/md"
check "export --markdown: $(cat "$T/err")" [ "$rc" = 0 ]
md=$(grep -rl 'toolkits/resilience' "$T/md" | head -1)
check "the exported toolkit.pdf is the same file" cmp -s "${md%.md}.files/toolkit.pdf" "$T/docs/files/toolkit.pdf"
check "the front matter names it" grep -q 'attachments: \[".*\.files/toolkit.pdf"' "$md"
n4=$(h history toolkits/resilience | grep -c .)
run h import "$T/md"
check "import of the export: $(cat "$T/err")" [ "$rc" = 0 ]
n5=$(h history toolkits/resilience | grep -c .)
check "importing the export changes nothing ($n4 -> $n5)" [ "$n5" = "$n4" ]

# export --html copies the files beside the page and links them
run h export --html "$T/site"
check "export --html: $(cat "$T/err")" [ "$rc" = 0 ]
page=$(grep -rl 'toolkits/resilience' "$T/site/doc" | head -1)
check "the page links its file" grep -q 'href="[^"]*\.files/toolkit\.pdf"' "$page"
check "the site holds the file" cmp -s "${page%.html}.files/toolkit.pdf" "$T/docs/files/toolkit.pdf"

# a fresh home with the entries but not the files
run h export --bundle "$T/nofiles.hxb" --without-files
check "export --bundle (entries only): $(cat "$T/err")" [ "$rc" = 0 ]
run "$HANSA" --home "$T/fresh" init --name Fresh
run "$HANSA" --home "$T/fresh" member add "$(h id | awk '$1 == "key" { print $2 }')"
run "$HANSA" --home "$T/fresh" import "$T/nofiles.hxb"
check "import of the bundle: $(cat "$T/err")" [ "$rc" = 0 ]
run "$HANSA" --home "$T/fresh" show toolkits/resilience
check "show says missing" grep -q 'toolkit.pdf .* missing$' "$T/out"
run "$HANSA" --home "$T/fresh" get toolkits/resilience toolkit.pdf
check "get of a missing file names hansa fetch" \
	sh -c "[ $rc = 1 ] && grep -q 'hansa fetch toolkits/resilience' '$T/err'"

# the web app: the document's page links the file; /file sends it as a
# download, byte for byte, never as something the browser renders
if command -v curl >/dev/null; then
	port() { "$(dirname "$0")/../scripts/free-port"; }
	PZ=$(port); PW=$(port)
	"$HANSA" --home "$T/home" serve --bind "tcp://127.0.0.1:$PZ" --http "127.0.0.1:$PW" 2>"$T/serve.log" &
	SPID=$!
	trap 'kill $SPID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
	for _ in $(seq 300); do grep -q 'web app on' "$T/serve.log" && break; sleep 0.1; done
	U="http://127.0.0.1:$PW"
	KEY=$(h id | awk '$1 == "key" { print $2 }')
	curl -s "$U/doc?author=$KEY&path=toolkits/resilience" >"$T/page.html"
	check "the doc page links toolkit.pdf" grep -q 'href="/file?author=[0-9a-f]*&amp;path=toolkits/resilience&amp;name=toolkit.pdf"' "$T/page.html"
	curl -s -D "$T/hdr" -o "$T/web.pdf" "$U/file?author=$KEY&path=toolkits%2Fresilience&name=toolkit.pdf"
	check "/file sends the same bytes" cmp -s "$T/web.pdf" "$T/docs/files/toolkit.pdf"
	check "/file: Content-Disposition attachment" grep -qi '^Content-Disposition: attachment; filename="toolkit.pdf"' "$T/hdr"
	check "/file: nosniff" grep -qi '^X-Content-Type-Options: nosniff' "$T/hdr"
	check "/file: octet-stream" grep -qi '^Content-Type: application/octet-stream' "$T/hdr"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$U/file?author=$KEY&path=toolkits%2Fresilience&name=nosuch")
	check "/file of an unknown name: 404 ($code)" [ "$code" = 404 ]
	# the publish form takes a file
	CSRF=$(curl -s "$U/publish" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"$//')
	code=$(curl -s -o /dev/null -w '%{http_code}' -F "csrf=$CSRF" -F title=Uploaded -F kind=toolkit \
		-F lang=en -F path=toolkits/uploaded -F body=text -F action=save \
		-F "file=@$T/docs/files/toolkit.pdf" "$U/publish")
	check "the publish form with a file: $code" [ "$code" = 303 ]
	run h get toolkits/uploaded toolkit.pdf -o "$T/up.pdf"
	check "the uploaded file is attached" cmp -s "$T/up.pdf" "$T/docs/files/toolkit.pdf"
	code=$(curl -s -o /dev/null -w '%{http_code}' -F "csrf=$CSRF" -F title=Uploaded2 -F kind=toolkit \
		-F lang=en -F path=toolkits/uploaded -F body=text2 -F action=save -F editing=1 "$U/publish")
	run h show toolkits/uploaded
	check "editing without a new file keeps the file" grep -q 'toolkit.pdf .* present$' "$T/out"
	kill $SPID; wait $SPID 2>/dev/null
fi

# damage a blob: fsck and get say so
f=$(find "$T/home/store/blobs" -path '*/blobs/[0-9a-f][0-9a-f]/*' -size +700k | head -1)
printf 'X' | dd of="$f" bs=1 seek=300000 conv=notrunc 2>/dev/null
run h fsck
check "fsck finds the damaged blob" sh -c "[ $rc = 1 ] && grep -q 'does not match its hash' '$T/err'"
run h get toolkits/resilience toolkit.pdf -o "$T/bad.pdf"
check "get refuses a damaged blob" sh -c "[ $rc = 1 ] && grep -q damaged '$T/err' && [ ! -e '$T/bad.pdf' ]"
done_checks
