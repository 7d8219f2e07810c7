from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control import StoppingProblem, exact_value, policy_iteration, value_iteration
from control.dp import discretize

SYM = np.array([[0.8, 0.2], [0.2, 0.8]])
MISCLASS = np.array([[0.0, 1.0], [1.0, 0.0]])


def herding_problem(B=SYM, c=MISCLASS, d=0.3, rho=0.9, P=None):
    return StoppingProblem.from_misclassification(B, c, d, rho, transition=P)


# ---------------------------------------------------------------- brute force
def brute_force_static(problem, pi0, horizon):
    """Exact finite-horizon DP without a grid for a static state.

    With P = I the belief after a history depends only on the counts of each
    observation, pi ~ pi0 * prod_y B[:, y]^{n_y}; the recursion runs backwards
    over count vectors (Y = 2), forced stop at the horizon.
    """
    B, rho = problem.likelihood, problem.discount
    logB = np.log(B)
    V = None
    for h in range(horizon, -1, -1):
        n1 = np.arange(h + 1)
        n0 = h - n1
        logp = np.log(pi0)[None, :] + n0[:, None] * logB[:, 0] + n1[:, None] * logB[:, 1]
        pi = np.exp(logp - logp.max(axis=1, keepdims=True))
        pi /= pi.sum(axis=1, keepdims=True)
        stop = problem.stop_cost(pi)
        if V is None:
            V = stop
            continue
        sig = pi @ B
        # counts n + e_0 -> index n1, n + e_1 -> index n1 + 1 at depth h + 1
        cont = problem.continue_cost(pi) + rho * (sig[:, 0] * V[:-1] + sig[:, 1] * V[1:])
        V = np.minimum(stop, cont)
    return float(V[0])


def brute_force_histories(problem, pi0, horizon):
    """Exact finite-horizon DP over all Y^H observation histories (any transition)."""
    rho = problem.discount
    levels = [np.asarray(pi0, float)[None, :]]
    for _ in range(horizon):
        _, T = problem.all_updates(levels[-1])
        levels.append(T.reshape(-1, problem.n_states))
    V = problem.stop_cost(levels[-1])
    for h in range(horizon - 1, -1, -1):
        pi = levels[h]
        sig = problem.observation_probs(pi)
        cont = problem.continue_cost(pi) + rho * (sig * V.reshape(-1, problem.n_obs)).sum(axis=1)
        V = np.minimum(problem.stop_cost(pi), cont)
    return float(V[0])


# ---------------------------------------------------------------- agreement
@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 0.97])
def test_value_and_policy_iteration_agree(rho):
    prob = herding_problem(rho=rho, d=0.2)
    D = discretize(prob, 2001)
    vi = value_iteration(D, tol=1e-10)
    pi = policy_iteration(D)
    mpi = policy_iteration(D, n_eval=15, tol=1e-10)
    assert vi.converged and pi.converged and mpi.converged
    assert vi.error_bound <= 1e-10
    assert np.max(np.abs(vi.values - pi.values)) < 1e-9
    assert np.max(np.abs(mpi.values - pi.values)) < 1e-9
    assert np.array_equal(vi.continue_mask, pi.continue_mask)
    assert np.allclose(vi.thresholds, pi.thresholds, atol=1e-9)
    # the value is a fixed point of the Bellman operator on the grid
    assert pi.residual < 1e-9


def test_value_iteration_matches_brute_force_static():
    prob = herding_problem(d=0.25, rho=0.9)
    sol = value_iteration(prob, grid_size=20001, tol=1e-10)
    for p0 in [0.05, 0.2, 0.35, 0.5, 0.8, 0.97]:
        pi0 = np.array([p0, 1 - p0])
        exact = brute_force_static(prob, pi0, horizon=250)  # 0.9^250 * 10 < 1e-10
        assert sol.value(pi0)[0] == pytest.approx(exact, abs=2e-5)
    # and the grid is not trivially right: a coarse grid is measurably off yet close
    coarse = value_iteration(prob, grid_size=11)
    err = abs(coarse.value([0.5, 0.5])[0] - brute_force_static(prob, np.array([0.5, 0.5]), 250))
    assert 1e-6 < err < 0.5


