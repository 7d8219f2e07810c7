"""``llmsl reproduce``: the paper's herding and control experiments with the corrected model."""
from __future__ import annotations

import argparse

from .options import add_common, show_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("data")
    g.add_argument("--data", default=None, metavar="DIR",
                   help="folder with mistral7b_responses.csv (default: ../shared/data/mhs_mistral next to the "
                        "project, or bundled synthetic readings when absent)")
    g.add_argument("--quick", action="store_true", help="fewer runs and grid points (a smoke test)")
    add_common(parser, "reproduce")


def run(args: argparse.Namespace):
    from ..herd.reproduction import reproduce

    return reproduce(args.data, seed=args.seed, quick=args.quick, progress=show_progress(args))
