"""Revealed preference for panels: many small budget data sets at once.

:func:`analyze` takes many subjects (a long DataFrame, stacked arrays or a list
of data sets of different lengths) and returns one row per subject. GARP and the
CCEI are computed for all subjects of equal T together, with no Python loop over
subjects:

* GARP_e. With E[n, t, s] = p_nt . x_ns (one batched matrix product per chunk),
  R0_e and P0_e are the boolean stacks e E[t, t] >= E[t, s] (strictly >) with
  the relative tolerance of :mod:`ribum.budget`. The transitive closure R*_e of
  every subject is computed at once by Warshall's algorithm on bit-packed rows
  (T steps, each a few operations on an (N, T, ceil(T / 64)) uint64 array), and

      n_violations = #{(s, t) : s P0_e t and t R*_e s},

  the count reported by :func:`ribum.garp` (since s P0_e t implies s R0_e t,
  such a pair lies in one strongly connected component).
* CCEI. For every subject whose R0_1 graph has a cycle, the bottleneck cycle

      b = min over cycles C of max over arcs (t, s) in C of E[t, s] / E[t, t]

  is found by the (min, max) Floyd-Warshall recursion
  D <- min(D, max(D[:, k], D[k, :])) over stacked ratio matrices; only min and
  max of the ratios themselves are taken, so b is one of them, bit for bit, and
  CCEI = min(1, b) (1 when b >= 1 - 1e-12), exactly as :func:`ribum.ccei`.

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

from llmsl_core import check_random_state

from ._graph import closure_bits as _closure
from ._graph import diagonal_bits as _diagonal
from ._graph import pack_rows as _pack_rows
from ._graph import popcount_sum
from ._validation import _as_float_array, check_efficiency, check_positive_int, scale_budget_data
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


def _garp_ccei_block(p: np.ndarray, x: np.ndarray, e: float, want_ccei: bool, rtol: float = RTOL):
    """GARP_e verdicts, violation counts and (optionally) CCEI for scaled stacks (n, T, G)."""
    n, T, _ = p.shape
    E = np.matmul(p, x.transpose(0, 2, 1))
    d = np.einsum("ntg,ntg->nt", p, x)
    W = ((e + rtol) * d)[:, :, None] >= E
    idx = np.arange(T)
    W[:, idx, idx] = False
    B = _closure(W)
    # A violation needs a cycle: only data sets with a node on a cycle are counted.
    on = np.flatnonzero(_diagonal(B).any(axis=1))
    viol = np.zeros(n, dtype=np.int64)
    if on.size:
        # n_violations = #{(s, t): s P0 t and t R* s}: row t of R* AND row t of P0^T, popcounted;
        # ST[n, t, s] = (s P0_e t) is the strict relation, transposed.
        ST = np.less(E[on].transpose(0, 2, 1), ((e - rtol) * d[on])[:, None, :], order="C")
        viol[on] = popcount_sum(B[:, on] & _pack_rows(ST), axis=(0, 2))
    cc = None
    if want_ccei:
        cc = np.ones(n)
        cyc = on if e == 1.0 else np.flatnonzero(_diagonal(_closure(_relation1(E, d, rtol))).any(axis=1))
        if cyc.size:
            cc[cyc] = _ccei_cyclic(E[cyc], d[cyc])
    return viol == 0, viol, cc


def _ccei_cyclic(E: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Exact CCEI of data sets (n, T, T) whose R0_1 graph has a cycle.

    The ratio matrix R = E / d (+inf on the diagonal) is cut at the best
    two-cycle hi = min(1, min_{t != s} max(R_ts, R_st)), an upper bound of the
    bottleneck b attained by a cycle. If {R < hi} is acyclic, b = hi. Otherwise
    the bottleneck cycle lies among the nodes on cycles of {R < hi} (usually a
    handful): those are compacted, padded with +inf, and solved by the (min, max)
    Floyd-Warshall recursion in groups of similar size.
    """
    n, T, _ = E.shape
    idx = np.arange(T)
    R = E / d[:, :, None]
    R[:, idx, idx] = np.inf
    hi = np.minimum(np.maximum(R, R.transpose(0, 2, 1)).min(axis=(1, 2)), 1.0)
    b = hi.copy()
    below = hi[:, None, None] > R
    on = _diagonal(_closure(below))
    rest = np.flatnonzero(on.any(axis=1))
    if rest.size:
        m = on[rest].sum(axis=1)
        order = np.argsort(m, kind="stable")
        rest, m = rest[order], m[order]
        i = 0
        while i < rest.size:
            # The largest group (m sorted ascending) whose padded block stays small.
            cap = m[i:].astype(np.int64) ** 2 * np.arange(1, rest.size - i + 1)
            j = i + max(1, int(np.searchsorted(cap, _BLOCK_ELEMENTS, side="right")))
            grp = rest[i:j]
            mx = int(m[j - 1])
            nodes = np.argsort(~on[grp], axis=1, kind="stable")[:, :mx]  # on-cycle nodes first
            valid = np.take_along_axis(on[grp], nodes, axis=1)
            sub = R[grp[:, None, None], nodes[:, :, None], nodes[:, None, :]]
            keep = valid[:, :, None] & valid[:, None, :] & (sub < hi[grp][:, None, None])
            sub[~keep] = np.inf
            b[grp] = _bottleneck(sub)
            i = j
    return np.where(b >= 1.0 - RTOL, 1.0, b)


