"""Arguments shared by ``llmsl herd`` and ``llmsl control``: where the sensor readings come from."""
from __future__ import annotations

import argparse
import sys
import time

from .sensor import SensorData


def add_sensor_arguments(parser: argparse.ArgumentParser, *, default_labels: str) -> None:
    g = parser.add_argument_group("readings (a responses file, or a model labelling a corpus)")
    g.add_argument("--task", default="hate_speech", choices=["hate_speech", "product_quality"],
                   help="labelling task (prompts, schema and mapping of the audit designs)")
    g.add_argument("--responses", default=None, metavar="FILE",
                   help="CSV/JSONL with a state column and a reply (parsed) or label column; no model is run")
    g.add_argument("--state-column", default=None, help="state column of --responses (default: state)")
    g.add_argument("--reply-column", default=None, help="raw reply column of --responses (default: response)")
    g.add_argument("--label-column", default=None, help="integer label column of --responses (instead of replies)")
    g.add_argument("--labels", default=default_labels, choices=["full", "binary"],
                   help=f"observation granularity: the task's full action set, or binary (default {default_labels})")
    g.add_argument("--backend", choices=["transformers", "openai"], default=None,
                   help="transformers (local, default SmolLM2-135M-Instruct) or openai (compatible server)")
    g.add_argument("--model", default=None, help="model folder / Hugging Face id (transformers) or server model name")
    g.add_argument("--base-url", default=None, help="OpenAI-compatible server URL (implies --backend openai)")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable with the API key")
    g.add_argument("--corpus", default="bundled",
                   help="'bundled' (default), 'mhs' / 'amazon' (Hugging Face) or a local corpus file")
    g.add_argument("--n-per-state", type=int, default=None, help="texts per state (default: the whole corpus)")
    g.add_argument("--mode", choices=["auto", "logprobs", "sample"], default="auto",
                   help="logprobs: exact P(Yes) per question from log-probabilities; sample: the paper's JSON "
                        "reply, parsed (auto: logprobs for transformers, sample for openai)")
    g.add_argument("--draws-per-text", type=int, default=10,
                   help="labels drawn per text from its exact distribution (logprobs mode)")
    g.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (0: greedy)")
    g.add_argument("--max-tokens", type=int, default=96, help="reply length limit")
    g.add_argument("--batch-size", type=int, default=16, help="prompts per forward pass (transformers)")
    g.add_argument("--cache", default=None, help="response cache file (default: the user cache)")
    g.add_argument("--no-cache", action="store_true", help="do not cache answers")
    parser.add_argument("--seed", type=int, default=0, help="master seed of every simulation")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def make_backend(args: argparse.Namespace):
    """The backend the arguments ask for (:func:`llmas.backends.backend_from_args`)."""
    from llmas.backends.factory import backend_from_args

    return backend_from_args(args)


def build_sensor(args: argparse.Namespace) -> SensorData:
    """Readings from ``--responses`` or from a model labelling the corpus."""
    from .tasks import get_herd_task, label_corpus, load_responses

    if args.responses:
        return load_responses(args.responses, args.task, labels=args.labels, state_column=args.state_column,
                              reply_column=args.reply_column, label_column=args.label_column)
    task = get_herd_task(args.task)
    spec = args.corpus
    corpus = task.load_corpus(spec) if spec in ("bundled", "mhs", "amazon") else task.load_corpus(path=spec)
    if args.n_per_state:
        corpus = corpus.subsample(args.n_per_state, seed=args.seed)
    t0 = time.perf_counter()
    backend = make_backend(args)
    if not args.quiet:
        print(f"model {backend.model} loaded in {time.perf_counter() - t0:.1f} s; labelling {len(corpus)} texts",
              file=sys.stderr)
    mode = args.mode
    if mode == "auto":
        mode = "sample" if getattr(backend, "name", "") == "openai" else "logprobs"
    return label_corpus(backend, args.task, corpus, labels=args.labels, mode=mode, temperature=args.temperature,
                        max_tokens=args.max_tokens, seed=args.seed, draws_per_text=args.draws_per_text,
                        progress=not args.quiet)


def command_record(args: argparse.Namespace, name: str) -> dict:
    """The command line as a dict for report.json."""
    return {"command": name, "argv": sys.argv[1:], **{k: v for k, v in vars(args).items() if k != "func"}}
