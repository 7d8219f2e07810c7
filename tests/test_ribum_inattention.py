"""NIAS, NIAC, recover_costs and the RIBUM LP (ribum.inattention)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import ribum
from ribum.inattention import _same_strategy


def shannon_agent(seed, K=4, X=3, A=3, lam=0.1):
    rng = np.random.default_rng(seed)
    r = rng.uniform(0, 1, size=(K, X, A))
    prior = rng.dirichlet(np.ones(X) * 3)
    return r, prior, ribum.rational_inattention_kernel(r, prior, lam)


def assert_constraints_hold(k, prior, res):
    """Recovered utilities and costs satisfy every constraint with the margin,
    except NIAC pairs of environments with the same strategy (margin 0 by design)."""
    assert ribum.nias(k, res.utilities, prior).min_slack >= res.margin - 1e-6
    K = k.shape[0]
    same = _same_strategy(prior[None, :, None] * k)
    slack = ribum.niac(k, res.utilities, res.costs, prior).slack
    off = ~np.eye(K, dtype=bool)
    assert np.all(slack[off & ~same] >= res.margin - 1e-6)
    assert np.all(slack[off & same] >= -1e-6)


def mutual_information(kernels, prior):
    joint = prior[None, :, None] * kernels
    pa = joint.sum(axis=1, keepdims=True)
    ratio = np.divide(kernels, pa, out=np.ones_like(kernels), where=kernels > 0)
    return np.sum(joint * np.log(ratio), axis=(1, 2))


def random_split(kernels, frac=0.3):
    """Split action 0 into actions 0 and A with a state-independent fraction: same posterior."""
    out = np.concatenate([kernels, kernels[..., :1]], axis=2)
    out[..., 0] *= frac
    out[..., -1] *= 1 - frac
    return out


# ----------------------------------------------------------------------------- theory


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(2, 4), st.integers(2, 4), st.floats(0.05, 0.6))
def test_shannon_agents_satisfy_nias_niac_and_pass(seed, K, X, A, lam):
    r, prior, k = shannon_agent(seed, K, X, A, lam)
    # The true utilities satisfy NIAS, and NIAC with the true costs lam * I(x; a).
    assert ribum.nias(k, r, prior, tol=1e-8).passed
    assert ribum.niac(k, r, lam * mutual_information(k, prior), prior, tol=1e-8).passed
    res = ribum.check_ribum(k, prior)
    assert res.margin >= -1e-9
    assert_constraints_hold(k, prior, res)
    # Strict consistency: the margin is positive unless two environments use
    # different but nearly identical strategies (the margin of their NIAC pair
    # is bounded by the difference), which we skip.
    joint = prior[None, :, None] * k
    canon = np.sort(joint.transpose(0, 2, 1).reshape(K, A, X).round(12), axis=1).reshape(K, -1)
    dist = np.abs(canon[:, None] - canon[None, :]).max(axis=2)
    if np.all((dist < 1e-10) | (dist > 1e-3)):
        assert res.passed and res.margin > 1e-6


def test_random_split_agent_fails_max_margin():
    _, prior, k = shannon_agent(1, K=3, X=3, A=3, lam=0.2)
    assert ribum.check_ribum(k, prior).passed
    res = ribum.check_ribum(random_split(k), prior)
    assert not res.passed
    assert abs(res.margin) <= 1e-6
    # The split pair (0, A) binds in every environment where action 0 is used.
    used = (prior[None, :, None] * k).sum(axis=1)[:, 0] > 0
    A = k.shape[2]
    for env in np.flatnonzero(used):
        assert any((row == [env, 0, A]).all() for row in res.binding_nias)


def test_single_environment_margin_by_hand():
    # K = 1: only NIAS. Posteriors q0 = (9/11, 2/11), q1 = (1/9, 8/9). With
    # d = r(., 0) - r(., 1) in [-1, 1]^2 the LP is max min(q0.d, -q1.d): at d1 = 1
    # both equal 385/583 when d2 = -46/53.
    k = [[[0.9, 0.1], [0.2, 0.8]]]
    res = ribum.check_ribum(k)
    assert res.margin == pytest.approx(385 / 583, abs=1e-7)
    # Independent check of that closed form with linprog on (d1, d2, m).
    q0, q1 = np.array([9, 2]) / 11, np.array([1, 8]) / 9
    out = linprog([0, 0, -1], A_ub=[[-q0[0], -q0[1], 1], [q1[0], q1[1], 1]], b_ub=[0, 0],
                  bounds=[(-1, 1), (-1, 1), (None, None)], method="highs")
    assert -out.fun == pytest.approx(385 / 583, abs=1e-9)


def test_identical_environments_are_exempt_from_the_niac_margin():
    # Two identical environments: a rational agent facing one problem twice.
    k = np.array([[[0.9, 0.1], [0.2, 0.8]]] * 2)
    res = ribum.check_ribum(k)
    assert res.passed
    assert res.margin == pytest.approx(385 / 583, abs=1e-6)
    assert res.costs[0] == pytest.approx(res.costs[1], abs=1e-6)


def test_invariance_to_relabelling_and_rescaling():
    r, prior, k = shannon_agent(7, K=4, X=4, A=3, lam=0.25)
    base = ribum.check_ribum(k, prior)
    rng = np.random.default_rng(0)
    px = rng.permutation(4)
    pk = rng.permutation(4)
    permuted = k[pk][:, px, :]
    for env in range(4):
        permuted[env] = permuted[env][:, rng.permutation(3)]
    res = ribum.check_ribum(permuted, prior[px])
    assert res.passed == base.passed
    assert res.margin == pytest.approx(base.margin, abs=1e-6)
    # Rescaled utilities alpha r + c(x) with lam * alpha give the same kernels and verdict.
    alpha = 3.7
    c = rng.normal(size=(1, 4, 1))
    k2 = ribum.rational_inattention_kernel(alpha * r + c, prior, 0.25 * alpha)
    np.testing.assert_allclose(k2, k, atol=1e-9)
    res2 = ribum.check_ribum(k2, prior)
    assert res2.margin == pytest.approx(base.margin, abs=1e-6)
    # Slacks of given utilities scale by alpha (costs scaled alike): verdicts unchanged.
    s1 = ribum.nias(k, r, prior)
    s2 = ribum.nias(k, alpha * r + c, prior)
    np.testing.assert_allclose(s2.slack, alpha * s1.slack, atol=1e-9)
    kap = 0.25 * mutual_information(k, prior)
    n1 = ribum.niac(k, r, kap, prior)
    n2 = ribum.niac(k, alpha * r + c, alpha * kap, prior)
    np.testing.assert_allclose(n2.slack, alpha * n1.slack, atol=1e-9)
    assert n1.passed == n2.passed


def test_sparsest_objective():
    _, prior, k = shannon_agent(3)
    mm = ribum.check_ribum(k, prior)
    sp_ = ribum.check_ribum(k, prior, objective="sparsest")
    assert sp_.objective == "sparsest" and sp_.passed
    assert sp_.margin == pytest.approx(0.5 * mm.margin)
    assert sp_.utilities.sum() <= mm.utilities.sum() + 1e-6
    assert_constraints_hold(k, prior, sp_)
    with pytest.raises(ValueError, match="margin"):
        ribum.check_ribum(k, prior, objective="sparsest", margin=2.0)


def test_nias_slack_by_hand():
    k = [[[0.9, 0.1], [0.2, 0.8]]]
    r = [[[1.0, 0.0], [0.0, 1.0]]]
    s = ribum.nias(k, r).slack
    # slack[a, b] = sum_x p(x|a) (r(x,a) - r(x,b)): a = 0: 9/11 - 2/11; a = 1: 8/9 - 1/9.
    assert s[0, 0, 1] == pytest.approx(7 / 11)
    assert s[0, 1, 0] == pytest.approx(7 / 9)
    assert np.isnan(s[0, 0, 0]) and np.isnan(s[0, 1, 1])
    # An action never chosen has no posterior: its row is NaN.
    k3 = [[[0.9, 0.1, 0.0], [0.2, 0.8, 0.0]]]
    r3 = [[[1.0, 0.0, 5.0], [0.0, 1.0, 5.0]]]
    s3 = ribum.nias(k3, r3)
    assert np.all(np.isnan(s3.slack[0, 2])) and not s3.passed  # b = 2 dominates


def test_niac_and_recover_costs_by_hand():
    # Env 0: informative kernel, stakes 1; env 1: less informative, stakes 1/2.
    k = np.array([[[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.4, 0.6]]])
    r = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.0, 0.5]]])
    # G_0 = 0.9, V_01 = 0.6; G_1 = 0.3, V_10 = 0.45 (uniform prior).
    kap = ribum.recover_costs(k, r)
    assert kap[0] - kap[1] <= 0.9 - 0.6 + 1e-12
    assert kap[1] - kap[0] <= 0.3 - 0.45 + 1e-12
    # Potentials from a virtual source: kappa = (0.15, 0) exactly.
    np.testing.assert_allclose(kap, [0.15, 0.0], atol=1e-12)
    res = ribum.niac(k, r, kap)
    np.testing.assert_allclose(res.slack[0, 1], 0.3 - 0.15)
    np.testing.assert_allclose(res.slack[1, 0], -0.15 + 0.15, atol=1e-12)


def test_recover_costs_negative_cycle():
    # Env 0 attends to nothing but would gain from env 1's information; env 1 has
    # no stakes, so no costs can make both NIAC constraints hold.
    k = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.9, 0.1], [0.1, 0.9]]])
    r = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])
    with pytest.raises(ValueError, match="negative cycle"):
        ribum.recover_costs(k, r)


def test_result_summary_and_dict():
    import json

    _, prior, k = shannon_agent(2)
    res = ribum.check_ribum(k, prior)
    assert "PASSED" in res.summary() and "margin" in res.summary()
    d = json.loads(json.dumps(res.to_dict(), default=lambda v: None))
    assert d["passed"] is True and np.asarray(d["utilities"]).shape == k.shape


@pytest.mark.parametrize(
    "kernels, prior, match",
    [
        (np.ones((2, 2)), None, "3-D"),
        ([[[0.5, 0.6], [0.5, 0.5]]], None, "sum to 1"),
        ([[[1.5, -0.5], [0.5, 0.5]]], None, "negative"),
        ([[[np.nan, 0.5], [0.5, 0.5]]], None, "NaN"),
        ([[[0.5, 0.5], [0.5, 0.5]]], [0.5, 0.3], "sum to 1"),
        ([[[0.5, 0.5], [0.5, 0.5]]], [1.0], "shape"),
    ],
)
def test_bad_kernel_input(kernels, prior, match):
    with pytest.raises(ValueError, match=match):
        ribum.check_ribum(kernels, prior)
    with pytest.raises(ValueError, match=match):
        ribum.nias(kernels, np.zeros(np.shape(kernels)) if np.ndim(kernels) == 3 else np.zeros((1, 2, 2)), prior)


def test_bad_objective_and_utilities_shape():
    with pytest.raises(ValueError, match="objective"):
        ribum.check_ribum([[[1.0, 0.0], [0.0, 1.0]]], objective="fastest")
    with pytest.raises(ValueError, match="utilities must have shape"):
        ribum.nias([[[1.0, 0.0], [0.0, 1.0]]], np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="costs must have shape"):
        ribum.niac([[[1.0, 0.0], [0.0, 1.0]]], np.zeros((1, 2, 2)), [0.0, 1.0])


def test_paper_scale_problem_passes_and_split_fails():
    # K = 20 environments, X = 6 states, A = 8 actions (the benchmark size).
    rng = np.random.default_rng(4)
    r = rng.uniform(0, 1, size=(20, 6, 8))
    k = ribum.rational_inattention_kernel(r, None, 0.1)
    res = ribum.check_ribum(k)
    assert res.passed and res.margin > 1e-4
    assert_constraints_hold(k, np.full(6, 1 / 6), res)
    assert ribum.nias(k, r).passed
    assert not ribum.check_ribum(random_split(k)).passed


def test_solver_failure_is_a_clear_error_and_no_constraint_case():
    with pytest.raises(ValueError, match="solver NOPE failed"):
        ribum.check_ribum([[[0.9, 0.1], [0.2, 0.8]]], solver="NOPE")
    # One environment, one action: no constraint at all, the margin sits at its cap.
    res = ribum.check_ribum([[[1.0], [1.0]]])
    assert res.margin == pytest.approx(1.0) and res.binding_nias.shape[0] == 0


def test_clarabel_agrees_with_highs():
    _, prior, k = shannon_agent(5)
    a = ribum.check_ribum(k, prior)
    b = ribum.check_ribum(k, prior, solver="CLARABEL")
    assert b.solver == "CLARABEL" and b.margin == pytest.approx(a.margin, abs=1e-6)


# ----------------------------------------------------------------------------- degenerate kernels, solver fallback


def _degenerate_cases():
    """(kernels, prior, exact margin or None) with large optimal faces."""
    uninformative = np.full((2, 3, 2), 0.5)  # identical rows: every action reveals the prior
    identity = np.eye(2)[None]  # deterministic, fully informative: posteriors are point masses
    unused = np.array([[[0.7, 0.3, 0.0], [0.2, 0.8, 0.0]], [[0.7, 0.3, 0.0], [0.2, 0.8, 0.0]]])  # action 2 unused
    deterministic = np.eye(3)[[[0, 0, 2], [1, 1, 1], [0, 2, 2]]]  # (3, 3, 3) one-hot rows
    return [
        # Two chosen actions with the same posterior: NIAS gives r(a) - r(b) >= m and r(b) - r(a) >= m, so m* = 0.
        (uninformative, None, 0.0),
        # Point-mass posteriors, one environment: r(x, x) = 1, r(x, other) = 0 reaches the cap m = 1.
        (identity, None, 1.0),
        (unused, np.array([0.3, 0.7]), None),
        (deterministic, np.array([0.2, 0.3, 0.5]), None),
    ]


@pytest.mark.parametrize("case", range(4))
def test_degenerate_kernels_solve_and_solvers_agree(case):
    k, prior, exact = _degenerate_cases()[case]
    res = ribum.check_ribum(k, prior)
    pi = np.full(k.shape[1], 1 / k.shape[1]) if prior is None else prior
    assert res.method and res.solver
    if exact is not None:
        assert res.margin == pytest.approx(exact, abs=1e-6)
    for solver in ("CLARABEL",):
        other = ribum.check_ribum(k, prior, solver=solver)
        assert other.margin == pytest.approx(res.margin, abs=1e-6)
    simplex = ribum.inattention.RibumLP(*k.shape).solve_highs(k, pi)
    assert simplex[0] == pytest.approx(res.margin, abs=1e-6)
    assert_constraints_hold(k, pi, res)


def test_solver_chain_falls_back_when_interior_point_fails(monkeypatch):
    """A failed HiGHS IPM (as seen on degenerate bootstrap resamples) must not abort check_ribum."""
    import cvxpy as cp

    from ribum.inattention import RibumLP

    def scipy_highs_fails(self, *args, **kwargs):
        raise ValueError("RIBUM LP (HiGHS): no method succeeded (simulated)")

    # the direct scipy path fails first, so the CVXPY chain under test runs
    monkeypatch.setattr(RibumLP, "solve_highs", scipy_highs_fails)
    real = cp.Problem.solve

    def flaky(self, *args, **kwargs):
        opts = kwargs.get("highs_options", {})
        if kwargs.get("solver") == "HIGHS" and opts.get("run_crossover") == "off":
            raise cp.error.SolverError("Solver 'HIGHS' failed (simulated IPM breakdown)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cp.Problem, "solve", flaky)
    k = np.full((2, 3, 2), 0.5)
    res = ribum.check_ribum(k)
    assert res.margin == pytest.approx(0.0, abs=1e-6)
    assert res.method.startswith("HIGHS interior point + crossover") and "simulated IPM breakdown" in res.method

    def broken_highs(self, *args, **kwargs):
        if kwargs.get("solver") == "HIGHS":
            raise cp.error.SolverError("Solver 'HIGHS' failed")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cp.Problem, "solve", broken_highs)
    res = ribum.check_ribum(k)
    assert res.solver == "CLARABEL" and res.margin == pytest.approx(0.0, abs=1e-6)
    assert "HIGHS simplex" in res.method
    # A solver the caller names is used alone: no silent switch to another solver.
    with pytest.raises(ValueError, match="solver HIGHS failed"):
        ribum.check_ribum(k, solver="HIGHS")


def test_solve_highs_falls_back_from_interior_point(monkeypatch):
    import scipy.optimize

    real = scipy.optimize.linprog

    def flaky(*args, method=None, **kwargs):
        res = real(*args, method=method, **kwargs)
        if method == "highs-ipm":
            res.status, res.x, res.message = 4, None, "simulated numerical difficulties"
        return res

    monkeypatch.setattr(scipy.optimize, "linprog", flaky)
    k = np.eye(2)[None].repeat(2, axis=0)
    lp = ribum.inattention.RibumLP(2, 2, 2)
    m, util, kappa, status, method = lp.solve_highs(k, np.array([0.5, 0.5]))
    assert m == pytest.approx(1.0, abs=1e-7) and status == "optimal"
    assert method.startswith("HiGHS highs-ds") and "simulated numerical difficulties" in method


def _noisy_identity(K: int, seed: int = 0) -> np.ndarray:
    """K noisy-identity raters (6 states, 6 actions) estimated from 20 answers per state."""
    rng = np.random.default_rng(seed)
    kern = np.empty((K, 6, 6))
    for k in range(K):
        acc = rng.uniform(0.4, 0.9)
        p = np.full((6, 6), (1 - acc) / 5) + np.eye(6) * (acc - (1 - acc) / 5)
        kern[k] = [np.bincount(rng.choice(6, size=20, p=row), minlength=6) for row in p]
    return kern / kern.sum(axis=2, keepdims=True)


def test_solve_direct_clarabel_matches_highs_on_a_large_lp():
    """Above CLARABEL_FROM_ROWS the LP goes to Clarabel; its optimum is HiGHS's, and check_ribum says so."""
    from ribum.inattention import CLARABEL_FROM_ROWS, RibumLP

    k = _noisy_identity(20)
    pi = np.full(6, 1 / 6)
    lp = RibumLP(*k.shape)
    assert lp.n_rows >= CLARABEL_FROM_ROWS
    m_c, util, kappa, status, method = lp.solve_direct(k, pi)
    assert method.startswith("Clarabel") and status == "optimal"
    m_h = RibumLP(*k.shape).solve_highs(k, pi)[0]
    assert m_c == pytest.approx(m_h, abs=1e-7) and m_c > 0.01
    res = ribum.check_ribum(k, pi)
    assert res.solver == "CLARABEL" and res.margin == pytest.approx(m_h, abs=1e-7)
    assert_constraints_hold(k, pi, res)
    # below the threshold HiGHS answers
    small = RibumLP(3, 6, 6)
    assert small.n_rows < CLARABEL_FROM_ROWS and small.solve_direct(k[:3], pi)[4].startswith("HiGHS")


