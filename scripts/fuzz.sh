#!/usr/bin/env bash
# fuzz.sh -- runs every libFuzzer target in DIR for SECONDS each, keeping a
# corpus per target in build/fuzz-corpus/<name>.  Stops at the first crash
# (libFuzzer writes the input as crash-* in the current folder).
set -euo pipefail
dir=${1:-build/fuzzbuild/fuzz}
secs=${2:-60}
mkdir -p build/fuzz-corpus
for t in "$dir"/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  mkdir -p "build/fuzz-corpus/$name"
  echo "== $name ($secs s)"
  "$t" -max_total_time="$secs" -max_len=65536 "build/fuzz-corpus/$name" 2>&1 | tail -n 3
done
