"""Speed of ribum: garp and ccei at T = 1,000 / 5,000 / 10,000 (G = 5) against
straightforward references, and check_ribum at K = 20, X = 6, A = 8.

    python benchmarks/bench_ribum.py            # references up to T = 5,000
    python benchmarks/bench_ribum.py --full     # also the (slow) references at T = 10,000

Prints a table and writes benchmarks/bench_ribum.json. Data: Cobb-Douglas demand
with multiplicative log-normal noise (sd 0.1: a few hundred observations on
cycles; sd 0.3: nearly all), prices U(0.5, 1.5), incomes U(5, 10).

References (implemented here, deliberately plain):
* GARP: the full float expenditure matrix, ``scipy.sparse.csr_matrix`` of the
  boolean R0, scipy's strongly connected components, strict arcs counted within
  components.
* CCEI: all distinct ratios E[t,s]/E[t,t] < 1 sorted, then binary search over
  them with that GARP test at the midpoints between consecutive ratios.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

import ribum
from ribum.inattention import RibumLP


def make_data(T, G=5, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 1.5, (T, G))
    m = rng.uniform(5, 10, T)
    a = rng.dirichlet(np.ones(G) * 5)
    x = a * m[:, None] / p * np.exp(rng.normal(0, noise, (T, G)))
    return p, x


def ref_garp_violations(p, x, e=1.0):
    E = p @ x.T
    d = np.diag(E).copy()
    W = e * d[:, None] >= E
    np.fill_diagonal(W, False)
    _, lab = connected_components(sp.csr_matrix(W), directed=True, connection="strong")
    S = e * d[:, None] > E
    np.fill_diagonal(S, False)
    return int(np.sum(S & (lab[:, None] == lab[None, :])))


def ref_ccei(p, x):
    E = p @ x.T
    R = E / np.diag(E)[:, None]
    np.fill_diagonal(R, np.inf)
    cands = np.unique(R[R < 1])
    del R, E
    # GARP_e is constant on each interval I_i = (edges[i], edges[i+1]); it holds
    # on I_0 and, being monotone in e, fails from some first interval I_j on.
    # The CCEI is edges[j] (or 1 if it holds on the last interval).
    edges = np.r_[0.0, cands, 1.0]
    n_int = edges.size - 1

    def fails(i):
        return ref_garp_violations(p, x, 0.5 * (edges[i] + edges[i + 1])) > 0

    lo, hi = 0, n_int  # holds on I_lo; hi = n_int is a sentinel "fails"
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fails(mid):
            hi = mid
        else:
            lo = mid
    return 1.0 if hi == n_int else float(edges[hi])


def timed(f, *args, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f(*args)
        best = min(best, time.perf_counter() - t0)
    return out, best


def bench_budget(full: bool):
    rows = []
    for noise in (0.1, 0.3):
        for T in (1000, 5000, 10_000):
            p, x = make_data(T, noise=noise)
            g, t_garp = timed(ribum.garp, p, x)
            c, t_ccei = timed(ribum.ccei, p, x)
            row = {"T": T, "G": 5, "noise": noise, "violations": g.violations, "ccei": c,
                   "garp_s": t_garp, "ccei_s": t_ccei}
            if T <= 5000 or full:
                v_ref, t_ref = timed(ref_garp_violations, p, x)
                assert v_ref == g.violations, (v_ref, g.violations)
                row["ref_garp_s"] = t_ref
                c_ref, t_cref = timed(ref_ccei, p, x)
                assert abs(c_ref - c) <= 1e-12, (c_ref, c)
                row["ref_ccei_s"] = t_cref
            rows.append(row)
            print(f"T={T:>6} noise={noise}: garp {t_garp:6.2f} s (ref {row.get('ref_garp_s', float('nan')):6.2f})"
                  f"  ccei {t_ccei:6.2f} s (ref {row.get('ref_ccei_s', float('nan')):7.2f})"
                  f"  violations={g.violations} ccei={c:.6f}", flush=True)
    return rows


def bench_ribum(n_rep=3):
    import cvxpy as cp  # noqa: F401

    rng = np.random.default_rng(0)
    K, X, A = 20, 6, 8
    k = ribum.rational_inattention_kernel(rng.uniform(0, 1, (K, X, A)), None, 0.1)
    prior = np.full(X, 1 / X)
    out = []
    for _ in range(n_rep):
        t0 = time.perf_counter()
        lp = RibumLP(K, X, A)
        t_pattern = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = ribum.check_ribum(k)
        total = time.perf_counter() - t0
        # compile and solve split of the last CVXPY solve inside check_ribum
        t0 = time.perf_counter()
        m, *_ = lp.solve(k, prior)
        t_all = time.perf_counter() - t0
        compile_s = lp.problem.compilation_time
        solve_s = lp.problem.solver_stats.solve_time
        out.append({"pattern_s": t_pattern, "build_s": t_all - solve_s, "compile_s": compile_s,
                    "solve_s": solve_s, "check_ribum_total_s": total, "margin": res.margin,
                    "rows": lp.n_rows, "variables": lp.n_var})
    best = min(out, key=lambda r: r["check_ribum_total_s"])
    t0 = time.perf_counter()
    lp.solve_highs(k, prior)
    best["resolve_highs_s"] = time.perf_counter() - t0
    print(f"check_ribum K=20 X=6 A=8: build {best['build_s']:.2f} s (of which CVXPY compile {best['compile_s']:.2f} s)"
          f" + solve {best['solve_s']:.2f} s; check_ribum total {best['check_ribum_total_s']:.2f} s;"
          f" bootstrap re-solve {best['resolve_highs_s']:.2f} s; {best['rows']} rows x {best['variables']} variables")
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="run the references at T = 10,000 too (minutes)")
    args = ap.parse_args()
    result = {
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "numpy": np.__version__},
        "budget": bench_budget(args.full),
        "check_ribum": bench_ribum(),
    }
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
