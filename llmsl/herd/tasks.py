"""Herding tasks: how an LLM's reply to a text of known state becomes an observation ``y``.

The prompts, parsing schema and action mapping come from the audit task designs
(:mod:`llmas.tasks.hate_speech`, :mod:`llmas.tasks.product_quality`); this module
only says which of them the herding pipeline uses and how labels may be coarsened.

``hate_speech``
    X = 6 states (binned hate-speech score), Y = 6 observations: the action of
    SPEC 1b, ``y = 1 + index of the last true flag among the first five, 0 if none``.
    Coarsening ``binary``: states {0} vs {1..5} ("not hateful" / "hateful") and
    observations {0} vs {1..5} ("no flag" / "flagged").
``product_quality``
    X = 2 states (bad / good product), Y = 8 observations ``4 d + 2 m + r`` from
    three booleans. Coarsening ``binary``: ``y = would_recommend``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmas.tables import read_table
from llmas.tasks import Coarsening, Task, get_task, task_names

from .sensor import SensorData

__all__ = ["HerdTask", "get_herd_task", "herd_task_names", "load_responses", "label_corpus"]

STATE_COLUMNS = ("state", "x", "true_state")
REPLY_COLUMNS = ("response", "reply", "completion", "output", "text_reply")
LABEL_COLUMNS = ("label", "observation", "action", "y")


@dataclass(frozen=True)
class HerdTask:
    """A labelling task of the herding pipelines: an audit :class:`~llmas.tasks.Task` used as a sensor.

    The reply to a text of known state ``x`` is parsed with the task's schema
    and mapped to the observation ``y`` (the task's action); ``coarsen`` merges
    states and observations as the task's ``coarsenings`` say.
    """

    task: Task = field(repr=False)

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def coarsenings(self) -> dict:
        return dict(self.task.coarsenings)

    @property
    def n_states(self) -> int:
        return self.task.n_states

    @property
    def n_obs(self) -> int:
        return self.task.n_actions

    @property
    def state_labels(self) -> list[str]:
        return list(self.task.state_names)

    @property
    def obs_labels(self) -> list[str]:
        return list(self.task.action_names)

    def observation(self, reply: str) -> int:
        """Parse one reply with the task's schema and map it to ``y``; ``ParseError`` on failure."""
        from llmas.parsing import parse_json_reply

        return int(self.task.action_from_reply(parse_json_reply(reply, self.task.schema)))

    def sensor_from_replies(self, states: Sequence[int], replies: Sequence[str], *, source: str = "",
                            labels: str = "full", meta: dict | None = None) -> SensorData:
        """SensorData from raw replies (unparsable ones are counted in ``failures``)."""
        d = SensorData.from_replies(states, replies, self.observation, self.n_states, self.n_obs,
                                    state_labels=self.state_labels, obs_labels=self.obs_labels, source=source,
                                    meta=dict(meta or {}, task=self.task.design()))
        return self.coarsen(d, labels)

    def coarsen(self, sensor: SensorData, labels: str = "full") -> SensorData:
        """Apply the coarsening named ``labels`` (``"full"``: none)."""
        if labels == "full":
            return sensor
        if labels not in self.task.coarsenings:
            raise ValueError(f"task {self.name!r} has no label coarsening {labels!r}; "
                             f"expected 'full' or one of {sorted(self.task.coarsenings)}")
        c: Coarsening = self.task.coarsenings[labels]
        out = sensor.coarsen(c.state_map, c.obs_map, state_labels=c.state_labels, obs_labels=c.obs_labels)
        out.meta["labels"] = {"name": labels, "description": c.description}
        return out

    def environment(self, corpus, i: int):
        """The decision problem a text is labelled in: the task's first environment for that text."""
        return self.task.environment(corpus, 0, i)

    def prompts(self, corpus) -> list:
        """The task's JSON prompt for every item of a corpus."""
        return [self.task.json_prompt(corpus, i, self.environment(corpus, i)) for i in range(len(corpus))]

    def question_prompts(self, corpus) -> list:
        """The task's Yes/No questions for every item of a corpus (item-major)."""
        return [q for i in range(len(corpus))
                for q in self.task.question_prompts(corpus, i, self.environment(corpus, i))]

    def load_corpus(self, source: str = "bundled", path: str | Path | None = None):
        """The task's corpus (bundled offline corpus by default)."""
        return self.task.load_corpus(source, path=None if path is None else str(path))


def herd_task_names() -> list[str]:
    """Tasks usable as sensors: RIBUM tasks with a corpus."""
    return task_names("ribum")


def get_herd_task(name: str | Task) -> HerdTask:
    """The herding task on the registered task ``name`` (any task of kind ``ribum``).

    Examples
    --------
    >>> t = get_herd_task("hate_speech")
    >>> t.n_states, t.n_obs, sorted(t.coarsenings)
    (6, 6, ['binary'])
    >>> t.observation('{"is_insulting": true, "is_dehumanizing": false, "is_humiliating": true, '
    ...               '"promotes_violence": false, "promotes_genocide": false, "is_respectful": false}')
    3
    >>> p = get_herd_task("product_quality")
    >>> p.n_states, p.n_obs
    (2, 8)
    """
    t = get_task(name)
    if t.kind != "ribum":
        raise ValueError(f"task {t.name!r} has kind {t.kind!r}; herding needs a labelling task "
                         f"(one of {herd_task_names()})")
    return HerdTask(t)


def _pick(columns: Sequence[str], candidates: Sequence[str], given: str | None, what: str, path) -> str | None:
    if given is not None:
        if given not in columns:
            raise ValueError(f"{path}: no column {given!r} ({what}); columns are {list(columns)}")
        return given
    for c in candidates:
        if c in columns:
            return c
    return None


def load_responses(path: str | Path, task: str | Task = "hate_speech", *, labels: str = "full",
                   state_column: str | None = None, reply_column: str | None = None,
                   label_column: str | None = None, format: str | None = None) -> SensorData:
    """Readings a user already has: a CSV or JSONL file with a state and a reply or a label per row.

    Columns (found by name unless given): state (``state``, ``x``,
    ``true_state``) and either a raw reply (``response``, ``reply``,
    ``completion``, ``output``), parsed with the task's schema and mapped to
    ``y``, or an integer label (``label``, ``observation``, ``action``, ``y``)
    in ``0..Y-1``. With both, the label wins.

    Example: the Mistral-7B replies of the paper,
    ``load_responses("../shared/data/mhs_mistral/mistral7b_responses.csv")``.
    """
    t = get_herd_task(task)
    rows = read_table(path, format)
    if not rows:
        raise ValueError(f"{path}: no rows (an empty file, or a header without data)")
    cols = rows.columns
    sc = _pick(cols, STATE_COLUMNS, state_column, "state", path)
    if sc is None:
        raise ValueError(f"{path}: no state column (expected one of {STATE_COLUMNS}); columns are {cols}")
    lc = _pick(cols, LABEL_COLUMNS, label_column, "label", path)
    rc = _pick(cols, REPLY_COLUMNS, reply_column, "reply", path) if lc is None else None
    if lc is None and rc is None:
        raise ValueError(f"{path}: need a reply column {REPLY_COLUMNS} or a label column {LABEL_COLUMNS}; "
                         f"columns are {cols}")
    states = [rows.integer(i, sc, t.n_states) for i in range(len(rows))]
    meta = {"file": str(path), "state_column": sc, "reply_column": rc, "label_column": lc}
    if rc is not None:
        replies = []
        for i, r in enumerate(rows):
            if rc not in r:
                raise ValueError(f"{rows.where(i)}: no {rc!r} field")
            replies.append("" if r[rc] is None else str(r[rc]))
        return t.sensor_from_replies(states, replies, source=str(path), labels=labels, meta=meta)

    def to_int(v: Any) -> int:  # a label that is not an integer is a counted failure, like an unparsable reply
        try:
            if isinstance(v, (bool, dict, list)):
                raise TypeError
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"label {v!r} is not an integer") from None
        if not np.isfinite(f) or f != int(f):
            raise ValueError(f"label {v!r} is not an integer")
        return int(f)

    d = SensorData.from_replies(states, [r.get(lc) for r in rows], to_int, t.n_states, t.n_obs,
                                state_labels=t.state_labels, obs_labels=t.obs_labels, source=str(path),
                                meta=dict(meta, task=t.task.design()))
    return t.coarsen(d, labels)


