#!/bin/sh
# Runs smnn's standard benchmark suites on an NVIDIA GPU through NVIDIA's OpenCL driver, on a
# machine that has the driver (libnvidia-opencl.so.1) but no OpenCL ICD loader, headers or build
# tools, and may have no network.
#
#   bench/gpu.sh fetch [DEBDIR]   on a Debian 12 machine with network: downloads the .deb files
#                                 the GPU machine needs (ICD loader, headers, LAPACK, build tools)
#                                 into DEBDIR (default bench/gpu-debs)
#   bench/gpu.sh run OUTDIR [DEBDIR]
#                                 on the GPU machine, from the repository root: unpacks the .debs
#                                 into a private prefix (nothing is installed system-wide), writes
#                                 an ICD file for libnvidia-opencl, builds smnn, lists the devices,
#                                 runs smnn-info's self-check and the paper, scaling and blocks
#                                 suites into OUTDIR (CSV, JSON, PNG when gnuplot is there).
set -eu
cmd=${1:-}
here=$(cd "$(dirname "$0")/.." && pwd)
debs_needed="ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers
liblapacke liblapacke-dev liblapack3 libblas3 libopenblas0-pthread libgfortran5 libgomp1
meson ninja-build python3-setuptools pkg-config libpkgconf3 pkgconf pkgconf-bin"

case "$cmd" in
fetch)
    dir=${2:-$here/bench/gpu-debs}
    mkdir -p "$dir"
    cd "$dir"
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get download $debs_needed
    echo "gpu.sh: .deb files in $dir; carry them with the repository to the GPU machine"
    ;;
run)
    out=${2:?usage: bench/gpu.sh run OUTDIR [DEBDIR]}
    dir=${3:-$here/bench/gpu-debs}
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    prefix=$(mktemp -d)
    for d in "$dir"/*.deb; do dpkg -x "$d" "$prefix"; done
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
    nv=$(ldconfig -p | awk '/libnvidia-opencl.so.1/ {print $NF; exit}')
    [ -n "$nv" ] || nv=$(find / -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
    [ -n "$nv" ] || { echo "gpu.sh: libnvidia-opencl.so.1 not found: is NVIDIA's driver installed?" >&2; exit 1; }
    mkdir -p "$prefix/icd"
    echo "$nv" > "$prefix/icd/nvidia.icd"
    export OCL_ICD_VENDORS="$prefix/icd"
    cd "$here"
    python3 "$prefix/usr/bin/meson" setup "$out/build" -Dtests=disabled -Dgsl=disabled \
        --buildtype=release >/dev/null 2>&1 || meson setup "$out/build" -Dtests=disabled \
        -Dgsl=disabled --buildtype=release
    ninja -C "$out/build"
    export SMNN_DEVICE=${SMNN_DEVICE:-nvidia}
    "$out/build/tools/smnn-info" | tee "$out/smnn-info.txt"
    for s in paper scaling blocks; do
        "$out/build/bench/smnn-bench" --suite "$s" --format csv > "$out/$s.csv" 2> "$out/$s.log"
        "$out/build/bench/smnn-bench" --suite "$s" --repeats 3 --no-peers --format json \
            > "$out/$s.json" 2>> "$out/$s.log"
    done
    if command -v gnuplot >/dev/null 2>&1; then
        sh bench/plot.sh "$out/scaling.csv" "$out/paper.csv" "$out/blocks.csv" "$out"
    fi
    echo "gpu.sh: results in $out"
    ;;
*)
    sed -n '2,17p' "$0"
    exit 2
    ;;
esac
