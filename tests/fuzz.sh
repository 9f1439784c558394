#!/bin/sh
# Bounded fuzzing with libFuzzer (clang) + AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: tests/fuzz.sh [SECONDS_PER_TARGET] [BUILD_DIR]
#   BUILD_DIR is a configured and built smnn tree (default: build) that provides the generated
#   version header and embedded kernels. Each target starts from its committed seed corpus in
#   tests/fuzz/corpus/NAME (never modified); new inputs go to build-fuzz/corpus-NAME, crashes to
#   build-fuzz/crash-NAME-*. Exits non-zero on the first finding.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${2:-build}
out=build-fuzz
mkdir -p "$out"
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11
-D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 -Iinclude -I$build/include -Ilib -Icl
-Itools/common"
lib="lib/core/*.c lib/runtime/*.c lib/reference/*.c lib/solver/*.c $build/cl/kernels.c"
libs="-lOpenCL -llapacke -lm -lpthread"
# shellcheck disable=SC2086
clang $flags tests/fuzz/fuzz_npy.c tools/common/npy.c tools/common/outfile.c -o "$out/fuzz_npy"
# shellcheck disable=SC2086
clang $flags tests/fuzz/fuzz_cli.c tools/common/cli.c -o "$out/fuzz_cli"
# shellcheck disable=SC2086
clang $flags tests/fuzz/fuzz_problem.c $lib $libs -o "$out/fuzz_problem"
# shellcheck disable=SC2086
clang $flags tests/fuzz/fuzz_reference.c $lib $libs -o "$out/fuzz_reference"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp"
for t in npy cli problem reference; do
    mkdir -p "$out/corpus-$t"
    echo "fuzz.sh: $t for $secs s"
    "$out/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$out/crash-$t-" "$out/corpus-$t" "tests/fuzz/corpus/$t" 2>"$out/$t.log" ||
        { tail -n 40 "$out/$t.log"; echo "fuzz.sh: $t: FINDING (see $out/$t.log)"; exit 1; }
    grep -E "stat::number_of_executed_units|Done" "$out/$t.log" | tr '\n' ' '
    echo
done
echo "4 passed, 0 failed"