def label_corpus(backend, task: str | Task = "hate_speech", corpus=None, *, labels: str = "full",
                 mode: str = "sample", temperature: float = 0.0, max_tokens: int = 96, seed: int = 0,
                 draws_per_text: int = 10, progress: bool = False) -> SensorData:
    r"""Ask an LLM backend to label every text of a corpus.

    ``mode="sample"``: the paper's JSON prompt; each reply is parsed with the
    task's schema and mapped to ``y`` (unparsable replies are counted).
    ``temperature = 0`` (greedy) makes each text's label deterministic; with
    ``temperature > 0`` the ``seed`` fixes the sample.

    ``mode="logprobs"``: every flag of the design is asked as its own Yes/No
    question and ``q = P(Yes)`` is read exactly from the next-token
    log-probabilities (``backend.choice_probs``); the label distribution of a
    text is the design's ``action_probs_from_yes(q)`` (independent questions),
    ``B`` is estimated from the expected counts ``N[x, y] = sum_i P(y | text_i)``,
    and ``draws_per_text`` labels per text, drawn with ``seed``, are what the
    simulated agents resample. Nothing fails to parse in this mode.

    Replies go through the backend's response cache, so a rerun makes no model calls.

    Returns
    -------
    SensorData
        One reading ``(x_i, y_i)`` per text (``draws_per_text`` per text in
        ``logprobs`` mode), X and Y of the task (or of the ``labels`` coarsening).

    Examples
    --------
    A planted (known-kernel, no-LLM) rater on the bundled corpus; a real model is
    used the same way, e.g. ``label_corpus(TransformersBackend(path), ...)``:

    >>> from llmsl.audit.synthetic import planted_rational
    >>> corpus = get_herd_task("hate_speech").load_corpus()
    >>> d = label_corpus(planted_rational(corpus, cache=False), "hate_speech", corpus, labels="binary")
    >>> d.n_states, d.n_obs, d.n == len(corpus), d.n_failed
    (2, 2, True, 0)
    >>> int(d.counts().sum()) == len(corpus)
    True
    """
    t = get_herd_task(task)
    corpus = t.load_corpus() if corpus is None else corpus
    if len(corpus) == 0:
        raise ValueError("the corpus is empty")
    if mode == "logprobs":
        return _label_logprobs(backend, t, corpus, labels=labels, seed=seed, draws_per_text=draws_per_text,
                               progress=progress)
    if mode != "sample":
        raise ValueError(f"mode must be 'sample' or 'logprobs', got {mode!r}")
    prompts = t.prompts(corpus)
    decoding: dict[str, Any] = {"temperature": float(temperature), "max_tokens": int(max_tokens)}
    if temperature > 0:
        decoding["seed"] = int(seed)
    n_before = backend.n_calls
    replies = backend.complete_batch(prompts, progress=progress, **decoding)
    meta = {"corpus": corpus.to_dict(), "backend": getattr(backend, "name", type(backend).__name__),
            "model": backend.model, "mode": "sample", "decoding": decoding, "n_model_calls": backend.n_calls - n_before,
            "n_cached": len(prompts) - (backend.n_calls - n_before)}
    return t.sensor_from_replies(corpus.states.tolist(), replies,
                                 source=f"{meta['backend']}:{backend.model} on {corpus.name}",
                                 labels=labels, meta=meta)