def test_value_iteration_matches_brute_force_markov_three_observations():
    B = np.array([[0.6, 0.3, 0.1], [0.15, 0.35, 0.5]])
    P = np.array([[0.95, 0.05], [0.1, 0.9]])
    prob = StoppingProblem(B, np.array([[0.0, 2.0], [3.0, 0.0]]), 0.15, 0.55, transition=P)
    sol = value_iteration(prob, grid_size=20001, tol=1e-12)
    H = 11  # 3^11 histories; 0.55^11 * 3 < 4e-3, refined below
    for p0 in [0.1, 0.4, 0.5, 0.9]:
        pi0 = np.array([p0, 1 - p0])
        v_h = brute_force_histories(prob, pi0, H)
        v_h1 = brute_force_histories(prob, pi0, H - 1)
        # V_H decreases in H to V*; the gap V_H - V* <= rho^H max C_s
        assert v_h <= v_h1 + 1e-12
        assert v_h - 0.55**H * 3.0 - 1e-4 <= sol.value(pi0)[0] <= v_h + 1e-4


def test_three_state_simplex_grid():
    B = np.array([[0.7, 0.2, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7]])
    c = 1.0 - np.eye(3)
    prob = StoppingProblem.from_misclassification(B, c, 0.1, 0.8)
    D = discretize(prob, 81)
    vi = value_iteration(D, tol=1e-10)
    pi = policy_iteration(D)
    assert vi.grid.size == 81 * 82 // 2
    assert np.max(np.abs(vi.values - pi.values)) < 1e-9
    assert np.array_equal(vi.continue_mask, pi.continue_mask)
    # certainty: nothing to learn, so stop at the vertices
    assert np.all(vi.action(np.eye(3)) == 0)
    assert np.allclose(vi.value(np.eye(3)), 0.0)
    assert vi.action([1 / 3, 1 / 3, 1 / 3])[0] == 1
    v_bf = brute_force_histories(prob, np.full(3, 1 / 3), 8)
    assert v_bf - 0.8**8 * 5 - 5e-3 <= vi.value([1 / 3, 1 / 3, 1 / 3])[0] <= v_bf + 5e-3
    with pytest.raises(ValueError, match="X = 2"):
        _ = vi.continue_region


def test_policy_regions_and_values_are_consistent():
    prob = herding_problem(d=0.3)
    sol = value_iteration(prob, grid_size=4001)
    (lo, hi), = sol.continue_region
    assert 0 < lo < 0.5 < hi < 1
    assert np.allclose(sol.thresholds, [lo, hi])
    # symmetric problem: symmetric region
    assert lo == pytest.approx(1 - hi, abs=1e-9)
    p = np.array([lo - 0.01, lo + 0.01, 0.5, hi + 0.01])
    act = sol.action(np.c_[p, 1 - p])
    assert act.tolist() == [0, 1, 1, 0]
    # V = C_s on the stop set, V < C_s on the continue set
    assert np.allclose(sol.values[~sol.continue_mask], sol.stop_values[~sol.continue_mask])
    assert np.all(sol.values[sol.continue_mask] < sol.stop_values[sol.continue_mask])
    assert "continue region" in sol.summary()
    d = sol.to_dict()
    assert d["thresholds"] == pytest.approx([lo, hi])


def test_uninformative_signal_closed_form():
    # nothing is learned, so V is C_s or the stationary value of continuing for
    # ever, d / (1 - rho); continuing wins iff d < (1 - rho) C_s(pi) = min_a c_a' pi
    B = np.array([[0.5, 0.5], [0.5, 0.5]])
    d, rho = 0.1, 0.9
    sol = value_iteration(herding_problem(B=B, d=d, rho=rho), grid_size=501, tol=1e-12)
    p = sol.grid.points[:, 0]
    assert np.array_equal(sol.continue_mask, np.minimum(p, 1 - p) > d + 1e-12)
    assert np.allclose(sol.values, np.minimum(np.minimum(p, 1 - p), d) / (1 - rho))
    (lo, hi), = sol.continue_region
    assert lo == pytest.approx(d) and hi == pytest.approx(1 - d)


# ---------------------------------------------------------------- structure
def _segments(c, p):
    """Index of the linear piece of min_a c_a' pi at pi(0) = p."""
    return np.argmin(np.c_[p, 1 - p] @ c, axis=1)


