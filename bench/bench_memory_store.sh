#!/usr/bin/env bash
# bench_memory_store.sh -- the context-store workload on SQLite (AURA's
# store) and LMDB, side by side (see bench_memory_store.c).
# usage: bench/bench_memory_store.sh [BUILD] [N_DURABLE] [N_FAST]
#        bench/bench_memory_store.sh --callgrind [BUILD] [N_FAST]
#   (instructions per operation of the fsync=no phases, immune to load)
set -euo pipefail
cd "$(dirname "$0")/.."
CG=0
if [ "${1:-}" = --callgrind ]; then CG=1; shift; fi
B=${1:-build}
if [ $CG = 1 ]; then ND=0; NF=${2:-20000}; else ND=${2:-2000}; NF=${3:-50000}; fi
[ -f "$B/lib/libaura.a" ] || { echo "bench_memory_store: run make first" >&2; exit 1; }
cmake --build "$B" --target bench_memory_store >/dev/null  # bench/*.c build with CMake
exe="$B/bench/bench_memory_store"
dir=$(mktemp -d "${TMPDIR:-/tmp}/aura-bench-store-XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "SQLite $(pkg-config --modversion sqlite3), LMDB $(dpkg-query -W -f='${Version}' liblmdb-dev 2>/dev/null || echo '?'); disk: $(df -T "$dir" | awk 'NR==2{print $2}')"
if [ $CG = 0 ]; then
  nice "$exe" "$dir" "$ND" "$NF"
  nice "$exe" "$dir" --lmdb-flips
  if command -v redis-server >/dev/null; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$dir/redis"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes \
      --appendfsync "${REDIS_FSYNC:-always}" --save "" >/dev/null 2>&1 &
    rpid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    echo "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), appendfsync ${REDIS_FSYNC:-always}:"
    nice "$exe" --redis "$port" "${NR:-5000}" || true
    kill "$rpid"; wait "$rpid" 2>/dev/null || true
  fi
  exit 0
fi
cg="$dir/cg.out"
nice valgrind --tool=callgrind --callgrind-out-file="$cg" "$exe" "$dir" 0 "$NF" >/dev/null 2>&1
echo "instructions per operation (callgrind, fsync=no, N=$NF; scans: N/10+1):"
callgrind_annotate --inclusive=yes --threshold=100 "$cg" 2>/dev/null |
  awk -v n="$NF" '/(sq|lm)_(puts|gets|scans|appends)/ {
      gsub(",", "", $1); name=$0; sub(/.*:/, "", name); sub(/ .*/, "", name);
      ops = (name ~ /scans/) ? int(n / 10) + 1 : n;
      printf "  %-12s %12.0f instr/op\n", name, $1 / ops }' | sort
