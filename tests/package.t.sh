#!/usr/bin/env bash
# package.t.sh: the Debian package. Builds hansa in a Release build dir
# (HX_BUILD/pkg-release, kept between runs), makes the .deb with cpack, and
# checks it: the declared Depends (from dpkg-shlibdeps) name the runtime
# libraries and resolve on this Debian (apt-get --simulate when root), the
# files sit where Debian expects them, and the binary extracted into a
# fresh root runs (--version, init, publish, search) with only the system's
# libraries. Man pages, once the build generates them, must be in the
# package and open with man.
# Why no chroot: a debootstrap root from the local package cache needs a
# full base system (~150 packages, several minutes, network when the cache
# lacks one); dpkg-deb -x into an empty root plus the apt dependency check
# proves the same two things (the files are complete, the dependencies are
# declared) in seconds.
# Opt-in: it takes about two minutes on a busy 2-core machine (a Release
# build of hansa, cpack, apt), so it runs only with HX_TEST_PACKAGE=1
# (scripts/test sets it). Skips (77) otherwise, or without cpack, dpkg-deb
# or dpkg-shlibdeps (dpkg-dev).
set -u
[ "${HX_TEST_PACKAGE:-}" = 1 ] || { echo "package.t.sh: set HX_TEST_PACKAGE=1 to run it (about 2 min)" >&2; exit 77; }
: "${HX_SRC:?set HX_SRC to the source tree}" "${HX_BUILD:?set HX_BUILD to the build dir}"
for t in cmake cpack dpkg-deb dpkg-shlibdeps; do
	command -v "$t" >/dev/null || { echo "package.t.sh: no $t: skipped" >&2; exit 77; }
done
T=$(mktemp -d /tmp/hx-pkg.XXXXXX)
trap 'rm -rf "$T"' EXIT
B="$HX_BUILD/pkg-release"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

cmake -S "$HX_SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DHANSA_SANITIZE=OFF >"$T/cmake.log" 2>&1 ||
	{ cat "$T/cmake.log" >&2; echo "FAIL: cmake" >&2; exit 1; }
# only what the package holds: the tests and benchmarks are not installed
# (man: hansa(1) and hansa-COMMAND(1), written by the built binary)
targets="hansa man"
for t in $targets; do
	cmake --build "$B" -j2 --target "$t" >"$T/build.log" 2>&1 ||
		{ tail -30 "$T/build.log" >&2; echo "FAIL: build $t" >&2; exit 1; }
done
rm -f "$B"/hansa_*.deb
(cd "$B" && cpack -G DEB) >"$T/cpack.log" 2>&1 || { cat "$T/cpack.log" >&2; echo "FAIL: cpack" >&2; exit 1; }
deb=$(ls "$B"/hansa_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || { echo "FAIL: no .deb in $B" >&2; exit 1; }
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# Depends: every library the binary links, from dpkg-shlibdeps
deps=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $deps"
for lib in libc6 libsodium23 libzmq5 liblmdb0 libsystemd0 libyaml-0-2 libcjson1 libutf8proc2 \
	libstemmer0d libroaring0 libcmark; do
	case "$deps" in *"$lib"*) ;; *) fail "Depends lacks $lib" ;; esac
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	apt-get install --simulate "$deb" >"$T/apt.log" 2>&1 || { cat "$T/apt.log" >&2; fail "apt-get cannot resolve the package's dependencies"; }
	grep -q '^Inst hansa' "$T/apt.log" || fail "apt-get --simulate would not install hansa"
else
	# every dependency named (first alternative) is a package this system has
	for d in $(echo "$deps" | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g'); do
		dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" ||
			fail "dependency $d is not installed here"
	done
fi

# files where Debian expects them
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/contents"
for f in ./usr/bin/hansa ./usr/lib/systemd/system/hansa.service \
	./usr/lib/systemd/system/hansa-backup.service ./usr/lib/sysusers.d/hansa.conf \
	./usr/share/doc/hansa/README.md ./usr/share/doc/hansa/FORMAT.md \
	./usr/share/doc/hansa/PROTOCOL.md ./usr/share/doc/hansa/OPERATIONS.md; do
	grep -qx "$f" "$T/contents" || fail "package lacks $f"
done
dpkg-deb -I "$deb" postinst | grep -q sysusers || fail "postinst does not create the hansa user"

# a fresh root: the package's files alone, the system's libraries
R="$T/root"
mkdir -p "$R"
dpkg-deb -x "$deb" "$R"
bin="$R/usr/bin/hansa"
ldd "$bin" | grep -q 'not found' && fail "installed binary misses a library: $(ldd "$bin" | grep 'not found')"
v=$("$bin" --version) || fail "hansa --version failed"
case "$v" in "hansa "[0-9]*) echo "installed: $v" ;; *) fail "hansa --version says '$v'" ;; esac
H="$T/home"
"$bin" --home "$H" init --name "Package test" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "installed hansa init"; }
printf -- '---\npath: practices/pkg\ntitle: Packaged practice\n---\nInstalled from the Debian package.\n' >"$T/p.md"
"$bin" --home "$H" publish "$T/p.md" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; fail "installed hansa publish"; }
"$bin" --home "$H" search packaged 2>&1 | grep -q 'practices/pkg' || fail "installed hansa search finds nothing"
"$bin" --home "$H" fsck >/dev/null 2>&1 || fail "installed hansa fsck"

# man pages: hansa(1) and one per command, readable with man
for page in hansa hansa-search hansa-serve hansa-backup; do
	grep -q "/usr/share/man/man1/$page\.1" "$T/contents" || fail "the package lacks $page.1"
done
if command -v man >/dev/null; then
	m=$(ls "$R"/usr/share/man/man1/hansa.1* | head -1)
	MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q 'hansa-search' ||
		fail "man hansa does not list hansa-search"
	m=$(ls "$R"/usr/share/man/man1/hansa-search.1* | head -1)
	MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q -- '--limit' || fail "man hansa-search lacks --limit"
fi

[ "$fails" = 0 ] || { echo "package.t.sh: $fails failure(s)" >&2; exit 1; }
echo "package.t.sh: ok"
