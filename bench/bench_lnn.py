#!/usr/bin/env python3
"""bench_lnn.py -- AURA's lnn module against ncps on PyTorch, side by side.

For three models (CfC default 8->32 with backbone 1x128, a wired CfC on
AutoNCP(24, 4), an LTC on FullyConnected(16)) it builds the ncps model,
exports its weights to safetensors, checks that `aura lnn run` reproduces
ncps' outputs, then times:
  * one step, batch 1 (median and p99 latency; ncps: the cell's forward),
  * batch 64 x sequence 100 (throughput; ncps: the sequence wrapper),
  * training steps per second on a sine task (batch 16 x 20 steps, Adam).
Both sides run on one thread.  Usage:
  NCPS=/path/to/ncps/checkout nice python3 bench/bench_lnn.py [--build build | AURA_BIN]
PyTorch comes from Debian's python3-torch (/usr/lib/python3/dist-packages
is added to sys.path if torch is not importable); ncps from $NCPS, else
an installed `ncps` package (bench/requirements.txt pins 1.0.1).
"""
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

if os.environ.get("NCPS"):
    sys.path.insert(0, os.environ["NCPS"])
try:
    import torch  # noqa: F401
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import ncps  # noqa: E402
from ncps.torch import CfC, LTC  # noqa: E402
from ncps.wirings import AutoNCP  # noqa: E402

torch.set_num_threads(1)
AURA = "build/aura"
if len(sys.argv) > 2 and sys.argv[1] == "--build":
    AURA = os.path.join(sys.argv[2], "aura")
elif len(sys.argv) > 1:
    AURA = sys.argv[1]
OUT = tempfile.mkdtemp(prefix="bench_lnn_")


def save_st(path, tensors, config=None):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    if config is not None:
        header["__metadata__"] = {"format": "pt", "config": json.dumps(config)}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype="<f4").reshape(v["shape"])
    return out


def models():
    torch.manual_seed(0)
    cfc = CfC(8, 32, backbone_units=128, backbone_layers=1, batch_first=True)
    cfg_cfc = {"model": "CfC", "input_size": 8, "units": 32, "mode": "default",
               "activation": "lecun_tanh", "backbone_layers": 1, "backbone_units": 128,
               "backbone_dropout": 0.0, "proj_size": None, "mixed_memory": False}
    wired = CfC(8, AutoNCP(24, 4), batch_first=True)
    cfg_wired = {"model": "CfC", "input_size": 8, "wired": True, "mode": "default",
                 "mixed_memory": False,
                 "wiring": {"type": "AutoNCP", "units": 24, "output_size": 4,
                            "sparsity_level": 0.5, "seed": 22222}}
    ltc = LTC(8, 16, batch_first=True)
    cfg_ltc = {"model": "LTC", "input_size": 8, "units": 16, "ode_unfolds": 6,
               "epsilon": 1e-8, "implicit_param_constraints": True,
               "input_mapping": "affine", "output_mapping": "affine", "mixed_memory": False,
               "wiring": {"type": "FullyConnected", "units": 16, "output_dim": 16,
                          "erev_init_seed": 1111, "self_connections": True}}
    return [("CfC default 8->32, backbone 1x128", cfc, cfg_cfc, 32),
            ("wired CfC AutoNCP(24, 4)", wired, cfg_wired, 24),
            ("LTC FullyConnected(16)", ltc, cfg_ltc, 16)]


