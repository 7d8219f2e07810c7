"""Information cascades and herding: the cascade set, the probability of herding
on a wrong action, and the time until the herd forms.

The cascade set is ``{pi : P(a | y, pi) does not depend on y}`` (SPEC section 2).
For X = 2 it is a finite union of intervals of ``pi(0)`` whose end points are
computed exactly: the next agent's decision can only change where a private
posterior ``eta_y(0) = B[0,y] rho / (B[0,y] rho + B[1,y] (1 - rho))`` (with
``rho = (P' pi)(0)``, affine in ``pi(0)``) crosses a point where two expected
cost lines ``c_a' eta`` intersect. Inverting these maps gives finitely many
candidate end points; the membership is constant between consecutive candidates
and is evaluated there and at the candidates themselves (where the tie rule
decides). For X > 2, :class:`CascadeRegion` offers the exact membership test and
a picture on a regular simplex grid.

Herding statistics come either from simulation (``method="simulate"``, with
binomial standard errors) or, for a static state, exactly (``method="exact"``)
by propagating the probability mass of every reachable public belief of the
lattice (see :mod:`sociallearn.simulation`) forward agent by agent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from llmsl_core import check_random_state

from ._validation import positive_int, simplex_points
from .model import SocialLearningModel
from .simulation import _Lattice, simulate

__all__ = [
    "prior_family",
    "family_thresholds",
    "cascade_region",
    "CascadeRegion",
    "CascadeInterval",
    "herding_probability",
    "HerdingResult",
    "expected_cascade_time",
    "CascadeTimeResult",
    "cascade_distribution",
    "CascadeDistribution",
    "simplex_grid",
]


# ---------------------------------------------------------------------- cascade region
@dataclass(frozen=True)
class CascadeInterval:
    """A maximal interval of ``pi(0)`` (X = 2) inside the cascade set, with one herd action."""

    lo: float
    hi: float
    lo_closed: bool
    hi_closed: bool
    action: int

    def __contains__(self, value: float) -> bool:
        above = value >= self.lo if self.lo_closed else value > self.lo
        below = value <= self.hi if self.hi_closed else value < self.hi
        return bool(above and below)

    def __str__(self) -> str:
        return (f"{'[' if self.lo_closed else '('}{self.lo:.10g}, {self.hi:.10g}"
                f"{']' if self.hi_closed else ')'} -> action {self.action}")


def simplex_grid(n_states: int, resolution: int) -> np.ndarray:
    """All beliefs with coordinates in ``{0, 1/r, ..., 1}`` summing to one.

    Returns an array of shape (C(r + X - 1, X - 1), X).

    >>> simplex_grid(3, 2)
    array([[1. , 0. , 0. ],
           [0.5, 0.5, 0. ],
           [0.5, 0. , 0.5],
           [0. , 1. , 0. ],
           [0. , 0.5, 0.5],
           [0. , 0. , 1. ]])
    """
    n_states = positive_int(n_states, "n_states")
    resolution = positive_int(resolution, "resolution")
    # stars and bars: choose X-1 bar positions among r + X - 1 slots
    rows = []
    for bars in combinations(range(resolution + n_states - 1), n_states - 1):
        edges = (-1,) + bars + (resolution + n_states - 1,)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(n_states)])
    return np.array(rows, dtype=np.float64)[::-1] / resolution if n_states > 1 else np.ones((1, 1))


@dataclass
class CascadeRegion:
    """The cascade set of a model.

    Attributes
    ----------
    model : SocialLearningModel
    intervals : list of CascadeInterval or None
        For X = 2: the maximal intervals of ``pi(0)`` in the cascade set.
    thresholds : ndarray or None
        For X = 2: the interval end points strictly inside (0, 1) -- the public
        beliefs at which herding starts.
    grid : ndarray (m, X) or None
        For X > 2: a regular simplex grid of beliefs.
    grid_in_cascade, grid_action : ndarray (m,) or None
        Membership and herd action (-1 outside) on the grid.
    """

    model: SocialLearningModel
    intervals: list[CascadeInterval] | None = None
    thresholds: np.ndarray | None = None
    grid: np.ndarray | None = None
    grid_in_cascade: np.ndarray | None = None
    grid_action: np.ndarray | None = None

    def contains(self, pi) -> np.ndarray | bool:
        """Exact membership of belief(s) ``pi`` in the cascade set (``model.in_cascade``)."""
        return self.model.in_cascade(pi)

    @property
    def fraction(self) -> float:
        """Share of the belief space in the cascade set: the total interval length for
        X = 2, the share of grid points for X > 2."""
        if self.intervals is not None:
            return float(sum(iv.hi - iv.lo for iv in self.intervals))
        assert self.grid_in_cascade is not None  # X > 2: the grid fields are set
        return float(np.mean(self.grid_in_cascade))

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"n_states": self.model.n_states, "tie_rule": self.model.tie_rule,
                             "fraction": self.fraction}
        if self.intervals is not None:
            assert self.thresholds is not None  # X = 2: set with the intervals
            d["intervals"] = [{"lo": iv.lo, "hi": iv.hi, "lo_closed": iv.lo_closed, "hi_closed": iv.hi_closed,
                               "action": iv.action} for iv in self.intervals]
            d["thresholds"] = self.thresholds.tolist()
        else:
            assert self.grid is not None  # X > 2: the grid fields are set
            d["grid_size"] = int(self.grid.shape[0])
            d["grid_fraction_by_action"] = {int(a): float(np.mean(self.grid_action == a))
                                            for a in range(self.model.n_actions)}
        return d

    def summary(self) -> str:
        lines = ["Cascade region", "=" * 60, repr(self.model)]
        if self.intervals is not None:
            lines.append("cascade set in pi(0):")
            lines += [f"  {iv}" for iv in self.intervals] or ["  (empty)"]
            assert self.thresholds is not None  # X = 2: set with the intervals
            lines.append("herding thresholds: " + (", ".join(f"{t:.10g}" for t in self.thresholds) or "none"))
        else:
            assert self.grid is not None  # X > 2: the grid fields are set
            lines.append(f"simplex grid with {self.grid.shape[0]} beliefs: "
                         f"{100 * self.fraction:.2f}% in the cascade set")
            for a in range(self.model.n_actions):
                lines.append(f"  herd on action {a}: {100 * np.mean(self.grid_action == a):.2f}%")
        return "\n".join(lines)


def _binary_candidates(model: SocialLearningModel) -> np.ndarray:
    c, B, P = model.cost, model.likelihood, model.transition
    slope = c[0] - c[1]  # c_a' eta = c[1, a] + eta0 * slope[a]
    e_cand = []
    for a, b in combinations(range(model.n_actions), 2):
        den = slope[a] - slope[b]
        if den != 0:
            e_cand.append((c[1, b] - c[1, a]) / den)
    e_star = np.array([e for e in e_cand if 0.0 <= e <= 1.0])
    rho_list = [0.0, 1.0, *e_star]  # e* itself: rows acting on the prediction (impossible signals)
    for y in range(model.n_obs):
        b0, b1 = B[0, y], B[1, y]
        for e in e_star:
            den = e * b1 + (1.0 - e) * b0
            if den > 0:
                rho_list.append(e * b1 / den)
    rho = np.array(rho_list)
    lo_map = P[1, 0]
    s = P[0, 0] - P[1, 0]
    pis = np.array([0.0, 1.0]) if s == 0 else np.concatenate([(rho - lo_map) / s, [0.0, 1.0]])
    pis = pis[(pis >= 0.0) & (pis <= 1.0)]
    return np.unique(pis)


def cascade_region(model: SocialLearningModel, resolution: int | None = None) -> CascadeRegion:
    r"""The information cascade set ``{pi : P(a | y, pi) independent of y}``.

    For X = 2 the set is returned exactly as intervals of ``pi(0)`` with the
    herd action on each (end points exact up to the model's tie tolerance);
    for X > 2 the result holds the membership test ``contains`` and a picture on
    a simplex grid of ``resolution`` steps per axis (default: about 20,000 points).

    Parameters
    ----------
    model : SocialLearningModel
    resolution : int, optional
        Grid steps per simplex axis for X > 2.

    Returns
    -------
    CascadeRegion

    Examples
    --------
    Bikhchandani-Hirshleifer-Welch with precision 0.7 and the coin-flip tie
    rule: agents herd once the public belief passes 0.7 either way.

    >>> reg = cascade_region(SocialLearningModel.binary_symmetric(0.7))
    >>> [str(iv) for iv in reg.intervals]
    ['[0, 0.3) -> action 1', '(0.7, 1] -> action 0']
    """
    if not isinstance(model, SocialLearningModel):
        raise ValueError(f"model must be a SocialLearningModel, got {type(model).__name__}")
    X = model.n_states
    if X == 1:
        return CascadeRegion(model, intervals=[CascadeInterval(1.0, 1.0, True, True,
                                                               int(model.cascade_action([1.0])))],
                             thresholds=np.zeros(0))
    if X == 2:
        pts = _binary_candidates(model)
        mids = 0.5 * (pts[:-1] + pts[1:])
        vals = np.empty(pts.size + mids.size)
        vals[0::2], vals[1::2] = pts, mids
        is_pt = np.zeros(vals.size, dtype=bool)
        is_pt[0::2] = True
        beliefs = np.stack([vals, 1.0 - vals], axis=1)
        act = model.cascade_action(beliefs)
        intervals: list[CascadeInterval] = []
        i, n = 0, vals.size
        while i < n:
            if act[i] < 0:
                i += 1
                continue
            j = i
            while j + 1 < n and act[j + 1] == act[i]:
                j += 1
            lo = vals[i] if is_pt[i] else vals[i - 1]
            hi = vals[j] if is_pt[j] else vals[j + 1]
            intervals.append(CascadeInterval(float(lo), float(hi), bool(is_pt[i]), bool(is_pt[j]), int(act[i])))
            i = j + 1
        ends = np.unique([e for iv in intervals for e in (iv.lo, iv.hi)])
        return CascadeRegion(model, intervals=intervals, thresholds=ends[(ends > 0) & (ends < 1)])
    if resolution is None:
        resolution = 1
        from math import comb
        while comb(resolution + 1 + X - 1, X - 1) <= 20_000:
            resolution += 1
    grid = simplex_grid(X, resolution)
    act = model.cascade_action(grid)
    return CascadeRegion(model, grid=grid, grid_in_cascade=act >= 0, grid_action=act)


# ---------------------------------------------------------------------- exact propagation
@dataclass
class CascadeDistribution:
    """Exact law of the cascade for a static state (from :func:`cascade_distribution`).

    Attributes
    ----------
    prob : ndarray, shape (X, n_agents + 1, A)
        ``prob[x, t, a] = P(x_0 = x, cascade starts at time t on action a)``
        (joint with the state distribution used: the prior, or a point mass).
    state_probs : ndarray, shape (X,)
        The distribution of the state used.
    p_no_cascade : float
        Probability that no cascade started by ``n_agents``.
    n_lattice_states : int
    """

    model: SocialLearningModel
    prior: np.ndarray
    state_probs: np.ndarray
    prob: np.ndarray
    p_no_cascade: float
    n_lattice_states: int

    @property
    def p_wrong_cascade(self) -> float:
        ok = self.model.correct_actions()
        return float(np.sum(self.prob.sum(axis=1) * ~ok))

    @property
    def p_correct_cascade(self) -> float:
        ok = self.model.correct_actions()
        return float(np.sum(self.prob.sum(axis=1) * ok))

    @property
    def time_pmf(self) -> np.ndarray:
        """``P(T = t)`` for t = 0..n_agents (sums to ``1 - p_no_cascade``)."""
        return self.prob.sum(axis=(0, 2))

    @property
    def mean_cascade_time(self) -> float:
        """``E[T | T <= n_agents]``."""
        pmf = self.time_pmf
        return float(np.dot(np.arange(pmf.size), pmf) / pmf.sum()) if pmf.sum() > 0 else float("nan")


def cascade_distribution(model: SocialLearningModel, prior, n_agents: int = 1000, true_state=None,
                         tol: float = 1e-15, max_states: int = 2_000_000) -> CascadeDistribution:
    r"""Exact distribution of the cascade time and the herd action (static state).

    Propagates ``m_t(x, s) = P(x, public belief after t agents = s, no cascade
    yet)`` over the lattice of reachable beliefs: ``m_{t+1}(x, s') = sum_{s, a:
    T(s, a) = s'} m_t(x, s) P(a | x, s)``; mass entering the cascade set at time
    ``t`` on herd action ``a`` is recorded in ``prob[x, t, a]``. Stops after
    ``n_agents`` agents or when the mass still learning falls below ``tol``.

    >>> d = cascade_distribution(SocialLearningModel.binary_symmetric(0.7, "own_signal"), [0.5, 0.5], true_state=0)
    >>> round(d.p_correct_cascade, 12) == round(0.49 / 0.58, 12)
    True
    """
    if not isinstance(model, SocialLearningModel):
        raise ValueError(f"model must be a SocialLearningModel, got {type(model).__name__}")
    if not model.is_static:
        raise ValueError("the exact cascade distribution needs a static state (identity transition); "
                         "use method='simulate'")
    pi0, single = simplex_points(prior, "prior", model.n_states)
    if not single:
        raise ValueError(f"prior must be one belief of shape ({model.n_states},)")
    pi0 = pi0[0]
    n_agents = positive_int(n_agents, "n_agents", minimum=0)
    X, A = model.n_states, model.n_actions
    if true_state is None:
        w = pi0.copy()
    else:
        if not isinstance(true_state, (int, np.integer)) or not 0 <= true_state < X:
            raise ValueError(f"true_state must be an integer in 0..{X - 1}, got {true_state!r}")
        if pi0[true_state] <= 0:
            raise ValueError("true_state has prior probability zero")
        w = np.zeros(X)
        w[true_state] = 1.0
    lat = _Lattice(model, max_states)
    s0 = int(lat.lookup(pi0[None, :])[0])
    prob = np.zeros((X, n_agents + 1, A))
    if lat.cascade[s0]:
        prob[:, 0, lat.herd_action[s0]] = w
        return CascadeDistribution(model, pi0, w, prob, 0.0, lat.n)
    S = np.array([s0])
    M = w[None, :]  # (k, X)
    for t in range(n_agents):
        Pa = lat.Pa[S]  # (k, X, A)
        flow = M[:, :, None] * Pa  # (k, X, A)
        tot = flow.sum(axis=1)  # (k, A)
        ks, ka = np.nonzero(tot > 0)
        nxt = lat.successors(S[ks], ka)
        mass = flow[ks, :, ka]  # (m, X)
        casc = lat.cascade[nxt]
        if casc.any():
            np.add.at(prob[:, t + 1, :].T, lat.herd_action[nxt[casc]], mass[casc])
        keep = ~casc
        if not keep.any():
            S = S[:0]
            M = M[:0]
            break
        uniq, inv = np.unique(nxt[keep], return_inverse=True)
        Mn = np.zeros((uniq.size, X))
        np.add.at(Mn, inv, mass[keep])
        alive = Mn.sum(axis=1) > 0
        S, M = uniq[alive], Mn[alive]
        if M.sum() < tol:
            break
    return CascadeDistribution(model, pi0, w, prob, float(M.sum()), lat.n)


# ---------------------------------------------------------------------- herding statistics
@dataclass
class HerdingResult:
    """Probability of herding on a wrong action (one entry per prior).

    Attributes
    ----------
    priors : ndarray (m, X)
    p_wrong, se_wrong : ndarray (m,)
        Probability of a wrong cascade within the horizon and its standard error
        (binomial for simulation; 0 for the exact method).
    p_correct, se_correct, p_no_cascade : ndarray (m,)
    mean_cascade_time, se_cascade_time : ndarray (m,)
        Agents before the herd, over runs that cascaded within the horizon.
    method : str
    n_agents, n_runs : int
    """

    priors: np.ndarray
    p_wrong: np.ndarray
    se_wrong: np.ndarray
    p_correct: np.ndarray
    se_correct: np.ndarray
    p_no_cascade: np.ndarray
    mean_cascade_time: np.ndarray
    se_cascade_time: np.ndarray
    method: str
    n_agents: int
    n_runs: int | None
    true_state: int | None
    model: SocialLearningModel = field(repr=False)

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in
                {"priors": self.priors, "p_wrong": self.p_wrong, "se_wrong": self.se_wrong,
                 "p_correct": self.p_correct, "se_correct": self.se_correct,
                 "p_no_cascade": self.p_no_cascade, "mean_cascade_time": self.mean_cascade_time,
                 "se_cascade_time": self.se_cascade_time, "method": self.method, "n_agents": self.n_agents,
                 "n_runs": self.n_runs, "true_state": self.true_state,
                 "model": self.model.to_dict()}.items()}

    def summary(self) -> str:
        lines = ["Herding probability", "=" * 72, repr(self.model),
                 f"method: {self.method}   agents: {self.n_agents}" +
                 (f"   runs per prior: {self.n_runs}" if self.n_runs else "") +
                 f"   state: {'drawn from the prior' if self.true_state is None else self.true_state}",
                 "-" * 72, f"{'prior':>28} {'P(wrong)':>16} {'P(correct)':>11} {'P(none)':>8} {'E[T]':>8}"]
        for i in range(self.priors.shape[0]):
            pr = np.array2string(self.priors[i], precision=3, separator=",")
            lines.append(f"{pr:>28} {self.p_wrong[i]:8.4f}+/-{self.se_wrong[i]:.4f} {self.p_correct[i]:11.4f} "
                         f"{self.p_no_cascade[i]:8.4f} {self.mean_cascade_time[i]:8.3f}")
        return "\n".join(lines)


def herding_probability(model: SocialLearningModel, prior, n_agents: int = 200, n_runs: int = 20_000,
                        true_state: int | None = None, seed=None, observations=None,
                        method: str = "simulate") -> HerdingResult:
    r"""Probability that the chain herds on a wrong action.

    A cascade on action ``a`` is wrong when ``a`` is not a full-information
    optimal action ``argmin_b c[x, b]`` of the state ``x``. With
    ``method="simulate"`` the probability is the share of ``n_runs`` simulated
    chains, with the binomial standard error ``sqrt(p (1 - p) / n_runs)``; with
    ``method="exact"`` (static state, signals drawn from B) it is computed by
    :func:`cascade_distribution`.

    Parameters
    ----------
    model : SocialLearningModel
    prior : array_like, shape (X,) or (m, X)
        One or several initial public beliefs (a curve versus the prior).
    n_agents : int
        Horizon; chains without a cascade by then count in ``p_no_cascade``.
    n_runs : int
        Chains per prior (simulation).
    true_state : int, optional
        Condition on ``x_0 = true_state``; by default ``x_0 ~ prior``.
    seed, observations
        As in :func:`simulate`.
    method : {"simulate", "exact"}

    Returns
    -------
    HerdingResult

    Examples
    --------
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> r = herding_probability(m, [0.5, 0.5], true_state=0, method="exact")
    >>> round(float(r.p_wrong[0]), 6)     # 1 - p (1 + p) / (2 (1 - p q))
    0.246835
    """
    if not isinstance(model, SocialLearningModel):
        raise ValueError(f"model must be a SocialLearningModel, got {type(model).__name__}")
    priors, _ = simplex_points(prior, "prior", model.n_states)
    if method not in ("simulate", "exact"):
        raise ValueError(f"method must be 'simulate' or 'exact', got {method!r}")
    if method == "exact" and observations is not None:
        raise ValueError("method='exact' draws signals from B; use method='simulate' with observations=")
    rng = check_random_state(seed)
    cols: dict[str, list[float]] = {k: [] for k in ("pw", "sw", "pc", "sc", "pn", "mt", "st")}
    for pi in priors:
        if method == "exact":
            d = cascade_distribution(model, pi, n_agents=n_agents, true_state=true_state)
            vals = (d.p_wrong_cascade, 0.0, d.p_correct_cascade, 0.0, d.p_no_cascade, d.mean_cascade_time, 0.0)
        else:
            r = simulate(model, pi, n_agents, n_runs, true_state=true_state, seed=rng,
                         observations=observations, record_paths=False)
            s = r.herding_stats()
            vals = (s["p_wrong_cascade"], s["se_wrong_cascade"], s["p_correct_cascade"], s["se_correct_cascade"],
                    s["p_no_cascade"], s["mean_cascade_time"], s["se_cascade_time"])
        for key, v in zip(cols, vals, strict=True):
            cols[key].append(v)
    arr = {k: np.array(v, dtype=np.float64) for k, v in cols.items()}
    return HerdingResult(priors=priors, p_wrong=arr["pw"], se_wrong=arr["sw"], p_correct=arr["pc"],
                         se_correct=arr["sc"], p_no_cascade=arr["pn"], mean_cascade_time=arr["mt"],
                         se_cascade_time=arr["st"], method=method, n_agents=n_agents,
                         n_runs=n_runs if method == "simulate" else None, true_state=true_state, model=model)


@dataclass
class CascadeTimeResult:
    """Expected number of agents before the cascade, ``E[T | T <= n_agents]``.

    Attributes
    ----------
    mean, se : float
        The expectation and its standard error (0 for the exact method).
    p_censored : float
        Probability (or share of runs) with no cascade by ``n_agents``; when it
        is not negligible the mean is conditional and biased low.
    pmf : ndarray (n_agents + 1,)
        ``P(T = t)`` (exact) or the empirical frequencies.
    method : str
    """

    mean: float
    se: float
    p_censored: float
    pmf: np.ndarray
    method: str
    n_agents: int

    def __float__(self) -> float:
        return self.mean

    def to_dict(self) -> dict:
        return {"mean": self.mean, "se": self.se, "p_censored": self.p_censored, "method": self.method,
                "n_agents": self.n_agents, "pmf": self.pmf.tolist()}

    def summary(self) -> str:
        return (f"expected cascade time ({self.method}): {self.mean:.4f} +/- {self.se:.4f} agents; "
                f"P(no cascade by {self.n_agents}) = {self.p_censored:.3g}")


def expected_cascade_time(model: SocialLearningModel, prior, n_agents: int = 1000, n_runs: int = 20_000,
                          true_state: int | None = None, seed=None, observations=None,
                          method: str = "simulate") -> CascadeTimeResult:
    r"""Expected number of agents that act before the cascade starts.

    ``T = min{k >= 0 : pi_k in the cascade set}``; returns ``E[T | T <= n_agents]``
    with its standard error (simulation) or exactly (``method="exact"``, static
    state), and ``p_censored = P(T > n_agents)``.

    >>> m = SocialLearningModel.binary_symmetric(0.7, "own_signal")
    >>> round(expected_cascade_time(m, [0.5, 0.5], method="exact").mean, 6)   # 2 / (p^2 + q^2)
    3.448276
    """
    if method not in ("simulate", "exact"):
        raise ValueError(f"method must be 'simulate' or 'exact', got {method!r}")
    if method == "exact":
        if observations is not None:
            raise ValueError("method='exact' draws signals from B; use method='simulate' with observations=")
        d = cascade_distribution(model, prior, n_agents=n_agents, true_state=true_state)
        return CascadeTimeResult(d.mean_cascade_time, 0.0, d.p_no_cascade, d.time_pmf, "exact", d.prob.shape[1] - 1)
    r = simulate(model, prior, n_agents, n_runs, true_state=true_state, seed=seed, observations=observations,
                 record_paths=False)
    t = r.cascade_time[r.cascaded]
    pmf = np.bincount(t, minlength=r.n_agents + 1) / r.n_runs
    mean = float(t.mean()) if t.size else float("nan")
    se = float(t.std(ddof=1) / np.sqrt(t.size)) if t.size > 1 else float("nan")
    return CascadeTimeResult(mean, se, float(1 - r.cascaded.mean()), pmf, "simulate", r.n_agents)


def prior_family(n_states: int, p, anchor: int = 0) -> np.ndarray:
    r"""Initial public beliefs ``pi0(p) = p e_anchor + (1 - p) u`` (u uniform on the other states).

    For ``X = 2`` and ``anchor = 0`` this is ``[p, 1 - p]``.

    Parameters
    ----------
    n_states : int
    p : float or array (m,) in [0, 1]
    anchor : int

    Returns
    -------
    ndarray (m, X) (or (X,) for a scalar ``p``)

    >>> prior_family(3, [1.0, 0.4]).round(2).tolist()
    [[1.0, 0.0, 0.0], [0.4, 0.3, 0.3]]
    """
    if not 0 <= anchor < n_states:
        raise ValueError(f"anchor must be a state in 0..{n_states - 1}, got {anchor}")
    pa = np.asarray(p, dtype=float)
    if not np.all(np.isfinite(pa)) or np.any((pa < 0) | (pa > 1)):
        raise ValueError(f"prior family parameter p must lie in [0, 1], got {p!r}")
    u = np.full(n_states, 1.0 / (n_states - 1))
    u[anchor] = 0.0
    e = np.zeros(n_states)
    e[anchor] = 1.0
    out = pa[..., None] * e + (1.0 - pa[..., None]) * u
    return out


def family_thresholds(model, p_grid: np.ndarray, anchor: int = 0, n_bisect: int = 50) -> tuple[np.ndarray, np.ndarray]:
    r"""Where the cascade set starts or ends along the prior family ``pi0(p)``.

    Membership ``model.in_cascade(pi0(p))`` is evaluated on ``p_grid`` and every
    change between neighbouring grid points is located by bisection to
    ``2^-n_bisect`` of the grid spacing (a switch in and out of the cascade set
    within one grid cell is not seen: refine the grid for such models).

    Returns ``(thresholds, member)``: sorted boundary values of ``p`` and the
    boolean membership on the grid.
    """
    X = model.n_states
    member = np.asarray(model.in_cascade(prior_family(X, p_grid, anchor)), dtype=bool)
    idx = np.flatnonzero(member[1:] != member[:-1])
    if idx.size == 0:
        return np.zeros(0), member
    lo, hi = p_grid[idx].astype(float), p_grid[idx + 1].astype(float)
    lo_member = member[idx]
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        m = np.asarray(model.in_cascade(prior_family(X, mid, anchor)), dtype=bool).reshape(-1)
        same = m == lo_member
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return 0.5 * (lo + hi), member
