"""Labour-supply elasticity measured from the simulation, and welfare against a flat tax.

:func:`measure_labor_elasticity` runs the economy under flat taxes t_1 .. t_R (one run per
seed and rate, common random numbers within a seed) and regresses, per seed s,

    log H_{s,r} = c_s + e_s log(1 - t_r),

H_{s,r} the mean hours worked per household-month after a burn-in. The estimate is the
mean of e_s over seeds with its 95 % t interval (seeds are independent runs). For
:class:`~macro.households.RuleHouseholds` with ``gamma = 0`` the work propensity is exactly
(1 - t)^e, so e_s recovers ``labor_elasticity`` up to Bernoulli noise; with the default
``gamma = 0.1`` savings react to the tax as well (an income effect through the
redistributed revenue) and the measured elasticity is the total one, which is what the
Saez formula needs.

:func:`flat_tax_welfare` measures social welfare W(t) on a grid of flat taxes over seeds
and reports the maximizing rate and whether it is interior.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import _nan_to_none, _t_interval


def _flat_runs(config, make_households: Callable, rates, seeds, what: Callable[[Any], float]) -> np.ndarray:
    """what(result) for every (seed, flat rate): array (S, R)."""
    from .economy import Economy
    from .planner import FixedPlanner

    j = np.asarray(config.bracket_rates).size
    out = np.empty((len(seeds), len(rates)))
    for a, s in enumerate(seeds):
        for b, t in enumerate(rates):
            res = Economy(config, make_households(), FixedPlanner(np.full(j, t)), seed=s).run()
            out[a, b] = what(res)
    return out


def _check_grid(rates, seeds, lo_open: bool) -> tuple[np.ndarray, list]:
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 1 or rates.size < 2 or np.any(~np.isfinite(rates)) or np.any(rates < 0) or (
            np.any(rates >= 1) if lo_open else np.any(rates > 1)):
        bound = "[0, 1)" if lo_open else "[0, 1]"
        raise ValueError(f"rates must be a 1-D array of at least 2 flat tax rates in {bound}, got {rates!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    return rates, seeds


@dataclass
class ElasticityEstimate:
    """Elasticity of hours worked with respect to the net-of-tax rate, over seeds.

    Attributes
    ----------
    elasticity : float
        Mean over seeds of the per-seed OLS slope e_s of log hours on log(1 - t).
    ci : (float, float)
        95 % t interval of that mean (NaN with one seed).
    per_seed : list[float]
        e_s, one per seed.
    rates : list[float]
        Flat tax rates t_r.
    hours : list[list[float]]
        Mean hours per household-month H_{s,r}, shape (S, R).
    burn_in : int
        Months dropped at the start of every run.
    """

    elasticity: float
    ci: tuple[float, float]
    per_seed: list
    rates: list
    hours: list
    seeds: list
    burn_in: int

    def summary(self) -> str:
        return (f"Labour-supply elasticity (log hours on log net-of-tax rate, flat taxes "
                f"{[round(r, 3) for r in self.rates]}, {len(self.seeds)} seeds): e = {self.elasticity:.4f} "
                f"(95% CI {self.ci[0]:.4f} .. {self.ci[1]:.4f})")

    def to_dict(self) -> dict:
        return _nan_to_none({"elasticity": self.elasticity, "ci": list(self.ci), "per_seed": self.per_seed,
                             "rates": self.rates, "hours": self.hours, "seeds": self.seeds,
                             "burn_in": self.burn_in,
                             "method": "per-seed OLS of log mean hours on log(1 - flat rate); mean and 95% t "
                                       "interval over seeds"})


def measure_labor_elasticity(config, make_households: Callable, rates=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
                             seeds=range(5), burn_in: int = 12) -> ElasticityEstimate:
    """Measure e in log H = c + e log(1 - t) from simulated flat-tax economies (module docstring).

    Parameters
    ----------
    config : EconomyConfig
        Economy to run (``n_months`` > ``burn_in``).
    make_households : callable () -> HouseholdPolicy
        A fresh policy per run.
    rates : array_like, shape (R,), R >= 2
        Flat tax rates in [0, 1).
    seeds : iterable of seeds, S >= 1
    burn_in : int
        Months dropped at the start of each run.

    Returns
    -------
    ElasticityEstimate

    Example
    -------
    With ``gamma = 0`` the work propensity is exactly (1 - t)^e:

    >>> from macro import EconomyConfig, RuleHouseholds
    >>> est = measure_labor_elasticity(EconomyConfig(n_households=50, n_months=36),
    ...                                lambda: RuleHouseholds(gamma=0.0, labor_elasticity=0.5),
    ...                                rates=(0.0, 0.5), seeds=[0, 1], burn_in=0)
    >>> abs(est.elasticity - 0.5) < 0.1
    True
    """
    rates, seeds = _check_grid(rates, seeds, lo_open=True)
    if int(burn_in) != burn_in or burn_in < 0 or burn_in >= config.n_months:
        raise ValueError(f"burn_in must be an integer in [0, n_months = {config.n_months}), got {burn_in}")
    hours = _flat_runs(config, make_households, rates, seeds,
                       lambda r: config.hours * float(r.households["worked"][burn_in:].mean()))
    x = np.log1p(-rates)
    per_seed = []
    for h in hours:
        per_seed.append(float(np.polyfit(x, np.log(h), 1)[0]) if np.all(h > 0) else float("nan"))
    m, lo, hi = _t_interval(np.array(per_seed))
    return ElasticityEstimate(elasticity=m, ci=(lo, hi), per_seed=per_seed, rates=rates.tolist(),
                              hours=hours.tolist(), seeds=[s if isinstance(s, int) else repr(s) for s in seeds],
                              burn_in=int(burn_in))


@dataclass
class FlatTaxWelfare:
    """Social welfare W(t) of flat taxes over seeds.

    Attributes
    ----------
    rates : list[float]                 flat rates t_r (R,)
    welfare : list[list[float]]         W per seed and rate (S, R)
    mean, ci_low, ci_high : list[float] mean over seeds and 95 % t interval (R,)
    best_rate : float                   argmax_t of the mean
    interior : bool                     the argmax is neither the first nor the last rate
    best_rate_per_seed : list[float]    argmax per seed
    """

    rates: list
    welfare: list
    mean: list
    ci_low: list
    ci_high: list
    best_rate: float
    interior: bool
    best_rate_per_seed: list
    seeds: list
    welfare_function: dict

    def summary(self) -> str:
        cells = ", ".join(f"{100 * r:.0f}%: {m:.3f}" for r, m in zip(self.rates, self.mean, strict=False))
        return (f"Welfare of flat taxes over {len(self.seeds)} seeds: {cells}; optimum "
                f"{100 * self.best_rate:.0f}% ({'interior' if self.interior else 'at the edge of the grid'}); "
                f"per-seed optima {[round(100 * r) for r in self.best_rate_per_seed]} %")

    def to_dict(self) -> dict:
        return _nan_to_none(dict(self.__dict__))


def flat_tax_welfare(config, make_households: Callable, rates=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), seeds=range(5),
                     welfare=None, burn_in: int = 12) -> FlatTaxWelfare:
    """Social welfare of each flat tax rate (months after ``burn_in``), over seeds.

    W_{s,r} = :class:`~macro.welfare.SocialWelfare` of the run with seed s under the flat rate
    t_r (revenue rebated lump-sum), months [burn_in, T). The report gives the mean over
    seeds with its 95 % t interval and the maximizing rate.

    Returns
    -------
    FlatTaxWelfare

    Example
    -------
    >>> from macro import EconomyConfig, RuleHouseholds
    >>> w = flat_tax_welfare(EconomyConfig(n_households=10, n_months=24), RuleHouseholds,
    ...                      rates=(0.0, 0.3, 0.9), seeds=[0, 1])
    >>> len(w.mean), w.best_rate in (0.0, 0.3, 0.9)
    (3, True)
    """
    from .welfare import SocialWelfare

    rates, seeds = _check_grid(rates, seeds, lo_open=False)
    if int(burn_in) != burn_in or burn_in < 0 or burn_in >= config.n_months:
        raise ValueError(f"burn_in must be an integer in [0, n_months = {config.n_months}), got {burn_in}")
    welfare = welfare or SocialWelfare()
    w = _flat_runs(config, make_households, rates, seeds, lambda r: welfare(r, burn_in))
    stats = [_t_interval(w[:, k]) for k in range(rates.size)]
    mean = np.array([s[0] for s in stats])
    best = int(np.argmax(mean))
    return FlatTaxWelfare(rates=rates.tolist(), welfare=w.tolist(), mean=mean.tolist(),
                          ci_low=[s[1] for s in stats], ci_high=[s[2] for s in stats],
                          best_rate=float(rates[best]), interior=bool(0 < best < rates.size - 1),
                          best_rate_per_seed=rates[np.argmax(w, axis=1)].tolist(),
                          seeds=[s if isinstance(s, int) else repr(s) for s in seeds],
                          welfare_function=welfare.to_dict())
