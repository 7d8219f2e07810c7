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

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from .sensor import SensorData, read_table

__all__ = ["HerdTask", "get_herd_task", "HERD_TASKS", "load_responses", "label_corpus"]

STATE_COLUMNS = ("state", "x", "true_state")
REPLY_COLUMNS = ("response", "reply", "completion", "output", "text_reply")
LABEL_COLUMNS = ("label", "observation", "action", "y")


@dataclass(frozen=True)
class Coarsening:
    """A merge of states and observations (see :meth:`SensorData.coarsen`)."""

    state_map: tuple[int, ...] | None
    obs_map: tuple[int, ...] | None
    state_labels: tuple[str, ...] | None
    obs_labels: tuple[str, ...] | None
    description: str


@dataclass(frozen=True)
class HerdTask:
    """A labelling task of the herding pipeline, built on an audit design module."""

    name: str
    design: ModuleType = field(repr=False)
    coarsenings: dict = field(default_factory=dict, repr=False)

    @property
    def n_states(self) -> int:
        return int(self.design.N_STATES)

    @property
    def n_obs(self) -> int:
        return int(self.design.N_ACTIONS)

    @property
    def state_labels(self) -> list[str]:
        return list(self.design.STATE_NAMES)

    @property
    def obs_labels(self) -> list[str]:
        return list(self.design.ACTION_NAMES)

    def observation(self, reply: str) -> int:
        """Parse one reply with the design's schema and map it to ``y``; ``ParseError`` on failure."""
        from llmas.parsing import parse_json_reply

        return int(self.design.action_from_flags(parse_json_reply(reply, self.design.SCHEMA)))

    def sensor_from_replies(self, states: Sequence[int], replies: Sequence[str], *, source: str = "",
                            labels: str = "full", meta: dict | None = None) -> SensorData:
        """SensorData from raw replies (unparsable ones are counted in ``failures``)."""
        d = SensorData.from_replies(states, replies, self.observation, self.n_states, self.n_obs,
                                    state_labels=self.state_labels, obs_labels=self.obs_labels, source=source,
                                    meta=dict(meta or {}, task=self.design.design()))
        return self.coarsen(d, labels)

    def coarsen(self, sensor: SensorData, labels: str = "full") -> SensorData:
        """Apply the coarsening named ``labels`` (``"full"``: none)."""
        if labels == "full":
            return sensor
        if labels not in self.coarsenings:
            raise ValueError(f"task {self.name!r} has no label coarsening {labels!r}; "
                             f"expected 'full' or one of {sorted(self.coarsenings)}")
        c: Coarsening = self.coarsenings[labels]
        out = sensor.coarsen(c.state_map, c.obs_map, state_labels=c.state_labels, obs_labels=c.obs_labels)
        out.meta["labels"] = {"name": labels, "description": c.description}
        return out

    def prompts(self, corpus) -> list:
        """The design's JSON prompt for every item of a corpus."""
        if self.name == "hate_speech":
            return [self.design.json_prompt(t) for t in corpus.texts]
        if corpus.products is None or corpus.environments is None:
            raise ValueError("product reviews need product names and star ratings")
        return [self.design.json_prompt(t, p, int(s))
                for t, p, s in zip(corpus.texts, corpus.products, corpus.environments)]

    def load_corpus(self, source: str = "bundled", path: str | Path | None = None):
        """The task's corpus (bundled offline corpus by default)."""
        from llmas import corpora

        if self.name == "hate_speech":
            return corpora.load_hate_speech(source, path=path)
        return corpora.load_product_reviews(source, path=path)


def _tasks() -> dict[str, HerdTask]:
    from llmas.tasks import hate_speech as hs
    from llmas.tasks import product_quality as pq

    return {
        "hate_speech": HerdTask("hate_speech", hs, {
            "binary": Coarsening((0, 1, 1, 1, 1, 1), (0, 1, 1, 1, 1, 1), ("not hateful", "hateful"),
                                 ("no flag", "flagged"),
                                 "states {0} vs {1..5}; observation: any of the first five flags true"),
        }),
        "product_quality": HerdTask("product_quality", pq, {
            "binary": Coarsening(None, tuple(a & 1 for a in range(8)), None, ("not recommended", "recommended"),
                                 "observation: would_recommend"),
        }),
    }


HERD_TASKS = ("hate_speech", "product_quality")


