"""Rationally inattentive Bayesian utility maximisation: NIAS, NIAC and the RIBUM LP.

Data (SPEC 1b): a prior pi0 over X states and, for each of K environments, an
action kernel p_k(a|x) (row-stochastic, X x A). Write

    p_k(x, a) = pi0(x) p_k(a|x),   p_k(a) = sum_x p_k(x, a),   p_k(x|a) = p_k(x, a) / p_k(a).

Unknowns: utilities r_k(x, a) and attention costs kappa_k (Caplin & Dean 2015).

* NIAS, for every k, every chosen a (p_k(a) > 0) and every b != a, in posterior
  (per-action) form so that every constraint is in expected-utility units:

      sum_x p_k(x|a) (r_k(x, a) - r_k(x, b)) >= m.

  Actions with p_k(a) = 0 reveal no posterior and are dropped for that k.

* NIAC, for every ordered pair k != j, with G_k = sum_{x,a} p_k(x,a) r_k(x,a) and
  V_kj = sum_a max_b sum_x p_j(x,a) r_k(x,b) (k's utility, j's attention):

      (G_k - kappa_k) - (V_kj - kappa_j) >= m,

  linear through epigraph variables t[j, a, k] >= sum_x p_j(x, a) r_k(x, b) for all b.

Normalisation and margin. The constraints are invariant to adding a
state-dependent constant c_k(x) to r_k(x, .) and homogeneous in (r, kappa, m), so
we impose 0 <= r <= 1 (any strictly feasible solution can be shifted and scaled
into the box: the normalisation never makes a consistent agent fail) and
maximise m <= 1. The margin m* is thus the smallest slack of any constraint in
expected-utility units with utilities in [0, 1]: comparable across problems and
invariant to relabelling states, actions or environments and to rescaling the
true utilities. The data pass iff m* > tol.

Two environments with the same attention strategy (the same distribution of
revealed posteriors, e.g. duplicated or action-permuted kernels) force
kappa_k = kappa_j for any rational agent, so their NIAC pair carries no margin
(it is kept as a constraint with margin 0); otherwise a consistent agent that
faced one decision problem twice would fail.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._validation import check_costs, check_kernels, check_utilities
from .results import RibumResult, SlackResult

__all__ = ["check_ribum", "nias", "niac", "recover_costs", "rational_inattention_kernel", "RibumLP"]

#: Default pass tolerance on the margin (above the LP solvers' feasibility tolerance).
TOL = 1e-6
#: Slack tolerance for calling a constraint binding.
BINDING_TOL = 1e-6
#: Two strategies are "the same" when their sorted joint tables agree to this.
SAME_STRATEGY_ATOL = 1e-10


# ----------------------------------------------------------------------------- slack checks


def _joint_and_posterior(kernels: np.ndarray, prior: np.ndarray):
    joint = prior[None, :, None] * kernels  # (K, X, A)
    pa = joint.sum(axis=1)  # (K, A)
    chosen = pa > 0
    post = np.divide(joint, pa[:, None, :], out=np.zeros_like(joint), where=chosen[:, None, :])
    return joint, pa, chosen, post


def _nias_slack(kernels, utilities, prior) -> np.ndarray:
    _, _, chosen, post = _joint_and_posterior(kernels, prior)
    # Q[k, a, b] = sum_x p_k(x|a) r_k(x, b)
    Q = np.einsum("kxa,kxb->kab", post, utilities)
    slack = np.diagonal(Q, axis1=1, axis2=2)[:, :, None] - Q
    K, A, _ = slack.shape
    slack[:, np.arange(A), np.arange(A)] = np.nan
    slack[~chosen] = np.nan
    return slack


def _gross_values(kernels, utilities, prior):
    """G (K,) own gross value and V (K, K) with V[k, j] = value of j's attention under r_k."""
    joint = prior[None, :, None] * kernels
    G = np.einsum("kxa,kxa->k", joint, utilities)
    # W[k, j, a, b] = sum_x p_j(x, a) r_k(x, b)
    W = np.einsum("jxa,kxb->kjab", joint, utilities)
    V = W.max(axis=3).sum(axis=2)
    return G, V


