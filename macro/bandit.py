"""Regret against horizon: greedy, epsilon-greedy and fixed tax schedules over many seeds.

The claim under test (LLM Economist / "From Words to Actions", arXiv 2405.19883): a planner
that only exploits has regret linear in the horizon, and exploration makes it sublinear.
Here the planner is a cheap bandit over a grid of bracket schedules (the arms), so the
claim can be measured over many seeds of the vectorized economy.

:class:`BanditPlanner`. Every ``interval`` months (one *period*) it picks an arm k:
period 0 plays ``initial`` (the configured schedule); afterwards, with probability
eps_k it plays a uniformly random arm (exploration), otherwise the arm with the highest
mean welfare over the periods in which it was played (greedy; only arms played at least
once compete). eps_k is ``epsilon`` (constant) or, with ``decay=True``,
min(1, ``epsilon`` / k) for period k >= 1. ``epsilon = 0`` is the greedy planner.

:func:`regret_curves`. For each seed (common random numbers: every run of a seed shares
its skills and shocks) it runs every fixed arm and every planner for K periods; W_k is
the welfare of period k. The best fixed schedule in hindsight is the arm with the
largest sum_k W_k of its own fixed run, and the cumulative regret of a run after K'
periods is R(K') = sum_{k < K'} (W_k(best fixed) - W_k(run)). Reported per planner and
per fixed schedule: the mean of R(K') over seeds with a 95 % t band, and the log-log
slope b of the mean curve, log R(K') = a + b log K' fitted on K' >= K/4 where the mean
is positive, with a 95 % percentile bootstrap interval over seeds. b near 1 is linear
regret; b < 1 sublinear.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .metrics import _nan_to_none, _t_interval
from .planner import FixedPlanner, Planner, default_candidates
from .welfare import SocialWelfare


class BanditPlanner(Planner):
    """Greedy / epsilon-greedy choice among fixed bracket schedules (see module docstring).

    Parameters
    ----------
    candidates : dict[str, array (J,)]
        The arms (default :func:`~macro.planner.default_candidates`).
    epsilon : float in [0, 1]
        Exploration probability (0: greedy).
    decay : bool
        eps_k = min(1, epsilon / k) instead of a constant.
    interval : int
        Months per period.
    initial : str, optional
        Arm of period 0 (default: ``"US2018 x1"`` if present, else the first arm).
    welfare : SocialWelfare

    Example
    -------
    >>> from macro import Economy, EconomyConfig, RuleHouseholds
    >>> p = BanditPlanner(epsilon=0.0, interval=6)
    >>> res = Economy(EconomyConfig(n_households=5, n_months=24), RuleHouseholds(), p, seed=0).run()
    >>> [h["arm"] for h in p.history]        # greedy: the initial arm forever
    ['US2018 x1', 'US2018 x1', 'US2018 x1', 'US2018 x1']
    """

    def __init__(self, candidates: dict | None = None, epsilon: float = 0.1, decay: bool = False,
                 interval: int = 12, initial: str | None = None, welfare: SocialWelfare | None = None):
        super().__init__(interval)
        cands = default_candidates() if candidates is None else candidates
        if not isinstance(cands, dict) or not cands:
            raise ValueError("candidates must be a non-empty dict {name: rates}")
        self.names = list(cands)
        self.arms = [np.asarray(cands[k], dtype=float) for k in self.names]
        if not (np.isfinite(epsilon) and 0 <= epsilon <= 1):
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        if initial is None:
            initial = "US2018 x1" if "US2018 x1" in cands else self.names[0]
        if initial not in cands:
            raise ValueError(f"initial must name one of the candidates {self.names}, got {initial!r}")
        self.epsilon, self.decay, self.initial = float(epsilon), bool(decay), initial
        self.welfare = welfare or SocialWelfare()
        self.name = f"eps-greedy({epsilon:g}{'/k' if decay else ''})" if epsilon > 0 else "greedy"

    def reset(self, economy) -> None:
        super().reset(economy)
        self.sums = np.zeros(len(self.arms))
        self.counts = np.zeros(len(self.arms), dtype=int)
        self.current: int | None = None

    def _last_period_welfare(self, economy) -> float:
        h = economy._h
        x = np.array(h["consumption_units"][-self.interval:])
        lab = np.array(h["worked"][-self.interval:])
        z = np.array(h["income"][-self.interval:])
        return float((self.welfare.utility(x, lab) * self.welfare.household_weights(z)).mean())

    def propose(self, month, economy):
        k = month // self.interval
        if self.current is not None:
            self.sums[self.current] += self._last_period_welfare(economy)
            self.counts[self.current] += 1
        eps = min(1.0, self.epsilon / k) if (self.decay and k > 0) else self.epsilon
        explore = False
        if k == 0:
            arm = self.names.index(self.initial)
        else:
            explore = bool(self.rng.random() < eps)
            if explore:
                arm = int(self.rng.integers(len(self.arms)))
            else:
                means = np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), -np.inf)
                arm = int(np.argmax(means))
        self.current = arm
        return self.arms[arm], {"arm": self.names[arm], "explore": explore}

    def to_dict(self) -> dict:
        return {**super().to_dict(), "epsilon": self.epsilon, "decay": self.decay, "initial": self.initial,
                "arms": self.names}


def loglog_slope(k: np.ndarray, r: np.ndarray, start: int) -> float:
    """OLS slope of log r on log k over indices >= ``start`` where r > 0 (NaN with < 3 points).

    Example
    -------
    >>> k = np.arange(1, 101)
    >>> round(loglog_slope(k, 3 * np.sqrt(k), 25), 6), round(loglog_slope(k, 2.0 * k, 25), 6)
    (0.5, 1.0)
    """
    k, r = np.asarray(k, dtype=float)[start:], np.asarray(r, dtype=float)[start:]
    ok = r > 0
    if ok.sum() < 3:
        return float("nan")
    return float(np.polyfit(np.log(k[ok]), np.log(r[ok]), 1)[0])


@dataclass
class RegretCurves:
    """Cumulative regret against horizon over seeds (see module docstring).

    Attributes
    ----------
    period : int                         months per period
    n_periods : int                      K
    seeds : list
    regret : dict[str, list[list[float]]]
        Cumulative regret R(K'), K' = 1..K, per run name and seed, shape (S, K).
    mean, ci_low, ci_high : dict[str, list[float]]
        Mean over seeds and 95 % t band, shape (K,).
    slope, slope_ci : dict[str, float], dict[str, (float, float)]
        Log-log slope of the mean curve and its bootstrap interval.
    best_fixed : list[str]               best fixed schedule in hindsight per seed
    kind : dict[str, str]                "planner" or "fixed"
    """

    period: int
    n_periods: int
    seeds: list
    regret: dict
    mean: dict
    ci_low: dict
    ci_high: dict
    slope: dict
    slope_ci: dict
    best_fixed: list
    kind: dict
    fit_from: int
    n_boot: int
    planner_info: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"Regret against horizon: {len(self.seeds)} seeds, {self.n_periods} periods of {self.period} "
                 f"months; log-log slope of the mean cumulative regret fitted on periods >= {self.fit_from + 1} "
                 f"(1 = linear, < 1 = sublinear; 95% bootstrap CI over seeds):"]
        for name in self.mean:
            m = self.mean[name]
            lo, hi = self.slope_ci[name]
            lines.append(f"  {name:<22s} [{self.kind[name]:<7s}] final regret {m[-1]:+9.3f} "
                         f"(95% CI {self.ci_low[name][-1]:+.3f} .. {self.ci_high[name][-1]:+.3f}); slope "
                         f"{self.slope[name]:.3f} ({lo:.3f} .. {hi:.3f})")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return _nan_to_none(dict(self.__dict__))


def default_planners(interval: int, initials=("US2018 x1", "flat 0%")) -> dict[str, Callable[[], Planner]]:
    """For each initial arm: greedy, epsilon-greedy with epsilon in {0.05, 0.1, 0.2}, and a
    decaying epsilon_k = min(1, 1/k); named e.g. ``"eps=0.1 from flat 0%"``.

    Example
    -------
    >>> for name in sorted(default_planners(6, initials=("flat 0%",))):
    ...     print(name)
    eps=0.05 from flat 0%
    eps=0.1 from flat 0%
    eps=0.2 from flat 0%
    eps=1/k from flat 0%
    greedy from flat 0%
    """
    def make(eps: float, init: str, decay: bool = False) -> Callable[[], Planner]:
        return lambda: BanditPlanner(epsilon=eps, decay=decay, interval=interval, initial=init)

    out: dict[str, Callable[[], Planner]] = {}
    for init in initials:
        out[f"greedy from {init}"] = make(0.0, init)
        for e in (0.05, 0.1, 0.2):
            out[f"eps={e:g} from {init}"] = make(e, init)
        out[f"eps=1/k from {init}"] = make(1.0, init, decay=True)
    return out


def regret_curves(config, make_households: Callable, planners: dict | None = None, candidates: dict | None = None,
                  seeds=range(20), period: int = 6, welfare: SocialWelfare | None = None,
                  n_boot: int = 500, boot_seed: int = 0) -> RegretCurves:
    """Cumulative regret R(K') of planners and fixed schedules against the best fixed schedule.

    Parameters
    ----------
    config : EconomyConfig
        ``n_months`` // ``period`` = K periods per run.
    make_households : callable () -> HouseholdPolicy
    planners : dict[str, callable () -> Planner], optional
        Default :func:`default_planners` (greedy, epsilon-greedy, decaying epsilon).
    candidates : dict[str, rates (J,)], optional
        Fixed schedules (default :func:`~macro.planner.default_candidates`).
    seeds : iterable, S >= 2
    period : int
        Months per period (the planners should act with this interval).
    n_boot : int
        Bootstrap resamples of seeds for the slope interval (drawn with ``boot_seed``).

    Returns
    -------
    RegretCurves (module docstring), arrays of shape (S, K) and (K,).

    Example
    -------
    >>> from macro import EconomyConfig, RuleHouseholds, US2018_RATES
    >>> cands = {"flat 0%": np.zeros(7), "US2018 x1": US2018_RATES}
    >>> rc = regret_curves(EconomyConfig(n_households=5, n_months=24), RuleHouseholds,
    ...                    {"greedy": lambda: BanditPlanner(cands, 0.0, interval=6)}, cands,
    ...                    seeds=[0, 1], period=6, n_boot=20)
    >>> rc.n_periods, sorted(rc.mean)
    (4, ['fixed: US2018 x1', 'fixed: flat 0%', 'greedy'])
    >>> rc.regret["greedy"] == rc.regret["fixed: US2018 x1"]   # greedy keeps its initial arm
    True
    """
    from .economy import Economy

    welfare = welfare or SocialWelfare()
    candidates = default_candidates() if candidates is None else candidates
    planners = default_planners(period) if planners is None else planners
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"regret_curves needs at least 2 seeds for bands, got {len(seeds)}")
    if not candidates:
        raise ValueError("candidates must name at least one fixed schedule")
    if int(period) != period or period < 1:
        raise ValueError(f"period must be a positive integer, got {period}")
    k = config.n_months // period
    if k < 1:
        raise ValueError(f"the run ({config.n_months} months) is shorter than one period ({period})")
    names = [f"fixed: {c}" for c in candidates] + list(planners)
    kind = {n: ("fixed" if n.startswith("fixed: ") else "planner") for n in names}
    reg = {n: np.empty((len(seeds), k)) for n in names}
    best_fixed, info = [], {}
    for a, s in enumerate(seeds):
        per = {}
        for c, rates in candidates.items():
            res = Economy(config, make_households(), FixedPlanner(rates, interval=period), seed=s).run()
            per[f"fixed: {c}"] = welfare.per_period(res, period)[:k]
        for name, make in planners.items():
            planner = make()
            res = Economy(config, make_households(), planner, seed=s).run()
            per[name] = welfare.per_period(res, period)[:k]
            if a == 0:
                info[name] = {key: v for key, v in planner.to_dict().items() if key != "history"}
        best = max(candidates, key=lambda c: per[f"fixed: {c}"].sum())
        best_fixed.append(best)
        for n in names:
            reg[n][a] = np.cumsum(per[f"fixed: {best}"] - per[n])
    horizon = np.arange(1, k + 1)
    start = k // 4
    rng = np.random.default_rng(boot_seed)
    boot_idx = rng.integers(0, len(seeds), size=(n_boot, len(seeds)))
    mean, lo, hi, slope, slope_ci = {}, {}, {}, {}, {}
    for n in names:
        stats = [_t_interval(reg[n][:, j]) for j in range(k)]
        mean[n] = [st[0] for st in stats]
        lo[n] = [st[1] for st in stats]
        hi[n] = [st[2] for st in stats]
        slope[n] = loglog_slope(horizon, np.array(mean[n]), start)
        bs = np.array([loglog_slope(horizon, reg[n][idx].mean(axis=0), start) for idx in boot_idx])
        bs = bs[np.isfinite(bs)]
        slope_ci[n] = ((float(np.percentile(bs, 2.5)), float(np.percentile(bs, 97.5))) if bs.size
                       else (float("nan"), float("nan")))
    return RegretCurves(period=int(period), n_periods=k, seeds=[s if isinstance(s, int) else repr(s) for s in seeds],
                        regret={n: v.tolist() for n, v in reg.items()}, mean=mean, ci_low=lo, ci_high=hi,
                        slope=slope, slope_ci=slope_ci, best_fixed=best_fixed, kind=kind, fit_from=start,
                        n_boot=int(n_boot), planner_info=info)
