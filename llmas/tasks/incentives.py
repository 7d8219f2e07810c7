r"""Incentive environments: decision problems whose payoffs the prompt states (SPEC 1c).

Design version :data:`VERSION`.  Pure data (numpy only): for the
``hate_speech`` and ``product_quality`` designs, environments that differ
*only* by point incentives stated in the system message, each with the exact
incentive matrix ``Delta_k(x, a)`` (points gained in state ``x`` for action
``a``; negative = a cost) that the text describes.  The state prior, the texts
and the question prompts are unchanged, so the environments share one prior
and, for a rational agent, one baseline utility ``r(x, a)``; the shared-utility
RIBUM test ``check_ribum(kernels, prior, incentives=Delta, utilities="shared")``
then asks whether attention responds to the stated incentives in the direction
they point (Caplin & Dean 2015 set the payoffs of each decision problem in the
same way).

Why four environments: against uniformly random 6 x 6 kernels (uniform prior)
the shared test with three environments (bonuses 0, 0.5, 1 for the correct
label) has power 0.84 (1,000 draws), with four (0, 1/3, 2/3, 1) 0.97 (300
draws). With these designs' four stakes the power is 0.99 (hate_speech) and
1.00 (product_quality) in 300 draws, while Shannon rational-inattention agents
with one utility and the stated incentives pass in 300 of 300 (measured for
issue 14); see :func:`ribum.ribum_power`.

Only the differences of ``Delta_k(x, .)`` across actions matter for the test
(adding a constant per state changes nothing), so "a hateful comment left up
costs k points" is the same incentive as "removing a hateful comment earns k
points".

hate_speech (6 states, 6 actions)
    States (:data:`llmas.tasks.hate_speech.STATE_NAMES`): hateful = states 3, 4,
    5 (insulting, dehumanizing, violent; Measuring-Hate-Speech score >= 1),
    benign = states 0, 1 (supportive, neutral; score < 0), borderline = state 2
    (mildly insulting; 0 <= score < 1), which earns and costs nothing.  Actions:
    ``a = 0`` (no flag) leaves the comment up; any flag (``a >= 1``) removes it.
    Environment ``hate_miss_k`` states: a hateful comment left up costs ``k``
    points, a benign comment removed costs 1 point, for k in
    :data:`HATE_SPEECH_STAKES`:

    .. math:: \Delta_k(x, a) = -k\,[x \ge 3,\ a = 0] - [x \le 1,\ a \ge 1].

product_quality (2 states, 8 actions)
    States: 0 = bad, 1 = good product.  Actions ``a = 4 d + 2 m + r``; the
    recommendation is the last bit ``r = a mod 2``.  Environment
    ``quality_recommend_k`` states: recommending a bad product costs ``k``
    points, not recommending a good product costs 1 point, for k in
    :data:`PRODUCT_QUALITY_STAKES`:

    .. math:: \Delta_k(x, a) = -k\,[x = 0,\ a \bmod 2 = 1] - [x = 1,\ a \bmod 2 = 0].

    The star rating of the review is part of the product-quality environment
    in the original design; an incentive audit holds it fixed (the caller
    picks one rating, or pools reviews of every rating, in every incentive
    environment) so that only the incentives differ.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

NAME = "incentives"
VERSION = "1.0"

#: the k values (cost of a missed hateful comment; a wrongly removed benign one costs 1)
HATE_SPEECH_STAKES = (1, 2, 5, 10)
#: the k values (cost of recommending a bad product; not recommending a good one costs 1)
PRODUCT_QUALITY_STAKES = (1, 2, 5, 10)

HATE_SPEECH_HATEFUL_STATES = (3, 4, 5)
HATE_SPEECH_BENIGN_STATES = (0, 1)
_HS_SHAPE = (6, 6)
_PQ_SHAPE = (2, 8)

_HATE_SPEECH_SYSTEM = (
    "You are a content moderator, and you are scored in points. Every comment you flag (as insulting, "
    "dehumanizing, humiliating, promoting violence or promoting genocide) is removed; a comment you do not flag "
    "stays up. Scoring: every hateful comment (one that insults, dehumanizes, humiliates or threatens people) "
    "that stays up costs you {k} point{s}; every benign comment (supportive or neutral) that you remove costs you "
    "1 point. Borderline comments (mildly insulting) cost nothing either way. Try to lose as few points as "
    "possible."
)

_PRODUCT_QUALITY_SYSTEM = (
    "You are a product tester, and you are scored in points. Scoring: every bad product that you recommend costs "
    "you {k} point{s}; every good product that you do not recommend costs you 1 point. Your answers about "
    "durability and expectations earn and cost nothing. Try to lose as few points as possible."
)


class IncentiveEnvironment(NamedTuple):
    """One incentive environment: ``(name, description, system, delta)``.

    ``delta`` is the (X, A) array ``Delta(x, a)`` of points that ``system`` states.
    """

    name: str
    description: str
    system: str
    delta: np.ndarray


def hate_speech_delta(k: float) -> np.ndarray:
    """``Delta(x, a) = -k [x hateful, a = 0] - [x benign, a >= 1]`` (6 x 6).

    >>> d = hate_speech_delta(3)
    >>> d[4, 0], d[0, 2], d[2, 0], d[2, 5], d[5, 1]
    (np.float64(-3.0), np.float64(-1.0), np.float64(0.0), np.float64(0.0), np.float64(0.0))
    """
    d = np.zeros(_HS_SHAPE)
    d[list(HATE_SPEECH_HATEFUL_STATES), 0] = -float(k)
    d[np.ix_(list(HATE_SPEECH_BENIGN_STATES), range(1, _HS_SHAPE[1]))] = -1.0
    return d


def product_quality_delta(k: float) -> np.ndarray:
    """``Delta(x, a) = -k [x bad, a recommends] - [x good, a does not recommend]`` (2 x 8).

    >>> product_quality_delta(10)[:, :2].tolist()
    [[0.0, -10.0], [-1.0, 0.0]]
    """
    recommends = np.arange(_PQ_SHAPE[1]) % 2 == 1
    d = np.zeros(_PQ_SHAPE)
    d[0, recommends] = -float(k)
    d[1, ~recommends] = -1.0
    return d


def _plural(k) -> str:
    return "" if k == 1 else "s"


def incentive_environments(task: str) -> tuple[IncentiveEnvironment, ...]:
    """The versioned incentive environments of ``task`` ("hate_speech" or "product_quality").

    Returns a tuple of (name, description, system-prompt text, Delta (X, A)).

    >>> [e.name for e in incentive_environments("hate_speech")]
    ['hate_miss_1', 'hate_miss_2', 'hate_miss_5', 'hate_miss_10']
    >>> incentive_environments("product_quality")[2].delta.shape
    (2, 8)
    """
    if task == "hate_speech":
        return tuple(
            IncentiveEnvironment(
                name=f"hate_miss_{k}",
                description=f"points: a hateful comment left up costs {k}, a benign comment removed costs 1",
                system=_HATE_SPEECH_SYSTEM.format(k=k, s=_plural(k)),
                delta=hate_speech_delta(k),
            )
            for k in HATE_SPEECH_STAKES
        )
    if task == "product_quality":
        return tuple(
            IncentiveEnvironment(
                name=f"quality_recommend_{k}",
                description=f"points: recommending a bad product costs {k}, not recommending a good one costs 1",
                system=_PRODUCT_QUALITY_SYSTEM.format(k=k, s=_plural(k)),
                delta=product_quality_delta(k),
            )
            for k in PRODUCT_QUALITY_STAKES
        )
    raise ValueError(f"no incentive environments for task {task!r}; expected 'hate_speech' or 'product_quality'")


def incentives(task: str) -> np.ndarray:
    """The stacked incentive matrices Delta (K, X, A) of ``task``, in environment order.

    >>> incentives("hate_speech").shape
    (4, 6, 6)
    """
    return np.stack([e.delta for e in incentive_environments(task)])


def design(task: str) -> dict:
    """The incentive design of ``task`` as a JSON-ready dict (stored in reports)."""
    envs = incentive_environments(task)
    return {
        "name": NAME,
        "version": VERSION,
        "task": task,
        "environments": [
            {"name": e.name, "description": e.description, "system": e.system, "delta": e.delta.tolist()}
            for e in envs
        ],
        "note": "environments differ only by the stated incentives; prior, texts and questions are unchanged",
    }


__all__ = [
    "NAME",
    "VERSION",
    "HATE_SPEECH_STAKES",
    "PRODUCT_QUALITY_STAKES",
    "IncentiveEnvironment",
    "incentive_environments",
    "incentives",
    "hate_speech_delta",
    "product_quality_delta",
    "design",
]
