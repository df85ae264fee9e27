#!/usr/bin/env bash
# bench_tda_threads.sh -- `aura tda --threads 1` against `--threads 2` on the
# issue's three cases, with Ripser (single-threaded) and, when build/venv has
# it, giotto-ph's ripser_parallel with 1 and 2 threads, side by side.
# Prints wall time and CPU time (user+sys), best of RUNS each (the machine
# is shared: the load average is printed with every case), the speed-up
# t1/t2 of each program, and whether the barcodes are identical.  Before
# each case a calibration runs one busy loop, then two at once: "cal" is
# how much faster two independent loops ran than one after the other, i.e.
# the most any 2-thread program could gain at that moment (2.00 on two idle
# cores).
#
# Usage: bench/bench_tda_threads.sh [BUILD_DIR]        (default build)
# Env:   RIPSER  Ripser binary (default /work/ref/ripser/ripser, Ripser
#                master built -O3 outside this repo, else /usr/bin/ripser)
#        PYTHON  Python with giotto-ph (default build/venv/bin/python; make venv)
#        SHARED  reference data (default ../shared)
#        CASES   subset of case names (default: all three)
#        RUNS    runs per program and case, best kept (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
AURA="$B/aura"
if [ -z "${RIPSER:-}" ]; then
  RIPSER=/work/ref/ripser/ripser
  [ -x "$RIPSER" ] || RIPSER=/usr/bin/ripser
fi
PYTHON=${PYTHON:-build/venv/bin/python}
SHARED=${SHARED:-../shared}
D="$SHARED/tda-data"
RUNS=${RUNS:-3}
TIME=/usr/bin/time
for t in "$AURA" "$RIPSER" "$TIME"; do
  [ -x "$t" ] || { echo "bench_tda_threads: missing $t (set RIPSER=..., run make)" >&2; exit 1; }
done
GPH=0
if [ -x "$PYTHON" ] && "$PYTHON" -c 'import gph' 2>/dev/null; then GPH=1; fi

# name | ripser arguments | giotto-ph: file, maxdim, threshold (inf: none)
ALL_CASES="
o3_4096_t1.4_d3|--format point-cloud --dim 3 --threshold 1.4 $D/ripser/o3_4096.txt|$D/ripser/o3_4096.txt 3 1.4
dragon2000_d1|--format point-cloud --dim 1 $D/ph-roadmap/dragon_vrip.ply.txt_2000_.txt|$D/ph-roadmap/dragon_vrip.ply.txt_2000_.txt 1 inf
klein900_d2|--format point-cloud --dim 2 $D/ph-roadmap/klein_bottle_pointcloud_new_900.txt|$D/ph-roadmap/klein_bottle_pointcloud_new_900.txt 2 inf
"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# giotto-ph: time of the ripser_parallel call only (not Python's start-up
# nor the file read): prints "wall_seconds cpu_seconds"
cat >"$tmp/gph_run.py" <<'EOF'
import sys, time, resource, numpy as np
from gph import ripser_parallel
path, maxdim, thresh, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
X = np.loadtxt(path, dtype=np.float64)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.perf_counter()
ripser_parallel(X, maxdim=maxdim, thresh=thresh, n_threads=threads)
print(f"{time.perf_counter() - t0:.3f} {cpu() - c0:.3f}")
EOF

calibrate() {
  local one two
  one=$( { nice "$TIME" -f "%e" awk 'BEGIN { for (i = 0; i < 2e7; i++) x += i }'; } 2>&1 )
  two=$( { nice "$TIME" -f "%e" sh -c "awk 'BEGIN { for (i = 0; i < 2e7; i++) x += i }' &
         awk 'BEGIN { for (i = 0; i < 2e7; i++) x += i }'; wait"; } 2>&1 )
  awk -v a="$one" -v b="$two" 'BEGIN { printf "%.2f", (b > 0 ? 2 * a / b : 0) }'
}

# best of $RUNS: prints "wall cpu" (smallest of each)
measure() {
  local out=$1; shift
  local best="" cpu=""
  for _ in $(seq "$RUNS"); do
    nice "$TIME" -f "%e %U %S" -o "$tmp/t" "$@" >"$out"
    read -r s u k <"$tmp/t"
    c=$(awk "BEGIN{print $u + $k}")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    if [ -z "$cpu" ] || awk "BEGIN{exit !($c < $cpu)}"; then cpu=$c; fi
  done
  echo "$best $cpu"
}

measure_gph() {
  local best="" cpu=""
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086
    read -r s c < <(nice "$PYTHON" "$tmp/gph_run.py" $1 "$2")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    if [ -z "$cpu" ] || awk "BEGIN{exit !($c < $cpu)}"; then cpu=$c; fi
  done
  echo "$best $cpu"
}

echo "AURA: $AURA   Ripser: $RIPSER   giotto-ph: $([ $GPH = 1 ] && "$PYTHON" -c 'import importlib.metadata as m; print(m.version("giotto-ph"))' || echo 'not installed (make venv)')"
echo "machine: $(nproc) cores; runs: $RUNS, best kept; wall seconds / CPU seconds (user+sys)"
printf "%-16s %-13s %-13s %-11s  %-13s  %-13s %-13s %-11s %s\n" case aura_t1 aura_t2 "speedup" \
  ripser gph_t1 gph_t2 "speedup" "barcode; before the case: load, cal"
echo "$ALL_CASES" | while IFS='|' read -r name args gargs; do
  [ -n "$name" ] || continue
  if [ -n "${CASES:-}" ] && ! echo " $CASES " | grep -q " $name "; then continue; fi
  load="load $(cut -d' ' -f1 /proc/loadavg), cal $(calibrate)"
  # shellcheck disable=SC2086
  read -r a1 c1 < <(measure "$tmp/a1.txt" "$AURA" tda --threads 1 $args)
  # shellcheck disable=SC2086
  read -r a2 c2 < <(measure "$tmp/a2.txt" "$AURA" tda --threads 2 $args)
  # shellcheck disable=SC2086
  read -r rw rc < <(measure "$tmp/r.txt" "$RIPSER" $args)
  g1="- -"; g2="- -"
  if [ $GPH = 1 ]; then
    g1=$(measure_gph "$gargs" 1)
    g2=$(measure_gph "$gargs" 2)
  fi
  same="t1=t2"
  cmp -s "$tmp/a1.txt" "$tmp/a2.txt" || same="t1!=t2 DIFFERENT"
  if cmp -s "$tmp/a1.txt" "$tmp/r.txt"; then same="$same, =ripser"; else same="$same, ripser DIFFERENT"; fi
  awk -v n="$name" -v a1="$a1" -v c1="$c1" -v a2="$a2" -v c2="$c2" -v rw="$rw" -v rc="$rc" \
      -v g1="$g1" -v g2="$g2" -v s="$same" -v l="$load" 'BEGIN {
    split(g1, x, " "); split(g2, y, " ")
    gs = (x[1] != "-" && y[1] > 0) ? sprintf("%.2fx", x[1] / y[1]) : "-"
    printf "%-16s %5.2f/%-7.2f %5.2f/%-7.2f %-11s  %5.2f/%-7.2f  %5s/%-7s %5s/%-7s %-11s %s; %s\n",
      n, a1, c1, a2, c2, sprintf("%.2fx", a1 / a2), rw, rc, x[1], x[2], y[1], y[2], gs, s, l }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
