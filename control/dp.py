"""Dynamic programming for :class:`~control.stopping.StoppingProblem` on a belief grid.

The problem is discretized once: for every grid point ``pi_i`` and observation
``y`` the updated belief ``T_y pi_i`` is interpolated on the grid (sparse
barycentric weights ``M_y``, see :mod:`control.grid`), and the ``Y`` matrices
are stacked into one sparse transition matrix

    K = sum_y diag(sigma(., y)) M_y        (N x N, rows summing to 1),

so the Bellman operator on the grid is one sparse mat-vec,

    (L V)_i = min{ C_s(pi_i),  d(pi_i) + rho (K V)_i }.

The discretized problem is a finite Markov decision process (grid points plus
an absorbing "stopped" state) and is solved exactly by value iteration, policy
iteration (sparse direct solve on the continue set) or modified policy
iteration. ``value(pi)`` interpolates the grid values.

Discretization error. The grid problem is not the problem: its linear
interpolation under-estimates the concave value function, so on a coarse grid
(or with beliefs that approach the vertices, as with discount near 1) the grid
value is biased low. When both costs are given in matrix form (scalars, vectors
or ``min_a c_a' pi``; concave, so ``V*`` is concave) every solution carries a
rigorous bracket (:attr:`StoppingSolution.discretization`):

* lower: the grid value minus its iteration error bound. Barycentric
  interpolation of a concave function lies below it, so the grid Bellman
  operator maps ``V*`` below itself and, being monotone, has its fixed point
  below ``V*``; the interpolant inherits the bound off the grid.
* upper: the exact value of a finite-state controller built from the grid
  policy (Hansen 1998): node ``i`` stops with the best action at ``pi_i`` or
  continues and, after ``y``, moves to the node whose linear value
  ``alpha_k' T_y pi_i`` is least among the nodes near ``T_y pi_i`` and the stop
  actions. Its values are linear in the belief,
  ``alpha_i = d_{b_i} + rho P sum_y diag(B[:, y]) alpha_{j(i, y)}``, found by one
  sparse solve; any policy's value bounds ``V*`` from above, so
  ``V*(pi) <= min_k alpha_k' pi``. A few rounds of controller improvement
  tighten it.

The width ``upper - lower`` is the discretization error bound reported next to
the values (``summary()``, ``to_dict()``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .grid import BeliefGrid, simplex_grid
from .stopping import StoppingProblem

__all__ = [
    "DiscretizedStopping",
    "StoppingSolution",
    "discretize",
    "value_iteration",
    "policy_iteration",
    "DiscretizationBounds",
]


@dataclass
class DiscretizedStopping:
    """A :class:`StoppingProblem` on a grid: ``V = min(stop, cont + rho K V)``.

    Attributes
    ----------
    problem : StoppingProblem
    grid : BeliefGrid
    K : scipy.sparse.csr_matrix (N, N)
        ``sum_y diag(sigma_y) M_y``.
    stop : ndarray (N,)
        ``C_s`` on the grid.
    cont : ndarray (N,)
        ``d`` on the grid.
    build_time : float
        Seconds spent building ``K``.
    """

    problem: StoppingProblem
    grid: BeliefGrid
    K: sp.csr_matrix = field(repr=False)
    stop: np.ndarray = field(repr=False)
    cont: np.ndarray = field(repr=False)
    build_time: float = 0.0

    @property
    def size(self) -> int:
        return self.grid.size

    def continuation(self, V: np.ndarray) -> np.ndarray:
        """``d + rho K V`` on the grid."""
        return self.cont + self.problem.discount * (self.K @ V)


def _grid_for(problem: StoppingProblem, grid_size: int) -> BeliefGrid:
    if int(grid_size) != grid_size or grid_size < 2:
        raise ValueError(f"grid_size must be an integer >= 2 (points per edge of the simplex); got {grid_size}")
    return simplex_grid(problem.n_states, int(grid_size) - 1)


def discretize(problem: StoppingProblem, grid_size: int = 1001) -> DiscretizedStopping:
    """Build the sparse grid model of ``problem``.

    Parameters
    ----------
    problem : StoppingProblem
    grid_size : int
        Points per edge of the simplex (``n + 1`` for resolution ``n``); for
        ``X = 2`` the number of grid points in ``pi(0)``; for ``X = 3`` the grid
        has ``grid_size (grid_size + 1) / 2`` points.

    Returns
    -------
    DiscretizedStopping

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.05, 0.9)
    >>> D = discretize(prob, 101)
    >>> D.K.shape, bool(np.allclose(D.K.sum(axis=1), 1))
    ((101, 101), True)
    """
    if not isinstance(problem, StoppingProblem):
        raise ValueError(f"problem must be a StoppingProblem; got {type(problem).__name__}")
    t0 = time.perf_counter()
    grid = _grid_for(problem, grid_size)
    pts = grid.points
    N, X, Y = grid.size, problem.n_states, problem.n_obs
    sig, T = problem.all_updates(pts)  # (N, Y), (N, Y, X)
    rows, cols, w = grid.interpolation_triplets(T.reshape(N * Y, X))
    vals = w * sig.ravel()[rows]
    K = sp.csr_matrix((vals, (rows // Y, cols)), shape=(N, N))
    K.sum_duplicates()
    K.eliminate_zeros()
    stop = problem._stop(pts)
    cont = problem._cont(pts)
    return DiscretizedStopping(problem, grid, K, stop, cont, time.perf_counter() - t0)


@dataclass
class DiscretizationBounds:
    """Rigorous bracket ``lower <= V* <= upper`` of the exact value on the grid points.

    Attributes
    ----------
    lower, upper : ndarray (N,)
        Bounds on the exact (continuous-belief) value ``V*`` at the grid points.
    alphas : ndarray (N, X)
        Linear values ``alpha_i`` of the controller nodes (upper bound ``min_k alpha_k' pi``).
    stop_alphas : ndarray (X, A)
        The stop actions' linear costs (always in the upper envelope).
    max_gap : float
        ``max_i (upper_i - lower_i)``: the discretization error bound of the values.
    rounds : int
        Point-based backups until no upper value improved.
    """

    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    alphas: np.ndarray = field(repr=False)
    stop_alphas: np.ndarray = field(repr=False)
    max_gap: float
    rounds: int


def _candidates(grid: BeliefGrid, beliefs: np.ndarray, width: int) -> np.ndarray:
    """Grid nodes near each belief (m, k): the interpolation vertices, and in 1-D ``width`` neighbours."""
    m, X = beliefs.shape
    rows, cols, _ = grid.interpolation_triplets(beliefs)
    # rows come sorted with at most X vertices each; slots left empty repeat the first vertex
    slot = np.arange(rows.size) - np.searchsorted(rows, rows, side="left")
    out = np.empty((m, X), dtype=np.int64)
    first = np.searchsorted(rows, np.arange(m), side="left")
    out[:] = cols[first][:, None]
    out[rows, slot] = cols
    if X == 2 and width > 0:
        base = out.min(axis=1)
        off = np.arange(-width, width + 2)
        out = np.clip(base[:, None] + off[None, :], 0, grid.size - 1)
    return out


def _discretization_bounds(sol: StoppingSolution, max_iter: int = 20_000,
                           width: int = 2) -> DiscretizationBounds | None:
    prob = sol.problem
    S, D = prob._stop.matrix, prob._cont.matrix
    if S is None or D is None:
        return None
    grid = sol.grid
    pts = grid.points
    N, X, Y = grid.size, prob.n_states, prob.n_obs
    A = S.shape[1]
    rho = prob.discount
    lower = sol.values - sol.error_bound
    M = np.einsum("xz,zy->yxz", prob.transition, prob.likelihood)  # M[y] = P diag(B[:, y])
    alpha = S[:, np.argmin(pts @ S, axis=1)].T.copy()  # (N, X): stop with the best action
    d_alpha = D[:, np.argmin(pts @ D, axis=1)].T  # piece of d active at the node: d(pi) <= d_b' pi
    d_val = (pts * d_alpha).sum(axis=1)
    val = (pts * alpha).sum(axis=1)
    sig, T = prob.all_updates(pts)
    Tf = T.reshape(N * Y, X)
    un = (sig.reshape(N * Y, 1) * Tf).reshape(N, Y, X)  # un-normalized posteriors B_y P' pi_i
    cand = np.hstack([_candidates(grid, Tf, width), np.broadcast_to(N + np.arange(A), (N * Y, A))])
    cand = cand.reshape(N, Y, -1)
    scale = max(1.0, float(np.max(np.abs(val))))
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        ext = np.vstack([alpha, S.T])
        q = ext[cand, 0] * un[:, :, 0, None]
        for x in range(1, X):
            q += ext[cand, x] * un[:, :, x, None]
        k = np.argmin(q, axis=2)
        new_val = d_val + rho * np.take_along_axis(q, k[:, :, None], axis=2)[:, :, 0].sum(axis=1)
        better = new_val < val - 1e-15 * scale
        if not better.any():
            break
        succ = np.take_along_axis(cand, k[:, :, None], axis=2)[:, :, 0]  # (N, Y)
        idx = np.flatnonzero(better)
        new_alpha = d_alpha[idx].copy()
        for y in range(Y):
            new_alpha += rho * ext[succ[idx, y]] @ M[y].T
        gain = float(np.max(val[idx] - new_val[idx]))
        alpha[idx] = new_alpha
        val[idx] = new_val[idx]
        if gain <= 1e-12 * scale:
            break
    upper = val
    # the bracket is ordered by construction; a negative width is round-off (at most ~1e-12 C_s)
    return DiscretizationBounds(lower, upper, alpha, S, max(float(np.max(upper - lower)), 0.0), it)


@dataclass
class StoppingSolution:
    """Solution of a stopping problem on a belief grid.

    Attributes
    ----------
    grid : BeliefGrid
    values : ndarray (N,)
        ``V`` on the grid points ``grid.points``.
    stop_values : ndarray (N,)
        ``C_s(pi_i)``.
    continue_values : ndarray (N,)
        ``Q_c(pi_i) = d(pi_i) + rho sum_y sigma(pi_i, y) V(T_y pi_i)``.
    continue_mask : ndarray of bool (N,)
        Where continuing is strictly better than stopping (ties stop).
    method : str
    n_iter : int
        Bellman sweeps (value iteration), improvement steps (policy iteration).
    residual : float
        ``max |L V - V|`` at the returned values.
    error_bound : float
        ``rho / (1 - rho) * residual``, a bound on ``max |V - V*|`` for the grid problem.
    converged : bool
    solve_time, build_time : float
        Seconds.
    """

    problem: StoppingProblem = field(repr=False)
    grid: BeliefGrid = field(repr=False)
    values: np.ndarray = field(repr=False)
    stop_values: np.ndarray = field(repr=False)
    continue_values: np.ndarray = field(repr=False)
    continue_mask: np.ndarray = field(repr=False)
    method: str
    n_iter: int
    residual: float
    error_bound: float
    converged: bool
    solve_time: float
    build_time: float
    _model: DiscretizedStopping | None = field(repr=False, default=None)
    _bounds: Any = field(repr=False, default=None)

    @property
    def discretization(self) -> DiscretizationBounds | None:
        """Rigorous bracket of the exact value at the grid points (computed once, on first use).

        ``lower = values - error_bound`` (linear interpolation under-estimates the
        concave ``V*``) and ``upper`` the value of a finite-state controller built
        from the grid policy; see the module docstring. ``None`` when a cost is a
        callable (concavity of ``V*`` is then unknown).
        """
        if self._bounds is None:
            self._bounds = _discretization_bounds(self) or False
        return self._bounds or None

    def value_bounds(self, beliefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)`` with ``lower <= V*(pi) <= upper`` at beliefs (n, X) or (X,).

        ``lower`` interpolates the grid's lower bounds; ``upper`` is the least of
        ``C_s(pi)`` and ``alpha_k' pi`` over the controller nodes near ``pi``.
        Raises ``ValueError`` when the costs are callables (no bracket).

        Examples
        --------
        >>> import numpy as np
        >>> B = np.array([[0.8, 0.2], [0.2, 0.8]])
        >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.01, 0.99)
        >>> sol = value_iteration(prob, grid_size=1001)
        >>> lo, up = sol.value_bounds([0.5, 0.5])
        >>> round(float(sol.value([0.5, 0.5])[0]), 4), bool(lo[0] <= 0.1152 <= up[0])
        (0.0991, True)
        """
        bd = self.discretization
        if bd is None:
            raise ValueError("beliefs: no discretization bounds for a problem with callable costs")
        pi = self.problem.check_beliefs(beliefs)
        W = self.grid.interpolation_matrix(pi)
        lower = W @ bd.lower
        cand = _candidates(self.grid, pi, 2)
        up = np.einsum("mkx,mx->mk", bd.alphas[cand], pi).min(axis=1)
        return lower, np.minimum(up, self.problem._stop(pi))

    @property
    def policy(self) -> np.ndarray:
        """Action on the grid: 1 = continue, 0 = stop."""
        return self.continue_mask.astype(np.int8)

    def value(self, beliefs: np.ndarray) -> np.ndarray:
        """``V(pi)`` by interpolation, beliefs (n, X) or (X,) -> (n,)."""
        return self.grid.interpolation_matrix(self.problem.check_beliefs(beliefs)) @ self.values

    def continue_value(self, beliefs: np.ndarray) -> np.ndarray:
        """``Q_c(pi) = d(pi) + rho sum_y sigma(pi, y) V(T_y pi)`` at arbitrary beliefs (n,)."""
        pi = self.problem.check_beliefs(beliefs)
        sig, T = self.problem.all_updates(pi)
        n, Y, X = T.shape
        VT = (self.grid.interpolation_matrix(T.reshape(n * Y, X), validate=False) @ self.values).reshape(n, Y)
        return self.problem._cont(pi) + self.problem.discount * (sig * VT).sum(axis=1)

    def action(self, beliefs: np.ndarray) -> np.ndarray:
        """Optimal action at arbitrary beliefs: 1 = continue, 0 = stop (n,)."""
        pi = self.problem.check_beliefs(beliefs)
        return (self.continue_value(pi) < self.problem._stop(pi) - _tie_tol(self.stop_values)).astype(np.int8)

    @property
    def continue_region(self) -> list[tuple[float, float]]:
        """For ``X = 2``: the intervals of ``pi(0)`` where continuing is optimal.

        End points are refined between grid points by the root of the linear
        interpolant of ``Q_c - C_s``.
        """
        self._need_1d("continue_region")
        p = self.grid.points[:, 0]
        c = self.continue_mask.astype(np.int8)
        g = self.continue_values - self.stop_values
        edges = np.flatnonzero(np.diff(c))
        out: list[tuple[float, float]] = []
        lo: float | None = 0.0 if c[0] else None
        for i in edges:
            # root of the linear interpolant of g between p[i] and p[i+1]
            gi, gj = g[i], g[i + 1]
            t = gi / (gi - gj) if gi != gj else 0.5
            x = float(p[i] + np.clip(t, 0.0, 1.0) * (p[i + 1] - p[i]))
            if c[i + 1]:
                lo = x
            else:
                out.append((0.0 if lo is None else lo, x))
                lo = None
        if lo is not None:
            out.append((lo, 1.0))
        return out

    @property
    def thresholds(self) -> np.ndarray:
        """For ``X = 2``: the interior end points of the continue region in ``pi(0)``, sorted."""
        ends = [e for iv in self.continue_region for e in iv if 0.0 < e < 1.0]
        return np.array(sorted(ends))

    def _need_1d(self, what: str) -> None:
        if self.problem.n_states != 2:
            raise ValueError(f"{what} is defined for X = 2 states; this problem has X = {self.problem.n_states}")

    def summary(self) -> str:
        lines = [
            f"Optimal stopping on a belief grid ({self.method})",
            f"  states X = {self.problem.n_states}, observations Y = {self.problem.n_obs}, "
            f"discount rho = {self.problem.discount}",
            f"  grid points N = {self.grid.size} (resolution {self.grid.resolution})",
            f"  iterations = {self.n_iter}, converged = {self.converged}",
            f"  residual max|LV - V| = {self.residual:.3e}, error bound = {self.error_bound:.3e}",
            f"  build {self.build_time:.3f} s, solve {self.solve_time:.3f} s",
            f"  continue at {int(self.continue_mask.sum())} of {self.grid.size} grid points",
        ]
        bd = self.discretization
        if bd is None:
            lines.append("  discretization error: no bound (callable costs)")
        else:
            lines.append(f"  discretization error: exact V* within [V - {self.error_bound:.1e}, upper], "
                         f"max upper - lower = {bd.max_gap:.3e}")
            if self.problem.n_states == 2 and self.grid.resolution % 2 == 0:
                i = self.grid.resolution // 2
                lines.append(f"  V(1/2) = {self.values[i]:.6f}, exact in [{bd.lower[i]:.6f}, {bd.upper[i]:.6f}]")
        if self.problem.n_states == 2:
            reg = ", ".join(f"({a:.6f}, {b:.6f})" for a, b in self.continue_region) or "empty"
            lines.append(f"  continue region in pi(0): {reg}")
        return "\n".join(lines)

    def to_dict(self, include_values: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "method": self.method,
            "n_states": self.problem.n_states,
            "n_obs": self.problem.n_obs,
            "discount": self.problem.discount,
            "likelihood": self.problem.likelihood.tolist(),
            "transition": self.problem.transition.tolist(),
            "grid_size": self.grid.size,
            "resolution": self.grid.resolution,
            "n_iter": self.n_iter,
            "residual": self.residual,
            "error_bound": self.error_bound,
            "converged": self.converged,
            "solve_time": self.solve_time,
            "build_time": self.build_time,
        }
        bd = self.discretization
        d["discretization_error"] = None if bd is None else bd.max_gap
        if bd is not None and self.problem.n_states == 2 and self.grid.resolution % 2 == 0:
            i = self.grid.resolution // 2
            d["value_at_half"] = float(self.values[i])
            d["exact_bounds_at_half"] = [float(bd.lower[i]), float(bd.upper[i])]
        if self.problem.n_states == 2:
            d["continue_region"] = [list(iv) for iv in self.continue_region]
            d["thresholds"] = self.thresholds.tolist()
        if include_values:
            d["grid_points"] = self.grid.points.tolist()
            d["values"] = self.values.tolist()
            d["continue_mask"] = self.continue_mask.tolist()
            if bd is not None:
                d["lower_values"] = bd.lower.tolist()
                d["upper_values"] = bd.upper.tolist()
        return d


def _tie_tol(stop: np.ndarray) -> float:
    # continue only when strictly better beyond round-off, so that the policy
    # does not flicker where Q_c and C_s coincide
    return 1e-12 * max(1.0, float(np.max(np.abs(stop))) if stop.size else 1.0)


def _prepare(problem, grid_size) -> DiscretizedStopping:
    if isinstance(problem, DiscretizedStopping):
        return problem
    return discretize(problem, grid_size)


def _check_iter(tol: float, max_iter: int) -> None:
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be positive; got {tol}")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter}")


