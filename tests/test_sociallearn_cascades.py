"""Cascade regions (exact intervals for X = 2), herding probabilities and cascade times."""
from __future__ import annotations

import json
from math import comb

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sociallearn import (
    TIE_RULES,
    SocialLearningModel,
    cascade_distribution,
    cascade_region,
    expected_cascade_time,
    herding_probability,
    simplex_grid,
)


@st.composite
def binary_models(draw):
    Y = draw(st.integers(2, 4))
    A = draw(st.integers(2, 3))
    B = np.array(draw(st.lists(st.lists(st.floats(0.02, 1.0), min_size=Y, max_size=Y), min_size=2, max_size=2)))
    B /= B.sum(axis=1, keepdims=True)
    c = np.array(draw(st.lists(st.lists(st.floats(0.0, 1.0), min_size=A, max_size=A), min_size=2, max_size=2)))
    P = None
    if draw(st.booleans()):
        a, b = draw(st.floats(0.5, 1.0)), draw(st.floats(0.0, 0.5))
        P = [[a, 1 - a], [b, 1 - b]]
    return SocialLearningModel(B, cost=c, transition=P, tie_rule=draw(st.sampled_from(TIE_RULES)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=binary_models())
def test_binary_cascade_region_matches_dense_grid(model):
    reg = cascade_region(model)
    grid = np.linspace(0, 1, 2001)
    act = model.cascade_action(np.stack([grid, 1 - grid], axis=1))
    thresholds = reg.thresholds
    for g, a in zip(grid, act, strict=True):
        if thresholds.size and np.min(np.abs(thresholds - g)) < 1e-9:
            continue  # the end points themselves are checked below
        hits = [iv for iv in reg.intervals if g in iv]
        assert len(hits) <= 1
        assert (hits[0].action if hits else -1) == a
    # end points: membership as the intervals say, decided by the tie rule there
    for t in thresholds:
        hits = [iv for iv in reg.intervals if t in iv]
        assert (hits[0].action if hits else -1) == model.cascade_action([t, 1 - t])
    # intervals are disjoint and sorted
    for left, right in zip(reg.intervals, reg.intervals[1:], strict=False):
        assert left.hi <= right.lo


def test_asymmetric_binary_thresholds_by_hand():
    # B = [[0.8, 0.2], [0.4, 0.6]], c = 1 - I. With y = 1, eta(0) = 0.2 pi / (0.2 pi + 0.6 (1 - pi)) > 1/2
    # iff pi > 3/4; with y = 0, eta(0) = 0.8 pi / (0.8 pi + 0.4 (1 - pi)) < 1/2 iff pi < 1/3.
    m = SocialLearningModel([[0.8, 0.2], [0.4, 0.6]], cost=1 - np.eye(2))
    reg = cascade_region(m)
    np.testing.assert_allclose(reg.thresholds, [1 / 3, 3 / 4], atol=1e-12)
    assert [iv.action for iv in reg.intervals] == [1, 0]
    assert reg.fraction == pytest.approx(1 / 3 + 1 / 4)
    assert "herding thresholds" in reg.summary()
    json.dumps(reg.to_dict())


def test_uninformative_sensor_cascades_everywhere():
    m = SocialLearningModel([[0.4, 0.6], [0.4, 0.6]], cost=1 - np.eye(2))
    reg = cascade_region(m)
    assert reg.fraction == pytest.approx(1.0)


def test_simplex_grid_and_region_for_three_states():
    g = simplex_grid(3, 10)
    assert g.shape == (comb(12, 2), 3)
    np.testing.assert_allclose(g.sum(axis=1), 1.0)
    assert len({tuple(r) for r in np.round(g * 10).astype(int)}) == g.shape[0]
    m = SocialLearningModel.symmetric(3, 0.6)
    reg = cascade_region(m, resolution=30)
    assert reg.grid.shape[0] == comb(32, 2)
    np.testing.assert_array_equal(reg.grid_in_cascade, m.in_cascade(reg.grid))
    # symmetric model: the three herds cover equal shares of the grid, vertices herd on themselves
    shares = [np.mean(reg.grid_action == a) for a in range(3)]
    assert shares[0] == pytest.approx(shares[1]) == pytest.approx(shares[2])
    assert m.cascade_action(np.eye(3)).tolist() == [0, 1, 2]
    assert not reg.contains([1 / 3, 1 / 3, 1 / 3])
    assert "simplex grid" in reg.summary()


def test_herding_curve_over_priors_exact_and_simulated():
    m = SocialLearningModel.binary_symmetric(0.65)
    priors = np.array([[0.5, 0.5], [0.6, 0.4], [0.9, 0.1]])
    ex = herding_probability(m, priors, true_state=1, method="exact", n_agents=300)
    sim = herding_probability(m, priors, true_state=1, n_runs=20_000, n_agents=300, seed=3)
    assert ex.p_wrong.shape == (3,) and np.all(ex.se_wrong == 0)
    # a prior that already herds on 0 makes the wrong cascade certain when x = 1
    assert ex.p_wrong[2] == pytest.approx(1.0)
    assert np.all(np.diff(ex.p_wrong) > 0)
    assert np.all(np.abs(sim.p_wrong - ex.p_wrong) <= 5 * sim.se_wrong + 1e-12)
    np.testing.assert_allclose(ex.p_wrong + ex.p_correct + ex.p_no_cascade, 1.0, atol=1e-12)
    assert "P(wrong)" in sim.summary()
    json.dumps(sim.to_dict())


def test_expected_cascade_time_exact_and_censoring():
    m = SocialLearningModel.symmetric(3, 0.5)
    ex = expected_cascade_time(m, np.full(3, 1 / 3), method="exact")
    sim = expected_cascade_time(m, np.full(3, 1 / 3), n_runs=30_000, seed=1)
    assert abs(sim.mean - ex.mean) < 5 * sim.se
    assert ex.pmf.sum() + ex.p_censored == pytest.approx(1.0)
    # one agent never starts a cascade in this model: everything is censored
    none = expected_cascade_time(m, np.full(3, 1 / 3), n_agents=1, method="exact")
    assert none.p_censored == pytest.approx(1.0) and np.isnan(none.mean)
    short = expected_cascade_time(m, np.full(3, 1 / 3), n_agents=3, method="exact")
    assert 0 < short.p_censored < 1 and 0 < short.mean <= 3
    assert short.pmf.sum() == pytest.approx(1 - short.p_censored)


def test_exact_distribution_conditions_on_state():
    m = SocialLearningModel.binary_symmetric(0.7, "first")
    joint = cascade_distribution(m, [0.5, 0.5])
    given0 = cascade_distribution(m, [0.5, 0.5], true_state=0)
    given1 = cascade_distribution(m, [0.5, 0.5], true_state=1)
    np.testing.assert_allclose(joint.prob, 0.5 * (given0.prob + given1.prob), atol=1e-15)


def test_cascade_validation():
    m = SocialLearningModel.binary_symmetric(0.7)
    moving = SocialLearningModel([[0.7, 0.3], [0.3, 0.7]], cost=1 - np.eye(2), transition=[[0.9, 0.1], [0.1, 0.9]])
    with pytest.raises(ValueError, match="static state"):
        cascade_distribution(moving, [0.5, 0.5])
    with pytest.raises(ValueError, match="method must be"):
        herding_probability(m, [0.5, 0.5], method="mc")
    with pytest.raises(ValueError, match="off the probability simplex"):
        herding_probability(m, [0.5, 0.6])
    with pytest.raises(ValueError, match="true_state"):
        cascade_distribution(m, [0.5, 0.5], true_state=3)
    with pytest.raises(ValueError, match="SocialLearningModel"):
        cascade_region("model")
    with pytest.raises(ValueError, match="observations"):
        herding_probability(m, [0.5, 0.5], method="exact", observations=[[0], [1]])
