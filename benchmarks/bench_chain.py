"""Speed of ``llmsl chain`` on the embedded default model (issue 15 target: 200 chains x 20 agents < 10 min, 2 cores).

Steps, each timed on the default SmolLM2-135M-Instruct (transformers backend, a fresh response cache):

1. the labels without history (``label_corpus``, 60 bundled texts x 5 questions; includes the model load);
2. ``run_chains`` at the measured size (``--chains`` x ``--agents``): model calls versus R x N
   (the prefix tree over histories), and the tokens the model computed (``n_tokens_computed``: the
   backend computes each distinct token prefix once and keeps its keys/values between calls);
3. the analysis and the report;
4. the same run again from the cache (zero model calls);
5. the raw speed of the model on this machine now (one batched forward pass, 16 x 128 tokens);
6. the tokens the target run computes, counted without the model: ``run_chains`` at the target size
   on a replay backend whose agents act independently with the measured mean action probabilities
   (the default model's decisions barely depend on the history), inserting each prompt's tokens in a
   trie (the backend's prefix store); the same count on the measured run's own prompts checks it
   against the measured token count;
7. the analysis at the target size on scripted agents (its cost does not depend on the model).

When the measured size is below the target (``--chains 200 --agents 20`` measures it directly),
the target time is extrapolated, and printed as such: labelling (measured) + the target's tokens
(step 6) x the measured seconds per computed token of step 2 + the analysis at the target size.
Tokens per agent decision are reported beside the tokens of the prompts themselves (what a run
without any shared prefix computes: the peer). The machine's load average is printed with the
timings: the machine is shared and the numbers are noisy (on a busy machine, ``LLMSL_NUM_THREADS=1``
avoids spinning threads).

Run: ``python benchmarks/bench_chain.py [--chains 40 --agents 20]``; prints a table and writes
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

from llmas.backends.base import Backend


class TokenTrie:
    """Distinct token prefixes of the sequences inserted (the nodes the backend's prefix store computes)."""

    def __init__(self) -> None:
        self.root: dict = {}
        self.nodes = 0
        self.plain = 0
        self.distinct = 0  # distinct prompts of the run (set by the caller)

    def insert(self, ids: list[int]) -> None:
        node = self.root
        self.plain += len(ids)
        for t in ids:
            nxt = node.get(t)
            if nxt is None:
                nxt = node[t] = {}
                self.nodes += 1
            node = nxt


class ReplayAgents(Backend):
    """Agents that act independently with fixed probabilities; counts the tokens of the prompts they get.

    Each prompt is rendered and tokenized as ``model`` (a loaded TransformersBackend) would, and inserted
    in a :class:`TokenTrie`: its node count is what the model's prefix store computes for these prompts
    (one-token choices; no eviction).
    """

    name = "replay"
    supports_logprobs = True

    def __init__(self, probs, model) -> None:
        super().__init__("replay", cache=False)
        self.logp = np.log(np.asarray(probs, dtype=float)).tolist()
        self.lm = model
        self.trie = TokenTrie()

    def count(self, messages) -> None:
        self.trie.insert(self.lm._encode(self.lm.render(messages)))

    def _choice_missing(self, requests, store) -> None:
        for i, r in enumerate(requests):
            self.count(r["messages"])
            store(i, {"logprobs": self.logp})

    def _complete_missing(self, requests, store) -> None:
        raise NotImplementedError


def replay_tokens(model, task, corpus, run) -> TokenTrie:
    """The trie of the prompts that ``run`` (a measured ChainRun) sent, position by position."""
    env = task.environments[0]
    trie = ReplayAgents([0.5, 0.5], model)
    for k in range(run.data.n_agents):
        seen = set()
        for r in range(run.data.n_chains):
            msgs = task.chain_prompt(corpus, int(run.texts[r, k]), env, run.data.actions[r, :k])
            key = json.dumps(msgs)
            if key not in seen:
                seen.add(key)
                trie.count(msgs)
    return trie.trie


def raw_speed(model, batch: int = 16, length: int = 128) -> float:
    """Tokens per second of a plain batched forward pass over ``batch`` x ``length`` random tokens (no sharing,
    no cache; best of two after a warm-up): the machine's speed right now, for scaling a run on a busy machine
    (about 370 tokens/s for 16 x 128 with the default model on the idle 2-core machine)."""
    import torch

    ids = torch.randint(100, 1000, (batch, length), generator=torch.Generator().manual_seed(0))
    best = float("inf")
    with torch.inference_mode():
        model.hf_model(input_ids=ids[:2, :8], use_cache=False, logits_to_keep=1)  # warm up
        for _ in range(2):
            t = time.perf_counter()
            model.hf_model(input_ids=ids, use_cache=False, logits_to_keep=1)
            best = min(best, time.perf_counter() - t)
    return batch * length / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chains", type=int, default=40, help="chains of the measured run")
    ap.add_argument("--agents", type=int, default=20, help="agents per chain of the measured run")
    ap.add_argument("--target-chains", type=int, default=200)
    ap.add_argument("--target-agents", type=int, default=20)
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
        label_calls, label_tokens = backend.n_calls, backend.n_tokens_computed
        rows.append({"what": "labels without history (60 texts x 5 questions, includes model load)",
                     "seconds": timing["label"], "cpu_seconds": time.process_time() - c, "model_calls": label_calls,
                     "tokens": label_tokens})
        t, c = time.perf_counter(), time.process_time()
        run = run_chains(backend, task, corpus, n_chains=args.chains, n_agents=args.agents, text_slots=args.slots,
                         seed=12345)
        timing["chains"] = time.perf_counter() - t
        chain_cpu = time.process_time() - c
        chain_tokens = backend.n_tokens_computed - label_tokens
        rows.append({"what": f"run_chains {args.chains} x {args.agents} (cold)", "seconds": timing["chains"],
                     "cpu_seconds": chain_cpu, "model_calls": run.model_calls,
                     "agent_decisions": run.n_agent_decisions, "tokens": chain_tokens})
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
    raw = raw_speed(backend)
    rows.append({"what": "raw model speed: one forward pass, 16 x 128 tokens (tokens/s)", "seconds": raw})
    s_token = timing["chains"] / max(chain_tokens, 1)
    c_token = chain_cpu / max(chain_tokens, 1)
    # the tokens of the measured run, counted without the model (checks the count below)
    replayed = replay_tokens(backend, task, corpus, run)
    # the target run on agents that ignore the history (the default model nearly does)
    R, N = args.target_chains, args.target_agents
    p_mean = np.asarray(run.data.targets().mean(axis=(0, 1)))
    sim: dict[str, TokenTrie] = {}
    for name, p in (("measured_probs", p_mean), ("coin_flips", np.array([0.5, 0.5]))):
        agents = ReplayAgents(p, backend)
        sim_run = run_chains(agents, task, corpus, n_chains=R, n_agents=N, text_slots=args.slots, seed=12345)
        sim[name] = agents.trie
        sim[name].distinct = sim_run.n_distinct_prompts
    # the analysis at the target size (scripted agents: same data shapes, no model)
    agent = scripted_backend("bayes", [[0.8, 0.2], [0.3, 0.7]], corpus, epsilon=0.05)
    big = run_chains(agent, task, corpus, n_chains=R, n_agents=N, text_slots=args.slots, seed=0)
    sens = label_corpus(agent, task, corpus, labels="binary", mode="logprobs")
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        chain_report(analyze_chain_run(big, sens, seed=0)).save(Path(tmp) / "rep")
    timing["analysis_target"] = time.perf_counter() - t
    rows.append({"what": f"analysis + report {R} x {N} (scripted data)", "seconds": timing["analysis_target"]})
    measured_full = (args.chains, args.agents) == (R, N)
    target_tokens = sim["measured_probs"].nodes
    if measured_full:
        est = timing["label"] + timing["chains"] + timing["analysis"]
        kind = "measured"
    else:
        est = timing["label"] + target_tokens * s_token + timing["analysis_target"]
        kind = "EXTRAPOLATED (target tokens counted on replayed agents x measured seconds per token)"
    worst = timing["label"] + sim["coin_flips"].nodes * s_token + timing["analysis_target"]
    peer = timing["label"] + sim["measured_probs"].plain * s_token + timing["analysis_target"]
    load1 = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load average "
          f"{load0[0]:.1f} (start) / {load1[0]:.1f} (end)")
    print(f"{'what':<72}{'seconds':>10}{'CPU s':>10}{'model calls':>13}{'tokens':>9}")
    for r in rows:
        cs = r.get("cpu_seconds")
        print(f"{r['what']:<72}{r['seconds']:>10.3f}{'' if cs is None else f'{cs:.3f}':>10}"
              f"{r.get('model_calls', ''):>13}{r.get('tokens', ''):>9}")
    D = run.n_agent_decisions
    print(f"measured run: {run.n_distinct_prompts} distinct prompts ({run.model_calls} model calls) for {D} agent "
          f"decisions ({run.calls_saved} saved by the prefix tree); tokens computed {chain_tokens} "
          f"({chain_tokens / D:.1f} per decision; the prompts hold {replayed.plain / D:.1f} per decision; "
          f"counted on replay: {replayed.nodes}); {s_token * 1e3:.2f} ms ({c_token * 1e3:.2f} CPU-ms) per token; "
          f"sensor informative: {study.informative}; verdict: {rep.verdict.label}")
    m = sim["measured_probs"]
    print(f"{R} x {N}: agents acting with the measured mean probabilities {p_mean.round(3).tolist()} send "
          f"{m.distinct} distinct prompts (of {R * N}), {m.nodes} tokens to compute ({m.nodes / (R * N):.1f} per "
          f"decision; the prompts hold {m.plain / (R * N):.1f})")
    print(f"{R} x {N} on the default model: {est / 60:.1f} min wall at this load ({kind}); "
          f"its chains alone {target_tokens * c_token / 120:.1f} min on 2 idle cores (CPU time / 2); "
          f"histories of coin flips (most distinct prompts): {worst / 60:.1f} min; "
          f"without shared prefixes ~{peer / 60:.1f} min (ratio {peer / est:.2f}x)")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps({
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "load_average_start": load0, "load_average_end": load1},
        "measured_size": [args.chains, args.agents], "target_size": [R, N], "rows": rows,
        "raw_tokens_per_second": raw,
        "measured_run": {"distinct_prompts": run.n_distinct_prompts, "agent_decisions": D,
                         "calls_saved": run.calls_saved, "distinct_per_position": run.distinct_prompts,
                         "tokens_computed": chain_tokens, "tokens_per_decision": chain_tokens / D,
                         "prompt_tokens_per_decision": replayed.plain / D, "tokens_counted_on_replay": replayed.nodes,
                         "informative": study.informative, "verdict": rep.verdict.label,
                         "headline": rep.verdict.headline},
        "seconds_per_token": s_token, "cpu_seconds_per_token": c_token, "mean_action_probs": p_mean.tolist(),
        "target": {"kind": kind, "estimate_s": est, "tokens": target_tokens,
                   "tokens_per_decision": target_tokens / (R * N), "distinct_prompts": m.distinct,
                   "prompt_tokens_per_decision": m.plain / (R * N),
                   "idle_2_core_estimate_s": target_tokens * c_token / 2,
                   "coin_flip_histories": {"tokens": sim["coin_flips"].nodes,
                                           "distinct_prompts": sim["coin_flips"].distinct, "estimate_s": worst},
                   "no_shared_prefix_estimate_s": peer, "speedup_vs_no_shared_prefix": peer / est}}, indent=2))


if __name__ == "__main__":
    main()
