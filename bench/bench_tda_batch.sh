#!/usr/bin/env bash
# bench_tda_batch.sh -- many small point clouds (default 10,000 clouds of
# 50-200 points in R^3, H0 and H1): the batch API (build/bench/bench_tda_batch:
# 1 thread / all cores, with and without edge collapse, and
# aura_tda_compute_points in a loop) against Ripser master run once per cloud
# (one process per cloud on a point-cloud file, as users script it).
# Checks first that aura and Ripser print the same barcodes on a sample.
#
# Usage: bench/bench_tda_batch.sh [BUILD_DIR]      (default build)
# Env:   RIPSER  Ripser binary (default /work/ref/ripser/ripser)
#        N       number of clouds (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
RIPSER=${RIPSER:-/work/ref/ripser/ripser}
N=${N:-10000}
PROG="$B/bench/bench_tda_batch"
for t in "$PROG" "$RIPSER" "$B/aura"; do
  [ -x "$t" ] || { echo "bench_tda_batch: missing $t (set RIPSER=..., run make)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); clouds: $N"
nice "$PROG" "$N" 1 "$tmp" | tee "$tmp/aura.txt"

for f in $(ls "$tmp"/cloud_*.txt | head -20); do
  "$B/aura" tda --format point-cloud "$f" >"$tmp/a.out"
  "$RIPSER" --format point-cloud "$f" >"$tmp/r.out"
  cmp -s "$tmp/a.out" "$tmp/r.out" || { echo "barcodes differ on $f" >&2; exit 1; }
done
echo "sample of 20 clouds: aura tda and Ripser print identical barcodes"

start=$(date +%s.%N)
for f in "$tmp"/cloud_*.txt; do
  nice "$RIPSER" --format point-cloud "$f" >/dev/null
done
end=$(date +%s.%N)
tr=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
printf "%-32s %8.3f s  (one process per cloud)\n" ripser_per_cloud "$tr"
echo
echo "speed-up over Ripser (process per cloud) and over the compute_points loop:"
awk -v tr="$tr" '/ s  \(/ { t[$1] = $2 } END {
  for (k in t) printf "  %-32s %7.1fx vs Ripser   %5.2fx vs loop\n", k, tr / t[k],
                      t["loop_compute_points"] / t[k] }' "$tmp/aura.txt" | sort
