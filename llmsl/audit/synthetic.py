r"""Planted agents: backends whose rationality is known, to validate the audit.

A planted agent implements the :class:`llmas.Backend` interface (so it is
cached and counted like a real model) but answers by a known rule instead of a
neural network.  It reads the task item from the prompt (it "sees" the state of
a corpus text it was given, and the environment from the framing), draws its
answer from a fixed action kernel ``p_k(a | x)`` and turns the action into the
task's reply format:

- exact mode (``choice_probs`` over Yes/No): for the hate-speech design the
  kernel is turned into the five P(Yes) values
  ``q_i = p_{i+1} / sum_{a <= i+1} p_a`` whose independent answers give back
  exactly ``p_k(. | x)`` (:func:`llmas.tasks.hate_speech.yes_probs_from_action_probs`);
- sampled mode (``complete``): a JSON reply with flags that map to an action
  drawn from ``p_k(. | x)`` (deterministically from the request, so replies are
  reproducible), a fraction ``malformed`` of replies being garbage text;
- budget design: a Cobb-Douglas subject (constant budget share ``alpha``:
  rational) or one whose share is a fresh uniform draw for every budget line
  (irrational).

Kernels:

- :func:`shannon_kernels`: the rationally inattentive (Shannon-cost) strategy,
  ``p(a | x) = p(a) exp(r(x, a) / lam) / sum_b p(b) exp(r(x, b) / lam)``, with
  ``p(a) = sum_x pi0(x) p(a | x)`` solved by Blahut-Arimoto (Matejka & McKay
  2015); it satisfies NIAS and NIAC (Caplin & Dean 2015).
- :func:`split_kernels`: the same strategy with two actions merged and then
  split evenly, so both reveal the same posterior; NIAS then forces the LP
  margin to be <= 0 (the two NIAS inequalities between them add to 2 m <= 0).
- :func:`incentive_kernels`: Shannon strategies for one utility moved by the
  stated incentives of a stakes design, ``r_k = r + scale * Delta_k``; they pass
  the shared-utility test (SPEC 1c). :func:`task_locator` finds the environment
  of a prompt in any hate-speech design (``hate_speech``, ``hate_speech_stakes``)
  from its system message.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from llmas.backends.base import Backend
from llmas.corpora import Corpus, load_hate_speech
from llmas.tasks import budget as _budget
from llmas.tasks import hate_speech as _hs
from llmas.tasks.base import system_text, user_text


def blahut_arimoto(utility, prior, lam: float, *, n_iter: int = 2000, tol: float = 1e-12) -> np.ndarray:
    r"""Shannon rational-inattention strategy for one decision problem.

    Fixed point of ``p(a|x) = p(a) e^{r(x,a)/lam} / sum_b p(b) e^{r(x,b)/lam}``,
    ``p(a) = sum_x pi0(x) p(a|x)`` (Matejka & McKay 2015).

    Parameters
    ----------
    utility : (X, A) array ``r(x, a)``; prior : (X,); lam : information cost > 0.

    Returns
    -------
    (X, A) row-stochastic kernel.

    >>> k = blahut_arimoto([[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5], 0.1)
    >>> bool(k[0, 0] > 0.99 and k[1, 1] > 0.99)
    True
    """
    r = np.asarray(utility, dtype=float)
    pi = np.asarray(prior, dtype=float)
    if lam <= 0:
        raise ValueError(f"lam must be positive, got {lam}")
    if r.ndim != 2 or pi.shape != (r.shape[0],):
        raise ValueError(f"utility (X, A) and prior (X,) do not match: {r.shape}, {pi.shape}")
    w = np.exp((r - r.max(axis=1, keepdims=True)) / lam)
    pa = np.full(r.shape[1], 1.0 / r.shape[1])
    for _ in range(n_iter):
        k = pa * w
        k /= k.sum(axis=1, keepdims=True)
        new = pi @ k
        if np.abs(new - pa).max() < tol:
            pa = new
            break
        pa = new
    k = pa * w
    return k / k.sum(axis=1, keepdims=True)


def hate_speech_utilities() -> np.ndarray:
    """Planted utilities (3, 6, 6) for the three hate-speech environments.

    ``r_k(x, a) = -w_k(x, a) |x - a|``: ``neutral`` weighs every error 1;
    ``protect_users`` weighs under-flagging (``a < x``) 3 and ``protect_speech``
    weighs over-flagging (``a > x``) 3.
    """
    x = np.arange(6)[:, None]
    a = np.arange(6)[None, :]
    err = np.abs(x - a).astype(float)
    under, over = (a < x), (a > x)
    return np.stack([-err, -err * np.where(under, 3.0, 1.0), -err * np.where(over, 3.0, 1.0)])


def shannon_kernels(utilities=None, prior=None, lam: float = 0.7) -> np.ndarray:
    """Shannon rational-inattention kernels (K, X, A), one per environment.

    Defaults: :func:`hate_speech_utilities` and a uniform prior.
    """
    r = hate_speech_utilities() if utilities is None else np.asarray(utilities, dtype=float)
    pi = np.full(r.shape[1], 1.0 / r.shape[1]) if prior is None else np.asarray(prior, dtype=float)
    return np.stack([blahut_arimoto(rk, pi, lam) for rk in r])


def split_kernels(kernels, a: int = 1, b: int = 2) -> np.ndarray:
    """Merge actions ``a`` and ``b`` and split the merged mass evenly between them.

    Both actions then reveal the same posterior, which no strict-margin RIBUM
    rationalization allows.
    """
    k = np.array(kernels, dtype=float, copy=True)
    merged = k[..., a] + k[..., b]
    k[..., a] = k[..., b] = merged / 2
    return k


def incentive_kernels(utility, incentives, prior=None, *, lam: float = 0.7, scale: float = 1.0) -> np.ndarray:
    r"""Shannon kernels (K, X, A) of one agent with utility ``r`` (X, A) facing stated incentives.

    Environment k's utility is ``r_k = r + scale * Delta_k`` (``incentives``
    (K, X, A)), and its strategy the Shannon one (:func:`blahut_arimoto`):
    the agent the shared-utility test (SPEC 1c) must accept.

    >>> d = np.stack([np.zeros((2, 2)), np.eye(2)])
    >>> k = incentive_kernels(np.zeros((2, 2)), d, lam=0.5)
    >>> bool(k[1, 0, 0] > k[0, 0, 0])  # attends more when the correct label pays
    True
    """
    r = np.asarray(utility, dtype=float)
    d = np.asarray(incentives, dtype=float)
    if d.ndim != 3 or d.shape[1:] != r.shape:
        raise ValueError(f"incentives must be (K, X, A) with (X, A) = {r.shape}, got {d.shape}")
    return shannon_kernels(r[None] + scale * d, prior, lam=lam)


def _unit_hash(*parts: Any) -> int:
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(h[:8], "little")


class PlantedAgent(Backend):
    """A backend answering by a known action kernel (see the module docstring).

    Parameters
    ----------
    kernels : (K, X, A) action kernels, one per environment of ``task``.
    locate : callable ``messages -> (k, x)`` giving the environment and state
        of a prompt.
    task : ``"hate_speech"`` (the only RIBUM design with an onto exact map).
    malformed : fraction of sampled replies that are unparsable text.
    label : model id shown in reports and cache keys.
    """

    name = "planted"

    def __init__(self, kernels, locate: Callable[[list[dict[str, str]]], tuple[int, int]], *,
                 task: str = "hate_speech", malformed: float = 0.0, label: str = "planted",
                 cache=False):
        super().__init__(label, cache=cache)
        self.kernels = np.asarray(kernels, dtype=float)
        if self.kernels.ndim != 3 or not np.allclose(self.kernels.sum(axis=2), 1.0):
            raise ValueError("kernels must be (K, X, A) with rows summing to 1")
        if task != "hate_speech":
            raise ValueError("planted RIBUM agents implement the hate_speech design")
        if not 0 <= malformed < 1:
            raise ValueError("malformed must lie in [0, 1)")
        self.locate = locate
        self.malformed = float(malformed)

    def _key_extra(self) -> dict[str, Any]:
        return {"kernels": np.round(self.kernels, 12).tolist(), "malformed": self.malformed}

    def _choice_missing(self, requests, store) -> None:
        for i, req in enumerate(requests):
            if list(req["choices"]) != list(_hs.YES_NO):
                raise ValueError(f"planted agent answers Yes/No questions, got choices {req['choices']}")
            k, x = self.locate(req["messages"])
            text = user_text(req["messages"])
            flag = next(f for f, q in _hs.QUESTIONS.items() if q in text)
            if flag not in _hs.ACTION_FLAGS:
                q = 0.5
            else:
                q = float(_hs.yes_probs_from_action_probs(self.kernels[k, x])[_hs.ACTION_FLAGS.index(flag)])
            # -1e4 underflows to an exact 0 after normalization (JSON has no -inf), so
            # actions the kernel never takes get probability exactly 0, not 1e-16
            store(i, {"logprobs": [float(np.log(q)) if q > 0 else -1e4,
                                   float(np.log1p(-q)) if q < 1 else -1e4]})

    def _complete_missing(self, requests, store) -> None:
        for i, req in enumerate(requests):
            rng = np.random.default_rng(_unit_hash(req))
            if rng.random() < self.malformed:
                store(i, "I am not able to rate this text, sorry. {is_insulting: maybe")
                continue
            k, x = self.locate(req["messages"])
            a = int(rng.choice(self.kernels.shape[2], p=self.kernels[k, x]))
            flags = _hs.flags_for_action(a, rng)
            store(i, " " + json.dumps(flags) + "\n\nThis rating is planted.")


def hate_speech_locator(corpus: Corpus | None = None) -> Callable[[list[dict[str, str]]], tuple[int, int]]:
    """``messages -> (k, x)`` for hate-speech prompts built from ``corpus`` (:func:`task_locator`)."""
    return task_locator("hate_speech", load_hate_speech() if corpus is None else corpus)


def task_locator(task: Any = "hate_speech", corpus: Corpus | None = None
                 ) -> Callable[[list[dict[str, str]]], tuple[int, int]]:
    """``messages -> (k, x)`` for the prompts of a hate-speech design ``task`` (a name or a
    :class:`llmas.tasks.Task` whose questions are the hate-speech ones), built from ``corpus``
    (default: the task's bundled corpus); ``k`` indexes ``task.environments``."""
    from llmas.tasks import get_task

    t = get_task(task)
    corpus = t.load_corpus() if corpus is None else corpus
    states = {text: int(s) for text, s in zip(corpus.texts, corpus.states, strict=True)}
    systems = {e.system: k for k, e in enumerate(t.environments)}

    def locate(msgs):
        k = systems.get(system_text(msgs))
        if k is None:
            raise ValueError(f"prompt is in no known {t.name} environment")
        body = user_text(msgs)
        for text, s in states.items():
            if text in body:
                return k, s
        raise ValueError("prompt contains no known corpus text")

    return locate


def planted_rational(corpus: Corpus | None = None, *, lam: float = 0.7, malformed: float = 0.0,
                     cache=False) -> PlantedAgent:
    """A Shannon rationally inattentive hate-speech rater (passes RIBUM)."""
    return PlantedAgent(shannon_kernels(lam=lam), hate_speech_locator(corpus), malformed=malformed,
                        label=f"planted-shannon-lam{lam:g}", cache=cache)


def planted_irrational(corpus: Corpus | None = None, *, lam: float = 0.7, malformed: float = 0.0,
                       cache=False) -> PlantedAgent:
    """The rational rater with actions 1 and 2 split evenly (fails RIBUM)."""
    return PlantedAgent(split_kernels(shannon_kernels(lam=lam)), hate_speech_locator(corpus),
                        malformed=malformed, label=f"planted-split-lam{lam:g}", cache=cache)


class PlantedBudgetAgent(Backend):
    """A budget-task subject: Cobb-Douglas (``kind="rational"``) or random.

    ``rational``: the share spent on good 1 is ``alpha``, a number in
    [0.2, 0.8] fixed by the persona, whatever the prices (Cobb-Douglas demand;
    it passes GARP exactly).  Exact mode puts the probability mass on the two
    grid shares around ``alpha`` so that their mean is ``alpha``.
    ``random``: a fresh uniform share for every budget line (fails GARP with
    high probability at 25 budgets).
    """

    name = "planted"

    def __init__(self, kind: str = "rational", *, cache=False):
        if kind not in ("rational", "random"):
            raise ValueError(f"kind must be 'rational' or 'random', got {kind!r}")
        super().__init__(f"planted-budget-{kind}", cache=cache)
        self.kind = kind

    def _share(self, req) -> float:
        persona = system_text(req["messages"]) or ""
        if self.kind == "rational":
            return 0.2 + 0.6 * (_unit_hash("alpha", persona) % 1000) / 999
        return (_unit_hash("share", req["messages"]) % 100001) / 100000

    def _choice_missing(self, requests, store) -> None:
        for i, req in enumerate(requests):
            if list(req["choices"]) != list(_budget.CHOICES):
                raise ValueError("planted budget agent answers the budget task's share choices")
            s = self._share(req)
            pos = s * (_budget.N_POINTS - 1)
            lo = min(int(np.floor(pos)), _budget.N_POINTS - 2)
            frac = pos - lo
            p = np.zeros(_budget.N_POINTS)
            p[lo], p[lo + 1] = 1 - frac, frac
            with np.errstate(divide="ignore"):
                lp = np.where(p > 0, np.log(np.maximum(p, 1e-300)), -1e4)
            store(i, {"logprobs": lp.tolist()})

    def _complete_missing(self, requests, store) -> None:
        for i, req in enumerate(requests):
            store(i, json.dumps({"percent": round(100 * self._share(req), 3)}))


__all__ = [
    "PlantedAgent", "PlantedBudgetAgent", "blahut_arimoto", "shannon_kernels", "split_kernels",
    "hate_speech_utilities", "hate_speech_locator", "planted_rational", "planted_irrational",
    "incentive_kernels", "task_locator",
]
