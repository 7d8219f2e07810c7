"""Macro benchmarks: rule-based economy speed, and (with --llm) the LLM-household run.

    python benchmarks/bench_macro.py            # 100 households x 240 months, 5 seeds
    python benchmarks/bench_macro.py --llm      # + 10 LLM households x 24 months on the
                                                #   default model, cold cache then rerun

Targets (2 cores): rule-based under 5 s per seed; LLM run under 10 min, rerun from
cache under 30 s. Prints a table and writes bench_macro.json next to this file.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from macro import Economy, EconomyConfig, RuleHouseholds


def bench_rule(n_seeds: int = 5) -> dict:
    cfg = EconomyConfig(n_households=100, n_months=240)
    times = []
    for s in range(n_seeds):
        t0 = time.perf_counter()
        res = Economy(cfg, RuleHouseholds("composite"), seed=s).run()
        times.append(time.perf_counter() - t0)
        res.check_accounting()
    return {"case": "rule-based 100 x 240", "seeds": n_seeds, "median_s": statistics.median(times),
            "max_s": max(times), "target_s": 5.0}


def bench_llm() -> list[dict]:
    import llmas
    from macro.llm_households import LLMHouseholds

    cfg = EconomyConfig(n_households=10, n_months=24)
    out = []
    with tempfile.TemporaryDirectory() as d:
        cache = llmas.ResponseCache(Path(d) / "cache.sqlite")
        for label, target in (("LLM 10 x 24, cold cache", 600.0), ("LLM 10 x 24, rerun from cache", 30.0)):
            t0 = time.perf_counter()
            backend = llmas.default_backend(cache=cache)
            pol = LLMHouseholds(backend)
            res = Economy(cfg, pol, seed=0).run(progress=True)
            dt = time.perf_counter() - t0
            st = res.policy_stats
            out.append({"case": label, "seconds": dt, "target_s": target, "model_calls": st["model_calls"],
                        "replies": st["n_replies"], "parse_failures": st["n_parse_failures"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", action="store_true", help="also run the (slow) default-model benchmark")
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    rows = [bench_rule(args.seeds)]
    if args.llm:
        rows += bench_llm()
    for r in rows:
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    Path(__file__).with_name("bench_macro.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
