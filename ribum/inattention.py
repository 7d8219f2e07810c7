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

Shared utility with known incentives (SPEC 1c; ``utilities="shared"``)
----------------------------------------------------------------------
Caplin & Dean (2015, AER, Theorem 1): state-dependent stochastic choice data
from several decision problems *whose payoffs the experimenter sets* have a
costly-information-acquisition representation (one prior, one cost function
on attention strategies, optimal attention and choice in every problem) iff
they satisfy NIAS and NIAC. Caplin & Martin (2015, EJ) characterise the
single-problem case (fixed perception) by NIAS alone. In both the utility of
each action in each state is *known* (monetary prizes); what is tested is
whether one cost function and Bayesian choice explain the data. Here the
utility is not known, so it becomes an unknown of the LP, and how much is left
to test depends on how many unknowns are allowed:

* ``per_environment`` (SPEC 1b, the paper's): a free r_k per environment.
  NIAS then holds for almost any kernel with distinct revealed posteriors
  (take r_k(., a) proportional to p_k(.|a); Cauchy-Schwarz gives
  p_k(.|a).(r_k(., a) - r_k(., b)) > 0), and NIAC can usually be met by
  rescaling each r_k (rescaling r_k rescales G_k - V_kj). The test rejects
  little more than duplicate revealed posteriors (two chosen actions with the
  same posterior; strict NIAS forces m <= 0) and Blackwell-equivalent strategies
  across environments; uniformly random kernels pass. It cannot reject an agent
  that ignores the decision problem, or one that violates NIAS for the utility
  it was given. Use :func:`ribum.ribum_power` to report this.
* ``shared`` (SPEC 1c: Caplin & Dean's setting with an unknown baseline): one
  r(x, a) in [0, 1] and known incentives Delta_k(x, a) with an unknown scale
  lambda in [0, max_scale]: r_k = r + lambda Delta_k. This is Caplin & Dean's
  model when r = 0 and lambda = 1 (payoffs fully known); the unknown r admits
  the agent's own stakes (a model's trained preferences) that do not change
  between environments. NIAS per k and NIAC for every pair exactly as above.
  With lambda = 0 all environments share one utility, and then V_kj >= G_j, so
  a NIAC pair gives (G_k - V_kj) + (G_j - V_jk) <= 0 and m <= 0: a strict pass
  needs attention that *responds* to the incentives, in the direction they
  point (lambda >= 0). It rejects random kernels (their strategies move in
  random directions across environments), agents whose strategy does not
  change when the incentives do (same kernel in every environment), and agents
  that respond against the incentives. It cannot reject an agent whose
  baseline dwarfs the incentives but which still responds slightly in their
  direction (lambda small), nor pin the scale: the constraints are homogeneous
  in (r, lambda, kappa, m), so lambda is identified only relative to the range
  of r and the verdict does not depend on ``max_scale`` (it caps the margin's
  units, not the verdict).

Normalisation subtleties of the shared test. (i) Adding c(x) to r, or c_k(x) to
Delta_k, changes nothing (posterior and joint weights of a state cancel between
actions), so only the differences of Delta_k across actions matter: "a bonus
for the correct label" equals "a penalty for every wrong one". (ii) Two environments with the
same attention strategy (the same revealed posteriors) satisfy NIAC only with
equality for *every* rational agent (same strategy, same cost, V_kj = G_k), so
that pair cannot carry a margin. Such pairs are exempt (kept with margin 0,
as in the per-environment test), with one exception that SPEC 1c asks for:
*identical* behaviour (same actions, same probabilities) although the
incentives changed the relative payoffs of the actions taken (Delta_k -
Delta_j is not, per state, constant over the actions used). No agent with a
smooth, strictly convex attention cost does that (a Shannon agent's
p(a|x) = p(a) exp(r_k(x, a) / lambda_I) / Z moves with those payoffs), so the
pair keeps its margin and such data get m* = 0: an agent that ignores the
stated incentives fails. Exempt, on the other hand, and necessarily so for a
sound test: an agent that keeps one action whatever the stakes, or switches
its uninformed action with them (information too costly at every stake
shown), and incentives that differ only on actions never taken (in the
hate-speech incentive design of :mod:`llmas.tasks.incentives` the stakes
change only the payoff of leaving a hateful comment up; Shannon agents that
never do so keep one strategy, and two thirds of them failed before this
rule). Such passes rest on NIAS alone; the power report
(:func:`ribum.ribum_power`) says how little they mean. ``notes`` names the
pairs that force m* = 0.
(iii) NIAS is kept in posterior form as above, so its margin is in the units
of r, comparable with the per-environment test.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from llmsl_core import check_n_jobs

from ._highs import quiet_highs
from ._validation import check_callback, check_costs, check_kernels, check_utilities
from .results import RibumResult, SlackResult

__all__ = ["check_ribum", "nias", "niac", "recover_costs", "rational_inattention_kernel", "RibumLP", "SharedRibumLP",
           "certified_pass"]

#: Default pass tolerance on the margin (above the LP solvers' feasibility tolerance).
TOL = 1e-6
#: Slack tolerance for calling a constraint binding.
BINDING_TOL = 1e-6
#: Two strategies are "the same" when their sorted joint tables agree to this.  Between two
#: rational strategies that differ by d the margin is about d / 2, so a pair closer than a few
#: TOL could only "pass" below the verdict tolerance: treating it as one strategy (exempt from
#: the margin, as exact duplicates are) keeps the verdict continuous in the data.
SAME_STRATEGY_ATOL = 4 * TOL
#: LPs with this many constraint rows or more are solved by Clarabel first (:meth:`RibumLP.solve_direct`).
CLARABEL_FROM_ROWS = 12_000


# ----------------------------------------------------------------------------- slack checks


#: An action counts as chosen when p_k(a) exceeds this.  Below it the revealed posterior
#: p_k(.|a) is floating-point residue (a product of P(Yes) values that underflowed to 1e-17,
#: say), and two such residues would look like duplicate posteriors and force m* = 0.
CHOSEN_ATOL = 1e-12


def _joint_and_posterior(kernels: np.ndarray, prior: np.ndarray):
    joint = prior[None, :, None] * kernels  # (K, X, A)
    pa = joint.sum(axis=1)  # (K, A)
    chosen = pa > CHOSEN_ATOL
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
    tol = check_tol(tol)
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
    tol = check_tol(tol)
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
    rows = []
    for k in range(K):
        cols = joint[k].T  # (A, X)
        order = np.lexsort(cols.T[::-1])
        rows.append(cols[order].ravel())
    canon = np.array(rows)
    same = np.all(np.abs(canon[:, None, :] - canon[None, :, :]) <= SAME_STRATEGY_ATOL, axis=2)
    return same



def certified_pass(kernels, prior=None, tol: float = TOL) -> bool:
    r"""Whether kernels (K, X, A) with prior (X,) pass the per-environment test, shown without its LP.

    A certificate, not a test: ``True`` means m* > tol for sure (a feasible point
    of the max-margin LP with a larger margin was found and checked); ``False``
    means only that none was found (solve the LP). The candidate utilities are
    the Cauchy-Schwarz ones of SPEC 1c, r_k(x, a) = c_k p_k(x|a) / ||p_k(.|a)||_2
    shifted into [0, 1] (a shift changes no constraint), with the scales c_k,
    the costs kappa_k and a margin m from the small LP (2K + 1 variables)

    .. math:: \max m \quad \text{s.t.}\quad c_k s_{kab} \ge m,\quad
              c_k W_{kj} \ge \kappa_k - \kappa_j + \text{mask}_{kj}\, m,\quad
              0 \le c_k \le 1 / \operatorname{range}(\hat r_k),

    with s and W the NIAS and NIAC slacks of the unit-scale utilities (both are
    linear in c_k). The point is then checked in exact arithmetic at half that
    margin: every NIAS slack directly, NIAC by Bellman-Ford (no negative cycle
    in kappa_k - kappa_j <= W_kj(r_k) - mask_kj m). Random kernels of the
    power's nulls nearly always pass the per-environment test (SPEC 1c), so
    :func:`ribum.ribum_power` settles most draws this way in milliseconds
    where the LP takes seconds (K = 30: 14 ms against 1.7 s).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> certified_pass(rng.dirichlet(np.ones(4), size=(3, 4)), np.full(4, 0.25))
    True
    >>> certified_pass(np.full((2, 3, 3), 1 / 3), np.full(3, 1 / 3))  # no information: m* = 0
    False
    """
    from scipy.optimize import linprog
    from scipy.sparse.csgraph import NegativeCycleError, csgraph_from_dense, shortest_path

    kernels, prior = check_kernels(kernels, prior)
    tol = check_tol(tol)
    K, X, A = kernels.shape
    joint, _, chosen, post = _joint_and_posterior(kernels, prior)
    norm = np.linalg.norm(post, axis=1, keepdims=True)
    rhat = np.divide(post, norm, out=np.zeros_like(post), where=norm > 0)
    span = rhat.max(axis=(1, 2)) - rhat.min(axis=(1, 2))
    Q = np.einsum("kxa,kxb->kab", post, rhat)
    s = np.diagonal(Q, axis1=1, axis2=2)[:, :, None] - Q  # s[k, a, b] = <p_k(.|a), r_ka - r_kb>
    k, a, b = np.nonzero(chosen[:, :, None] & ~np.eye(A, dtype=bool)[None])
    G, V = _gross_values(kernels, rhat, prior)
    W = G[:, None] - V
    mask = 1.0 - _same_strategy(joint).astype(float)
    kk, jj = np.nonzero(~np.eye(K, dtype=bool))
    n1, n2, m_col = k.size, kk.size, 2 * K
    rows = np.concatenate([np.arange(n1), np.arange(n1), n1 + np.arange(n2).repeat(4)])
    cols = np.concatenate([k, np.full(n1, m_col), np.stack([K + kk, K + jj, np.full(n2, m_col), kk], 1).ravel()])
    vals = np.concatenate([-s[k, a, b], np.ones(n1),
                           np.stack([np.ones(n2), -np.ones(n2), mask[kk, jj], -W[kk, jj]], 1).ravel()])
    M = sp.csr_matrix((vals, (rows, cols)), shape=(n1 + n2, 2 * K + 1))
    bounds = np.array([(0.0, 1.0 / v if v > 0 else 0.0) for v in span] + [(0.0, 0.0)]
                      + [(-np.inf, np.inf)] * (K - 1) + [(-np.inf, 1.0)])
    c = np.zeros(2 * K + 1)
    c[m_col] = -1.0
    res = linprog(c, A_ub=M, b_ub=np.zeros(n1 + n2), bounds=bounds, method="highs")
    if res.status != 0 or res.x is None or not res.x[m_col] > 2 * tol:
        return False
    m_test = 0.5 * float(res.x[m_col])
    r = res.x[:K, None, None] * (rhat - rhat.min(axis=(1, 2), keepdims=True))
    if n1 and np.min(res.x[k] * s[k, a, b]) < m_test:
        return False
    if K == 1:
        return True
    G, V = _gross_values(kernels, r, prior)
    w = G[:, None] - V - mask * m_test  # kappa_k - kappa_j <= w[k, j]: an arc j -> k of weight w[k, j]
    dense = np.full((K + 1, K + 1), np.inf)
    dense[:K, :K] = w.T
    np.fill_diagonal(dense, np.inf)
    dense[K, :K] = 0.0  # a virtual source reaching every environment
    try:
        shortest_path(csgraph_from_dense(dense, null_value=np.inf), method="BF", directed=True, indices=[K])
    except NegativeCycleError:
        return False
    return True

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

    #: scipy.optimize.linprog methods tried in order by :meth:`solve_highs`.
    _linprog_methods: tuple[str, ...] = ("highs-ipm", "highs-ds", "highs")

    def __init__(self, K: int, X: int, A: int, objective: str = "max_margin"):
        if objective not in ("max_margin", "sparsest"):
            raise ValueError(f"objective must be 'max_margin' or 'sparsest', got {objective!r}")
        self.shape = (K, X, A)
        self.objective = objective
        nr = K * X * A
        self._o_kappa = nr
        self._o_t = nr + K
        self._o_m = nr + K + K * A * K
        self._n_util = nr
        self.n_var = self._o_m + 1
        self._pattern()
        self.problem: Any = None
        self.last_z: np.ndarray | None = None

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

    def _bounds(self, margin: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Variable bounds: utilities in [0, 1], kappa_0 = 0, m <= 1 (max_margin) or m = margin."""
        lo = np.full(self.n_var, -np.inf)
        hi = np.full(self.n_var, np.inf)
        lo[: self._n_util] = 0.0
        hi[: self._n_util] = 1.0
        lo[self._o_kappa] = hi[self._o_kappa] = 0.0
        if self.objective == "max_margin" or margin is None:
            hi[self._o_m] = 1.0
        else:
            lo[self._o_m] = hi[self._o_m] = float(margin)
        return lo, hi

    def _unpack(self, z: np.ndarray):
        K, X, A = self.shape
        self.last_z = np.asarray(z, dtype=float).copy()
        util = np.clip(z[: self._o_kappa].reshape(K, X, A), 0.0, 1.0)
        kappa = z[self._o_kappa : self._o_t].copy()
        kappa -= kappa.min()
        return _clean_margin(z[self._o_m]), util, kappa

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
        if self.objective == "sparsest" and margin is None:
            raise ValueError("the 'sparsest' objective needs a fixed margin")
        lo, hi = self._bounds(margin)
        z = cp.Variable(self.n_var, name="z")
        has_lo, has_hi = np.flatnonzero(np.isfinite(lo)), np.flatnonzero(np.isfinite(hi))
        cons = [M @ z <= rhs, z[has_lo] >= lo[has_lo], z[has_hi] <= hi[has_hi]]
        obj: Any = (cp.Maximize(z[self._o_m]) if self.objective == "max_margin"
                    else cp.Minimize(cp.sum(z[: self._n_util])))
        problem = cp.Problem(obj, cons)
        self.attempts = []
        kept = None
        for name, opts, label in _attempts(solver, solver_opts):
            try:
                quiet_highs()
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
        bounds = np.stack(self._bounds(None), axis=1)
        self.attempts = []
        for method in self._linprog_methods:
            res = linprog(c, A_ub=M, b_ub=rhs, bounds=bounds, method=method)
            if res.status == 0 and res.x is not None:
                return (*self._unpack(res.x), "optimal", _method(f"HiGHS {method} (scipy linprog)", self.attempts))
            self.attempts.append(f"HiGHS {method}: status {res.status}: {res.message}")
        raise ValueError("RIBUM LP (HiGHS): no method succeeded: " + "; ".join(self.attempts))


    def solve_clarabel(self, kernels: np.ndarray, prior: np.ndarray):
        """The max-margin LP straight through Clarabel's interior point method (no CVXPY).

        The same ``M z <= b`` as :meth:`solve_highs`, with the variable bounds as
        rows, in Clarabel's form ``A z + s = b``, ``s >= 0``. Clarabel factors
        the quasi-definite KKT system with a sparse LDL^T; on this LP its
        fill-in grows far more slowly with K than HiGHS's interior point
        (``benchmarks/bench_audit_file_scaling.py``). Returns (m, utilities,
        costs, status, method) like :meth:`solve_highs`, status "optimal" only
        when Clarabel reports "Solved"; raises ValueError otherwise.
        """
        import clarabel

        if self.objective != "max_margin":
            raise ValueError("solve_clarabel supports the max_margin objective only")
        M, rhs = self.matrix(kernels, prior)
        lo, hi = self._bounds(None)
        has_lo, has_hi = np.flatnonzero(np.isfinite(lo)), np.flatnonzero(np.isfinite(hi))
        eye = sp.identity(self.n_var, format="csr")
        A_mat = sp.vstack([M, -eye[has_lo], eye[has_hi]]).tocsc()
        b = np.concatenate([rhs, -lo[has_lo], hi[has_hi]])
        q = np.zeros(self.n_var)
        q[self._o_m] = -1.0
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        solution = clarabel.DefaultSolver(sp.csc_matrix((self.n_var, self.n_var)), q, A_mat, b,
                                          [clarabel.NonnegativeConeT(A_mat.shape[0])], settings).solve()
        status = str(solution.status)
        if status != "Solved":
            raise ValueError(f"RIBUM LP (Clarabel): status {status}")
        return (*self._unpack(np.asarray(solution.x)), "optimal", "Clarabel interior point (direct)")

    def solve_direct(self, kernels: np.ndarray, prior: np.ndarray):
        """The max-margin LP by the fastest direct route for its size, without CVXPY.

        LPs with at least :data:`CLARABEL_FROM_ROWS` constraint rows (K >= 19 for
        X = A = 6) go to :meth:`solve_clarabel` first, smaller ones (and any
        Clarabel failure) to :meth:`solve_highs`. Measured on 2 cores
        (``bench_audit_file_scaling.py``, X = A = 6): HiGHS 0.9 / 4.0 / 25.6 s and
        Clarabel 0.6 / 1.6 / 9.3 s at K = 20 / 30 / 50; HiGHS is quicker below.
        ``self.attempts`` lists the failed attempts. Returns as :meth:`solve_highs`.
        """
        failed: list[str] = []
        if self.n_rows >= CLARABEL_FROM_ROWS:
            try:
                out = self.solve_clarabel(kernels, prior)
                self.attempts = []
                return out
            except ValueError as exc:
                failed.append(str(exc))
        m, util, kappa, status, method = self.solve_highs(kernels, prior)
        self.attempts = failed + self.attempts
        return m, util, kappa, status, (f"{method} (after {failed[0]})" if failed else method)

    def solve_many(self, draws, prior: np.ndarray, *, n_jobs: int = 1, callback=None) -> tuple[np.ndarray, int]:
        """Optimal margins of many validated kernel sets of this LP's shape, side by side.

        ``m[i] = solve_direct(draws[i], prior)[0]`` for a sequence of (K, X, A)
        kernel sets (the resamples of a bootstrap, the draws of a power
        estimate). With ``n_jobs`` > 1 the solves run in that many threads, each
        with its own copy of this LP (the sparsity pattern is shared): HiGHS and
        Clarabel release the GIL, so two threads on two cores took 0.78 s against
        1.60 s for four LPs at K = 12 (HiGHS) and 2.45 s against 4.59 s at K = 25
        (Clarabel). The margins do not depend on ``n_jobs``; memory grows with it
        (one LP in flight per thread). ``callback(i, n)`` is called in the calling
        thread after the i-th margin (1-based, in order). Interrupting (Ctrl-C)
        cancels the solves not yet started; the ones in flight finish first.

        ``draws`` are not validated again (the LP's callers validate the data they
        draw from); ``n_jobs`` and ``callback`` are.

        Returns (margins (n,), number of solves that needed a fallback solver or method).

        Example
        -------
        >>> rng = np.random.default_rng(0)
        >>> draws = [rng.dirichlet(np.ones(3), size=(2, 3)) for _ in range(4)]
        >>> lp = RibumLP(2, 3, 3)
        >>> one, _ = lp.solve_many(draws, np.full(3, 1 / 3))
        >>> two, _ = lp.solve_many(draws, np.full(3, 1 / 3), n_jobs=2)
        >>> bool(np.array_equal(one, two)), one.shape
        (True, (4,))
        """
        n_jobs = check_n_jobs(n_jobs)
        callback = check_callback(callback)
        n = len(draws)
        margins = np.empty(n)
        fell = np.zeros(n, dtype=bool)
        if n_jobs <= 1 or n <= 1:
            for i in range(n):
                margins[i] = self.solve_direct(draws[i], prior)[0]
                fell[i] = bool(self.attempts)
                if callback is not None:
                    callback(i + 1, n)
            return margins, int(fell.sum())
        import copy
        import threading
        from concurrent.futures import ThreadPoolExecutor

        local = threading.local()

        def work(i: int) -> tuple[float, bool]:
            lp = getattr(local, "lp", None)
            if lp is None:
                lp = local.lp = copy.copy(self)
            return lp.solve_direct(draws[i], prior)[0], bool(lp.attempts)

        pool = ThreadPoolExecutor(max_workers=min(n_jobs, n))
        try:
            for i, (m, f) in enumerate(pool.map(work, range(n))):
                margins[i], fell[i] = m, f
                if callback is not None:
                    callback(i + 1, n)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return margins, int(fell.sum())


def _clean_margin(m) -> float:
    """The optimal margin as a float, never negative and never -0.0.

    m = 0 (constant utilities, and lambda = 0 in the shared test) is always
    feasible, so m* >= 0 exactly; a negative value is solver round-off.
    """
    m = float(m)
    return m if m > 0.0 else 0.0


def _shared_exempt(joint: np.ndarray, incentives: np.ndarray) -> np.ndarray:
    """(K, K) bool: NIAC pairs of the shared test that carry no margin (module docstring, (ii)).

    Pairs with the same revealed attention strategy are exempt, except when the
    behaviour is identical (same joint table, same actions) although the
    incentives changed the relative payoffs of the actions taken.
    """
    identical = np.all(np.abs(joint[:, None] - joint[None, :]) <= SAME_STRATEGY_ATOL, axis=(2, 3))
    return _same_strategy(joint) & ~(identical & ~_same_problem(incentives, joint))


def _same_problem(incentives: np.ndarray, joint: np.ndarray | None = None,
                  atol: float = SAME_STRATEGY_ATOL) -> np.ndarray:
    """(K, K) bool: environments whose incentives differ only by a state-dependent constant c(x).

    With ``joint`` (K, X, A), only the actions that environment k or j uses
    (p(a) > atol) count: incentives that differ only on actions neither
    environment takes need not change a rational agent's strategy (module
    docstring).
    """
    D = incentives[:, None] - incentives[None, :]  # (K, K, X, A)
    if joint is None:
        used = np.ones(D.shape, dtype=bool)
    else:
        u = joint.sum(axis=1) > atol  # (K, A)
        used = np.broadcast_to((u[:, None] | u[None, :])[:, :, None, :], D.shape)
    hi = np.where(used, D, -np.inf).max(axis=3)
    lo = np.where(used, D, np.inf).min(axis=3)
    flat = (hi - lo <= atol) | ~used.any(axis=3)  # per state: constant over the used actions
    return np.all(flat, axis=2)


class SharedRibumLP(RibumLP):
    """The shared-utility NIAS + NIAC LP (SPEC 1c) in stacked sparse form.

    Environments share one prior and one unknown utility r(x, a) in [0, 1] and
    differ by known incentives Delta_k(x, a) with an unknown scale
    0 <= lambda <= ``max_scale``: r_k = r + lambda Delta_k (linear in the
    unknowns). One variable vector z = [r, lambda, kappa, t, m] with r(x, a) at
    x A + a, lambda at X A, kappa_k, the epigraph variables t[j, a, k] and m.
    Rows (numpy index arithmetic, no loop over k, j, a, b), with
    D_k(a, b) = sum_x p_k(x|a) (Delta_k(x, b) - Delta_k(x, a)):

        NIAS  (k, a, b != a):  sum_x p_k(x|a) (r(x,b) - r(x,a)) + lambda D_k(a, b) + m <= off_ka
        epi   (j, a, k != j, b):  sum_x p_j(x,a) (r(x,b) + lambda Delta_k(x,b)) - t[j,a,k] <= 0
        NIAC  (k, j != k):  -sum_{x,a} p_k(x,a) (r(x,a) + lambda Delta_k(x,a)) + kappa_k - kappa_j
                            + sum_a t[j,a,k] + mask_kj m <= 0

    ``mask_kj`` = 0 for pairs with the same attention strategy, unless their
    behaviour is identical although the incentives changed the relative
    payoffs of the actions taken (module docstring, (ii)).
    The sparsity pattern depends on (K, X, A) only; :meth:`set_incentives`
    fixes Delta, and :meth:`solve_highs` re-solves for new kernels by refilling
    the values (what :func:`ribum.ribum_power` and :func:`ribum.bootstrap_ribum`
    rely on).
    """

    #: The shared LP is small (one r for all environments): HiGHS's own choice (simplex) is
    #: faster than its interior point here; the others are fallbacks.
    _linprog_methods = ("highs", "highs-ipm", "highs-ds")

    def __init__(self, K: int, X: int, A: int, incentives, objective: str = "max_margin", *,
                 max_scale: float = 10.0):
        self.incentives = np.asarray(incentives, dtype=float)
        if self.incentives.shape != (K, X, A):
            raise ValueError(f"incentives must have shape (K, X, A) = {(K, X, A)}, got {self.incentives.shape}")
        self.max_scale = float(max_scale)
        super().__init__(K, X, A, objective)

    def _pattern(self) -> None:
        K, X, A = self.shape
        n_r = X * A
        self._o_lam = n_r
        self._o_kappa = n_r + 1
        self._o_t = self._o_kappa + K
        self._o_m = self._o_t + K * A * K
        self._n_util = n_r
        self.n_var = self._o_m + 1
        ridx = lambda x, a: x * A + a  # noqa: E731
        tidx = lambda j, a, k: self._o_t + (j * A + a) * K + k  # noqa: E731
        rows, cols = [], []
        x = np.arange(X)
        # NIAS rows (k, a, b != a): X entries for r(., b), X for r(., a), lambda, m.
        k, a, b = np.nonzero(np.broadcast_to(~np.eye(A, dtype=bool), (K, A, A)))
        self.nias_index = np.stack([k, a, b], axis=1)
        n_nias = k.size
        row = np.arange(n_nias)
        rows += [np.repeat(row, X), np.repeat(row, X), row, row]
        cols += [ridx(x[None, :], b[:, None]).ravel(), ridx(x[None, :], a[:, None]).ravel(),
                 np.full(n_nias, self._o_lam), np.full(n_nias, self._o_m)]
        self._nias_kab = (k, a, b)
        # Epigraph rows (j, a, k != j, b): X entries of r(., b), lambda, t[j, a, k].
        j, a2, k2, b2 = np.nonzero(np.broadcast_to((~np.eye(K, dtype=bool))[:, None, :, None], (K, A, K, A)))
        n_epi = j.size
        row = n_nias + np.arange(n_epi)
        rows += [np.repeat(row, X), row, row]
        cols += [ridx(x[None, :], b2[:, None]).ravel(), np.full(n_epi, self._o_lam), tidx(j, a2, k2)]
        self._epi_jakb = (j, a2, k2, b2)
        # NIAC rows (k, j != k): X*A entries of r, lambda, kappa_k, kappa_j, A entries of t[j, ., k], m.
        kk, jj = np.nonzero(~np.eye(K, dtype=bool))
        self.niac_index = np.stack([kk, jj], axis=1)
        n_niac = kk.size
        row = n_nias + n_epi + np.arange(n_niac)
        aa = np.arange(A)
        rows += [np.repeat(row, X * A), row, row, row, np.repeat(row, A), row]
        cols += [np.tile(np.arange(X * A), n_niac), np.full(n_niac, self._o_lam), self._o_kappa + kk,
                 self._o_kappa + jj, tidx(jj[:, None], aa[None, :], kk[:, None]).ravel(), np.full(n_niac, self._o_m)]
        self._niac_kj = (kk, jj)
        self.n_rows = n_nias + n_epi + n_niac
        self._rows = np.concatenate(rows)
        self._cols = np.concatenate(cols)
        self._n_nias, self._n_epi, self._n_niac = n_nias, n_epi, n_niac

    def _values(self, kernels: np.ndarray, prior: np.ndarray):
        K, X, A = self.shape
        D = self.incentives
        joint, pa, chosen, post = _joint_and_posterior(kernels, prior)
        k, a, b = self._nias_kab
        pk = post[k, :, a]  # (n_nias, X)
        # E[k, a, b] = sum_x p_k(x|a) Delta_k(x, b)
        E = np.einsum("kxa,kxb->kab", post, D)
        lam_nias = E[k, a, b] - E[k, a, a]
        vals = [pk.ravel(), -pk.ravel(), lam_nias, np.ones(k.size)]
        j, a2, k2, b2 = self._epi_jakb
        # F[j, a, k, b] = sum_x p_j(x, a) Delta_k(x, b)
        F = np.einsum("jxa,kxb->jakb", joint, D)
        vals += [joint[j, :, a2].ravel(), F[j, a2, k2, b2], -np.ones(j.size)]
        kk, jj = self._niac_kj
        own = np.einsum("kxa,kxa->k", joint, D)
        mask = 1.0 - _shared_exempt(joint, D).astype(float)
        n = kk.size
        vals += [-joint[kk].reshape(n, X * A).ravel(), -own[kk], np.ones(n), -np.ones(n), np.ones(n * A),
                 mask[kk, jj]]
        rhs = np.zeros(self.n_rows)
        rhs[: k.size] = np.where(chosen[k, a], 0.0, 2.0 + 2.0 * self.max_scale * np.abs(lam_nias))
        return np.concatenate(vals), rhs

    def _bounds(self, margin: float | None) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = super()._bounds(margin)
        lo[self._o_lam], hi[self._o_lam] = 0.0, self.max_scale
        return lo, hi

    def _unpack(self, z: np.ndarray):
        K, X, A = self.shape
        self.last_z = np.asarray(z, dtype=float).copy()
        r, lam = self.baseline_and_scale(z)
        util = r[None] + lam * self.incentives
        kappa = z[self._o_kappa : self._o_t].copy()
        kappa -= kappa.min()
        return _clean_margin(z[self._o_m]), util, kappa

    def baseline_and_scale(self, z: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """(r (X, A) clipped to [0, 1], lambda clipped to [0, max_scale]) from a solution vector."""
        z = self.last_z if z is None else z
        if z is None:
            raise ValueError("no solution yet: solve the LP first")
        X, A = self.shape[1:]
        r = np.clip(z[: X * A].reshape(X, A), 0.0, 1.0)
        lam = float(np.clip(z[self._o_lam], 0.0, self.max_scale))
        return r, lam



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


def check_tol(tol, name: str = "tol") -> float:
    """A pass threshold: a finite real number >= 0."""
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number >= 0, got {tol!r}")
    t = float(tol)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    return t


def check_incentives(incentives, shape: tuple[int, int, int]) -> np.ndarray:
    """Validate known incentives Delta (K, X, A) (a shared (X, A) table is broadcast to every environment)."""
    from ._validation import _as_float_array

    try:
        ndim = np.ndim(incentives)
    except ValueError:  # ragged nesting: let the helper name the problem
        ndim = 3
    d = _as_float_array(incentives, "incentives", 2 if ndim == 2 else 3)
    if d.ndim == 2:
        d = np.broadcast_to(d, shape)
    if d.shape != shape:
        raise ValueError(f"incentives must have shape (K, X, A) = {shape} like the kernels, got {d.shape}")
    return np.ascontiguousarray(d, dtype=float)


def check_mode(utilities, incentives, max_scale) -> tuple[str, float]:
    """Validate the ``utilities`` mode, its pairing with ``incentives`` and ``max_scale``."""
    if utilities not in ("per_environment", "shared"):
        raise ValueError(f"utilities must be 'per_environment' or 'shared', got {utilities!r}")
    if utilities == "shared" and incentives is None:
        raise ValueError("utilities='shared' needs the known incentives Delta (K, X, A): pass incentives=...")
    if utilities == "per_environment" and incentives is not None:
        raise ValueError("incentives are used only with utilities='shared' (a free r_k per environment absorbs them)")
    if isinstance(max_scale, bool) or not isinstance(max_scale, (int, float, np.integer, np.floating)):
        raise ValueError(f"max_scale must be a positive number, got {max_scale!r}")
    if not (np.isfinite(max_scale) and max_scale > 0):
        raise ValueError(f"max_scale must be a finite number > 0, got {max_scale!r}")
    return utilities, float(max_scale)


def drop_zero_prior(kernels: np.ndarray, prior: np.ndarray, *extra: np.ndarray):
    """Remove states with prior 0 (they carry no weight in any constraint).

    Returns (kept state indices, kernels, prior, *extra restricted to them, notes).
    """
    keep = np.flatnonzero(prior > 0)
    notes: list[str] = []
    if keep.size == prior.size:
        return keep, kernels, prior, *extra, notes
    dropped = [int(i) for i in np.flatnonzero(prior <= 0)]
    notes.append(f"state(s) {dropped} have prior 0 and were dropped from the test (they carry no weight in any "
                 "constraint); their utilities are not identified and are reported as 0")
    sub = [e[:, keep, :] for e in extra]
    return keep, kernels[:, keep, :], prior[keep] / prior[keep].sum(), *sub, notes


def check_ribum(kernels, prior=None, objective: str = "max_margin", solver: str | None = None, *,
                margin: float | None = None, tol: float = TOL, incentives=None,
                utilities: str = "per_environment", max_scale: float = 10.0) -> RibumResult:
    """Test NIAS + NIAC (rationally inattentive Bayesian utility maximisation) by LP.

    max_margin:   max m  s.t.  NIAS_k(a, b) slack >= m,  NIAC(k, j) slack >= m,  0 <= r <= 1, m <= 1
    sparsest:     min sum r  s.t. the same with m fixed

    Two variants (module docstring for the exact constraints, the normalisation,
    the margin's units and what each variant can and cannot reject):

    * ``utilities="per_environment"`` (default; SPEC 1b, the paper's test): a
      free utility r_k(x, a) in [0, 1] per environment.
    * ``utilities="shared"`` (SPEC 1c, Caplin & Dean 2015 with an unknown
      baseline): one utility r(x, a) in [0, 1] for all environments plus the
      known incentives, r_k = r + lambda Delta_k with 0 <= lambda <= max_scale.

    ``passed`` is m* > tol. For "sparsest", ``margin`` fixes m (default: half
    the max-margin m*, solved first); if the data fail the max-margin test the
    max-margin result is returned, with objective "max_margin". States with
    prior 0 are dropped (``result.notes`` says so). m* is never negative
    (m = 0 is always feasible; round-off below 0 is reported as 0.0).

    Parameters
    ----------
    kernels : (K, X, A) array
        p_k(a|x), each row summing to 1.
    prior : (X,) array or None
        pi0 (uniform by default).
    objective : "max_margin" or "sparsest"
    solver : CVXPY solver name or None
        None (default): for the per-environment test the matrix goes straight
        to the solver (:meth:`RibumLP.solve_direct`: Clarabel for large LPs,
        HiGHS otherwise), then through CVXPY (HiGHS interior point, retried
        with crossover, then simplex, then CLARABEL when an attempt does not
        reach an optimum, :meth:`RibumLP.solve`); ``result.solver`` and
        ``result.method`` say which attempt produced the answer. A named solver is used alone (for
        "HIGHS", its three methods).
    margin : float, optional
        Fixed margin for "sparsest".
    tol : float >= 0
        Pass threshold on m*.
    incentives : (K, X, A) or (X, A) array, optional
        Known incentives Delta_k(x, a) (only with ``utilities="shared"``).
        Only differences across actions matter: adding any c_k(x) to
        Delta_k(x, .) changes nothing.
    utilities : "per_environment" or "shared"
    max_scale : float > 0
        Upper bound on lambda in the shared test. The verdict does not depend
        on it (the constraints are homogeneous, so any strictly feasible
        (r, lambda) can be scaled into the box); the margin's value does.

    Returns
    -------
    RibumResult
        In shared mode also ``baseline`` (r, (X, A)), ``scale`` (lambda) and
        ``utilities`` = r + lambda Delta_k.

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> check_ribum(k).passed
    True
    >>> # A bonus for the correct label in environment 0 only; the agent attends more there.
    >>> delta = [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]
    >>> check_ribum(k, incentives=delta, utilities="shared").passed
    True
    >>> check_ribum(k[::-1], incentives=delta, utilities="shared").passed  # attends less when paid more
    False
    """
    p, pi = check_kernels(kernels, prior)
    tol = check_tol(tol)
    mode, max_scale = check_mode(utilities, incentives, max_scale)
    if objective not in ("max_margin", "sparsest"):
        raise ValueError(f"objective must be 'max_margin' or 'sparsest', got {objective!r}")
    K, X_full, A = p.shape
    delta_full = check_incentives(incentives, p.shape) if mode == "shared" else None
    extra = (delta_full,) if delta_full is not None else ()
    pi_full = pi
    keep, p, pi, *rest, notes = drop_zero_prior(p, pi, *extra)
    delta = rest[0] if rest else None
    X = pi.size

    def make(obj):
        if mode == "shared":
            return SharedRibumLP(K, X, A, delta, obj, max_scale=max_scale)
        return RibumLP(K, X, A, obj)

    lp = make("max_margin")
    if mode == "per_environment" and solver is None:
        # The matrix goes straight to HiGHS (scipy) or Clarabel: no CVXPY import or compile on the common path.
        # CVXPY's chain (HiGHS variants, then CLARABEL) remains the fallback.
        try:
            m_star, util, kappa, status, method = lp.solve_direct(p, pi)
            name = "CLARABEL" if method.startswith("Clarabel") else "HIGHS"
        except ValueError:
            m_star, util, kappa, status, name, method = lp.solve(p, pi, solver=solver)
    else:
        m_star, util, kappa, status, name, method = lp.solve(p, pi, solver=solver)
    used = "max_margin"
    if objective == "sparsest" and m_star > tol:
        fixed = 0.5 * m_star if margin is None else float(margin)
        if not (0 < fixed <= m_star + tol):
            raise ValueError(f"margin for 'sparsest' must lie in (0, m*] = (0, {m_star:.6g}], got {fixed}")
        lp = make("sparsest")
        _, util, kappa, status, name, method = lp.solve(p, pi, margin=fixed, solver=solver)
        m_star, used = fixed, "sparsest"
    shared = None
    if mode == "shared":
        assert isinstance(lp, SharedRibumLP)
        r, lam = lp.baseline_and_scale()
        shared = {"baseline": r, "scale": lam, "incentives": delta, "max_scale": max_scale}
    res = _result(p, pi, m_star, util, kappa, status, name, used, tol, method, shared=shared)
    if delta is not None:
        joint = pi[None, :, None] * p
        frozen = _same_strategy(joint) & ~_shared_exempt(joint, delta)
        pairs = [(int(k), int(j)) for k, j in np.argwhere(np.triu(frozen, 1))]
        if pairs:
            notes.append(f"environments {pairs} behave identically although the incentives change the payoffs of "
                         "the actions taken: the data show no response to the incentives there, so m* = 0 (weakly "
                         "consistent at best)")
    res.notes = notes
    if keep.size < X_full:
        res = _expand_states(res, keep, X_full, pi_full=pi_full, delta_full=delta_full)
    return res


def _expand_states(res: RibumResult, keep: np.ndarray, X: int, pi_full: np.ndarray,
                   delta_full: np.ndarray | None) -> RibumResult:
    """Re-insert states dropped for prior 0 into the result's arrays (utilities 0 there)."""
    K, _, A = res.utilities.shape
    util = np.zeros((K, X, A))
    util[:, keep, :] = res.utilities
    res.utilities = util
    res.prior = pi_full
    if res.baseline is not None:
        base = np.zeros((X, A))
        base[keep] = res.baseline
        res.baseline = base
        res.incentives = delta_full
    return res


def _result(p, pi, m_star, util, kappa, status, name, objective, tol, method="", *, shared=None) -> RibumResult:
    ns = _nias_slack(p, util, pi)
    cs = _niac_slack(p, util, kappa, pi)
    joint = pi[None, :, None] * p
    same = _same_strategy(joint)
    if shared is not None:
        same = _shared_exempt(joint, shared["incentives"])
    target = np.where(same, 0.0, m_star)
    bind_nias = np.argwhere(ns <= m_star + BINDING_TOL)
    bind_niac = np.argwhere(cs <= target + BINDING_TOL)
    extra = {} if shared is None else {
        "utilities_mode": "shared", "baseline": shared["baseline"], "scale": shared["scale"],
        "incentives": shared["incentives"], "max_scale": shared["max_scale"]}
    return RibumResult(
        passed=bool(m_star > tol),
        margin=_clean_margin(m_star),
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
        **extra,
    )


def rational_inattention_kernel(utility, prior=None, lam: float = 1.0, *, n_iter: int = 20_000,
                                atol: float = 1e-14, prune: float = 1e-6) -> np.ndarray:
    """Optimal Shannon rational-inattention kernel by Blahut-Arimoto.

    Maximises sum_{x,a} pi0(x) p(a|x) r(x,a) - lam I(x; a). The optimum satisfies
    p(a|x) = p(a) exp(r(x,a)/lam) / sum_b p(b) exp(r(x,b)/lam) with
    p(a) = sum_x pi0(x) p(a|x) (Matejka & McKay 2015); iterate the two equations.

    Parameters
    ----------
    utility : (X, A) array or (K, X, A) for several environments (same lam),
        solved together (vectorised over K)
    prior : (X,) array, (K, X) array (one prior per environment) or None
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
    if r.ndim not in (2, 3) or not np.all(np.isfinite(r)):
        raise ValueError(f"utility must be a finite (X, A) or (K, X, A) array, got shape {r.shape}")
    if not lam > 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    if r.ndim == 2:
        return rational_inattention_kernel(r[None], prior, lam, n_iter=n_iter, atol=atol, prune=prune)[0]
    K, X, A = r.shape
    from ._validation import check_prior

    if prior is not None and np.ndim(prior) == 2:
        if np.shape(prior) != (K, X):
            raise ValueError(f"prior must have shape ({X},) or ({K}, {X}), got {np.shape(prior)}")
        pi = np.stack([check_prior(row, X) for row in np.asarray(prior, dtype=float)])
    else:
        pi = np.broadcast_to(check_prior(prior, X), (K, X))
    # The K environments are iterated together (one (K, X, A) array per step);
    # each stops once converged, so the answer equals K separate runs.
    z = (r - r.max(axis=2, keepdims=True)) / lam
    ez = np.exp(z)
    q = np.full((K, A), 1.0 / A)
    for _ in range(2):
        # Blahut-Arimoto; after the first pass the actions that are dying out
        # (p(a) < prune) are removed and the iteration re-run on the support,
        # so the fixed point is solved to ``atol`` there.
        active = np.arange(K)
        for _ in range(n_iter):
            cond = q[active, None, :] * ez[active]
            cond /= cond.sum(axis=2, keepdims=True)
            q_new = np.einsum("kx,kxa->ka", pi[active], cond)
            moved = np.max(np.abs(q_new - q[active]), axis=1)
            q[active] = q_new
            active = active[moved >= atol]
            if active.size == 0:
                break
        q = np.where(q < prune, 0.0, q)
        q /= q.sum(axis=1, keepdims=True)
    cond = q[:, None, :] * ez
    return cond / cond.sum(axis=2, keepdims=True)
