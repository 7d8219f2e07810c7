"""Macro benchmarks: rule-based economy speed, the regret study, and (with --llm) LLM households.

    python benchmarks/bench_macro.py                 # rule-based 100 x 240 (5 seeds) + one regret seed
    python benchmarks/bench_macro.py --llm           # + LLM households on the default model
    python benchmarks/bench_macro.py --llm --agents 100 --months 24     # the issue-17 target size

Targets (2 cores): rule-based under 5 s per seed; LLM households 100 x 24 on the default
model (SmolLM2-135M-Instruct) under 10 min, all households of a month in one batched call
(``complete_batch``; the backend's ``batch_size`` is set to the number of households so one
month is one forward batch), and a rerun from the cache under 30 s.

The machine may be shared: the load average (``os.getloadavg``) before and after each case is
recorded, together with the process CPU time. When the full size cannot be measured cleanly,
run a smaller size; ``extrapolated_100x24_s`` scales the measured seconds per household-month
(decisions and reflections included) linearly to 100 x 24 and says so.
Prints a table and writes bench_macro.json next to this file.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from macro import Economy, EconomyConfig, RuleHouseholds


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def bench_rule(n_seeds: int = 5) -> dict:
    cfg = EconomyConfig(n_households=100, n_months=240)
    times, cpu = [], []
    load0 = _load()
    for s in range(n_seeds):
        t0, c0 = time.perf_counter(), time.process_time()
        res = Economy(cfg, RuleHouseholds("composite"), seed=s).run()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        res.check_accounting()
    return {"case": "rule-based 100 x 240", "seeds": n_seeds, "median_s": statistics.median(times),
            "max_s": max(times), "median_cpu_s": statistics.median(cpu), "target_s": 5.0,
            "load_before": load0, "load_after": _load()}


def bench_regret_seed() -> dict:
    """One seed of the default regret study (11 fixed schedules + 10 bandit planners, 100 x 240)."""
    from macro.bandit import regret_curves

    load0 = _load()
    t0, c0 = time.perf_counter(), time.process_time()
    regret_curves(EconomyConfig(n_households=100, n_months=240), RuleHouseholds, seeds=[0, 1], period=6, n_boot=10)
    dt, cpu = (time.perf_counter() - t0) / 2, (time.process_time() - c0) / 2
    return {"case": "regret study, per seed (21 runs of 100 x 240)", "seconds": dt, "cpu_s": cpu,
            "load_before": load0, "load_after": _load()}


def bench_llm(n: int, months: int, reflections: int = 3) -> list[dict]:
    import llmas
    from macro.llm_households import LLMHouseholds

    cfg = EconomyConfig(n_households=n, n_months=months)
    out = []
    with tempfile.TemporaryDirectory() as d:
        cache = llmas.ResponseCache(Path(d) / "cache.sqlite")
        for label, target in ((f"LLM {n} x {months}, cold cache", 600.0 * n * months / 2400),
                              (f"LLM {n} x {months}, rerun from cache", 30.0)):
            load0 = _load()
            t0, c0 = time.perf_counter(), time.process_time()
            backend = llmas.default_backend(cache=cache, batch_size=max(16, n))
            pol = LLMHouseholds(backend, reflection_interval=reflections)
            calls: list[int] = []
            orig = backend.complete_batch

            def counting(prompts, _orig=orig, _calls=calls, **kw):
                _calls.append(len(prompts))
                return _orig(prompts, **kw)

            backend.complete_batch = counting  # count the batched calls per month
            res = Economy(cfg, pol, seed=0).run(progress=False)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            st = res.policy_stats
            row = {"case": label, "seconds": dt, "cpu_s": cpu, "target_s": target,
                   "model_calls": st["model_calls"], "replies": st["n_replies"],
                   "parse_failures": st["n_parse_failures"], "batched_calls": len(calls),
                   "prompts_per_call": sorted(set(calls)), "torch_threads": getattr(backend, "num_threads", None),
                   "load_before": load0, "load_after": _load()}
            if "cold" in label:
                row["seconds_per_household_month"] = dt / (n * months)
                row["extrapolated_100x24_s"] = dt / (n * months) * 2400
                row["extrapolation"] = ("linear in household-months from the measured size"
                                        if (n, months) != (100, 24) else "none (measured at full size)")
            out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", action="store_true", help="also run the (slow) default-model benchmark")
    ap.add_argument("--agents", type=int, default=20, help="LLM households (default 20; target size 100)")
    ap.add_argument("--months", type=int, default=6, help="LLM months (default 6; target size 24)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-regret", action="store_true")
    args = ap.parse_args()
    rows = [bench_rule(args.seeds)]
    if not args.no_regret:
        rows.append(bench_regret_seed())
    if args.llm:
        rows += bench_llm(args.agents, args.months)
    for r in rows:
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    Path(__file__).with_name("bench_macro.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
