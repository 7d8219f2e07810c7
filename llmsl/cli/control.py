"""``llmsl control``: optimal stopping, SPSA and incentives to delay herding, for an LLM sensor."""
from __future__ import annotations

import argparse

from .options import add_common, nonnegative_float, positive_float, positive_int, probability, show_progress
from .readings import add_reading_arguments, build_sensor


def _discount(text: str) -> float:
    v = probability(text)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"expected a discount factor in [0, 1), got {text!r}")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_reading_arguments(parser, default_labels="binary")
    g = parser.add_argument_group("control")
    g.add_argument("--delay-cost", type=nonnegative_float, default=0.2,
                   help="cost d of one more revealed observation")
    g.add_argument("--discount", type=_discount, default=0.8, help="discount factor rho in [0, 1)")
    g.add_argument("--miss-cost", type=nonnegative_float, default=1.0,
                   help="cost of declaring state 0 when the state is 1 (c[1, 0]); c[0, 1] = 1")
    g.add_argument("--grid-size", type=positive_int, default=2001, help="value-iteration grid points")
    g.add_argument("--spsa-iter", type=positive_int, default=300, help="SPSA iterations")
    g.add_argument("--spsa-runs", type=positive_int, default=1000, help="simulated runs per SPSA evaluation")
    g.add_argument("--tau", type=positive_float, default=0.02, help="smoothing temperature of the threshold policy")
    g.add_argument("--no-incentives", action="store_true", help="skip the incentive mechanism")
    g.add_argument("--n-agents", type=positive_int, default=50, help="agents per chain (incentives)")
    g.add_argument("--n-runs", type=positive_int, default=500, help="chains per threshold (incentives)")
    add_common(parser, "control")


def run(args: argparse.Namespace):
    import numpy as np

    from ..herd.control_analysis import analyze_control
    from ..herd.report import control_report

    sensor = build_sensor(args)
    cost = np.array([[0.0, 1.0], [float(args.miss_cost), 0.0]])
    c = analyze_control(sensor, cost, delay_cost=args.delay_cost, discount=args.discount, grid_size=args.grid_size,
                        spsa_iter=args.spsa_iter, spsa_runs=args.spsa_runs, tau=args.tau,
                        incentives=not args.no_incentives, n_agents=args.n_agents, n_runs=args.n_runs,
                        seed=args.seed, progress=show_progress(args))
    return control_report(c)
