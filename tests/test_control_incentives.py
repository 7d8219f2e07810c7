from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from control import IncentiveProblem, ThresholdPolicy

B7 = np.array([[0.7, 0.3], [0.3, 0.7]])


def test_minimal_incentive_closed_form_binary():
    prob = IncentiveProblem(B7, utility=np.eye(2))
    I, act = prob.minimal_incentive([[0.5, 0.5], [0.7, 0.3], [0.9, 0.1], [0.1, 0.9]], return_action=True)
    # flat prior: the signal decides, nothing to pay; at 0.7 a y = 1 agent is indifferent (weakly optimal)
    assert I[0] == 0 and I[1] == pytest.approx(0, abs=1e-12)
    # at 0.9 a y = 1 agent believes eta(0) = 0.27 / 0.34: paying eta(0) - eta(1) for action 1 makes it indifferent
    assert I[2] == pytest.approx((0.27 - 0.07) / 0.34)
    assert act[2] == 1 and act[3] == 0 and I[3] == pytest.approx(I[2])
    # the same with the incentive tied to action 1 only: impossible when the herd is on action 1
    fixed = IncentiveProblem(B7, utility=np.eye(2), incentive_weights=[0.0, 1.0])
    assert np.isinf(fixed.minimal_incentive([[0.1, 0.9]]))[0]
    assert fixed.minimal_incentive([[0.9, 0.1]])[0] == pytest.approx(I[2])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), Y=st.integers(2, 3), extra=st.integers(0, 1), fixed=st.booleans())
def test_minimal_incentive_is_least_and_sufficient(seed, Y, extra, fixed):
    rng = np.random.default_rng(seed)
    X, A = 2, Y + extra
    B = rng.dirichlet(np.ones(Y), size=X)
    r = rng.uniform(0, 1, size=(X, A))
    delta = rng.uniform(0, 0.2, size=A)
    omega = rng.uniform(0, 1, size=A) if fixed else None
    prob = IncentiveProblem(B, r, action_cost=delta, incentive_weights=omega)
    pi = rng.dirichlet([1, 1], size=20)
    I, sub = prob.minimal_incentive(pi, return_action=True)
    pred = pi @ prob.transition
    for k in range(20):
        if not np.isfinite(I[k]):
            continue
        w = omega if fixed else (np.eye(A)[sub[k]] if sub[k] >= 0 else np.zeros(A))

        def informative(amount, k=k, w=w):
            ok = True
            for y in range(Y):
                eta = pred[k] * B[:, y]
                eta = eta / eta.sum()
                u = r.T @ eta - delta + w * amount
                ok &= u[prob.signal_action[y]] >= u.max() - 1e-9
            return ok

        assert informative(I[k])
        if I[k] > 1e-6:
            assert not informative(I[k] - 1e-4 * max(1.0, I[k]))


def test_paying_always_gives_full_information_accuracy():
    prob = IncentiveProblem(B7, utility=np.eye(2))
    always = ThresholdPolicy.from_thresholds(0.0, kind="symmetric")
    sim = prob.simulate(always, [0.5, 0.5], n_agents=5, n_runs=20000, seed=0)
    # five revealed signals: the MAP estimate is the majority vote, right w.p. P(Bin(5, 0.7) >= 3)
    exact = 1 - binom.cdf(2, 5, 0.7)
    se = sim.final_beliefs.max(axis=1).std() / np.sqrt(sim.n_runs)
    assert abs(sim.accuracy - exact) < 4 * se
    assert abs(sim.accuracy_realized - exact) < 0.015
    assert sim.mean_payment > 0 and sim.paid_agents.max() <= 5
    never = prob.simulate(ThresholdPolicy.from_thresholds(0.5, kind="symmetric"), [0.5, 0.5], 5, 20000, seed=0)
    assert never.mean_payment == 0 and never.accuracy < sim.accuracy - 0.05
    assert "accuracy" in sim.summary() and sim.to_dict()["n_runs"] == 20000


def test_spsa_on_incentive_threshold_beats_extremes():
    prob = IncentiveProblem(B7, utility=np.eye(2))
    res = prob.optimize_threshold([0.5, 0.5], 10, weight=5.0, n_iter=60, n_runs=400, seed=0)
    always = prob.simulate(ThresholdPolicy.from_thresholds(0.0, kind="symmetric"), [0.5, 0.5], 10, 4000,
                           weight=5.0, seed=1)
    never = prob.simulate(ThresholdPolicy.from_thresholds(0.5, kind="symmetric"), [0.5, 0.5], 10, 4000,
                          weight=5.0, seed=1)
    assert res.cost.mean < min(always.objective, never.objective) - 0.1


def test_incentive_bad_input():
    with pytest.raises(ValueError, match="utility"):
        IncentiveProblem(B7, utility=np.eye(3))
    with pytest.raises(ValueError, match="row-stochastic"):
        IncentiveProblem([[0.7, 0.4], [0.3, 0.7]], utility=np.eye(2))
    with pytest.raises(ValueError, match="injective"):
        IncentiveProblem(B7, utility=np.eye(2), signal_action=[0, 0])
    with pytest.raises(ValueError, match="incentive_weights"):
        IncentiveProblem(B7, utility=np.eye(2), incentive_weights=[-1, 1])
    with pytest.raises(ValueError, match="signal_action"):
        IncentiveProblem(np.full((2, 3), 1 / 3), utility=np.eye(2))
    prob = IncentiveProblem(B7, utility=np.eye(2))
    with pytest.raises(ValueError, match="n_agents"):
        prob.simulate(ThresholdPolicy(0.1, kind="symmetric"), [0.5, 0.5], 0)


def test_simulation_uses_the_same_random_numbers_under_every_policy():
    """Common random numbers: the stream drawn per period must not depend on how many agents are paid."""
    prob = IncentiveProblem(B7, utility=np.eye(2))
    states = []
    for t in (0.0, 0.1, 0.5):
        g = np.random.default_rng(3)
        prob.simulate(ThresholdPolicy.from_thresholds(t, kind="symmetric"), [0.5, 0.5], 8, 500, seed=g)
        states.append(g.bit_generator.state["state"]["state"])
    assert states[0] == states[1] == states[2]


def test_optimize_threshold_reports_paired_cost_at_start():
    prob = IncentiveProblem(B7, utility=np.eye(2))
    res = prob.optimize_threshold([0.5, 0.5], 10, weight=5.0, n_iter=20, n_runs=200, seed=0)
    assert res.thresholds_start[0] == pytest.approx(0.25)
    assert res.cost_start.n_runs == res.cost.n_runs == 800
    d, se = res.improvement
    assert d == pytest.approx(res.cost_start.mean - res.cost.mean) and se > 0
    assert "improvement" in res.summary() and res.to_dict()["improvement"][0] == pytest.approx(d)
