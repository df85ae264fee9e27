#!/usr/bin/env python3
"""Checks `aura tda-distance` and `aura tda-features` against GUDHI on
random diagrams: bottleneck and Wasserstein (order 1, 2, 3; internal_p =
inf) on hundreds of pairs (ties, essential classes, empty diagrams), and
the Betti curve, landscapes, persistence image and entropy where GUDHI's
representations module has the same definition; --approx EPS answers
checked to lie within [d, (1 + EPS) d] of GUDHI's exact d; and some larger
pairs (200-800 points, a third of them dense) for the exact distances.  Prints the largest
relative error of each and exits 1 if any exceeds 1e-9.

usage: build/venv/bin/python bench/check_tda_diagram_gudhi.py [--build build] [--pairs 300] [--large 20]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import warnings

import numpy as np
import gudhi
import gudhi.wasserstein
from gudhi.representations import BettiCurve, Entropy, Landscape, PersistenceImage


def random_diagram(rng, n, ties, essential):
    if ties:
        b = rng.integers(0, 4, n).astype(float)
        d = b + rng.integers(0, 4, n)
    else:
        b = rng.uniform(0, 10, n)
        d = b + rng.uniform(0, 5, n)
    pts = [[x, y] for x, y in zip(b, d)]
    for _ in range(essential):
        pts.append([float(rng.integers(0, 4)) if ties else rng.uniform(0, 10), math.inf])
    return np.array(pts, dtype=float).reshape(-1, 2)


def cluster_diagram(rng, n):
    b = rng.uniform(0, 1, n)
    return np.stack([b, b + 5 + rng.uniform(0, 1, n)], axis=1)


def write_barcode(path, diag):
    with open(path, "w") as f:
        f.write("persistence intervals in dim 0:\n")
        for b, d in diag:
            f.write(" [%r, )\n" % b if math.isinf(d) else " [%r,%r)\n" % (b, d))


def aura(build, *args):
    out = subprocess.run([os.path.join(build, "aura"), *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("aura %s failed: %s" % (" ".join(args), out.stderr))
    return out.stdout


def rel(a, b):
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    return abs(a - b) / max(1.0, abs(b))


def bound_excess(got, want, eps):
    """How far (relative) got lies outside [want, (1 + eps) want]; 0 inside."""
    if math.isinf(want) or math.isinf(got):
        return 0.0 if got == want else math.inf
    if want == 0:
        return abs(got)
    return max(0.0, (want - got) / want, (got - (1 + eps) * want) / want)


def main():
    warnings.filterwarnings("ignore", module="ot")  # POT on empty diagrams
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--large", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(2026)
    worst = {}
    tmp = tempfile.mkdtemp()
    pa, pb = os.path.join(tmp, "a.txt"), os.path.join(tmp, "b.txt")
    for it in range(args.pairs):
        ties = it % 3 == 0
        ess = int(rng.integers(0, 3))
        a = random_diagram(rng, int(rng.integers(0, 40)), ties, ess)
        b = random_diagram(rng, int(rng.integers(0, 40)), ties, ess)
        write_barcode(pa, a)
        write_barcode(pb, b)
        got = float(aura(args.build, "tda-distance", pa, pb))
        want = gudhi.bottleneck_distance(a, b)
        worst["bottleneck"] = max(worst.get("bottleneck", 0), rel(got, want))
        for p in (1.0, 2.0, 3.0):
            got = float(aura(args.build, "tda-distance", "--metric", "wasserstein",
                             "--order", str(p), pa, pb))
            want = gudhi.wasserstein.wasserstein_distance(a, b, order=p, internal_p=np.inf)
            key = "wasserstein p=%g" % p
            worst[key] = max(worst.get(key, 0), rel(got, want))
        # --approx EPS must satisfy d <= r <= (1 + EPS) d for the exact d.
        eps = (0.1, 0.01)[it % 2]
        for metric, want in (("bottleneck", gudhi.bottleneck_distance(a, b)),
                             ("wasserstein", gudhi.wasserstein.wasserstein_distance(
                                 a, b, order=2.0, internal_p=np.inf))):
            got = float(aura(args.build, "tda-distance", "--metric", metric, "--order", "2",
                             "--approx", repr(eps), pa, pb))
            key = "%s approx bound" % metric
            worst[key] = max(worst.get(key, 0), bound_excess(got, want, eps))
        if it % 10 == 0 and len(a) > 0:
            check_features(args.build, pa, a, worst)
    # Larger pairs: exact Wasserstein and bottleneck on 200-800 points; a
    # third far from the diagonal (every pair a candidate: the exact solver
    # prunes the pairs with an auction first), a third with integer ties.
    for it in range(args.large):
        n1, n2 = int(rng.integers(200, 800)), int(rng.integers(200, 800))
        if it % 3 == 2:
            a, b = cluster_diagram(rng, n1), cluster_diagram(rng, n2)
        else:
            a = random_diagram(rng, n1, it % 3 == 0, 0)
            b = random_diagram(rng, n2, it % 3 == 0, 0)
        write_barcode(pa, a)
        write_barcode(pb, b)
        got = float(aura(args.build, "tda-distance", pa, pb))
        worst["bottleneck large"] = max(worst.get("bottleneck large", 0),
                                        rel(got, gudhi.bottleneck_distance(a, b)))
        p = (1.0, 2.0)[it % 2]
        got = float(aura(args.build, "tda-distance", "--metric", "wasserstein", "--order",
                         str(p), pa, pb))
        want = gudhi.wasserstein.wasserstein_distance(a, b, order=p, internal_p=np.inf)
        worst["wasserstein large"] = max(worst.get("wasserstein large", 0), rel(got, want))
    ok = True
    print("AURA vs GUDHI %s on %d random diagram pairs and %d large ones (largest relative"
          " error; for --approx: relative excess outside [d, (1+eps) d]):"
          % (gudhi.__version__, args.pairs, args.large))
    for k, v in worst.items():
        flag = "ok" if v <= 1e-9 else "MISMATCH"
        ok &= v <= 1e-9
        print("  %-22s %.3g  %s" % (k, v, flag))
    sys.exit(0 if ok else 1)


def check_features(build, path, diag, worst):
    samples, layers, res, sigma = 25, 3, 6, 0.7
    finite = diag[np.isfinite(diag[:, 1])]
    if len(finite) == 0:
        return
    t0, t1 = float(finite.min()), float(finite.max())
    out = json.loads(aura(build, "tda-features", "--samples", str(samples), "--layers",
                          str(layers), "--range", repr(t0), repr(t1), "--image-res", str(res),
                          "--sigma", str(sigma), path))
    dim0 = out["dims"][0]
    grid = np.linspace(t0, t1, samples)
    # Betti curve: GUDHI counts birth <= t < death on a predefined grid.
    bc = BettiCurve(predefined_grid=grid).fit_transform([diag])[0]
    worst["betti curve"] = max(worst.get("betti curve", 0),
                               float(np.max(np.abs(np.array(dim0["betti_curve"]) - bc))))
    land = Landscape(num_landscapes=layers, resolution=samples,
                     sample_range=[t0, t1], keep_endpoints=True).fit_transform([finite])[0]
    # GUDHI scales Bubenik's landscapes by sqrt(2) (it works in rotated coordinates).
    mine = np.sqrt(2) * np.array(dim0["landscapes"]).reshape(-1)
    worst["landscapes"] = max(worst.get("landscapes", 0),
                              float(np.max(np.abs(mine - land)) / max(1.0, np.max(np.abs(land)))))
    # GUDHI takes log(0) for zero-length intervals; AURA leaves them out.
    positive = finite[finite[:, 1] > finite[:, 0]]
    ent = Entropy(mode="scalar").fit_transform([positive])[0][0] if len(positive) else 0.0
    worst["entropy"] = max(worst.get("entropy", 0), rel(dim0["summary"]["entropy"], ent))
    # Persistence image on (birth, persistence) with weight = persistence.
    p = finite[:, 1] - finite[:, 0]
    rng_ = [finite[:, 0].min(), finite[:, 0].max(), p.min(), p.max()]
    if rng_[0] < rng_[1] and rng_[2] < rng_[3]:
        pi = PersistenceImage(bandwidth=sigma, weight=lambda x: x[1], resolution=[res, res],
                              im_range=rng_).fit_transform([finite])[0]
        mine = np.array(dim0["image"]["values"])
        # Same layout as GUDHI: row j = persistence sample, column i = birth sample.
        err = float(np.max(np.abs(mine - pi)))
        worst["persistence image"] = max(worst.get("persistence image", 0),
                                         err / max(1.0, float(np.max(np.abs(pi)))))


if __name__ == "__main__":
    main()
