#!/bin/sh
# The Oclgrind pass: every kernel of the library (both factorizations, both variants, both
# precisions), on small shapes (tests/oclgrind/driver.c), run on Oclgrind's simulated OpenCL 1.2
# device with API and data-race checks (out-of-bounds accesses are always checked). Fails when
# Oclgrind reports anything or a result disagrees with the dense reference.
#
# Usage: tests/oclgrind/run.sh BUILD_DIR
# Oclgrind's interpreter does not implement LLVM's noalias scope intrinsic that the optimiser
# emits when it inlines the kernels' helpers, so the programs are built with -cl-opt-disable
# here (the arithmetic is the same). Its uninitialised-value plugin is not used: it aborts on
# LLVM's freeze instruction (shared/DESIGN.md section 6).
#
# Where the reports go: the kernel checks (data races, out-of-bounds, barriers...) into --log;
# the --check-api reports ("Oclgrind - OpenCL runtime error detected") onto the program's stderr,
# which --log does not take. Both are read; any API report fails the pass.
set -u
build=${1:?usage: $0 BUILD_DIR}
driver="$build/tests/oclgrind_driver"
[ -x "$driver" ] || { echo "oclgrind: $driver not built" >&2; exit 1; }
command -v oclgrind >/dev/null || { echo "oclgrind: not installed (apt-get install oclgrind)" >&2; exit 1; }
log=$(mktemp) || exit 1
err=$(mktemp) || { rm -f "$log"; exit 1; }
trap 'rm -f "$log" "$err"' EXIT
SMNN_CACHE_DISABLE=1 oclgrind --check-api --data-races --log "$log" \
    --build-options "-cl-opt-disable" "$driver" 2>"$err"
rc=$?
# stderr as it came; a count of everything Oclgrind said there.
unexpected=$(awk '
    function flush() {
        if (blk == "") return
        bad++
        printf "%s", blk > "/dev/stderr"
        blk = ""
    }
    /^Oclgrind/ || /^\[Oclgrind\]/ { flush(); blank = 0; blk = $0 "\n"; inblk = 1; next }
    inblk && /^$/ { flush(); inblk = 0; next }
    inblk { blk = blk $0 "\n"; next }
    /^$/ { blank++; next } # Oclgrind opens each report with one: kept only before other lines
    { for (; blank > 0; blank--) print "" > "/dev/stderr"; print > "/dev/stderr" }
    END {
        flush()
        print bad + 0
    }' "$err")
if [ "$unexpected" != 0 ]; then
    echo "oclgrind: $unexpected API report(s) above" >&2
    rc=1
fi
if [ -s "$log" ]; then
    echo "oclgrind: reports:" >&2
    cat "$log" >&2
    rc=1
fi
[ $rc -eq 0 ] && echo "oclgrind: no reports"
exit $rc
