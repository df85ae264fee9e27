#!/usr/bin/env bash
# bench_monitor.sh -- monitor throughput (no reference tool exists for this
# pipeline): ingest events/s and per-tick cost for 100, 1,000, 10,000 agents.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
out=$B/bench_monitor
cc -O2 -Iinclude bench/bench_monitor.c "$B/lib/libaura.a" -lm -lpthread -lstdc++ \
   $(pkg-config --libs simdjson libcjson) -o "$out"
nice "$out" 100 100 1000 10000
