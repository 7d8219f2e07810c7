"""Options shared by every ``llmsl`` command, declared once.

Each command module declares only its own options and calls the helpers here
for the rest, so the backend options, the output folder, seeds and verbosity
are spelled, documented and validated the same way everywhere.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["add_common", "add_backend", "backend_from_args", "check_out_dir", "check_cache_file",
           "configure_logging", "show_progress", "positive_int", "nonnegative_int", "positive_float",
           "nonnegative_float", "probability", "CommandError"]


class CommandError(Exception):
    """An expected failure of a command: printed as one line on stderr, exit code 2."""


# --------------------------------------------------------------------------- argument types


def _number(kind, lo: float, lo_open: bool, what: str):
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if isinstance(v, float) and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if v < lo or (lo_open and v == lo):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    parse.__name__ = what
    return parse


positive_int = _number(int, 1, False, "an integer >= 1")
nonnegative_int = _number(int, 0, False, "an integer >= 0")
positive_float = _number(float, 0.0, True, "a number > 0")
nonnegative_float = _number(float, 0.0, False, "a number >= 0")


def probability(text: str) -> float:
    """A number in [0, 1]."""
    v = nonnegative_float(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return v


# --------------------------------------------------------------------------- option groups


def add_common(parser: argparse.ArgumentParser, command: str, *, seed: bool = True) -> None:
    """``--out``, ``--seed``, ``--quiet``, ``-v`` and ``--debug``."""
    g = parser.add_argument_group("output and verbosity")
    g.add_argument("--out", default=f"report-{command}", metavar="DIR",
                   help=f"report folder, created if needed and checked writable before any work "
                        f"(default: ./report-{command})")
    if seed:
        g.add_argument("--seed", type=nonnegative_int, default=0,
                       help="master seed of every random draw (subsamples, sampling, bootstraps, simulations); "
                            "the same seed reproduces the same numbers (default: 0)")
    g.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bars (drawn only when stderr is a terminal) and no summary on stdout")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="log what happens (-v: retries, fallbacks, cache use; -vv: every request)")
    g.add_argument("--debug", action="store_true", help="show the full traceback of a failure")


def add_test_statistics(group: argparse._ArgumentGroup, *, n_boot: int) -> None:
    """``--n-boot``, ``--power-n``, ``--n-sim`` (the resampling sizes of the audit's tests) and ``--n-jobs``."""
    from ..audit.analysis import POWER_N

    group.add_argument("--n-boot", type=nonnegative_int, default=n_boot,
                       help=f"bootstrap replications of the NIAS/NIAC margin (0: none; default: {n_boot})")
    group.add_argument("--power-n", type=nonnegative_int, default=POWER_N,
                       help="random kernel sets per null for the power of the NIAS/NIAC test (how often random "
                            "answers of the same shape fail it; seeded from --seed); 0: skip")
    group.add_argument("--n-sim", type=positive_int, default=200,
                       help="random subjects per subject for Bronars' power (budget)")
    group.add_argument("--n-jobs", type=positive_int, default=None, metavar="N",
                       help="threads that solve the NIAS/NIAC LPs of the bootstrap and the power side by side "
                            "(default: the available cores, at most 8); the numbers do not depend on it, the "
                            "memory grows with it")


def add_backend(parser: argparse.ArgumentParser, *, multi_model: bool = False) -> None:
    """The options that choose and tune the model backend.

    With ``multi_model``, ``--model`` and ``--base-url`` may be repeated (their
    values are lists, ``None`` when absent).
    """
    g = parser.add_argument_group("model backend")
    store = "append" if multi_model else "store"
    again = (". Repeat it to compare several models in one report (with --base-url once for all, or once per "
             "--model, in pairs)." if multi_model else "")
    g.add_argument("--backend", choices=["transformers", "openai"], default=None,
                   help="transformers: a local model (default: the embedded SmolLM2-135M-Instruct); "
                        "openai: any OpenAI-compatible server (implied by --base-url)")
    g.add_argument("--model", default=None, action=store,
                   help="local model folder, .gguf file or Hugging Face id (transformers), or the server's model "
                        "name (openai)" + again)
    g.add_argument("--base-url", default=None, metavar="URL", action=store,
                   help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (implies --backend openai)")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="NAME",
                   help="environment variable that holds the API key; the key itself is never written anywhere "
                        "(default: OPENAI_API_KEY)")
    g.add_argument("--batch-size", type=positive_int, default=16, metavar="N",
                   help="prompts per forward pass (transformers) or per batch of requests (default: 16)")
    g.add_argument("--cache", default=None, metavar="FILE",
                   help="response cache file (default: responses.sqlite in the user cache folder)")
    g.add_argument("--no-cache", action="store_true", help="do not cache answers (an interrupted run cannot resume)")
    g.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="overall deadline of one request, connection and every read included (openai; "
                        "default: the backend's, 60 s)")
    g.add_argument("--max-retries", type=nonnegative_int, default=None, metavar="N",
                   help="retries of a failed request (429, 5xx, time-out, dropped connection; default: 5)")
    g.add_argument("--max-concurrency", type=positive_int, default=None, metavar="N",
                   help="requests in flight at once (openai; default: 32)")
    g.add_argument("--retry-after-cap", type=nonnegative_float, default=None, metavar="SECONDS",
                   help="longest wait a server's Retry-After may impose before a retry (default: 30 s)")
    g.add_argument("--max-response-mb", type=positive_float, default=None, metavar="MB",
                   help="largest reply accepted; a longer one is a counted failure and is never stored "
                        "(default: 4 MB)")
    g.add_argument("--run-deadline", type=positive_float, default=None, metavar="SECONDS",
                   help="stop asking the model after this many seconds; answers received are kept in the cache")


