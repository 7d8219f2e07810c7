"""``llmsl audit``: audit a model's rationality and write a report folder."""
from __future__ import annotations

import argparse

from llmas.tasks import task_names

from .options import (
    CommandError,
    add_backend,
    add_common,
    add_test_statistics,
    backend_from_args,
    nonnegative_int,
    positive_int,
    show_progress,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("audit")
    g.add_argument("--task", required=True, choices=task_names(),
                   help="audit design: hate_speech and product_quality test rational inattention (NIAS/NIAC); "
                        "budget tests utility maximization (GARP/CCEI)")
    g.add_argument("--n", type=nonnegative_int, default=None,
                   help="texts per state (hate_speech), reviews per rating and state (product_quality), subjects "
                        "per framing (budget); 0 = the whole corpus (default: the task's)")
    g.add_argument("--corpus", default=None,
                   help="'bundled' (default), 'mhs' / 'amazon' (Hugging Face, when cached or online) or the path "
                        "of a local corpus file")
    g.add_argument("--mode", choices=["auto", "logprobs", "sampling"], default="auto",
                   help="logprobs: exact choice probabilities from token log-probabilities; sampling: sampled JSON "
                        "replies, parsed; auto: exact where the backend allows (default)")
    g.add_argument("--samples", type=positive_int, default=5, help="sampled replies per prompt (sampling mode)")
    add_test_statistics(g, n_boot=100)
    g.add_argument("--choice-rule", choices=["mean", "mode"], default="mean",
                   help="budget choice from the exact share distribution: its mean or its mode")
    add_backend(parser, multi_model=True)
    add_common(parser, "audit")


def load_corpus(task, spec: str | None):
    """The corpus ``--corpus`` names for ``task`` (``None``: the task's bundled one)."""
    from llmas.tasks import get_task

    t = get_task(task)
    if spec is None or t.kind != "ribum":
        return None
    if spec in ("bundled", "mhs", "amazon"):
        return t.load_corpus(spec)
    return t.load_corpus(path=spec)


def model_pairs(models: list[str] | str | None, urls: list[str] | str | None) -> list[tuple[str | None, str | None]]:
    """(model, server URL) pairs of repeated ``--model`` / ``--base-url`` options.

    One ``--base-url`` (or none) serves every ``--model``; otherwise each
    ``--model`` needs its own ``--base-url``, paired in the order given.

    >>> model_pairs(None, None)
    [(None, None)]
    >>> model_pairs(["a", "b"], ["http://u/v1"])
    [('a', 'http://u/v1'), ('b', 'http://u/v1')]
    >>> model_pairs(["a", "b"], ["http://u1/v1", "http://u2/v1"])
    [('a', 'http://u1/v1'), ('b', 'http://u2/v1')]
    """
    models = [models] if isinstance(models, str) else list(models or [])
    urls = [urls] if isinstance(urls, str) else list(urls or [])
    if len(models) <= 1 and len(urls) <= 1:
        return [(models[0] if models else None, urls[0] if urls else None)]
    if len(urls) <= 1:
        return [(m, urls[0] if urls else None) for m in models]
    if len(urls) != len(models):
        raise CommandError(f"{len(urls)} --base-url for {len(models)} --model: give --base-url once (every model on "
                           "one server) or once per --model, in pairs")
    return list(zip(models, urls, strict=True))


def run(args: argparse.Namespace):
    from ..audit import audit

    pairs = model_pairs(args.model, args.base_url)
    corpus = load_corpus(args.task, args.corpus)  # checked before the model loads
    if len(pairs) > 1:
        return _run_models(args, pairs)
    args.model, args.base_url = pairs[0]
    backend = backend_from_args(args)
    return audit(args.task, backend, corpus=corpus, n=args.n, mode=args.mode, n_samples=args.samples,
                 seed=args.seed, n_boot=args.n_boot, n_sim=args.n_sim, choice_rule=args.choice_rule,
                 chunk_size=args.batch_size, progress=show_progress(args), power_n=args.power_n,
                 n_jobs=args.n_jobs)


def _run_models(args: argparse.Namespace, pairs: list[tuple[str | None, str | None]]):
    """Several models: one budget audit each (saved under ``<out>/models/``), compared in one report."""
    from functools import partial
    from pathlib import Path

    from llmas.tasks import get_task

    from ..compare import audit_models

    if get_task(args.task).kind != "budget":
        raise CommandError(f"several --model values are compared on the budget task only (--task budget), "
                           f"not on {args.task}")
    builders = [partial(backend_from_args, argparse.Namespace(**{**vars(args), "model": m, "base_url": u}))
                for m, u in pairs]
    return audit_models(args.task, builders, save_each=Path(args.out) / "models", n=args.n, mode=args.mode,
                        n_samples=args.samples, seed=args.seed, n_sim=args.n_sim, choice_rule=args.choice_rule,
                        chunk_size=args.batch_size, progress=show_progress(args))
