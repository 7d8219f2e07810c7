"""``llmsl audit-file``: the audit's analysis on answers you already have."""
from __future__ import annotations

import argparse

from llmas.tasks import task_names

from .options import add_common, add_test_statistics, show_progress


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
    add_test_statistics(g, n_boot=200)
    add_common(parser, "audit-file")


def run(args: argparse.Namespace):
    from ..audit import audit_file

    return audit_file(args.file, args.task, reply_column=args.reply_column, action_column=args.action_column,
                      state_column=args.state_column, environment_column=args.environment_column,
                      n_boot=args.n_boot, seed=args.seed, n_sim=args.n_sim, format=args.format,
                      power_n=args.power_n, progress=show_progress(args), n_jobs=args.n_jobs)
