"""ribum budget functions on hostile input (issue 12, item 7): overflow, complex
and non-numeric arrays, and the Varian index on near-duplicate observations,
checked against brute-force enumeration."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ribum
from ribum._graph import strongly_connected
from ribum.indices import _varian_component

NOGARP_X = np.array([[9, 5, 3], [8, 3, 10], [8, 5, 7]], float)
NOGARP_P = np.array([[10, 7, 3], [8, 1, 1], [5, 1, 4]], float)


@pytest.mark.parametrize("sp,sx", [(1e306, 1e3), (1e-300, 1e-10), (2.0**1000, 2.0**20), (1e200, 1e200)])
def test_overflow_and_underflow_safe(sp, sx):
    g = ribum.garp(NOGARP_P * sp, NOGARP_X * sx)
    assert not g.passed and g.violations == 3
    assert ribum.ccei(NOGARP_P * sp, NOGARP_X * sx) == pytest.approx(76 / 77, abs=1e-15)
    assert not ribum.warp(NOGARP_P * sp, NOGARP_X * sx).passed or True  # no exception
    assert ribum.houtman_maks(NOGARP_P * sp, NOGARP_X * sx).detail["n_kept"] == 2
    assert ribum.varian_index(NOGARP_P * sp, NOGARP_X * sx).value == pytest.approx(
        ribum.varian_index(NOGARP_P, NOGARP_X).value, abs=1e-15)


def test_power_of_two_scaling_is_exact():
    assert ribum.ccei(NOGARP_P * 2.0**1000, NOGARP_X * 2.0**20) == 76 / 77


@pytest.mark.parametrize("fn", [ribum.garp, ribum.ccei, ribum.houtman_maks, ribum.varian_index,
                                ribum.money_pump_index, ribum.expenditure_matrix])
def test_complex_and_non_numeric_rejected(fn):
    with pytest.raises(ValueError, match="prices must be real"):
        fn(NOGARP_P + 1j, NOGARP_X)
    with pytest.raises(ValueError, match="quantities must be real"):
        fn(NOGARP_P, NOGARP_X.astype(complex))
    with pytest.raises(ValueError, match="prices must be a numeric array"):
        fn([["1", "2", "3"]] * 3, NOGARP_X)
    with pytest.raises(ValueError, match="quantities must be a numeric array"):
        fn(NOGARP_P, [[1, None, 2]] * 3)


# ----------------------------------------------------------------------------- Varian, near duplicates


def brute_varian(R):
    """max sum e over all level combinations with {R < e} acyclic."""
    n = R.shape[0]
    levels = [np.unique(np.r_[R[i][R[i] < 1.0], 1.0]) for i in range(n)]
    best = -1.0
    for e in itertools.product(*levels):
        e = np.array(e)
        if e.sum() > best and not strongly_connected(e[:, None] > R)[1].any():
            best = e.sum()
    return best


def ratio_matrix(p, x):
    E = p @ x.T
    R = E / np.diag(E)[:, None]
    np.fill_diagonal(R, np.inf)
    return R


@st.composite
def near_duplicates(draw):
    T = draw(st.integers(2, 4))
    G = draw(st.integers(2, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 2.0, (T, G))
    x = rng.uniform(0.1, 3.0, (T, G))
    # Near copies of observation 0 (relative perturbations down to 1e-12).
    k = draw(st.integers(1, 3))
    rows_p, rows_x = [p], [x]
    for _ in range(k):
        eps = 10.0 ** -draw(st.integers(8, 12))
        rows_p.append(p[[0]] * (1 + eps * rng.choice([-1, 1], (1, G))))
        rows_x.append(x[[0]] * (1 + eps * rng.choice([-1, 1], (1, G))))
    return np.vstack(rows_p), np.vstack(rows_x)


@settings(max_examples=60, deadline=None)
@given(near_duplicates())
def test_varian_near_duplicates_matches_enumeration(data):
    p, x = data
    T = p.shape[0]
    R = ratio_matrix(p, x)
    v = ribum.varian_index(p, x)  # never raises
    e = v.detail["efficiencies"]
    assert not strongly_connected(ratio_matrix(p, x) < e[:, None])[1].any()
    assert v.value == pytest.approx(brute_varian(R) / T, abs=1e-15)


@settings(max_examples=25, deadline=None)
@given(near_duplicates())
def test_varian_milp_path_near_duplicates(data):
    """The MILP path (forced) returns exactly acyclic levels, optimal up to solver tolerance."""
    p, x = data
    R = ratio_matrix(p, x)
    e = _varian_component(R, None, enumerate_limit=0)
    assert not strongly_connected(e[:, None] > R)[1].any()
    assert e.sum() == pytest.approx(brute_varian(R), abs=1e-9)
    assert e.sum() <= brute_varian(R) + 1e-15


def test_varian_three_observation_regression():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 2, (1, 2))
    x = rng.uniform(0.5, 2, (1, 2))
    for eps in (1e-8, 1e-9, 1e-10, 1e-11, 1e-12):
        P = np.vstack([p, p * (1 + eps), p * np.array([[1 + eps, 1 - eps]])])
        X = np.vstack([x * np.array([[1 + eps, 1 - eps]]), x, x * (1 - eps)])
        v = ribum.varian_index(P, X)
        assert v.value == pytest.approx(brute_varian(ratio_matrix(P, X)) / 3, abs=1e-15)
