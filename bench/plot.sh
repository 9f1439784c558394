#!/bin/sh
# Plots smnn-bench CSV output with gnuplot.
# Usage: bench/plot.sh SCALING.csv PAPER.csv BLOCKS.csv OUTDIR
#   OUTDIR/scaling.png  log-log time against T (forward, frozen, forward+backward, LAPACK) for
#                       every batch size in SCALING.csv, with the fitted slope in the legend
#   OUTDIR/paper.png    per shape of PAPER.csv: smnn/LAPACK time ratio and ratio to the floor
#   OUTDIR/blocks.png   ns per system-step against block size n (BLOCKS.csv), smnn and LAPACK
set -eu
scaling=$1 paper=$2 blocks=$3 out=$4
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# one file per (batch, phase) series: columns steps, median_ms
awk -F, -v d="$tmp" 'NR > 1 { f = d "/s_" $1 "_" $9 ".dat"; print $2, $10 > f }' "$scaling"
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
echo "wrote $out/scaling.png $out/paper.png $out/blocks.png"
