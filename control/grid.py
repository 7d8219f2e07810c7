"""Belief grids on the probability simplex and sparse interpolation matrices.

The grid of resolution ``n`` is the set of beliefs ``q / n`` with ``q`` a
non-negative integer vector of length ``X`` summing to ``n``
(``(n + X - 1)! / (n! (X - 1)!)`` points; ``n + 1`` points for ``X = 2``).
A belief off the grid is interpolated linearly on the Freudenthal (Kuhn)
triangulation of this grid (Lovejoy 1991, "Computationally feasible bounds for
partially observed Markov decision processes"): in the cumulative coordinates

    z_i = n * sum_{j >= i} pi(j),   i = 1..X-1,   n >= z_1 >= ... >= z_{X-1} >= 0,

the lattice points are the integer vectors, the simplex containing ``z`` has
vertices ``v_0 = floor(z)`` and ``v_k = v_{k-1} + e_{p(k)}`` where ``p`` orders
the fractional parts ``f = z - floor(z)`` decreasingly, and the barycentric
weights are ``w_0 = 1 - f_{p(1)}``, ``w_k = f_{p(k)} - f_{p(k+1)}``,
``w_{X-1} = f_{p(X-1)}``. For ``X = 2`` this is ordinary linear interpolation
in ``pi(0)``. The interpolant is exact on functions linear in ``pi`` and, in
1-D, it preserves concavity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np
import scipy.sparse as sp

__all__ = ["BeliefGrid", "simplex_grid"]

_MAX_LOOKUP = 50_000_000


def _check_beliefs(beliefs: np.ndarray, n_states: int, name: str = "beliefs") -> np.ndarray:
    b = np.asarray(beliefs, dtype=float)
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != n_states:
        raise ValueError(f"{name} must have shape (n, {n_states}) or ({n_states},); got {np.shape(beliefs)}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{name} contain NaN or infinite values")
    if np.any(b < -1e-9) or np.any(np.abs(b.sum(axis=1) - 1.0) > 1e-6):
        raise ValueError(f"{name} must lie on the probability simplex (non-negative, rows summing to 1)")
    return b


@dataclass(frozen=True)
class BeliefGrid:
    """A regular grid of resolution ``n`` on the simplex of ``X`` states.

    Attributes
    ----------
    n_states : int
        ``X``.
    resolution : int
        ``n``; the points are ``q / n`` with integer ``q >= 0``, ``sum(q) = n``.
    points : ndarray, shape (N, X)
        The beliefs, ordered lexicographically by ``(q_0, q_1, ...)``; for ``X = 2``
        this is ``pi(0) = 0, 1/n, ..., 1`` in increasing order.

    Examples
    --------
    >>> g = simplex_grid(2, 5)
    >>> g.points[:, 0]
    array([0. , 0.2, 0.4, 0.6, 0.8, 1. ])
    >>> W = g.interpolation_matrix([[0.3, 0.7]])
    >>> W.toarray().round(3)[0, :3]
    array([0. , 0.5, 0.5])
    """

    n_states: int
    resolution: int
    points: np.ndarray = field(repr=False)
    _lookup: np.ndarray = field(repr=False)

    @property
    def size(self) -> int:
        """Number of grid points ``N``."""
        return self.points.shape[0]

    def interpolation_matrix(self, beliefs: np.ndarray, *, validate: bool = True) -> sp.csr_matrix:
        """Sparse matrix ``W`` (m, N) with ``f(beliefs) ~ W @ f(points)``.

        Each row holds the barycentric weights (at most ``X`` non-zeros, summing
        to 1) of the Freudenthal simplex that contains the belief.
        """
        b = _check_beliefs(beliefs, self.n_states) if validate else np.atleast_2d(beliefs)
        rows, cols, vals = self.interpolation_triplets(b)
        return sp.csr_matrix((vals, (rows, cols)), shape=(b.shape[0], self.size))

    def interpolation_triplets(self, beliefs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """COO triplets ``(row, col, weight)`` of :meth:`interpolation_matrix` (no validation)."""
        b = np.asarray(beliefs, dtype=float)
        m, X = b.shape
        n = self.resolution
        D = X - 1
        # cumulative coordinates z_i = n * sum_{j>=i} pi_j, i = 1..X-1
        z = n * np.cumsum(b[:, ::-1], axis=1)[:, ::-1][:, 1:]
        z = np.clip(z, 0.0, n)
        # rounding can break the ordering n >= z_1 >= ... >= z_D; restore it
        z = np.minimum.accumulate(z, axis=1)
        base = np.floor(z)
        base = np.minimum(base, n)  # z == n exactly
        frac = z - base
        # descending order of fractional parts; stable so that equal parts keep
        # index order, which keeps every vertex inside the ordered region
        order = np.argsort(-frac, axis=1, kind="stable")
        sfrac = np.take_along_axis(frac, order, axis=1)
        weights = np.empty((m, D + 1))
        weights[:, 0] = 1.0 - sfrac[:, 0]
        if D > 1:
            weights[:, 1:D] = sfrac[:, :-1] - sfrac[:, 1:]
        weights[:, D] = sfrac[:, -1]
        vert = base.astype(np.int64)
        cols = np.empty((m, D + 1), dtype=np.int64)
        cols[:, 0] = self._index(vert)
        step = np.zeros_like(vert)
        ar = np.arange(m)
        for k in range(1, D + 1):
            step[ar, order[:, k - 1]] = 1
            # zero-weight vertices may fall outside the grid; point them at v_0
            ok = weights[:, k] > 0.0
            cols[:, k] = self._index(np.where(ok[:, None], vert + step, vert))
        rows = np.repeat(ar, D + 1)
        w = weights.ravel()
        keep = w > 0.0
        return rows[keep], cols.ravel()[keep], w[keep]

    def _index(self, z: np.ndarray) -> np.ndarray:
        n = self.resolution
        flat = np.ravel_multi_index(tuple(z.T), (n + 1,) * (self.n_states - 1))
        idx = self._lookup[flat]
        if np.any(idx < 0):  # pragma: no cover - guarded by construction
            raise RuntimeError("interpolation vertex outside the simplex grid")
        return idx

    def interpolate(self, values: np.ndarray, beliefs: np.ndarray) -> np.ndarray:
        """Piecewise-linear interpolant of grid ``values`` (N,) at ``beliefs`` (m, X) -> (m,)."""
        v = np.asarray(values, dtype=float)
        if v.shape != (self.size,):
            raise ValueError(f"values must have shape ({self.size},); got {v.shape}")
        return self.interpolation_matrix(beliefs) @ v


def simplex_grid(n_states: int, resolution: int) -> BeliefGrid:
    """Regular simplex grid ``{q / n : q in N^X, sum q = n}`` with ``n = resolution``.

    Parameters
    ----------
    n_states : int
        ``X >= 2``.
    resolution : int
        ``n >= 1``: the number of intervals along each edge (``n + 1`` points per edge).

    Returns
    -------
    BeliefGrid
        With ``comb(n + X - 1, X - 1)`` points.

    Examples
    --------
    >>> simplex_grid(3, 2).points
    array([[0. , 0. , 1. ],
           [0. , 0.5, 0.5],
           [0. , 1. , 0. ],
           [0.5, 0. , 0.5],
           [0.5, 0.5, 0. ],
           [1. , 0. , 0. ]])
    """
    X = int(n_states)
    n = int(resolution)
    if X < 2:
        raise ValueError(f"n_states must be at least 2; got {n_states}")
    if n < 1:
        raise ValueError(f"resolution must be at least 1; got {resolution}")
    D = X - 1
    if (n + 1) ** D > _MAX_LOOKUP:
        raise ValueError(
            f"grid too large: resolution {n} with {X} states needs a lookup table of {(n + 1) ** D} entries"
        )
    n_points = comb(n + D, D)
    if X == 2:
        z = (n - np.arange(n + 1))[:, None]  # pi(0) = 1 - z_1 / n increasing
    else:
        zz = np.indices((n + 1,) * D).reshape(D, -1).T
        mono = np.all(np.diff(zz, axis=1) <= 0, axis=1) if D > 1 else np.ones(len(zz), bool)
        z = zz[mono]
    # q_0 = n - z_1, q_i = z_i - z_{i+1}, q_{X-1} = z_{X-1}
    q = np.empty((z.shape[0], X), dtype=np.int64)
    q[:, 0] = n - z[:, 0]
    if D > 1:
        q[:, 1:D] = z[:, :-1] - z[:, 1:]
    q[:, D] = z[:, -1]
    order = np.lexsort(q.T[::-1])
    q = q[order]
    z = z[order]
    assert q.shape[0] == n_points
    lookup = np.full((n + 1) ** D, -1, dtype=np.int64)
    lookup[np.ravel_multi_index(tuple(z.T), (n + 1,) * D)] = np.arange(n_points)
    return BeliefGrid(X, n, q / n, lookup)
