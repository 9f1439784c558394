#!/bin/sh
# API hygiene: every public header compiles alone as strict C11 and as C++, the shared library
# exports only smnn_-prefixed symbols, and exactly those listed in tests/exported-symbols.txt.
# Arguments: BUILD_DIR SOURCE_DIR.
set -eu
build=$1
src=$2
inc="-I$src/include -I$build/include"
fails=0
for h in "$src"/include/smnn/*.h; do
    name=smnn/$(basename "$h")
    printf '#include <%s>\nint main(void) { return 0; }\n' "$name" > "$build/hygiene.c"
    if ! cc -std=c11 -pedantic -Wall -Wextra -Werror $inc -fsyntax-only "$build/hygiene.c"; then
        echo "FAIL: $name as C11"; fails=$((fails + 1))
    fi
    if ! c++ -x c++ -std=c++11 -pedantic -Wall -Werror $inc -fsyntax-only "$build/hygiene.c"; then
        echo "FAIL: $name as C++"; fails=$((fails + 1))
    fi
done
bad=$(nm -D --defined-only "$build/lib/libsmnn.so" | awk '$2 ~ /[TDBR]/ {print $3}' |
      sed 's/@.*//' | grep -v '^smnn_[a-z]' || true)
if [ -n "$bad" ]; then
    echo "FAIL: symbols exported outside the smnn_ prefix:"; echo "$bad"; fails=$((fails + 1))
fi
# The exported list is part of the ABI: a symbol appears or disappears only with this file.
if ! nm -D --defined-only "$build/lib/libsmnn.so" | awk '$2 ~ /[TDBR]/ {print $3}' |
     sed 's/@.*//' | sort | diff -u "$src/tests/exported-symbols.txt" -; then
    echo "FAIL: exported symbols differ from tests/exported-symbols.txt"; fails=$((fails + 1))
fi
n=$(ls "$src"/include/smnn/*.h | wc -l)
echo "$((n * 2 + 2 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
