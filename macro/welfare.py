"""Household utility and the planner's social welfare function (LLM Economist style).

Per household i and month t, with x_it the units of the good consumed and
l_it in {0, 1} whether it worked,

    u_it = ((1 + x_it)^(1 - eta) - 1) / (1 - eta) - psi * l_it^delta      (eta != 1)
    u_it = log(1 + x_it) - psi * l_it^delta                                (eta == 1)

(isoelastic utility of consumption minus labor disutility, as the AI-Economist's
``isoelastic_coin_minus_labor`` reward used by EconAgent and the LLM Economist;
consumption is measured in goods so that inflation does not inflate welfare, and
1 + x keeps u finite at x = 0). Social welfare over a window of months is

    W = (1 / (T N)) sum_t sum_i g_i u_it,

with weights g_i = 1 (utilitarian) or g_i proportional to 1 / max(zbar_i, 1),
zbar_i the household's mean pre-tax income in the window, normalized to mean 1
(inverse-income weights of the AI-Economist/Saez planner).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class SocialWelfare:
    """Social welfare function W (see module docstring).

    Example
    -------
    >>> sw = SocialWelfare(eta=0.5, labor_cost=1.0)
    >>> float(sw.utility(np.array([3.0]), np.array([1.0]))[0])
    1.0
    """

    eta: float = 0.5
    labor_cost: float = 5.0
    labor_exponent: float = 2.0
    weights: str = "utilitarian"

    def __post_init__(self):
        if not (np.isfinite(self.eta) and self.eta >= 0):
            raise ValueError(f"eta must be a finite number >= 0, got {self.eta}")
        if not (np.isfinite(self.labor_cost) and self.labor_cost >= 0):
            raise ValueError(f"labor_cost must be >= 0, got {self.labor_cost}")
        if self.weights not in ("utilitarian", "inverse_income"):
            raise ValueError(f"weights must be 'utilitarian' or 'inverse_income', got {self.weights!r}")

    def utility(self, consumption, worked) -> np.ndarray:
        """u_it for arrays of consumption units and labor (same shape)."""
        x = np.maximum(np.asarray(consumption, dtype=float), 0.0)
        l = np.asarray(worked, dtype=float)
        cu = np.log1p(x) if self.eta == 1.0 else ((1.0 + x) ** (1.0 - self.eta) - 1.0) / (1.0 - self.eta)
        return cu - self.labor_cost * l ** self.labor_exponent

    def household_weights(self, income) -> np.ndarray:
        """g_i (N,) from incomes of shape (T, N)."""
        z = np.asarray(income, dtype=float)
        n = z.shape[-1]
        if self.weights == "utilitarian":
            return np.ones(n)
        g = 1.0 / np.maximum(z.mean(axis=0), 1.0)
        return g / g.mean()

    def __call__(self, result, start: int = 0, stop: int | None = None) -> float:
        """W over months [start, stop) of an :class:`~macro.economy.EconomyResult`."""
        h = result.households
        sl = slice(start, stop)
        x, l, z = h["consumption_units"][sl], h["worked"][sl], h["income"][sl]
        if x.shape[0] == 0:
            raise ValueError(f"empty welfare window [{start}, {stop}) of a {result.n_months}-month run")
        return float((self.utility(x, l) * self.household_weights(z)).mean())

    def per_period(self, result, period: int) -> np.ndarray:
        """W of each complete window of ``period`` months, shape (T // period,)."""
        k = result.n_months // period
        return np.array([self(result, i * period, (i + 1) * period) for i in range(k)])

    def to_dict(self) -> dict:
        return asdict(self)
