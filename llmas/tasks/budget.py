r"""Budget-allocation task (Chen, Liu, Shan & Zhong, PNAS 2023; Choi et al., AER 2007).

Design version :data:`VERSION`.

Budgets
    Two goods.  Each subject faces :data:`N_BUDGETS` = 25 random budget lines
    (:func:`budget_lines`), as in Choi, Fisman, Gale & Kariv (2007): the
    intercepts ``M`` (all on good 1) and ``N`` (all on good 2) are drawn
    uniformly on ``[1, 100]`` points, redrawn until ``max(M, N) >= 50``;
    prices ``p = (1/M, 1/N)`` with income 1, so the line is ``x1/M + x2/N = 1``.

Framings (:data:`FRAMINGS`)
    ``risk`` (Arrow securities paying in one of two equally likely states),
    ``time`` (points today vs in four weeks), ``social`` (points for oneself vs
    an anonymous other person), ``food`` (portions of fruit vs portions of
    bread).

Subjects
    A subject is a (framing, persona) pair; the persona (:data:`PERSONAS`) is
    the system message and its budget lines come from the audit's seed and the
    subject index, so subjects differ in prompt and budgets.

Choice
    The model answers the share of its budget spent on good 1, one of the
    :data:`N_POINTS` = 21 points ``0%, 5%, ..., 100%`` (:data:`CHOICES`; the
    ``%`` makes the labels prefix-free, so ``"10%"`` is not scored as a prefix
    of ``"100%"``).  The bundle is ``x = (s M, (1 - s) N)``
    (:func:`bundle`), always on the budget line.

    *Exact mode*: ``choice_probs`` gives the distribution over the 21 shares;
    the choice is its mean share (default, ``rule="mean"``; the mean of points
    of a line lies on the line) or its mode (``rule="mode"``).  Note that a
    constant share is Cobb-Douglas demand and passes GARP: a model that says
    "50%" whatever the prices is rational in this test, which is why Bronars'
    power and the comparison with uniformly random choices are reported.

    *Sampled mode*: the reply is a JSON ``{"percent": number}`` (schema
    :data:`SCHEMA`), the choice the mean parsed share over the samples;
    replies outside [0, 100] are parse failures.
"""
from __future__ import annotations

import numpy as np

from .base import Environment, Task, messages, register_task

NAME = "budget"
VERSION = "1.0"
N_BUDGETS = 25
N_POINTS = 21
SHARES = np.linspace(0.0, 1.0, N_POINTS)
CHOICES = tuple(f"{round(100 * s)}%" for s in SHARES)
SCHEMA = {"percent": float}
FRAMINGS = ("risk", "time", "social", "food")

PERSONAS = (
    "a retired schoolteacher who lives on a fixed pension",
    "a university student who works part time",
    "a nurse with two young children",
    "a small-business owner who likes taking chances",
    "a careful accountant who plans everything",
    "a farmer who has lived in the same village all his life",
    "a software engineer saving for a house",
    "a musician with an irregular income",
    "a doctor near retirement",
    "a recent immigrant starting a new job",
    "a volunteer who works for a charity",
    "a factory worker who supports an elderly parent",
)

_GOODS = {
    "risk": ("asset A", "asset B"),
    "time": ("points paid today", "points paid in four weeks"),
    "social": ("points for yourself", "points for an anonymous other person"),
    "food": ("portions of fruit", "portions of bread"),
}

_STORY = {
    "risk": (
        "A fair coin will be tossed. Asset A pays only if it lands heads, asset B only if it lands tails. "
        "If you spend your whole budget on asset A you get {M} points if heads (and nothing if tails); "
        "if you spend it all on asset B you get {N} points if tails (and nothing if heads)."
    ),
    "time": (
        "You can receive points today or in four weeks. If you spend your whole budget on today you get "
        "{M} points today; if you spend it all on the later date you get {N} points in four weeks."
    ),
    "social": (
        "You divide points between yourself and an anonymous other person you will never meet. If you spend "
        "your whole budget on yourself you get {M} points; if you spend it all on the other person they get "
        "{N} points."
    ),
    "food": (
        "You buy food for the coming week. If you spend your whole budget on fruit you get {M} portions of "
        "fruit; if you spend it all on bread you get {N} portions of bread."
    ),
}


def environment(persona: str) -> Environment:
    """The subject's environment: its persona as the system message."""
    return Environment(name=persona, description="persona", system=f"You are {persona}.")


