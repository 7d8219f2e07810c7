"""``llmsl reproduce``: the paper's herding and control experiments with the corrected model."""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None,
                        help="folder with mistral7b_responses.csv (default: ../shared/data/mhs_mistral relative "
                             "to the project root, or bundled synthetic readings when absent)")
    parser.add_argument("--out", default="report-reproduce", help="report folder (default ./report-reproduce)")
    parser.add_argument("--seed", type=int, default=0, help="master seed")
    parser.add_argument("--quick", action="store_true", help="fewer runs and grid points (smoke test)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from .reproduction import reproduce

    try:
        res = reproduce(args.data, args.out, seed=args.seed, quick=args.quick, progress=not args.quiet)
    except ValueError as exc:
        print(f"llmsl reproduce: {exc}", file=sys.stderr)
        return 2
    print(f"data: {res['source']['kind']} ({res['source']['path']})")
    print(res["a"]["summary"])
    print()
    print(res["c"]["summary"])
    print()
    print(res["d"]["summary"])
    print(f"\nreport written to {args.out}/ (report.json, report.md, PNG plots) in {res['timings_s']['total']:.1f} s")
    return 0
