#!/usr/bin/env python3
"""Times `aura tda-distance` against GUDHI on the same random diagrams:
Wasserstein (order p, internal_p = inf) exact against
gudhi.wasserstein.wasserstein_distance (POT's network simplex on the dense
(n+1) x (m+1) matrix) and, with --approx, against gudhi.hera (auction,
relative error delta); bottleneck against gudhi.bottleneck_distance
(exact) and gudhi.hera.bottleneck_distance (delta).  Prints each time, the
ratio reference / AURA and the two answers.  AURA's time is the whole CLI
run (reading both files included); GUDHI's is the call alone.

usage: nice build/venv/bin/python bench/bench_tda_distance.py [--build build]
           [--sizes 1000,5000] [--order 1] [--approx 0.01] [--dist exp|uniform|cluster] [--reps 1]
"""
import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile

import numpy as np
import gudhi
import gudhi.hera
import gudhi.wasserstein
import ot


def random_diagram(rng, n, dist):
    if dist == "cluster":  # far from the diagonal: every pair is a candidate
        b = rng.uniform(0, 1, n)
        return np.stack([b, b + 5 + rng.uniform(0, 1, n)], axis=1)
    b = rng.uniform(0, 10, n)
    pers = rng.exponential(0.5, n) if dist == "exp" else rng.uniform(0, 5, n)
    return np.stack([b, b + pers], axis=1)


def write_barcode(path, diag):
    with open(path, "w") as f:
        f.write("persistence intervals in dim 0:\n")
        for b, d in diag:
            f.write(" [%r,%r)\n" % (b, d))


def cpu_now():
    """CPU seconds (user + system) of this process and its finished children:
    the machine is shared, so wall time would count other people's builds."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def timed(fn, reps):
    best, val = math.inf, None
    for _ in range(reps):
        t = cpu_now()
        val = fn()
        best = min(best, cpu_now() - t)
    return best, val


def aura(build, args):
    out = subprocess.run([os.path.join(build, "aura"), "tda-distance", *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("aura failed: " + out.stderr)
    return float(out.stdout)


def row(name, t_ref, v_ref, t_aura, v_aura):
    print("  %-34s ref %8.3f s  aura %8.3f s  ratio %7.1fx   ref=%.12g aura=%.12g"
          % (name, t_ref, t_aura, t_ref / t_aura, v_ref, v_aura))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--sizes", default="1000,5000")
    ap.add_argument("--order", type=float, default=1.0)
    ap.add_argument("--approx", type=float, default=0.01)
    ap.add_argument("--dist", default="exp", choices=["exp", "uniform", "cluster"])
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--no-pot-above", type=int, default=5000,
                    help="skip POT above this many points per diagram (dense memory)")
    args = ap.parse_args()
    desc = {"exp": "birth U(0,10), persistence Exp(mean 0.5)",
            "uniform": "birth U(0,10), persistence U(0,5)",
            "cluster": "birth U(0,1), persistence 5 + U(0,1)"}[args.dist]
    print("GUDHI %s, POT %s, numpy %s; diagrams: %s; p = %g; CPU seconds"
          % (gudhi.__version__, ot.__version__, np.__version__, desc, args.order))
    rng = np.random.default_rng(7)
    tmp = tempfile.mkdtemp()
    pa, pb = os.path.join(tmp, "a.txt"), os.path.join(tmp, "b.txt")
    p, eps, r = args.order, args.approx, args.reps
    for n in (int(s) for s in args.sizes.split(",")):
        a, b = random_diagram(rng, n, args.dist), random_diagram(rng, n, args.dist)
        write_barcode(pa, a)
        write_barcode(pb, b)
        print("%d + %d points:" % (n, n))
        w = ["--metric", "wasserstein", "--order", repr(p), pa, pb]
        t_a, v_a = timed(lambda: aura(args.build, w), r)
        if n <= args.no_pot_above:
            t_r, v_r = timed(lambda: gudhi.wasserstein.wasserstein_distance(
                a, b, order=p, internal_p=np.inf), r)
            row("wasserstein exact vs POT", t_r, v_r, t_a, v_a)
        t_r, v_r = timed(lambda: gudhi.hera.wasserstein_distance(
            a, b, order=p, internal_p=np.inf, delta=eps), r)
        row("wasserstein exact vs hera d=%g" % eps, t_r, v_r, t_a, v_a)
        t_x, v_x = timed(lambda: aura(args.build, ["--approx", repr(eps)] + w), r)
        row("wasserstein approx %g vs hera" % eps, t_r, v_r, t_x, v_x)
        bn = [pa, pb]
        t_a, v_a = timed(lambda: aura(args.build, bn), r)
        t_r, v_r = timed(lambda: gudhi.bottleneck_distance(a, b), r)
        row("bottleneck exact vs GUDHI exact", t_r, v_r, t_a, v_a)
        t_r, v_r = timed(lambda: gudhi.hera.bottleneck_distance(a, b, delta=eps), r)
        t_x, v_x = timed(lambda: aura(args.build, ["--approx", repr(eps)] + bn), r)
        row("bottleneck approx %g vs hera" % eps, t_r, v_r, t_x, v_x)


if __name__ == "__main__":
    main()
