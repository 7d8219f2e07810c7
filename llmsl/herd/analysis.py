r"""Herding analysis of an LLM used as a sensor (SPEC section 2, issue 7).

From labelled readings ``(x_i, y_i)`` (:class:`~llmsl.herd.sensor.SensorData`):

1. the likelihood ``B[x, y] = P(y | x)`` is estimated with a Dirichlet posterior
   (``sociallearn.estimate_likelihood``): posterior mean, 95% intervals and
   posterior samples;
2. how informative the sensor is: mutual information ``I(x; y)`` in bits with a
   credible interval and the distance of ``B`` from rank one
   (``sociallearn.informativeness``), so that an uninformative model is reported
   as such and not as irrational;
3. the cascade region of the social learning model ``(B, c)`` exactly
   (``sociallearn.cascade_region``) and, along the one-parameter family of
   initial public beliefs

   .. math:: \pi_0(p) = p\, e_{0} + (1 - p)\, u, \qquad u = \text{uniform on } \{1..X-1\},

   the herding thresholds (values of ``p`` at which the cascade set starts or
   ends) with 95% intervals from posterior samples of ``B``;
4. Monte Carlo chains of agents whose private observations are the model's
   *real* labels resampled per state (``sociallearn.simulate(observations=)``):
   probability of a cascade on a wrong action versus ``p`` (per true state and
   with the state drawn from the prior), with standard errors, and the cascade
   time distribution.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sociallearn import family_thresholds, prior_family, zero_one_cost

from .sensor import SensorData

__all__ = ["HerdingReport", "analyze_herding", "Threshold"]


@dataclass
class Threshold:
    """A herding threshold on ``p`` (the prior-family parameter) with a posterior interval.

    ``lower``/``upper`` are the 2.5% and 97.5% quantiles of the threshold over
    the posterior samples of ``B`` whose cascade set has the same number of
    thresholds; ``matched`` is the share of such samples (a low value means the
    very shape of the cascade set is uncertain).
    """

    value: float
    lower: float | None
    upper: float | None
    matched: float

    def to_dict(self) -> dict:
        return {"value": self.value, "lower": self.lower, "upper": self.upper, "matched": self.matched}


@dataclass
class HerdingReport:
    """Everything ``llmsl herd`` reports (see :func:`analyze_herding`).

    Attributes
    ----------
    sensor : SensorData
    likelihood, likelihood_lower, likelihood_upper : ndarray (X, Y)
        Posterior mean of ``B`` and its 95% credible interval (per entry).
    informativeness : dict
        Mutual information (bits) with interval and distance from rank one.
    model : sociallearn.SocialLearningModel
        The social learning model built on the posterior mean of ``B``.
    cascade_region : dict
        ``sociallearn.cascade_region(model).to_dict()``.
    priors : ndarray (m,)
        Grid of ``p``; the initial public belief is ``prior_family(X, p)``.
    p_wrong, se_wrong : ndarray (m,)
        ``P(cascade on a wrong action)`` with the true state drawn from the prior
        (``sum_x pi0(p)[x] P(wrong | x)``) and its standard error.
    p_wrong_by_state, se_wrong_by_state : ndarray (m, X)
        Conditional on the true state.
    p_no_cascade : ndarray (m,)
        Share of runs without a cascade within ``n_agents`` (prior-weighted).
    mean_cascade_time, se_cascade_time : ndarray (m,)
    reference_prior : ndarray (X,)
    reference_times : ndarray
        Cascade times of the runs at the reference prior that cascaded.
    reference_stats : dict
        ``SimulationResult.herding_stats()`` at the reference prior.
    thresholds : list of Threshold
    membership_grid, membership, posterior_membership : ndarray
        Cascade membership along the family (estimate, and share of posterior samples).
    params : dict
        Every parameter that produced the numbers (seeds included).
    """

    sensor: SensorData
    likelihood: np.ndarray
    likelihood_lower: np.ndarray
    likelihood_upper: np.ndarray
    informativeness: dict
    model: Any
    cascade_region: dict
    priors: np.ndarray
    p_wrong: np.ndarray
    se_wrong: np.ndarray
    p_wrong_by_state: np.ndarray
    se_wrong_by_state: np.ndarray
    p_no_cascade: np.ndarray
    mean_cascade_time: np.ndarray
    se_cascade_time: np.ndarray
    reference_prior: np.ndarray
    reference_times: np.ndarray
    reference_stats: dict
    thresholds: list[Threshold]
    membership_grid: np.ndarray
    membership: np.ndarray
    posterior_membership: np.ndarray
    params: dict
    threshold_agreement: float = float("nan")
    timings: dict = field(default_factory=dict)
    sample_beliefs: np.ndarray | None = field(default=None, repr=False)

    # --------------------------------------------------------------- output
    def to_dict(self) -> dict:
        """Every number and parameter, JSON-ready."""
        return {
            "sensor": self.sensor.to_dict(),
            "likelihood": {"mean": self.likelihood, "lower": self.likelihood_lower,
                           "upper": self.likelihood_upper, "interval": 0.95},
            "informativeness": self.informativeness,
            "model": self.model.to_dict(),
            "cascade_region": self.cascade_region,
            "prior_family": {"anchor_state": int(self.params.get("anchor", 0)),
                             "definition": "pi0(p) = p e_anchor + (1 - p) uniform(other states)"},
            "herding_vs_prior": {
                "p": self.priors, "p_wrong": self.p_wrong, "se_wrong": self.se_wrong,
                "p_wrong_by_state": self.p_wrong_by_state, "se_wrong_by_state": self.se_wrong_by_state,
                "p_no_cascade": self.p_no_cascade, "mean_cascade_time": self.mean_cascade_time,
                "se_cascade_time": self.se_cascade_time},
            "reference": {"prior": self.reference_prior, "stats": self.reference_stats,
                          "cascade_time_counts": np.bincount(self.reference_times).tolist()
                          if self.reference_times.size else []},
            "thresholds": [t.to_dict() for t in self.thresholds],
            "threshold_structure_agreement": self.threshold_agreement,
            "cascade_membership": {"p": self.membership_grid[::10], "estimate": self.membership[::10],
                                   "posterior_share": self.posterior_membership[::10], "every": 10},
            "params": self.params,
            "timings_s": self.timings,
        }

    def summary(self) -> str:
        """Readable summary (also the core of ``report.md``)."""
        s = self.sensor
        inf = self.informativeness
        lines = [
            "LLM herding analysis",
            "=" * 72,
            f"readings: {s.n} parsed, {s.n_failed} unparsed, from {s.source}",
            f"states X = {s.n_states}, observations Y = {s.n_obs}, tie rule {self.model.tie_rule!r}",
            informativeness_line(inf),
            f"cascade region: {_region_text(self.cascade_region)}",
            "thresholds on p = pi0(x=0): " + (", ".join(
                f"{t.value:.4f} [{_f(t.lower)}, {_f(t.upper)}]" for t in self.thresholds) or "none"),
            f"reference prior {np.array2string(self.reference_prior, precision=3)}: "
            f"P(wrong cascade) = {self.reference_stats['p_wrong_cascade']:.4f} "
            f"+/- {self.reference_stats['se_wrong_cascade']:.4f}, "
            f"P(no cascade by {self.params['n_agents']}) = {self.reference_stats['p_no_cascade']:.4f}, "
            f"mean cascade time {self.reference_stats['mean_cascade_time']:.2f}",
            "-" * 72,
            f"{'p':>6} {'P(wrong)':>10} {'s.e.':>7} {'P(none)':>8} {'E[T]':>7}",
        ]
        for i, p in enumerate(self.priors):
            lines.append(f"{p:6.3f} {self.p_wrong[i]:10.4f} {self.se_wrong[i]:7.4f} "
                         f"{self.p_no_cascade[i]:8.4f} {self.mean_cascade_time[i]:7.2f}")
        return "\n".join(lines)


def informativeness_line(inf: dict) -> str:
    """One line stating how informative the sensor is (from ``Informativeness.to_dict()``)."""
    est, iv = inf["estimate"], inf["intervals"]
    lo, hi = iv["mi_bits"]
    verdict = "informative" if inf.get("informative_at_5pct") else "NOT distinguishable from uninformative"
    pm = inf.get("posterior_mean", {})
    return (f"informativeness: I(x; y) = {est['mi_bits']:.4f} bits at the posterior-mean B (posterior mean "
            f"{_f(pm.get('mi_bits'))}, 95% credible interval [{_f(lo)}, {_f(hi)}]) of H(x) = "
            f"{inf['entropy_bits']:.3f}; TV distance from rank one {est['tv_from_rank_one']:.3f} "
            f"[{_f(iv['tv_from_rank_one'][0])}, {_f(iv['tv_from_rank_one'][1])}]; G-test of independence p = "
            f"{inf['p_value']:.3g} ({verdict})")


def _f(x: Any) -> str:
    if x is None:
        return "-"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{v:.4f}" if np.isfinite(v) else "-"


def _region_text(region: dict) -> str:
    if "intervals" in region:
        ivs = region["intervals"]
        if not ivs:
            return "empty"
        return ", ".join(f"pi(0) in [{iv['lo']:.4f}, {iv['hi']:.4f}] -> action {iv['action']}" for iv in ivs)
    return f"{100 * region.get('fraction', float('nan')):.1f}% of a simplex grid"


def _child_seed(seed: int, *keys: int) -> int:
    """Independent, reproducible stream per (seed, keys) (SeedSequence spawning by key)."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1, np.uint64)[0] >> 1)


