#!/bin/sh
# One command for the first minutes on a GPU machine (or any OpenCL device): build smnn, check
# the device, run the test suite on it, run the benchmark suites, and write CSV, JSON and a
# summary table under a results folder. It needs no network: on a machine without build tools
# or an OpenCL ICD loader, the Debian packages are carried along (fetch) and unpacked into a
# private prefix (nothing is installed system-wide).
#
#   bench/gpu.sh fetch [DEBDIR]
#       On a Debian 12 machine with network: downloads the .deb files the GPU machine needs
#       (ICD loader, headers, LAPACK, build tools, cmocka) into DEBDIR (default bench/gpu-debs).
#   bench/gpu.sh run OUTDIR [--device SPEC] [--debs DEBDIR] [--quick]
#       From the repository root. SPEC as everywhere (default: nvidia). With DEBDIR holding .deb
#       files they are unpacked and used; otherwise the system's tools and ICD loader are. For
#       an NVIDIA device whose driver is installed without an ICD file (libnvidia-opencl.so.1
#       only), an ICD file is written into the private prefix. Steps, each timed, each allowed to
#       fail without stopping the others (the summary says which failed):
#         build (release, tests when cmocka is there, no GSL), smnn-info with its self-check,
#         the test suite on the device (without the host-only 'reference' and 'slow' suites),
#         smnn-gpu-compile is not run (it needs clang, not a GPU),
#         smnn-bench suites paper, scaling, blocks (CSV with the LAPACK peer, JSON without and
#         with the fused backward pass as its own phase; in single precision on a device
#         without fp64); the scaling suite holds the parallel-in-time shapes (B = 1, 4, 16, 64
#         at T = 1e4 .. 1e6, the sequential walk next to the automatic time chunks),
#         the batch over every device of the node ("all", smnn-bench --devices) against one,
#         plots when gnuplot is there, OUTDIR/summary.md.
#       --quick: the 'quick' and 'paper' suites only, 3 repeats (for a check of the script on a
#       CPU device; the full run is meant for the GPU machine, within 8 minutes there).
# Exit status: 0 when every step passed, 1 otherwise, 2 on bad usage.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
debs_needed="ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers
liblapacke liblapacke-dev liblapack3 libblas3 libopenblas0-pthread libgfortran5 libgomp1
libcmocka0 libcmocka-dev meson ninja-build python3-setuptools pkg-config libpkgconf3 pkgconf
pkgconf-bin"

usage() {
    sed -n '2,28p' "$0"
    exit 2
}

cmd=${1:-}
case "$cmd" in
fetch)
    dir=${2:-$here/bench/gpu-debs}
    mkdir -p "$dir" && cd "$dir" || exit 1
    apt-get update -qq || exit 1
    # shellcheck disable=SC2086
    apt-get download $debs_needed || exit 1
    echo "gpu.sh: .deb files in $dir; carry them with the repository to the GPU machine"
    exit 0
    ;;
run) ;;
*) usage ;;
esac

