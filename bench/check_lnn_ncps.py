#!/usr/bin/env python3
"""check_lnn_ncps.py -- AURA's lnn module against ncps on many configurations
beyond the shared golden files (modes, backbones, activations, mixed memory,
projection, NCP/AutoNCP/FullyConnected wirings, LTC options, timespans).

For each configuration: build the ncps model (random init), export it,
run `aura lnn run` on random inputs with per-sample timespans and a random
initial state, and compare outputs and final states with ncps (B = 1 per
sample, where ncps' timespan handling is correct).  Then re-save the model
through AURA (`aura lnn train --init ... --epochs 1 --lr 1e-9`) and load it
back into ncps with load_state_dict(strict=True).
Usage: NCPS=/path/to/ncps python3 bench/check_lnn_ncps.py [--build build]
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lnn as bl  # noqa: E402  (sets up torch/ncps paths)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from ncps.torch import CfC, LTC  # noqa: E402
from ncps.wirings import NCP, AutoNCP, FullyConnected  # noqa: E402

AURA = bl.AURA
OUT = tempfile.mkdtemp(prefix="check_lnn_")


SEEDS = {}  # id(wiring) -> (seed, sparsity) as constructed


def wcfg(w):
    if isinstance(w, AutoNCP):
        seed, sp = SEEDS[id(w)]
        return {"type": "AutoNCP", "units": w.units, "output_size": w.output_dim,
                "sparsity_level": sp, "seed": seed}
    if isinstance(w, NCP):
        return {"type": "NCP", "inter_neurons": w._num_inter_neurons,
                "command_neurons": w._num_command_neurons,
                "motor_neurons": w._num_motor_neurons, "sensory_fanout": w._sensory_fanout,
                "inter_fanout": w._inter_fanout,
                "recurrent_command_synapses": w._recurrent_command_synapses,
                "motor_fanin": w._motor_fanin, "seed": SEEDS[id(w)][0]}
    return {"type": "FullyConnected", "units": w.units, "output_dim": w.output_dim,
            "erev_init_seed": w._erev_init_seed, "self_connections": w.self_connections}


def cases():
    C = 5
    for mode in ["default", "pure", "no_gate"]:
        for bl_, act in [(0, "lecun_tanh"), (1, "silu"), (2, "gelu"), (3, "relu")]:
            for mixed, proj in [(False, None), (True, 3)]:
                kw = dict(backbone_layers=bl_, backbone_units=12, backbone_dropout=0.1 if bl_ == 3 else 0.0)
                m = CfC(C, 10, proj_size=proj, return_sequences=True, batch_first=True,
                        mixed_memory=mixed, mode=mode, activation=act, **kw)
                cfg = {"model": "CfC", "input_size": C, "units": 10, "mode": mode,
                       "activation": act, "backbone_layers": bl_, "backbone_units": 12,
                       "backbone_dropout": kw["backbone_dropout"], "proj_size": proj,
                       "mixed_memory": mixed}
                yield f"CfC {mode} bb{bl_} {act} mixed={mixed} proj={proj}", m, cfg, 10
    def auto():
        w = AutoNCP(14, 3, sparsity_level=0.6, seed=7)
        SEEDS[id(w)] = (7, 0.6)
        return w

    def ncp():
        w = NCP(5, 4, 2, 3, 2, 3, 2, seed=11)
        SEEDS[id(w)] = (11, None)
        return w

    wirings = [auto, ncp,
               lambda: FullyConnected(7, 3, erev_init_seed=5, self_connections=False)]
    for k, wf in enumerate(wirings):
        for mode in ["default", "pure", "no_gate"]:
            for mixed, proj in [(False, None), (True, 2)]:
                w = wf()
                if isinstance(w, FullyConnected) and proj:
                    proj = None  # ncps' fc expects output_dim inputs but gets every neuron
                m = CfC(C, w, proj_size=proj, batch_first=True, mixed_memory=mixed, mode=mode)
                cfg = {"model": "CfC", "input_size": C, "wired": True, "mode": mode,
                       "mixed_memory": mixed, "proj_size": proj, "wiring": wcfg(w)}
                yield f"wired CfC {cfg['wiring']['type']} {mode} mixed={mixed} proj={proj}", \
                    m, cfg, w.units
        for impl in [True, False]:
            for mixed, imap, omap in [(False, "affine", "affine"), (True, "linear", "none")]:
                w = wf()
                m = LTC(C, w, batch_first=True, mixed_memory=mixed, input_mapping=imap,
                        output_mapping=omap, ode_unfolds=4, epsilon=1e-6,
                        implicit_param_constraints=impl)
                cfg = {"model": "LTC", "input_size": C, "mixed_memory": mixed,
                       "input_mapping": imap, "output_mapping": omap, "ode_unfolds": 4,
                       "epsilon": 1e-6, "implicit_param_constraints": impl, "wiring": wcfg(w)}
                yield f"LTC {cfg['wiring']['type']} implicit={impl} mixed={mixed} {imap}/{omap}", \
                    m, cfg, w.units


def ncps_run(model, x, ts, h0, c0):
    ys, hs, cs = [], [], []
    with torch.no_grad():
        for b in range(x.shape[0]):
            hx = torch.from_numpy(h0[b:b + 1])
            if c0 is not None:
                hx = (hx, torch.from_numpy(c0[b:b + 1]))
            y, hn = model(torch.from_numpy(x[b:b + 1]), hx,
                          timespans=torch.from_numpy(ts[b:b + 1]))
            if isinstance(hn, tuple):
                hs.append(hn[0].numpy())
                cs.append(hn[1].numpy())
            else:
                hs.append(hn.numpy())
            ys.append(y.numpy())
    return np.concatenate(ys), np.concatenate(hs), (np.concatenate(cs) if cs else None)


def main():
    torch.manual_seed(3)
    rs = np.random.RandomState(3)
    worst, n = 0.0, 0
    for name, model, cfg, H in cases():
        model.eval()
        path = os.path.join(OUT, "m.safetensors")
        sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
        bl.save_st(path, sd, cfg)
        B, L = 3, 9
        x = rs.randn(B, L, 5).astype(np.float32)
        ts = (0.2 + 1.5 * rs.rand(B, L)).astype(np.float32)
        h0 = (0.5 * rs.randn(B, H)).astype(np.float32)
        c0 = (0.5 * rs.randn(B, H)).astype(np.float32) if cfg["mixed_memory"] else None
        inp = os.path.join(OUT, "in.safetensors")
        io = {"input": x, "timespans": ts, "h0": h0}
        if c0 is not None:
            io["c0"] = c0
        bl.save_st(inp, io)
        out = os.path.join(OUT, "out.safetensors")
        subprocess.run([AURA, "lnn", "run", path, "--input", inp, "--out", out], check=True)
        got = bl.load_st(out)
        y, hn, cn = ncps_run(model, x, ts, h0, c0)
        err = max(np.abs(got["output"] - y).max(), np.abs(got["hn"] - hn).max(),
                  np.abs(got["cn"] - cn).max() if cn is not None else 0.0)
        # AURA's saved file loads into ncps (strict) and gives the same outputs
        re = os.path.join(OUT, "re.safetensors")
        csv = os.path.join(OUT, "d.csv")
        with open(csv, "w") as f:
            O = got["output"].shape[2]
            f.write("seq," + ",".join(f"x{i}" for i in range(5)) + "," +
                    ",".join(f"y{i}" for i in range(O)) + "\n")
            for t in range(3):
                f.write("0," + ",".join(["0.1"] * 5) + "," + ",".join(["0"] * O) + "\n")
        subprocess.run([AURA, "lnn", "train", csv, "--init", path, "--out", re, "--epochs", "1",
                        "--lr", "1e-12"], check=True, capture_output=True)
        back = bl.load_st(re)
        missing = set(sd) ^ set(back)
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in back.items()},
                              strict=True)
        # a model created by AURA from the config alone has ncps' masks (and,
        # for an LTC, its initial reversal potentials = the signed adjacency)
        fresh = os.path.join(OUT, "fresh.safetensors")
        subprocess.run([AURA, "lnn", "init", "--config", bl.json.dumps(cfg), "--out", fresh],
                       check=True)
        fr = bl.load_st(fresh)
        same = all(np.array_equal(fr[k], sd[k]) for k in sd
                   if "mask" in k or (cfg["model"] == "LTC" and k.endswith("erev")))
        missing |= set(fr) ^ set(sd)
        status = "ok" if err <= 1e-5 and not missing and same else "FAIL"
        worst = max(worst, err)
        n += 1
        print(f"{status:4} {name:58} max |AURA - ncps| = {err:.2g}")
        if status != "ok":
            sys.exit(1)
    print(f"{n} configurations, worst difference {worst:.2g}; AURA-generated masks and "
          f"initial reversal potentials equal ncps' everywhere")


if __name__ == "__main__":
    main()