def get_herd_task(name: str) -> HerdTask:
    """The herding task ``name`` (one of :data:`HERD_TASKS`).

    ``hate_speech``: X = Y = 6, observation ``y = max_i (i + 1) f_i`` over the
    first five flags ``f``; ``product_quality``: X = 2, Y = 8, ``y = 4 d + 2 m + r``.

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
    tasks = _tasks()
    if name not in tasks:
        raise ValueError(f"unknown herding task {name!r}; expected one of {sorted(tasks)}")
    return tasks[name]


def _pick(columns: Sequence[str], candidates: Sequence[str], given: str | None, what: str, path) -> str | None:
    if given is not None:
        if given not in columns:
            raise ValueError(f"{path}: no column {given!r} ({what}); columns are {list(columns)}")
        return given
    for c in candidates:
        if c in columns:
            return c
    return None


def load_responses(path: str | Path, task: str = "hate_speech", *, labels: str = "full",
                   state_column: str | None = None, reply_column: str | None = None,
                   label_column: str | None = None) -> SensorData:
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
    rows = read_table(path)
    if not rows:
        raise ValueError(f"{path}: no rows")
    cols = list(rows[0].keys())
    sc = _pick(cols, STATE_COLUMNS, state_column, "state", path)
    if sc is None:
        raise ValueError(f"{path}: no state column (expected one of {STATE_COLUMNS}); columns are {cols}")
    lc = _pick(cols, LABEL_COLUMNS, label_column, "label", path)
    rc = _pick(cols, REPLY_COLUMNS, reply_column, "reply", path) if lc is None else None
    if lc is None and rc is None:
        raise ValueError(f"{path}: need a reply column {REPLY_COLUMNS} or a label column {LABEL_COLUMNS}; "
                         f"columns are {cols}")
    try:
        states = [int(float(r[sc])) for r in rows]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: state column {sc!r} holds a non-integer value ({exc})") from None
    bad = [s for s in states if not 0 <= s < t.n_states]
    if bad:
        raise ValueError(f"{path}: state {bad[0]} outside 0..{t.n_states - 1} for task {task!r}")
    meta = {"file": str(path), "state_column": sc, "reply_column": rc, "label_column": lc}
    if rc is not None:
        return t.sensor_from_replies(states, [str(r[rc]) for r in rows], source=str(path), labels=labels,
                                     meta=meta)

    def to_int(v: Any) -> int:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"label {v!r} is not an integer") from None
        if not np.isfinite(f) or f != int(f):
            raise ValueError(f"label {v!r} is not an integer")
        return int(f)

    d = SensorData.from_replies(states, [r[lc] for r in rows], to_int, t.n_states, t.n_obs,
                                state_labels=t.state_labels, obs_labels=t.obs_labels, source=str(path),
                                meta=dict(meta, task=t.design.design()))
    return t.coarsen(d, labels)


def label_corpus(backend, task: str = "hate_speech", corpus=None, *, labels: str = "full",
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

    >>> from llmas.auditing.synthetic import planted_rational
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
    d = t.design
    if int(draws_per_text) != draws_per_text or draws_per_text < 1:
        raise ValueError(f"draws_per_text must be a positive integer, got {draws_per_text}")
    flags = list(d.ACTION_FLAGS)
    if t.name == "hate_speech":
        prompts = [d.question_prompt(text, f) for text in corpus.texts for f in flags]
    else:
        if corpus.products is None or corpus.environments is None:
            raise ValueError("product reviews need product names and star ratings")
        prompts = [d.question_prompt(text, prod, int(s), f)
                   for text, prod, s in zip(corpus.texts, corpus.products, corpus.environments) for f in flags]
    n_before = backend.n_calls
    probs = backend.choice_probs(prompts, list(d.YES_NO), progress=progress)
    method = getattr(probs, "method", getattr(backend, "last_choice_method", None))
    q = np.asarray(probs, dtype=float)[:, 0].reshape(len(corpus), len(flags))
    P = d.action_probs_from_yes(q)  # (n, Y)
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
            "decoding": {"choices": list(d.YES_NO), "questions": flags},
            "draws_per_text": int(draws_per_text), "seed": int(seed),
            "n_model_calls": backend.n_calls - n_before, "n_cached": len(prompts) - (backend.n_calls - n_before),
            "p_yes": q.tolist(), "task": d.design()}
    sd = SensorData(states, draws.ravel(), X, Y, t.state_labels, t.obs_labels, [],
                    f"{meta['backend']}:{backend.model} on {corpus.name} (exact label probabilities)", meta, ec)
    return t.coarsen(sd, labels)
