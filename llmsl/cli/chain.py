"""``llmsl chain``: chains of LLM agents that read each other's decisions; do they herd like Bayesian learners?"""
from __future__ import annotations

import argparse
import logging

from .options import add_common, nonnegative_float, positive_int, show_progress
from .readings import add_reading_arguments, build_sensor

log = logging.getLogger("llmsl")


def _prior(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated probabilities, got {text!r}") from None
    if any(not 0 <= v <= 1 for v in vals) or abs(sum(vals) - 1) > 1e-6:
        raise argparse.ArgumentTypeError(f"expected probabilities that sum to 1, got {text!r}")
    return vals


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_reading_arguments(parser, default_labels="binary")
    g = parser.add_argument_group("chains of agents")
    g.add_argument("--n-chains", type=positive_int, default=200, help="number of chains R (default: 200)")
    g.add_argument("--n-agents", type=positive_int, default=20, help="agents per chain N (default: 20)")
    g.add_argument("--history", choices=["full", "counts", "last"], default="full",
                   help="what an agent sees of the earlier decisions: every decision in order, how many took each "
                        "decision, or the last --last-m decisions (default: full)")
    g.add_argument("--last-m", type=positive_int, default=3, metavar="M",
                   help="decisions shown with --history last (default: 3)")
    g.add_argument("--prior", type=_prior, default=None, metavar="P0,P1,...",
                   help="share of chains in each state, also the public prior of the Bayesian benchmark "
                        "(default: uniform)")
    g.add_argument("--text-slots", type=positive_int, default=4, metavar="S",
                   help="independent text sequences per state; chains of one state and slot read the same text at "
                        "each position, so identical histories share prompts (default: 4)")
    g.add_argument("--environment", default=None, metavar="NAME",
                   help="task environment (system message) that frames the decision (default: the task's first)")
    g.add_argument("--tie-rule", choices=["uniform", "own_signal", "first"], default="uniform",
                   help="what a Bayesian agent of the benchmark does when decisions tie (default: uniform)")
    g.add_argument("--prior-strength", type=nonnegative_float, default=1.0,
                   help="Dirichlet pseudo-count per cell of the likelihood B (default: 1)")
    g.add_argument("--n-boot", type=positive_int, default=1000, help="bootstrap resamples of chains (default: 1000)")
    g.add_argument("--n-sim", type=positive_int, default=4000,
                   help="simulated Bayesian chains for the predicted herding statistics (default: 4000)")
    add_common(parser, "chain")


def run(args: argparse.Namespace):
    from llmsl.chain import analyze_chain_run, chain_report, run_chains
    from llmsl.herd.tasks import get_herd_task, label_corpus

    from .options import CommandError, backend_from_args

    task = get_herd_task(args.task)
    spec = args.corpus
    corpus = task.load_corpus(spec) if spec in ("bundled", "mhs", "amazon") else task.load_corpus(path=spec)
    if args.n_per_state:
        corpus = corpus.subsample(args.n_per_state, seed=args.seed)
    envs = [e.name for e in task.task.environments]
    if args.environment is None:
        env = 0
    elif args.environment in envs:
        env = envs.index(args.environment)
    else:
        raise CommandError(f"task {task.name!r} has no environment {args.environment!r}; expected one of {envs}")
    backend = backend_from_args(args)
    if args.responses:
        sensor = build_sensor(args)
    else:
        mode = args.mode
        if mode == "auto":
            mode = "sampling" if getattr(backend, "name", "") == "openai" else "logprobs"
        log.info("labelling %d texts without history with %s", len(corpus), getattr(backend, "model", backend))
        sensor = label_corpus(backend, task.task, corpus, labels=args.labels,
                              mode="sample" if mode == "sampling" else "logprobs", temperature=args.temperature,
                              max_tokens=args.max_tokens, seed=args.seed, draws_per_text=args.draws_per_text,
                              progress=show_progress(args))
    chains = run_chains(backend, task.task, corpus, n_chains=args.n_chains, n_agents=args.n_agents,
                        labels=args.labels, history=args.history, last_m=args.last_m, prior=args.prior,
                        text_slots=args.text_slots, environment=env, seed=args.seed, progress=show_progress(args))
    study = analyze_chain_run(chains, sensor, prior_strength=args.prior_strength, tie_rule=args.tie_rule,
                              n_boot=args.n_boot, n_sim=args.n_sim, seed=args.seed)
    return chain_report(study)