def _label_logprobs(backend, t: HerdTask, corpus, *, labels: str, seed: int, draws_per_text: int,
                    progress: bool) -> SensorData:
    if int(draws_per_text) != draws_per_text or draws_per_text < 1:
        raise ValueError(f"draws_per_text must be a positive integer, got {draws_per_text}")
    task = t.task
    prompts = t.question_prompts(corpus)
    n_q = len(prompts) // len(corpus)
    n_before = backend.n_calls
    probs = backend.choice_probs(prompts, list(task.choices), progress=progress)
    method = getattr(probs, "method", getattr(backend, "last_choice_method", None))
    q = np.asarray(probs, dtype=float)[:, 0].reshape(len(corpus), n_q)
    P = task.action_law(q)  # (n, Y)
    X, Y = t.n_states, t.n_obs
    ec = np.zeros((X, Y))
    np.add.at(ec, corpus.states, P)
    rng = np.random.default_rng(seed)
    cum = np.cumsum(P, axis=1)
    u = rng.random((len(corpus), int(draws_per_text)))
    draws = np.minimum((u[:, :, None] * cum[:, -1:, None] >= cum[:, None, :]).sum(axis=2), Y - 1)
    states = np.repeat(corpus.states, int(draws_per_text))
    meta = {"corpus": corpus.to_dict(), "backend": getattr(backend, "name", type(backend).__name__),
            "model": backend.model, "mode": "logprobs", "choice_method": method,
            "decoding": {"choices": list(task.choices), "questions": list(task.questions)},
            "draws_per_text": int(draws_per_text), "seed": int(seed),
            "n_model_calls": backend.n_calls - n_before, "n_cached": len(prompts) - (backend.n_calls - n_before),
            "p_yes": q.tolist(), "task": task.design()}
    sd = SensorData(states, draws.ravel(), X, Y, t.state_labels, t.obs_labels, [],
                    f"{meta['backend']}:{backend.model} on {corpus.name} (exact label probabilities)", meta, ec)
    return t.coarsen(sd, labels)