def _runs(mask):
    m = np.r_[False, mask, False].astype(np.int8)
    return int(np.sum(np.diff(m) == 1))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    Y=st.integers(2, 4),
    A=st.integers(1, 4),
    rho=st.floats(0.3, 0.95),
    d=st.floats(0.01, 1.0),
)
def test_stopping_set_is_convex_on_each_linear_piece(seed, Y, A, rho, d):
    rng = np.random.default_rng(seed)
    B = rng.dirichlet(np.ones(Y), size=2)
    c = rng.uniform(0, 2, size=(2, A))
    prob = StoppingProblem(B, c, d, rho)
    sol = value_iteration(prob, grid_size=1001, tol=1e-11)
    p = sol.grid.points[:, 0]
    seg = _segments(c, p)
    stop = ~sol.continue_mask
    for s in np.unique(seg):
        assert _runs(stop[seg == s]) <= 1, f"stopping set not convex on piece {s}"


def _tp2(rng, Y):
    b0 = rng.dirichlet(np.ones(Y))
    ratio = np.sort(rng.uniform(0.05, 20, size=Y))
    b1 = b0 * ratio
    return np.vstack([b0, b1 / b1.sum()])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    Y=st.integers(2, 4),
    rho=st.floats(0.3, 0.95),
    d=st.floats(0.01, 0.5),
)
def test_threshold_form_under_tp2(seed, Y, rho, d):
    rng = np.random.default_rng(seed)
    B = _tp2(rng, Y)
    assert np.all(np.diff(B[1] / B[0]) >= 0)  # monotone likelihood ratio
    c = np.array([[0.0, rng.uniform(0.2, 2)], [rng.uniform(0.2, 2), 0.0]])
    prob = StoppingProblem.from_misclassification(B, c, d, rho)
    sol = value_iteration(prob, grid_size=1001, tol=1e-11)
    region = sol.continue_region
    assert len(region) <= 1
    # threshold policy: continue iff theta_1 < pi(0) < theta_2; certainty stops
    assert not sol.continue_mask[0] and not sol.continue_mask[-1]
    if region:
        lo, hi = region[0]
        p = sol.grid.points[:, 0]
        inside = (p > lo) & (p < hi)
        assert np.array_equal(inside, sol.continue_mask)


# ---------------------------------------------------------------- validation
def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="discount"):
        StoppingProblem(SYM, MISCLASS, 0.1, 1.0)
    with pytest.raises(ValueError, match="discount"):
        StoppingProblem(SYM, MISCLASS, 0.1, -0.1)
    with pytest.raises(ValueError, match="row-stochastic"):
        StoppingProblem(np.array([[0.8, 0.3], [0.2, 0.8]]), MISCLASS, 0.1, 0.9)
    with pytest.raises(ValueError, match="negative"):
        StoppingProblem(np.array([[1.2, -0.2], [0.2, 0.8]]), MISCLASS, 0.1, 0.9)
    with pytest.raises(ValueError, match="NaN"):
        StoppingProblem(np.array([[np.nan, 0.2], [0.2, 0.8]]), MISCLASS, 0.1, 0.9)
    with pytest.raises(ValueError, match="stop_cost"):
        StoppingProblem(SYM, np.ones(3), 0.1, 0.9)
    with pytest.raises(ValueError, match="continue_cost"):
        StoppingProblem(SYM, MISCLASS, np.ones((3, 2)), 0.9)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        StoppingProblem(SYM, lambda pi: np.ones((len(pi), 2)), 0.1, 0.9)
    with pytest.raises(ValueError, match="transition"):
        StoppingProblem(SYM, MISCLASS, 0.1, 0.9, transition=np.eye(3))
    prob = herding_problem()
    with pytest.raises(ValueError, match="grid_size"):
        value_iteration(prob, grid_size=1)
    with pytest.raises(ValueError, match="tol"):
        value_iteration(prob, tol=0)
    with pytest.raises(ValueError, match="simplex"):
        value_iteration(prob, grid_size=11).value([0.7, 0.7])


def test_callable_and_linear_costs_agree():
    c = MISCLASS / 0.1
    a = StoppingProblem(SYM, c, np.array([0.2, 0.4]), 0.9)
    b = StoppingProblem(SYM, lambda pi: (pi @ c).min(axis=1), lambda pi: pi @ np.array([0.2, 0.4]), 0.9)
    va = value_iteration(a, grid_size=301).values
    vb = value_iteration(b, grid_size=301).values
    assert np.allclose(va, vb)