def _niac_slack(kernels, utilities, costs, prior) -> np.ndarray:
    G, V = _gross_values(kernels, utilities, prior)
    slack = (G - costs)[:, None] - (V - costs[None, :])
    np.fill_diagonal(slack, np.nan)
    return slack


def nias(kernels, utilities, prior=None, *, tol: float = TOL) -> SlackResult:
    """No Improving Action Switches for given utilities.

    slack[k, a, b] = sum_x p_k(x|a) (r_k(x, a) - r_k(x, b)) for chosen actions a
    (p_k(a) > 0) and b != a; NaN elsewhere. NIAS holds iff every slack >= -tol.

    Parameters
    ----------
    kernels : (K, X, A) array, rows p_k(.|x) summing to 1
    utilities : (K, X, A) array r_k(x, a)
    prior : (X,) array or None (uniform)

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.2, 0.8]]]; r = [[[1.0, 0.0], [0.0, 1.0]]]
    >>> nias(k, r).passed
    True
    """
    p, pi = check_kernels(kernels, prior)
    r = check_utilities(utilities, p.shape)
    s = _nias_slack(p, r, pi)
    m = float(np.nanmin(s)) if np.any(~np.isnan(s)) else float("inf")
    return SlackResult(name="NIAS", passed=m >= -tol, slack=s, min_slack=m, tol=tol)


def niac(kernels, utilities, costs, prior=None, *, tol: float = TOL) -> SlackResult:
    """No Improving Attention Cycles (pairwise, with costs) for given utilities and costs.

    slack[k, j] = (G_k - kappa_k) - (V_kj - kappa_j), with G_k = sum_{x,a} p_k(x,a) r_k(x,a)
    and V_kj = sum_a max_b sum_x p_j(x,a) r_k(x,b); NaN on the diagonal. NIAC holds
    iff every slack >= -tol.

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> r = [[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.0, 0.5]]]
    >>> niac(k, r, [0.3, 0.0]).passed
    True
    """
    p, pi = check_kernels(kernels, prior)
    r = check_utilities(utilities, p.shape)
    c = check_costs(costs, p.shape[0])
    s = _niac_slack(p, r, c, pi)
    m = float(np.nanmin(s)) if p.shape[0] > 1 else float("inf")
    return SlackResult(name="NIAC", passed=m >= -tol, slack=s, min_slack=m, tol=tol)


def recover_costs(kernels, utilities, prior=None) -> np.ndarray:
    """Attention costs consistent with NIAC, as potentials of difference constraints.

    NIAC for utilities r says kappa_k - kappa_j <= w[k, j] := G_k - V_kj for all k != j:
    a system of difference constraints, feasible iff the graph with an arc j -> k
    of weight w[k, j] has no negative cycle (Bellman-Ford). We return the
    shortest-path potentials from a virtual source, kappa_k = min(0, min_j d(j, k)),
    shifted to min 0 (costs are identified only up to a constant).

    Returns
    -------
    (K,) array

    Raises
    ------
    ValueError
        If the system has a negative cycle: NIAC fails for these utilities
        whatever the costs.

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.1, 0.9]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> r = [[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.0, 0.5]]]
    >>> bool(niac(k, r, recover_costs(k, r)).passed)
    True
    """
    from scipy.sparse.csgraph import NegativeCycleError, csgraph_from_dense, shortest_path

    p, pi = check_kernels(kernels, prior)
    r = check_utilities(utilities, p.shape)
    K = p.shape[0]
    if K == 1:
        return np.zeros(1)
    G, V = _gross_values(p, r, pi)
    w = G[:, None] - V  # w[k, j]: kappa_k - kappa_j <= w[k, j]
    # arc j -> k of weight w[k, j]; inf marks "no arc" so that zero weights survive.
    dense = w.T.copy()
    np.fill_diagonal(dense, np.inf)
    graph = csgraph_from_dense(dense, null_value=np.inf)
    try:
        dist = shortest_path(graph, method="BF", directed=True)
    except NegativeCycleError:
        raise ValueError(
            "NIAC fails for these utilities: the cost differences kappa_k - kappa_j <= G_k - V_kj "
            "contain a negative cycle, so no attention costs exist"
        ) from None
    kappa = np.minimum(0.0, dist.min(axis=0))
    return kappa - kappa.min()


