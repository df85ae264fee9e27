#!/usr/bin/env bash
# bench_events_jsonl.sh -- JSON-lines ingest rate of the events reader on one
# core (target >= 1 M events/s), next to Python's json module parsing the
# same lines (context, not a target).
# Usage: bench/bench_events_jsonl.sh [BUILD_DIR] [N_EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
N=${2:-1000000}
PY=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY - "$tmp/ev.jsonl" "$N" <<'PYEOF'
import json, random, sys
random.seed(1)
kinds = ["call", "reply", "error", "timeout", "heartbeat", "load"]
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        k = random.choice(kinds)
        d = {"ts": round(i * 0.37, 3), "kind": k, "src": "agent-%d" % random.randrange(1000)}
        if k in ("call", "reply", "timeout", "error"):
            d["dst"] = "agent-%d" % random.randrange(1000)
        if k == "reply":
            d["latency_ms"] = round(random.random() * 100, 3)
            d["ok"] = random.random() < 0.9
        if k == "load":
            d["load"] = round(random.random(), 4)
        if random.random() < 0.3:
            d["trace"] = "%016x" % random.getrandbits(64)
        f.write(json.dumps(d, separators=(",", ":")) + "\n")
PYEOF
size=$(stat -c %s "$tmp/ev.jsonl")
cat "$tmp/ev.jsonl" >/dev/null # warm the page cache
best=0
for i in 1 2 3; do
  s=$(taskset -c 0 "$B/aura" events check "$tmp/ev.jsonl" 2>&1 | sed -n 's/.*, \([0-9.]*\) s (.*/\1/p')
  best=$($PY -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(b if a==0 or b<a else a)" "$best" "$s")
done
pyt=$($PY - "$tmp/ev.jsonl" <<'PYEOF'
import json, sys, time
t = time.perf_counter()
n = 0
with open(sys.argv[1]) as f:
    for line in f:
        json.loads(line); n += 1
print(time.perf_counter() - t)
PYEOF
)
$PY - "$N" "$size" "$best" "$pyt" <<'PYEOF'
import sys
n, size, a, p = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print("events JSON-lines ingest, %d events, %.1f MB, one core (best of 3)" % (n, size / 1e6))
print("%-34s %9s %12s" % ("reader", "time s", "M events/s"))
print("%-34s %9.3f %12.2f" % ("aura events check (simdjson)", a, n / a / 1e6))
print("%-34s %9.3f %12.2f" % ("python json.loads per line", p, n / p / 1e6))
print("ratio (python time / aura time): %.1fx; target >= 1 M events/s: %s"
      % (p / a, "met" if n / a >= 1e6 else "NOT met"))
PYEOF