def test_solve_direct_falls_back_to_highs_when_clarabel_fails(monkeypatch):
    from ribum.inattention import RibumLP

    def clarabel_fails(self, *args, **kwargs):
        raise ValueError("RIBUM LP (Clarabel): status NumericalError (simulated)")

    monkeypatch.setattr(RibumLP, "solve_clarabel", clarabel_fails)
    k = _noisy_identity(19, seed=1)
    pi = np.full(6, 1 / 6)
    lp = RibumLP(*k.shape)
    m, *_, method = lp.solve_direct(k, pi)
    assert method.startswith("HiGHS") and "simulated" in method and lp.attempts
    assert m == pytest.approx(RibumLP(*k.shape).solve_highs(k, pi)[0], abs=1e-9)


# ----------------------------------------------------------------------------- hostile input (issue 12, item 7)


@pytest.mark.parametrize("tol", [-1.0, -1e-12, float("nan"), float("inf"), "0.1", None, True])
def test_bad_tol_is_rejected(tol):
    k = [[[0.9, 0.1], [0.2, 0.8]]]
    with pytest.raises(ValueError, match="tol must be"):
        ribum.check_ribum(k, tol=tol)
    with pytest.raises(ValueError, match="tol must be"):
        ribum.nias(k, [[[1.0, 0.0], [0.0, 1.0]]], tol=tol)
    with pytest.raises(ValueError, match="tol must be"):
        ribum.niac(k, [[[1.0, 0.0], [0.0, 1.0]]], [0.0], tol=tol)
    with pytest.raises(ValueError, match="tol must be"):
        ribum.bootstrap_ribum([[[9, 1], [2, 8]]], n_boot=2, tol=tol)