def _finish(model, V, method, n_iter, converged, t0) -> StoppingSolution:
    rho = model.problem.discount
    Q = model.continuation(V)
    LV = np.minimum(model.stop, Q)
    res = float(np.max(np.abs(LV - V)))
    cmask = model.stop - _tie_tol(model.stop) > Q
    bound = rho / (1.0 - rho) * res if rho > 0 else 0.0
    return StoppingSolution(
        problem=model.problem,
        grid=model.grid,
        values=V,
        stop_values=model.stop,
        continue_values=Q,
        continue_mask=cmask,
        method=method,
        n_iter=n_iter,
        residual=res,
        error_bound=bound,
        converged=converged,
        solve_time=time.perf_counter() - t0,
        build_time=model.build_time,
        _model=model,
    )


def value_iteration(
    problem: StoppingProblem | DiscretizedStopping,
    grid_size: int = 1001,
    tol: float = 1e-8,
    max_iter: int = 100_000,
) -> StoppingSolution:
    """Value iteration ``V <- min(C_s, d + rho K V)`` on a belief grid.

    Starts from ``V_0 = C_s`` (so the iterates decrease monotonically to the
    fixed point) and stops when ``rho / (1 - rho) * max|V_{n+1} - V_n| <= tol``,
    which guarantees ``max|V_{n+1} - V*| <= tol`` for the grid problem
    (contraction with modulus ``rho``).

    Parameters
    ----------
    problem : StoppingProblem or DiscretizedStopping
    grid_size : int
        Points per edge of the simplex (ignored for a DiscretizedStopping).
    tol : float
        Target sup-norm error of the values.
    max_iter : int

    Returns
    -------
    StoppingSolution

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    >>> sol = value_iteration(prob, grid_size=1001)
    >>> [round(float(a), 3) for a in sol.thresholds]
    [0.064, 0.936]
    """
    _check_iter(tol, max_iter)
    model = _prepare(problem, grid_size)
    t0 = time.perf_counter()
    rho = model.problem.discount
    K, stop, cont = model.K, model.stop, model.cont
    target = tol * (1.0 - rho) / rho if rho > 0 else np.inf
    V = stop.copy()
    Q = np.empty_like(V)
    converged = False
    n = 0
    for n in range(1, int(max_iter) + 1):  # noqa: B007
        np.multiply(K @ V, rho, out=Q)
        Q += cont
        np.minimum(Q, stop, out=Q)
        diff = float(np.max(np.abs(Q - V)))
        V, Q = Q, V
        if diff <= target:
            converged = True
            break
    return _finish(model, V, "value_iteration", n, converged, t0)


