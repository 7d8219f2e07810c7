"""Speed of the herding pipelines (issue 7 targets: reproduce < 10 min, herd < 5 min on 2 cores).

Measures, on the real Mistral-7B replies when ../shared/data/mhs_mistral is present (the bundled
synthetic readings otherwise):

1. the reveal-policy chain simulator (agent-steps/s) against a plain Python loop over agents
   doing the same Bayes / social-learning updates;
2. ``analyze_herding`` (six states, default parameters) and ``analyze_control`` (binary);
3. the whole ``reproduce`` run.

Run: ``python benchmarks/bench_herd.py [--skip-reproduce]``; prints a table and writes
``benchmarks/bench_herd.json``. Timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def python_loop(model, prior, gamma, n_agents, n_runs, pools, seed):
    """Reference: one run and one agent at a time, the same rules as simulate_reveal_policy."""
    rng = np.random.default_rng(seed)
    B = model.likelihood
    correct = 0
    for _ in range(n_runs):
        pi = np.array(prior, dtype=float)
        x = 1
        for _ in range(n_agents):
            y = int(pools[x][rng.integers(len(pools[x]))])
            if pi[0] < gamma:
                a = y
                pi = pi * B[:, y]
                pi /= pi.sum()
            else:
                D = model.decision_probs(pi)
                a = int(rng.choice(model.n_actions, p=D[y]))
                pi = model.public_update(pi, a)
            correct += a == x
    return correct


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-reproduce", action="store_true")
    args = ap.parse_args()
    from llmsl.herd.analysis import analyze_herding
    from llmsl.herd.control_analysis import analyze_control
    from llmsl.herd.reproduction import _load_sensors, find_mistral_data, reproduce
    from sociallearn import SocialLearningModel, estimate_likelihood, simulate_reveal_policy

    data = find_mistral_data()
    six, two, src = _load_sensors(data)
    rows: list[tuple[str, float | None, float]] = []
    est = estimate_likelihood(two.states, two.observations, 2, 2)
    model = SocialLearningModel(est.mean, cost=1 - np.eye(2))
    pools = two.pools()

    n_loop_runs, n_agents = 20, 100
    t = time.perf_counter()
    python_loop(model, [0.6, 0.4], 0.5, n_agents, n_loop_runs, pools, 0)
    t_loop = time.perf_counter() - t
    rate_loop = n_loop_runs * n_agents / t_loop
    rows.append(("python loop, reveal policy (X=Y=A=2)", rate_loop, t_loop))

    n_runs = 100_000
    t = time.perf_counter()
    simulate_reveal_policy(model, [0.6, 0.4], lambda pi: pi[:, 0] < 0.5, n_agents, n_runs, true_state=1,
                           observations=pools, seed=0)
    t_vec = time.perf_counter() - t
    rate_vec = n_runs * n_agents / t_vec
    rows.append(("simulate_reveal_policy, 100k runs (X=Y=A=2)", rate_vec, t_vec))

    t = time.perf_counter()
    analyze_herding(six, seed=0)
    rows.append(("analyze_herding, 6 states, defaults", None, time.perf_counter() - t))
    t = time.perf_counter()
    analyze_control(two, seed=0)
    rows.append(("analyze_control, binary, defaults", None, time.perf_counter() - t))
    if not args.skip_reproduce:
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            reproduce(data, progress=False).save(Path(d) / "r")
            rows.append(("llmsl reproduce (full)", None, time.perf_counter() - t))

    print(f"data: {src['kind']}")
    print(f"{'what':<48}{'agent-steps/s':>16}{'seconds':>10}")
    for name, rate, sec in rows:
        print(f"{name:<48}{(f'{rate:,.0f}' if rate else '-'):>16}{sec:>10.2f}")
    speedup = rate_vec / rate_loop
    print(f"vectorized / loop speed-up: {speedup:,.0f}x")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps({"data": src["kind"], "rows": [{"what": n, "agent_steps_per_s": r, "seconds": s}
                                                             for n, r, s in rows], "speedup": speedup}, indent=2))


if __name__ == "__main__":
    main()
