#!/usr/bin/env bash
# bench_memory_store.sh -- the context-store workload on SQLite (AURA's
# store) and LMDB, side by side (see bench_memory_store.c).
# usage: bench/bench_memory_store.sh [BUILD] [N_DURABLE] [N_FAST]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
ND=${2:-2000}
NF=${3:-50000}
[ -f "$B/lib/libaura.a" ] || { echo "bench_memory_store: run make first" >&2; exit 1; }
exe="$B/bench_memory_store"
cc -O2 -std=c11 -Iinclude bench/bench_memory_store.c "$B/lib/libaura.a" \
   $(pkg-config --libs sqlite3 libcjson) -llmdb -lm -lpthread -o "$exe"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aura-bench-store-XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "SQLite $(pkg-config --modversion sqlite3), LMDB $(dpkg-query -W -f='${Version}' liblmdb-dev 2>/dev/null || echo '?'); disk: $(df -T "$dir" | awk 'NR==2{print $2}')"
nice "$exe" "$dir" "$ND" "$NF"
