r"""Control of herding for an LLM sensor (SPEC section 3, issue 7): ``llmsl control``.

For the likelihood ``B`` estimated from the model's labels (two states):

1. the central controller's optimal stopping problem

   .. math:: V(\pi) = \min\{ C_s(\pi),\; d + \rho \sum_y \sigma(\pi, y) V(T_y \pi) \},
             \qquad C_s(\pi) = \min_a c_a'\pi / (1 - \rho),

   solved by value iteration on a belief grid (``control.value_iteration``):
   the continue (reveal) region, its thresholds and the value function;
2. SPSA on the smoothed threshold policy (``control.optimize_threshold``) on the
   same problem, which must land on the value-iteration threshold within the
   spacing of the lattice of reachable beliefs (:func:`reachable_bracket`);
3. the incentive mechanism (``control.IncentiveProblem`` when available): incentive
   paid versus accuracy as the threshold varies.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from control.reachable import reachable_beliefs, reachable_bracket

from .sensor import SensorData

__all__ = ["ControlReport", "analyze_control"]


@dataclass
class ControlReport:
    """Everything ``llmsl control`` reports.

    Attributes
    ----------
    sensor : SensorData
    likelihood, likelihood_lower, likelihood_upper : ndarray (2, Y)
    informativeness : dict
    vi : control.StoppingSolution
    vi_thresholds : ndarray
    spsa : control ThresholdOptimization
    comparisons : list of dict
        Per threshold: VI value, SPSA value, reachable bracket around the VI
        threshold, its width, and ``agree`` (SPSA within one lattice spacing).
    incentives : dict or None
    params : dict
    cost_comparison : dict or None
        Simulated cost of the hard VI and SPSA threshold policies from the prior on
        common random numbers, their paired difference with its standard error, and
        ``V(pi0)`` from value iteration.
    """

    sensor: SensorData
    likelihood: np.ndarray
    likelihood_lower: np.ndarray
    likelihood_upper: np.ndarray
    informativeness: dict
    vi: Any
    vi_thresholds: np.ndarray
    spsa: Any
    comparisons: list
    incentives: dict | None
    params: dict
    timings: dict = field(default_factory=dict)
    cost_comparison: dict | None = None

    @property
    def agree(self) -> bool:
        """SPSA matches value iteration within the lattice spacing, for every threshold."""
        return bool(self.comparisons) and all(c["agree"] for c in self.comparisons)

    def to_dict(self) -> dict:
        return {
            "sensor": self.sensor.to_dict(),
            "likelihood": {"mean": self.likelihood, "lower": self.likelihood_lower,
                           "upper": self.likelihood_upper, "interval": 0.95},
            "informativeness": self.informativeness,
            "stopping": {**self.vi.to_dict(), "continue_region": self.vi.continue_region,
                         "thresholds": self.vi_thresholds},
            "spsa": self.spsa.to_dict(),
            "vi_vs_spsa": self.comparisons,
            "vi_spsa_agree": self.agree,
            "policy_costs": self.cost_comparison,
            "incentives": self.incentives,
            "params": self.params,
            "timings_s": self.timings,
        }

    def summary(self) -> str:
        from .analysis import informativeness_line

        lines = [
            "Control of herding",
            "=" * 72,
            f"readings: {self.sensor.n} parsed, {self.sensor.n_failed} unparsed, from {self.sensor.source}",
            "B = " + np.array2string(self.likelihood, precision=3).replace("\n", ""),
            informativeness_line(self.informativeness),
            f"stopping problem: action cost {np.asarray(self.params['action_cost']).tolist()}, delay cost "
            f"{self.params['delay_cost']}, discount {self.params['discount']}",
            f"value iteration ({self.vi.grid.size} grid points, {self.vi.n_iter} sweeps, residual "
            f"{self.vi.residual:.2e}): continue (reveal) for pi(0) in "
            + (", ".join(f"({a:.4f}, {b:.4f})" for a, b in self.vi.continue_region) or "nowhere"),
            f"SPSA ({self.spsa.spsa.n_iter} iterations, tau {self.spsa.tau}): thresholds "
            f"{np.round(self.spsa.thresholds, 4).tolist()}, cost {self.spsa.cost.mean:.4f} "
            f"+/- {self.spsa.cost.std_error:.4f}",
        ]
        for c in self.comparisons:
            lines.append(f"  VI {c['vi']:.4f} vs SPSA {c['spsa']:.4f}: reachable beliefs around the VI "
                         f"threshold ({c['bracket'][0]:.4f}, {c['bracket'][1]:.4f}), spacing {c['spacing']:.4f} "
                         f"-> {'agree' if c['agree'] else 'DISAGREE'}")
        cc = self.cost_comparison
        if cc:
            lines.append(f"  cost from pi0 (common random numbers, {cc['n_runs']} runs): VI policy "
                         f"{cc['cost_vi_policy']:.4f}, SPSA policy {cc['cost_spsa_policy']:.4f}, difference "
                         f"{cc['paired_difference']:+.4f} +/- {cc['se_paired_difference']:.4f}; "
                         f"V(pi0) by value iteration {cc['vi_value_at_prior']:.4f}")
        if self.incentives:
            lines.append(self.incentives.get("summary", ""))
        return "\n".join(lines)


def analyze_control(sensor: SensorData, action_cost: np.ndarray | None = None, *, delay_cost: float = 0.2,
                    discount: float = 0.8, prior: np.ndarray | None = None, grid_size: int = 2001,
                    spsa_iter: int = 300, spsa_runs: int = 1000, tau: float = 0.02, prior_strength: float = 1.0,
                    min_mass: float = 1e-3, incentives: bool = True, n_agents: int = 50, n_runs: int = 500,
                    seed: int = 0,
                    progress: bool = False) -> ControlReport:
    r"""Optimal stopping, SPSA and incentives for the LLM sensor's estimated model (X = 2).

    Parameters
    ----------
    sensor : SensorData
        Two states (coarsen first, e.g. ``labels="binary"``).
    action_cost : array (2, A), optional
        Misclassification cost ``c[x, a]``; default the 0-1 loss.
    delay_cost : float
        ``d``: cost of one more agent revealing its observation (privacy / delay).
    discount : float
        ``rho`` in [0, 1).
    prior : array (2,), optional
        Initial public belief of the SPSA runs; default uniform.
    grid_size : int
        Value-iteration grid points.
    spsa_iter, spsa_runs, tau :
        SPSA iterations, simulated runs per evaluation, policy smoothing temperature.
    min_mass : float
        Visitation weight above which a reachable belief counts for the lattice
        spacing of the VI/SPSA comparison (:func:`reachable_beliefs`).
    incentives : bool
        Also analyse the incentive mechanism (needs ``control.IncentiveProblem``).
    n_agents, n_runs :
        Chain length and runs of the incentive simulations.
    seed : int

    Returns
    -------
    ControlReport
        ``likelihood`` (2, Y), ``vi_thresholds`` (k,), ``spsa``, ``comparisons``, ...

    Examples
    --------
    A binary sensor that is right 80 % of the time, with small (fast) settings:

    >>> from llmsl.herd.sensor import SensorData
    >>> x = np.repeat([0, 1], 50)
    >>> y = np.where(np.random.default_rng(0).random(100) < 0.8, x, 1 - x)
    >>> rep = analyze_control(SensorData(x, y, 2, 2), incentives=False, grid_size=101, spsa_iter=5,
    ...                       spsa_runs=20)
    >>> rep.likelihood.shape, bool(np.allclose(rep.likelihood.sum(axis=1), 1.0))
    ((2, 2), True)
    >>> lo, hi = rep.vi_thresholds        # reveal while lo < pi(0) < hi
    >>> bool(0 < lo < 0.5 < hi < 1)
    True

    The defaults (``grid_size=2001``, 300 SPSA iterations of 1000 runs, incentives)
    take longer:

    >>> rep = analyze_control(SensorData(x, y, 2, 2))   # doctest: +SKIP
    """
    from control import StoppingProblem, value_iteration
    from control.threshold import optimize_threshold
    from sociallearn import LikelihoodEstimate, informativeness

    if not isinstance(sensor, SensorData):
        raise ValueError(f"sensor must be a SensorData, got {type(sensor).__name__}")
    if sensor.n_states != 2:
        raise ValueError(f"the control analysis needs X = 2 states, got {sensor.n_states}; coarsen the labels "
                         "(for example labels='binary')")
    sensor.check_pools()
    c = (1.0 - np.eye(2)) if action_cost is None else np.asarray(action_cost, dtype=float)
    if c.ndim != 2 or c.shape[0] != 2:
        raise ValueError(f"action_cost must have shape (2, A), got {c.shape}")
    pi0 = np.array([0.5, 0.5]) if prior is None else np.asarray(prior, dtype=float)
    if pi0.shape != (2,) or np.any(pi0 < 0) or abs(pi0.sum() - 1) > 1e-9:
        raise ValueError(f"prior must be a belief of length 2, got {prior!r}")
    if not (np.isfinite(delay_cost) and delay_cost >= 0):
        raise ValueError(f"delay_cost must be a finite number >= 0, got {delay_cost}")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    est = LikelihoodEstimate.from_counts(sensor.counts(), prior_strength)
    B = est.mean
    lower, upper = est.intervals(0.95)
    info = informativeness(est, n_samples=2000, seed=seed).to_dict()

    problem = StoppingProblem.from_misclassification(B, c, float(delay_cost), float(discount))
    vi = value_iteration(problem, grid_size=grid_size, tol=1e-10)
    vi_th = np.asarray(vi.thresholds, dtype=float)
    timings["value_iteration"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    region = vi.continue_region
    kind = "interval" if vi_th.size == 2 else ("lower" if region and region[0][1] >= 1.0 else "upper")
    th0: float | np.ndarray = np.array([0.3, 0.7]) if kind == "interval" else 0.5
    opt = optimize_threshold(problem, pi0, kind=kind, thresholds0=th0, tau=tau, n_iter=spsa_iter,
                             n_runs=spsa_runs, seed=seed)
    timings["spsa"] = time.perf_counter() - t1
    reach = reachable_beliefs(B, pi0, region, discount=float(discount), min_mass=min_mass)
    comps = []
    spsa_th = np.asarray(opt.thresholds, dtype=float)
    for t in vi_th:
        # match each VI threshold with the SPSA threshold of the same side
        k = int(np.argmin(np.abs(spsa_th - t)))
        lo, hi = reachable_bracket(reach, t)
        spacing = hi - lo
        comps.append({"index": k, "vi": float(t), "spsa": float(spsa_th[k]), "bracket": [lo, hi],
                      "spacing": spacing, "abs_diff": float(abs(spsa_th[k] - t)),
                      "same_bracket": bool(lo <= spsa_th[k] <= hi),
                      "agree": bool(abs(spsa_th[k] - t) <= spacing)})

    # the two policies' costs on common random numbers (paired difference and its s.e.)
    from control.threshold import ThresholdPolicy, policy_cost

    cost_cmp = None
    if vi_th.size == spsa_th.size and vi_th.size > 0:
        n_eval = 4 * int(spsa_runs)
        pv = policy_cost(problem, ThresholdPolicy.from_thresholds(vi_th, 0.0, kind), pi0, n_runs=n_eval,
                         seed=seed + 7)
        ps = policy_cost(problem, ThresholdPolicy.from_thresholds(spsa_th, 0.0, kind), pi0, n_runs=n_eval,
                         seed=seed + 7)
        diff = ps.per_run - pv.per_run
        cost_cmp = {"cost_vi_policy": pv.mean, "se_vi_policy": pv.std_error, "cost_spsa_policy": ps.mean,
                    "se_spsa_policy": ps.std_error, "paired_difference": float(diff.mean()),
                    "se_paired_difference": float(diff.std(ddof=1) / np.sqrt(diff.size)), "n_runs": n_eval,
                    "vi_value_at_prior": float(vi.value(pi0)[0])}

    inc = None
    if incentives:
        t2 = time.perf_counter()
        inc = _incentive_analysis(B, c, pi0, sensor, n_agents=n_agents, n_runs=n_runs, seed=seed,
                                  progress=progress)
        timings["incentives"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    params = {"action_cost": c, "delay_cost": float(delay_cost), "discount": float(discount),
              "stop_cost": "min_a c_a' pi / (1 - discount)", "prior": pi0, "grid_size": int(grid_size),
              "vi_tol": 1e-10, "spsa": {"kind": kind, "thresholds0": th0, "n_iter": int(spsa_iter),
                                        "n_runs": int(spsa_runs), "tau": float(tau), "seed": int(seed)},
              "prior_strength": float(prior_strength), "seed": int(seed),
              "lattice": {"min_mass": float(min_mass), "n_beliefs": int(reach.size),
                          "definition": "beliefs with discounted visitation probability >= min_mass"}}
    return ControlReport(sensor, B, lower, upper, info, vi, vi_th, opt, comps, inc, params, timings, cost_cmp)


def _incentive_analysis(B, c, pi0, sensor, *, n_agents, n_runs, seed, progress) -> dict | None:
    """Incentive paid vs accuracy as the incentive threshold varies (control.IncentiveProblem)."""
    from control import incentive_sweep

    return incentive_sweep(B, c, pi0, n_agents=n_agents, n_runs=n_runs,
                           seed=seed, progress=progress)
