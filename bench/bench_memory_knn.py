#!/usr/bin/env python3
"""bench_memory_knn.py -- exact cosine top-k: AURA vs NumPy vs FAISS.

Same data, same run, one thread each, one query at a time:
  AURA   aura_memory_knn_search (int8 scan with a proven error bound, exact
         float re-rank), timed in C by bench/bench_memory_knn.c
  NumPy  brute force: X @ q (float32 BLAS gemv), argpartition, sort
  FAISS  IndexFlatIP on unit vectors (faiss-cpu, pinned in requirements.txt)
Recall is measured against NumPy's exact answer.

usage: bench_memory_knn.py [--build build] [--n 100000] [--dim 128] [--k 10]
                           [--queries 1000] [--seed 1]
"""
import argparse
import json
import os
import subprocess
import sys
import time

# One thread for every library, before NumPy loads its BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402


def pct(lat, p):
    return float(np.percentile(np.asarray(lat) * 1e3, p))


def build_c(build, root):
    exe = os.path.join(build, "bench_memory_knn")
    lib = os.path.join(build, "lib", "libaura.a")
    if not os.path.exists(lib):
        sys.exit(f"bench_memory_knn: {lib} missing; run `make` first")
    libs = subprocess.check_output(["pkg-config", "--libs", "sqlite3", "libcjson", "hiredis"], text=True)
    cmd = ["cc", "-O3", "-std=c11", "-I", os.path.join(root, "include"),
           os.path.join(root, "bench", "bench_memory_knn.c"), lib,
           *libs.split(), "-lm", "-lpthread", "-o", exe]
    subprocess.check_call(cmd)
    return exe


def recall(ids, truth):
    k = truth.shape[1]
    hit = sum(len(set(a[:k]) & set(b)) for a, b in zip(ids, truth))
    return hit / truth.size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = os.path.join(a.build, "bench-memory")
    os.makedirs(work, exist_ok=True)

    rng = np.random.default_rng(a.seed)
    X = rng.standard_normal((a.n, a.dim), dtype=np.float32)
    Q = rng.standard_normal((a.queries, a.dim), dtype=np.float32)
    X.tofile(os.path.join(work, "base.f32"))
    Q.tofile(os.path.join(work, "queries.f32"))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)

    # AURA (C)
    exe = build_c(a.build, root)
    out_ids = os.path.join(work, "aura_ids.i64")
    res = json.loads(subprocess.check_output(
        [exe, os.path.join(work, "base.f32"), os.path.join(work, "queries.f32"),
         str(a.dim), str(a.k), out_ids], text=True))
    aura_ids = np.fromfile(out_ids, dtype=np.int64).reshape(a.queries, a.k)

    # NumPy brute force
    truth = np.empty((a.queries, a.k), dtype=np.int64)
    lat_np, cpu_np = [], []
    for i in range(a.queries):
        t, c = time.perf_counter(), time.thread_time()
        s = Xn @ Qn[i]
        top = np.argpartition(-s, a.k)[:a.k]
        top = top[np.argsort(-s[top], kind="stable")]
        lat_np.append(time.perf_counter() - t)
        cpu_np.append(time.thread_time() - c)
        truth[i] = top

    # FAISS IndexFlatIP
    lat_fa, cpu_fa, fa_ids, fa_ver = [], [], None, None
    try:
        import faiss
        faiss.omp_set_num_threads(1)
        fa_ver = faiss.__version__
        index = faiss.IndexFlatIP(a.dim)
        index.add(Xn)
        fa_ids = np.empty((a.queries, a.k), dtype=np.int64)
        index.search(Qn[:1], a.k)  # warm-up
        for i in range(a.queries):
            t, c = time.perf_counter(), time.thread_time()
            _, I = index.search(Qn[i:i + 1], a.k)
            lat_fa.append(time.perf_counter() - t)
            cpu_fa.append(time.thread_time() - c)
            fa_ids[i] = I[0]
    except ImportError:
        print("faiss not installed (pip install -r bench/requirements.txt); skipping FAISS")

    print(f"exact cosine top-{a.k}, {a.n} x {a.dim} float32, {a.queries} queries, "
          f"one thread, one query at a time; load average {os.getloadavg()[0]:.1f}")
    print("wall = elapsed per query; cpu = this thread's CPU time per query (excludes time "
          "the scheduler gave to other processes)")
    hdr = ["wall mean", "wall p50", "wall p99", "cpu mean", "cpu p50", "cpu p99"]
    print(f"{'engine (ms)':<22}" + "".join(f"{h:>10}" for h in hdr) + f"{'recall':>8}")

    def row(name, w, c, rec):
        vals = [np.mean(w) * 1e3, pct(w, 50), pct(w, 99), np.mean(c) * 1e3, pct(c, 50),
                pct(c, 99)]
        print(f"{name:<22}" + "".join(f"{v:10.3f}" for v in vals) + f"{rec:8.4f}")

    print(f"{'AURA int8+rerank':<22}" + "".join(f"{res[k]:10.3f}" for k in (
        "mean_ms", "p50_ms", "p99_ms", "cpu_mean_ms", "cpu_p50_ms", "cpu_p99_ms"))
        + f"{recall(aura_ids, truth):8.4f}")
    row("NumPy " + np.__version__, lat_np, cpu_np, 1.0)
    if lat_fa:
        row("FAISS " + fa_ver + " FlatIP", lat_fa, cpu_fa, recall(fa_ids, truth))
    for name, w, c in (("NumPy", lat_np, cpu_np), ("FAISS", lat_fa, cpu_fa)):
        if w:
            print(f"ratio {name}/AURA: wall mean {1e3 * np.mean(w) / res['mean_ms']:.2f}x, "
                  f"cpu mean {1e3 * np.mean(c) / res['cpu_mean_ms']:.2f}x, "
                  f"cpu p99 {pct(c, 99) / res['cpu_p99_ms']:.2f}x")
    print(f"AURA batches of 16 (same results, checked): {res['batch16_ms']:.3f} ms a query "
          f"wall, {res['batch16_cpu_ms']:.3f} ms CPU")
    for key in ("p99_ms", "cpu_p99_ms"):
        print(f"AURA {key[:-3]} < 1.5 ms: {'met' if res[key] < 1.5 else 'NOT met'} "
              f"({res[key]:.3f} ms)")


if __name__ == "__main__":
    main()
