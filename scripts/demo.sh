#!/usr/bin/env bash
# demo.sh -- the main job (make demo): closed-loop A/B of the cascade
# simulator without a monitor and with the rule monitor acting (plus the
# admission arms fcfs/admit and the recall arm); prints the
# table and writes a self-contained HTML report into the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
"$B/aura" demo --report "$B/aura-demo.html" --requests 1 --recall "${@:2}"