def stats(ts):
    ts = sorted(ts)
    return ts[len(ts) // 2], ts[int(len(ts) * 0.99)]


def torch_step_latency(model, H, iters):
    x = torch.randn(1, 8)
    h = torch.zeros(1, H)
    cell = model.rnn_cell
    ts = []
    with torch.no_grad():
        for k in range(iters + iters // 10):
            t0 = time.perf_counter()
            if isinstance(model, LTC):
                cell(x, h, 1.0)
            else:
                cell(x, h, 1.0)
            if k >= iters // 10:
                ts.append(time.perf_counter() - t0)
    return stats(ts)


def torch_seq_time(model, iters):
    x = torch.randn(64, 100, 8)
    ts = []
    with torch.no_grad():
        for k in range(iters + 1):
            t0 = time.perf_counter()
            model(x)
            if k >= 1:
                ts.append(time.perf_counter() - t0)
    return stats(ts)


def aura_bench(path, batch, seq, iters):
    r = subprocess.run(["nice", AURA, "lnn", "bench", path, "--batch", str(batch), "--seq",
                        str(seq), "--iters", str(iters)], capture_output=True, text=True,
                       check=True)
    m = re.search(r"median ([0-9.]+) us, p99 ([0-9.]+) us", r.stdout)
    return float(m.group(1)) * 1e-6, float(m.group(2)) * 1e-6


def check_same(path, model, H):
    x = np.random.RandomState(1).randn(4, 20, 8).astype(np.float32)
    h0 = np.zeros((4, H), np.float32)
    inp = os.path.join(OUT, "in.safetensors")
    out = os.path.join(OUT, "out.safetensors")
    save_st(inp, {"input": x, "h0": h0})
    subprocess.run([AURA, "lnn", "run", path, "--input", inp, "--out", out], check=True)
    with torch.no_grad():
        y, _ = model(torch.from_numpy(x), torch.from_numpy(h0))
    return float(np.abs(load_st(out)["output"] - y.numpy()).max())


def sine_data(n, L, seed):
    rs = np.random.RandomState(seed)
    ph = rs.rand(n, 1) * 2 * math.pi
    w = 0.3 + 0.2 * rs.rand(n, 1)
    t = np.arange(L)[None, :]
    return (np.sin(w * t + ph)[..., None].astype(np.float32),
            np.cos(w * t + ph)[..., None].astype(np.float32))


def train_compare(epochs=5, n=256, L=20, batch=16):
    x, y = sine_data(n, L, 0)
    csv = os.path.join(OUT, "sine.csv")
    with open(csv, "w") as f:
        f.write("seq,x0,y0\n")
        for s in range(n):
            for t in range(L):
                f.write(f"{s},{x[s, t, 0]:.7f},{y[s, t, 0]:.7f}\n")
    steps = epochs * ((n + batch - 1) // batch)
    r = subprocess.run(["nice", AURA, "lnn", "train", csv, "--out", os.path.join(OUT, "m.st"),
                        "--units", "32", "--backbone-units", "128", "--epochs", str(epochs),
                        "--batch", str(batch), "--lr", "0.005"],
                       capture_output=True, text=True, check=True)
    m = re.search(r"loss ([0-9.e+-]+) -> ([0-9.e+-]+) in ([0-9.]+)s", r.stderr)
    aura_sps = steps / float(m.group(3))
    torch.manual_seed(0)
    model = CfC(1, 32, proj_size=1, backbone_units=128, batch_first=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    t0 = time.perf_counter()
    for e in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            out, _ = model(xt[idx])
            loss = ((out - yt[idx]) ** 2).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    torch_sps = steps / (time.perf_counter() - t0)
    return aura_sps, torch_sps, m.group(1), m.group(2)


def main():
    print(f"torch {torch.__version__}, ncps from {os.path.dirname(ncps.__file__)}, "
          f"aura {AURA}, 1 thread each")
    print(f"{'model':36} {'case':18} {'AURA med':>10} {'AURA p99':>10} {'torch med':>10} "
          f"{'torch p99':>10} {'ratio':>7}")
    for name, model, cfg, H in models():
        model.eval()
        path = os.path.join(OUT, re.sub(r"\W+", "_", name) + ".safetensors")
        save_st(path, {k: v.detach().numpy() for k, v in model.state_dict().items()}, cfg)
        err = check_same(path, model, H)
        am, ap = aura_bench(path, 1, 1, 20000)
        tm, tp = torch_step_latency(model, H, 2000)
        print(f"{name:36} {'step, batch 1':18} {am*1e6:8.2f}us {ap*1e6:8.2f}us {tm*1e6:8.1f}us "
              f"{tp*1e6:8.1f}us {tm/am:6.0f}x  (max |AURA - ncps| = {err:.2g})")
        am, ap = aura_bench(path, 64, 100, 30)
        tm, tp = torch_seq_time(model, 10)
        print(f"{'':36} {'64 x 100 seq':18} {am*1e3:8.2f}ms {ap*1e3:8.2f}ms {tm*1e3:8.1f}ms "
              f"{tp*1e3:8.1f}ms {tm/am:6.1f}x  (throughput ratio)")
    a, t, l0, l1 = train_compare()
    print(f"training CfC 1->32 (backbone 1x128, proj 1), batch 16 x 20 steps: AURA {a:.1f} "
          f"steps/s, torch {t:.1f} steps/s, ratio {a/t:.1f}x (AURA loss {l0} -> {l1})")


if __name__ == "__main__":
    main()
