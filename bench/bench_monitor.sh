#!/usr/bin/env bash
# bench_monitor.sh -- monitor throughput (no reference tool exists for this
# pipeline): ingest events/s and per-tick cost for 100, 1,000, 10,000 agents.
# Uses the benchmark binary the build made (make; CMake target bench_monitor).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
out=$B/bench/bench_monitor
[ -x "$out" ] || { echo "bench_monitor: $out missing: run make first" >&2; exit 1; }
nice "$out" 100 100 1000 10000
