"""``llmsl herd``: when would Bayesian agents that use this LLM as a sensor herd, and on what?"""
from __future__ import annotations

import argparse

from .options import add_common, positive_float, positive_int, show_progress
from .readings import add_reading_arguments, build_sensor


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_reading_arguments(parser, default_labels="full")
    g = parser.add_argument_group("social learning")
    g.add_argument("--cost", choices=["zero_one", "ordinal"], default="zero_one",
                   help="action cost c[x, a]: 1{a != x}, or |x - a| / (X - 1) for ordered states")
    g.add_argument("--tie-rule", choices=["uniform", "own_signal", "first"], default="uniform",
                   help="what an agent does when actions tie: pick uniformly (BHW), follow its own signal, or "
                        "take the lowest-numbered action")
    g.add_argument("--n-agents", type=positive_int, default=100, help="agents per chain")
    g.add_argument("--n-runs", type=positive_int, default=1000, help="chains per (prior, true state)")
    g.add_argument("--n-priors", type=positive_int, default=25, help="points of the prior grid p in [0.02, 0.98]")
    g.add_argument("--prior-strength", type=positive_float, default=1.0, help="Dirichlet pseudo-count per cell of B")
    g.add_argument("--n-posterior", type=positive_int, default=200,
                   help="posterior samples of B for threshold intervals")
    g.add_argument("--draw-from-b", action="store_true",
                   help="agents observe y ~ B_hat instead of the model's real labels resampled per state")
    add_common(parser, "herd")


def run(args: argparse.Namespace):
    import numpy as np

    from sociallearn import zero_one_cost

    from ..herd.analysis import analyze_herding
    from ..herd.report import herd_report

    sensor = build_sensor(args)
    X = sensor.n_states
    cost = zero_one_cost(X) if args.cost == "zero_one" else \
        np.abs(np.subtract.outer(np.arange(X), np.arange(X))) / (X - 1)
    h = analyze_herding(sensor, cost, priors=np.linspace(0.02, 0.98, args.n_priors).tolist(), n_agents=args.n_agents,
                        n_runs=args.n_runs, tie_rule=args.tie_rule, prior_strength=args.prior_strength,
                        n_posterior=args.n_posterior, resample=not args.draw_from_b, seed=args.seed,
                        progress=show_progress(args))
    return herd_report(h)
