#!/bin/sh
# Cholesky against QR, both precisions, side by side: smnn-bench runs each (shape, precision,
# factorization) ROUNDS times, interleaved round by round so that the machine's drift touches
# every configuration alike, and the table gives the median over rounds of smnn-bench's own
# medians (ms per call, ns per system and time point, ratio to the copy-bandwidth floor) for the
# forward solve, the frozen solve and forward + backward, each with its factorization's default
# refinement.
#
# Usage: bench/factorizations.sh [BUILD_DIR [ROUNDS]]      (defaults: build, 3)
# Shapes: B = 1536, T = 50 and n = 3 (the paper's Lorenz shape), 9, 16, 32.
set -eu
build=${1:-build}
rounds=${2:-3}
bench="$build/bench/smnn-bench"
[ -x "$bench" ] || { echo "factorizations.sh: $bench not built" >&2; exit 1; }
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
# dims orders equations
shapes="1 3 1
3 3 3
4 4 4
8 4 8"
r=1
while [ "$r" -le "$rounds" ]; do
    echo "factorizations.sh: round $r of $rounds" >&2
    echo "$shapes" | while read -r V R Q; do
        for cfg in double:cholesky single:qr single:cholesky double:qr; do
            prec=${cfg%%:*}
            fact=${cfg#*:}
            "$bench" --batch 1536 --steps 50 --dims "$V" --orders "$R" --equations "$Q" \
                --precision "$prec" --factorization "$fact" --no-peers --repeats 7 \
                --format csv 2>/dev/null | tail -n +2 >>"$out"
        done
    done
    r=$((r + 1))
done
python3 - "$out" <<'PY'
import csv, statistics, sys
rows = {}
for rec in csv.reader(open(sys.argv[1])):
    if len(rec) < 19:
        continue
    key = (int(rec[5]), rec[6], rec[18], rec[8])
    rows.setdefault(key, []).append((float(rec[9]), float(rec[13]), float(rec[16])))
print("| n | precision | factorization | phase | median ms | ns/sys-step | x floor | vs double cholesky |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(rows, key=lambda k: (k[0], k[3], k[1] != "double" or k[2] != "cholesky", k)):
    n, prec, fact, phase = key
    ms = statistics.median(v[0] for v in rows[key])
    ns = statistics.median(v[1] for v in rows[key])
    fl = statistics.median(v[2] for v in rows[key])
    base = rows.get((n, "double", "cholesky", phase))
    rel = ms / statistics.median(v[0] for v in base) if base else float("nan")
    print(f"| {n} | {prec} | {fact} | {phase} | {ms:.3f} | {ns:.1f} | {fl:.2f} | {rel:.2f}x |")
PY
