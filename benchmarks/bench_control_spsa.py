"""Wall time for SPSA to reach the value-iteration threshold (within the lattice spacing).

    python benchmarks/bench_control_spsa.py

Problem: B = [[0.7, 0.3], [0.3, 0.7]], misclassification cost 1, delay cost 0.3,
rho = 0.9, prior (0.5, 0.5); SPSA on the symmetric threshold (tau = 0.02, 600
runs per evaluation, common random numbers). Reports the first iteration after
which the running average of the iterates stays within the lattice spacing of
the value-iteration threshold, the time to get there, and the total time.
Writes bench_control_spsa.json.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from control import StoppingProblem, optimize_threshold, value_iteration


def main() -> None:
    B = np.array([[0.7, 0.3], [0.3, 0.7]])
    prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    t_vi = value_iteration(prob, grid_size=20001).thresholds[0]
    k = np.arange(-40, 41)
    lat = np.sort(1 / (1 + np.exp(-k * np.log(0.7 / 0.3))))
    i = np.searchsorted(lat, t_vi)
    spacing = lat[i] - lat[i - 1]
    rows = []
    for seed in range(5):
        stamps: list[float] = []
        t0 = time.perf_counter()
        res = optimize_threshold(prob, [0.5, 0.5], kind="symmetric", tau=0.02, n_iter=150, n_runs=600, seed=seed,
                                 callback=lambda n, th, f, stamps=stamps: stamps.append(time.perf_counter()) and None)
        total = time.perf_counter() - t0
        th = res.threshold_history[1:, 0]
        avg = np.cumsum(th) / np.arange(1, th.size + 1)
        ok = np.abs(avg - t_vi) <= spacing
        bad = np.flatnonzero(~ok)
        first = int(bad[-1] + 1) if bad.size else 0
        reach = (stamps[first] - t0) if first < len(stamps) else float("nan")
        rows.append(dict(seed=seed, final=float(res.thresholds[0]),
                         within=bool(abs(res.thresholds[0] - t_vi) <= spacing),
                         iter_reached=first, time_reached_s=reach, total_s=total))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\nVI threshold {t_vi:.5f}, lattice spacing {spacing:.4f}")
    print(f"{'seed':>4} {'SPSA t':>8} {'within':>7} {'iter':>5} {'t_reach':>8} {'total':>7}")
    for r in rows:
        print(f"{r['seed']:>4} {r['final']:8.5f} {str(r['within']):>7} {r['iter_reached']:>5} "
              f"{r['time_reached_s']:8.2f} {r['total_s']:7.2f}")
    Path(__file__).with_suffix(".json").write_text(json.dumps(
        {"machine_note": "shared 2-core machine, timings noisy", "vi_threshold": t_vi, "spacing": spacing,
         "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
