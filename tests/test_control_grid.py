from __future__ import annotations

from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control.grid import simplex_grid


@pytest.mark.parametrize("X,n", [(2, 7), (3, 6), (4, 5), (5, 3)])
def test_grid_points_are_the_lattice(X, n):
    g = simplex_grid(X, n)
    assert g.size == comb(n + X - 1, X - 1)
    q = g.points * n
    assert np.allclose(q, np.round(q))
    assert np.allclose(g.points.sum(axis=1), 1.0)
    assert len({tuple(r) for r in np.round(q).astype(int)}) == g.size


def test_one_dimensional_grid_is_increasing_in_pi0():
    g = simplex_grid(2, 10)
    assert np.allclose(g.points[:, 0], np.linspace(0, 1, 11))


@settings(max_examples=30, deadline=None)
@given(X=st.integers(2, 5), n=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_interpolation_is_exact_on_linear_functions_and_convex(X, n, seed):
    rng = np.random.default_rng(seed)
    g = simplex_grid(X, n)
    b = rng.dirichlet(np.full(X, 0.7), size=50)
    # include grid points, vertices and edges of the simplex
    b = np.vstack([b, np.eye(X), g.points[:3]])
    W = g.interpolation_matrix(b)
    assert W.nnz <= b.shape[0] * X
    assert W.min() >= 0
    assert np.allclose(W.sum(axis=1), 1.0)
    # barycentric: the weighted vertices reproduce the belief (linear functions exactly)
    assert np.allclose(W @ g.points, b, atol=1e-12)
    c = rng.normal(size=X)
    assert np.allclose(W @ (g.points @ c), b @ c, atol=1e-12)


def test_interpolation_vertices_are_neighbours():
    # every vertex of the containing simplex is within one grid step per coordinate
    g = simplex_grid(3, 20)
    b = np.random.default_rng(0).dirichlet([1, 1, 1], size=200)
    W = g.interpolation_matrix(b).tocoo()
    d = np.abs(g.points[W.col] - b[W.row]).max(axis=1)
    assert d.max() <= 1.0 / 20 + 1e-12


def test_one_dimensional_interpolation_matches_numpy():
    g = simplex_grid(2, 13)
    p = np.random.default_rng(1).uniform(size=100)
    f = np.sin(3 * g.points[:, 0])
    got = g.interpolate(f, np.c_[p, 1 - p])
    assert np.allclose(got, np.interp(p, g.points[:, 0], f))


def test_bad_grid_input():
    with pytest.raises(ValueError, match="n_states"):
        simplex_grid(1, 3)
    with pytest.raises(ValueError, match="resolution"):
        simplex_grid(2, 0)
    g = simplex_grid(3, 4)
    with pytest.raises(ValueError, match="shape"):
        g.interpolation_matrix(np.ones((2, 2)) / 2)
    with pytest.raises(ValueError, match="simplex"):
        g.interpolation_matrix([[0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="NaN"):
        g.interpolation_matrix([[np.nan, 0.5, 0.5]])