def test_tol_changes_only_the_threshold():
    k = [[[0.9, 0.1], [0.2, 0.8]]]
    assert ribum.check_ribum(k, tol=0.0).passed
    assert not ribum.check_ribum(k, tol=0.9).passed


@pytest.mark.parametrize(
    "kernels, prior, match",
    [
        ([[[0.9 + 0.1j, 0.1], [0.2, 0.8]]], None, "kernels must be real"),
        ([[[0.9, 0.1], [0.2, 0.8]]], [0.5 + 0j, 0.5], "prior must be real"),
        ([[["0.9", "0.1"], ["0.2", "0.8"]]], None, "kernels must be a numeric array"),
        ([[[0.9, 0.1], [0.2, 0.8]]], ["a", "b"], "prior must be a numeric array"),
        ([[[0.9, None], [0.2, 0.8]]], None, "kernels must be a numeric array"),
    ],
)
def test_complex_and_non_numeric_input_is_rejected_by_name(kernels, prior, match):
    with pytest.raises(ValueError, match=match):
        ribum.check_ribum(kernels, prior)
    with pytest.raises(ValueError, match=match):
        ribum.ribum_power(kernels, prior, n=2)


def test_complex_counts_and_utilities_are_rejected_by_name():
    with pytest.raises(ValueError, match="counts must be real"):
        ribum.bootstrap_ribum(np.array([[[9, 1], [2, 8]]]) * (1 + 0j), n_boot=2)
    with pytest.raises(ValueError, match="utilities must be real"):
        ribum.nias([[[0.9, 0.1], [0.2, 0.8]]], np.array([[[1.0, 0.0], [0.0, 1.0]]]) * 1j)


