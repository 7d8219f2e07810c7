"""ribum.analyze against PrefGraph's batch Engine on panels of many small data sets.

Cases (GARP + CCEI for every subject):

* 10,000 subjects x 25 observations x 2 goods (the Choi et al. 2007 / Chen et
  al. 2023 design size), target <= 0.5x PrefGraph's time;
* 1,000 x 100 x 5, target <= 0.5x;
* identical GARP verdicts and CCEI equal within 1e-9;
* peak resident memory of ``ribum.analyze`` on 100,000 x 25 x 2 (target < 2 GB),
  measured in a fresh subprocess (``VmHWM``, data generation included).

Each size runs at two noise levels of the multiplicative demand noise (0.1: few
violations; 0.5: most subjects violate). PrefGraph is not a project dependency:
install it in a separate environment and point this script at that interpreter,

    python3 -m venv /tmp/pgvenv && /tmp/pgvenv/bin/pip install prefgraph==0.6.2 numpy
    python benchmarks/bench_ribum_panel.py --prefgraph-python /tmp/pgvenv/bin/python

Both sides are timed as the best of ``--repeat`` warm runs on the same data in
the same run: ribum on the (N, T, G) arrays (default: one thread), on a list of
(p, x) pairs, and on the arrays with ``n_jobs=2`` (PrefGraph's Rust engine runs
Rayon threads); PrefGraph's
``Engine(metrics=["garp", "ccei"]).analyze_arrays`` on the list of pairs it takes.
Every row also records the 1-minute load average. Prints a table and writes
benchmarks/bench_ribum_panel.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
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
data = [(p[i], x[i]) for i in range(p.shape[0])]
eng = Engine(metrics=["garp", "ccei"])
t = float("inf")
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    res = eng.analyze_arrays(data)
    t = min(t, time.perf_counter() - t0)
np.savez(sys.argv[3], garp=np.array([bool(r.is_garp) for r in res]), ccei=np.array([float(r.ccei) for r in res]))
print(json.dumps({"seconds": t}))
"""

_MEMORY_CHILD = r"""
import resource, sys, time, json, numpy as np
import ribum
sys.path.insert(0, sys.argv[2])
from bench_ribum_panel import make_panel


def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss survives exec, so it can report the parent's).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


base = peak_mb()
p, x = make_panel(int(sys.argv[1]), 25, 2, noise=0.5)
data = peak_mb()
t0 = time.perf_counter()
df = ribum.analyze((p, x), metrics=["garp", "ccei"])
t = time.perf_counter() - t0
peak = peak_mb()
print(json.dumps({"seconds": t, "rss_after_import_mb": base, "rss_with_data_mb": data,
                  "peak_rss_mb": peak, "n_fail": int((~df["garp"]).sum())}))
"""


def make_panel(N, T, G, noise=0.1, seed=0):
    """Cobb-Douglas demand on random budgets with multiplicative log-normal noise."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 1.5, (N, T, G))
    m = rng.uniform(5, 10, (N, T))
    a = rng.dirichlet(np.ones(G) * 5, size=N)
    x = a[:, None, :] * m[..., None] / p * np.exp(rng.normal(0, noise, (N, T, G)))
    return p, x


def _best(f, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_case(N, T, G, noise, args):
    p, x = make_panel(N, T, G, noise=noise)
    ribum.analyze((p[:10], x[:10]))  # warm-up
    t_arr, df = _best(lambda: ribum.analyze((p, x), metrics=["garp", "ccei"]), args.repeat)
    t_two, df2 = _best(lambda: ribum.analyze((p, x), metrics=["garp", "ccei"], n_jobs=2), args.repeat)
    assert df2.equals(df)
    pairs = [(p[i], x[i]) for i in range(N)]
    t_list, _ = _best(lambda: ribum.analyze(pairs, metrics=["garp", "ccei"]), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "d.npz"
        res = Path(tmp) / "r.npz"
        np.savez(f, p=p, x=x)
        out = subprocess.run([args.prefgraph_python, "-c", _CHILD, str(f), str(args.repeat), str(res)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"PrefGraph failed: {out.stderr[-2000:]}")
        pg = json.loads(out.stdout.strip().splitlines()[-1])
        r = np.load(res)
        pg_garp, pg_ccei = r["garp"], r["ccei"]
    ours_garp = df["garp"].to_numpy()
    ours_ccei = df["ccei"].to_numpy()
    return {
        "N": N, "T": T, "G": G, "noise": noise,
        "n_fail_garp": int((~ours_garp).sum()),
        "ribum_arrays_s": t_arr, "ribum_list_s": t_list, "ribum_two_threads_s": t_two, "prefgraph_s": pg["seconds"],
        "ratio_arrays": t_arr / pg["seconds"], "ratio_list": t_list / pg["seconds"],
        "ratio_two_threads": t_two / pg["seconds"],
        "verdicts_identical": bool(np.array_equal(ours_garp, pg_garp)),
        "n_verdicts_differ": int(np.count_nonzero(ours_garp != pg_garp)),
        "ccei_max_abs_diff": float(np.max(np.abs(ours_ccei - pg_ccei))),
        "load_average_1min": os.getloadavg()[0],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefgraph-python", default="/tmp/pgvenv/bin/python")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs, for both libraries")
    ap.add_argument("--memory-n", type=int, default=100_000)
    args = ap.parse_args()
    rows = []
    for N, T, G in ((10_000, 25, 2), (1_000, 100, 5)):
        for noise in (0.1, 0.5):
            row = run_case(N, T, G, noise, args)
            rows.append(row)
            print(f"N={N:>6} T={T:>3} G={G} noise={noise}: fail {row['n_fail_garp']:>5}  "
                  f"ribum {row['ribum_arrays_s']:6.3f} s (list {row['ribum_list_s']:6.3f} s)  "
                  f"PrefGraph {row['prefgraph_s']:6.3f} s  ratio {row['ratio_arrays']:.2f} "
                  f"(list {row['ratio_list']:.2f}, 2 threads {row['ratio_two_threads']:.2f})  "
                  f"verdicts identical {row['verdicts_identical']}  "
                  f"max |dCCEI| {row['ccei_max_abs_diff']:.2e}  load {row['load_average_1min']:.2f}", flush=True)
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(args.memory_n), str(Path(__file__).parent)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"memory run failed: {out.stderr[-2000:]}")
    mem = json.loads(out.stdout.strip().splitlines()[-1])
    mem["N"] = args.memory_n
    print(f"memory: N={args.memory_n} x 25 x 2: peak RSS {mem['peak_rss_mb']:.0f} MB "
          f"(after import {mem['rss_after_import_mb']:.0f} MB, with data {mem['rss_with_data_mb']:.0f} MB), "
          f"{mem['seconds']:.2f} s")
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps({"machine": platform.platform(), "cases": rows, "memory": mem}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
