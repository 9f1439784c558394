#!/bin/sh
# Plots smnn-bench CSV output with gnuplot.
# Usage: bench/plot.sh SCALING.csv PAPER.csv BLOCKS.csv OUTDIR
#   OUTDIR/scaling.png  log-log time against T (forward, frozen, forward+backward, LAPACK) for
#                       every batch size in SCALING.csv, with the fitted slope in the legend
#   OUTDIR/paper.png    per shape of PAPER.csv: smnn/LAPACK time ratio and ratio to the floor
#   OUTDIR/blocks.png   ns per system-step against block size n (BLOCKS.csv), smnn and LAPACK
#   OUTDIR/partition.png  parallel in time: ns per system and time point against B at T = 1e5
#                       and 1e6, the sequential walk (time_chunks 1) against the automatic P
#                       (the scaling suite's side-by-side shapes)
set -eu
scaling=$1 paper=$2 blocks=$3 out=$4
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# one file per (batch, phase) series of the automatic P: columns steps, median_ms
awk -F, -v d="$tmp" 'NR > 1 && $21 != 1 { f = d "/s_" $1 "_" $9 ".dat"; print $2, $10 > f }' "$scaling"
plots=""
for f in "$tmp"/s_*.dat; do
    name=$(basename "$f" .dat | sed 's/^s_//; s/_/, /; s/^/B=/')
    k=$(awk '{x=log($1); y=log($2); sx+=x; sy+=y; sxx+=x*x; sxy+=x*y; n++}
             END {if (n > 2) printf "%.2f", (n*sxy-sx*sy)/(n*sxx-sx*sx); else print "-"}' "$f")
    plots="$plots '$f' using 1:2 with linespoints title '$name (k = $k)',"
done
gnuplot <<GP
set terminal pngcairo size 1100,750 font 'sans,11' noenhanced
set output '$out/scaling.png'
set logscale xy
set grid
set key left top
set xlabel 'time points T'
set ylabel 'median time per call [ms]'
set title 'smnn-bench --suite scaling: time ~ T^k (n = 3)'
plot ${plots%,}
GP
awk -F, 'NR > 1 && $9 == "forward" { printf "\"B=%s T=%s\" %s %s\n", $1, $2, $18, $17 }' "$paper" > "$tmp/paper.dat"
gnuplot <<GP
set terminal pngcairo size 1100,650 font 'sans,11' noenhanced
set output '$out/paper.png'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set xtics rotate by -30
set ylabel 'ratio (lower is better)'
set title 'smnn-bench --suite paper, forward, n = 3: smnn / LAPACK (all cores) and smnn / memory floor'
plot '$tmp/paper.dat' using 2:xtic(1) title 'time / LAPACK pbtrf+pbtrs', '' using 3 title 'time / copy-bandwidth floor', 1 with lines lc rgb 'black' notitle
GP
awk -F, 'NR > 1 && ($9 == "forward" || $9 == "lapack_pbsv") { f = "'"$tmp"'/b_" $9 ".dat"; print $6, $14 > f }' "$blocks"
gnuplot <<GP
set terminal pngcairo size 1000,650 font 'sans,11' noenhanced
set output '$out/blocks.png'
set logscale xy
set grid
set key left top
set xlabel 'block size n = V * n_orders'
set ylabel 'ns per system-step'
set title 'smnn-bench --suite blocks: B = 1024, T = 100'
plot '$tmp/b_forward.dat' using 1:2 with linespoints title 'smnn forward', '$tmp/b_lapack_pbsv.dat' using 1:2 with linespoints title 'LAPACK pbtrf+pbtrs (all cores)'
GP
# Parallel in time: (phase, option, T) series of ns per system-step against B; the option
# column (21) is 1 for the sequential walk, 0 for the automatic P (column 20 the P it chose).
awk -F, -v d="$tmp" 'NR > 1 && ($9 == "forward" || $9 == "forward_backward") &&
    ($2 == 100000 || $2 == 1000000) && $21 != "" {
        f = d "/p_" $9 "_" ($21 == 1 ? "seq" : "auto") "_" $2 ".dat"; print $1, $14, $20 > f }' "$scaling"
pplots=""
for f in "$tmp"/p_*.dat; do
    [ -e "$f" ] || continue
    sort -s -n -k1,1 -u "$f" -o "$f" # one point per B (the first measured)
    name=$(basename "$f" .dat | sed 's/^p_//; s/_seq_/, P = 1, T = /; s/_auto_/, automatic P, T = /')
    case "$f" in *_seq_*) dt=2 ;; *) dt=1 ;; esac
    pplots="$pplots '$f' using 1:2 with linespoints dt $dt lw 2 title '$name',"
done
if [ -n "$pplots" ]; then
gnuplot <<GP
set terminal pngcairo size 1100,700 font 'sans,11' noenhanced
set output '$out/partition.png'
set logscale xy
set grid
set key right top
set xlabel 'batch B (systems)'
set ylabel 'ns per system and time point'
set title 'parallel in time (n = 3): the sequential walk (dashed) against the automatic time chunks P'
plot ${pplots%,}
GP
fi
echo "wrote $out/scaling.png $out/paper.png $out/blocks.png${pplots:+ $out/partition.png}"
