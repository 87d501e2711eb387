# setup.sh: sourced by scripts/demo and scripts/test. Installs the Debian
# packages hansa needs when they are missing (as root; otherwise prints the
# exact apt-get line and stops), then configures and builds into build/NAME.
#   hx_setup NAME [cmake options...]   -> sets HX_BUILD_DIR

HX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Needed to build and run.
HX_PKGS_BUILD="build-essential cmake pkg-config libsodium-dev libzmq3-dev liblmdb-dev
  libutf8proc-dev libstemmer-dev libcjson-dev libyaml-dev libcmark-dev libsqlite3-dev
  libroaring-dev libmicrohttpd-dev libsystemd-dev xz-utils ca-certificates
  libhunspell-dev hunspell-pl hunspell-lv hunspell-sv libxapian-dev
  libpoppler-glib-dev libzip-dev libxml2-dev libseccomp-dev libzstd-dev"
# (libmicrohttpd: the web app; libsystemd: sd_notify readiness for the
# service; Hunspell and its pl/lv/sv dictionaries: lemmas for search,
# store/lemma.c; Xapian: an anchor of bench_search, which builds without it;
# poppler-glib, libzip, libxml2, libseccomp: text from attachments in a
# sandboxed child, extract/.)
# Needed by the test suite as well: libFuzzer (clang), the style check
# (clang-format), the Negentropy interop peer (node + npm), the static site
# check and the web app's browser test (chromium, puppeteer-core from npm),
# JSON checks (jq), HTTP checks (curl), python3 for small test helpers, wrk
# for bench/web.sh; dpkg-dev (dpkg-shlibdeps for CPack's Depends), fakeroot,
# systemd (systemd-analyze verify) and man-db for the package test; iptables
# for tests/heal.t.sh; poppler-utils (pdftotext, the anchor of bench_extract;
# chromium also makes the PDFs of tests/extract.t.sh).
HX_PKGS_TEST="clang-14 libclang-rt-14-dev clang-format chromium jq curl python3 procps psmisc wrk
  dpkg-dev fakeroot systemd man-db iptables poppler-utils"
# Some images ship Node.js with its own npm (which conflicts with Debian's
# npm package): ask for Debian's only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
	HX_PKGS_TEST="$HX_PKGS_TEST nodejs npm"
fi

hx_missing() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	echo "$missing"
}

hx_install() {
	local missing
	# shellcheck disable=SC2086
	missing=$(hx_missing $*)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "hansa: missing Debian packages; run as root:" >&2
		echo "  apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || { echo "hansa: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >&2 ||
		{ echo "hansa: apt-get install failed" >&2; exit 1; }
}

hx_setup() {
	local name=$1
	shift
	HX_BUILD_DIR="$HX_ROOT/build/$name"
	cmake -S "$HX_ROOT" -B "$HX_BUILD_DIR" "$@" >"$HX_ROOT/build/cmake-$name.log" 2>&1 ||
		{ cat "$HX_ROOT/build/cmake-$name.log" >&2; echo "hansa: cmake failed" >&2; exit 1; }
	cmake --build "$HX_BUILD_DIR" -j"$(nproc)" >"$HX_ROOT/build/make-$name.log" 2>&1 ||
		{ tail -n 40 "$HX_ROOT/build/make-$name.log" >&2; echo "hansa: build failed" >&2; exit 1; }
}
