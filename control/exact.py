"""Exact values of static stopping problems by dynamic programming over signal counts.

With a static state (``P = I``) the public belief after a history depends only on
how often each observation occurred: after ``n_y`` observations ``y``,

    pi(x) = pi_0(x) prod_y B[x, y]^{n_y} / sum_x' pi_0(x') prod_y B[x', y]^{n_y},

so the reachable beliefs form a lattice of count vectors ``n`` (``|n| = h`` at
depth ``h``) and the Bellman recursion runs backwards over that lattice without
any interpolation. Truncating at a horizon ``H`` brackets the infinite-horizon
value ``V*``:

* forcing a stop at depth ``H`` (terminal ``C_s``) gives an upper bound ``V_H^+``;
* any ``V*`` satisfies ``V* >= L = min(inf C_s, inf d / (1 - rho))``, so the
  terminal ``min(C_s, d + rho L)`` gives a lower bound ``V_H^-``;

and ``0 <= V_H^+ - V_H^- <= rho^H (sup C_s - L)``. The horizon is chosen from
``tol``. This is the oracle against which the belief grid of
:mod:`control.dp` is measured (its linear interpolation under-estimates the
concave ``V``, see :attr:`control.dp.StoppingSolution.discretization`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, comb, log
from typing import Any

import numpy as np
from scipy.special import expit

from .stopping import StoppingProblem

__all__ = ["ExactValue", "exact_value"]


@dataclass
class ExactValue:
    """Bracket ``lower <= V*(pi) <= upper`` from the count-lattice recursion.

    Attributes
    ----------
    beliefs : ndarray (n, X)
    lower, upper : ndarray (n,)
        Lower and upper bounds on the exact value; ``upper - lower <= gap_bound``.
    horizon : int
        Depth ``H`` of the lattice.
    gap_bound : float
        ``rho^H (sup C_s - L)``, the a-priori width of the bracket.
    n_nodes : int
        Lattice nodes visited per belief.
    """

    beliefs: np.ndarray = field(repr=False)
    lower: np.ndarray
    upper: np.ndarray
    horizon: int
    gap_bound: float
    n_nodes: int

    @property
    def value(self) -> np.ndarray:
        """Midpoint of the bracket (n,); within ``gap_bound / 2`` of ``V*``."""
        return 0.5 * (self.lower + self.upper)

    def summary(self) -> str:
        lines = [
            f"Exact stopping value on the count lattice (horizon H = {self.horizon}, {self.n_nodes} nodes)",
            f"  bracket width bound rho^H (sup C_s - L) = {self.gap_bound:.3e}",
        ]
        for b, lo, up in zip(self.beliefs, self.lower, self.upper, strict=True):
            lines.append(f"  V({np.round(b, 6).tolist()}) in [{lo:.10f}, {up:.10f}]")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "beliefs": self.beliefs.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "value": self.value.tolist(),
            "horizon": self.horizon,
            "gap_bound": float(self.gap_bound),
            "n_nodes": self.n_nodes,
        }


def _cost_range(problem: StoppingProblem) -> tuple[float, float, float]:
    """``(sup C_s upper bound, inf C_s, inf d)`` for costs in matrix form."""
    S, D = problem._stop.matrix, problem._cont.matrix
    if S is None:
        raise ValueError("problem: exact_value needs stop_cost as a scalar, vector or matrix, not a callable")
    if D is None:
        raise ValueError("problem: exact_value needs continue_cost as a scalar, vector or matrix, not a callable")
    # min_a c_a' pi <= c_a' pi <= max_x c[x, a] for every a; the infima of
    # concave piecewise-linear costs on the simplex are attained at vertices
    return float(S.max(axis=0).min()), float(S.min(axis=1).min()), float(D.min(axis=1).min())


def _lattice(h: int, Y: int) -> np.ndarray:
    """Counts of observations ``1..Y-1`` on the dense grid ``(h + 1,) * (Y - 1)`` -> (..., Y - 1)."""
    return np.moveaxis(np.indices((h + 1,) * (Y - 1)), 0, -1)


def exact_value(
    problem: StoppingProblem,
    beliefs: np.ndarray,
    tol: float = 1e-10,
    *,
    max_horizon: int = 100_000,
    max_nodes: int = 50_000_000,
) -> ExactValue:
    """Exact value ``V*(pi)`` of a static stopping problem, bracketed to ``tol``.

    Backward recursion over count vectors ``n`` (``|n| = h``) with
    ``pi_n ~ pi_0 * prod_y B[:, y]^{n_y}`` and

        V_h(n) = min{ C_s(pi_n),  d(pi_n) + rho sum_y sigma(pi_n, y) V_{h+1}(n + e_y) },

    terminal ``V_H = C_s`` (upper bound) or ``min(C_s, d + rho L)`` (lower bound,
    ``L = min(inf C_s, inf d / (1 - rho))``). ``H`` is the least depth with
    ``rho^H (sup C_s - L) <= tol``. Cost: ``sum_h (h + 1)^(Y - 1)`` lattice nodes,
    so it is meant for binary or ternary signals.

    Parameters
    ----------
    problem : StoppingProblem
        Static (identity transition), costs given as scalars, vectors or
        matrices (not callables), any number of states ``X``.
    beliefs : array (X,) or (n, X)
        Initial beliefs ``pi_0``.
    tol : float
        Target width of the bracket.
    max_horizon, max_nodes : int
        Limits on ``H`` and on the lattice size; exceeding them raises
        ``ValueError`` (raise ``tol``).

    Returns
    -------
    ExactValue
        ``lower <= V*(pi_0) <= upper`` for each belief.

    Examples
    --------
    The quickest-herding problem with discount 0.99 and delay cost 0.01, at the
    uniform prior (the 1,001-point grid gives 0.0991 here):

    >>> import numpy as np
    >>> B = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.01, 0.99)
    >>> ex = exact_value(prob, [0.5, 0.5], tol=1e-6)
    >>> round(float(ex.value[0]), 4), bool(ex.upper[0] - ex.lower[0] <= 1e-6)
    (0.1152, True)
    """
    if not isinstance(problem, StoppingProblem):
        raise ValueError(f"problem must be a StoppingProblem; got {type(problem).__name__}")
    if not np.array_equal(problem.transition, np.eye(problem.n_states)):
        raise ValueError("problem: exact_value needs a static state (identity transition)")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be positive; got {tol}")
    pis = problem.check_beliefs(beliefs)
    B, rho, X, Y = problem.likelihood, problem.discount, problem.n_states, problem.n_obs
    c_sup, c_inf, d_inf = _cost_range(problem)
    L = c_inf if rho == 0 else min(c_inf, d_inf / (1.0 - rho))
    gap0 = max(c_sup - L, 0.0)
    horizon = 1 if rho == 0 or gap0 == 0 else max(1, ceil(log(tol / gap0) / log(rho)))
    if horizon > max_horizon:
        raise ValueError(f"tol {tol} needs horizon {horizon} > max_horizon {max_horizon}; raise tol")
    H = horizon
    n_nodes = sum((h + 1) ** (Y - 1) for h in range(H + 1)) if Y > 2 else (H + 1) * (H + 2) // 2
    if n_nodes > max_nodes:
        raise ValueError(
            f"tol {tol} needs horizon {H}, {n_nodes} lattice nodes > max_nodes {max_nodes} "
            f"(comb(H + Y - 1, Y - 1) = {comb(H + Y - 1, Y - 1)} at the last depth); raise tol"
        )
    with np.errstate(divide="ignore"):
        logB = np.log(B)  # (X, Y), -inf where B = 0
    # all initial beliefs at once: arrays (n, lattice...) with the beliefs on a last axis
    with np.errstate(divide="ignore"):
        logp0 = np.log(pis)
    pi = _lattice_beliefs(logp0, logB, H)
    flat = pi.reshape(-1, X)
    up = problem._stop(flat).reshape(pi.shape[:-1])
    lo = np.minimum(up, problem._cont(flat).reshape(pi.shape[:-1]) + rho * L)
    for h in range(H - 1, -1, -1):
        pi = _lattice_beliefs(logp0, logB, h)  # (n, ..., X)
        flat = pi.reshape(-1, X)
        stop = problem._stop(flat).reshape(pi.shape[:-1])
        cont = problem._cont(flat).reshape(pi.shape[:-1])
        sig = pi @ B  # (n, ..., Y)
        ev_up = sig[..., 0] * _child(up, 0, h)
        ev_lo = sig[..., 0] * _child(lo, 0, h)
        for y in range(1, Y):
            ev_up = ev_up + sig[..., y] * _child(up, y, h)
            ev_lo = ev_lo + sig[..., y] * _child(lo, y, h)
        up = np.minimum(stop, cont + rho * ev_up)
        lo = np.minimum(stop, cont + rho * ev_lo)
    n = pis.shape[0]
    upper = np.asarray(up).reshape(n, -1)[:, 0].copy()
    lower = np.asarray(lo).reshape(n, -1)[:, 0].copy()
    return ExactValue(pis, lower, upper, H, rho**H * gap0, n_nodes)


def _lattice_beliefs(logp0: np.ndarray, logB: np.ndarray, h: int) -> np.ndarray:
    """Beliefs (n, lattice..., X) at depth ``h`` for initial log-beliefs ``logp0`` (n, X).

    Entries with ``sum(n_1..) > h`` are filler (never reached from a valid node).
    """
    X, Y = logB.shape
    if X == 2 and Y == 2 and np.all(np.isfinite(logB)) and np.all(np.isfinite(logp0)):
        n1 = np.arange(h + 1)
        ell = logB[0] - logB[1]
        p0 = expit((logp0[:, 0] - logp0[:, 1])[:, None] + (h - n1) * ell[0] + n1 * ell[1])
        return np.stack([p0, 1.0 - p0], axis=-1)
    counts = np.arange(h + 1)[:, None] if Y == 2 else _lattice(h, Y)
    n0 = h - counts.sum(axis=-1)
    valid = n0 >= 0
    n0 = np.where(valid, n0, 0)
    full = np.concatenate([n0[..., None], counts], axis=-1)  # (lattice..., Y)
    if np.all(np.isfinite(logB)):
        logl = full @ logB.T
    else:
        with np.errstate(invalid="ignore"):
            terms = full[..., None, :] * logB  # (lattice..., X, Y); 0 * -inf = nan means "not observed"
        logl = np.where(full[..., None, :] == 0, 0.0, terms).sum(axis=-1)
    lead = (logp0.shape[0],) + (1,) * (logl.ndim - 1) + (X,)
    logp = logp0.reshape(lead) + logl[None]
    top = logp.max(axis=-1, keepdims=True)
    reach = np.isfinite(top) & valid[None, ..., None]
    w = np.exp(np.where(reach, logp - np.where(reach, top, 0.0), 0.0))
    w = np.where(reach, w, 1.0)  # unreachable nodes: any belief (their weight is zero)
    return w / w.sum(axis=-1, keepdims=True)


def _child(V: np.ndarray, y: int, h: int) -> np.ndarray:
    """``V_{h+1}(n + e_y)`` on the depth-``h`` lattice from the depth-``h + 1`` array (n, lattice...)."""
    idx: list[slice] = [slice(None)]
    for k in range(V.ndim - 1):
        start = 1 if y == k + 1 else 0
        idx.append(slice(start, start + h + 1))
    return V[tuple(idx)]