def analyze_herding(sensor: SensorData, cost: np.ndarray | None = None, *,
                    priors: Sequence[float] | np.ndarray | None = None,
                    n_agents: int = 100, n_runs: int = 1000, tie_rule: str = "uniform",
                    prior_strength: float = 1.0, n_posterior: int = 200, resample: bool = True,
                    reference_p: float | None = None, anchor: int = 0, seed: int = 0,
                    progress: bool = False) -> HerdingReport:
    r"""Estimate ``B`` from the readings, find the cascade region and simulate herding.

    Parameters
    ----------
    sensor : SensorData
        Labelled readings ``(x_i, y_i)``; every state needs at least one.
    cost : array (X, A), optional
        Action cost ``c[x, a]``; default the 0-1 loss with ``A = X`` (agent ``k``
        announces the state it believes most likely).
    priors : sequence of float, optional
        Grid of ``p`` for ``pi0(p) = p e_anchor + (1 - p) u``; default 25 points
        in ``[0.02, 0.98]``.
    n_agents, n_runs : int
        Chain length and runs per (prior, true state).
    tie_rule : {"uniform", "own_signal", "first"}
    prior_strength : float
        Dirichlet pseudo-count per cell of ``B``.
    n_posterior : int
        Posterior samples of ``B`` for threshold intervals.
    resample : bool
        True: agents observe the model's real labels resampled per state;
        False: ``y ~ B_hat[x]``.
    reference_p : float, optional
        ``p`` of the reference prior for the cascade-time histogram; default
        the one that gives the uniform prior ``1 / X``.
    anchor : int
        State carrying the mass ``p`` in the prior family.
    seed : int
        Master seed; the run for prior ``i`` and state ``x`` uses the stream
        ``SeedSequence([seed, i, x])``.

    Returns
    -------
    HerdingReport

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.repeat([0, 1], 50); y = np.where(rng.random(100) < 0.8, x, 1 - x)
    >>> rep = analyze_herding(SensorData(x, y, 2, 2), n_runs=200, n_posterior=20, priors=[0.3, 0.5])
    >>> rep.likelihood.shape, bool(rep.reference_stats["p_no_cascade"] < 0.05)
    ((2, 2), True)
    """
    from sociallearn import LikelihoodEstimate, SocialLearningModel, cascade_region, informativeness, simulate

    if not isinstance(sensor, SensorData):
        raise ValueError(f"sensor must be a SensorData, got {type(sensor).__name__}")
    sensor.check_pools()
    X = sensor.n_states
    c = zero_one_cost(X) if cost is None else np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] != X:
        raise ValueError(f"cost must have shape (X={X}, A), got {c.shape}")
    p_grid = np.linspace(0.02, 0.98, 25) if priors is None else np.asarray(priors, dtype=float).ravel()
    if p_grid.size == 0 or np.any((p_grid <= 0) | (p_grid >= 1)):
        raise ValueError("priors (values of p) must lie strictly inside (0, 1) so that every state is possible")
    for name, v in (("n_agents", n_agents), ("n_runs", n_runs), ("n_posterior", n_posterior)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    # 1. likelihood and its posterior
    # from the counts (expected counts when labels came with exact probabilities)
    est = LikelihoodEstimate.from_counts(sensor.counts(), prior_strength)
    B = est.mean
    lower, upper = est.intervals(0.95)
    info = informativeness(est, n_samples=2000, seed=_child_seed(seed, 2))
    model = SocialLearningModel(B, cost=c, tie_rule=tie_rule)
    timings["estimate"] = time.perf_counter() - t0

    # 2. cascade region and thresholds along the prior family, with posterior intervals
    t1 = time.perf_counter()
    region = cascade_region(model)
    fine = np.linspace(0.0, 1.0, 2001)
    samples = est.sample(n_posterior, _child_seed(seed, 1))
    post_member = np.zeros(fine.size)
    sample_th: list[np.ndarray] = []
    for Bs in samples:
        ms = SocialLearningModel(Bs, cost=c, tie_rule=tie_rule)
        if X == 2 and anchor == 0:
            ts = np.asarray(cascade_region(ms).thresholds, dtype=float)
            mem = np.asarray(ms.in_cascade(prior_family(X, fine, anchor)), dtype=bool)
        else:
            ts, mem = family_thresholds(ms, fine, anchor, n_bisect=30)
        post_member += mem
        sample_th.append(ts)
    post_member /= len(samples)
    if X == 2 and anchor == 0:
        th = np.asarray(region.thresholds, dtype=float)  # exact end points in pi(0)
        member = np.asarray(model.in_cascade(prior_family(X, fine, anchor)), dtype=bool)
    else:
        th, member = family_thresholds(model, fine, anchor)
    thresholds, agreement = _threshold_intervals(th, sample_th)
    timings["cascade_region"] = time.perf_counter() - t1

    # 3. Monte Carlo: chains resampling the model's real labels
    t2 = time.perf_counter()
    pools = sensor.pools() if resample else None
    m = p_grid.size
    pw = np.zeros((m, X))
    sw = np.zeros((m, X))
    pn = np.zeros((m, X))
    mt = np.full((m, X), np.nan)
    st = np.full((m, X), np.nan)
    iterator = range(m)
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(iterator, desc="herding vs prior", unit="prior")
    for i in iterator:
        pi0 = prior_family(X, p_grid[i], anchor)
        for x in range(X):
            r = simulate(model, pi0, n_agents, n_runs, true_state=x, seed=_child_seed(seed, 10 + i, x),
                         observations=pools, record_paths=False)
            s = r.herding_stats()
            pw[i, x], sw[i, x], pn[i, x] = s["p_wrong_cascade"], s["se_wrong_cascade"], s["p_no_cascade"]
            mt[i, x], st[i, x] = s["mean_cascade_time"], s["se_cascade_time"]
    W = prior_family(X, p_grid, anchor)  # (m, X): the state is drawn from the prior
    p_wrong = (W * pw).sum(axis=1)
    se_wrong = np.sqrt((W ** 2 * sw ** 2).sum(axis=1))
    p_none = (W * pn).sum(axis=1)
    # E[T | cascade] mixing the states by prior x P(cascade | x)
    wc = W * (1.0 - pn)
    with np.errstate(invalid="ignore", divide="ignore"):
        wn = wc / wc.sum(axis=1, keepdims=True)
        mean_t = np.nansum(wn * mt, axis=1)
        se_t = np.sqrt(np.nansum(wn ** 2 * st ** 2, axis=1))
    # reference prior: state drawn from it, full paths for the histogram and belief plot
    ref_p = (1.0 / X) if reference_p is None else float(reference_p)
    ref_prior = prior_family(X, ref_p, anchor)
    r = simulate(model, ref_prior, n_agents, n_runs, seed=_child_seed(seed, 3), observations=pools)
    ref_stats = r.herding_stats()
    ref_times = r.cascade_time[r.cascaded]
    sample_beliefs = np.asarray(r.public_beliefs[:20])
    timings["simulation"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0

    params = {
        "cost": c, "tie_rule": tie_rule, "prior_strength": prior_strength, "n_posterior": n_posterior,
        "n_agents": int(n_agents), "n_runs": int(n_runs), "resample_real_labels": bool(resample),
        "anchor": int(anchor), "reference_p": ref_p, "seed": int(seed),
        "seed_scheme": "run (prior i, state x) uses numpy SeedSequence([seed, 10 + i, x]); "
                       "posterior samples [seed, 1]; informativeness [seed, 2]; reference runs [seed, 3]",
        "threshold_grid": {"points": int(fine.size), "bisection": "50 steps (estimate), 30 (samples)"},
    }
    return HerdingReport(
        sensor=sensor, likelihood=B, likelihood_lower=lower, likelihood_upper=upper,
        informativeness=info.to_dict(), threshold_agreement=agreement, model=model,
        cascade_region=region.to_dict(), priors=p_grid,
        p_wrong=p_wrong, se_wrong=se_wrong, p_wrong_by_state=pw, se_wrong_by_state=sw, p_no_cascade=p_none,
        mean_cascade_time=mean_t, se_cascade_time=se_t, reference_prior=ref_prior, reference_times=ref_times,
        reference_stats=ref_stats, thresholds=thresholds, membership_grid=fine, membership=member,
        posterior_membership=post_member, params=params, timings=timings, sample_beliefs=sample_beliefs)


def _threshold_intervals(point: np.ndarray, sample_thresholds: list[np.ndarray],
                         level: float = 0.95) -> tuple[list[Threshold], float]:
    """Equal-tailed intervals of each threshold over the posterior samples whose
    cascade set has the same number of end points (the rule of
    ``sociallearn.threshold_intervals``); also returns the share of such samples."""
    same = [t for t in sample_thresholds if t.size == point.size]
    agreement = len(same) / max(len(sample_thresholds), 1)
    q = (1 - level) / 2
    out = []
    if same and point.size:
        arr = np.array(same)
        lo, hi = np.quantile(arr, q, axis=0), np.quantile(arr, 1 - q, axis=0)
        out = [Threshold(float(t), float(a), float(b), agreement) for t, a, b in zip(point, lo, hi, strict=True)]
    else:
        out = [Threshold(float(t), None, None, agreement) for t in point]
    return out, agreement
