"""Macro benchmarks: rule-based economy speed, the regret study, and (with --llm) LLM households.

    python benchmarks/bench_macro.py                 # rule-based 100 x 240 (5 seeds) + one regret seed
    python benchmarks/bench_macro.py --llm           # + LLM households on the default model (20 x 6)
    python benchmarks/bench_macro.py --llm-only --agents 100 --months 24   # the issue-17 target size only
    python benchmarks/bench_macro.py --llm-only --agents 20 --months 2 --method generate   # the first version

Targets (2 cores): rule-based under 5 s per seed; LLM households 100 x 24 on the default
model (SmolLM2-135M-Instruct, CPU float32) under 10 min, all households of a month in one
batched call, and a rerun from the cache under 30 s. LLM households use the policy's
defaults: decisions scored as grid choices with ``choice_probs`` (``--method choice``, what
``auto`` picks for the local model), one month of memory, no reflections.

The machine may be shared: the load average (``os.getloadavg``) before and after each case is
recorded, together with the process CPU time, and, after the cold LLM run, the plain prefill
speed of the model right then (``prefill_tokens_per_s_16x128``: one forward pass over 16 x 128
tokens; about 370 tokens/s on the idle machine), so a run on a busy machine can be scaled.
When the full size cannot be measured cleanly, run a smaller size; ``extrapolated_100x24_s``
scales the measured seconds per household-month linearly to 100 x 24 and says so.
Model work per decision: ``tokens_per_decision`` counts the prompt tokens after the prefix
shared by all prompts of a call plus the choices' tokens after their first (an upper bound
for a backend that shares longer prefixes between groups of prompts), or, for generated
decisions, every prompt token plus ``max_tokens``; ``scored_tokens_computed_per_decision`` is
what the backend reports it computed (``n_tokens_computed``), where it counts.
Prints a table and writes bench_macro.json next to this file (cases not run keep their last row).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_chain import raw_speed  # benchmarks/ is on sys.path when this runs as a script

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


def _fresh_tokens(backend, calls: list[tuple[str, list, Any]]) -> dict:
    """Tokens the model had to encode per decision, from the recorded calls.

    choice_probs: each prompt's tokens after the prefix shared by all prompts of the call
    (the backend encodes that prefix once) plus the choices' token-trie nodes after their
    first token; complete_batch: every prompt token plus ``max_tokens`` generated (an upper
    bound: generation stops at the end-of-turn token). The shared prefixes are reported apart.
    """
    tok = backend.tokenizer

    def common_prefix_len(seqs: list[list[int]]) -> int:
        k = 0
        while all(len(x) > k for x in seqs) and len({x[k] for x in seqs}) == 1:
            k += 1
        return k

    def enc(m):
        return list(tok(backend.render(m), add_special_tokens=False)["input_ids"])

    fresh = {"decide": 0, "reflect": 0, "vote": 0}
    n = {"decide": 0, "reflect": 0, "vote": 0}
    shared = 0
    for kind, prompts, extra in calls:
        ids = [enc(m) for m in prompts]
        if kind == "choice":
            p0 = min(common_prefix_len(ids), min(len(x) for x in ids) - 1) if len(ids) > 1 else 0
            text = backend.render(prompts[0])
            nodes = {tuple(backend.choice_tokens(text, ids[0], c)[:-1]) for c in extra}
            trie = len({t[:k] for t in nodes for k in range(1, len(t) + 1)})
            what = "vote" if extra == ["Yes", "No"] else "decide"
            fresh[what] += sum(len(x) - p0 + trie for x in ids)
            n[what] += len(ids)
            shared += p0
        else:
            what = "reflect" if "reflect" in prompts[0][-1]["content"] else "decide"
            fresh[what] += sum(len(x) for x in ids) + extra * len(ids)
            n[what] += len(ids)
    out = {"tokens_per_decision": fresh["decide"] / max(n["decide"], 1),
           "tokens_per_household_month": sum(fresh.values()) / max(n["decide"], 1),
           "shared_prefix_tokens_total": shared}
    if n["reflect"]:
        out["tokens_per_reflection"] = fresh["reflect"] / n["reflect"]
    return out


def bench_llm(n: int, months: int, reflections: int | None = None, method: str = "auto",
              memory: int | None = None, separator: str = "", tokens: bool = True) -> list[dict]:
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
            pol = LLMHouseholds(backend, method=method, memory=memory, reflection_interval=reflections,
                                separator=separator)
            calls: list[tuple[str, list, Any]] = []
            orig_c, orig_p = backend.complete_batch, backend.choice_probs

            def counting(prompts, _orig=orig_c, _calls=calls, **kw):
                _calls.append(("complete", list(prompts), kw.get("max_tokens", 16)))
                return _orig(prompts, **kw)

            def counting_choice(prompts, choices, _orig=orig_p, _calls=calls, **kw):
                _calls.append(("choice", list(prompts), list(choices)))
                return _orig(prompts, choices, **kw)

            # count the batched calls per month (one per month, plus one per reflection or vote)
            backend.complete_batch = counting
            backend.choice_probs = counting_choice
            res = Economy(cfg, pol, seed=0).run(progress=False)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            st = res.policy_stats
            row = {"case": label, "method": pol.method, "decision_rule": pol.decision_rule,
                   "choices": f"{len(pol.choices)} like {pol.choices[-1]!r}",
                   "memory": pol.memory, "reflection_interval": pol.reflection_interval,
                   "seconds": dt, "cpu_s": cpu, "target_s": target,
                   "model_calls": st["model_calls"], "replies": st["n_replies"],
                   "parse_failures": st["n_parse_failures"], "batched_calls": len(calls),
                   "prompts_per_call": sorted({len(c[1]) for c in calls}),
                   "torch_threads": getattr(backend, "num_threads", None) if backend.loaded else None,
                   "load_before": load0, "load_after": _load()}
            if "cold" in label:
                for k in ("mean_top_prob", "expected_work_sd", "expected_consumption_sd"):
                    if k in st:
                        row[k] = st[k]
                row["employment"] = float(res.monthly["employment"].mean())
                row["distinct_decisions"] = int(len({(round(w, 9), round(c, 9)) for w, c in zip(
                    res.households["work_propensity"].ravel(), res.households["consumption_share"].ravel(),
                    strict=True)}))
                row["seconds_per_household_month"] = dt / (n * months)
                row["cpu_s_per_household_month"] = cpu / (n * months)
                row["extrapolated_100x24_s"] = dt / (n * months) * 2400
                row["extrapolation"] = ("linear in household-months from the measured size"
                                        if (n, months) != (100, 24) else "none (measured at full size)")
                row["model_load_s"] = getattr(backend, "load_seconds", None)
                computed = getattr(backend, "n_tokens_computed", None)  # choice scoring, where counted
                if computed is not None:
                    row["scored_tokens_computed_per_decision"] = computed / (n * months)
                if tokens:
                    row.update(_fresh_tokens(backend, calls))
                    # what one decision costs in model work: the run's fresh tokens over its time
                    row["fresh_tokens_per_s"] = (row["tokens_per_household_month"] * n * months
                                                 / max(dt - (row["model_load_s"] or 0.0), 1e-9))
                if backend.loaded:
                    row["prefill_tokens_per_s_16x128"] = raw_speed(backend)
                    row["load_after_calibration"] = _load()
            out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", action="store_true", help="also run the (slow) default-model benchmark")
    ap.add_argument("--agents", type=int, default=20, help="LLM households (default 20; target size 100)")
    ap.add_argument("--months", type=int, default=6, help="LLM months (default 6; target size 24)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--no-regret", action="store_true")
    ap.add_argument("--llm-only", action="store_true", help="skip the rule-based and regret cases")
    ap.add_argument("--method", choices=["auto", "choice", "generate"], default="auto",
                    help="LLM decisions: scored grid choices (auto with the local model) or generated JSON")
    ap.add_argument("--memory", type=int, default=None,
                    help="months of history in each LLM prompt (default: the policy's, 1 for choice, 3 for generate)")
    ap.add_argument("--reflections", type=int, default=None,
                    help="LLM reflection interval in months (default: the policy's, 0 for choice, 3 for generate)")
    ap.add_argument("--separator", default="", help="text between the two digits of a scored reply (default none)")
    args = ap.parse_args()
    rows = [] if args.llm_only else [bench_rule(args.seeds)]
    if not (args.no_regret or args.llm_only):
        rows.append(bench_regret_seed())
    if args.llm or args.llm_only:
        rows += bench_llm(args.agents, args.months, args.reflections, args.method, args.memory, args.separator)
    for r in rows:
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    # Cases not run this time keep their last measurement (e.g. --llm-only keeps the rule-based rows).
    path = Path(__file__).with_name("bench_macro.json")
    kinds = ("rule-based", "regret", "LLM")
    ran = {k for k in kinds for r in rows if r["case"].startswith(k)}
    old = json.loads(path.read_text()) if path.exists() else []
    kept = [r for r in old if not any(r.get("case", "").startswith(k) for k in ran)]
    path.write_text(json.dumps(kept + rows, indent=1))


if __name__ == "__main__":
    main()
