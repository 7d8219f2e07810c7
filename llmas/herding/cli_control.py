"""``llmsl control``: optimal stopping, SPSA and incentives to delay herding, for an LLM sensor."""
from __future__ import annotations

import argparse
import sys

from ._cli_common import add_sensor_arguments, build_sensor, command_record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_sensor_arguments(parser, default_labels="binary")
    g = parser.add_argument_group("control")
    g.add_argument("--delay-cost", type=float, default=0.2, help="cost d of one more revealed observation")
    g.add_argument("--discount", type=float, default=0.8, help="discount factor rho in [0, 1)")
    g.add_argument("--miss-cost", type=float, default=1.0,
                   help="cost of declaring state 0 when the state is 1 (c[1, 0]); c[0, 1] = 1")
    g.add_argument("--grid-size", type=int, default=2001, help="value-iteration grid points")
    g.add_argument("--spsa-iter", type=int, default=300, help="SPSA iterations")
    g.add_argument("--spsa-runs", type=int, default=1000, help="simulated runs per SPSA evaluation")
    g.add_argument("--tau", type=float, default=0.02, help="smoothing temperature of the threshold policy")
    g.add_argument("--no-incentives", action="store_true", help="skip the incentive mechanism")
    g.add_argument("--n-agents", type=int, default=50, help="agents per chain (incentives)")
    g.add_argument("--n-runs", type=int, default=500, help="chains per threshold (incentives)")
    parser.add_argument("--out", default="report-control", help="report folder (default ./report-control)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .control_analysis import analyze_control
    from .pipeline import write_control_report

    try:
        sensor = build_sensor(args)
        cost = np.array([[0.0, 1.0], [float(args.miss_cost), 0.0]])
        report = analyze_control(sensor, cost, delay_cost=args.delay_cost, discount=args.discount,
                                 grid_size=args.grid_size, spsa_iter=args.spsa_iter, spsa_runs=args.spsa_runs,
                                 tau=args.tau, incentives=not args.no_incentives, n_agents=args.n_agents,
                                 n_runs=args.n_runs, seed=args.seed, progress=not args.quiet)
    except ValueError as exc:
        print(f"llmsl control: {exc}", file=sys.stderr)
        return 2
    out = write_control_report(report, args.out, command=command_record(args, "control"))
    print(report.summary())
    print(f"\nreport written to {out}/ (report.json, report.md, PNG plots)")
    return 0
