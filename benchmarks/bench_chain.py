"""Speed of ``llmsl chain`` on the embedded default model (issue 15 target: 200 chains x 20 agents < 10 min, 2 cores).

Steps, each timed on the default SmolLM2-135M-Instruct (transformers backend, a fresh response cache):

1. the labels without history (``label_corpus``, 60 bundled texts x 5 questions);
2. ``run_chains`` at the measured size (``--chains`` x ``--agents``): model calls versus R x N
   (the prefix tree over histories);
3. the analysis and the report;
4. the same run again from the cache (zero model calls);
5. a probe of the cost of one chain prompt, uncached, at the first position (shortest prompt)
   and at position ``--target-agents`` (longest prompt);
6. the analysis at the target size on scripted agents (its cost does not depend on the model).

When the measured size is below the target (``--chains 200 --agents 20`` measures it directly),
the target time is extrapolated, and printed as such: labelling (measured) + the largest number
of distinct prompts the prefix tree can have at the target size (``sum_k min(R, X S A^(k-1))``)
x the mean probed cost per prompt + the analysis at the target size. The peer is the same run
without shared prompts (R x N model calls). The machine's load average is printed with the
timings: the machine is shared and the numbers are noisy.

Run: ``python benchmarks/bench_chain.py [--chains 20 --agents 10]``; prints a table and writes
``benchmarks/bench_chain.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def tree_bound(n_chains: int, n_agents: int, n_states: int, slots: int, n_actions: int) -> int:
    """Largest number of distinct prompts: at position k, min(R, X S A^(k-1)) (full history)."""
    return int(sum(min(n_chains, n_states * slots * n_actions ** k) for k in range(n_agents)))


def simulated_distinct(n_chains: int, n_agents: int, slots: int, p_action: np.ndarray, n_rep: int = 10,
                       seed: int = 0) -> float:
    """Mean number of distinct full-history prompts when every agent acts independently with ``p_action``.

    A model whose decisions barely depend on the history (the embedded default) is such an agent; its prefix
    tree is what this counts (states and slots allocated as :func:`llmsl.chain.run_chains` does).
    """
    from llmsl.chain.pipeline import allocate_states

    rng = np.random.default_rng(seed)
    states = allocate_states(n_chains, np.full(2, 0.5))
    slot = np.concatenate([np.arange((states == x).sum()) % slots for x in (0, 1)])
    total = 0
    for _ in range(n_rep):
        a = (rng.random((n_chains, n_agents)) < p_action[1]).astype(np.int64)
        for k in range(n_agents):
            total += len({(int(states[r]), int(slot[r]), a[r, :k].tobytes()) for r in range(n_chains)})
    return total / n_rep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chains", type=int, default=20, help="chains of the measured run")
    ap.add_argument("--agents", type=int, default=10, help="agents per chain of the measured run")
    ap.add_argument("--target-chains", type=int, default=200)
    ap.add_argument("--target-agents", type=int, default=20)
    ap.add_argument("--probe", type=int, default=16, help="prompts per probe of the per-prompt cost")
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--label-cache", default=None, metavar="FILE",
                    help="response cache that already holds the labels (their cold cost is then not measured here)")
    args = ap.parse_args()

    import torch

    from llmas.backends.factory import make_backend
    from llmas.cache import ResponseCache
    from llmas.tasks import get_task
    from llmsl.chain import analyze_chain_run, chain_report, run_chains, scripted_backend
    from llmsl.herd import label_corpus

    load0 = os.getloadavg()
    task = get_task("hate_speech")
    corpus = task.load_corpus()
    rows: list[dict] = []
    timing: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cpath = Path(args.label_cache) if args.label_cache else Path(tmp) / "c.sqlite"
        backend = make_backend(None, cache=ResponseCache(cpath))
        t, c = time.perf_counter(), time.process_time()
        sensor = label_corpus(backend, task, corpus, labels="binary", mode="logprobs")
        timing["label"] = time.perf_counter() - t
        label_calls = backend.n_calls
        rows.append({"what": "labels without history (60 texts x 5 questions, includes model load)",
                     "seconds": timing["label"], "cpu_seconds": time.process_time() - c, "model_calls": label_calls})
        t, c = time.perf_counter(), time.process_time()
        run = run_chains(backend, task, corpus, n_chains=args.chains, n_agents=args.agents, text_slots=args.slots,
                         seed=12345)
        timing["chains"] = time.perf_counter() - t
        rows.append({"what": f"run_chains {args.chains} x {args.agents} (cold)", "seconds": timing["chains"],
                     "cpu_seconds": time.process_time() - c, "model_calls": run.model_calls,
                     "agent_decisions": run.n_agent_decisions})
        t = time.perf_counter()
        study = analyze_chain_run(run, sensor, seed=0)
        rep = chain_report(study)
        rep.save(Path(tmp) / "rep")
        timing["analysis"] = time.perf_counter() - t
        rows.append({"what": f"analysis + report {args.chains} x {args.agents}", "seconds": timing["analysis"]})
        warm = make_backend(None, cache=ResponseCache(cpath))
        t = time.perf_counter()
        label_corpus(warm, task, corpus, labels="binary", mode="logprobs")
        run2 = run_chains(warm, task, corpus, n_chains=args.chains, n_agents=args.agents, text_slots=args.slots,
                          seed=12345)
        timing["warm"] = time.perf_counter() - t
        rows.append({"what": "labels + chains again from the cache", "seconds": timing["warm"],
                     "model_calls": warm.n_calls})
        assert run2.model_calls == 0 and np.array_equal(run2.data.actions, run.data.actions)
        # per-prompt cost, uncached, shortest and longest chain prompts
        probe = make_backend(None, cache=False)
        rng = np.random.default_rng(1)
        env = task.environments[0]
        choices = list(task.chain_choices("binary"))
        probe.choice_probs([task.chain_prompt(corpus, 0, env, [])], choices)  # load the model outside the timing
        cost: dict[int, float] = {}
        cpu: dict[int, float] = {}
        for k in (0, args.target_agents - 1):
            prompts = [task.chain_prompt(corpus, int(rng.integers(len(corpus))), env,
                                         rng.integers(0, 2, size=k).tolist()) for _ in range(args.probe)]
            t, c = time.perf_counter(), time.process_time()
            probe.choice_probs(prompts, choices)
            cost[k] = (time.perf_counter() - t) / args.probe
            cpu[k] = (time.process_time() - c) / args.probe
            rows.append({"what": f"one chain prompt at position {k + 1} (uncached, batched)", "seconds": cost[k],
                         "cpu_seconds": cpu[k]})
    s_prompt = float(np.mean(list(cost.values())))
    c_prompt = float(np.mean(list(cpu.values())))
    # the analysis at the target size (scripted agents: same data shapes, no model)
    agent = scripted_backend("bayes", [[0.8, 0.2], [0.3, 0.7]], corpus, epsilon=0.05)
    big = run_chains(agent, task, corpus, n_chains=args.target_chains, n_agents=args.target_agents,
                     text_slots=args.slots, seed=0)
    sens = label_corpus(agent, task, corpus, labels="binary", mode="logprobs")
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        chain_report(analyze_chain_run(big, sens, seed=0)).save(Path(tmp) / "rep")
    timing["analysis_target"] = time.perf_counter() - t
    rows.append({"what": f"analysis + report {args.target_chains} x {args.target_agents} (scripted data)",
                 "seconds": timing["analysis_target"]})
    R, N = args.target_chains, args.target_agents
    measured_full = (args.chains, args.agents) == (R, N)
    bound = tree_bound(R, N, 2, args.slots, 2)
    if measured_full:
        est = timing["label"] + timing["chains"] + timing["analysis"]
        distinct = run.n_distinct_prompts
    else:
        distinct = bound
        est = timing["label"] + bound * s_prompt + timing["analysis_target"]
    peer = timing["label"] + R * N * s_prompt + timing["analysis_target"]
    p_mean = np.asarray(run.data.targets().mean(axis=(0, 1)))
    sim_distinct = simulated_distinct(R, N, args.slots, p_mean)
    est_sim = timing["label"] + sim_distinct * s_prompt + timing["analysis_target"]
    load1 = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load average "
          f"{load0[0]:.1f} (start) / {load1[0]:.1f} (end)")
    print(f"{'what':<72}{'seconds':>10}{'CPU s':>10}{'model calls':>13}")
    for r in rows:
        cs = r.get("cpu_seconds")
        print(f"{r['what']:<72}{r['seconds']:>10.3f}{'' if cs is None else f'{cs:.3f}':>10}"
              f"{r.get('model_calls', ''):>13}")
    print(f"measured run: {run.n_distinct_prompts} distinct prompts ({run.model_calls} model calls, the rest from "
          f"the cache) for {run.n_agent_decisions} agent decisions "
          f"({run.calls_saved} saved by the prefix tree); sensor informative: {study.informative}; "
          f"verdict: {rep.verdict.label}")
    kind = "measured" if measured_full else "EXTRAPOLATED (upper bound on distinct prompts)"
    print(f"{R} x {N} on the default model: {est / 60:.1f} min wall at this load ({kind}); distinct prompts "
          f"{distinct} (bound {bound}) vs R x N = {R * N}; without the prefix tree ~{peer / 60:.1f} min "
          f"(ratio {peer / est:.2f}x)")
    print(f"an agent that ignores the history and acts with the measured mean probabilities "
          f"{p_mean.round(3).tolist()} "
          f"has {sim_distinct:.0f} distinct prompts at {R} x {N}: {est_sim / 60:.1f} min wall at this load, "
          f"{sim_distinct * c_prompt / 120:.1f} min on 2 idle cores")
    cpu_est = distinct * c_prompt
    print(f"model CPU time of the chains at the target size: {cpu_est / 60:.1f} CPU-min "
          f"({c_prompt:.3f} CPU-s per prompt), i.e. about {cpu_est / 120:.1f} min of wall time on 2 idle cores "
          "when torch keeps both busy")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps({
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "load_average_start": load0, "load_average_end": load1},
        "measured_size": [args.chains, args.agents], "target_size": [R, N], "rows": rows,
        "measured_run": {"distinct_prompts": run.n_distinct_prompts, "agent_decisions": run.n_agent_decisions,
                         "calls_saved": run.calls_saved, "distinct_per_position": run.distinct_prompts,
                         "informative": study.informative, "verdict": rep.verdict.label,
                         "headline": rep.verdict.headline},
        "seconds_per_prompt": s_prompt, "cpu_seconds_per_prompt": c_prompt,
        "target_chain_cpu_seconds": distinct * c_prompt, "target_estimate_s": est,
        "mean_action_probs": p_mean.tolist(), "simulated_distinct_prompts": sim_distinct,
        "target_estimate_simulated_tree_s": est_sim, "target_cpu_seconds_simulated_tree": sim_distinct * c_prompt,
        "target_kind": kind,
        "target_distinct_prompts": distinct, "tree_bound": bound, "no_prefix_tree_estimate_s": peer,
        "speedup_vs_no_prefix_tree": peer / est}, indent=2))


if __name__ == "__main__":
    main()
