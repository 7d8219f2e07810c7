"""``llmsl audit``: audit a model's rationality and write a report folder."""
from __future__ import annotations

import argparse

from llmas.tasks import task_names

from .options import add_backend, add_common, backend_from_args, nonnegative_int, positive_int


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
    g.add_argument("--n-boot", type=nonnegative_int, default=100,
                   help="bootstrap replications of the NIAS/NIAC margin (0: none)")
    g.add_argument("--n-sim", type=positive_int, default=200,
                   help="random subjects per subject for Bronars' power (budget)")
    g.add_argument("--choice-rule", choices=["mean", "mode"], default="mean",
                   help="budget choice from the exact share distribution: its mean or its mode")
    add_backend(parser)
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


def run(args: argparse.Namespace):
    from ..audit import audit

    corpus = load_corpus(args.task, args.corpus)  # checked before the model loads
    backend = backend_from_args(args)
    return audit(args.task, backend, corpus=corpus, n=args.n, mode=args.mode, n_samples=args.samples,
                 seed=args.seed, n_boot=args.n_boot, n_sim=args.n_sim, choice_rule=args.choice_rule,
                 chunk_size=args.batch_size, progress=not args.quiet)
