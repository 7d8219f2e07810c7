"""Herding properties over random accuracies and priors, drawn with :mod:`sociallearn.strategies` (issue 16)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sociallearn import (
    SocialLearningModel,
    cascade_distribution,
    cascade_region,
    herding_probability,
    mutual_information,
    simulate,
)
from sociallearn.strategies import accuracies, beliefs, bhw_models, learning_problems

FAST = settings(max_examples=20, deadline=None)


def bhw_closed_form(rule: str, p: float, state: int) -> tuple[float, float]:
    """(P(correct cascade), E[T]) of BHW from pi = 1/2 (derivation in tests/test_sociallearn_bhw.py)."""
    q = 1.0 - p
    if rule == "uniform":
        return p * (1 + p) / (2 * (1 - p * q)), 2 / (1 - p * q)
    if rule == "own_signal":
        return p * p / (p * p + q * q), 2 / (p * p + q * q)
    if state == 0:  # "first"
        return p / (1 - p * q), (1 + q) / (1 - p * q)
    return p * p / (1 - p * q), (1 + p) / (1 - p * q)


@FAST
@given(bhw_models(), st.integers(0, 1))
def test_bhw_exact_propagation_matches_closed_forms(model, state):
    p = float(model.likelihood[0, 0])
    d = cascade_distribution(model, [0.5, 0.5], n_agents=3000, true_state=state)
    correct, mean_t = bhw_closed_form(model.tie_rule, p, state)
    assert d.p_correct_cascade == pytest.approx(correct, abs=1e-9)
    assert d.p_wrong_cascade == pytest.approx(1 - correct, abs=1e-9)
    assert d.mean_cascade_time == pytest.approx(mean_t, abs=1e-7)


@settings(max_examples=5, deadline=None)
@given(bhw_models(min_precision=0.6), st.integers(0, 1), st.integers(0, 2**32 - 1))
def test_bhw_simulation_matches_closed_forms(model, state, seed):
    p = float(model.likelihood[0, 0])
    res = simulate(model, [0.5, 0.5], n_agents=150, n_runs=4000, true_state=state, seed=seed)
    correct, mean_t = bhw_closed_form(model.tie_rule, p, state)
    s = res.herding_stats()
    assert abs(s["p_correct_cascade"] - correct) < 5 * np.sqrt(correct * (1 - correct) / res.n_runs) + 1e-3
    assert abs(s["mean_cascade_time"] - mean_t) < 5 * s["se_cascade_time"] + 1e-3


@FAST
@given(bhw_models())
def test_bhw_cascade_region_is_outside_q_p(model):
    p = float(model.likelihood[0, 0])
    reg = cascade_region(model)
    np.testing.assert_allclose(reg.thresholds, [1 - p, p], atol=1e-12)


@FAST
@given(accuracies(), accuracies())
def test_bhw_cascade_region_shrinks_with_precision(p1, p2):
    # a more precise signal can overturn more public beliefs
    lo, hi = sorted((p1, p2))
    r_lo = cascade_region(SocialLearningModel.binary_symmetric(lo))
    r_hi = cascade_region(SocialLearningModel.binary_symmetric(hi))
    assert r_lo.fraction >= r_hi.fraction - 1e-12


@settings(max_examples=30, deadline=None)
@given(learning_problems(), st.floats(0.0, 1.0), st.data())
def test_cascade_set_grows_when_the_signal_is_garbled(problem, shrink, data):
    # Blackwell: the garbled posteriors average the original ones, and each action's optimal set of
    # beliefs is convex, so an action that ignores the original signal also ignores the garbled one.
    weaker = problem.at(problem.kappa * shrink)
    X = problem.model.n_states
    for _ in range(5):
        pi = data.draw(beliefs(X))
        if problem.model.in_cascade(pi):
            assert weaker.in_cascade(pi)
            assert weaker.cascade_action(pi) == problem.model.cascade_action(pi)


@FAST
@given(learning_problems(), st.floats(0.0, 1.0))
def test_mutual_information_decreases_under_garbling(problem, shrink):
    weaker = problem.at(problem.kappa * shrink)
    mi = mutual_information(problem.model.likelihood, problem.prior)
    assert mutual_information(weaker.likelihood, problem.prior) <= mi + 1e-12


@FAST
@given(learning_problems())
def test_cascade_set_is_absorbing(problem):
    model, pi = problem.model, problem.prior
    if model.in_cascade(pi):
        a = int(model.cascade_action(pi))
        np.testing.assert_allclose(model.public_update(pi, a), pi, atol=1e-12)


@settings(max_examples=6, deadline=None)
@given(bhw_models(min_precision=0.6), beliefs(2, 0.05), st.integers(0, 2**32 - 1))
def test_herding_probability_exact_agrees_with_simulation_at_random_priors(model, prior, seed):
    ex = herding_probability(model, prior, n_agents=200, method="exact")
    total = ex.p_wrong[0] + ex.p_correct[0] + ex.p_no_cascade[0]
    assert total == pytest.approx(1.0, abs=1e-9)
    sim = herding_probability(model, prior, n_agents=200, n_runs=4000, seed=seed)
    p = ex.p_wrong[0]
    assert abs(sim.p_wrong[0] - p) < 5 * np.sqrt(max(p * (1 - p), 1e-4) / 4000)
