"""``llmsl macro``: run the economy over seeds and write a report folder.

Example::

    llmsl macro --households rule --agents 100 --months 240 --seeds 5 --out report-macro
    llmsl macro --households llm --agents 10 --months 24 --seeds 1 --out report-macro-llm
"""
from __future__ import annotations

import argparse

from .options import (
    CommandError,
    add_backend,
    add_common,
    backend_from_args,
    nonnegative_int,
    positive_int,
    show_progress,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--households", choices=["rule", "llm"], default="rule",
                        help="rule-based (EconAgent baselines) or LLM households (default: rule)")
    parser.add_argument("--consumption", choices=["len", "cats", "composite"], default="composite",
                        help="rule-based consumption rule (default: composite)")
    parser.add_argument("--agents", type=positive_int, default=100, help="number of households N (default 100)")
    parser.add_argument("--months", type=positive_int, default=240, help="months T (default 240)")
    parser.add_argument("--seeds", type=positive_int, default=3,
                        help="number of seeds, --seed .. --seed + S - 1 (default 3)")
    parser.add_argument("--planner", choices=["none", "saez", "llm"], default="none",
                        help="tax planner (default none: fixed 2018 US brackets)")
    parser.add_argument("--planner-interval", type=positive_int, default=12, help="months between planner moves")
    parser.add_argument("--epsilon", type=float, default=0.1, help="LLM planner exploration probability")
    parser.add_argument("--regret", action="store_true",
                        help="also measure the planner's welfare regret vs the best fixed schedule "
                             "(grid search), with and without exploration")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="LLM decoding temperature of generated replies (default 0): the planner's, and the "
                             "households' with --decision-method generate; scored decisions sample nothing")
    parser.add_argument("--decision-method", choices=["auto", "choice", "generate"], default="auto",
                        help="how LLM households decide: 'choice' scores every (work, spending) pair of a 6 x 6 grid "
                             "exactly from log-probabilities, 'generate' parses a generated JSON reply; 'auto' "
                             "(default) scores when the backend gives log-probabilities")
    parser.add_argument("--decision-rule", choices=["sample", "mean", "mode"], default="sample",
                        help="scored decisions: draw the pair from the model's distribution (default, seeded), "
                             "take its expected levels, or its most likely pair")
    parser.add_argument("--peers", type=nonnegative_int, default=0,
                        help="social channel: households observe this many others' work decisions")
    parser.add_argument("--no-audit", action="store_true", help="skip the ribum revealed-preference audit")
    parser.add_argument("--studies", action="store_true",
                        help="also run the planner experiments (rule-based households): labour elasticity, welfare "
                             "against the flat tax, the Saez planner with the measured elasticity, household votes, "
                             "and regret against horizon over --regret-seeds seeds")
    parser.add_argument("--regret-seeds", type=positive_int, default=20,
                        help="seeds of the regret-against-horizon study (default 20)")
    add_backend(parser)
    add_common(parser, "macro")


def run(args: argparse.Namespace):
    from macro.config import EconomyConfig
    from macro.experiment import run_seeds
    from macro.households import PeerInfluence, RuleHouseholds
    from macro.planner import LLMPlanner, SaezPlanner, regret_study

    from ..economy import macro_report

    # Checked before the (possibly hour-long) runs, not after them.
    if args.regret and args.planner == "none":
        raise CommandError("--regret needs --planner saez or llm")
    if args.regret and args.months < args.planner_interval:
        raise CommandError(f"--regret needs at least one planner period: --months {args.months} "
                           f"< --planner-interval {args.planner_interval}")
    if not 0 <= args.epsilon <= 1:
        raise CommandError(f"--epsilon must be in [0, 1], got {args.epsilon}")
    if args.households != "llm" and (args.decision_method != "auto" or args.decision_rule != "sample"):
        raise CommandError("--decision-method and --decision-rule apply to LLM households (--households llm)")
    if args.studies and args.households != "rule":
        raise CommandError("--studies runs on rule-based households (--households rule)")
    config = EconomyConfig(n_households=args.agents, n_months=args.months)
    need_llm = args.households == "llm" or args.planner == "llm"
    backend = backend_from_args(args) if need_llm else None
    decoding = {"temperature": args.temperature}

    if args.households == "llm":
        from macro.llm_households import LLMHouseholds

        def make_households():
            return LLMHouseholds(backend, peer_sample=args.peers, decoding=decoding, method=args.decision_method,
                                 decision_rule=args.decision_rule)
    else:
        def make_households():
            base = RuleHouseholds(args.consumption)
            return PeerInfluence(base, n_peers=args.peers) if args.peers else base

    make_planner = None  # a fixed schedule
    if args.planner == "saez":
        def make_planner():
            return SaezPlanner(interval=args.planner_interval)
    elif args.planner == "llm":
        def make_planner(eps=args.epsilon):
            return LLMPlanner(backend, interval=args.planner_interval, epsilon=eps)

    seeds = list(range(args.seed, args.seed + args.seeds))
    report = run_seeds(config, make_households, seeds, make_planner, audit=not args.no_audit,
                       progress=show_progress(args))
    if args.regret:
        eps = (0.0, args.epsilon) if args.planner == "llm" else (0.0,)
        report.regret = regret_study(config, make_households,
                                     make_planner if args.planner == "llm" else (lambda e: make_planner()),  # type: ignore[arg-type]
                                     epsilons=eps, seed=seeds[0], period=args.planner_interval)
    if args.studies:
        from macro.experiment import run_studies

        report.studies = run_studies(config, make_households, seeds,
                                     regret_seeds=range(args.seed, args.seed + args.regret_seeds))
    if backend is not None:
        report.extra["decoding"] = decoding
    return macro_report(report, backend=backend, seed=args.seed)
