#!/usr/bin/env bash
# fuzz.t.sh: builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang
# in its own build directory (-DHANSA_FUZZ=ON, libraries instrumented for
# coverage, ASan + UBSan) and runs each briefly with -use_value_profile=1,
# seeded from tests/vectors/ where there are seeds for it. Without clang (or
# without its libFuzzer runtime) it prints why and exits 77, which ctest
# reports as skipped.
# Environment: HX_SRC, HX_BUILD (set by ctest); HX_FUZZ_SECONDS (default 20).
set -u
SRC=${HX_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${HX_BUILD:-$SRC/build}
SECONDS_EACH=${HX_FUZZ_SECONDS:-20}

CC=
for c in clang clang-14 clang-15 clang-16; do
	command -v "$c" >/dev/null && { CC=$(command -v "$c"); break; }
done
[ -n "$CC" ] || { echo "skipped: no clang (apt-get install clang-14 libclang-rt-14-dev)"; exit 77; }

T=$(mktemp -d /tmp/hx-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT
# Is libFuzzer's runtime there?
cat >"$T/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF
"$CC" -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" 2>"$T/probe.err" ||
	{ echo "skipped: $CC cannot link libFuzzer (apt-get install libclang-rt-14-dev): $(head -n1 "$T/probe.err")"; exit 77; }

FB="$BUILD/fuzz"
echo "fuzz.t.sh: building the fuzz targets with $CC in $FB"
cmake -S "$SRC" -B "$FB" -DCMAKE_C_COMPILER="$CC" -DHANSA_FUZZ=ON -DHANSA_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" \
	>"$T/cmake.log" 2>&1 || { cat "$T/cmake.log" >&2; echo "FAIL: cmake for the fuzz build" >&2; exit 1; }
targets=()
for f in "$SRC"/tests/fuzz/fuzz_*.c; do
	[ -e "$f" ] && targets+=("$(basename "$f" .c)")
done
[ ${#targets[@]} -gt 0 ] || { echo "FAIL: no tests/fuzz/fuzz_*.c" >&2; exit 1; }
cmake --build "$FB" -j"$(nproc)" --target "${targets[@]}" >"$T/build.log" 2>&1 ||
	{ tail -n 40 "$T/build.log" >&2; echo "FAIL: building the fuzz targets" >&2; exit 1; }

# Seeds: the signed entries of the test vectors for fuzz_entry.
seeds() {
	local name=$1 dir=$2
	case $name in
	fuzz_entry)
		[ -r "$SRC/tests/vectors/entries.txt" ] || return 0
		perl -ne 'BEGIN { $d = shift } if (/^bytes:\s*([0-9a-fA-F]+)/) {
			open(my $f, ">", sprintf("%s/vector-%02d", $d, ++$n)) or die; binmode $f;
			print $f pack("H*", $1); close $f }' "$dir" "$SRC/tests/vectors/entries.txt"
		;;
	esac
}

fails=0
for t in "${targets[@]}"; do
	bin=$(find "$FB" -type f -name "$t" -perm -u+x | head -n1)
	[ -n "$bin" ] || { echo "FAIL: $t was not built" >&2; fails=$((fails + 1)); continue; }
	mkdir -p "$T/$t/corpus" "$T/$t/seeds" "$T/$t/artifacts"
	seeds "$t" "$T/$t/seeds"
	n=$(find "$T/$t/seeds" -type f | wc -l)
	echo "fuzz.t.sh: $t for ${SECONDS_EACH}s ($n seeds)"
	dict=()
	[ -r "$SRC/tests/fuzz/$t.dict" ] && dict=(-dict="$SRC/tests/fuzz/$t.dict")
	(cd "$T/$t" && "$bin" "${dict[@]}" -max_total_time="$SECONDS_EACH" -use_value_profile=1 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$T/$t/artifacts/" \
		corpus seeds) >"$T/$t/log" 2>&1
	st=$?
	if [ $st -ne 0 ]; then
		fails=$((fails + 1))
		echo "FAIL: $t exit $st" >&2
		grep -E 'ERROR|SUMMARY|Test unit written|runtime error|#[0-9] ' "$T/$t/log" | head -n 30 >&2
		for a in "$T/$t"/artifacts/*; do
			[ -e "$a" ] || continue
			echo "  input ($(basename "$a")): $(od -An -tx1 -v "$a" | tr -d ' \n' | head -c 400)" >&2
		done
	else
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$T/$t/log" | tr '\n' ' '
		echo
	fi
done
[ "$fails" -eq 0 ]
