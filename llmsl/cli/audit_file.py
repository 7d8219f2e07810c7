"""``llmsl audit-file``: the audit's analysis on answers you already have."""
from __future__ import annotations

import argparse

from llmas.tasks import task_names

from ..audit.analysis import POWER_N
from .options import add_common, nonnegative_int, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="CSV, JSON (a list of records), JSONL (one record per line) or Parquet file")
    g = parser.add_argument_group("answers")
    g.add_argument("--task", required=True, choices=task_names(), help="audit design the answers belong to")
    g.add_argument("--format", choices=["csv", "json", "jsonl", "parquet"], default=None,
                   help="file format (default: from the file's extension)")
    g.add_argument("--reply-column", default=None,
                   help="column of raw replies, parsed with the task's schema (default: the first of reply, "
                        "response, output, completion)")
    g.add_argument("--action-column", default=None, help="column of integer actions (instead of raw replies)")
    g.add_argument("--state-column", default="state", help="column of the true state, an integer (default: state)")
    g.add_argument("--environment-column", default=None,
                   help="column naming the decision problem of each answer; a name the file lacks is an error "
                        "(default: 'environment' when the file has it, else one environment)")
    g.add_argument("--n-boot", type=nonnegative_int, default=200,
                   help="bootstrap replications of the margin (0: none)")
    g.add_argument("--power-n", type=nonnegative_int, default=POWER_N,
                   help="random kernel sets per null for the power of the NIAS/NIAC test (how often random "
                        "answers of the same shape fail it; seeded from --seed); 0: skip")
    g.add_argument("--n-sim", type=positive_int, default=200,
                   help="random subjects per subject for Bronars' power (budget)")
    add_common(parser, "audit-file")


def run(args: argparse.Namespace):
    from ..audit import audit_file

    return audit_file(args.file, args.task, reply_column=args.reply_column, action_column=args.action_column,
                      state_column=args.state_column, environment_column=args.environment_column,
                      n_boot=args.n_boot, seed=args.seed, n_sim=args.n_sim, format=args.format,
                      power_n=args.power_n)
