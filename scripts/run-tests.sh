#!/usr/bin/env bash
# run-tests.sh -- runs every test suite of a (sanitizer) build and ends
# with one summary line "N passed, N failed, N skipped".
# Environment: AURA_BUILD (default build/san), AURA_SHARED (default ../shared).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${AURA_BUILD:-build/san}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export AURA_BIN=${AURA_BIN:-$B/aura}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$B/run_tests" -j "$(nproc 2>/dev/null || echo 2)" "$@" | tee "$log"
rc=${PIPESTATUS[0]}
summary=$(tail -n 1 "$log")
if ! echo "$summary" | grep -Eq '^[0-9]+ passed, [0-9]+ failed'; then
  echo "run-tests: the test runner ended without a summary (rc=$rc)" >&2
  exit 1
fi
exit "$rc"
