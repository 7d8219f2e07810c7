"""ribum against PrefGraph (Rust core) on garp + ccei, T = 2,000 and 5,000, G = 5.

PrefGraph is not a project dependency: install it in a separate environment
and point this script at that interpreter, e.g.

    python3 -m venv /tmp/pgvenv && /tmp/pgvenv/bin/pip install prefgraph numpy
    python benchmarks/bench_ribum_prefgraph.py --prefgraph-python /tmp/pgvenv/bin/python

Both sides are timed as the best of ``--repeat`` warm runs. The data are
written to a temporary .npz; PrefGraph's
``Engine(metrics=["garp", "ccei"]).analyze_arrays`` runs in a subprocess under
that interpreter and reports its time and CCEI. Prints a table and writes
benchmarks/bench_ribum_prefgraph.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import ribum

_CHILD = r"""
import sys, time, json, numpy as np
from prefgraph import Engine
d = np.load(sys.argv[1])
p, x = d["p"], d["x"]
eng = Engine(metrics=["garp", "ccei"])
t = float("inf")
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    res = eng.analyze_arrays([(p, x)])[0]
    t = min(t, time.perf_counter() - t0)
out = {"seconds": t}
for name in ("is_garp", "garp", "ccei", "n_violations"):
    if hasattr(res, name):
        v = getattr(res, name)
        out[name] = v if isinstance(v, (bool, int, float, type(None))) else float(v)
print(json.dumps(out))
"""


def make_data(T, G=5, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 1.5, (T, G))
    m = rng.uniform(5, 10, T)
    a = rng.dirichlet(np.ones(G) * 5)
    return p, a * m[:, None] / p * np.exp(rng.normal(0, noise, (T, G)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefgraph-python", default="/tmp/pgvenv/bin/python")
    ap.add_argument("--sizes", default="2000,5000")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs, for both libraries")
    args = ap.parse_args()
    rows = []
    for T in [int(s) for s in args.sizes.split(",")]:
        for noise in (0.1, 0.3):
            p, x = make_data(T, noise=noise)
            ribum.ccei(p[:50], x[:50])  # warm-up (imports, first-call overheads)
            t_ours = np.inf
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                g = ribum.garp(p, x)
                c = ribum.ccei(p, x)
                t_ours = min(t_ours, time.perf_counter() - t0)
            with tempfile.TemporaryDirectory() as tmp:
                f = Path(tmp) / "d.npz"
                np.savez(f, p=p, x=x)
                out = subprocess.run([args.prefgraph_python, "-c", _CHILD, str(f), str(args.repeat)],
                                     capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"PrefGraph failed: {out.stderr[-2000:]}")
            pg = json.loads(out.stdout.strip().splitlines()[-1])
            row = {"T": T, "noise": noise, "ribum_s": t_ours, "ribum_ccei": c, "ribum_garp": g.passed,
                   "prefgraph_s": pg["seconds"], "prefgraph_ccei": pg.get("ccei"),
                   "speedup": pg["seconds"] / t_ours}
            rows.append(row)
            print(f"T={T:>5} noise={noise}: ribum garp+ccei {t_ours:6.2f} s  PrefGraph {pg['seconds']:7.2f} s"
                  f"  speedup {row['speedup']:6.1f}x  CCEI ribum {c:.10f} PrefGraph {pg.get('ccei')}", flush=True)
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps(rows, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
