"""Revealed-preference audit of household choices with ``ribum``.

Mapping (documented choice). Each month t is a budget for household i over
three goods:

* x_1 = units of the good consumed, price P_t;
* x_2 = leisure hours, hours * (1 - l_t), price w_t (1 - tau_t), the net-of-tax
  wage, where tau_t = T(hours w_t) / (hours w_t) is the average tax rate of a
  full month's work under the schedule in force;
* x_3 = money kept to the end of the month (before interest), price 1.

Because work is all-or-nothing, this budget is exact, not a linearization:
P_t x_1 + w_t (1 - tau_t) x_2 + x_3 = s_start + R_t + w_t (1 - tau_t) hours
holds whether or not the household worked (if it worked it paid exactly
tau_t hours w_t in tax). Months differ in prices, wages, taxes and transfers,
so GARP and Afriat's CCEI (:func:`ribum.garp`, :func:`ribum.ccei`) ask whether
one stable monotone utility over (consumption, leisure, money) rationalizes
the household's T choices. Rule-based households are not utility maximizers
and LLM households need not be; a CCEI near 1 means "close to rational".
Net prices of zero (a 100 % tax) are floored at 1e-9 so the budget stays defined.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tax import bracket_tax


def budgets(result, household: int) -> tuple[np.ndarray, np.ndarray]:
    """(prices, quantities), each of shape (T, 3), of one household (mapping above)."""
    h, m = result.households, result.monthly
    n = result.config.n_households
    if not 0 <= household < n:
        raise ValueError(f"household must be in [0, {n}), got {household}")
    hours = result.config.hours
    w = h["skill"][:, household]
    full = hours * w
    tau = np.array([bracket_tax(f, result.tax_cutoffs, r) for f, r in zip(full, result.tax_rates, strict=False)]) / full
    net_wage = np.maximum(w * (1.0 - tau), 1e-9)
    p = np.column_stack([m["price"], net_wage, np.ones_like(w)])
    r_t = m["interest_rate"] * (((np.arange(result.n_months) + 1) % result.config.months_per_year) == 0)
    money_end = h["savings_end"][:, household] / (1.0 + r_t)
    x = np.column_stack([h["consumption_units"][:, household],
                         hours * (1.0 - h["worked"][:, household]), money_end])
    return p, x


@dataclass
class HouseholdAudit:
    """GARP and CCEI per household.

    Attributes
    ----------
    garp_passed : ndarray (N,) bool      GARP at e = 1.
    violations : ndarray (N,) int        violating pairs at e = 1.
    ccei : ndarray (N,)                  Afriat's critical cost efficiency index.
    n_months : int                        budgets per household.
    """

    garp_passed: np.ndarray
    violations: np.ndarray
    ccei: np.ndarray
    n_months: int
    mapping: str = "goods (consumption, leisure hours, money kept) at prices (P_t, net wage, 1)"

    def summary(self) -> str:
        c = self.ccei
        return (f"Revealed-preference audit of {c.size} households over {self.n_months} monthly budgets "
                f"[{self.mapping}]: GARP passed by {self.garp_passed.mean():.0%}; CCEI mean {c.mean():.4f}, "
                f"median {np.median(c):.4f}, min {c.min():.4f}")

    def to_dict(self) -> dict:
        return {"garp_passed": self.garp_passed.tolist(), "violations": self.violations.tolist(),
                "ccei": self.ccei.tolist(), "n_months": self.n_months, "mapping": self.mapping,
                "share_passing": float(self.garp_passed.mean()), "ccei_mean": float(self.ccei.mean()),
                "ccei_median": float(np.median(self.ccei)), "ccei_min": float(self.ccei.min())}


def audit_households(result, households=None) -> HouseholdAudit:
    """Run :func:`ribum.garp` and :func:`ribum.ccei` on each household's monthly budgets.

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> res = Economy(EconomyConfig(n_households=3), seed=0).run(24)
    >>> audit_households(res).ccei.shape
    (3,)
    """
    from ribum import ccei, garp
    if result.n_months < 2:
        raise ValueError("an audit needs at least two months of choices")
    idx = range(result.config.n_households) if households is None else list(households)
    passed, viol, cc = [], [], []
    for i in idx:
        p, x = budgets(result, i)
        g = garp(p, x)
        passed.append(bool(g.passed))
        viol.append(int(g.violations))
        cc.append(float(ccei(p, x)))
    return HouseholdAudit(np.array(passed), np.array(viol), np.array(cc), result.n_months)
