"""``llmsl audit``: audit a model's rationality and write a report folder."""
from __future__ import annotations

import argparse
import sys

from ..tasks import TASKS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, choices=sorted(TASKS), help="audit design")
    parser.add_argument("--backend", choices=["transformers", "openai"], default=None,
                        help="transformers (local, default) or openai (an OpenAI-compatible server)")
    parser.add_argument("--model", default=None,
                        help="model folder, .gguf file or Hugging Face id (transformers; default "
                             "SmolLM2-135M-Instruct), or the server's model name (openai)")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server URL (implies --backend openai)")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY",
                        help="environment variable holding the API key (openai)")
    parser.add_argument("--n", type=int, default=None,
                        help="texts per state (hate_speech), reviews per rating and state (product_quality), "
                             "subjects per framing (budget); 0 = the whole corpus")
    parser.add_argument("--corpus", default=None,
                        help="'bundled' (default), 'mhs' / 'amazon' (Hugging Face) or a local file path")
    parser.add_argument("--mode", choices=["auto", "logprobs", "sampling"], default="auto",
                        help="exact choice probabilities or sampled JSON replies (auto: exact where possible)")
    parser.add_argument("--samples", type=int, default=5, help="sampled replies per prompt (sampling mode)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-boot", type=int, default=100, help="bootstrap replications of the margin")
    parser.add_argument("--n-sim", type=int, default=200,
                        help="random subjects per subject for Bronars' power (budget)")
    parser.add_argument("--choice-rule", choices=["mean", "mode"], default="mean",
                        help="budget choice from the exact share distribution: its mean or its mode")
    parser.add_argument("--batch-size", type=int, default=16, help="prompts per model call")
    parser.add_argument("--cache", default=None, help="response cache file (default: the user cache)")
    parser.add_argument("--no-cache", action="store_true", help="do not cache answers (no resume)")
    parser.add_argument("--out", default="report", help="report folder (default: ./report)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _corpus(task: str, spec: str | None):
    from ..corpora import load_hate_speech, load_product_reviews

    if spec is None or task == "budget":
        return None
    loader = load_hate_speech if task == "hate_speech" else load_product_reviews
    if spec in ("bundled", "mhs", "amazon"):
        return loader(spec)
    return loader(path=spec)


def run(args: argparse.Namespace) -> int:
    from ..backends.factory import backend_from_args
    from .runner import audit

    try:
        be = backend_from_args(args)
    except ValueError as exc:
        print(f"llmsl audit: {exc}", file=sys.stderr)
        return 2
    try:
        report = audit(args.task, be, corpus=_corpus(args.task, args.corpus), n=args.n, mode=args.mode,
                       n_samples=args.samples, seed=args.seed, n_boot=args.n_boot, n_sim=args.n_sim,
                       choice_rule=args.choice_rule, chunk_size=args.batch_size,
                       progress=not args.quiet)
    except ValueError as exc:
        print(f"llmsl audit: {exc}", file=sys.stderr)
        return 2
    return save_and_print(report, args.out)


def save_and_print(report, out_dir) -> int:
    """Write the report folder and print the summary (shared by ``audit`` and ``audit-file``)."""
    out = report.save(out_dir)
    print(report.summary())
    print(f"\nreport written to {out}/ (report.json, report.md, {len(report.figures)} PNG plots)")
    return 0
