"""Goodness-of-fit indices for budget data: Varian, Houtman-Maks, Money Pump.

All three look only inside the cyclic components of the revealed-preference
graph at e = 1 (observations on no cycle can be part of no violation), and solve
each component separately, which keeps the exact (NP-hard) problems small.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._graph import strongly_connected
from ._highs import quiet_highs
from ._validation import check_budget_data, check_positive_int
from .budget import RTOL, _relation, garp
from .results import IndexResult

__all__ = ["varian_index", "houtman_maks", "money_pump_index"]


def _cyclic_components(p, x) -> list[np.ndarray]:
    """Observation indices of each strongly connected component of R0_1 with >= 2 members."""
    W = _relation(p, x, 1.0, RTOL, strict=False)
    labels, on_cycle = strongly_connected(W, overwrite=True)
    comps = []
    for lab in np.unique(labels[on_cycle]):
        comps.append(np.flatnonzero(labels == lab))
    return comps


def _milp_solver(solver):
    import cvxpy as cp

    if solver is not None:
        return solver
    for name in ("HIGHS", "SCIP", "GLPK_MI", "CBC"):
        if name in cp.installed_solvers():
            return name
    raise ValueError("no mixed-integer solver available in CVXPY (install highspy)")


def _solve(problem, name, what):
    import cvxpy as cp

    try:
        quiet_highs()
        problem.solve(solver=name)
    except cp.error.SolverError as exc:
        raise ValueError(f"{what}: solver {name} failed: {exc}") from None
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise ValueError(f"{what}: solver {name} returned status '{problem.status}'")


def _incidence(tails, heads, n):
    """Sparse rows e_tail - e_head and e_tail + e_head for arcs tail -> head."""
    m = tails.size
    r = np.arange(m)
    diff = sp.csr_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[r, r], np.r_[tails, heads])), shape=(m, n))
    both = sp.csr_matrix((np.ones(2 * m), (np.r_[r, r], np.r_[tails, heads])), shape=(m, n))
    return diff, both


def houtman_maks(prices, quantities, *, max_component: int = 300, solver: str | None = None) -> IndexResult:
    """Houtman-Maks index: the largest subset of observations that satisfies GARP.

    Exact by mixed-integer LP (Heufer & Hjertstrand 2015), one per cyclic component
    of R0 (GARP is NP-hard to repair in general): a subset S satisfies GARP iff
    there are U_t in [0, 1] with t R0 s => U_t >= U_s and t P0 s => U_t >= U_s + 1/n
    for t, s in S (n the component size). With z_t in {0, 1} (t kept):

        max sum_t z_t   s.t.  U_t - U_s >= -(2 - z_t - z_s)                  (t R0 s)
                              U_t - U_s >= 1/n - (1 + 1/n)(2 - z_t - z_s)     (t P0 s)

    Observations on no cycle are always kept. ``value`` is the kept share
    |S| / T; ``detail`` has ``n_kept``, ``kept`` (bool mask) and ``removed``.

    Limit: components larger than ``max_component`` observations raise a
    ValueError (the MILP has one binary per observation but up to n^2 rows).

    Example
    -------
    >>> p = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]; x = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
    >>> houtman_maks(p, x).detail["n_kept"]
    2
    """
    import cvxpy as cp

    p, x = check_budget_data(prices, quantities, scale=True)
    max_component = check_positive_int(max_component, "max_component", 2)
    T = p.shape[0]
    kept = np.ones(T, dtype=bool)
    name = _milp_solver(solver)
    for comp in _cyclic_components(p, x):
        n = comp.size
        if n > max_component:
            raise ValueError(f"houtman_maks: a cyclic component has {n} observations > max_component = {max_component}")
        pc, xc = p[comp], x[comp]
        E = pc @ xc.T
        d = np.diag(E)
        weak = ((1 + RTOL) * d)[:, None] >= E
        strict = ((1 - RTOL) * d)[:, None] > E
        np.fill_diagonal(weak, False)
        np.fill_diagonal(strict, False)
        U = cp.Variable(n)
        z = cp.Variable(n, boolean=True)
        cons = [U >= 0, U <= 1]
        tw, hw = np.nonzero(weak & ~strict)
        if tw.size:
            D, B = _incidence(tw, hw, n)
            cons.append(B @ z - 2 <= D @ U)
        ts, hs = np.nonzero(strict)
        if ts.size:
            D, B = _incidence(ts, hs, n)
            eps = 1.0 / n
            cons.append(eps - (1 + eps) * (2 - B @ z) <= D @ U)
        prob = cp.Problem(cp.Maximize(cp.sum(z)), cons)
        _solve(prob, name, "houtman_maks MILP")
        keep = np.asarray(z.value) > 0.5
        kept[comp[~keep]] = False
    if not garp(p[kept], x[kept]).passed:
        raise ValueError("houtman_maks: the MILP solution does not satisfy GARP (solver tolerance); try another solver")
    return IndexResult(
        name="Houtman-Maks index",
        value=float(kept.sum() / T),
        detail={"n_kept": int(kept.sum()), "n_observations": T, "kept": kept, "removed": np.flatnonzero(~kept)},
    )


def varian_index(prices, quantities, *, aggregate: str = "mean", max_component: int = 60,
                 solver: str | None = None) -> IndexResult:
    """Varian's (1990) index: per-observation efficiencies as close to 1 as GARP allows.

    With observation-specific efficiencies e_t, t R0_e s iff e_t E[t,t] >= E[t,s].
    We compute

        V = sup { f(e) : e in [0, 1]^T, GARP_e holds },   f = mean (default) or min,

    a supremum like the CCEI: just below a critical vector every arc with
    ratio E[t,s]/E[t,t] < e_t is strict, so GARP_e holds just below e iff the
    graph {t -> s : E[t,s]/E[t,t] < e_t} is acyclic, and the sup is a max over that
    closed condition. With f = min, V equals the CCEI. The exact solution is a
    MILP per cyclic component (Demuynck & Rehbeck 2023 style), with binaries
    y_ts for arcs of ratio < 1 and acyclicity potentials U:

        max sum_t e_t  s.t.  U_t - U_s >= 1/n - (1 + 1/n)(1 - y_ts),   y_ts = [e_t > r_ts].

    Each e_t ranges over the levels L_t = {ratios r_ts < 1} U {1} only (between
    levels the arc set does not change), so the problem is combinatorial: arcs
    enter through binaries z_tj = [e_t > L_tj], never through a comparison of
    continuous values, and near-duplicate observations (ratios 1 - 1e-12) cannot
    defeat the solver's tolerances. Components whose level combinations number at
    most 4,096 are solved by exhaustive enumeration (batched bit-parallel cycle
    tests); larger ones by the MILP, whose rounded levels are verified acyclic
    exactly and then raised one level at a time while the graph stays acyclic
    (a polish against objective differences below the solver's tolerance).
    ``value`` is f(e);
    ``detail['efficiencies']`` is e (1 for observations on no cycle).

    Limit: the MILP has one binary per arc of a component, so components larger
    than ``max_component`` (default 60) raise a ValueError.

    Example
    -------
    >>> p = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]; x = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
    >>> round(varian_index(p, x).value, 6)
    0.995671
    """
    from .budget import ccei

    if aggregate not in ("mean", "min"):
        raise ValueError(f"aggregate must be 'mean' or 'min', got {aggregate!r}")
    p, x = check_budget_data(prices, quantities, scale=True)
    max_component = check_positive_int(max_component, "max_component", 2)
    T = p.shape[0]
    if aggregate == "min":
        c = ccei(p, x)
        return IndexResult(name="Varian index (min)", value=c, detail={"efficiencies": np.full(T, c)})
    eff = np.ones(T)
    for comp in _cyclic_components(p, x):
        n = comp.size
        if n > max_component:
            raise ValueError(f"varian_index: a cyclic component has {n} observations > max_component = {max_component}")
        E = p[comp] @ x[comp].T
        R = E / np.diag(E)[:, None]
        np.fill_diagonal(R, np.inf)
        eff[comp] = _varian_component(R, solver)
    return IndexResult(name="Varian index (mean)", value=float(eff.mean()), detail={"efficiencies": eff})


#: Level combinations up to which a component of the Varian index is enumerated.
_VARIAN_ENUMERATE = 4096


def _acyclic(R: np.ndarray, e: np.ndarray) -> bool:
    return not strongly_connected(e[:, None] > R)[1].any()


def _varian_component(R: np.ndarray, solver, *, enumerate_limit: int = _VARIAN_ENUMERATE) -> np.ndarray:
    """Exact efficiencies of one cyclic component (ratio matrix R, +inf diagonal)."""
    n = R.shape[0]
    levels = [np.unique(np.r_[R[i][R[i] < 1.0], 1.0]) for i in range(n)]
    sizes = np.array([lv.size for lv in levels])
    if float(np.prod(sizes.astype(float))) <= enumerate_limit:
        return _varian_enumerate(R, levels)
    return _varian_milp(R, levels, solver)


def _varian_enumerate(R: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    """max sum e over every combination of levels with {R < e} acyclic (first maximiser)."""
    from ._graph import closure_bits, diagonal_bits

    grids = np.meshgrid(*levels, indexing="ij")
    E = np.stack([g.ravel() for g in grids], axis=1)  # (M, n), all combinations
    arcs = R[None, :, :] < E[:, :, None]
    cyclic = diagonal_bits(closure_bits(arcs)).any(axis=1)
    total = np.where(cyclic, -np.inf, E.sum(axis=1))
    return E[int(np.argmax(total))].copy()


def _varian_milp(R: np.ndarray, levels: list[np.ndarray], solver) -> np.ndarray:
    """MILP over level binaries, then exact verification and a one-level-up polish."""
    import cvxpy as cp

    n = R.shape[0]
    # z_(i, j) = [e_i >= L_i[j + 1]] for j < |L_i| - 1, monotone in j.
    start = np.r_[0, np.cumsum([lv.size - 1 for lv in levels])]
    nz = int(start[-1])
    z = cp.Variable(nz, boolean=True)
    U = cp.Variable(n)
    gap = 1.0 / n
    steps = np.concatenate([np.diff(lv) for lv in levels])
    cons = [U >= 0, U <= 1]
    mono = [start[i] + j for i, lv in enumerate(levels) for j in range(lv.size - 2)]
    if mono:
        m = np.array(mono)
        cons.append(z[m] >= z[m + 1])
    ts, hs = np.nonzero(R < 1.0)
    # arc t -> s (ratio r = L_t[j]) is present iff e_t > r iff z_(t, j) = 1
    zi = np.array([start[t] + int(np.searchsorted(levels[t], R[t, s])) for t, s in zip(ts, hs, strict=True)], dtype=int)
    if ts.size:
        D, _ = _incidence(ts, hs, n)
        cons.append(gap - (1 + gap) * (1 - z[zi]) <= D @ U)
    prob = cp.Problem(cp.Maximize(steps @ z), cons)
    _solve(prob, _milp_solver(solver), "varian_index MILP")
    zv = np.asarray(z.value) > 0.5
    idx = np.array([int(zv[start[i] : start[i + 1]].sum()) for i in range(n)])
    e = np.array([levels[i][idx[i]] for i in range(n)])
    if not _acyclic(R, e):
        # Rounding can only fail through solver tolerance: fall back to the all-lowest
        # levels (always acyclic: no arc has ratio below its row's lowest level) and polish.
        idx = np.zeros(n, dtype=int)
        e = np.array([lv[0] for lv in levels])
    improved = True
    while improved:
        improved = False
        for i in range(n):
            while idx[i] + 1 < levels[i].size:
                trial = e.copy()
                trial[i] = levels[i][idx[i] + 1]
                if not _acyclic(R, trial):
                    break
                idx[i] += 1
                e = trial
                improved = True
    return e


def money_pump_index(prices, quantities, *, max_length: int | None = None, max_cycles: int = 100_000) -> IndexResult:
    """Money Pump Index (Echenique, Lee & Shum 2011) over violating cycles.

    For a cycle t1 R0 t2 R0 ... tk R0 t1 with at least one strict arc, the money
    an arbitrageur extracts, relative to the consumer's total expenditure, is

        MPI(c) = sum_i (p_{t_i} . x_{t_i} - p_{t_i} . x_{t_{i+1}}) / sum_i p_{t_i} . x_{t_i}.

    We enumerate simple cycles of the R0 graph inside each cyclic component (each
    cycle once, from its smallest observation), up to ``max_length`` arcs (all
    lengths by default) and ``max_cycles`` cycles; ``value`` is the mean MPI over
    the enumerated violating cycles, as reported by Echenique et al.; ``detail``
    adds the median, min, max and count. ``exact`` is False when a limit cut the
    enumeration short. The enumeration is exponential in the worst case:
    use it for small T or with ``max_length``.

    Example
    -------
    >>> p = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]; x = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
    >>> round(money_pump_index(p, x).value, 6)  # (3 + 1 + 11) / (134 + 77 + 73)
    0.052817
    """
    p, x = check_budget_data(prices, quantities)
    max_cycles = check_positive_int(max_cycles, "max_cycles")
    if max_length is not None:
        max_length = check_positive_int(max_length, "max_length", 2)
    values: list[float] = []
    truncated = False
    for comp in _cyclic_components(p, x):
        if max_length is not None and max_length < comp.size:
            truncated = True
        E = p[comp] @ x[comp].T
        d = np.diag(E)
        weak = ((1 + RTOL) * d)[:, None] >= E
        strict = ((1 - RTOL) * d)[:, None] > E
        np.fill_diagonal(weak, False)
        succ = [np.flatnonzero(weak[i]) for i in range(comp.size)]
        for start in range(comp.size):
            # Depth-first search for simple cycles whose smallest node is `start`.
            stack = [(start, iter(succ[start][succ[start] > start]))]
            path = [start]
            on_path = {start}
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    stack.pop()
                    on_path.discard(path.pop())
                    continue
                nxt = int(nxt)
                if max_length is not None and len(path) >= max_length:
                    continue
                if nxt in on_path:
                    continue
                path.append(nxt)
                on_path.add(nxt)
                if weak[nxt, start]:
                    cyc = np.array(path)
                    nxt_of = np.roll(cyc, -1)
                    if strict[cyc, nxt_of].any():
                        values.append(float((d[cyc] - E[cyc, nxt_of]).sum() / d[cyc].sum()))
                        if len(values) >= max_cycles:
                            truncated = True
                            break
                stack.append((nxt, iter(succ[nxt][succ[nxt] > start])))
            if len(values) >= max_cycles:
                break
        if len(values) >= max_cycles:
            break
    v = np.asarray(values)
    if v.size == 0:
        return IndexResult(name="Money Pump Index", value=0.0, detail={"n_cycles": 0}, exact=not truncated)
    return IndexResult(
        name="Money Pump Index",
        value=float(v.mean()),
        detail={"n_cycles": int(v.size), "median": float(np.median(v)), "min": float(v.min()),
                "max": float(v.max()), "max_length": max_length},
        exact=not truncated,
    )
