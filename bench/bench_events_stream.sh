#!/usr/bin/env bash
# bench_events_stream.sh -- event log on Redis Streams, end to end, on a
# private redis-server (loopback, free port, stopped by pid).
# usage: bench/bench_events_stream.sh [BUILD] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-300000}
exe="$B/bench/bench_events_stream"
[ -x "$exe" ] || { echo "bench_events_stream: run make first" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/aura-bench-redis-XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" --daemonize no &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for i in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), hiredis $(dpkg-query -W -f='${Version}' libhiredis-dev)"
"$exe" "$port" "$N" 512
echo "target: >= 150000 events/s"