def policy_iteration(
    problem: StoppingProblem | DiscretizedStopping,
    grid_size: int = 1001,
    tol: float = 1e-8,
    max_iter: int = 1000,
    n_eval: int | None = None,
) -> StoppingSolution:
    """Howard's policy iteration (``n_eval=None``) or modified policy iteration.

    Policy evaluation for the continue set ``C`` (stop elsewhere, ``V_S = C_s``)
    solves the sparse linear system

        (I - rho K_CC) V_C = d_C + rho K_CS C_s,S

    with a sparse LU factorization (``scipy.sparse.linalg.spsolve``); policy
    improvement sets ``C = {Q_c < C_s}`` and keeps the old action on ties. It
    terminates when the policy repeats (exact solution of the grid problem up
    to the linear solve). With ``n_eval = m`` the evaluation is replaced by
    ``m`` sweeps of ``V <- where(C, d + rho K V, C_s)`` (modified policy
    iteration, Puterman 6.5), stopped like :func:`value_iteration` by the error
    bound ``rho / (1 - rho) max|LV - V| <= tol``.

    Parameters
    ----------
    problem : StoppingProblem or DiscretizedStopping
    grid_size : int
    tol : float
        Only used by modified policy iteration.
    max_iter : int
        Maximal number of improvement steps.
    n_eval : int, optional
        Sweeps per evaluation for modified policy iteration.

    Returns
    -------
    StoppingSolution

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    >>> sol = policy_iteration(prob, grid_size=1001)
    >>> [round(float(a), 3) for a in sol.thresholds]
    [0.064, 0.936]
    """
    _check_iter(tol, max_iter)
    if n_eval is not None and (int(n_eval) != n_eval or n_eval < 1):
        raise ValueError(f"n_eval must be a positive integer or None; got {n_eval}")
    model = _prepare(problem, grid_size)
    t0 = time.perf_counter()
    rho = model.problem.discount
    K, stop, cont = model.K, model.stop, model.cont
    N = model.size
    ttol = _tie_tol(stop)
    C = model.continuation(stop) < stop - ttol
    V = stop.copy()
    converged = False
    it = 0
    if n_eval is None:
        eye = sp.identity(N, format="csr")
        for it in range(1, int(max_iter) + 1):  # noqa: B007
            V = stop.copy()
            idx = np.flatnonzero(C)
            if idx.size:
                Kc = K[idx]
                A = (eye[idx][:, idx] - rho * Kc[:, idx]).tocsc()
                S = ~C
                rhs = cont[idx] + rho * (Kc[:, S] @ stop[S])
                sol = spla.spsolve(A, rhs)
                if not np.all(np.isfinite(sol)):
                    raise ValueError("policy evaluation failed: the sparse linear solve returned non-finite values")
                V[idx] = sol
            Q = model.continuation(V)
            newC = np.where(np.abs(Q - stop) <= ttol, C, stop > Q)
            if np.array_equal(newC, C):
                converged = True
                break
            C = newC
        method = "policy_iteration"
    else:
        target = tol * (1.0 - rho) / rho if rho > 0 else np.inf
        m = int(n_eval)
        for it in range(1, int(max_iter) + 1):  # noqa: B007
            Q = model.continuation(V)
            LV = np.minimum(stop, Q)
            if float(np.max(np.abs(LV - V))) <= target:
                V = LV
                converged = True
                break
            C = stop - ttol > Q
            V = LV
            for _ in range(m - 1):
                V = np.where(C, model.continuation(V), stop)
        method = f"modified_policy_iteration(n_eval={m})"
    return _finish(model, V, method, it, converged, t0)
