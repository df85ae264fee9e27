#!/usr/bin/env bash
# bench_tda_collapse.sh -- `aura tda --collapse` (edge collapse, then the
# engine on the remaining edges) against Ripser master, side by side on the
# issue's two cases, plus `aura tda` without collapse.  Barcodes are compared
# as multisets of intervals per dimension (the collapse may list pairs of
# one dimension in another order); wall time and max RSS from /usr/bin/time.
#
# Usage: bench/bench_tda_collapse.sh [BUILD_DIR]     (default build)
# Env:   RIPSER  Ripser binary (default /work/ref/ripser/ripser: Ripser master
#                built with g++ -O3 -DNDEBUG outside this repo)
#        SHARED  reference data (default ../shared)
#        CASES   subset of case names (default: all)
#        PLAIN=0 skip the uncollapsed aura run
#        CALLGRIND=1  also count instructions on three smaller cases (slow)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
AURA="$B/aura"
RIPSER=${RIPSER:-/work/ref/ripser/ripser}
SHARED=${SHARED:-../shared}
D="$SHARED/tda-data"
TIME=/usr/bin/time
for t in "$AURA" "$RIPSER" "$TIME"; do
  [ -x "$t" ] || { echo "bench_tda_collapse: missing $t (set RIPSER=..., run make)" >&2; exit 1; }
done
ALL_CASES="
o3_4096_t1.4_d3|--format point-cloud --dim 3 --threshold 1.4 $D/ripser/o3_4096.txt
celegans_d3|--format distance --dim 3 $D/ripserpp/celegans.distance_matrix
"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "dim interval" lines, sorted: the barcode as a multiset
norm() {
  awk '/^persistence intervals in dim/{d=$5; sub(":","",d); next} /^ \[/{print d, $0}' "$1" | sort
}
measure() { # out cmd... -> "seconds kbytes"
  local out=$1; shift
  nice "$TIME" -f "%e %M" -o "$tmp/t" "$@" >"$out"
  cat "$tmp/t"
}

echo "AURA: $AURA   Ripser: $RIPSER   machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-16s %9s %9s %9s %8s %8s %8s  %s\n" case collapse_s plain_s ripser_s \
  rip/coll rip/plain MB_coll "barcodes (vs Ripser)"
echo "$ALL_CASES" | while IFS='|' read -r name args; do
  [ -n "$name" ] || continue
  if [ -n "${CASES:-}" ] && ! echo " $CASES " | grep -q " $name "; then continue; fi
  # shellcheck disable=SC2086
  read -r tc mc < <(measure "$tmp/coll.txt" "$AURA" tda --collapse $args)
  if awk -v t="$tc" 'BEGIN { exit !(t < 1) }'; then
    # below the timer's resolution: the mean of 20 runs
    s0=$(date +%s.%N)
    for _ in $(seq 20); do
      # shellcheck disable=SC2086
      nice "$AURA" tda --collapse $args >/dev/null
    done
    tc=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.4f", (b - a) / 20 }')
  fi
  tp=0
  if [ "${PLAIN:-1}" != 0 ]; then
    # shellcheck disable=SC2086
    read -r tp _ < <(measure "$tmp/plain.txt" "$AURA" tda $args)
  fi
  # shellcheck disable=SC2086
  read -r tr _ < <(measure "$tmp/rip.txt" "$RIPSER" $args)
  if cmp -s <(norm "$tmp/coll.txt") <(norm "$tmp/rip.txt"); then same="same multiset"; else same="DIFFERENT"; fi
  kept=$(grep -m1 '^edge collapse' "$tmp/coll.txt" | sed 's/edge collapse: //')
  awk -v n="$name" -v tc="$tc" -v tp="$tp" -v tr="$tr" -v mc="$mc" -v s="$same" -v k="$kept" 'BEGIN {
    printf "%-16s %9.3f %9.2f %9.2f %8.1f %8.1f %8.1f  %s (%s)\n", n, tc, tp, tr,
      (tc > 0 ? tr / tc : 0), (tp > 0 ? tr / tp : 0), mc / 1024, s, k }'
done

if [ "${CALLGRIND:-0}" = 1 ]; then
  echo
  echo "instructions (valgrind --tool=callgrind, Ir), smaller cases:"
  printf "%-18s %14s %14s %14s %9s %9s\n" case collapse_Ir plain_Ir ripser_Ir rip/coll rip/plain
  SMALL="
sphere_3_192_d2|--format lower-distance --dim 2 $D/ripser/sphere_3_192.lower_distance_matrix
o3_1024_t1.8_d3|--format point-cloud --dim 3 --threshold 1.8 $D/ripser/o3_1024.txt
celegans_d2|--format distance --dim 2 $D/ripserpp/celegans.distance_matrix
"
  ir() {
    nice valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  echo "$SMALL" | while IFS='|' read -r name args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    ic=$(ir "$AURA" tda --collapse $args)
    # shellcheck disable=SC2086
    ip=$(ir "$AURA" tda $args)
    # shellcheck disable=SC2086
    irr=$(ir "$RIPSER" $args)
    awk -v n="$name" -v c="$ic" -v p="$ip" -v r="$irr" 'BEGIN {
      printf "%-18s %14.0f %14.0f %14.0f %9.1f %9.1f\n", n, c, p, r, r / c, r / p }'
  done
fi