def backend_from_args(args: argparse.Namespace):
    """The backend the options of :func:`add_backend` ask for (the model loads lazily, on the first cache miss)."""
    from llmas.backends.factory import make_backend
    from llmas.cache import ResponseCache

    if args.cache and not args.no_cache:
        check_cache_file(args.cache)
    cache: Any = False if args.no_cache else (ResponseCache(args.cache) if args.cache else None)
    tuning = {"timeout": args.timeout, "max_retries": args.max_retries, "max_concurrency": args.max_concurrency,
              "retry_after_cap": args.retry_after_cap, "run_deadline": args.run_deadline,
              "max_response_bytes": None if args.max_response_mb is None else int(args.max_response_mb * 2 ** 20)}
    tuning = {k: v for k, v in tuning.items() if v is not None}
    return make_backend(args.backend, model=args.model, base_url=args.base_url, cache=cache,
                        api_key_env=args.api_key_env, batch_size=args.batch_size, **tuning)


# --------------------------------------------------------------------------- checks and logging


def check_out_dir(path: str | os.PathLike) -> Path:
    """Create the output folder if needed and check that files can be written in it.

    Raises :class:`CommandError` naming the folder otherwise, before any work starts.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CommandError(f"output folder {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise CommandError(f"cannot write to the output folder {out}: {exc.strerror or exc}") from None
    return out


def check_cache_file(path: str | os.PathLike) -> Path:
    """``--cache``: an SQLite response cache, or a new file in a folder that exists or can be created.

    Raises :class:`CommandError` naming the file otherwise, before any model loads.
    """
    p = Path(path)
    if p.is_dir():
        raise CommandError(f"--cache {p}: is a folder; give the path of a cache file, e.g. {p / 'responses.sqlite'}")
    if p.exists():
        try:
            with p.open("rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise CommandError(f"--cache {p}: cannot read it ({exc.strerror or exc})") from None
        if head and head != b"SQLite format 3\x00":
            raise CommandError(f"--cache {p}: not a response cache (an SQLite file); give a new or a cache file")
        return p
    parent = p.parent
    blocker = next((q for q in (parent, *parent.parents) if q.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise CommandError(f"--cache {p}: cannot create it, {blocker} is a file, not a folder")
    return p


def show_progress(args: argparse.Namespace) -> bool:
    """Whether to draw progress bars: not ``--quiet``, and stderr is a terminal (so that a log file or a
    pipe gets the one-line error alone, not bar redraws)."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def configure_logging(verbose: int = 0, quiet: bool = False):
    """Route the ``llmsl``, ``llmas``, ``ribum``... loggers to stderr at the level ``-v`` asks for.

    Returns a function that puts the loggers back as they were, so that ``main(argv)`` called from
    Python (a notebook, a test) leaves no logging configuration behind.
    """
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    if quiet and verbose <= 0:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in ("llmsl", "llmas", "ribum", "sociallearn", "control", "macro"):
        lg = logging.getLogger(name)
        saved.append((lg, lg.level, list(lg.handlers), lg.propagate))
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False

    def restore() -> None:
        for lg, lvl, handlers, propagate in saved:
            lg.setLevel(lvl)
            lg.handlers[:] = handlers
            lg.propagate = propagate

    return restore