def _relation1(E, d, rtol):
    W = ((1.0 + rtol) * d)[:, :, None] >= E
    idx = np.arange(E.shape[1])
    W[:, idx, idx] = False
    return W


def _chunks(n: int, T: int, chunk_size: int):
    step = max(1, min(chunk_size, _BLOCK_ELEMENTS // (T * T)))
    for i in range(0, n, step):
        yield slice(i, min(i + step, n))


def panel_garp_ccei(prices, quantities, efficiency: float = 1.0, *, ccei: bool = True, chunk_size: int = 4096):
    """GARP_e and CCEI for a stack of N data sets of equal length, vectorized over data sets.

    Parameters
    ----------
    prices, quantities : (N, T, G) arrays
    efficiency : float in (0, 1]
    ccei : bool
        Also compute the CCEI (else the third output is None).
    chunk_size : int
        At most this many data sets per block (blocks also stay under 32 MiB of floats).

    Returns
    -------
    passed : (N,) bool, n_violations : (N,) int, ccei : (N,) float or None

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
    return _panel_garp_ccei(p, x, e, ccei, chunk_size)


def _panel_garp_ccei(p, x, e, want_ccei, chunk_size):
    N, T, _ = p.shape
    passed = np.empty(N, dtype=bool)
    nv = np.empty(N, dtype=np.int64)
    cc = np.ones(N) if want_ccei else None
    for sl in _chunks(N, T, chunk_size):
        ps, xs = scale_budget_data(p[sl], x[sl])
        ok, v, c = _garp_ccei_block(ps, xs, e, want_ccei)
        passed[sl] = ok
        nv[sl] = v
        if want_ccei and cc is not None and c is not None:
            cc[sl] = c
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
        a = _as_numeric(value, name).astype(np.float64, copy=False)
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
        p, x = _as_numeric(item[0], f"prices of data[{i}]"), _as_numeric(item[1], f"quantities of data[{i}]")
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


def _as_numeric(a, name: str) -> np.ndarray:
    """A real numeric array, without copying (full checks follow on the stacked group)."""
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got a complex array (dtype {arr.dtype})")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    return arr


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
            seed=None, chunk_size: int = 4096, efficiency: float = 1.0):
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
            ok, v, c = _panel_garp_ccei(p, x, e, need_ccei, chunk_size)
            passed[sid] = ok
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
        ok, _, _ = _garp_ccei_block(pp, xx, e, False)
        bad += int(np.count_nonzero(~ok))
    return bad / n_sim
