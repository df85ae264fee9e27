#!/usr/bin/env bash
# bench_tda.sh -- `aura tda` against Ripser, side by side, on the issue's
# cases: barcode equality, wall time, CPU time (user+sys) and peak memory (max RSS, from
# /usr/bin/time), with ratios AURA/Ripser.  With CALLGRIND=1 it also counts
# instructions (valgrind --tool=callgrind) on the three small cases.
#
# Usage: bench/bench_tda.sh [BUILD_DIR]       (default build)
# Env:   RIPSER  Ripser binary (default /work/ref/ripser/ripser, Ripser
#                master built with g++ -O3 -DNDEBUG outside this repo, if
#                present, else /usr/bin/ripser from Debian's ripser package,
#                which scripts/deps.sh bench installs)
#        SHARED  reference data (default ../shared)
#        CASES   space-separated subset of case names (default: all)
#        CALLGRIND=1  also run the instruction counts (slow)
#        RUNS    runs per program and case, best time kept (default 1)
#        THREADS AURA's --threads (default 1: both programs single-threaded;
#                bench_tda_threads.sh compares thread counts)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
AURA="$B/aura"
if [ -z "${RIPSER:-}" ]; then
  RIPSER=/work/ref/ripser/ripser
  [ -x "$RIPSER" ] || RIPSER=/usr/bin/ripser
fi
SHARED=${SHARED:-../shared}
D="$SHARED/tda-data"
RUNS=${RUNS:-1}
TIME=/usr/bin/time
for t in "$AURA" "$RIPSER" "$TIME"; do
  [ -x "$t" ] || { echo "bench_tda: missing $t (set RIPSER=..., run make, install time)" >&2; exit 1; }
done

# name | arguments (shared by both programs)
ALL_CASES="
sphere_3_192_d2|--format lower-distance --dim 2 $D/ripser/sphere_3_192.lower_distance_matrix
o3_1024_t1.8_d3|--format point-cloud --dim 3 --threshold 1.8 $D/ripser/o3_1024.txt
o3_4096_t1.4_d3|--format point-cloud --dim 3 --threshold 1.4 $D/ripser/o3_4096.txt
dragon1000_d1|--format point-cloud --dim 1 $D/ph-roadmap/dragon_vrip.ply.txt_1000_.txt
dragon2000_d1|--format point-cloud --dim 1 $D/ph-roadmap/dragon_vrip.ply.txt_2000_.txt
klein400_d2|--format point-cloud --dim 2 $D/ph-roadmap/klein_bottle_pointcloud_new_400.txt
klein900_d2|--format point-cloud --dim 2 $D/ph-roadmap/klein_bottle_pointcloud_new_900.txt
celegans_d3|--format distance --dim 3 $D/ripserpp/celegans.distance_matrix
"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# best of $RUNS runs: prints "wall_seconds cpu_seconds(user+sys) max_rss_kb"
# (wall and RSS of the fastest run, the smallest CPU time seen)
measure() {
  local out=$1; shift
  local best="" cpu="" rss=""
  for _ in $(seq "$RUNS"); do
    nice "$TIME" -f "%e %U %S %M" -o "$tmp/t" "$@" >"$out"
    read -r s u k m <"$tmp/t"
    c=$(awk "BEGIN{print $u + $k}")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; rss=$m; fi
    if [ -z "$cpu" ] || awk "BEGIN{exit !($c < $cpu)}"; then cpu=$c; fi
  done
  echo "$best $cpu $rss"
}

echo "AURA: $AURA   Ripser: $RIPSER   runs: $RUNS (best kept)   machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-16s %8s %8s %5s  %8s %8s %5s  %8s %8s %5s  %s\n" case aura_s rips_s ratio \
  aura_cpu rips_cpu ratio aura_MB rips_MB ratio barcode
echo "$ALL_CASES" | while IFS='|' read -r name args; do
  [ -n "$name" ] || continue
  if [ -n "${CASES:-}" ] && ! echo " $CASES " | grep -q " $name "; then continue; fi
  # shellcheck disable=SC2086
  read -r ta ca ma < <(measure "$tmp/aura.txt" "$AURA" tda --threads "${THREADS:-1}" $args)
  # shellcheck disable=SC2086
  read -r tr cr mr < <(measure "$tmp/ripser.txt" "$RIPSER" $args)
  if cmp -s "$tmp/aura.txt" "$tmp/ripser.txt"; then
    same="identical"
  elif python3 "$SHARED/tools/barcode-compare.py" --quiet "$tmp/ripser.txt" "$tmp/aura.txt"; then
    same="same multiset"
  else
    same="DIFFERENT"
  fi
  awk -v n="$name" -v ta="$ta" -v tr="$tr" -v ca="$ca" -v cr="$cr" -v ma="$ma" -v mr="$mr" \
      -v s="$same" 'function r(a, b) { return b > 0 ? a / b : 0 } BEGIN {
    printf "%-16s %8.2f %8.2f %5.2f  %8.2f %8.2f %5.2f  %8.1f %8.1f %5.2f  %s\n", n, ta, tr,
           r(ta, tr), ca, cr, r(ca, cr), ma / 1024, mr / 1024, r(ma, mr), s }'
done

if [ "${CALLGRIND:-0}" = 1 ]; then
  echo
  echo "instructions (valgrind --tool=callgrind, Ir):"
  printf "%-18s %14s %14s %6s\n" case aura_Ir ripser_Ir ratio
  for name in sphere_3_192_d2 o3_1024_t1.8_d3 dragon1000_d1; do
    args=$(echo "$ALL_CASES" | grep "^$name|" | cut -d'|' -f2)
    # shellcheck disable=SC2086
    ia=$(nice valgrind --tool=callgrind --callgrind-out-file=/dev/null "$AURA" tda --threads 1 $args 2>&1 >/dev/null |
         sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    # shellcheck disable=SC2086
    ir=$(nice valgrind --tool=callgrind --callgrind-out-file=/dev/null "$RIPSER" $args 2>&1 >/dev/null |
         sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    awk -v n="$name" -v a="$ia" -v r="$ir" 'BEGIN { printf "%-18s %14.0f %14.0f %6.3f\n", n, a, r, a / r }'
  done
fi
