"""GARP, CCEI, WARP and Afriat's utility (ribum.budget), against hand-worked
fixtures, an independent Warshall-closure brute force, and theory (Hypothesis)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ribum
from ribum._graph import strongly_connected

NOGARP_X = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
NOGARP_P = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]


# ----------------------------------------------------------------------------- brute force


def brute_relations(p, x, e):
    """R0_e, P0_e with exact comparisons (inputs are small integers in these tests)."""
    p = np.asarray(p, float)
    x = np.asarray(x, float)
    E = p @ x.T
    d = np.diag(E)
    return e * d[:, None] >= E, e * d[:, None] > E


def brute_violations(p, x, e=1.0):
    """Warshall closure (O(T^3), fine for tests) and the count of the definition."""
    R, P = brute_relations(p, x, e)
    T = R.shape[0]
    C = R.copy()
    for k in range(T):
        C |= C[:, [k]] & C[[k], :]
    return int(np.sum(C & P.T))


def brute_ccei(p, x):
    """sup{e : GARP_e}: test GARP_e between consecutive candidate ratios."""
    p = np.asarray(p, float)
    x = np.asarray(x, float)
    E = p @ x.T
    ratios = np.unique((E / np.diag(E)[:, None]).ravel())
    cands = np.unique(np.r_[ratios[(ratios > 0) & (ratios < 1)], 1.0])
    prev = 0.0
    for c in cands:
        # GARP_e is constant on (prev, c); test at the midpoint.
        if brute_violations(p, x, 0.5 * (prev + c)) > 0:
            return prev
        prev = c
    return 1.0


def cobb_douglas(prices, income, alpha):
    return alpha[None, :] * income[:, None] / prices


def ces(prices, income, alpha, rho):
    sigma = 1.0 / (1.0 - rho)
    w = alpha[None, :] ** sigma * prices ** (-sigma)
    return income[:, None] * w / np.sum(alpha[None, :] ** sigma * prices ** (1 - sigma), axis=1, keepdims=True)


# ----------------------------------------------------------------------------- fixtures


def test_nogarp_fixture_of_revealedprefs():
    g = ribum.garp(NOGARP_P, NOGARP_X, cycles=True)
    assert not g.passed
    # One 3-cycle 0 -> 1 -> 2 -> 0 of strict arcs (E = [[134,131,136],[80,77,76],[62,83,73]]).
    assert g.violations == 3 == brute_violations(NOGARP_P, NOGARP_X)
    assert g.n_on_cycle == 3
    assert sorted(tuple(c) for c in g.cycles) == [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    assert ribum.ccei(NOGARP_P, NOGARP_X) == 76 / 77


def test_ccei_boundary_is_a_supremum():
    # GARP holds just below 76/77 and fails just above; at 76/77 itself the
    # arc 1 -> 2 becomes weak and closes the cycle with two strict arcs.
    assert ribum.garp(NOGARP_P, NOGARP_X, 76 / 77 - 1e-9).passed
    assert not ribum.garp(NOGARP_P, NOGARP_X, 76 / 77).passed
    assert not ribum.garp(NOGARP_P, NOGARP_X, 76 / 77 + 1e-9).passed


def test_fails_garp_at_one_yet_ccei_is_one():
    # x_1 costs exactly x_0's expenditure at p_0 (a weak arc 0 R0 1, ratio 1);
    # x_0 is strictly cheaper at p_1 (1 P0 0). GARP fails at e = 1, holds for all e < 1.
    p = [[1.0, 1.0], [2.0, 1.0]]
    x = [[1.0, 1.0], [2.0, 0.0]]
    g = ribum.garp(p, x)
    assert not g.passed and g.violations == 1 == brute_violations(p, x)
    assert ribum.garp(p, x, 1 - 1e-9).passed
    assert ribum.ccei(p, x) == 1.0


def test_two_observation_ccei_closed_form():
    # Each bundle strictly cheaper at the other's prices: CCEI = max of the two ratios.
    p = [[1.0, 2.0], [2.0, 1.0]]
    x = [[1.0, 2.0], [2.0, 0.5]]
    E = np.asarray(p) @ np.asarray(x).T
    r01, r10 = E[0, 1] / E[0, 0], E[1, 0] / E[1, 1]
    assert r01 < 1 and r10 < 1
    assert ribum.ccei(p, x) == max(r01, r10)
    assert not ribum.warp(p, x).passed


def test_rational_single_and_trivial_cases():
    assert ribum.ccei([[1.0, 1.0]], [[1.0, 2.0]]) == 1.0
    g = ribum.garp([[1.0, 1.0]], [[1.0, 2.0]])
    assert g.passed and g.violations == 0
    # Identical observations: weak arcs both ways, no strict arc, so GARP holds.
    assert ribum.garp([[1.0, 2.0], [1.0, 2.0]], [[1.0, 1.0], [1.0, 1.0]]).passed


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(2, 3), st.integers(0, 10_000))
def test_garp_and_ccei_match_brute_force_on_integer_data(T, G, seed):
    # Small integers make ties (weak arcs) frequent, which is where bugs hide.
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 5, size=(T, G)).astype(float)
    x = rng.integers(0, 5, size=(T, G)).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1.0
    assert ribum.garp(p, x).violations == brute_violations(p, x)
    for e in (0.5, 0.8, 0.95):
        assert ribum.garp(p, x, e).violations == brute_violations(p, x, e)
    assert ribum.ccei(p, x) == pytest.approx(brute_ccei(p, x), abs=0, rel=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 25), st.integers(2, 4), st.integers(0, 10_000), st.floats(-3.0, 0.8))
def test_utility_maximisers_pass_garp_with_ccei_one_and_afriat_rationalises(T, G, seed, rho):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.2, 3.0, size=(T, G))
    m = rng.uniform(1.0, 10.0, size=T)
    alpha = rng.dirichlet(np.ones(G))
    x = cobb_douglas(p, m, alpha) if abs(rho) < 1e-3 else ces(p, m, alpha, rho)
    g = ribum.garp(p, x)
    assert g.passed and g.violations == 0
    assert ribum.ccei(p, x) == 1.0
    u = ribum.afriat_utility(p, x)
    ux = u(x)
    assert np.allclose(ux, u.U, atol=1e-6 * max(1.0, np.abs(u.U).max()))
    # Every bundle on or inside budget t is worth at most u(x_t).
    for t in range(T):
        w = rng.dirichlet(np.ones(G), size=20) * rng.uniform(0.0, 1.0, size=(20, 1))
        y = w * m[t] / p[t]
        assert np.all(u(y) <= ux[t] + 1e-6 * max(1.0, abs(ux[t])))


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 30), st.integers(2, 4), st.integers(0, 10_000), st.floats(0.05, 0.5))
def test_perturbed_data_fail_with_a_reported_margin(T, G, seed, noise):
    # Demand with multiplicative noise: whenever GARP fails, 1 - CCEI > 0 is the
    # margin, GARP holds just below the CCEI and fails just above it.
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 2.0, size=(T, G))
    x = cobb_douglas(p, rng.uniform(4, 6, size=T), rng.dirichlet(np.ones(G))) * np.exp(rng.normal(0, noise, (T, G)))
    g = ribum.garp(p, x)
    c = ribum.ccei(p, x)
    assert g.violations == brute_violations(p, x)
    if g.passed:
        assert c == 1.0
    elif c < 1.0:
        assert ribum.garp(p, x, c * (1 - 1e-9)).passed
        assert not ribum.garp(p, x, min(1.0, c * (1 + 1e-9))).passed


def test_noisy_demand_garp_consistent_with_ccei_and_sccs():
    rng = np.random.default_rng(11)
    T, G = 400, 4
    p = rng.uniform(0.5, 1.5, size=(T, G))
    x = cobb_douglas(p, rng.uniform(4, 6, size=T), rng.dirichlet(np.ones(G))) * np.exp(rng.normal(0, 0.1, (T, G)))
    g = ribum.garp(p, x)
    c = ribum.ccei(p, x)
    assert not g.passed and c < 1
    assert ribum.garp(p, x, c * (1 - 1e-9)).passed
    assert not ribum.garp(p, x, min(1.0, c * (1 + 1e-9))).passed
    assert g.violations == brute_violations(p, x)


def test_cycles_are_real_violating_cycles():
    rng = np.random.default_rng(2)
    T, G = 60, 3
    p = rng.uniform(0.5, 1.5, size=(T, G))
    x = rng.uniform(0.5, 1.5, size=(T, G))
    g = ribum.garp(p, x, cycles=True, max_cycles=25)
    assert not g.passed and 0 < len(g.cycles) <= 25
    R, P = brute_relations(p, x, 1.0)
    for cyc in g.cycles:
        nxt = np.roll(cyc, -1)
        assert P[cyc[0], cyc[1]]  # the first arc is strict
        assert np.all(R[cyc, nxt])
        assert len(set(cyc)) == len(cyc)


def test_warp_counts_two_cycles():
    p = [[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]]
    x = [[1.0, 2.0], [2.0, 0.5], [10.0, 10.0]]
    R, P = brute_relations(p, x, 1.0)
    np.fill_diagonal(R, False)
    assert ribum.warp(p, x).violations == int(np.sum(R & P.T))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 7), st.integers(2, 3), st.integers(0, 10_000))
def test_sarp_matches_brute_force(T, G, seed):
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 4, size=(T, G)).astype(float)
    x = rng.integers(0, 3, size=(T, G)).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1.0
    if seed % 2:
        x[-1] = x[0]  # a repeated bundle: weak cycles between equal bundles are allowed
    R, _ = brute_relations(p, x, 1.0)
    C = R.copy()
    for k in range(T):
        C |= C[:, [k]] & C[[k], :]
    distinct = np.any(x[:, None, :] != x[None, :, :], axis=2)
    expected = int(np.sum(C & R.T & distinct))
    res = ribum.sarp(p, x)
    assert res.violations == expected
    if res.passed:
        assert ribum.garp(p, x).passed  # SARP implies GARP


def test_afriat_error_names_the_ccei():
    with pytest.raises(ValueError, match="CCEI = 0.98701"):
        ribum.afriat_utility(NOGARP_P, NOGARP_X)
    u = ribum.afriat_utility(NOGARP_P, NOGARP_X, efficiency=0.98)
    # At e < 1 the inequalities U_s <= U_t + lam_t (E[t,s] - e E[t,t]) hold.
    E = np.asarray(NOGARP_P, float) @ np.asarray(NOGARP_X, float).T
    lhs = u.U[None, :] - u.U[:, None] - u.lam[:, None] * (E - 0.98 * np.diag(E)[:, None])
    assert lhs.max() <= 1e-7
    assert np.all(u.lam > 0)


def test_dense_scc_matches_scipy_on_random_graphs():
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    import ribum._graph as graph

    rng = np.random.default_rng(0)
    old = graph._SCIPY_NODES
    graph._SCIPY_NODES = 3  # exercise trimming and forward-backward on small graphs
    try:
        for it in range(150):
            n = int(rng.integers(1, 50))
            W = rng.random((n, n)) < rng.uniform(0, 0.3)
            if it % 3 == 0:
                W = np.triu(W, 1) | (rng.random((n, n)) < 0.02)
            labels, on_cycle = strongly_connected(W)
            W2 = W.copy()
            np.fill_diagonal(W2, False)
            _, ref = connected_components(sp.csr_matrix(W2), directed=True, connection="strong")
            pairs = set(zip(labels.tolist(), ref.tolist(), strict=True))
            assert len(pairs) == len(set(labels.tolist())) == len(set(ref.tolist()))
            sizes = np.bincount(ref)
            assert np.array_equal(on_cycle, sizes[ref] > 1)
    finally:
        graph._SCIPY_NODES = old


@pytest.mark.parametrize(
    "prices, quantities, match",
    [
        ([[1.0, -1.0]], [[1.0, 1.0]], "strictly positive"),
        ([[1.0, 0.0]], [[1.0, 1.0]], "strictly positive"),
        ([[1.0, 1.0]], [[1.0, -1.0]], "non-negative"),
        ([[1.0, np.nan]], [[1.0, 1.0]], "NaN"),
        ([[1.0, 1.0]], [[np.inf, 1.0]], "NaN or infinite"),
        ([[1.0, 1.0]], [[1.0, 1.0, 1.0]], "same shape"),
        ([1.0, 1.0], [1.0, 1.0], "2-D"),
        ([[1.0, 1.0]], [[0.0, 0.0]], "all-zero bundle"),
        ([["a", "b"]], [[1.0, 1.0]], "numeric"),
    ],
)
def test_bad_budget_input(prices, quantities, match):
    for f in (ribum.garp, ribum.ccei, ribum.afriat_utility):
        with pytest.raises(ValueError, match=match):
            f(prices, quantities)


def test_bad_efficiency():
    for e in (0.0, 1.5, -1, "x"):
        with pytest.raises(ValueError, match="efficiency"):
            ribum.garp(NOGARP_P, NOGARP_X, e)


def test_result_objects_serialise():
    import json

    g = ribum.garp(NOGARP_P, NOGARP_X, cycles=True)
    d = json.loads(json.dumps(g.to_dict()))
    assert d["violations"] == 3 and d["passed"] is False
    assert "FAILED" in g.summary()
