#!/usr/bin/env bash
# web.t.sh: the web app in a real browser. Two nodes A and B replicate on
# 127.0.0.1, each serving its web app; tests/web/web-test.mjs drives
# Debian's chromium headless with puppeteer-core (pinned in
# tests/web/package-lock.json, installed with `npm ci` into the build dir on
# first use) through the issue's "Must show" list on A's app: search
# bialystok, narrow by a facet, open a result, publish through the form and
# see it on B's app, edit and see the diff, delete after confirming, bring in
# a bundle from a hostile partner and check that its <script>, onerror and
# javascript: run nothing on any page, and stop B and see the Network page
# say it is down and why. Screenshots go to $HX_BUILD/web-shots/.
# Then, with curl: a POST without the CSRF token and a request with a
# foreign Host header are refused, --http 0.0.0.0:PORT does not start
# without a password, and with one it asks for the login and sets an
# HttpOnly, SameSite=Strict cookie.
# Skips (77) only when node, npm or chromium is missing or npm cannot fetch.
# Every wait polls with a deadline.
set -u
: "${HANSA:?set HANSA to the hansa binary}"
: "${HX_BUILD:?set HX_BUILD to the build directory}"
: "${HX_SRC:?set HX_SRC to the source directory}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in node npm; do
	command -v $tool >/dev/null || { echo "web.t.sh: no $tool: skipped" >&2; exit 77; }
done
[ -x "$CHROMIUM" ] || { echo "web.t.sh: no $CHROMIUM: skipped" >&2; exit 77; }
command -v jq >/dev/null || { echo "web.t.sh: needs jq" >&2; exit 1; }
command -v curl >/dev/null || { echo "web.t.sh: needs curl" >&2; exit 1; }
command -v python3 >/dev/null || { echo "web.t.sh: needs python3" >&2; exit 1; }

# --- puppeteer-core, pinned --------------------------------------------------
I="$HX_BUILD/web-test"
mkdir -p "$I"
cp "$HX_SRC/tests/web/package.json" "$HX_SRC/tests/web/package-lock.json" \
	"$HX_SRC/tests/web/web-test.mjs" "$I/"
if [ ! -f "$I/node_modules/puppeteer-core/package.json" ] ||
   ! cmp -s "$I/package-lock.json" "$I/node_modules/.package-lock.json.hansa" 2>/dev/null; then
	echo "installing puppeteer-core into $I ..."
	if ! (cd "$I" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
		echo "web.t.sh: npm ci of puppeteer-core failed (no registry?): skipped" >&2
		exit 77
	fi
	cp "$I/package-lock.json" "$I/node_modules/.package-lock.json.hansa"
fi

# the temp dir, cleanup, fail (with the nodes' logs), h, free_port, until_ok,
# logged: shared with the replication tests (start is this test's own)
NAME=web
# shellcheck source=tests/nodes-lib.sh
source "$(dirname "$0")/nodes-lib.sh"
start() { # start NODE ZMQPORT HTTPPORT
	"$HANSA" --home "$T/$1" serve --bind "tcp://127.0.0.1:$2" --http "127.0.0.1:$3" \
		--interval 1 2>>"$T/$1.log" &
	PID[$1]=$!
	until_ok 30 logged "$1" "web app on http://127.0.0.1:$3/" || fail "$1's web app did not start"
	until_ok 30 logged "$1" "listening on" || fail "$1 did not start"
}

PA=$(free_port); PB=$(free_port); WA=$(free_port); WB=$(free_port)
h a init --name "Podlaskie Region" --town Białystok --region Podlaskie --country PL \
	--web https://example.org/podlaskie >/dev/null || fail "init a"
h b init --name "Region Zealand" --town Sorø --region Zealand --country DK >/dev/null || fail "init b"
h x init --name "Mallory" --country DK >/dev/null || fail "init x"
KB=$(h b id --json | jq -r .key)
KX=$(h x id --json | jq -r .key)
# B invites, A joins (A connects out to B), B accepts A's code
CB=$(h b invite --endpoint "tcp://127.0.0.1:$PB") || fail "invite b"
CA=$(h a join "$CB" --endpoint "tcp://127.0.0.1:$PA" 2>/dev/null) || fail "a join b"
h b member add "$CA" >/dev/null 2>&1 || fail "b accepts a's code"
# X is a partner whose entries A accepts, with a hostile profile
h a member add "$KX" --name '<img src=x onerror="window.__pwned=1;alert(10)">Mallory' \
	--web 'javascript:alert(11)' >/dev/null 2>&1 || fail "a adds x"

# --- B's library: practices and a toolkit about Białystok ---------------------
cat >"$T/docs.jsonl" <<'EOF'
{"doc":"practices/bialystok-vouchers","kind":"practice","title":"Innovation vouchers in Białystok","body":"The Białystok science park gives small firms vouchers for a first project with a university lab.\n\n- one page application\n- answer within two weeks","tags":["innovation","smes","vouchers"],"lang":"en","org":"Region Zealand","country":"PL"}
{"doc":"toolkits/bialystok-cluster-toolkit","kind":"toolkit","title":"Cluster toolkit used in Białystok and Cēsis","body":"Templates for cluster managers, tested in Białystok and Cēsis.","tags":["clusters"],"lang":"en","org":"Region Zealand","country":"DK"}
{"doc":"cases/bialystok-food","kind":"case","title":"Food processing case from Białystok","body":"How a dairy in Białystok found partners abroad.","tags":["food"],"lang":"en","org":"Region Zealand","country":"PL"}
EOF
h b import "$T/docs.jsonl" >/dev/null || fail "import at b"

# --- X's hostile entry, in a bundle for A's Offline transfer page -------------
cat >"$T/hostile.jsonl" <<'EOF'
{"doc":"practices/hostile","kind":"practice","title":"Hostile <script>window.__pwned=1;alert(1)</script><img src=x onerror=\"window.__pwned=1;alert(2)\"> payload","body":"# Hostile payload\n\n<script>window.__pwned=1;alert(3)</script>\n\n<img src=x onerror=\"window.__pwned=1;alert(4)\">\n\n[click me](javascript:window.__pwned=1;alert(5))\n\n<a href=\"javascript:alert(6)\">raw link</a>\n\n<iframe src=\"javascript:alert(7)\"></iframe>","tags":["<script>alert(8)</script>","\" onmouseover=\"alert(9)","hostile"],"lang":"en","org":"<svg onload=alert(12)>","url":"javascript:alert(13)"}
EOF
h x import "$T/hostile.jsonl" >/dev/null || fail "import at x"
h x export --bundle "$T/hostile.hxb" >/dev/null || fail "bundle at x"

start b "$PB" "$WB"
start a "$PA" "$WA"
until_ok 30 logged a "peer Region Zealand .* up" || fail "A did not connect to B"
until_ok 30 h a show practices/bialystok-vouchers --author "$KB" || fail "B's practices did not reach A"
until_ok 30 sh -c "'$HANSA' --home '$T/a' search bialystok | grep -q bialystok-vouchers" ||
	fail "A does not find B's practice by search"

# --- the browser ----------------------------------------------------------------
SHOTS="$HX_BUILD/web-shots"
mkdir -p "$SHOTS"
URL_A="http://127.0.0.1:$WA" URL_B="http://127.0.0.1:$WB" PID_B="${PID[b]}" \
	BUNDLE="$T/hostile.hxb" SHOTS="$SHOTS" CHROMIUM="$CHROMIUM" PROFILE_DIR="$T/chromium" \
	node "$I/web-test.mjs" || fail "the browser test failed"
wait "${PID[b]}" 2>/dev/null
unset "PID[b]"

# --- hostile requests, with curl ----------------------------------------------------
U="http://127.0.0.1:$WA"
code=$(curl -s -o /dev/null -w '%{http_code}' -d 'title=x&kind=practice&lang=en&body=x&action=save' "$U/publish")
[ "$code" = 403 ] || fail "a form POST without the CSRF token answered $code, not 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	-d '{"path":"notes/x","title":"x"}' "$U/api/publish")
[ "$code" = 403 ] || fail "an API POST without the CSRF token answered $code, not 403"
CSRF=$(curl -s "$U/api/csrf" | jq -r .csrf)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
	-d '{"path":"notes/api-note","title":"From the API","body":"hello"}' "$U/api/publish")
