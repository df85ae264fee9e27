#!/usr/bin/env python3
"""Compare `aura tda --cocycles` with ripser.py's do_cocycles (PyPI `ripser`,
pinned in bench/requirements.txt; `make venv`, then run with build/venv/bin/python).

For each input (random point clouds on a grid, so with many ties, random
integer matrices, and shared example files), dimension, prime and threshold,
both programs get the same float32 distance matrix; the script compares, per
dimension >= 1, the multisets of (birth, death, cocycle), a cocycle being the
set of (simplex as a vertex set, coefficient mod p).  ripser.py lists
vertices in descending order and coefficients reduced mod p; AURA lists them
ascending with coefficients in 1..p-1, so after sorting the vertices the two
should be identical (both are the column of the reduction matrix of the
creating simplex).  Exit status 1 if any case differs.

usage: check_tda_cocycles_ripserpy.py [path/to/aura]   (default build/aura)
"""
import os
import subprocess
import sys
import tempfile
from collections import Counter

import numpy as np
from ripser import ripser


def aura_run(aura, path, maxdim, p, thresh):
    args = [aura, "tda", "--format", "lower-distance", "--dim", str(maxdim),
            "--modulus", str(p), "--cocycles", path]
    if thresh is not None:
        args[2:2] = ["--threshold", repr(float(thresh))]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    _, _, section = out.partition("representative cocycles:\n")
    got = {}
    for line in section.splitlines():
        assert line.startswith("cocycle "), line
        head, _, terms = line.partition("): ")
        _, dim, interval = head.split(" ", 2)
        b, d = interval[1:].split(",")
        key = (b.strip(), d.strip() or "inf")
        cc = frozenset((tuple(sorted(int(v) for v in t.split(":")[0].split(","))),
                        int(t.split(":")[1])) for t in terms.split())
        got.setdefault(int(dim), Counter())[key + (cc,)] += 1
    return got


def fmt(x):
    return "inf" if np.isinf(x) else "%g" % np.float32(x)


def ripserpy_run(D, maxdim, p, thresh):
    r = ripser(D, maxdim=maxdim, coeff=p, distance_matrix=True, do_cocycles=True,
               thresh=np.inf if thresh is None else thresh)
    got = {}
    for dim in range(1, maxdim + 1):
        for (b, d), ccl in zip(r["dgms"][dim], r["cocycles"][dim]):
            cc = frozenset((tuple(sorted(int(v) for v in row[:-1])), int(row[-1]) % p)
                           for row in ccl)
            got.setdefault(dim, Counter())[(fmt(b), fmt(d), cc)] += 1
    return got


def write_lower(D, path):
    with open(path, "w") as f:
        for i in range(1, len(D)):
            f.write(" ".join("%.9g" % D[i, j] for j in range(i)) + "\n")


def read_lower(path):
    rows = [[float(x) for x in line.replace(",", " ").split()]
            for line in open(path) if line.strip()]
    vals = [x for r in rows for x in r]
    n = int((1 + (1 + 8 * len(vals)) ** 0.5) / 2)
    D = np.zeros((n, n), dtype=np.float32)
    k = 0
    for i in range(1, n):
        for j in range(i):
            D[i, j] = D[j, i] = vals[k]
            k += 1
    return D


def cases(shared):
    rng = np.random.RandomState(7)
    for t in range(12):
        n, dim = 12 + 3 * t, 2 + t % 2
        X = rng.randint(0, 5, size=(n, dim)).astype(np.float32)
        D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)).astype(np.float32)
        p = [2, 3, 5, 7, 11, 127][t % 6]  # ripser.py 0.6.15 aborts for p > 127
        thresh = None if t % 3 else 2.5
        yield "grid%d n=%d" % (t, n), D, 1 + t % 2, p, thresh
    for t in range(6):
        n = 10 + 2 * t
        A = rng.randint(1, 6, size=(n, n)).astype(np.float32)
        D = np.tril(A, -1) + np.tril(A, -1).T
        yield "intmatrix%d n=%d" % (t, n), D, 2, [2, 3, 5][t % 3], None if t % 2 else 4.0
    for t, (n, dim, maxdim, p) in enumerate([(60, 3, 2, 2), (60, 3, 2, 3), (120, 2, 1, 5)]):
        X = rng.normal(size=(n, dim))
        if dim == 2:  # a noisy circle: long cocycles
            X = X / np.linalg.norm(X, axis=1)[:, None] + 0.15 * rng.normal(size=(n, dim))
        X = X.astype(np.float32)
        D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)).astype(np.float32)
        yield "normal%d n=%d d=%d" % (t, n, dim), D, maxdim, p, None
    for name in ("random16.lower_distance_matrix", "projective_plane.lower_distance_matrix"):
        path = os.path.join(shared, "tda-data", "ripser", name)
        if os.path.exists(path):
            D = read_lower(path)
            for p in (2, 3):
                yield "%s p=%d" % (name, p), D, 2, p, None


def main():
    aura = sys.argv[1] if len(sys.argv) > 1 else "build/aura"
    shared = os.environ.get("AURA_SHARED",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                         "shared"))
    bad = 0
    total_intervals = total_terms = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, D, maxdim, p, thresh in cases(shared):
            path = os.path.join(tmp, "in.lower")
            write_lower(D, path)
            a = aura_run(aura, path, maxdim, p, thresh)
            r = ripserpy_run(D, maxdim, p, thresh)
            n = sum(sum(c.values()) for c in a.values())
            terms = sum(len(k[2]) * v for c in a.values() for k, v in c.items())
            total_intervals += n
            total_terms += terms
            same = a == r
            bad += not same
            print("%-45s dim<=%d p=%-3d thr=%-4s intervals %4d terms %6d  %s"
                  % (name, maxdim, p, thresh, n, terms, "identical" if same else "DIFFERENT"))
            if not same:
                for dim in sorted(set(a) | set(r)):
                    only_a = a.get(dim, Counter()) - r.get(dim, Counter())
                    only_r = r.get(dim, Counter()) - a.get(dim, Counter())
                    for k in list(only_a)[:3]:
                        print("   only AURA      dim %d [%s,%s) %s" % (dim, k[0], k[1], sorted(k[2])))
                    for k in list(only_r)[:3]:
                        print("   only ripser.py dim %d [%s,%s) %s" % (dim, k[0], k[1], sorted(k[2])))
    print("%d cases, %d differ; %d intervals, %d cocycle terms compared"
          % (len(list(cases(shared))), bad, total_intervals, total_terms))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
