#!/bin/sh
# Several devices and several processes on this machine, side by side:
#  - smnn-bench --devices split:1, split:2, split:4 (sub-devices of the CPU device; PoCL reports
#    $POCL_MAX_PTHREAD_COUNT compute units, set to 4 for every run so that the runs compare):
#    the host-pointer forward and forward + backward on one device against the sharded batch;
#  - smnn-solve against smnn-solve-mpi under mpirun -n 1 and -n 2 on the same .npy files: wall
#    time of the whole command (start-up, reading, solving, writing), median of ROUNDS runs.
# Rounds are interleaved so that the machine's drift touches every configuration alike.
#
# Usage: bench/multi.sh [BUILD_DIR [ROUNDS]]      (defaults: build, 5)
# Shapes: n = 3 (V = 1, n_orders 3), T = 50, B = 1536 and 12288.
set -eu
build=${1:-build}
rounds=${2:-5}
for exe in bench/smnn-bench tools/smnn-solve tools/smnn-solve-mpi; do
    [ -x "$build/$exe" ] || { echo "multi.sh: $build/$exe not built" >&2; exit 1; }
done
command -v mpirun >/dev/null || { echo "multi.sh: mpirun not found" >&2; exit 1; }
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
export POCL_MAX_PTHREAD_COUNT=4
python3 - "$build" "$rounds" "$work" <<'PY'
import json, os, random, statistics, struct, subprocess, sys, time
build, rounds, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
root = ["--allow-run-as-root"] if os.geteuid() == 0 else []

def save(path, shape, values):
    # A little-endian float64 C-order .npy file, written with the standard library only.
    head = "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    pad = (64 - (10 + len(head) + 1) % 64) % 64
    head += " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        f.write(struct.pack("<%dd" % len(values), *values))

def bench_devices(B, parts):
    out = subprocess.run([f"{build}/bench/smnn-bench", "--batch", str(B), "--steps", "50",
                          "--repeats", "5", "--devices", f"split:{parts}", "--split", "equal",
                          "--format", "json"], capture_output=True, text=True, check=True)
    return {r["phase"]: r["median_ms"] for r in json.loads(out.stdout)["records"]}

def files(B, T=50):
    rng = random.Random(7)
    c = [rng.uniform(-1, 1) + (1.5 if i % 3 == 2 else 0) for i in range(B * T * 3)]
    save(f"{work}/c.npy", (B, T, 1, 1, 3), c)
    save(f"{work}/d.npy", (B, T, 1), [rng.uniform(-1, 1) for _ in range(B * T)])
    save(f"{work}/u.npy", (B, 1, 1, 1), [rng.uniform(-1, 1) for _ in range(B)])
    save(f"{work}/s.npy", (1, 1), [0.1])

def solve_wall(cmd):
    args = cmd + ["--coefficients", f"{work}/c.npy", "--rhs", f"{work}/d.npy", "--init",
                  f"{work}/u.npy", "--steps", f"{work}/s.npy", "--out", f"{work}/y.npy"]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return 1e3 * (time.perf_counter() - t0)

rows = []
for B in (1536, 12288):
    print(f"multi.sh: B = {B}", file=sys.stderr)
    dev = {p: [] for p in (1, 2, 4)}
    mpi = {"smnn-solve": [], "mpirun -n 1": [], "mpirun -n 2": []}
    files(B)
    for r in range(rounds):
        print(f"multi.sh:   round {r + 1} of {rounds}", file=sys.stderr)
        for p in dev:
            dev[p].append(bench_devices(B, p))
        mpi["smnn-solve"].append(solve_wall([f"{build}/tools/smnn-solve"]))
        for n in (1, 2):
            mpi[f"mpirun -n {n}"].append(solve_wall(
                ["mpirun", *root, "--oversubscribe", "-n", str(n),
                 f"{build}/tools/smnn-solve-mpi"]))
    steps = B * 50
    med = lambda xs: statistics.median(xs)
    print(f"\nB = {B}, T = 50, n = 3, double; medians of {rounds} rounds "
          "(smnn-bench's own medians of 5 inside each)")
    print("| configuration | forward ms | ns/sys-step | forward + backward ms | ns/sys-step |")
    print("|---|---|---|---|---|")
    one_f = med([d["host_forward"] for p in dev for d in dev[p]])
    one_b = med([d["host_forward_backward"] for p in dev for d in dev[p]])
    print(f"| one device (host pointers) | {one_f:.2f} | {one_f * 1e6 / steps:.1f} | "
          f"{one_b:.2f} | {one_b * 1e6 / steps:.1f} |")
    for p in dev:
        f = med([d["multi_forward"] for d in dev[p]])
        b = med([d["multi_forward_backward"] for d in dev[p]])
        print(f"| {p} sub-device{'s' if p > 1 else ''} | {f:.2f} | {f * 1e6 / steps:.1f} | "
              f"{b:.2f} | {b * 1e6 / steps:.1f} |")
    print("\n| command (read, solve, write y) | wall ms | ns/sys-step |")
    print("|---|---|---|")
    for k, v in mpi.items():
        print(f"| {k} | {med(v):.1f} | {med(v) * 1e6 / steps:.1f} |")
PY