[ "$code" = 201 ] || fail "an API POST with the token answered $code, not 201"
h a show notes/api-note >/dev/null || fail "the API's publish is not in the store"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: attacker.example:80' "$U/")
[ "$code" = 403 ] || fail "a foreign Host header answered $code, not 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: attacker.example:$WA" "$U/api/status")
[ "$code" = 403 ] || fail "a foreign Host header (API) answered $code, not 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$WA" "$U/api/status")
[ "$code" = 200 ] || fail "Host localhost answered $code, not 200"
curl -s "$U/metrics" | grep -q '^hansa_entries_refused_total{reason="bad-signature"} 0$' ||
	fail "/metrics lacks the refusals by reason"
curl -s "$U/metrics" | grep -q '^hansa_peers_connected 0$' || fail "/metrics: B should be down"

# beyond loopback: no password, no start
WC=$(free_port)
if h b web --http "0.0.0.0:$WC" 2>"$T/nopass.err"; then
	fail "hansa web --http 0.0.0.0 started without a password"
fi
grep -q "web-password" "$T/nopass.err" || fail "the refusal does not say to set a password"
if h b serve --bind "tcp://127.0.0.1:$PB" --http "0.0.0.0:$WC" 2>"$T/nopass2.err"; then
	fail "hansa serve --http 0.0.0.0 started without a password"
fi
grep -q "web-password" "$T/nopass2.err" || fail "serve's refusal does not say to set a password"
# with a password: login wanted, cookie HttpOnly and SameSite=Strict
printf 'correct horse battery\n' | h b web-password || fail "web-password"
"$HANSA" --home "$T/b" web --http "0.0.0.0:$WC" 2>>"$T/bweb.log" &
PID[bweb]=$!
until_ok 30 logged bweb "web app on" || fail "the password-protected web app did not start"
V="http://127.0.0.1:$WC"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: partner.example' "$V/api/status")
[ "$code" = 401 ] || fail "without a login the API answered $code, not 401"
page=$(curl -s -c "$T/jar" "$V/")
tok=$(printf '%s' "$page" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
[ -n "$tok" ] || fail "the login page has no CSRF token"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" --data-urlencode "csrf=$tok" \
	--data-urlencode 'password=wrong password' "$V/login")
[ "$code" = 403 ] || fail "a wrong password answered $code, not 403"
hdr=$(curl -s -D - -o /dev/null -b "$T/jar" -c "$T/jar" --data-urlencode "csrf=$tok" \
	--data-urlencode 'password=correct horse battery' "$V/login")
printf '%s' "$hdr" | grep -qi '^set-cookie: hansa_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' ||
	fail "the login did not set an HttpOnly, SameSite=Strict session cookie"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$V/api/status")
[ "$code" = 200 ] || fail "with the login cookie the API answered $code, not 200"
kill "${PID[bweb]}" && wait "${PID[bweb]}" || fail "hansa web did not stop cleanly"
unset "PID[bweb]"
kill "${PID[a]}" && wait "${PID[a]}" || fail "A did not stop cleanly"
unset "PID[a]"
! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/*.log || fail "sanitizer report"
echo "web.t.sh: ok (screenshots in $SHOTS)"
