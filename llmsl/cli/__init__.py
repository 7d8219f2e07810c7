"""The ``llmsl`` command line.

One module per command in this package; each exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> Report``.  This module parses the
command line, checks the output folder before any work starts, runs the
command, saves its :class:`~llmsl.report.Report` and turns every expected
failure into one line on stderr and exit code 2 (``--debug`` shows the
traceback).  Only the chosen command's module is imported, so ``llmsl --help``
is fast and never imports torch.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from .options import CommandError, check_out_dir, configure_logging

__all__ = ["main", "build_parser", "COMMANDS"]

#: command -> module under llmsl.cli
COMMANDS: dict[str, str] = {
    "audit": "audit",
    "audit-file": "audit_file",
    "herd": "herd",
    "chain": "chain",
    "control": "control",
    "reproduce": "reproduce",
    "compare": "compare",
    "macro": "macro",
}

#: one-line help of each command, here so that ``llmsl --help`` imports no command module
HELP: dict[str, str] = {
    "audit": "audit an LLM's rationality (revealed preferences: NIAS/NIAC, GARP/CCEI)",
    "audit-file": "audit answers you already have (CSV, JSON list or JSONL)",
    "herd": "when would Bayesian agents that use this LLM as a sensor herd, and on what?",
    "chain": "chains of LLM agents that read each other's actions: do they herd like Bayesian learners?",
    "control": "delay herding: optimal stopping, SPSA and incentives",
    "reproduce": "the paper's experiments on the real Mistral-7B replies, corrected",
    "compare": "compare finished report folders (several models, one table and plot)",
    "macro": "an EconAgent-style economy with rule-based or LLM households",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("llmsl")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "unknown"


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the command named in ``argv`` gets its options (imports its module)."""
    parser = _Parser(prog="llmsl",
                     description="Interacting LLM agents: revealed preferences, social learning, herding and its "
                                 "control.")
    parser.add_argument("--version", action="version", version=f"llmsl {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    chosen = next((a for a in (argv or []) if not a.startswith("-")), None)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=HELP[name], description=HELP[name])
        if name == chosen:
            importlib.import_module(f"llmsl.cli.{module}").add_arguments(p)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CommandError, ValueError, OSError]
    mods = sys.modules
    if "llmas.backends.base" in mods:
        errors.append(mods["llmas.backends.base"].BackendError)
    if "cvxpy" in mods:
        errors.append(mods["cvxpy"].error.SolverError)
    if "sqlite3" in mods:  # a response cache that cannot be opened or written
        errors.append(mods["sqlite3"].Error)
    return tuple(errors)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``llmsl`` with ``argv`` (default: the process's arguments); return the exit code.

    ``sys.argv`` is never modified.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else 2
    restore_logging = configure_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    module = importlib.import_module(f"llmsl.cli.{COMMANDS[args.command]}")
    prog = f"llmsl {args.command}"
    t0 = time.perf_counter()
    out_arg = getattr(args, "out", None)
    created = out_arg is not None and not Path(out_arg).exists()
    try:
        return _run(module, args, args_list, out_arg, t0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: every answer received so far is in the response cache; "
              "rerun the same command to resume.", file=sys.stderr)
        return 130
    except _expected_errors() as exc:
        if getattr(args, "debug", False):
            raise
        logging.getLogger("llmsl").debug("failure", exc_info=True)
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    finally:
        restore_logging()
        if created:  # leave no empty folder behind a run that wrote nothing
            with contextlib.suppress(OSError):
                Path(str(out_arg)).rmdir()


def _run(module, args: argparse.Namespace, args_list: list[str], out_arg: str | None, t0: float) -> int:
    out = check_out_dir(out_arg) if out_arg else None
    report = module.run(args)
    if report is None:
        return 0
    report.provenance.command = ["llmsl", *args_list]
    if report.provenance.wall_time_s is None:
        report.provenance.wall_time_s = time.perf_counter() - t0
    if out is not None:
        report.save(out)
    if not getattr(args, "quiet", False):
        print(report.summary())
        if out is not None:
            print(f"\nreport written to {out}/ (report.md, report.json, {len(report.figures)} PNG figures)")
    return 0
