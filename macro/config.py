"""Configuration of the EconAgent-style economy (defaults from EconAgent's code)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .monetary import TaylorRule
from .tax import US2018_MONTHLY_CUTOFFS, US2018_RATES


@dataclass
class EconomyConfig:
    """Parameters of :class:`macro.Economy` (SPEC 5; EconAgent ``config.yaml``).

    Attributes
    ----------
    n_households : int
        N (EconAgent: 100).
    n_months : int
        Default length of :meth:`Economy.run` (EconAgent: 240).
    hours : float
        Hours worked by an employed household per month (168); work is 0 or ``hours``.
    productivity : float
        A, units of the good produced per hour worked (1).
    pareto_alpha, skill_cap : float
        Hourly skill s = min(cap, (cap - 1) X + 1), X ~ Lomax(alpha) (numpy's
        ``pareto``), alpha = 8, cap = 950 (AI-Economist ``SimpleLabor``).
    skill_batches : int
        EconAgent assigns the i-th lowest household the mean of the i-th order
        statistic over 1000 batches of N draws (a smooth, rank-stable skill
        ladder). ``1`` gives plain i.i.d. draws.
    initial_interest : float
        Interest rate in the first years (0.03).
    initial_savings : float
        Savings of every household at month 0 (0).
    wage_adjust, price_adjust : float
        a_w = 0.05 and a_P = 0.10: w <- w (1 + U(0, a_w phi)), P <- P (1 + U(0, a_P phi)).
    wage_floor, price_floor : float
        EconAgent keeps every wage and the price at least 1 after an update.
    bracket_cutoffs, bracket_rates : array (J,)
        Monthly tax schedule (2018 US federal single filer, cutoffs / 12).
    months_per_year : int
        12: interest accrues and the Taylor rule runs at the end of each year.
    taylor : TaylorRule
        Monetary rule (r_n = 0.01, pi_t = 0.02, u_n = 0.04, alpha_pi = alpha_u = 0.5).
    productivity_rho, productivity_sigma : float
        Productivity shocks, AR(1) in logs: a_0 = 0, a_t = rho a_{t-1} + sigma eps_t,
        eps_t ~ N(0, 1) i.i.d. (drawn from a stream of the economy's seed), and month t's
        productivity is A_t = ``productivity`` * exp(a_t). Defaults rho = 0.9, sigma = 0.03 a
        month (stationary sd of a: sigma / sqrt(1 - rho^2) = 0.069). A_t scales both output per
        hour and the wage paid per hour (a constant labour share), so a shock moves income,
        hence labour supply, hence employment. ``productivity_sigma = 0`` switches shocks off
        (then real GDP growth equals employment growth exactly).
    """

    n_households: int = 100
    n_months: int = 240
    hours: float = 168.0
    productivity: float = 1.0
    pareto_alpha: float = 8.0
    skill_cap: float = 950.0
    skill_batches: int = 1000
    initial_interest: float = 0.03
    initial_savings: float = 0.0
    wage_adjust: float = 0.05
    price_adjust: float = 0.10
    wage_floor: float = 1.0
    price_floor: float = 1.0
    bracket_cutoffs: np.ndarray = field(default_factory=lambda: US2018_MONTHLY_CUTOFFS.copy())
    bracket_rates: np.ndarray = field(default_factory=lambda: US2018_RATES.copy())
    months_per_year: int = 12
    taylor: TaylorRule = field(default_factory=TaylorRule)
    productivity_rho: float = 0.9
    productivity_sigma: float = 0.03

    def __post_init__(self):
        from .tax import _check_schedule

        if int(self.n_households) != self.n_households or self.n_households < 1:
            raise ValueError(f"n_households must be a positive integer, got {self.n_households}")
        if int(self.n_months) != self.n_months or self.n_months < 0:
            raise ValueError(f"n_months must be a non-negative integer, got {self.n_months}")
        if int(self.months_per_year) != self.months_per_year or self.months_per_year < 1:
            raise ValueError(f"months_per_year must be a positive integer, got {self.months_per_year}")
        if int(self.skill_batches) != self.skill_batches or self.skill_batches < 1:
            raise ValueError(f"skill_batches must be a positive integer, got {self.skill_batches}")
        self.n_households = int(self.n_households)
        self.n_months = int(self.n_months)
        for name in ("hours", "productivity", "pareto_alpha", "skill_cap"):
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {v}")
        if self.skill_cap < 1:
            raise ValueError(f"skill_cap must be >= 1, got {self.skill_cap}")
        if not (np.isfinite(self.productivity_rho) and -1 < self.productivity_rho < 1):
            raise ValueError(f"productivity_rho must lie in (-1, 1), got {self.productivity_rho}")
        if not (np.isfinite(self.productivity_sigma) and 0 <= self.productivity_sigma <= 1):
            raise ValueError(f"productivity_sigma must lie in [0, 1], got {self.productivity_sigma}")
        for name in ("initial_interest", "initial_savings", "wage_adjust", "price_adjust",
                     "wage_floor", "price_floor"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v}")
        # With phi = -1 the update factor 1 + U(a phi, 0) reaches 1 - a: an adjustment of 1 or
        # more can send a wage or the price to 0 (then demand p_c m / P is inf/NaN) unless
        # its floor keeps it positive.
        for adj, floor in (("wage_adjust", "wage_floor"), ("price_adjust", "price_floor")):
            if getattr(self, adj) >= 1 and getattr(self, floor) <= 0:
                raise ValueError(f"{adj} = {getattr(self, adj)} >= 1 needs {floor} > 0, or wages "
                                 f"and the price can reach 0")
        self.bracket_cutoffs, self.bracket_rates = _check_schedule(self.bracket_cutoffs,
                                                                   self.bracket_rates)
        self.bracket_cutoffs = self.bracket_cutoffs.copy()
        self.bracket_rates = self.bracket_rates.copy()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bracket_cutoffs"] = self.bracket_cutoffs.tolist()
        d["bracket_rates"] = self.bracket_rates.tolist()
        d["taylor"] = self.taylor.to_dict()
        return d
