#!/usr/bin/env bash
# demo.sh -- the main job (make demo).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
"$B/aura" --help
# tda: the barcode of a small point cloud (a circle of 12 points and a triangle)
echo; echo "== aura tda --format point-cloud --dim 1 docs/examples/circle.txt"; "$B/aura" tda --format point-cloud --dim 1 docs/examples/circle.txt
