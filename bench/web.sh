#!/usr/bin/env bash
# bench/web.sh: the web app's search under load. Imports a slice of the
# corpus into a fresh home, serves it with `hansa web`, and measures with
# wrk at 16 concurrent connections (2 threads):
#   - /api/search over a mix of queries (common, rare, AND, phrase, prefix,
#     filter, place names): requests/s, p50, p99;
#   - the anchor: a static asset of the same server (/assets/hansa.css);
#   - the in-process rate of the same searches (bench_web_search) on as
#     many threads as there are cores, and on one;
# and prints the ratios. Not a test: it never fails on speed.
#   bench/web.sh [DOCUMENTS] [SECONDS]      (defaults 20000 and 10)
# HX_BUILD points at a build (default build/release); CORPUS at the corpus.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HX_BUILD=${HX_BUILD:-$ROOT/build/release}
HANSA=${HANSA:-$HX_BUILD/hansa}
BWS=$HX_BUILD/bench/bench_web_search
CORPUS=${CORPUS:-$ROOT/../shared/data/tools-corpus.jsonl.xz}
N=${1:-20000}
DUR=${2:-10}
for x in "$HANSA" "$BWS"; do
	[ -x "$x" ] || { echo "bench/web.sh: no $x (build $HX_BUILD)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "bench/web.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -f "$CORPUS" ] || { echo "bench/web.sh: no corpus at $CORPUS" >&2; exit 1; }

T=$(mktemp -d /tmp/hx-bench-web.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

echo "loading $N documents ..." >&2
"$HANSA" --home "$T/h" init --name "Bench Partner" --country DK >/dev/null
{ xz -dc "$CORPUS" || true; } | head -n "$N" >"$T/slice.jsonl"
"$HANSA" --home "$T/h" import "$T/slice.jsonl" >/dev/null 2>&1

cat >"$T/queries" <<'EOF'
python
library
server
wxwidgets
zeroconf
sudoku
kerberos
python library
xml parser
web server
image viewer
"command line"
"text editor"
lib*
crypt*
python lang:en
bibliothek lang:de
editor country:de
kobenhavn
worterbuch
perl OR ruby
python -perl
EOF
# the same queries as request paths for wrk
python3 - "$T/queries" >"$T/search.lua" <<'EOF'
import sys, urllib.parse
qs = [l.strip() for l in open(sys.argv[1]) if l.strip()]
print("local paths = {")
for q in qs:
    print('  "/api/search?q=%s",' % urllib.parse.quote(q, safe=""))
print("}")
print("local i = 0")
print("request = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend")
EOF

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$HANSA" --home "$T/h" web --http "127.0.0.1:$PORT" 2>"$T/web.log" &
PID=$!
for _ in $(seq 300); do
	grep -q "web app on" "$T/web.log" && break
	sleep 0.1
done
grep -q "web app on" "$T/web.log" || { cat "$T/web.log" >&2; exit 1; }
U="http://127.0.0.1:$PORT"
curl -sf "$U/api/search?q=python" >/dev/null || { echo "bench/web.sh: the API does not answer" >&2; exit 1; }

# wrk's "Requests/sec" and latency percentiles, in requests/s and ms
measure() { # measure NAME URL [LUA]
	local out
	out=$(wrk -t2 -c16 -d"${DUR}s" --latency ${3:+-s "$3"} "$2")
	printf '%s\n' "$out" >"$T/wrk-$1.txt"
	python3 - "$T/wrk-$1.txt" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", t).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", t).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("%.0f %.3f %.3f %s" % (rps, p50, p99, errs.group(1) if errs else "0"))
EOF
}
echo "measuring for ${DUR}s each ..." >&2
read -r S_RPS S_P50 S_P99 S_ERR < <(measure search "$U" "$T/search.lua")
read -r A_RPS A_P50 A_P99 A_ERR < <(measure static "$U/assets/hansa.css")
kill "$PID" && wait "$PID" 2>/dev/null
PID=
CORES=$(nproc)
read -r _ _ I_RPS _ I_P50 _ I_P99 _ _ _ _ < <("$BWS" "$T/h" "$T/queries" "$DUR" "$CORES")
read -r _ _ I1_RPS _ I1_P50 _ I1_P99 _ _ _ _ < <("$BWS" "$T/h" "$T/queries" "$DUR" 1)

printf '\nweb app search, %s documents, wrk -t2 -c16 -d%ss (errors: search %s, static %s)\n' \
	"$N" "$DUR" "$S_ERR" "$A_ERR"
printf '%-34s %10s %10s %10s\n' "" "req/s" "p50 ms" "p99 ms"
printf '%-34s %10s %10s %10s\n' "GET /api/search (22 queries)" "$S_RPS" "$S_P50" "$S_P99"
printf '%-34s %10s %10s %10s\n' "GET /assets/hansa.css (anchor)" "$A_RPS" "$A_P50" "$A_P99"
printf '%-34s %10s %10s %10s\n' "hx_search in-process, $CORES threads" "$I_RPS" "$I_P50" "$I_P99"
printf '%-34s %10s %10s %10s\n' "hx_search in-process, 1 thread" "$I1_RPS" "$I1_P50" "$I1_P99"
python3 - "$S_RPS" "$A_RPS" "$I_RPS" <<'EOF'
import sys
s, a, i = map(float, sys.argv[1:])
print("\nsearch over HTTP / static asset over HTTP:   %.3f" % (s / a))
print("search over HTTP / search in-process:        %.3f" % (s / i))
EOF
echo "load: $(uptime)"