out=${2:-}
[ -n "$out" ] || usage
shift 2
device=nvidia debs=$here/bench/gpu-debs quick=0
while [ $# -gt 0 ]; do
    case "$1" in
    --device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
    --debs) [ $# -ge 2 ] || usage; debs=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "gpu.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)

# Private prefix from carried .deb files, when there are any.
if ls "$debs"/*.deb >/dev/null 2>&1; then
    prefix=$(mktemp -d) || exit 1
    for d in "$debs"/*.deb; do dpkg -x "$d" "$prefix" || exit 1; done
    lib="$prefix/usr/lib/x86_64-linux-gnu"
    export PATH="$prefix/usr/bin:$PATH"
    export LD_LIBRARY_PATH="$lib:$lib/openblas-pthread:${LD_LIBRARY_PATH:-}"
    export PKG_CONFIG_PATH="$lib/pkgconfig:$prefix/usr/share/pkgconfig"
    export PKG_CONFIG_SYSROOT_DIR="$prefix"
    export PYTHONPATH="$prefix/usr/lib/python3/dist-packages:${PYTHONPATH:-}"
    export C_INCLUDE_PATH="$prefix/usr/include"
    export LIBRARY_PATH="$lib:$lib/openblas-pthread"
    # The BLAS/LAPACK alternatives are symlinks that dpkg -x does not create.
    [ -e "$lib/liblapack.so.3" ] || ln -s openblas-pthread/liblapack.so.3 "$lib/liblapack.so.3"
    [ -e "$lib/libblas.so.3" ] || ln -s openblas-pthread/libblas.so.3 "$lib/libblas.so.3"
    echo "gpu.sh: using the packages in $debs (unpacked into $prefix)"
fi
# NVIDIA's driver without an ICD file: point a private vendors folder at it.
case "$device" in
*[Nn][Vv][Ii][Dd][Ii][Aa]*)
    if ! grep -qs libnvidia-opencl /etc/OpenCL/vendors/*.icd; then
        nv=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl.so.1/ {print $NF; exit}')
        [ -n "$nv" ] || nv=$(find / -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
        if [ -n "$nv" ]; then
            icd=$(mktemp -d) || exit 1
            echo "$nv" > "$icd/nvidia.icd"
            export OCL_ICD_VENDORS="$icd"
            echo "gpu.sh: ICD file for $nv in $icd"
        fi
    fi
    ;;
esac
export SMNN_DEVICE="$device"
export SMNN_CACHE_DIR="$out/kernel-cache"
cd "$here" || exit 1

status_file="$out/steps.txt"
: > "$status_file"
failed=0
# step NAME COMMAND...: runs the command with its output in OUTDIR/NAME.log, records the status
# and the seconds it took.
step() {
    name=$1
    shift
    t0=$(date +%s)
    "$@" > "$out/$name.log" 2>&1
    rc=$?
    t1=$(date +%s)
    result=ok
    [ $rc -eq 0 ] || { result="FAILED (exit $rc)"; failed=1; }
    printf '%s|%s|%s\n' "$name" "$result" "$((t1 - t0))" >> "$status_file"
    echo "gpu.sh: $name: $result, $((t1 - t0)) s"
    return $rc
}

build() {
    if [ ! -f "$out/build/build.ninja" ]; then
        meson setup "$out/build" -Dgsl=disabled --buildtype=release || return 1
    fi
    ninja -C "$out/build"
}
tests() {
    [ -x "$out/build/tests/test_solve" ] || { echo "no tests built (cmocka missing)"; return 1; }
    meson test -C "$out/build" --no-rebuild --print-errorlogs --no-suite reference --no-suite slow
}
bench() {
    suite=$1
    shift
    "$out/build/bench/smnn-bench" --suite "$suite" --precision "$precision" --format csv "$@" \
        > "$out/$suite.csv" &&
        "$out/build/bench/smnn-bench" --suite "$suite" --precision "$precision" --no-peers \
            --fused --format json "$@" > "$out/$suite.json"
}

step build build || { echo "gpu.sh: the build failed, see $out/build.log" >&2; exit 1; }
step info "$out/build/tools/smnn-info"
step tests tests
# Double precision where the device has fp64, else single (smnn-info's self-check says which).
precision=double
grep -q "the device has no fp64" "$out/info.log" && precision=single
if [ $quick -eq 1 ]; then
    suites="quick paper"
    reps="--repeats 3 --warmup 1"
else
    suites="paper scaling blocks"
    reps=""
fi
for s in $suites; do
    # shellcheck disable=SC2086
    step "bench-$s" bench "$s" $reps
done
# Several GPUs on the node: the batch sharded over all of them (measured split) against one,
# host pointers, B = 12288 and 98304 at T = 50 (bench/RESULTS.md, "Several devices").
multi() {
    for b in 12288 98304; do
        "$out/build/bench/smnn-bench" --batch "$b" --steps 50 --precision "$precision" \
            --devices all --format csv || return 1
    done > "$out/multi.csv"
}
[ $quick -eq 1 ] || step multi multi
if [ $quick -eq 0 ] && command -v gnuplot >/dev/null 2>&1; then
    step plots sh bench/plot.sh "$out/scaling.csv" "$out/paper.csv" "$out/blocks.csv" "$out"
fi

# The summary: device, steps, tests, and the paper shapes' ns per system and time point.
{
    echo "# smnn on $device ($precision precision)"
    echo
    grep -m1 "^Chosen device" "$out/info.log" || true
    echo
    echo "| step | result | seconds |"
    echo "|---|---|---|"
    awk -F'|' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$status_file"
    echo
    echo "Tests: $(grep -E '^(Ok|Fail|Skipped):' "$out/tests.log" 2>/dev/null | tr -s ' ' | tr '\n' ' ')"
    echo
    if [ -s "$out/paper.csv" ]; then
        echo "Paper shapes (n = 3), median ns per system and time point:"
        echo
        echo "| B | T | phase | ns | x copy floor |"
        echo "|---|---|---|---|---|"
        awk -F, 'NR > 1 && $8 != "-" { printf "| %s | %s | %s | %.1f | %.2f |\n", $1, $2, $9, $14, $17 }' \
            "$out/paper.csv"
    fi
} > "$out/summary.md"
echo "gpu.sh: summary in $out/summary.md"
exit $failed
