"""Value iteration / policy iteration on the belief grid vs quantecon's DiscreteDP.

    python benchmarks/bench_control_vi.py [--qe-python /tmp/qe_venv/bin/python]

Problem: X = 2, Y = 2, B = [[0.8, 0.2], [0.2, 0.8]], misclassification cost 1,
delay cost 0.3, rho = 0.9, tolerance 1e-8 on max|V - V*| for value iteration.
quantecon (installed only in a separate venv, never in the project venv) solves
the same discretized MDP: grid points plus an absorbing stopped state, the
continue action with the sparse transition rows K, state-action-pair form with
a scipy.sparse Q. Its epsilon is 2 * tol so that both stop on the same
criterion max|V_{n+1} - V_n| <= tol (1 - rho) / rho. Writes bench_control_vi.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from control import StoppingProblem, policy_iteration, value_iteration
from control.dp import discretize

QE_SCRIPT = r"""
import sys, time, json, numpy as np, scipy.sparse as sp
import quantecon as qe
from quantecon.markov import DiscreteDP
d = np.load(sys.argv[1]); K = sp.load_npz(sys.argv[2]); tol = float(sys.argv[3]); rho = float(d["rho"])
N = K.shape[0]
stop, cont = d["stop"], d["cont"]
# pairs: (i, stop) -> absorbing N; (i, continue) -> K[i]; (N, stay)
s_idx = np.r_[np.arange(N), np.arange(N), N]
a_idx = np.r_[np.zeros(N, int), np.ones(N, int), 0]
R = np.r_[-stop, -cont, 0.0]
Qs = sp.csr_matrix((np.ones(N), (np.arange(N), np.full(N, N))), shape=(N, N + 1))
Qc = sp.hstack([K, sp.csr_matrix((N, 1))]).tocsr()
Q = sp.vstack([Qs, Qc, sp.csr_matrix(([1.0], ([0], [N])), shape=(1, N + 1))]).tocsr()
order = np.lexsort((a_idx, s_idx))
ddp = DiscreteDP(R[order], Q[order], rho, s_idx[order], a_idx[order])
out = {}
for method, kw in [("value_iteration", dict(epsilon=2 * tol, max_iter=100000)), ("policy_iteration", {}),
                   ("modified_policy_iteration", dict(epsilon=2 * tol, k=20))]:
    ddp.solve(method=method, **kw) if N < 2000 else None  # numba warm-up on small sizes
    t = time.perf_counter(); res = ddp.solve(method=method, **kw); el = time.perf_counter() - t
    out[method] = dict(time=el, n_iter=int(res.num_iter), v0=float(-res.v[N // 2]),
                       max_abs_v=float(np.max(np.abs(-res.v[:N]))))
    np.save(sys.argv[4] + "_" + method + ".npy", -res.v[:N])
print(json.dumps(dict(version=qe.__version__, results=out)))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--qe-python", default="/tmp/qe_venv/bin/python")
    ap.add_argument("--sizes", default="1001,10001,100001")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tol = 1e-8
    B = np.array([[0.8, 0.2], [0.2, 0.8]])
    prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    rows = []
    have_qe = Path(args.qe_python).exists()
    for N in map(int, args.sizes.split(",")):
        t = time.perf_counter()
        D = discretize(prob, N)
        build = time.perf_counter() - t
        res: dict[str, Any] = {"grid_size": N, "build_s": build}
        sols = {}
        for name, f in [("vi", lambda D=D: value_iteration(D, tol=tol)), ("pi", lambda D=D: policy_iteration(D)),
                        ("mpi20", lambda D=D: policy_iteration(D, tol=tol, n_eval=20))]:
            best = np.inf
            for _ in range(args.repeat):
                t = time.perf_counter()
                s = f()
                best = min(best, time.perf_counter() - t)
            sols[name] = s
            res[f"{name}_s"] = best
            res[f"{name}_iter"] = s.n_iter
        res["vi_plus_build_s"] = res["vi_s"] + build
        res["max|vi - pi|"] = float(np.max(np.abs(sols["vi"].values - sols["pi"].values)))
        res["thresholds"] = sols["vi"].thresholds.tolist()
        if have_qe:
            with tempfile.TemporaryDirectory() as tmp:
                np.savez(f"{tmp}/d.npz", stop=D.stop, cont=D.cont, rho=prob.discount)
                sp.save_npz(f"{tmp}/K.npz", D.K)
                out = subprocess.run([args.qe_python, "-c", QE_SCRIPT, f"{tmp}/d.npz", f"{tmp}/K.npz", str(tol),
                                      f"{tmp}/v"], capture_output=True, text=True, timeout=1200)
                if out.returncode != 0:
                    res["quantecon_error"] = out.stderr[-500:]
                else:
                    q = json.loads(out.stdout.strip().splitlines()[-1])
                    res["quantecon_version"] = q["version"]
                    for m, r in q["results"].items():
                        res[f"qe_{m}_s"] = r["time"]
                        res[f"qe_{m}_iter"] = r["n_iter"]
                        v = np.load(f"{tmp}/v_{m}.npy")
                        res[f"max|qe_{m} - pi|"] = float(np.max(np.abs(v - sols["pi"].values)))
        rows.append(res)
        print(json.dumps(res), flush=True)
    print()
    hdr = f"{'N':>8} {'build':>7} {'VI':>7} {'PI':>7} {'MPI20':>7} {'qe VI':>7} {'qe PI':>7} {'qe MPI':>7}  (seconds)"
    print(hdr)
    for r in rows:
        def g(k: str, r: dict = r) -> str:
            return f"{r[k]:7.3f}" if k in r else "    n/a"

        print(f"{r['grid_size']:>8} {g('build_s')} {g('vi_s')} {g('pi_s')} {g('mpi20_s')} {g('qe_value_iteration_s')} "
              f"{g('qe_policy_iteration_s')} {g('qe_modified_policy_iteration_s')}")
    meta = {"machine_note": "shared 2-core machine, timings noisy", "tol": tol, "python": sys.version,
            "problem": "X=2, Y=2, B=[[.8,.2],[.2,.8]], c=1-I, d=0.3, rho=0.9", "rows": rows}
    Path(__file__).with_suffix(".json").write_text(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
