"""Options shared by ``llmsl herd``, ``control`` and ``chain``: where the model's labels come from."""
from __future__ import annotations

import argparse
import logging

from .options import add_backend, backend_from_args, positive_int, show_progress

log = logging.getLogger("llmsl")


def add_reading_arguments(parser: argparse.ArgumentParser, *, default_labels: str) -> None:
    """A responses file, or a model labelling a corpus (with the backend options)."""
    from llmsl.herd.tasks import herd_task_names

    g = parser.add_argument_group("readings: a responses file, or a model labelling a corpus")
    g.add_argument("--task", default="hate_speech", choices=herd_task_names(),
                   help="labelling task: its prompts, schema and mapping of replies to labels (default: hate_speech)")
    g.add_argument("--responses", default=None, metavar="FILE",
                   help="CSV, JSON or JSONL file with a state column and a reply (parsed) or label column; "
                        "no model is run")
    g.add_argument("--format", choices=["csv", "json", "jsonl", "parquet"], default=None,
                   help="format of --responses (default: from the file's extension)")
    g.add_argument("--state-column", default=None, help="state column of --responses (default: state)")
    g.add_argument("--reply-column", default=None, help="raw reply column of --responses (default: response)")
    g.add_argument("--label-column", default=None, help="integer label column of --responses (instead of replies)")
    g.add_argument("--labels", default=default_labels, choices=["full", "binary"],
                   help=f"observation granularity: the task's full label set, or binary (default: {default_labels})")
    g.add_argument("--corpus", default="bundled",
                   help="'bundled' (default), 'mhs' / 'amazon' (Hugging Face) or the path of a local corpus file")
    g.add_argument("--n-per-state", type=positive_int, default=None,
                   help="texts per state (default: the whole corpus)")
    g.add_argument("--mode", choices=["auto", "logprobs", "sampling"], default="auto",
                   help="logprobs: exact P(Yes) per question from log-probabilities; sampling: the paper's JSON "
                        "reply, parsed (auto: logprobs for local models, sampling for servers)")
    g.add_argument("--draws-per-text", type=positive_int, default=10,
                   help="labels drawn per text from its exact distribution (logprobs mode)")
    g.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (0: greedy)")
    g.add_argument("--max-tokens", type=positive_int, default=96, help="reply length limit (sampling mode)")
    add_backend(parser)


def build_sensor(args: argparse.Namespace):
    """The readings ``--responses`` holds, or those of a model labelling the corpus."""
    from llmsl.herd.tasks import get_herd_task, label_corpus, load_responses

    if args.responses:
        sensor = load_responses(args.responses, args.task, labels=args.labels, state_column=args.state_column,
                                reply_column=args.reply_column, label_column=args.label_column,
                                format=args.format)
        try:
            sensor.check_pools()  # here, to name the file, rather than deep inside the simulation
        except ValueError as exc:
            failed = f" ({sensor.n_failed} of {sensor.n + sensor.n_failed} rows unusable)" if sensor.n_failed else ""
            raise ValueError(f"{args.responses}: {exc}{failed}") from None
        return sensor
    task = get_herd_task(args.task)
    spec = args.corpus
    corpus = task.load_corpus(spec) if spec in ("bundled", "mhs", "amazon") else task.load_corpus(path=spec)
    if args.n_per_state:
        corpus = corpus.subsample(args.n_per_state, seed=args.seed)
    backend = backend_from_args(args)
    log.info("labelling %d texts with %s", len(corpus), getattr(backend, "model", backend))
    mode = args.mode
    if mode == "auto":
        mode = "sampling" if getattr(backend, "name", "") == "openai" else "logprobs"
    sensor = label_corpus(backend, args.task, corpus, labels=args.labels,
                          mode="sample" if mode == "sampling" else "logprobs", temperature=args.temperature,
                          max_tokens=args.max_tokens, seed=args.seed, draws_per_text=args.draws_per_text,
                          progress=show_progress(args))
    from llmsl.report import backend_record

    sensor.meta.update({k: v for k, v in backend_record(backend).items() if k in ("base_url", "revision")})
    return sensor