def budget_lines(n: int = N_BUDGETS, *, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Choi et al. (2007) budget lines: intercepts ``(M, N)``, shape (n, 2).

    ``M, N ~ U[1, 100]`` i.i.d., redrawn until ``max(M, N) >= 50``; rounded to
    one decimal (as shown in the prompt).  Prices are ``1 / intercepts``.

    >>> budget_lines(3, seed=0).shape
    (3, 2)
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    rng = np.random.default_rng(seed)
    out = np.empty((0, 2))
    while len(out) < n:
        draw = rng.uniform(1.0, 100.0, size=(2 * n, 2))
        out = np.vstack([out, draw[draw.max(axis=1) >= 50.0]])
    return np.round(out[:n], 1)


def prices(intercepts) -> np.ndarray:
    """Prices ``p = (1/M, 1/N)`` for income 1, shape (n, 2)."""
    it = np.asarray(intercepts, dtype=float)
    if it.ndim != 2 or it.shape[1] != 2 or (it <= 0).any() or np.isnan(it).any():
        raise ValueError("intercepts must be an (n, 2) array of positive numbers")
    return 1.0 / it


def bundle(shares, intercepts) -> np.ndarray:
    """Bundle ``x = (s M, (1 - s) N)`` for budget shares ``s`` on good 1, shape (n, 2)."""
    s = np.asarray(shares, dtype=float)
    it = np.asarray(intercepts, dtype=float)
    if s.shape != it.shape[:1]:
        raise ValueError(f"shares {s.shape} and intercepts {it.shape} do not match")
    if np.isnan(s).any() or (s < 0).any() or (s > 1).any():
        raise ValueError("shares must lie in [0, 1]")
    return np.column_stack([s * it[:, 0], (1.0 - s) * it[:, 1]])


def _question(framing: str, M: float, N: float, json: bool) -> str:
    if framing not in _STORY:
        raise ValueError(f"unknown framing {framing!r}; expected one of {FRAMINGS}")
    good1, _ = _GOODS[framing]
    story = _STORY[framing].format(M=f"{M:g}", N=f"{N:g}")
    ask = (f"{story} Any split in between is possible, in proportion to what you spend. "
           f"What percent of your budget do you spend on {good1}? ")
    if json:
        return ask + 'Reply with a JSON {"percent": number between 0 and 100}.'
    return ask + "Answer with one of " + ", ".join(CHOICES) + "."


def choice_prompt(framing: str, persona: str, M: float, N: float) -> list[dict[str, str]]:
    """Prompt scored over :data:`CHOICES` (exact mode)."""
    return messages(environment(persona), _question(framing, M, N, json=False))


def json_prompt(framing: str, persona: str, M: float, N: float) -> list[dict[str, str]]:
    """Prompt for a sampled JSON reply ``{"percent": number}``."""
    return messages(environment(persona), _question(framing, M, N, json=True))


def share_from_probs(probs, rule: str = "mean") -> np.ndarray:
    """Choice from choice probabilities over :data:`SHARES`, (n, 21) -> (n,).

    ``rule="mean"``: ``s = sum_i P_i s_i``; ``rule="mode"``: the most likely share
    (lowest on ties).
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2 or p.shape[1] != N_POINTS:
        raise ValueError(f"expected probabilities of shape (n, {N_POINTS}), got {p.shape}")
    if rule == "mean":
        return p @ SHARES / p.sum(axis=1)
    if rule == "mode":
        return SHARES[p.argmax(axis=1)]
    raise ValueError(f"rule must be 'mean' or 'mode', got {rule!r}")


def design() -> dict:
    """The design as a JSON-ready dict (stored in every report)."""
    return {
        "task": NAME,
        "version": VERSION,
        "n_budgets": N_BUDGETS,
        "budget_lines": "Choi et al. 2007: M, N ~ U[1,100] until max(M,N) >= 50; p = (1/M, 1/N), income 1",
        "framings": list(FRAMINGS),
        "goods": {k: list(v) for k, v in _GOODS.items()},
        "personas": list(PERSONAS),
        "choices": list(CHOICES),
        "schema": {"percent": "float"},
        "choice_prompt_example": choice_prompt("risk", PERSONAS[0], 50, 80)[-1]["content"],
        "json_prompt_example": json_prompt("risk", PERSONAS[0], 50, 80)[-1]["content"],
    }


@register_task
class BudgetTask(Task):
    """The budget-allocation design (Chen et al. 2023) as a :class:`~llmas.tasks.base.Task` of kind ``budget``.

    Subjects are (framing, persona) pairs, each facing :data:`N_BUDGETS` budget
    lines; the answers feed GARP/CCEI instead of action kernels.

    >>> t = BudgetTask()
    >>> len(t.subjects(1, seed=0)), t.subjects(1, seed=0)[0][2].shape
    (4, (25, 2))
    """

    name = NAME
    version = VERSION
    kind = "budget"
    description = "two-good budget allocations on Choi et al. (2007) budget lines, four framings, personas"
    choices = CHOICES
    schema = SCHEMA
    environments = tuple(Environment(f, f"budget framing: {f}") for f in FRAMINGS)
    default_n = 1
    max_tokens = 40

    def subjects(self, n: int, *, seed: int) -> list[tuple[str, str, np.ndarray]]:
        """``n`` subjects per framing: (framing, persona, budget-line intercepts (T, 2))."""
        out = []
        for f_idx, framing in enumerate(FRAMINGS):
            for j in range(n):
                lines = budget_lines(N_BUDGETS, seed=np.random.default_rng([seed, f_idx, j]))
                out.append((framing, PERSONAS[j % len(PERSONAS)], lines))
        return out

    def choice_prompt(self, framing: str, persona: str, M: float, N: float) -> list[dict[str, str]]:
        return choice_prompt(framing, persona, M, N)

    def budget_json_prompt(self, framing: str, persona: str, M: float, N: float) -> list[dict[str, str]]:
        return json_prompt(framing, persona, M, N)

    def share_from_probs(self, probs, rule: str = "mean") -> np.ndarray:
        return share_from_probs(probs, rule)

    def design(self) -> dict:
        return {**super().design(), **design()}
