"""``llmsl compare``: compare finished budget audit report folders (several models, one table and plot)."""
from __future__ import annotations

import argparse

from .options import add_common, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("compare")
    g.add_argument("dirs", nargs="+", metavar="DIR",
                   help="report folders written by 'llmsl audit --task budget' (one per model, or the folders "
                        "under <out>/models/ of a multi-model audit)")
    g.add_argument("--label", action="store_true",
                   help="name each group by its folder name instead of the model recorded in its report")
    g.add_argument("--n-sim", type=positive_int, default=None,
                   help="random data sets per subject for Bronars' power (default: the n_sim the reports record, "
                        "else 200)")
    g.add_argument("--n-boot", type=positive_int, default=2000,
                   help="bootstrap resamples of each model's subjects for the intervals (default: 2000)")
    g.add_argument("--n-perm", type=positive_int, default=2000,
                   help="random relabelings per permutation test (default: 2000)")
    add_common(parser, "compare")


def run(args: argparse.Namespace):
    from ..compare import compare_reports

    return compare_reports(args.dirs, label_by="folder" if args.label else "model", n_sim=args.n_sim,
                           seed=args.seed, n_boot=args.n_boot, n_perm=args.n_perm)
