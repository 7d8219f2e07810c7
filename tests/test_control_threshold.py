from __future__ import annotations

import numpy as np
import pytest

from control import StoppingProblem, ThresholdPolicy, optimize_threshold, policy_cost, value_iteration

B7 = np.array([[0.7, 0.3], [0.3, 0.7]])
C01 = np.array([[0.0, 1.0], [1.0, 0.0]])


def problem(d, rho=0.9, B=B7):
    return StoppingProblem.from_misclassification(B, C01, d, rho)


def lattice(p=0.7, prior0=0.5, kmax=40):
    """Reachable pi(0) from prior0 under a symmetric binary signal of precision p."""
    k = np.arange(-kmax, kmax + 1)
    lo = np.log(prior0 / (1 - prior0)) + k * np.log(p / (1 - p))
    return np.sort(1 / (1 + np.exp(-lo)))


def exact_policy_cost(prob, lo, hi, prior0, depth=300):
    """Exact cost of the hard policy 'continue iff lo < pi(0) < hi' by recursion
    over observation counts (static state, Y = 2), no simulation."""
    B, rho = prob.likelihood, prob.discount
    V = None
    for h in range(depth, -1, -1):
        n1 = np.arange(h + 1)
        logp = np.log([prior0, 1 - prior0]) + (h - n1)[:, None] * np.log(B[:, 0]) + n1[:, None] * np.log(B[:, 1])
        pi = np.exp(logp - logp.max(axis=1, keepdims=True))
        pi /= pi.sum(axis=1, keepdims=True)
        stop = prob.stop_cost(pi)
        if V is None:
            V = stop
            continue
        sig = pi @ B
        cont = prob.continue_cost(pi) + rho * (sig[:, 0] * V[:-1] + sig[:, 1] * V[1:])
        V = np.where((pi[:, 0] > lo) & (pi[:, 0] < hi), cont, stop)
    return float(V[0])


def test_policy_parametrization_and_smoothing():
    pol = ThresholdPolicy.from_thresholds([0.2, 0.7], tau=0.0)
    assert np.allclose(pol.thresholds, [0.2, 0.7])
    assert np.allclose(np.sin(pol.theta) ** 2, [0.2, 0.7])
    p = np.array([0.1, 0.2, 0.5, 0.7, 0.9])
    b = np.c_[p, 1 - p]
    q = np.array([0.1, 0.19, 0.5, 0.71, 0.9])
    assert pol.continue_prob(np.c_[q, 1 - q]).tolist() == [0, 0, 1, 0, 0]
    smooth = ThresholdPolicy(pol.theta, tau=0.01)
    # logistic smoothing: 1/2 at a threshold, -> hard policy away from it
    assert smooth.continue_prob(b)[1] == pytest.approx(0.5, abs=1e-6)
    assert np.allclose(smooth.continue_prob(b)[[0, 2, 4]], [0, 1, 0], atol=1e-4)
    lower = ThresholdPolicy.from_thresholds(0.3, tau=0.05, kind="lower")
    z = (0.3 - p) / 0.05
    assert np.allclose(lower.stop_prob(b), 1 / (1 + np.exp(-z)))
    sym = ThresholdPolicy.from_thresholds(0.2, kind="symmetric")
    assert np.allclose(sym.thresholds, [0.2, 0.8])
    up = ThresholdPolicy.from_thresholds(0.6, kind="upper")
    assert up.continue_prob(b).tolist() == [1, 1, 1, 0, 0]
    # any real theta is a valid threshold
    assert 0 <= ThresholdPolicy(123.4, kind="lower").thresholds[0] <= 1


def test_policy_bad_input():
    with pytest.raises(ValueError, match="kind"):
        ThresholdPolicy(0.1, kind="both")
    with pytest.raises(ValueError, match="parameter"):
        ThresholdPolicy([0.1], kind="interval")
    with pytest.raises(ValueError, match="tau"):
        ThresholdPolicy(0.1, tau=-1, kind="lower")
    with pytest.raises(ValueError, match="thresholds"):
        ThresholdPolicy.from_thresholds(1.5, kind="lower")
    with pytest.raises(ValueError, match="two-state"):
        ThresholdPolicy(0.1, kind="lower").continue_prob(np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="prior"):
        policy_cost(problem(0.3), ThresholdPolicy(0.1, kind="lower"), [0.5, 0.6])
    with pytest.raises(ValueError, match="delay_cost"):
        policy_cost(problem(0.3), ThresholdPolicy(0.1, kind="lower"), [0.5, 0.5], delay_cost=0.1)


@pytest.mark.parametrize("lo,hi", [(0.1, 0.9), (0.2, 0.95), (0.04, 0.6)])
def test_simulated_cost_matches_exact_recursion(lo, hi):
    prob = problem(0.3)
    est = policy_cost(prob, ThresholdPolicy.from_thresholds([lo, hi]), [0.5, 0.5], n_runs=20000, seed=3)
    exact = exact_policy_cost(prob, lo, hi, 0.5)
    assert abs(est.mean - exact) < 4 * est.std_error + 1e-9
    assert est.std_error < 0.02


