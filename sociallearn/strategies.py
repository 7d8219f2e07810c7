"""Hypothesis strategies for Bayesian social learning (needs ``hypothesis``: ``pip install llmsl[testing]``).

Importing :mod:`sociallearn` never imports this module. The strategies draw
models whose herding behaviour is known from a theorem:

* :func:`bhw_models`: the Bikhchandani-Hirshleifer-Welch (1992) binary model at
  a random signal precision and tie rule (closed forms for the probability of a
  correct cascade and the expected cascade time);
* :func:`learning_problems`: a model whose informativeness is one number
  ``kappa`` (a Blackwell garbling of a base likelihood), with a prior, so that
  monotonicity in informativeness can be tested;
* :func:`beliefs`: interior public beliefs.

Example
-------
>>> from hypothesis import given, settings
>>> from sociallearn import cascade_region
>>> @settings(max_examples=5, deadline=None)
... @given(bhw_models())
... def check(model):
...     p = model.likelihood[0, 0]
...     assert abs(cascade_region(model).thresholds[1] - p) < 1e-9
>>> check()
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .model import TIE_RULES, SocialLearningModel

__all__ = ["accuracies", "beliefs", "bhw_models", "garble", "LearningProblem", "learning_problems"]


def accuracies(min_value: float = 0.55, max_value: float = 0.95) -> st.SearchStrategy[float]:
    """Signal precisions ``p = P(y = x)`` in ``[min_value, max_value]`` (``1/2 < min_value``, ``max_value < 1``).

    Example property (BHW): the cascade set is ``pi(0) < 1 - p`` or ``pi(0) > p``.
    """
    if not 0.5 < min_value <= max_value < 1.0:
        raise ValueError(f"need 1/2 < min_value <= max_value < 1; got {min_value}, {max_value}")
    return st.floats(min_value, max_value)


def beliefs(n_states: int = 2, min_mass: float = 0.01) -> st.SearchStrategy[np.ndarray]:
    """Public beliefs (X,) with every entry at least ``min_mass`` (interior of the simplex).

    Serves any statement "for every prior"; example property: the public
    belief after a cascade action equals the belief before it.
    """
    if n_states < 2:
        raise ValueError(f"n_states must be at least 2; got {n_states}")
    if not 0.0 <= min_mass < 1.0 / n_states:
        raise ValueError(f"min_mass must lie in [0, 1/n_states); got {min_mass}")
    free = 1.0 - n_states * min_mass
    return hnp.arrays(np.float64, (n_states,), elements=st.floats(0.01, 1.0)).map(
        lambda v: min_mass + free * v / v.sum())


@st.composite
def bhw_models(draw, tie_rules: tuple[str, ...] = TIE_RULES, min_precision: float = 0.55,
               max_precision: float = 0.95):
    """The BHW binary model ``SocialLearningModel.binary_symmetric(p, tie_rule)``.

    Serves the closed forms of Bikhchandani, Hirshleifer & Welch (1992) (see
    ``tests/test_sociallearn_bhw.py``): with the coin-flip rule and a uniform
    prior, ``P(correct cascade) = p (1 + p) / (2 (1 - p q))`` and
    ``E[T] = 2 / (1 - p q)``. Example property: the exact propagation
    (:func:`sociallearn.cascade_distribution`) and the simulator both match them.

    Returns
    -------
    SocialLearningModel
    """
    p = draw(accuracies(min_precision, max_precision))
    rule = draw(st.sampled_from(tie_rules))
    return SocialLearningModel.binary_symmetric(p, rule)


def garble(likelihood: np.ndarray, kappa: float, noise: np.ndarray) -> np.ndarray:
    """``kappa B + (1 - kappa) 1 r'``: the garbling ``B G`` with ``G = kappa I + (1 - kappa) 1 r'``.

    ``kappa = 1`` is ``B``, ``kappa = 0`` an uninformative signal with law ``r``;
    for ``kappa_2 <= kappa_1`` the model at ``kappa_2`` is a garbling of the one
    at ``kappa_1`` (Blackwell 1953), so it is less informative for every
    decision problem.

    >>> garble(np.eye(2), 0.5, np.array([0.5, 0.5]))
    array([[0.75, 0.25],
           [0.25, 0.75]])
    """
    B = np.asarray(likelihood, dtype=float)
    r = np.asarray(noise, dtype=float)
    if not 0.0 <= kappa <= 1.0:
        raise ValueError(f"kappa must lie in [0, 1]; got {kappa}")
    if r.shape != (B.shape[1],) or np.any(r < 0) or abs(r.sum() - 1.0) > 1e-9:
        raise ValueError(f"noise must be a distribution over the {B.shape[1]} observations; got {r}")
    return kappa * B + (1.0 - kappa) * r[None, :]


class LearningProblem(NamedTuple):
    """A social learning model of controlled informativeness and a prior.

    ``model.likelihood == garble(base, kappa, noise)``; rebuild a less
    informative model with :meth:`at`.
    """

    model: SocialLearningModel
    prior: np.ndarray
    base: np.ndarray
    noise: np.ndarray
    kappa: float

    def at(self, kappa: float) -> SocialLearningModel:
        """The same model garbled to informativeness ``kappa`` (same costs and tie rule)."""
        return SocialLearningModel(garble(self.base, kappa, self.noise), cost=self.model.cost,
                                   tie_rule=self.model.tie_rule)


@st.composite
def learning_problems(draw, min_states: int = 2, max_states: int = 3, min_obs: int = 2, max_obs: int = 3,
                      max_actions: int = 3, tie_rules: tuple[str, ...] = TIE_RULES):
    """A static model with likelihood ``garble(B, kappa, r)``, costs ``c`` (X, A) and a prior.

    ``B`` has rows drawn on the simplex, ``kappa`` in ``[0, 1]``, ``r`` a
    distribution; costs in ``[0, 1]``. Serves Blackwell's theorem applied to
    herding: the cascade set (where the action ignores the private signal)
    only grows when the signal is garbled, since a garbled posterior is an
    average of the original posteriors and each action's optimal set is
    convex. Example property: ``problem.model.in_cascade(pi)`` implies
    ``problem.at(kappa / 2).in_cascade(pi)``.

    Returns
    -------
    LearningProblem
    """
    X = draw(st.integers(min_states, max_states))
    Y = draw(st.integers(min_obs, max_obs))
    A = draw(st.integers(2, max_actions))
    rows = [draw(hnp.arrays(np.float64, (Y,), elements=st.floats(0.01, 1.0))) for _ in range(X)]
    B = np.array([r / r.sum() for r in rows])
    noise = draw(hnp.arrays(np.float64, (Y,), elements=st.floats(0.01, 1.0)))
    noise = noise / noise.sum()
    kappa = draw(st.floats(0.0, 1.0))
    c = draw(hnp.arrays(np.float64, (X, A), elements=st.floats(0.0, 1.0)))
    rule = draw(st.sampled_from(tie_rules))
    prior = draw(beliefs(X))
    model = SocialLearningModel(garble(B, kappa, noise), cost=c, tie_rule=rule)
    return LearningProblem(model, prior, B, noise, float(kappa))
