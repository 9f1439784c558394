#!/bin/sh
# Installs what smnn needs on Debian/Ubuntu (only the packages that are missing), then configures
# and builds it in ./build. Run from the repository root, as root or with sudo available.
# Usage: tools/bootstrap.sh [BUILD_DIR] (default: build)
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
packages="build-essential meson ninja-build pkg-config python3 ocl-icd-opencl-dev opencl-headers
pocl-opencl-icd clinfo liblapacke-dev libopenblas0-pthread libcmocka-dev libgsl-dev
libclblast-dev gnuplot-nox libopenmpi-dev openmpi-bin libclfft-dev"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing:$missing"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
echo "bootstrap: built smnn in $build"
