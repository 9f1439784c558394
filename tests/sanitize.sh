#!/bin/sh
# Builds smnn with AddressSanitizer + UndefinedBehaviorSanitizer in ./build-sanitize and runs the
# test suite there (the 'sanitize' setup: leak checking on, PoCL/LLVM/ICD-loader allocations
# suppressed by tests/lsan.supp; the install check is left out since it links an unsanitized
# program). PoCL itself runs inside the sanitized processes: nothing else is excluded.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-sanitize}
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null
fi
ninja -C "$dir" >/dev/null
meson test -C "$dir" --setup sanitize --print-errorlogs
