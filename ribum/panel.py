"""Revealed preference for panels: many small budget data sets at once.

:func:`analyze` takes many subjects (a long DataFrame, stacked arrays or a list
of data sets of different lengths) and returns one row per subject. GARP and the
CCEI are computed for all subjects of equal T together, with no Python loop over
subjects:

* GARP_e. With E[n, t, s] = p_nt . x_ns (one matrix product per data set),
  R0_e and P0_e are the boolean stacks e E[t, t] >= E[t, s] (strictly >) with
  the relative tolerance of :mod:`ribum.budget`. R0_e is formed for all data
  sets in cache-sized sub-blocks (E is not kept); E and P0_e are formed again
  only for the data sets with cycles. A pair s P0_e t with t R*_e s
  lies in one strongly connected component, so only nodes on cycles matter.
  These are found for all subjects at once (:func:`ribum._graph.cycle_nodes_stack`):
  bit-packed trimming deletes, level by level, nodes without a live in- or
  out-arc (near-rational data sets vanish entirely), and the survivors' induced
  graphs, compacted, get a bit-packed Warshall closure (T <= 64: the closure
  directly). Then

      n_violations = #{(s, t) : s P0_e t and t R*_e s},

  the count reported by :func:`ribum.garp`, is a popcount of the closure of the
  on-cycle nodes ANDed with the strict relation. When only the verdict is asked
  for, a strict two-cycle (t P0_e s and s R0_e t) already settles it, so noisy
  data sets skip the closure.
* CCEI. For every subject whose R0_1 graph has a cycle, the bottleneck cycle

      b = min over cycles C of max over arcs (t, s) in C of E[t, s] / E[t, t]

  is bounded by the best two-cycle hi; the graph {R < hi} goes through the
  same cycle search, and only the nodes on its cycles get the (min, max)
  Floyd-Warshall recursion D <- min(D, max(D[:, k], D[k, :])) over stacked
  ratio matrices; only min and max of the ratios themselves are taken, so b is
  one of them, bit for bit, and CCEI = min(1, b) (1 when b >= 1 - 1e-12),
  exactly as :func:`ribum.ccei`.

Both are exact and equal the per-subject :func:`ribum.garp` / :func:`ribum.ccei`.
The slower indices (Houtman-Maks, Varian, Money Pump) call the per-subject
functions; Bronars' power simulates all ``n_sim`` data sets of one subject as
one batch through the same vectorized GARP test.

Predictive success (Beatty & Crawford 2011, "How demanding is the revealed
preference approach to demand?", AER 101(6)) is Selten's (1991) measure
m = r - a: the pass rate r of the data minus the relative area a of the
outcomes the theory allows, a = 1 - Bronars power. Per subject, r is 1 if the
data satisfy GARP and 0 otherwise, so m = pass - (1 - power) = power - (1 - pass)
lies in [-1, 1]; the panel mean of m is Beatty & Crawford's aggregate measure.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from llmsl_core import check_n_jobs, check_random_state

from ._graph import closure_bits as _closure
from ._graph import compact_groups, cycle_nodes_stack, popcount_sum
from ._graph import pack_rows as _pack_rows
from ._validation import _as_float_array, as_real_array, check_efficiency, check_positive_int, scale_budget_data
from .budget import RTOL

__all__ = ["analyze", "panel_garp_ccei", "METRICS"]

#: Metric names accepted by :func:`analyze` (``"varian"`` and ``"money_pump"``
#: are accepted as aliases of ``("varian_mean", "varian_min")`` and ``"money_pump_mean"``).
METRICS = ("garp", "n_violations", "ccei", "houtman_maks", "varian_mean", "varian_min", "money_pump_mean",
           "bronars_power", "predictive_success")
_ALIASES = {"varian": ("varian_mean", "varian_min"), "money_pump": ("money_pump_mean",),
            "power": ("bronars_power",)}
#: Float elements of one (chunk, T, T) block: 2^22 doubles = 32 MiB.
_BLOCK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------- batched kernels

#: Panels with fewer pairs N T^2 than this run in one thread.
_PARALLEL_ELEMENTS = 1 << 20
#: Float elements of one cache-sized sub-block (the two-cycle passes): 2^17 doubles = 1 MiB.
_CACHE_ELEMENTS = 1 << 17


def _bottleneck(R: np.ndarray) -> np.ndarray:
    """min over cycles of the max arc value, for each of a stack (N, T, T) (diagonal must be +inf)."""
    D = R
    T = D.shape[1]
    tmp = np.empty_like(D)
    for k in range(T):
        np.maximum(D[:, :, k, None], D[:, None, k, :], out=tmp)
        np.minimum(D, tmp, out=D)
    idx = np.arange(T)
    return D[:, idx, idx].min(axis=1)


def _sub_blocks(n: int, T: int):
    step = max(1, _CACHE_ELEMENTS // (T * T))
    for i in range(0, n, step):
        yield slice(i, min(i + step, n))


def _expenditures(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """E[n, t, s] = p_nt . x_ns for stacks (n, T, G): one matrix product per data set."""
    return np.matmul(p, x.transpose(0, 2, 1))


def _weak_relation(p: np.ndarray, x: np.ndarray, e: float, rtol: float):
    """The relation t R0_e s of each data set, as booleans and bit-packed, and d = diag E.

    Returns W (n, T, T) with W[n, t, s] = E[n, t, s] <= (e + rtol) E[n, t, t]
    (diagonal False), the same rows packed as :func:`ribum._graph.pack_rows` lays
    them out (what :func:`ribum._graph.cycle_nodes_stack` searches), and d (n, T).
    E is formed in cache-sized sub-blocks into one reused buffer, compared and
    packed at once, so the (n, T, T) floats never go through main memory: on
    1,000 x 100 x 5 this took 13 ms against 30 ms for forming E whole and then
    comparing. The sub-blocks make the same per-data-set matrix products as
    :func:`_expenditures`, so E, and every relation drawn from it, is the same
    bit for bit.
    """
    n, T, _ = p.shape
    d = np.einsum("ntg,ntg->nt", p, x)
    thr = ((e + rtol) * d)[:, :, None]
    W = np.empty((n, T, T), dtype=bool)
    nw = (T + 63) // 64
    bits = np.zeros((n, T, nw * 8), dtype=np.uint8)
    buf = np.empty((min(n, max(1, _CACHE_ELEMENTS // (T * T))), T, T))
    idx = np.arange(T)
    for sl in _sub_blocks(n, T):
        b = buf[: sl.stop - sl.start]
        np.matmul(p[sl], x[sl].transpose(0, 2, 1), out=b)
        w = W[sl]
        np.greater_equal(thr[sl], b, out=w)
        w[:, idx, idx] = False
        bits[sl, :, : (T + 7) // 8] = np.packbits(w, axis=2, bitorder="little")
    return W, np.ascontiguousarray(bits.view("<u8").transpose(2, 0, 1)), d


def _garp_ccei_block(p: np.ndarray, x: np.ndarray, e: float, want_ccei: bool, rtol: float = RTOL,
                     want_nv: bool = True):
    """GARP_e verdicts, violation counts (or None) and CCEI (or None) for scaled stacks (n, T, G).

    Only the relation W is kept for every data set; the expenditures E are formed
    again, by the same products, for the data sets that have cycles (near-rational
    panels have few).
    """
    n, T, _ = p.shape
    W, packed, d = _weak_relation(p, x, e, rtol)
    passed = np.ones(n, dtype=bool)
    viol = None
    if want_nv:
        on = cycle_nodes_stack(W, packed=packed)
        cyc = np.flatnonzero(on.any(axis=1))
        viol = np.zeros(n, dtype=np.int64)
        viol[cyc] = _violations(_expenditures(p[cyc], x[cyc]), d[cyc], W[cyc], on[cyc], e, rtol)
        passed = viol == 0
    else:
        # A strict two-cycle (t P0_e s and s R0_e t) violates GARP_e, and needs no
        # cycle search. Searched first where the first sub-block shows many
        # (noisy data), else only among the data sets found to have cycles.
        first = next(_sub_blocks(n, T))
        wit = np.zeros(n, dtype=bool)
        if 2 * np.count_nonzero(_two_cycle_violation(p[first], x[first], d[first], W[first], e, rtol)) > first.stop:
            wit = _two_cycle_violation(p, x, d, W, e, rtol)
        rest = np.flatnonzero(~wit)
        on = (cycle_nodes_stack(W, packed=packed) if rest.size == n
              else cycle_nodes_stack(W[rest], packed=np.ascontiguousarray(packed[:, rest])))
        sel = np.flatnonzero(on.any(axis=1))
        cand = rest[sel]
        E_cand = _expenditures(p[cand], x[cand])  # formed once for both checks below
        w2 = _two_cycle_violation(p[cand], x[cand], d[cand], W[cand], e, rtol, E=E_cand)
        wit[cand[w2]] = True
        need = cand[~w2]
        bad = _violations(E_cand[~w2], d[need], W[need], on[sel[~w2]], e, rtol) > 0
        passed[wit] = False
        passed[need] = ~bad
        cyc = np.union1d(np.flatnonzero(wit), cand)
    cc = None
    if want_ccei:
        cc = np.ones(n)
        if e != 1.0:
            W1, packed1, _ = _weak_relation(p, x, 1.0, rtol)
            cyc = np.flatnonzero(cycle_nodes_stack(W1, packed=packed1).any(axis=1))
        if cyc.size:
            cc[cyc] = _ccei_cyclic(_expenditures(p[cyc], x[cyc]), d[cyc])
    return passed, viol, cc


def _two_cycle_violation(p, x, d, W, e, rtol, E=None) -> np.ndarray:
    """(n,) bool: some pair has t P0_e s and s R0_e t (a GARP_e violation), in cache-sized sub-blocks.

    E (n, T, T), when the caller has it, is used instead of forming it again.
    """
    n, T, _ = p.shape
    out = np.zeros(n, dtype=bool)
    for sl in _sub_blocks(n, T):
        S = (_expenditures(p[sl], x[sl]) if E is None else E[sl]) < ((e - rtol) * d[sl])[:, :, None]
        S &= W[sl].transpose(0, 2, 1)
        out[sl] = S.any(axis=(1, 2))
    return out


def _violations(E, d, W, on, e, rtol) -> np.ndarray:
    """n_violations = #{(s, t) : s P0_e t and t R*_e s} of data sets (n, T, T) with on-cycle nodes ``on``.

    Such a pair lies in one strongly connected component, so only on-cycle nodes
    matter and the closure of the subgraph they induce decides it: its rows are
    ANDed with the strict relation (transposed) and popcounted.
    """
    viol = np.zeros(E.shape[0], dtype=np.int64)
    for grp, nodes, valid in compact_groups(on, _BLOCK_ELEMENTS):
        g = grp[:, None, None]
        r, c = nodes[:, :, None], nodes[:, None, :]
        pair = valid[:, :, None] & valid[:, None, :]
        B = _closure(W[g, r, c] & pair)
        # ST[t, s] = (s P0_e t): E[s, t] < (e - rtol) E[s, s]
        ST = (E[g, c, r] < ((e - rtol) * d[g, c])) & pair
        viol[grp] = popcount_sum(B & _pack_rows(ST), axis=(0, 2))
    return viol


def _ccei_cyclic(E: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Exact CCEI of data sets (n, T, T) whose R0_1 graph has a cycle.

    The ratio matrix R = E / d (+inf on the diagonal) is cut at the best
    two-cycle hi = min(1, min_{t != s} max(R_ts, R_st)), an upper bound of the
    bottleneck b attained by a cycle. If {R < hi} is acyclic, b = hi. Otherwise
    the bottleneck cycle lies among the nodes on cycles of {R < hi} (usually a
    handful): those are compacted, padded with +inf, and solved by the (min, max)
    Floyd-Warshall recursion in groups of similar size. hi and {R < hi} are
    formed in cache-sized sub-blocks; R itself is never stored.
    """
    n, T, _ = E.shape
    idx = np.arange(T)
    hi = np.empty(n)
    below = np.empty((n, T, T), dtype=bool)
    for sl in _sub_blocks(n, T):
        R = E[sl] / d[sl][:, :, None]
        R[:, idx, idx] = np.inf
        h = np.minimum(np.maximum(R, R.transpose(0, 2, 1)).min(axis=(1, 2)), 1.0)
        hi[sl] = h
        np.greater(h[:, None, None], R, out=below[sl])
    b = hi.copy()
    on = cycle_nodes_stack(below)
    for grp, nodes, valid in compact_groups(on, _BLOCK_ELEMENTS):
        g = grp[:, None, None]
        r, c = nodes[:, :, None], nodes[:, None, :]
        sub = E[g, r, c] / d[g, r]
        keep = valid[:, :, None] & valid[:, None, :] & (sub < hi[grp][:, None, None])
        keep[:, np.arange(nodes.shape[1]), np.arange(nodes.shape[1])] = False
        sub[~keep] = np.inf
        b[grp] = _bottleneck(sub)
    return np.where(b >= 1.0 - RTOL, 1.0, b)


