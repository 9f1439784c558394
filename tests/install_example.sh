#!/bin/sh
# Installs the library into a scratch root, builds the README's example program against it with
# `pkg-config --cflags --libs smnn` exactly as a user would, runs it, and checks that the README
# shows that very program. Arguments: BUILD_DIR SOURCE_DIR.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --no-rebuild >/dev/null
pcdir=$(dirname "$(find "$tmp" -name smnn.pc | head -n 1)")
libdir=$(dirname "$(find "$tmp" -name 'libsmnn.so' | head -n 1)")
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp"
flags=$(pkg-config --cflags --libs smnn)
echo "pkg-config --cflags --libs smnn: $flags"
cc -std=c11 -Wall -Wextra -Werror -pedantic "$src/tests/example/solve_batch.c" $flags -lm \
   -o "$tmp/solve_batch"
# The example solves in double precision (the default): on a device without fp64 it is built
# and its README copy checked, and the run is reported as skipped (exit 77) with the reason.
skip=""
if ! LD_LIBRARY_PATH="$libdir" "$tmp/solve_batch" 2>"$tmp/stderr"; then
    cat "$tmp/stderr" >&2
    grep -q "needs cl_khr_fp64" "$tmp/stderr" || exit 1
    skip="# skipped: the example needs double precision (cl_khr_fp64), which the device lacks"
fi
# The rank-per-device MPI example, where an MPI compiler and launcher are installed: built the
# same way with mpicc, run on two ranks (the device's numbers checked by the program itself).
if command -v mpicc >/dev/null && command -v mpirun >/dev/null && [ -z "$skip" ]; then
    mpicc -std=c11 -Wall -Wextra -Werror -pedantic "$src/tests/example/rank_slice.c" $flags -lm \
        -o "$tmp/rank_slice"
    root=""
    [ "$(id -u)" -ne 0 ] || root="--allow-run-as-root"
    LD_LIBRARY_PATH="$libdir" mpirun $root --oversubscribe -n 2 "$tmp/rank_slice"
else
    echo "# the MPI example not run: no mpicc/mpirun, or no fp64"
fi
python3 - "$src/README.md" "$src/tests/example/solve_batch.c" "$src/tests/example/rank_slice.c" <<'PY'
import sys
readme = open(sys.argv[1]).read()
for path in sys.argv[2:]:
    if open(path).read().strip() not in readme:
        sys.exit("README.md does not show %s verbatim" % path)
PY
if [ -n "$skip" ]; then
    echo "$skip"
    exit 77
fi
echo "1 passed, 0 failed"
