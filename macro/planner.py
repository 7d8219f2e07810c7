"""Tax planners (fixed, Saez, LLM with epsilon-greedy exploration), regret and SPSA.

A planner is attached to an :class:`~macro.economy.Economy`; at the start of
every month the economy calls ``planner.rates_for_month(month, economy)`` and
applies the returned bracket rates (or keeps the current ones on ``None``).
Planners act every ``interval`` months (month 0 included).

* :class:`FixedPlanner`: one schedule for the whole run.
* :class:`SaezPlanner`: the Saez formula (:func:`macro.tax.saez_rates`) on the
  incomes of the last ``interval`` months (the configured schedule until then).
* :class:`LLMPlanner`: LLM Economist-style: the model sees the current rates,
  the welfare and indicators of past periods, and proposes a change of each
  bracket rate in [-20, +20] percentage points; with probability ``epsilon``
  the planner instead takes a uniformly random change (epsilon-greedy; following
  "From Words to Actions", arXiv 2405.19883).

:func:`regret_study` measures the welfare regret of a planner against the best
fixed schedule found by grid search, with and without exploration, using common
random numbers (the same seed for every run). :func:`optimize_rates_spsa` treats
the schedule as an SPSA problem via :func:`control.spsa`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tax import US2018_RATES, saez_rates
from .welfare import SocialWelfare


class Planner:
    """Base class: act every ``interval`` months; subclasses implement :meth:`propose`."""

    name = "planner"

    def __init__(self, interval: int = 12):
        if int(interval) != interval or interval < 1:
            raise ValueError(f"interval must be a positive integer number of months, got {interval}")
        self.interval = int(interval)
        self.history: list[dict] = []

    def reset(self, economy) -> None:
        self.history = []
        self.rng = economy._rng_planner

    def rates_for_month(self, month: int, economy):
        if month % self.interval:
            return None
        rates, info = self.propose(month, economy)
        if rates is not None:
            rates = np.clip(np.asarray(rates, dtype=float), 0.0, 1.0)
        self.history.append({"month": month, "rates": None if rates is None else rates.tolist(), **info})
        return rates

    def propose(self, month: int, economy) -> tuple[np.ndarray | None, dict]:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"name": self.name, "interval": self.interval, "history": self.history}


class FixedPlanner(Planner):
    """Keeps ``rates`` (J,) for the whole run."""

    def __init__(self, rates, interval: int = 12):
        super().__init__(interval)
        self.rates = np.asarray(rates, dtype=float)
        if self.rates.ndim != 1 or np.any(~np.isfinite(self.rates)) or np.any((self.rates < 0) | (self.rates > 1)):
            raise ValueError(f"rates must be a 1-D array of numbers in [0, 1], got {rates!r}")
        self.name = "fixed"

    def propose(self, month, economy):
        return (self.rates if month == 0 else None), {}


class SaezPlanner(Planner):
    """Rates from the Saez formula on the last ``interval`` months of incomes.

    Parameters
    ----------
    elasticity : float or None
        Elasticity of taxable income; ``None`` estimates it each period by OLS of
        log z on log(1 - tau) over working households (clipped to [0, 2]; 0.5 when
        the rates did not vary enough to identify it).
    weights : {"inverse_income", "uniform"}
    """

    def __init__(self, interval: int = 12, elasticity: float | None = 0.5,
                 weights: str = "inverse_income"):
        super().__init__(interval)
        if elasticity is not None and (not np.isfinite(elasticity) or elasticity < 0):
            raise ValueError(f"elasticity must be >= 0 or None, got {elasticity}")
        self.elasticity, self.weights = elasticity, weights
        self.name = "saez"

    def _estimate_elasticity(self, economy) -> float:
        from .tax import marginal_rate

        h = economy._h
        z = np.array(h["income"]).ravel()
        rates = np.array(economy._rates)
        tau = np.concatenate([marginal_rate(np.array(zz), economy.tax_cutoffs, rr)
                              for zz, rr in zip(h["income"], rates, strict=False)])
        ok = (z > 0) & (tau < 1)
        x = np.log(1 - tau[ok])
        if ok.sum() < 10 or np.std(x) < 1e-6:
            return 0.5
        slope = np.polyfit(x, np.log(z[ok]), 1)[0]
        return float(np.clip(slope, 0.0, 2.0))

    def propose(self, month, economy):
        if month == 0:
            return None, {"note": "no incomes observed yet: configured schedule kept"}
        incomes = np.array(economy._h["income"][-self.interval:])
        e = self.elasticity if self.elasticity is not None else self._estimate_elasticity(economy)
        rates = saez_rates(incomes.ravel(), economy.tax_cutoffs, elasticity=e, weights=self.weights)
        return rates, {"elasticity": e}

    def to_dict(self):
        return {**super().to_dict(), "elasticity": self.elasticity, "weights": self.weights}


PLANNER_SYSTEM = (
    "You are the tax planner of a small economy. You set marginal income tax rates for "
    "{j} monthly income brackets; all tax revenue is returned to households in equal lump "
    "sums. Your goal is to maximize social welfare (household utility from consumption "
    "minus the disutility of work).")


class LLMPlanner(Planner):
    """LLM Economist-style planner with epsilon-greedy exploration.

    Every ``interval`` months (from month ``interval`` on: month 0 keeps the
    configured schedule so the model has one period of evidence) the model gets
    the bracket edges, the current rates and a table of past periods (rates,
    social welfare, unemployment, inflation) and answers JSON
    ``{"bracket_1": d1, ..., "bracket_J": dJ}`` with changes d_j in percentage
    points. Changes are clipped to [-max_change, +max_change] points, and rates
    to [0, 1]. With probability ``epsilon`` the reply is ignored and each d_j is
    drawn uniformly from the integers in [-max_change, max_change] (exploration).
    An unparsable reply counts as a parse failure and leaves the rates unchanged.

    Parameters
    ----------
    backend : llmas.Backend
    interval : int
        Months between decisions (LLM Economist: one "tax year").
    epsilon : float
        Exploration probability in [0, 1].
    max_change : float
        Largest change of one rate, in percentage points (20).
    welfare : SocialWelfare
        Objective shown to the model and reported.
    decoding : dict
        Decoding parameters for ``backend.complete`` (default greedy, 200 tokens).
    """

    def __init__(self, backend, interval: int = 12, epsilon: float = 0.1, max_change: float = 20.0,
                 welfare: SocialWelfare | None = None, decoding: dict | None = None):
        super().__init__(interval)
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        if not (np.isfinite(max_change) and 0 < max_change <= 100):
            raise ValueError(f"max_change must be in (0, 100] percentage points, got {max_change}")
        self.backend, self.epsilon, self.max_change = backend, float(epsilon), float(max_change)
        self.welfare = welfare or SocialWelfare()
        self.decoding = {"temperature": 0.0, "max_tokens": 200, **(decoding or {})}
        self.name = f"llm(eps={epsilon:g})"
        self.n_parse_failures = 0
        self.n_explored = 0

    def reset(self, economy):
        super().reset(economy)
        self.n_parse_failures = 0
        self.n_explored = 0

    def schema(self, j: int) -> dict:
        return {f"bracket_{k + 1}": float for k in range(j)}

    def prompt(self, month: int, economy) -> list[dict]:
        j = economy.tax_cutoffs.size
        res = economy.result()
        lines = []
        for k in range(month // self.interval):
            lo, hi = k * self.interval, (k + 1) * self.interval
            w = self.welfare(res, lo, hi)
            u = 1 - res.monthly["employment"][lo:hi].mean()
            p = res.monthly["price"]
            infl = p[lo:hi].mean() / p[max(lo - self.interval, 0):lo].mean() - 1 if lo else 0.0
            rates = ", ".join(f"{100 * r:.0f}" for r in res.tax_rates[lo])
            lines.append(f"period {k + 1}: rates [{rates}] %, welfare {w:.3f}, unemployment "
                         f"{100 * u:.1f} %, inflation {100 * infl:.1f} %")
        edges = ", ".join(f"{c:,.0f}" for c in economy.tax_cutoffs)
        current = ", ".join(f"{100 * r:.0f}" for r in economy.tax_rates)
        keys = ", ".join(f'"bracket_{k + 1}": <change>' for k in range(j))
        user = (f"Bracket lower edges (monthly income): [{edges}].\n"
                f"Current marginal rates (percent): [{current}].\n"
                f"History:\n" + "\n".join(lines) + "\n"
                f"Propose a change for each bracket rate, in percentage points between "
                f"-{self.max_change:.0f} and +{self.max_change:.0f}. Reply with JSON only: {{{keys}}}")
        return [{"role": "system", "content": PLANNER_SYSTEM.format(j=j)},
                {"role": "user", "content": user}]

    def propose(self, month, economy):
        if month == 0:
            return None, {"source": "initial"}
        j = economy.tax_cutoffs.size
        explore = self.rng.random() < self.epsilon
        random_delta = self.rng.integers(-int(self.max_change), int(self.max_change) + 1, size=j)
        info: dict[str, Any] = {}
        if explore:
            self.n_explored += 1
            delta = random_delta.astype(float)
            info["source"] = "explore"
        else:
            import llmas

            reply = self.backend.complete(self.prompt(month, economy), **self.decoding)
            info["reply"] = reply
            try:
                parsed = llmas.parse_json_reply(reply, self.schema(j))
                delta = np.array([parsed[f"bracket_{k + 1}"] for k in range(j)], dtype=float)
                if np.any(~np.isfinite(delta)):
                    raise ValueError("non-finite rate change")
                info["source"] = "model"
            except ValueError as err:  # llmas.ParseError is a ValueError
                self.n_parse_failures += 1
                info.update(source="parse_failure", reason=str(getattr(err, "reason", err)))
                delta = np.zeros(j)
        delta = np.clip(delta, -self.max_change, self.max_change)
        info["delta_points"] = delta.tolist()
        return economy.tax_rates + delta / 100.0, info

    def to_dict(self):
        return {**super().to_dict(), "epsilon": self.epsilon, "max_change": self.max_change,
                "model": getattr(self.backend, "model", None), "decoding": self.decoding,
                "n_parse_failures": self.n_parse_failures, "n_explored": self.n_explored,
                "welfare": self.welfare.to_dict()}


class RandomPlanner(LLMPlanner):
    """Pure exploration (epsilon = 1): a uniformly random change of every rate each period."""

    def __init__(self, interval: int = 12, max_change: float = 20.0, welfare: SocialWelfare | None = None):
        super().__init__(backend=None, interval=interval, epsilon=1.0, max_change=max_change, welfare=welfare)
        self.name = "random"


def default_candidates() -> dict[str, np.ndarray]:
    """Grid of fixed schedules: flat rates 0, 10, ..., 60 % and the US 2018 rates x {0.5, 1, 1.5, 2}.

    Returns ``{name: rates}``, 11 schedules, each rates array of shape (J,) = (7,),
    with the scaled US rates capped at 1: min(s tau_j, 1).

    Example
    -------
    >>> c = default_candidates()
    >>> len(c), c["flat 20%"].tolist()[:2], round(float(c["US2018 x2"].max()), 2)
    (11, [0.2, 0.2], 0.74)
    """
    cands = {f"flat {int(round(100 * r))}%": np.full(US2018_RATES.size, r) for r in np.arange(0.0, 0.61, 0.1)}
    for s in (0.5, 1.0, 1.5, 2.0):
        cands[f"US2018 x{s:g}"] = np.minimum(US2018_RATES * s, 1.0)
    return cands


@dataclass
class RegretResult:
    """Welfare regret of planners against the best fixed schedule of a grid.

    Attributes
    ----------
    period : int
        Months per welfare period (the planners' interval).
    grid_welfare : dict[str, float]
        Total welfare (sum over periods) of each fixed candidate.
    best_schedule, best_rates : name and rates of the best fixed candidate.
    best_per_period : ndarray (K,)
        Its welfare per period.
    planner_per_period : dict[str, ndarray (K,)]
        Welfare per period of each planner run (e.g. "eps=0", "eps=0.1").
    cumulative_regret : dict[str, ndarray (K,)]
        sum_{k' <= k} (W_best(k') - W_planner(k')).
    """

    period: int
    seed: Any
    grid_welfare: dict
    best_schedule: str
    best_rates: np.ndarray
    best_per_period: np.ndarray
    planner_per_period: dict
    cumulative_regret: dict
    planner_info: dict = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"Regret against the best fixed schedule ({self.best_schedule}, total welfare "
                 f"{self.grid_welfare[self.best_schedule]:.3f}) over {self.best_per_period.size} "
                 f"periods of {self.period} months:"]
        for k, v in self.cumulative_regret.items():
            lines.append(f"  {k:<12s} final cumulative regret {v[-1]:+.4f}, per period "
                         f"{v[-1] / max(v.size, 1):+.4f}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        from .metrics import _nan_to_none

        return _nan_to_none({
            "period": self.period, "seed": self.seed, "grid_welfare": self.grid_welfare,
            "best_schedule": self.best_schedule, "best_rates": self.best_rates,
            "best_per_period": self.best_per_period, "planner_per_period": self.planner_per_period,
            "cumulative_regret": self.cumulative_regret, "planner_info": self.planner_info})


def regret_study(config, make_households: Callable[[], Any], make_planner: Callable[[float], Planner],
                 epsilons=(0.0, 0.1), candidates: dict | None = None, welfare: SocialWelfare | None = None,
                 seed=0, period: int = 12) -> RegretResult:
    """Regret of ``make_planner(epsilon)`` for each epsilon against the best fixed schedule.

    Every run (each fixed candidate, each planner) uses the same ``seed``, so
    skills and shocks are common random numbers. Welfare per period k is
    W_k = :class:`SocialWelfare` over months [k period, (k + 1) period), and the
    cumulative regret after K periods is sum_k (W_k(best fixed) - W_k(planner)),
    where the best fixed schedule maximizes sum_k W_k over ``candidates``
    (default :func:`default_candidates`).

    Parameters
    ----------
    config : EconomyConfig
    make_households : callable () -> HouseholdPolicy
        A fresh policy per run (policies keep state).
    make_planner : callable (epsilon) -> Planner

    Returns
    -------
    RegretResult
        ``cumulative_regret[f"eps={epsilon:g}"]``, shape (K,) with K = n_months // period.

    Example
    -------
    A planner that plays the US 2018 schedule (epsilon 0) and a random one
    (epsilon 1), against a two-schedule grid, on 2 years of 5 households:

    >>> from macro import EconomyConfig, RuleHouseholds, US2018_RATES
    >>> cands = {"flat 0%": np.zeros(7), "US2018": US2018_RATES}
    >>> make = lambda eps: RandomPlanner() if eps > 0 else FixedPlanner(US2018_RATES)
    >>> r = regret_study(EconomyConfig(n_households=5, n_months=24), RuleHouseholds, make,
    ...                  epsilons=(0.0, 1.0), candidates=cands, seed=0)
    >>> sorted(r.cumulative_regret), r.cumulative_regret["eps=1"].shape
    (['eps=0', 'eps=1'], (2,))
    >>> r.best_schedule, r.cumulative_regret["eps=0"].tolist()   # playing the best schedule: no regret
    ('US2018', [0.0, 0.0])
    """
    from .economy import Economy

    welfare = welfare or SocialWelfare()
    candidates = candidates or default_candidates()
    if not candidates:
        raise ValueError("candidates must name at least one fixed schedule")
    if config.n_months < period:
        raise ValueError(f"the run ({config.n_months} months) is shorter than one period ({period})")
    per = {}
    for name, rates in candidates.items():
        res = Economy(config, make_households(), FixedPlanner(rates), seed=seed).run()
        per[name] = welfare.per_period(res, period)
    totals = {k: float(v.sum()) for k, v in per.items()}
    best = max(totals, key=totals.__getitem__)
    planner_pp, regret, info = {}, {}, {}
    for eps in epsilons:
        planner = make_planner(eps)
        res = Economy(config, make_households(), planner, seed=seed).run()
        w = welfare.per_period(res, period)
        key = f"eps={eps:g}"
        planner_pp[key] = w
        regret[key] = np.cumsum(per[best] - w)
        info[key] = planner.to_dict()
    return RegretResult(period=period, seed=seed, grid_welfare=totals, best_schedule=best,
                        best_rates=np.asarray(candidates[best], dtype=float), best_per_period=per[best],
                        planner_per_period=planner_pp, cumulative_regret=regret, planner_info=info)


def optimize_rates_spsa(config, make_households: Callable[[], Any], n_iter: int = 50,
                        theta0=None, welfare: SocialWelfare | None = None, seed=0, **spsa_kwargs):
    """Choose fixed bracket rates by SPSA (:func:`control.spsa`) to maximize welfare.

    The objective J(theta, seed) = -W(run with rates clip(theta, 0, 1), seed) is
    noisy in the economy's shocks; SPSA uses common random numbers (both
    perturbed runs share a seed) and projects theta onto [0, 1]^J.

    Returns ``(rates, spsa_result)``: ``rates`` of shape (J,) in [0, 1] and the
    :class:`control.spsa.SPSAResult`.

    Example
    -------
    Two SPSA iterations on one year of 5 households (a real search uses more):

    >>> from macro import EconomyConfig, RuleHouseholds
    >>> rates, res = optimize_rates_spsa(EconomyConfig(n_households=5, n_months=12), RuleHouseholds,
    ...                                  n_iter=2, seed=0)
    >>> rates.shape, bool(np.all((rates >= 0) & (rates <= 1)))
    ((7,), True)
    """
    from control import spsa  # control owns the optimizer

    from .economy import Economy

    welfare = welfare or SocialWelfare()
    theta0 = np.asarray(config.bracket_rates if theta0 is None else theta0, dtype=float)

    def objective(theta, seed=None):
        res = Economy(config, make_households(), FixedPlanner(np.clip(theta, 0, 1)), seed=seed).run()
        return -welfare(res)

    kwargs = {"c": 0.05, "bounds": (0.0, 1.0), "seed": seed}
    kwargs.update(spsa_kwargs)
    out = spsa(objective, theta0, n_iter, **kwargs)
    theta = getattr(out, "theta", None)
    if theta is None:
        theta = out["theta"] if isinstance(out, dict) else out
    return np.clip(np.asarray(theta, dtype=float), 0, 1), out