def _zero_prior_case():
    _, prior, k = shannon_agent(12, K=3, X=4, A=3, lam=0.2)
    prior = prior.copy()
    prior[1] = 0.0
    return k, prior / prior.sum()


def test_zero_prior_state_is_dropped_with_a_note():
    k, prior = _zero_prior_case()
    res = ribum.check_ribum(k, prior)
    assert any("prior 0" in n and "[1]" in n for n in res.notes)
    assert res.margin >= 0.0 and not str(res.margin).startswith("-")
    assert res.utilities.shape == k.shape and np.all(res.utilities[:, 1] == 0)
    # the same margin as the test on the other states
    keep = [0, 2, 3]
    sub = ribum.check_ribum(k[:, keep], prior[keep] / prior[keep].sum())
    assert res.margin == pytest.approx(sub.margin, abs=1e-7) and res.passed == sub.passed
    assert "m* = -" not in res.summary() and "note:" in res.summary()
    import json

    json.dumps(res.to_dict(), allow_nan=False)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_margin_is_never_negative_nor_negative_zero(seed, n_zero):
    rng = np.random.default_rng(seed)
    X = 5
    prior = rng.dirichlet(np.ones(X))
    prior[rng.choice(X, size=n_zero, replace=False)] = 0.0
    prior /= prior.sum()
    k = rng.dirichlet(np.ones(3), size=(2, X))
    # uninformative environments: the optimum is m* = 0 exactly
    k[1] = k[1, :1]
    res = ribum.check_ribum(k, prior)
    assert res.margin >= 0.0 and np.copysign(1.0, res.margin) == 1.0
    counts = rng.multinomial(50, k)
    boot = ribum.bootstrap_ribum(counts, n_boot=5, seed=seed, prior=prior)
    assert np.all(np.copysign(1.0, boot.margins) == 1.0) and np.all(np.copysign(1.0, boot.ci) == 1.0)
    assert np.copysign(1.0, boot.margin) == 1.0
    assert "-0" not in boot.summary().replace("e-0", "")
    assert any("prior 0" in n for n in boot.notes)
