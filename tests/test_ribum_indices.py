"""Houtman-Maks, Varian and Money Pump indices and Bronars' power, against
independent brute-force enumerations and closed forms."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ribum

NOGARP_X = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
NOGARP_P = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]


def relations(p, x):
    E = np.asarray(p, float) @ np.asarray(x, float).T
    d = np.diag(E)
    return E, d[:, None] >= E, d[:, None] > E


def garp_ok(R, P):
    T = R.shape[0]
    C = R.copy()
    for k in range(T):
        C |= C[:, [k]] & C[[k], :]
    return not np.any(C & P.T)


def acyclic(W):
    W = W.copy()
    np.fill_diagonal(W, False)
    C = W.copy()
    for k in range(W.shape[0]):
        C |= C[:, [k]] & C[[k], :]
    return not np.any(np.diag(C))


def brute_houtman_maks(p, x):
    _, R, P = relations(p, x)
    T = R.shape[0]
    for size in range(T, 0, -1):
        for keep in itertools.combinations(range(T), size):
            idx = np.array(keep)
            if garp_ok(R[np.ix_(idx, idx)], P[np.ix_(idx, idx)]):
                return size
    return 0


def brute_varian_mean(p, x):
    E, _, _ = relations(p, x)
    Rt = E / np.diag(E)[:, None]
    T = Rt.shape[0]
    cands = [np.unique(np.r_[Rt[t][(Rt[t] < 1) & (np.arange(T) != t)], 1.0]) for t in range(T)]
    best = -1.0
    for e in itertools.product(*cands):
        e = np.array(e)
        if e.sum() > best and acyclic(Rt < e[:, None]):
            best = e.sum()
    return best / T


def brute_mpi(p, x):
    E, R, P = relations(p, x)
    T = R.shape[0]
    d = np.diag(E)
    vals = []
    for size in range(2, T + 1):
        for subset in itertools.combinations(range(T), size):
            first = subset[0]
            for rest in itertools.permutations(subset[1:]):
                cyc = np.array((first,) + rest)
                nxt = np.roll(cyc, -1)
                if np.all(R[cyc, nxt]) and np.any(P[cyc, nxt]):
                    vals.append((d[cyc] - E[cyc, nxt]).sum() / d[cyc].sum())
    return vals


def small_data(seed, T, G=2):
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 6, size=(T, G)).astype(float)
    x = rng.integers(0, 6, size=(T, G)).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1.0
    return p, x


def test_nogarp_indices_by_hand():
    # One 3-cycle; dropping any one observation restores GARP; the cheapest
    # efficiency repair lowers e_1 to 76/77; the cycle's money pump is
    # (134-131 + 77-76 + 73-62) / (134 + 77 + 73) = 15/284.
    hm = ribum.houtman_maks(NOGARP_P, NOGARP_X)
    assert hm.detail["n_kept"] == 2 and hm.value == pytest.approx(2 / 3)
    v = ribum.varian_index(NOGARP_P, NOGARP_X)
    np.testing.assert_allclose(v.detail["efficiencies"], [1.0, 76 / 77, 1.0])
    assert v.value == pytest.approx((2 + 76 / 77) / 3, abs=1e-12)
    assert ribum.varian_index(NOGARP_P, NOGARP_X, aggregate="min").value == 76 / 77
    mpi = ribum.money_pump_index(NOGARP_P, NOGARP_X)
    assert mpi.value == pytest.approx(15 / 284) and mpi.detail["n_cycles"] == 1 and mpi.exact


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000))
def test_houtman_maks_matches_subset_enumeration(T, seed):
    p, x = small_data(seed, T)
    hm = ribum.houtman_maks(p, x)
    assert hm.detail["n_kept"] == brute_houtman_maks(p, x)
    kept = hm.detail["kept"]
    assert ribum.garp(np.asarray(p)[kept], np.asarray(x)[kept]).passed


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 4), st.integers(0, 10_000))
def test_varian_index_matches_enumeration(T, seed):
    p, x = small_data(seed, T)
    v = ribum.varian_index(p, x)
    assert v.value == pytest.approx(brute_varian_mean(p, x), abs=1e-9)
    assert v.value >= ribum.ccei(p, x) - 1e-12  # the mean of e is at least its min


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 5), st.integers(0, 10_000))
def test_money_pump_index_matches_enumeration(T, seed):
    p, x = small_data(seed, T)
    vals = brute_mpi(p, x)
    mpi = ribum.money_pump_index(p, x)
    if not vals:
        assert mpi.value == 0.0 and mpi.detail["n_cycles"] == 0
    else:
        assert mpi.detail["n_cycles"] == len(vals)
        assert mpi.value == pytest.approx(np.mean(vals))
        assert mpi.detail["max"] == pytest.approx(max(vals))


def test_rational_data_have_perfect_indices():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 2, size=(15, 3))
    x = 0.3 * rng.uniform(2, 5, size=(15, 1)) / p
    assert ribum.houtman_maks(p, x).value == 1.0
    assert ribum.varian_index(p, x).value == 1.0
    assert ribum.money_pump_index(p, x).value == 0.0


def test_money_pump_length_limit_is_reported():
    res = ribum.money_pump_index(NOGARP_P, NOGARP_X, max_length=2)
    assert not res.exact and res.detail["n_cycles"] == 0


def test_component_limits_raise():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.5, 1.5, size=(12, 2))
    x = rng.uniform(0.5, 1.5, size=(12, 2))
    with pytest.raises(ValueError, match="max_component"):
        ribum.varian_index(p, x, max_component=2)
    with pytest.raises(ValueError, match="aggregate"):
        ribum.varian_index(p, x, aggregate="median")


def test_bronars_power_closed_form_two_crossing_budgets():
    # Budgets (1,2).x = 2 and (2,1).x = 2 cross at (2/3, 2/3); a uniform point
    # on the first lies strictly inside the second with probability 1/3 (budget
    # share of good 1 below 1/3), and vice versa, so power = 1/9.
    p = [[1.0, 2.0], [2.0, 1.0]]
    x = [[1.0, 0.5], [0.5, 1.0]]
    res = ribum.bronars_power(p, x, n_sim=3000, seed=123)
    assert abs(res.power - 1 / 9) < 4 * np.sqrt((1 / 9) * (8 / 9) / 3000)
    assert res.n_violating == round(res.power * 3000)


def test_bronars_power_nested_budgets_is_zero_and_reproducible():
    p = [[1.0, 1.0], [1.0, 1.0]]
    x = [[1.0, 1.0], [5.0, 5.0]]
    assert ribum.bronars_power(p, x, n_sim=200, seed=0).power == 0.0
    p3 = [[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]]
    x3 = [[1.0, 0.5], [0.5, 1.0], [0.7, 0.7]]
    a = ribum.bronars_power(p3, x3, n_sim=100, seed=7, with_ccei=True)
    b = ribum.bronars_power(p3, x3, n_sim=100, seed=7, with_ccei=True)
    assert a.power == b.power and np.array_equal(a.ccei, b.ccei)
    assert np.all((a.ccei > 0) & (a.ccei <= 1))
    assert np.sum(a.ccei < 1) <= a.n_violating


def test_bad_index_input():
    with pytest.raises(ValueError, match="n_sim"):
        ribum.bronars_power(NOGARP_P, NOGARP_X, n_sim=0)
    with pytest.raises(ValueError, match="seed"):
        ribum.bronars_power(NOGARP_P, NOGARP_X, n_sim=5, seed="abc")
    with pytest.raises(ValueError, match="strictly positive"):
        ribum.houtman_maks([[0.0, 1.0]], [[1.0, 1.0]])
