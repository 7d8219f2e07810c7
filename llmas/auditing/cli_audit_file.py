"""``llmsl audit-file``: the audit analysis on answers you already have."""
from __future__ import annotations

import argparse
import sys

from ..tasks import TASKS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="CSV / JSONL / JSON / Parquet file of answers")
    parser.add_argument("--task", required=True, choices=sorted(TASKS), help="audit design of the answers")
    parser.add_argument("--reply-column", default=None, help="column of raw replies (default: auto-detect)")
    parser.add_argument("--action-column", default=None, help="column of integer actions (instead of replies)")
    parser.add_argument("--state-column", default="state")
    parser.add_argument("--environment-column", default="environment")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap replications of the margin")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="report", help="report folder (default: ./report)")


def run(args: argparse.Namespace) -> int:
    from .cli_audit import save_and_print
    from .from_file import audit_file

    try:
        report = audit_file(args.file, args.task, reply_column=args.reply_column,
                            action_column=args.action_column, state_column=args.state_column,
                            environment_column=args.environment_column, n_boot=args.n_boot, seed=args.seed)
    except ValueError as exc:
        print(f"llmsl audit-file: {exc}", file=sys.stderr)
        return 2
    return save_and_print(report, args.out)
