"""Agent-steps per second of ``sociallearn.simulate`` (issue 4 targets).

Targets on 2 cores: >= 10 million agent-steps/s for X = Y = A = 2 and >= 2
million for X = Y = A = 6, with batches of >= 100,000 runs. An agent-step is one
agent of one run (``n_runs * n_agents`` per simulation), with the actions
(n_runs, n_agents) and the belief-path index recorded (``record_paths=True``).

Compared with a plain Python loop over runs and agents (the filter written out
with small numpy vectors, as straightforward code would), and with the
``direct`` engine (vectorized over runs, filter evaluated per run each step).

Run: ``python benchmarks/bench_sociallearn.py [--quick]``; prints a table and
writes ``bench_sociallearn.json`` next to this file.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from sociallearn import SocialLearningModel, simulate


def python_loop(model: SocialLearningModel, prior, n_agents: int, n_runs: int, seed: int):
    """Reference implementation: one run and one agent at a time (uniform ties)."""
    rng = np.random.default_rng(seed)
    B, c = model.likelihood, model.cost
    X, Y = B.shape
    A = c.shape[1]
    tol = model.tie_tol
    wrong = 0
    actions = np.zeros((n_runs, n_agents), dtype=np.int8)
    for r in range(n_runs):
        x = rng.choice(X, p=prior)
        pi = np.array(prior, dtype=float)
        for k in range(n_agents):
            y = rng.choice(Y, p=B[x])
            # decision rule of every possible signal, then the action likelihood R
            D = np.zeros((Y, A))
            for yy in range(Y):
                eta = B[:, yy] * pi
                eta /= eta.sum()
                e = eta @ c
                tied = np.flatnonzero(e <= e.min() + tol)
                D[yy, tied] = 1.0 / tied.size
            a = rng.choice(A, p=D[y])
            actions[r, k] = a
            R = B @ D[:, a]
            pi = R * pi / (R * pi).sum()
        e = pi @ c
        wrong += c[x, np.argmin(e)] > c[x].min()
    return actions, wrong / n_runs


def timed(fn, repeat: int = 3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller batches (smoke test)")
    args = ap.parse_args(argv)
    n_runs = 20_000 if args.quick else 200_000
    n_agents = 100
    rng = np.random.default_rng(0)
    cases = {
        "X=Y=A=2 BHW p=0.7": (SocialLearningModel.binary_symmetric(0.7), np.array([0.5, 0.5])),
        "X=Y=A=2 BHW p=0.55": (SocialLearningModel.binary_symmetric(0.55), np.array([0.5, 0.5])),
        "X=Y=A=6 symmetric p=0.5": (SocialLearningModel.symmetric(6, 0.5), np.full(6, 1 / 6)),
        "X=Y=A=6 random B, c": (SocialLearningModel(rng.dirichlet(np.ones(6), 6), cost=rng.random((6, 6))),
                                np.full(6, 1 / 6)),
    }
    rows = []
    print(f"{'case':<26}{'engine':<14}{'runs':>9}{'agents':>7}{'seconds':>9}{'Magent-steps/s':>16}")
    for name, (model, prior) in cases.items():
        steps = n_runs * n_agents
        t_lat, res = timed(lambda model=model, prior=prior: simulate(model, prior, n_agents, n_runs, seed=1))
        runs_direct = n_runs // 4
        t_dir, _ = timed(lambda model=model, prior=prior, runs_direct=runs_direct: simulate(
            model, prior, n_agents, runs_direct, seed=1, method="direct"), repeat=1)
        runs_py = 200 if args.quick else 1000
        t_py, (_, wrong_py) = timed(lambda model=model, prior=prior, runs_py=runs_py: python_loop(
            model, prior, n_agents, runs_py, seed=1), repeat=1)
        engines = (("lattice", t_lat, n_runs), ("direct", t_dir, runs_direct), ("python loop", t_py, runs_py))
        for engine, t, nr in engines:
            rate = nr * n_agents / t
            print(f"{name:<26}{engine:<14}{nr:>9}{n_agents:>7}{t:>9.3f}{rate / 1e6:>16.2f}")
            rows.append({"case": name, "engine": engine, "n_runs": nr, "n_agents": n_agents, "seconds": t,
                         "agent_steps_per_s": rate})
        s = res.herding_stats()
        print(f"{'':<26}P(wrong cascade): simulate {s['p_wrong_cascade']:.4f} +/- {s['se_wrong_cascade']:.4f}, "
              f"python loop {wrong_py:.4f} ({runs_py} runs); lattice beliefs: {res.n_lattice_states}; "
              f"speed-up over the loop: {(steps / t_lat) / (runs_py * n_agents / t_py):.0f}x")
    out = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine(),
           "processor": platform.processor(), "quick": args.quick, "results": rows,
           "targets": {"X=Y=A=2": 10e6, "X=Y=A=6": 2e6}}
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
