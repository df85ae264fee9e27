#!/usr/bin/env bash
# demo.sh -- the main job (make demo).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
"$B/aura" --help
