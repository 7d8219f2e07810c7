"""Hypothesis strategies for optimal stopping on beliefs (needs ``hypothesis``: ``pip install llmsl[testing]``).

Importing :mod:`control` never imports this module. Each strategy draws a
:class:`~control.StoppingProblem` whose structure is known from a theorem, so a
property can check a solver against it:

* :func:`stopping_problems`: two states, concave costs (the stopping value is
  concave, ``V <= C_s``; value and policy iteration solve the same grid MDP);
* :func:`symmetric_stopping_problems`: symmetric signals and costs (``V`` is
  symmetric and the continue region an interval ``(theta, 1 - theta)``);
* :func:`tp2_stopping_problems`: monotone likelihood ratio signals (the optimal
  policy is a threshold policy: one continue interval, SPEC 3a).

Example
-------
>>> from hypothesis import given, settings
>>> from control import value_iteration
>>> @settings(max_examples=3, deadline=None)
... @given(symmetric_stopping_problems())
... def check(prob):
...     (lo, hi), = value_iteration(prob, grid_size=201).continue_region or [(0.5, 0.5)]
...     assert abs(lo - (1 - hi)) < 1e-6
>>> check()
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .stopping import StoppingProblem

__all__ = ["stopping_problems", "symmetric_stopping_problems", "tp2_stopping_problems", "discounts"]


def discounts(min_value: float = 0.3, max_value: float = 0.95) -> st.SearchStrategy[float]:
    """Discount factors ``rho`` in ``[min_value, max_value]`` (``max_value < 1``)."""
    if not 0.0 <= min_value <= max_value < 1.0:
        raise ValueError(f"need 0 <= min_value <= max_value < 1; got {min_value}, {max_value}")
    return st.floats(min_value, max_value)


def _row_stochastic(Y: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, (Y,), elements=st.floats(0.05, 1.0)).map(lambda v: v / v.sum())


@st.composite
def stopping_problems(draw, min_obs: int = 2, max_obs: int = 4, max_actions: int = 3,
                      max_discount: float = 0.95):
    """Static two-state stopping problems with concave costs.

    ``B`` (2, Y) with entries bounded away from 0; stop cost ``min_a c_a' pi``
    with ``c`` (2, A) in ``[0, 2]``; a constant delay cost ``d`` in ``[0.01, 0.5]``;
    discount in ``[0.3, max_discount]``. Serves the concavity theorem (Lovejoy
    1987; Krishnamurthy 2016, Thm 12.2.1): with concave ``C_s`` and ``d``, ``V``
    is concave, so the stop set is convex on each linear piece of ``C_s``, and
    ``V <= C_s``; and the contraction theorem: value and policy iteration reach
    the same fixed point. Example property:
    ``np.all(value_iteration(prob, grid_size=201).values <= prob.stop_cost(grid) + 1e-12)``.

    Returns
    -------
    StoppingProblem
    """
    Y = draw(st.integers(min_obs, max_obs))
    A = draw(st.integers(1, max_actions))
    B = np.vstack([draw(_row_stochastic(Y)), draw(_row_stochastic(Y))])
    c = draw(hnp.arrays(np.float64, (2, A), elements=st.floats(0.0, 2.0)))
    d = draw(st.floats(0.01, 0.5))
    rho = draw(discounts(0.3, max_discount))
    return StoppingProblem(B, c, d, rho)


@st.composite
def symmetric_stopping_problems(draw, max_discount: float = 0.95):
    """Symmetric quickest-herding problems: ``B = [[p, 1-p], [1-p, p]]``, cost ``k (1 - I)``.

    Built by :meth:`StoppingProblem.from_misclassification` with precision
    ``p`` in ``[0.55, 0.95]``, misclassification cost ``k`` in ``[0.5, 2]``, delay
    ``d`` in ``[0.01, 0.5]``. Serves the symmetry argument: relabelling the
    states maps the problem to itself, so ``V(pi) = V(1 - pi)`` and (with the
    threshold theorem) the continue region is ``(theta, 1 - theta)``, so a
    one-sided threshold is not enough (SPEC 3a). Example property:
    ``lo == 1 - hi`` for ``(lo, hi)`` the continue region.

    Returns
    -------
    StoppingProblem
    """
    p = draw(st.floats(0.55, 0.95))
    k = draw(st.floats(0.5, 2.0))
    d = draw(st.floats(0.01, 0.5))
    rho = draw(discounts(0.3, max_discount))
    B = np.array([[p, 1 - p], [1 - p, p]])
    return StoppingProblem.from_misclassification(B, k * (1.0 - np.eye(2)), d, rho)


@st.composite
def tp2_stopping_problems(draw, min_obs: int = 2, max_obs: int = 4, max_discount: float = 0.95):
    """Two-state problems with TP2 (monotone likelihood ratio) signals.

    ``B[1, y] / B[0, y]`` increases in ``y``; misclassification costs
    ``c = [[0, c01], [c10, 0]]`` with ``c01, c10`` in ``[0.2, 2]``, scaled by
    ``1 / (1 - rho)`` (:meth:`StoppingProblem.from_misclassification`).
    Serves the threshold theorem (Krishnamurthy 2016, ch. 12; SPEC 3a): the
    optimal policy continues on one interval of ``pi(0)`` and stops at the
    vertices. Example property: ``len(sol.continue_region) <= 1``.

    Returns
    -------
    StoppingProblem
    """
    Y = draw(st.integers(min_obs, max_obs))
    b0 = draw(_row_stochastic(Y))
    ratio = np.sort(draw(hnp.arrays(np.float64, (Y,), elements=st.floats(0.05, 20.0))))
    b1 = b0 * ratio
    B = np.vstack([b0, b1 / b1.sum()])
    c01 = draw(st.floats(0.2, 2.0))
    c10 = draw(st.floats(0.2, 2.0))
    d = draw(st.floats(0.01, 0.5))
    rho = draw(discounts(0.3, max_discount))
    return StoppingProblem.from_misclassification(B, np.array([[0.0, c01], [c10, 0.0]]), d, rho)
