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
    libs = subprocess.check_output(["pkg-config", "--libs", "sqlite3", "libcjson"], text=True)
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
    lat_np = []
    for i in range(a.queries):
        t = time.perf_counter()
        s = Xn @ Qn[i]
        top = np.argpartition(-s, a.k)[:a.k]
        top = top[np.argsort(-s[top], kind="stable")]
        lat_np.append(time.perf_counter() - t)
        truth[i] = top

    # FAISS IndexFlatIP
    lat_fa, fa_ids, fa_ver = [], None, None
    try:
        import faiss
        faiss.omp_set_num_threads(1)
        fa_ver = faiss.__version__
        index = faiss.IndexFlatIP(a.dim)
        index.add(Xn)
        fa_ids = np.empty((a.queries, a.k), dtype=np.int64)
        index.search(Qn[:1], a.k)  # warm-up
        for i in range(a.queries):
            t = time.perf_counter()
            _, I = index.search(Qn[i:i + 1], a.k)
            lat_fa.append(time.perf_counter() - t)
            fa_ids[i] = I[0]
    except ImportError:
        print("faiss not installed (pip install -r bench/requirements.txt); skipping FAISS")

    print(f"exact cosine top-{a.k}, {a.n} x {a.dim} float32, {a.queries} queries, "
          f"one thread, one query at a time")
    print(f"{'engine':<22}{'mean ms':>9}{'p50 ms':>9}{'p99 ms':>9}{'recall':>8}")
    print(f"{'AURA int8+rerank':<22}{res['mean_ms']:9.3f}{res['p50_ms']:9.3f}"
          f"{res['p99_ms']:9.3f}{recall(aura_ids, truth):8.4f}")
    print(f"{'NumPy ' + np.__version__:<22}{1e3 * np.mean(lat_np):9.3f}{pct(lat_np, 50):9.3f}"
          f"{pct(lat_np, 99):9.3f}{1.0:8.4f}")
    if lat_fa:
        print(f"{'FAISS ' + fa_ver + ' FlatIP':<22}{1e3 * np.mean(lat_fa):9.3f}"
              f"{pct(lat_fa, 50):9.3f}{pct(lat_fa, 99):9.3f}{recall(fa_ids, truth):8.4f}")
    print(f"ratio NumPy/AURA (mean): {1e3 * np.mean(lat_np) / res['mean_ms']:.2f}x")
    if lat_fa:
        print(f"ratio FAISS/AURA (mean): {1e3 * np.mean(lat_fa) / res['mean_ms']:.2f}x")
    print(f"AURA p99 target < 1.5 ms: {'met' if res['p99_ms'] < 1.5 else 'NOT met'} "
          f"({res['p99_ms']:.3f} ms)")


if __name__ == "__main__":
    main()