def test_stop_at_once_and_common_random_numbers():
    prob = problem(0.3)
    stop_now = policy_cost(prob, ThresholdPolicy.from_thresholds(0.6, kind="lower"), [0.5, 0.5], n_runs=50)
    assert stop_now.mean == pytest.approx(0.5 / 0.1)
    assert np.all(stop_now.stop_time == 0)
    # hard thresholds in the same gap of the belief lattice give the same cost path by path
    a = policy_cost(prob, ThresholdPolicy.from_thresholds([0.08, 0.9]), [0.5, 0.5], n_runs=500, seed=5)
    b = policy_cost(prob, ThresholdPolicy.from_thresholds([0.15, 0.86]), [0.5, 0.5], n_runs=500, seed=5)
    assert np.array_equal(a.per_run, b.per_run)
    c = policy_cost(prob, ThresholdPolicy.from_thresholds([0.16, 0.86]), [0.5, 0.5], n_runs=500, seed=5)
    assert not np.array_equal(a.per_run, c.per_run)  # 0.155 is reachable


def test_value_iteration_policy_cost_is_its_value():
    prob = problem(0.3)
    sol = value_iteration(prob, grid_size=20001)
    est = policy_cost(prob, ThresholdPolicy.from_thresholds(sol.thresholds), [0.5, 0.5], n_runs=20000, seed=0)
    assert abs(est.mean - sol.value([0.5, 0.5])[0]) < 4 * est.std_error + 1e-4


@pytest.mark.parametrize("d,kind,seed", [(0.3, "symmetric", 0), (0.6, "symmetric", 1), (0.3, "interval", 2)])
def test_spsa_threshold_matches_value_iteration(d, kind, seed):
    prob = problem(d)
    vi = value_iteration(prob, grid_size=20001)
    t_vi = vi.thresholds
    res = optimize_threshold(prob, [0.5, 0.5], kind=kind, tau=0.02, n_iter=150, n_runs=600, seed=seed)
    lat = lattice()
    for t_s, t_v in zip(res.thresholds, t_vi, strict=True):
        i = np.searchsorted(lat, t_v)
        spacing = lat[i] - lat[i - 1]
        assert abs(t_s - t_v) <= spacing, (t_s, t_v, spacing)
    # and the hard policies cost the same, up to Monte Carlo error
    assert abs(res.cost.mean - vi.value([0.5, 0.5])[0]) < 4 * res.cost.std_error + 1e-3
    assert res.threshold_history.shape == (151, 2)
    assert "SPSA" in res.summary()


def test_social_learning_cost_checks():
    from sociallearn import SocialLearningModel

    m = SocialLearningModel(B7, cost=C01)
    stop_now = ThresholdPolicy.from_thresholds(0.5, kind="symmetric")  # empty continue region
    # rho = 0: only the first agent counts; at a flat prior it follows its signal, wrong w.p. 0.3
    one = policy_cost(m, stop_now, [0.5, 0.5], n_runs=40000, seed=0, delay_cost=0.1, discount=0.0)
    assert abs(one.mean - 0.3) < 4 * one.std_error
    # never stopping with a free delay: everybody reveals, no misclassification is ever paid
    never = ThresholdPolicy.from_thresholds(0.0, kind="symmetric")
    # before the horizon; at the horizon the run is stopped and pays its herd's expected cost for ever,
    # at most rho^H / (1 - rho) (with rho^400 / 0.1 < 1e-17 that tail vanishes)
    free = policy_cost(m, never, [0.5, 0.5], n_runs=200, seed=0, delay_cost=0.0, discount=0.9, horizon=50)
    assert free.per_run.min() >= 0 and free.per_run.max() <= 0.9**50 / 0.1 + 1e-15
    free = policy_cost(m, never, [0.5, 0.5], n_runs=200, seed=0, delay_cost=0.0, discount=0.9, horizon=400)
    assert free.mean == pytest.approx(0.0, abs=1e-12)
    # stop at once, static BHW model: agent 1 reveals its signal, agent 2 too when it agrees
    # (else a coin flip); the herd that forms on the first two agreeing actions is wrong w.p.
    # P(wrong cascade) of BHW; the cost must lie between the first agent's 0.3 and 0.3 / (1 - rho)
    herd = policy_cost(m, stop_now, [0.5, 0.5], n_runs=20000, seed=0, delay_cost=0.1, discount=0.9)
    assert 0.3 < herd.mean < 3.0
    res = optimize_threshold(m, [0.5, 0.5], kind="symmetric", n_iter=60, n_runs=400, seed=0,
                             delay_cost=0.05, discount=0.9)
    # revealing at a small price beats herding at once
    assert res.cost.mean < herd.mean - 4 * herd.std_error
    with pytest.raises(ValueError, match="delay_cost"):
        policy_cost(m, stop_now, [0.5, 0.5])


def test_social_cost_common_random_numbers_across_policies():
    """A run that never stops under one policy sees the same observations as under 'never stop'."""
    from sociallearn import SocialLearningModel

    m = SocialLearningModel(B7, cost=C01)
    kw = dict(n_runs=400, seed=11, delay_cost=0.05, discount=0.8, horizon=40)
    never = policy_cost(m, ThresholdPolicy.from_thresholds(0.0, kind="symmetric"), [0.5, 0.5], **kw)
    lower = policy_cost(m, ThresholdPolicy.from_thresholds(0.45, kind="lower"), [0.5, 0.5], **kw)
    kept = lower.stop_time == lower.horizon
    assert 20 < kept.sum() < 400  # some runs stop (and draw myopic actions), some never do
    np.testing.assert_array_equal(lower.per_run[kept], never.per_run[kept])