# ----------------------------------------------------------------------------- the LP


def _same_strategy(joint: np.ndarray) -> np.ndarray:
    """(K, K) bool: environments whose joint tables agree up to a permutation of actions."""
    K = joint.shape[0]
    canon = []
    for k in range(K):
        cols = joint[k].T  # (A, X)
        order = np.lexsort(cols.T[::-1])
        canon.append(cols[order].ravel())
    canon = np.array(canon)
    same = np.all(np.abs(canon[:, None, :] - canon[None, :, :]) <= SAME_STRATEGY_ATOL, axis=2)
    return same


class RibumLP:
    """The NIAS + NIAC linear program in stacked matrix form, solved with CVXPY.

    One variable vector z = [r, kappa, t, m] with r_k(x, a) at (k X + x) A + a,
    kappa_k, the NIAC epigraph variables t[j, a, k] >= sum_x p_j(x, a) r_k(x, b)
    (all b) and the margin m. Every constraint row is written by numpy index
    arithmetic into one sparse matrix (no Python loop over k, j, a or b):

        NIAS  (k, a, b != a):  sum_x p_k(x|a) (r_k(x,b) - r_k(x,a)) + m <= off_ka
        epi   (j, a, k != j, b):  sum_x p_j(x,a) r_k(x,b) - t[j,a,k] <= 0
        NIAC  (k, j != k):  -G_k + kappa_k + sum_a t[j,a,k] - kappa_j + mask_kj m <= 0

    ``off_ka`` = 0 for chosen actions and 2 (inactive, as |gain| <= 1 and m <= 1)
    for actions with p_k(a) = 0; ``mask_kj`` = 0 for pairs with the same
    strategy (module docstring). The sparsity pattern depends only on (K, X, A)
    and is built once; new data only refill the nonzero values, which is what
    :func:`bootstrap_ribum` relies on. (A CVXPY Parameter holding the nonzero
    values, A z = S_row (vals * (S_col z)), is DPP but makes CVXPY build a
    dense parameter tensor of hundreds of GB at K = 20, so the bootstrap
    re-solves through HiGHS directly, :meth:`solve_highs`.)
    """

    def __init__(self, K: int, X: int, A: int, objective: str = "max_margin"):
        if objective not in ("max_margin", "sparsest"):
            raise ValueError(f"objective must be 'max_margin' or 'sparsest', got {objective!r}")
        self.shape = (K, X, A)
        self.objective = objective
        nr = K * X * A
        self._o_kappa = nr
        self._o_t = nr + K
        self._o_m = nr + K + K * A * K
        self.n_var = self._o_m + 1
        self._pattern()
        self.problem = None

    # -- sparsity pattern (depends on the shape only) --------------------------------
    def _pattern(self) -> None:
        K, X, A = self.shape
        ridx = lambda k, x, a: (k * X + x) * A + a  # noqa: E731
        tidx = lambda j, a, k: self._o_t + (j * A + a) * K + k  # noqa: E731
        rows, cols = [], []
        # NIAS rows: (k, a, b), b != a; per row 2X entries of r plus m.
        k, a, b = np.nonzero(np.broadcast_to(~np.eye(A, dtype=bool), (K, A, A)))
        self.nias_index = np.stack([k, a, b], axis=1)
        n_nias = k.size
        x = np.arange(X)
        row = np.arange(n_nias)
        rows += [np.repeat(row, X), np.repeat(row, X), row]
        cols += [ridx(k[:, None], x[None, :], b[:, None]).ravel(), ridx(k[:, None], x[None, :], a[:, None]).ravel(),
                 np.full(n_nias, self._o_m)]
        self._nias_kab = (k, a, b)
        # Epigraph rows: (j, a, k, b) with k != j; X entries of r and one of t.
        j, a2, k2, b2 = np.nonzero(np.broadcast_to((~np.eye(K, dtype=bool))[:, None, :, None], (K, A, K, A)))
        n_epi = j.size
        row = n_nias + np.arange(n_epi)
        rows += [np.repeat(row, X), row]
        cols += [ridx(k2[:, None], x[None, :], b2[:, None]).ravel(), tidx(j, a2, k2)]
        self._epi_jakb = (j, a2, k2, b2)
        # NIAC rows: (k, j), j != k; X*A entries of r_k, kappa_k, kappa_j, A entries of t[j, ., k], m.
        kk, jj = np.nonzero(~np.eye(K, dtype=bool))
        self.niac_index = np.stack([kk, jj], axis=1)
        n_niac = kk.size
        row = n_nias + n_epi + np.arange(n_niac)
        xa = np.arange(X * A)
        aa = np.arange(A)
        rows += [np.repeat(row, X * A), row, row, np.repeat(row, A), row]
        cols += [(kk[:, None] * X * A + xa[None, :]).ravel(), self._o_kappa + kk, self._o_kappa + jj,
                 tidx(jj[:, None], aa[None, :], kk[:, None]).ravel(), np.full(n_niac, self._o_m)]
        self._niac_kj = (kk, jj)
        self.n_rows = n_nias + n_epi + n_niac
        self._rows = np.concatenate(rows)
        self._cols = np.concatenate(cols)
        self._n_nias, self._n_epi, self._n_niac = n_nias, n_epi, n_niac

    # -- values (depend on the data) ----------------------------------------------------
    def _values(self, kernels: np.ndarray, prior: np.ndarray):
        K, X, A = self.shape
        joint, pa, chosen, post = _joint_and_posterior(kernels, prior)
        k, a, b = self._nias_kab
        pk = post[k, :, a]  # (n_nias, X): p_k(x|a)
        n_nias = k.size
        vals = [pk.ravel(), -pk.ravel(), np.ones(n_nias)]
        j, a2, k2, b2 = self._epi_jakb
        vals += [joint[j, :, a2].ravel(), -np.ones(j.size)]
        kk, jj = self._niac_kj
        mask = 1.0 - _same_strategy(joint).astype(float)
        vals += [-joint[kk].reshape(kk.size, X * A).ravel(), np.ones(kk.size), -np.ones(kk.size),
                 np.ones(kk.size * A), mask[kk, jj]]
        rhs = np.zeros(self.n_rows)
        rhs[:n_nias] = np.where(chosen[k, a], 0.0, 2.0)
        return np.concatenate(vals), rhs

    def matrix(self, kernels: np.ndarray, prior: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """The constraint matrix and right-hand side (rows ``A z <= b``) for validated data."""
        vals, rhs = self._values(kernels, prior)
        M = sp.csr_matrix((vals, (self._rows, self._cols)), shape=(self.n_rows, self.n_var))
        return M, rhs

    def _unpack(self, z: np.ndarray):
        K, X, A = self.shape
        util = np.clip(z[: self._o_kappa].reshape(K, X, A), 0.0, 1.0)
        kappa = z[self._o_kappa : self._o_t].copy()
        kappa -= kappa.min()
        return float(z[self._o_m]), util, kappa

    def solve(self, kernels: np.ndarray, prior: np.ndarray, *, margin: float | None = None,
              solver: str | None = None, **solver_opts):
        """Solve with CVXPY for validated kernels (K, X, A) and prior (X,).

        The problem is ``M @ z <= b`` with one constant sparse M (compiled by CVXPY
        in a fraction of a second) plus the box 0 <= r <= 1, kappa_0 = 0 and m <= 1.

        Solver chain. HiGHS's interior-point method without crossover is several
        times faster than simplex on this LP, but on degenerate kernels (identical
        rows, unused actions, deterministic or duplicated environments) the
        optimal face is large and the IPM can stop without a certified optimum.
        So, unless ``solver_opts`` are given, the LP is retried in this order
        until one attempt returns status "optimal": HiGHS IPM without crossover,
        HiGHS IPM with crossover, HiGHS dual simplex, then CLARABEL (the last
        only when ``solver`` is None: a solver the caller names is honoured). An
        "optimal_inaccurate" answer is kept only if no later attempt is optimal.

        Returns (m, utilities (K, X, A), costs (K,) with min 0, status, solver
        name, method); ``method`` says which attempt produced the answer and
        which failed before it (also stored in ``self.attempts``).
        """
        import cvxpy as cp

        M, rhs = self.matrix(kernels, prior)
        nr = self._o_kappa
        z = cp.Variable(self.n_var, name="z")
        cons = [M @ z <= rhs, z[:nr] >= 0, z[:nr] <= 1, z[self._o_kappa] == 0]
        if self.objective == "max_margin":
            cons.append(z[self._o_m] <= 1)
            obj = cp.Maximize(z[self._o_m])
        else:
            if margin is None:
                raise ValueError("the 'sparsest' objective needs a fixed margin")
            cons.append(z[self._o_m] == float(margin))
            obj = cp.Minimize(cp.sum(z[:nr]))
        problem = cp.Problem(obj, cons)
        self.attempts = []
        kept = None
        for name, opts, label in _attempts(solver, solver_opts):
            try:
                problem.solve(solver=name, **opts)
            except (cp.error.SolverError, ValueError) as exc:  # failed solve, unknown solver, bad options
                self.attempts.append(f"{label}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                continue
            status = problem.status
            if status == "optimal" and z.value is not None:
                self.problem = problem
                return (*self._unpack(np.asarray(z.value)), status, name, _method(label, self.attempts))
            if status == "optimal_inaccurate" and z.value is not None and kept is None:
                kept = (np.asarray(z.value).copy(), status, name, label)
            self.attempts.append(f"{label}: status '{status}'")
        if kept is not None:
            self.problem = problem
            zv, status, name, label = kept
            return (*self._unpack(zv), status, name, _method(label, self.attempts))
        who = f"solver {solver}" if solver is not None else "every solver"
        raise ValueError(f"RIBUM LP ({self.objective}): {who} failed: " + "; ".join(self.attempts))

    def solve_highs(self, kernels: np.ndarray, prior: np.ndarray):
        """The max-margin LP straight through HiGHS (``scipy.optimize.linprog``).

        Same matrix as :meth:`solve` without CVXPY's compilation step, for the
        many re-solves of a bootstrap. Tries HiGHS interior point (with
        crossover), then dual simplex, then HiGHS's own choice, so a degenerate
        resample does not abort a bootstrap. Returns (m, utilities, costs,
        status, method).
        """
        from scipy.optimize import linprog

        if self.objective != "max_margin":
            raise ValueError("solve_highs supports the max_margin objective only")
        M, rhs = self.matrix(kernels, prior)
        c = np.zeros(self.n_var)
        c[self._o_m] = -1.0
        lo = np.full(self.n_var, -np.inf)
        hi = np.full(self.n_var, np.inf)
        lo[: self._o_kappa] = 0.0
        hi[: self._o_kappa] = 1.0
        lo[self._o_kappa] = hi[self._o_kappa] = 0.0
        hi[self._o_m] = 1.0
        bounds = np.stack([lo, hi], axis=1)
        self.attempts = []
        for method in _LINPROG_METHODS:
            res = linprog(c, A_ub=M, b_ub=rhs, bounds=bounds, method=method)
            if res.status == 0 and res.x is not None:
                return (*self._unpack(res.x), "optimal", _method(f"HiGHS {method} (scipy linprog)", self.attempts))
            self.attempts.append(f"HiGHS {method}: status {res.status}: {res.message}")
        raise ValueError("RIBUM LP (HiGHS): no method succeeded: " + "; ".join(self.attempts))


#: scipy.optimize.linprog methods tried in order by :meth:`RibumLP.solve_highs`.
_LINPROG_METHODS = ("highs-ipm", "highs-ds", "highs")


def _attempts(solver: str | None, solver_opts: dict):
    """(CVXPY solver, options, label) tried in order by :meth:`RibumLP.solve`."""
    if solver_opts:
        name = solver or _default_solver()
        return [(name, solver_opts, name)]
    highs = [
        ("HIGHS", {"highs_options": {"solver": "ipm", "run_crossover": "off"}}, "HIGHS interior point"),
        ("HIGHS", {"highs_options": {"solver": "ipm", "run_crossover": "on"}}, "HIGHS interior point + crossover"),
        ("HIGHS", {"highs_options": {"solver": "simplex"}}, "HIGHS simplex"),
    ]
    if solver is not None:
        return highs if solver.upper() == "HIGHS" else [(solver, {}, solver)]
    import cvxpy as cp

    installed = cp.installed_solvers()
    chain = (highs if "HIGHS" in installed else []) + [
        (name, {}, name) for name in ("CLARABEL", "ECOS") if name in installed
    ]
    if not chain:
        raise ValueError(f"no LP solver available in CVXPY (installed: {installed})")
    return chain


def _default_solver() -> str:
    from .budget import _default_lp_solver

    return _default_lp_solver()


def _method(label: str, failed: list[str]) -> str:
    return label if not failed else f"{label} (after: {'; '.join(failed)})"


def check_ribum(kernels, prior=None, objective: str = "max_margin", solver: str | None = None, *,
                margin: float | None = None, tol: float = TOL) -> RibumResult:
    """Test NIAS + NIAC (rationally inattentive Bayesian utility maximisation) by LP.

    max_margin:   max m  s.t.  NIAS_k(a, b) slack >= m,  NIAC(k, j) slack >= m,  0 <= r <= 1, m <= 1
    sparsest:     min sum_{k,x,a} r_k(x, a) (the L1 norm, as r >= 0)  s.t. the same with m fixed

    (module docstring for the exact constraints, the normalisation and the margin's
    units). ``passed`` is m* > tol. For "sparsest", ``margin`` fixes m (default: half
    the max-margin m*, solved first); if the data fail the max-margin test the
    max-margin result is returned, with objective "max_margin".

    Parameters
    ----------
    kernels : (K, X, A) array
        p_k(a|x), each row summing to 1.
    prior : (X,) array or None
        pi0 (uniform by default).
    objective : "max_margin" or "sparsest"
    solver : CVXPY solver name or None
        None (default): HiGHS interior point, retried with crossover, then
        simplex, then CLARABEL when an attempt does not reach an optimum
        (:meth:`RibumLP.solve`); ``result.solver`` and ``result.method`` say
        which attempt produced the answer. A named solver is used alone (for
        "HIGHS", its three methods).
    margin : float, optional
        Fixed margin for "sparsest".
    tol : float
        Pass threshold on m*.

    Returns
    -------
    RibumResult

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> check_ribum(k).passed
    True
    """
    p, pi = check_kernels(kernels, prior)
    if objective not in ("max_margin", "sparsest"):
        raise ValueError(f"objective must be 'max_margin' or 'sparsest', got {objective!r}")
    K, X, A = p.shape
    m_star, util, kappa, status, name, method = RibumLP(K, X, A, "max_margin").solve(p, pi, solver=solver)
    used = "max_margin"
    if objective == "sparsest" and m_star > tol:
        fixed = 0.5 * m_star if margin is None else float(margin)
        if not (0 < fixed <= m_star + tol):
            raise ValueError(f"margin for 'sparsest' must lie in (0, m*] = (0, {m_star:.6g}], got {fixed}")
        _, util, kappa, status, name, method = RibumLP(K, X, A, "sparsest").solve(p, pi, margin=fixed,
                                                                                 solver=solver)
        m_star, used = fixed, "sparsest"
    return _result(p, pi, m_star, util, kappa, status, name, used, tol, method)


def _result(p, pi, m_star, util, kappa, status, name, objective, tol, method="") -> RibumResult:
    ns = _nias_slack(p, util, pi)
    cs = _niac_slack(p, util, kappa, pi)
    joint = pi[None, :, None] * p
    same = _same_strategy(joint)
    target = np.where(same, 0.0, m_star)
    bind_nias = np.argwhere(ns <= m_star + BINDING_TOL)
    bind_niac = np.argwhere(cs <= target + BINDING_TOL)
    return RibumResult(
        passed=bool(m_star > tol),
        margin=float(m_star),
        utilities=util,
        costs=kappa,
        nias_slack=ns,
        niac_slack=cs,
        binding_nias=bind_nias,
        binding_niac=bind_niac,
        objective=objective,
        solver=name,
        status=status,
        tol=tol,
        prior=pi,
        method=method,
    )


def rational_inattention_kernel(utility, prior=None, lam: float = 1.0, *, n_iter: int = 20_000,
                                atol: float = 1e-14, prune: float = 1e-6) -> np.ndarray:
    """Optimal Shannon rational-inattention kernel by Blahut-Arimoto.

    Maximises sum_{x,a} pi0(x) p(a|x) r(x,a) - lam I(x; a). The optimum satisfies
    p(a|x) = p(a) exp(r(x,a)/lam) / sum_b p(b) exp(r(x,b)/lam) with
    p(a) = sum_x pi0(x) p(a|x) (Matejka & McKay 2015); iterate the two equations.

    Parameters
    ----------
    utility : (X, A) array or (K, X, A) for several environments (same lam)
    prior : (X,) array or None
    lam : float > 0, the unit cost of information (nats)
    prune : float
        Actions whose marginal p(a) ends below ``prune`` are unused at the
        optimum (Blahut-Arimoto only drives them to 0 geometrically); they get
        probability exactly 0.

    Returns
    -------
    (X, A) or (K, X, A) array of p(a|x)

    Example
    -------
    >>> k = rational_inattention_kernel([[1.0, 0.0], [0.0, 1.0]], lam=0.5)
    >>> bool(k[0, 0] > 0.5 and abs(k.sum(axis=1) - 1).max() < 1e-12)
    True
    """
    r = np.asarray(utility, dtype=float)
    if r.ndim == 3:
        return np.stack([rational_inattention_kernel(rk, prior, lam, n_iter=n_iter, atol=atol, prune=prune) for rk in r])
    if r.ndim != 2 or not np.all(np.isfinite(r)):
        raise ValueError(f"utility must be a finite (X, A) or (K, X, A) array, got shape {r.shape}")
    if not lam > 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    X, A = r.shape
    from ._validation import check_prior

    pi = check_prior(prior, X)
    z = (r - r.max(axis=1, keepdims=True)) / lam
    ez = np.exp(z)
    q = np.full(A, 1.0 / A)
    for _ in range(2):
        # Blahut-Arimoto; after the first pass the actions that are dying out
        # (p(a) < prune) are removed and the iteration re-run on the support,
        # so the fixed point is solved to ``atol`` there.
        for _ in range(n_iter):
            cond = q[None, :] * ez
            cond /= cond.sum(axis=1, keepdims=True)
            q_new = pi @ cond
            done = np.max(np.abs(q_new - q)) < atol
            q = q_new
            if done:
                break
        q = np.where(q < prune, 0.0, q)
        q /= q.sum()
    cond = q[None, :] * ez
    return cond / cond.sum(axis=1, keepdims=True)
