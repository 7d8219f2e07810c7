"""The ``llmsl`` command line.

Each sub-command lives in the module that does its work; this file only wires
them together, importing a command's module when that command runs so that
``llmsl --help`` stays fast.  A command module exposes
``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("llmas.auditing.cli_audit", "audit an LLM's rationality (revealed preferences, NIAS/NIAC)"),
    "audit-file": ("llmas.auditing.cli_audit_file", "audit responses you already have (CSV/JSONL)"),
    "herd": ("llmas.herding.cli_herd", "estimate when chains of LLM agents herd"),
    "control": ("llmas.herding.cli_control", "optimal stopping, SPSA and incentives to delay herding"),
    "reproduce": ("llmas.herding.cli_reproduce", "reproduce the paper's experiments, corrected"),
    "macro": ("macro.cli", "run the LLM-household macroeconomy"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmsl",
        description="Interacting LLM agents: revealed preferences, social learning, herding and its control.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = sys.argv[1] if len(sys.argv) > 1 else None
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        # Only the chosen command's module is imported (torch and friends are slow).
        if name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    args = build_parser().parse_args()
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted: every answer received so far is in the response cache; "
              "rerun the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
