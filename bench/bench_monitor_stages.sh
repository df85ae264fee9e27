#!/usr/bin/env bash
# bench_monitor_stages.sh -- the monitor's per-stage and per-tick cost
# (p50/p99 wall and thread CPU) at 100, 1,000 and 10,000 agents, rules vs
# CfC risk vs rules + recall, and ingest rates (monitor alone; JSON lines
# parse + monitor).  No reference tool exists for this pipeline.
# Usage: bench/bench_monitor_stages.sh [BUILD] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
cmake --build "$B" --target bench_monitor_stages >/dev/null
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
nice "$B/bench/bench_monitor_stages" "${2:-3}" models/risk_cfc.safetensors
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