# ---------------------------------------------------------------- discretization error (issue 16)
def test_grid_bias_reproduced_and_bracketed():
    # discount 0.99, delay cost 0.01: the 1,001-point grid is 14% low at pi = 1/2
    prob = herding_problem(d=0.01, rho=0.99)
    sol = value_iteration(prob, grid_size=1001)
    exact = exact_value(prob, [0.5, 0.5], tol=1e-9)
    assert sol.value([0.5, 0.5])[0] == pytest.approx(0.0991, abs=5e-5)
    assert exact.value[0] == pytest.approx(0.1152, abs=5e-5)
    bd = sol.discretization
    i = 500
    assert bd.lower[i] <= exact.lower[0] <= exact.upper[0] <= bd.upper[i]
    assert bd.upper[i] - exact.value[0] < 0.01  # the controller bound is the tighter side here
    lo, up = sol.value_bounds([[0.5, 0.5], [0.3, 0.7]])
    ex2 = exact_value(prob, [[0.5, 0.5], [0.3, 0.7]], tol=1e-7)
    assert np.all(lo <= ex2.lower + 1e-12) and np.all(ex2.upper <= up + 1e-12)
    d = sol.to_dict()
    assert d["value_at_half"] == pytest.approx(sol.values[i])
    assert d["exact_bounds_at_half"][0] <= exact.value[0] <= d["exact_bounds_at_half"][1]
    assert d["discretization_error"] == pytest.approx(bd.max_gap)
    json.dumps(sol.to_dict(include_values=True), allow_nan=False)
    assert "discretization error" in sol.summary()
    # refining the grid shrinks the bracket
    fine = value_iteration(prob, grid_size=4001).discretization
    assert fine.upper[2000] - fine.lower[2000] < bd.upper[i] - bd.lower[i]


def test_exact_value_matches_brute_force_and_validates():
    prob = herding_problem(d=0.25, rho=0.9)
    ex = exact_value(prob, [[0.5, 0.5], [0.2, 0.8]], tol=1e-11)
    for k, p0 in enumerate([0.5, 0.2]):
        v = brute_force_static(prob, np.array([p0, 1 - p0]), horizon=300)
        assert ex.lower[k] - 1e-12 <= v <= ex.upper[k] + 1e-12
    # three observations, and a zero likelihood (a revealing signal)
    B3 = np.array([[0.6, 0.3, 0.1], [0.15, 0.35, 0.5]])
    p3 = StoppingProblem(B3, np.array([[0.0, 2.0], [3.0, 0.0]]), 0.15, 0.55)
    e3 = exact_value(p3, [0.4, 0.6], tol=1e-9)
    vh = brute_force_histories(p3, np.array([0.4, 0.6]), 12)
    assert vh - 0.55**12 * 3 <= e3.lower[0] <= e3.upper[0] <= vh + 1e-12
    Bz = np.array([[1.0, 0.0], [0.3, 0.7]])
    pz = herding_problem(B=Bz, d=0.05, rho=0.9)
    ez = exact_value(pz, [0.5, 0.5], tol=1e-10)
    assert ez.value[0] == pytest.approx(brute_force_histories(pz, np.array([0.5, 0.5]), 16), abs=0.9**16 * 10)
    json.dumps(ez.to_dict(), allow_nan=False)
    assert "count lattice" in ez.summary()
    with pytest.raises(ValueError, match="static"):
        exact_value(herding_problem(P=np.array([[0.9, 0.1], [0.1, 0.9]])), [0.5, 0.5])
    with pytest.raises(ValueError, match="callable"):
        exact_value(StoppingProblem(SYM, lambda pi: pi.min(axis=1), 0.1, 0.9), [0.5, 0.5])
    with pytest.raises(ValueError, match="tol"):
        exact_value(prob, [0.5, 0.5], tol=0.0)
    with pytest.raises(ValueError, match="max_horizon"):
        exact_value(prob, [0.5, 0.5], tol=1e-12, max_horizon=10)
    with pytest.raises(ValueError, match="simplex"):
        exact_value(prob, [0.7, 0.7])


def test_callable_costs_report_no_bracket():
    prob = StoppingProblem(SYM, lambda pi: (pi @ MISCLASS).min(axis=1), 0.1, 0.9)
    sol = value_iteration(prob, grid_size=101)
    assert sol.discretization is None
    assert "no bound" in sol.summary()
    assert sol.to_dict()["discretization_error"] is None
    with pytest.raises(ValueError, match="callable"):
        sol.value_bounds([0.5, 0.5])
