#!/usr/bin/env bash
# bench.sh -- runs every benchmark in bench/ (each prints AURA vs reference).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
for b in bench/bench_*.sh bench/bench_*.py; do
  [ -e "$b" ] || continue
  echo "== $b"
  case "$b" in
    *.py) build/venv/bin/python "$b" --build "$B" ;;
    *.sh) bash "$b" "$B" ;;
  esac
done