def _chunks(n: int, T: int, chunk_size: int, n_jobs: int = 1):
    """Slices of at most ``chunk_size`` data sets and about 32 MiB of floats each; with ``n_jobs`` > 1, a
    multiple of ``n_jobs`` slices of equal size (when there are enough data sets to go round)."""
    step = max(1, min(chunk_size, _BLOCK_ELEMENTS // (T * T)))
    if n_jobs > 1:
        k = -(-n // step)
        k = min(n, -(-k // n_jobs) * n_jobs)
        step = -(-n // k)
    for i in range(0, n, step):
        yield slice(i, min(i + step, n))


def panel_garp_ccei(prices, quantities, efficiency: float = 1.0, *, ccei: bool = True, violations: bool = True,
                    chunk_size: int = 4096, n_jobs: int | None = 1):
    """GARP_e and CCEI for a stack of N data sets of equal length, vectorized over data sets.

    Parameters
    ----------
    prices, quantities : (N, T, G) arrays
    efficiency : float in (0, 1]
    ccei : bool
        Also compute the CCEI (else the third output is None).
    violations : bool
        Also count the violations n = #{(s, t) : s P0_e t and t R*_e s} (else the
        second output is None; the verdict alone needs no count where a strict
        two-cycle already violates GARP_e).
    chunk_size : int
        At most this many data sets per block (blocks also stay under 32 MiB of floats).
    n_jobs : int or None
        Threads that process blocks side by side (numpy releases the GIL in its
        kernels); 1 (default) runs them in turn, None uses the available cores
        (at most 8; small panels always run in turn). Results do not depend on
        it. On a loaded machine one thread was measured as fast or faster.

    Returns
    -------
    passed : (N,) bool, n_violations : (N,) int or None, ccei : (N,) float or None

    Example
    -------
    >>> p = [[[10, 7, 3], [8, 1, 1], [5, 1, 4]]]; x = [[[9, 5, 3], [8, 3, 10], [8, 5, 7]]]
    >>> ok, nv, cc = panel_garp_ccei(p, x)
    >>> bool(ok[0]), int(nv[0]), bool(cc[0] == 76 / 77)
    (False, 3, True)
    """
    p, x = _check_stack(prices, quantities, labels=None)
    e = check_efficiency(efficiency)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    n_jobs = check_n_jobs(n_jobs)
    return _panel_garp_ccei(p, x, e, bool(ccei), chunk_size, want_nv=bool(violations), n_jobs=n_jobs)


def _panel_garp_ccei(p, x, e, want_ccei, chunk_size, want_nv=True, n_jobs=1):
    N, T, _ = p.shape
    passed = np.empty(N, dtype=bool)
    nv = np.empty(N, dtype=np.int64) if want_nv else None
    cc = np.ones(N) if want_ccei else None

    def work(sl):
        ps, xs = scale_budget_data(p[sl], x[sl])
        ok, v, c = _garp_ccei_block(ps, xs, e, want_ccei, want_nv=want_nv)
        passed[sl] = ok
        if nv is not None and v is not None:
            nv[sl] = v
        if cc is not None and c is not None:
            cc[sl] = c

    if N * T * T < _PARALLEL_ELEMENTS:
        n_jobs = 1
    slices = list(_chunks(N, T, chunk_size, n_jobs))
    if n_jobs > 1 and len(slices) > 1:
        # numpy releases the GIL in its kernels: blocks run side by side on the cores.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(n_jobs, len(slices))) as pool:
            for _ in pool.map(work, slices):
                pass
    else:
        for sl in slices:
            work(sl)
    if want_ccei and T == 1 and cc is not None:
        cc[:] = 1.0
    return passed, nv, cc


# ----------------------------------------------------------------------------- input


def _check_stack(prices, quantities, labels) -> tuple[np.ndarray, np.ndarray]:
    """Validate stacked budget data (N, T, G) like :func:`ribum._validation.check_budget_data`."""
    def who(n: int, t: int) -> str:
        lab = n if labels is None else labels[n]
        return f"subject {lab!r}, observation {t}"

    arrays = []
    for value, name in ((prices, "prices"), (quantities, "quantities")):
        a = as_real_array(value, name).astype(np.float64, copy=False)
        if a.ndim != 3 or a.size == 0:
            raise ValueError(f"{name} must be a non-empty 3-D array (N, T, G), got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            n, t, _ = (int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise ValueError(f"{name} contains NaN or infinite values ({who(n, t)})")
        arrays.append(a)
    p, x = arrays
    if p.shape != x.shape:
        raise ValueError(f"prices and quantities must have the same shape (N, T, G); got {p.shape} and {x.shape}")

    if np.any(p <= 0):
        n, t, _ = (int(i) for i in np.argwhere(p <= 0)[0])
        raise ValueError(f"prices must be strictly positive ({who(n, t)} has a price <= 0)")
    if np.any(x < 0):
        n, t, _ = (int(i) for i in np.argwhere(x < 0)[0])
        raise ValueError(f"quantities must be non-negative ({who(n, t)} has a negative quantity)")
    if x.min() == 0:  # only a zero entry can make an all-zero bundle
        zero = ~np.any(x > 0, axis=2)
        if np.any(zero):
            n, t = (int(i) for i in np.argwhere(zero)[0])
            raise ValueError(f"quantities: {who(n, t)} has an all-zero bundle (zero expenditure); "
                             "revealed preference is undefined for it")
    return np.ascontiguousarray(p), np.ascontiguousarray(x)


def _columns(value, name: str) -> list:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and len(value) > 0:
        return list(value)
    raise ValueError(f"{name} must be a column name or a non-empty list of column names, got {value!r}")


def _groups_from_frame(df, subject, prices, quantities):
    """(labels, [(subject positions, p (n, T, G), x)]) from a long DataFrame, one row per observation."""
    import pandas as pd

    if subject is None or prices is None or quantities is None:
        raise ValueError("with a DataFrame, subject=, prices= and quantities= must name its columns")
    pc = _columns(prices, "prices")
    qc = _columns(quantities, "quantities")
    if len(pc) != len(qc):
        raise ValueError(f"prices and quantities must name the same number of goods, got {len(pc)} and {len(qc)}")
    missing = [c for c in [subject, *pc, *qc] if c not in df.columns]
    if missing:
        raise ValueError(f"data has no column(s) {missing}; columns are {list(df.columns)}")
    if len(df) == 0:
        raise ValueError("data is an empty DataFrame")
    if df[subject].isna().any():
        raise ValueError(f"subject column {subject!r} has missing values")
    codes, uniques = pd.factorize(df[subject], sort=False)
    P = _as_float_array(_frame_values(df, pc, "prices"), "prices", 2)
    X = _as_float_array(_frame_values(df, qc, "quantities"), "quantities", 2)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(uniques))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    Ps, Xs = P[order], X[order]
    labels = list(uniques)
    groups = []
    for T in np.unique(counts):
        sid = np.flatnonzero(counts == T)
        rows = starts[sid][:, None] + np.arange(T)[None, :]
        groups.append((sid, Ps[rows], Xs[rows]))
    return labels, groups, uniques.name if hasattr(uniques, "name") and uniques.name else subject


def _frame_values(df, cols, name):
    sub = df[cols]
    kinds = {c: sub[c].dtype.kind for c in cols}
    bad = [c for c, k in kinds.items() if k not in "biuf"]
    if bad:
        raise ValueError(f"{name} column(s) {bad} are not numeric (dtypes {[str(sub[c].dtype) for c in bad]})")
    return sub.to_numpy(dtype=np.float64)


def _groups_from_list(data):
    """Data sets of possibly different lengths, grouped by T (validated per group in :func:`_check_stack`)."""
    by_shape: dict[tuple[int, ...], list[int]] = {}
    arrs = []
    for i, item in enumerate(data):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ValueError(f"data[{i}] must be a (prices, quantities) pair")
        p, x = as_real_array(item[0], f"prices of data[{i}]"), as_real_array(item[1], f"quantities of data[{i}]")
        if p.ndim != 2 or p.size == 0:
            raise ValueError(f"prices of data[{i}] must be a non-empty 2-D array (T, G), got shape {p.shape}")
        if p.shape != x.shape:
            raise ValueError(f"data[{i}]: prices and quantities must have the same shape (T, G); "
                             f"got {p.shape} and {x.shape}")
        arrs.append((p, x))
        by_shape.setdefault(p.shape, []).append(i)
    if not arrs:
        raise ValueError("data is an empty list")
    groups = []
    for _, ids in sorted(by_shape.items()):
        sid = np.asarray(ids)
        groups.append((sid, np.stack([arrs[i][0] for i in ids]), np.stack([arrs[i][1] for i in ids])))
    return list(range(len(arrs))), groups


def _panel_input(data, subject, prices, quantities):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return _groups_from_frame(data, subject, prices, quantities)
    if subject is not None or prices is not None or quantities is not None:
        raise ValueError("subject=, prices= and quantities= name DataFrame columns; data is not a DataFrame")
    if (isinstance(data, tuple) and len(data) == 2 and all(isinstance(a, np.ndarray) for a in data)
            and data[0].ndim == 3):
        N = data[0].shape[0]
        return list(range(N)), [(np.arange(N), data[0], data[1])], "subject"
    if isinstance(data, (tuple, list)):
        labels, groups = _groups_from_list(data)
        return labels, groups, "subject"
    raise ValueError("data must be a long pandas DataFrame, a (prices, quantities) pair of (N, T, G) arrays, "
                     f"or a list of (prices, quantities) pairs; got {type(data).__name__}")


def _check_metrics(metrics) -> list[str]:
    if isinstance(metrics, str):
        metrics = [metrics]
    try:
        names = list(metrics)
    except TypeError:
        raise ValueError(f"metrics must be a list of names from {METRICS}, got {metrics!r}") from None
    out: list[str] = []
    for m in names:
        if not isinstance(m, str) or (m not in METRICS and m not in _ALIASES):
            raise ValueError(f"unknown metric {m!r}; choose from {METRICS} (aliases {tuple(_ALIASES)})")
        for name in _ALIASES.get(m, (m,)):
            if name not in out:
                out.append(name)
    if not out:
        raise ValueError("metrics is empty")
    return out


# ----------------------------------------------------------------------------- public


def analyze(data, *, subject=None, prices=None, quantities=None, metrics=("garp", "ccei"), n_sim: int = 1000,
            seed=None, chunk_size: int = 4096, efficiency: float = 1.0, n_jobs: int | None = 1):
    """Revealed-preference metrics for many subjects; one row per subject.

    Parameters
    ----------
    data : pandas.DataFrame, tuple (P, X) of (N, T, G) numpy arrays, or list of (p, x) pairs
        A long DataFrame has one row per observation; ``subject`` names the
        subject column and ``prices`` / ``quantities`` the G price and G
        quantity columns (rows of a subject in their order of appearance). A
        list holds one (T_i, G) data set per subject, lengths may differ.
    metrics : sequence of str
        Any of ``garp`` (GARP_e passed), ``n_violations`` (pairs (s, t) with
        s P0_e t and t R*_e s), ``ccei``, ``houtman_maks`` (kept share),
        ``varian_mean``, ``varian_min``, ``money_pump_mean``, ``bronars_power``
        and ``predictive_success`` (below); ``varian`` and ``money_pump`` are
        aliases.
    n_sim : int
        Simulated random data sets per subject for Bronars' power.
    seed : int, numpy.random.Generator or None
        One generator is used for all subjects in row order.
    chunk_size : int
        At most this many subjects per vectorized block (memory bound).
    efficiency : float in (0, 1]
        Efficiency e of the GARP test (``garp``, ``n_violations``, power).
    n_jobs : int or None
        Threads for the blocks of the GARP / CCEI pass (default 1; None: the
        available cores, at most 8). Results do not depend on it.

    Predictive success (Beatty & Crawford 2011, AER 101(6), after Selten 1991):
    m = r - a with pass rate r and relative area a = 1 - power; per subject
    m = 1{GARP_e holds} - (1 - power), in [-1, 1]. The mean over subjects is
    the aggregate measure.

    Returns
    -------
    pandas.DataFrame
        Indexed by subject, a column ``n_observations`` and one column per metric.

    Example
    -------
    >>> import numpy as np
    >>> p = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]; x = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
    >>> df = analyze([(p, x), (np.ones((2, 3)), np.eye(3)[:2])], metrics=["garp", "n_violations", "ccei"])
    >>> df["garp"].tolist(), df["n_violations"].tolist(), bool(df["ccei"].iloc[0] == 76 / 77)
    ([False, True], [3, 0], True)
    """
    import pandas as pd

    names = _check_metrics(metrics)
    n_sim = check_positive_int(n_sim, "n_sim")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    n_jobs = check_n_jobs(n_jobs)
    e = check_efficiency(efficiency)
    rng = check_random_state(seed)
    labels, groups, index_name = _panel_input(data, subject, prices, quantities)
    n = len(labels)
    cols: dict[str, np.ndarray] = {"n_observations": np.zeros(n, dtype=np.int64)}
    need_garp = any(m in names for m in ("garp", "n_violations", "predictive_success"))
    need_ccei = "ccei" in names
    slow = [m for m in names if m in ("houtman_maks", "varian_mean", "varian_min", "money_pump_mean")]
    need_power = any(m in names for m in ("bronars_power", "predictive_success"))
    passed = np.zeros(n, dtype=bool)
    nv = np.zeros(n, dtype=np.int64)
    cc = np.ones(n)
    power = np.zeros(n)
    slow_vals = {m: np.zeros(n) for m in slow}
    checked = []
    for sid, P, X in groups:
        p, x = _check_stack(P, X, labels=[labels[i] for i in sid])
        checked.append((sid, p, x))
        cols["n_observations"][sid] = p.shape[1]
    for sid, p, x in checked:
        if need_garp or need_ccei:
            ok, v, c = _panel_garp_ccei(p, x, e, need_ccei, chunk_size, want_nv="n_violations" in names,
                                       n_jobs=n_jobs)
            passed[sid] = ok
            if v is not None:
                nv[sid] = v
            if c is not None:
                cc[sid] = c
        if slow:
            _slow_metrics(p, x, sid, slow, slow_vals)
    if need_power:
        # Row order of subjects, so that one generator gives reproducible draws.
        where = {}
        for sid, p, x in checked:
            for j, i in enumerate(sid):
                where[int(i)] = (p, x, j)
        for i in range(n):
            p, x, j = where[i]
            power[i] = _power(p[j], x[j], n_sim, e, rng, chunk_size)
    out = {"n_observations": cols["n_observations"]}
    for m in names:
        if m == "garp":
            out[m] = passed
        elif m == "n_violations":
            out[m] = nv
        elif m == "ccei":
            out[m] = cc
        elif m == "bronars_power":
            out[m] = power
        elif m == "predictive_success":
            out[m] = passed.astype(float) - (1.0 - power)
        else:
            out[m] = slow_vals[m]
    return pd.DataFrame(out, index=pd.Index(labels, name=index_name))


def _slow_metrics(p, x, sid, slow, vals):
    from .indices import houtman_maks, money_pump_index, varian_index

    for j, i in enumerate(sid):
        for m in slow:
            if m == "houtman_maks":
                vals[m][i] = houtman_maks(p[j], x[j]).value
            elif m == "varian_mean":
                vals[m][i] = varian_index(p[j], x[j], aggregate="mean").value
            elif m == "varian_min":
                vals[m][i] = varian_index(p[j], x[j], aggregate="min").value
            else:
                vals[m][i] = money_pump_index(p[j], x[j]).value


def _power(p, x, n_sim, e, rng, chunk_size) -> float:
    """Bronars' power of one data set: the draws of :func:`ribum.bronars_power`, tested in one batch."""
    p, x = scale_budget_data(p, x)
    T, G = p.shape
    m = np.einsum("tg,tg->t", p, x)
    w = rng.dirichlet(np.ones(G), size=(n_sim, T))
    xs = w * (m[:, None] / p)[None]
    ps = np.broadcast_to(p, xs.shape)
    bad = 0
    for sl in _chunks(n_sim, T, chunk_size):
        pp, xx = scale_budget_data(np.ascontiguousarray(ps[sl]), xs[sl])
        ok, _, _ = _garp_ccei_block(pp, xx, e, False, want_nv=False)
        bad += int(np.count_nonzero(~ok))
    return bad / n_sim
