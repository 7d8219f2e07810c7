"""Tests of the control pipeline of llmsl.herd: stopping, SPSA vs value iteration, incentives."""
from __future__ import annotations

import numpy as np
import pytest

from control import incentive_sweep, reachable_beliefs, reachable_bracket
from llmsl.herd.control_analysis import analyze_control
from llmsl.herd.sensor import SensorData


def exact_sensor(p: float = 0.7, n: int = 100) -> SensorData:
    k = int(round(p * n))
    x = np.repeat([0, 1], n)
    y = np.concatenate([np.r_[np.zeros(k), np.ones(n - k)], np.r_[np.ones(k), np.zeros(n - k)]]).astype(int)
    return SensorData(x, y, 2, 2)


def test_reachable_beliefs_symmetric_lattice():
    B = np.array([[0.7, 0.3], [0.3, 0.7]])
    r = reachable_beliefs(B, np.array([0.5, 0.5]), [(0.2, 0.8)], min_mass=0.0)
    lr = np.log(0.7 / 0.3)
    expected = 1 / (1 + np.exp(-lr * np.arange(-2, 3)))  # expanded only while inside (0.2, 0.8)
    assert np.allclose(r, expected)
    assert reachable_bracket(r, 0.25) == pytest.approx((expected[0], expected[1]))
    assert reachable_bracket(r, 0.9) == pytest.approx((expected[-1], 1.0))


def test_reachable_beliefs_weights_prune_rare_beliefs():
    B = np.array([[0.86, 0.14], [0.06, 0.94]])
    dense = reachable_beliefs(B, np.array([0.5, 0.5]), [(0.05, 0.95)], discount=0.8, min_mass=0.0, max_depth=30)
    sparse = reachable_beliefs(B, np.array([0.5, 0.5]), [(0.05, 0.95)], discount=0.8, min_mass=1e-2, max_depth=30)
    assert set(np.round(sparse, 10)) <= set(np.round(dense, 10)) and sparse.size < dense.size


def test_control_vi_and_spsa_agree_on_symmetric_sensor():
    rep = analyze_control(exact_sensor(0.7), delay_cost=0.3, discount=0.9, prior_strength=0, grid_size=1001,
                          spsa_iter=120, spsa_runs=500, incentives=False, seed=0)
    assert np.allclose(rep.likelihood, [[0.7, 0.3], [0.3, 0.7]])
    assert rep.vi_thresholds.size == 2
    # symmetric problem: symmetric continue interval (theta, 1 - theta)
    assert rep.vi_thresholds[0] == pytest.approx(1 - rep.vi_thresholds[1], abs=2e-3)
    assert rep.agree, rep.comparisons
    for c in rep.comparisons:
        assert abs(c["spsa"] - c["vi"]) <= c["spacing"]
    cc = rep.cost_comparison
    assert abs(cc["paired_difference"]) <= 4 * cc["se_paired_difference"] + 1e-3
    # the simulated cost of the VI policy is the value function at the prior
    assert cc["cost_vi_policy"] == pytest.approx(cc["vi_value_at_prior"], abs=4 * cc["se_vi_policy"] + 0.02)
    assert "agree" in rep.summary()


def test_incentive_sweep_tradeoff():
    B = np.array([[0.8, 0.2], [0.2, 0.8]])
    inc = incentive_sweep(B, 1 - np.eye(2), np.array([0.5, 0.5]), thresholds=[0.0, 0.1, 0.5], n_agents=30,
                          n_runs=300, spsa_iter=0, seed=1)
    sw = inc["sweep"]
    assert sw["paid"][-1] == 0.0  # never paying costs nothing
    assert sw["paid"][0] > 0
    # paying everywhere keeps every action informative: the final estimate is (weakly) more accurate
    assert sw["accuracy"][0] >= sw["accuracy"][-1] - 3 * sw["accuracy_se"][-1]
    assert sw["paid"][0] >= sw["paid"][1] >= sw["paid"][2]


def test_control_needs_two_states():
    d = SensorData(np.repeat([0, 1, 2], 3), np.tile([0, 1, 2], 3), 3, 3)
    with pytest.raises(ValueError, match="X = 2"):
        analyze_control(d)
    with pytest.raises(ValueError, match="prior"):
        analyze_control(exact_sensor(), prior=[0.2, 0.2])
