#!/bin/sh
# The Rusticl pass: the test suite on Mesa's Rusticl with its llvmpipe device, a second OpenCL
# 3.0 implementation whose compiler (NIR) is the one Mesa's AMD and Intel GPU drivers use. It has
# no fp64, so the suite runs in single precision there: tests that need double precision skip,
# printing "# skipped: ... needs double precision (cl_khr_fp64)" (tests/ROBUSTNESS.md).
#
# Usage: tests/rusticl.sh BUILD_DIR [meson test arguments...]
# Needs Debian's mesa-opencl-icd and libclc-15 (CI installs them); fails, saying so, without them.
# Programs are cached per device, so Rusticl's entries in the build's kernel cache do not collide
# with PoCL's.
set -u
build=${1:?usage: $0 BUILD_DIR [meson test arguments...]}
shift
export RUSTICL_ENABLE=llvmpipe SMNN_DEVICE=rusticl
# llvmpipe takes minutes to compile a private-variant program of 8 systems per work-item
# (measured from cold caches: 195 s at n = 8, 346 s at n = 12, more than 10 minutes at n = 32),
# a layout only CPU drivers get (the tuning table's Mesa rows use one system per work-item):
# those cases skip here, printing why (tests/testutil.h test_skip_wide).
export SMNN_TEST_SKIP_WIDE_FROM=${SMNN_TEST_SKIP_WIDE_FROM:-1}
info="$build/tools/smnn-info"
[ -x "$info" ] || { echo "rusticl: $info not built" >&2; exit 1; }
if ! "$info" --no-self-check 2>/dev/null | grep -q "^Chosen device: .*llvmpipe"; then
    echo "rusticl: no Rusticl llvmpipe device (apt-get install mesa-opencl-icd libclc-15)" >&2
    exit 1
fi
# The 'reference' suite (the dense host reference, about 6 minutes on two cores) and 'slow' are
# left out: they never use the OpenCL device, so Rusticl adds nothing to what the PoCL pass
# checks; with them the pass took 6.5 minutes from cold caches on two shared cores, without
# them 26 s to 2 minutes.
meson test -C "$build" --no-rebuild --print-errorlogs --logbase testlog-rusticl --no-suite reference --no-suite slow "$@"
