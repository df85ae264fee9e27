#!/usr/bin/env bash
# bench_events_bus.sh -- aura_events_bus against a plain SPSC ring and a
# mutex+condvar queue (both written in bench/bench_events_bus.c), side by
# side in one run: rates (best of RUNS short runs, round robin, because the
# machine is shared) and ratios; then, if valgrind is installed, callgrind
# instruction counts per event of each queue on one thread (noise-free path
# lengths, no cache effects).
# Usage: bench/bench_events_bus.sh [BUILD_DIR]   env: RUNS N NICE CASE (1p1c 2p1c hog hogpin all)
# BENCH_ONLY=bus1,bus1nb,mutex (queues by --case st-* name) BENCH_VERBOSE=1 (per-run rates, counters)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
RUNS=${RUNS:-9}
N=${N:-2000000}
NICE=${NICE:-5}
CASE=${CASE:-all}

[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" --target bench_events_bus >/dev/null
exe="$B/bench/bench_events_bus"

echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
     "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
nice -n "$NICE" "$exe" --runs "$RUNS" --n "$N" --case "$CASE"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if command -v valgrind >/dev/null; then
  n=200000
  echo "# callgrind, one thread, 32 events in then 32 out, $n events:"
  for c in st-spsc st-ckspsc st-ckmpsc st-mutex st-bus1 st-bus1rb st-bus1nb st-bussp1 st-busbatch; do
    ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" --case "$c" --n "$n" 2>&1 \
         | sed -n 's/.*I *refs: *//p' | tr -d ,)
    awk -v c="$c" -v ir="$ir" -v n="$n" 'BEGIN { printf "%-12s %6.1f instructions/event\n", c, ir / n }'
  done
fi
