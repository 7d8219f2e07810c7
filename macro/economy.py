"""The EconAgent economy (SPEC 5), vectorized over households.

Month t, in order (EconAgent's component order: labor, tax, consumption, saving):

0. *Planner*: if a planner is attached it may replace the bracket rates (after a
   household vote when the planner is a :class:`macro.vote.VotedPlanner`).
1. *Labor*: productivity this month is A_t = A exp(a_t), a_t an AR(1) in logs
   (a_0 = 0, a_t = rho a_{t-1} + sigma eps_t, ``EconomyConfig.productivity_rho`` /
   ``productivity_sigma``); the wage in force is w_i exp(a_t) (w_i the household's
   base wage, adjusted in step 3). Household i works (``hours`` hours) with
   probability p_w[i]; gross income z_i = hours * w_i exp(a_t) * l_i is paid by the
   firm; the firm's inventory grows by production A_t * hours * sum_i l_i.
2. *Tax*: T_i = T(z_i) under the bracket schedule; revenue is redistributed
   equally, R = sum_i T_i / N. Money after income: m_i = s_i + z_i - T_i + R.
3. *Consumption*, households in a random order: demand d_i = p_c[i] m_i / P units,
   served while inventory lasts (rationing); spending P * served_i goes to the firm.
   Imbalance phi = (D - G) / max(D, G), D total demand and G the inventory before
   consumption. Then each wage w_i <- max(floor, w_i (1 + U(0, a_w phi))) with
   independent draws, and P <- max(floor, P (1 + U(0, a_P phi))) with one draw
   (U(0, x) for x < 0 means a uniform draw on (x, 0)).
4. *Saving*: at the end of every 12th month savings earn interest, s_i <- (1 + r) s_i,
   and from the end of the second year on the Taylor rule sets r from the
   annual inflation of the mean monthly price and the annual unemployment rate
   of the year just ended (EconAgent keeps the initial 3 % through year 2).
5. *Social channel* (optional, :class:`macro.social.ExpectationChannel`): after the
   price update, a sample of households announce whether they expect the price to
   have gone up, and the public belief follows the sociallearn filter.

Reading of SPEC 5 where it is silent (EconAgent's firm is implicit):

* One firm pays all wages and receives all consumption spending. Its money
  balance ``firm_money`` is an account that may go negative (the firm is not
  budget-constrained in EconAgent); it earns no interest.
* Interest is paid by an outside bank: it is the only source of new money.
  Hence, every month, exactly
      sum_i Delta s_i = wages - taxes + redistribution - spending + interest,
      Delta firm_money = spending - wages,   taxes = redistribution,
  and for goods  Delta inventory = production - consumption.
  :meth:`EconomyResult.check_accounting` verifies both to rounding error.
* Prices recorded for month t are the price at which month t's goods were
  sold (before that month's update); nominal GDP_t = P_t * production_t,
  real GDP_t = P_0 * production_t (EconAgent's definitions).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import EconomyConfig
from .households import HouseholdPolicy, MonthOutcome, Observation, RuleHouseholds
from .tax import _check_schedule, bracket_tax


def initial_skills(config: EconomyConfig, rng: np.random.Generator) -> np.ndarray:
    """Hourly skills, shape (N,): s = min(cap, (cap - 1) X + 1), X ~ Lomax(alpha).

    With ``skill_batches = B > 1`` (EconAgent: 1000) the i-th household gets the mean
    of the i-th smallest draw over B batches of N draws, so skills are sorted.

    Parameters
    ----------
    config : EconomyConfig
        Uses ``n_households`` (N), ``pareto_alpha``, ``skill_cap``, ``skill_batches``.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (N,), values in [1, cap].

    Example
    -------
    >>> from macro import EconomyConfig
    >>> s = initial_skills(EconomyConfig(n_households=4), np.random.default_rng(0))
    >>> s.shape, bool(np.all(np.diff(s) > 0)), bool(np.all((s >= 1) & (s <= 950)))
    ((4,), True, True)
    """
    n, b, cap = config.n_households, config.skill_batches, config.skill_cap
    x = rng.pareto(config.pareto_alpha, size=(b, n))
    s = np.minimum(cap, (cap - 1.0) * x + 1.0)
    if b == 1:
        return s[0]
    return np.sort(s, axis=1).mean(axis=0)


_MONTHLY = ("price", "mean_wage", "productivity", "interest_rate", "employment", "production", "consumption",
            "demand", "imbalance", "inventory_start", "inventory_end", "wages_paid", "taxes",
            "redistribution", "spending", "interest", "savings_start", "savings_end",
            "firm_start", "firm_end")
_HOUSEHOLD = ("worked", "income", "tax", "consumption_units", "spending", "savings_start",
              "savings_end", "skill", "work_propensity", "consumption_share")


@dataclass
class EconomyResult:
    """Everything an :class:`Economy` run recorded.

    Attributes
    ----------
    monthly : dict[str, ndarray (T,)]
        Aggregates per month: ``price`` P_t (price at which month t's goods sold),
        ``mean_wage``, ``interest_rate``, ``employment`` (share working), ``production``,
        ``consumption`` (units), ``demand`` (units), ``imbalance`` phi, inventories,
        and the money ledger (``wages_paid``, ``taxes``, ``redistribution``,
        ``spending``, ``interest``, household and firm balances at start/end).
    households : dict[str, ndarray (T, N)]
        Per household and month: ``worked``, ``income``, ``tax``,
        ``consumption_units``, ``spending``, ``savings_start``, ``savings_end``,
        ``skill`` (wage in force), ``work_propensity``, ``consumption_share``.
    tax_rates : ndarray (T, J)
        Bracket rates in force each month.
    """

    config: EconomyConfig
    seed: Any
    policy: dict
    monthly: dict
    households: dict
    tax_rates: np.ndarray
    tax_cutoffs: np.ndarray
    policy_stats: dict = field(default_factory=dict)
    planner: dict | None = None
    social: dict | None = None

    @property
    def n_months(self) -> int:
        return int(self.monthly["price"].shape[0])

    @property
    def nominal_gdp(self) -> np.ndarray:
        return self.monthly["price"] * self.monthly["production"]

    @property
    def real_gdp(self) -> np.ndarray:
        p0 = self.monthly["price"][0] if self.n_months else np.nan
        return p0 * self.monthly["production"]

    def accounting_residuals(self) -> dict[str, np.ndarray]:
        """Per-month residuals of the accounting identities (all ~ 0).

        ``money_households``: sum Delta s - (wages - taxes + redistribution - spending + interest);
        ``money_firm``: Delta firm - (spending - wages); ``redistribution``: taxes - redistribution;
        ``money_total``: Delta(sum s + firm) - interest; ``goods``: Delta inventory -
        (production - consumption); ``household_rows``: household by household
        s_end = (s_start + z - T + R - spending) (1 + r 1[interest month]), max over households.
        """
        m, h = self.monthly, self.households
        res = {
            "money_households": (m["savings_end"] - m["savings_start"])
            - (m["wages_paid"] - m["taxes"] + m["redistribution"] - m["spending"] + m["interest"]),
            "money_firm": (m["firm_end"] - m["firm_start"]) - (m["spending"] - m["wages_paid"]),
            "redistribution": m["taxes"] - m["redistribution"],
            "money_total": (m["savings_end"] + m["firm_end"] - m["savings_start"] - m["firm_start"])
            - m["interest"],
            "goods": (m["inventory_end"] - m["inventory_start"]) - (m["production"] - m["consumption"]),
        }
        y = self.config.months_per_year
        t = np.arange(self.n_months)
        accrues = ((t + 1) % y == 0).astype(float)
        before_interest = (h["savings_start"] + h["income"] - h["tax"]
                           + (m["redistribution"] / self.config.n_households)[:, None] - h["spending"])
        expected = before_interest * (1.0 + (m["interest_rate"] * accrues))[:, None]
        res["household_rows"] = (np.max(np.abs(h["savings_end"] - expected), axis=1)
                                 if self.n_months else np.zeros(0))
        return res

    def check_accounting(self, rtol: float = 1e-9) -> float:
        """Largest accounting residual relative to the money/goods scale; raises if > ``rtol``.

        Returns the largest relative residual.
        """
        res = self.accounting_residuals()
        m = self.monthly
        money_scale = max(1.0, float(np.max(np.abs(np.concatenate(
            [m["savings_end"], m["wages_paid"], m["spending"], np.abs(m["firm_end"])])))))
        goods_scale = max(1.0, float(np.max(np.concatenate([m["inventory_start"], m["production"]]))))
        worst = 0.0
        for k, v in res.items():
            scale = goods_scale if k == "goods" else money_scale
            rel = float(np.max(np.abs(v))) / scale if v.size else 0.0
            if rel > rtol:
                raise AssertionError(f"accounting identity {k!r} broken: relative residual {rel:.3e}")
            worst = max(worst, rel)
        return worst

    def annual(self):
        """Annual indicators (see :func:`macro.metrics.annual_indicators`)."""
        from .metrics import annual_indicators

        return annual_indicators(self)

    def summary(self) -> str:
        a = self.annual()
        lines = [f"Economy: {self.config.n_households} households x {self.n_months} months, "
                 f"policy {self.policy.get('name')}, seed {self.seed}",
                 f"  final price {self.monthly['price'][-1]:.2f}, mean wage "
                 f"{self.monthly['mean_wage'][-1]:.2f}, interest rate {self.monthly['interest_rate'][-1]:.3f}"]
        lines.append(a.summary())
        if self.policy_stats:
            lines.append(f"  policy: {json.dumps(self.policy_stats)}")
        return "\n".join(lines)

    def to_dict(self, households: bool = False) -> dict:
        d = {"config": self.config.to_dict(), "seed": self.seed, "policy": self.policy,
             "policy_stats": self.policy_stats, "planner": self.planner, "social": self.social,
             "monthly": {k: v.tolist() for k, v in self.monthly.items()},
             "tax_rates": self.tax_rates.tolist(), "tax_cutoffs": self.tax_cutoffs.tolist(),
             "annual": self.annual().to_dict()}
        if households:
            d["households"] = {k: v.tolist() for k, v in self.households.items()}
        return d


class Economy:
    """EconAgent-style economy with N households, one firm, a tax authority and a central bank.

    Parameters
    ----------
    config : EconomyConfig, optional
        Parameters (EconAgent defaults).
    households : HouseholdPolicy, optional
        Decision rule for all households (default: ``RuleHouseholds("composite")``).
    planner : object, optional
        Anything with ``reset(economy)`` and ``rates_for_month(month, economy) -> rates or None``
        (see :mod:`macro.planner`); ``None`` keeps the configured brackets.
    social : ExpectationChannel, optional
        Social channel in expectations (:mod:`macro.social`), run at the end of every month.
    seed : int, SeedSequence or Generator, optional
        The only source of randomness. Skills, labor draws, consumption order,
        wage/price shocks, the policy's and the planner's draws, productivity
        shocks and the social channel's signals come from independent streams
        spawned from it, so a run is reproducible.

    Example
    -------
    >>> econ = Economy(EconomyConfig(n_households=10), seed=1)
    >>> res = econ.run(24)
    >>> res.check_accounting() < 1e-9
    True
    """

    def __init__(self, config: EconomyConfig | None = None, households: HouseholdPolicy | None = None,
                 planner=None, seed=None, social=None):
        self.config = config if config is not None else EconomyConfig()
        if not isinstance(self.config, EconomyConfig):
            raise ValueError(f"config must be an EconomyConfig, got {type(self.config).__name__}")
        self.policy = households if households is not None else RuleHouseholds("composite")
        if not isinstance(self.policy, HouseholdPolicy):
            raise ValueError(f"households must be a HouseholdPolicy, got {type(self.policy).__name__}")
        self.planner = planner
        self.social = social
        self.seed = seed if isinstance(seed, (int, type(None))) else repr(seed)
        ss: np.random.SeedSequence
        if isinstance(seed, np.random.Generator):
            seq = seed.bit_generator.seed_seq
            if not isinstance(seq, np.random.SeedSequence):
                raise ValueError(f"seed: the Generator's bit generator has no SeedSequence to spawn streams "
                                 f"from (it has {type(seq).__name__})")
            ss = seq
        elif isinstance(seed, np.random.SeedSequence):
            ss = seed
        else:
            try:
                ss = np.random.SeedSequence(seed)
            except (TypeError, ValueError) as err:
                raise ValueError(f"seed must be None, a non-negative int, a SeedSequence or a "
                                 f"Generator, got {seed!r}") from err
        # The first four streams are those of the model without shocks (spawn(k) extends spawn(4)).
        streams = ss.spawn(6)
        (self._rng_skill, self.rng, self._rng_policy, self._rng_planner, self._rng_shock,
         self._rng_social) = (np.random.default_rng(s) for s in streams)
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Month 0 state: skills drawn, savings at their initial value, P_0 = mean skill."""
        c = self.config
        n = c.n_households
        self.month = 0
        self.skill = initial_skills(c, self._rng_skill)
        self.savings = np.full(n, float(c.initial_savings))
        self.log_productivity = 0.0
        self.price = float(self.skill.mean())
        self.initial_price = self.price
        self.interest_rate = float(c.initial_interest)
        self.inventory = 0.0
        self.firm_money = 0.0
        self.tax_cutoffs = c.bracket_cutoffs.copy()
        self.tax_rates = c.bracket_rates.copy()
        self.last_income = np.zeros(n)
        self.last_worked = np.zeros(n, dtype=bool)
        self.last_consumption = np.zeros(n)
        self.last_tax = np.zeros(n)
        self.last_redistribution = np.zeros(n)
        self._m: dict[str, list[float]] = {k: [] for k in _MONTHLY}
        self._h: dict[str, list[np.ndarray]] = {k: [] for k in _HOUSEHOLD}
        self._rates: list[np.ndarray] = []
        self.policy.reset(n, self._rng_policy)
        if self.planner is not None:
            self.planner.reset(self)
        if self.social is not None:
            self.social.reset(self)

    @property
    def wage(self) -> np.ndarray:
        """Hourly wage in force this month, w_i exp(a_t), shape (N,)."""
        return self.skill * np.exp(self.log_productivity)

    def set_tax_rates(self, rates) -> None:
        """Replace the bracket rates (validated: J rates in [0, 1])."""
        rates = np.asarray(rates, dtype=float)
        if rates.shape != self.tax_cutoffs.shape:
            raise ValueError(f"expected {self.tax_cutoffs.size} bracket rates, got shape {rates.shape}")
        _check_schedule(self.tax_cutoffs, rates)
        self.tax_rates = rates.copy()

    def observe(self) -> Observation:
        """The households' view at the start of the current month."""
        m = self._m
        return Observation(
            month=self.month, skill=self.wage, savings=self.savings.copy(),
            last_income=self.last_income.copy(), last_worked=self.last_worked.copy(),
            last_consumption=self.last_consumption.copy(), last_tax=self.last_tax.copy(),
            last_redistribution=self.last_redistribution.copy(), price=self.price,
            interest_rate=self.interest_rate, hours=self.config.hours,
            tax_cutoffs=self.tax_cutoffs.copy(), tax_rates=self.tax_rates.copy(),
            price_history=np.array(m["price"]), wage_history=np.array(m["mean_wage"]),
            unemployment_history=1.0 - np.array(m["employment"]))

    @staticmethod
    def _check_share(x, n, what) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape != (n,):
            raise ValueError(f"{what} must have shape ({n},), got {x.shape}")
        if np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(x > 1):
            bad = x[~(np.isfinite(x) & (x >= 0) & (x <= 1))][:3]
            raise ValueError(f"{what} must be finite and in [0, 1]; got e.g. {bad.tolist()}")
        return x

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance one month (steps 0-4 of the module docstring) and record it."""
        c, n, rng = self.config, self.config.n_households, self.rng
        t = self.month
        if self.planner is not None:
            new = self.planner.rates_for_month(t, self)
            if new is not None:
                self.set_tax_rates(new)
        obs = self.observe()
        s0, firm0, inv0 = self.savings.copy(), self.firm_money, self.inventory
        wage_t, price_t, r_t = self.wage, self.price, self.interest_rate
        a_t = float(c.productivity * np.exp(self.log_productivity))

        # 1. labor
        p_w = self._check_share(self.policy.work_propensity(obs), n, "work propensity")
        worked = rng.random(n) < p_w
        income = c.hours * wage_t * worked
        production = a_t * c.hours * worked.sum()
        wages = income.sum()
        self.firm_money -= wages
        self.inventory += production

        # 2. tax and lump-sum redistribution
        tax = bracket_tax(income, self.tax_cutoffs, self.tax_rates)
        revenue = tax.sum()
        transfer = revenue / n
        self.savings = self.savings + income - tax + transfer

        # 3. consumption in random order, rationed by inventory
        p_c = self._check_share(self.policy.consumption_share(obs, income), n, "consumption share")
        demand = p_c * self.savings / self.price
        order = rng.permutation(n)
        d_ord = demand[order]
        before = np.cumsum(d_ord) - d_ord
        served = np.empty(n)
        served[order] = np.clip(self.inventory - before, 0.0, d_ord)
        # served * P can exceed the money by one rounding unit when p_c = 1 (an LLM
        # household may answer consumption 1): cap it so savings never go below 0.
        spending = np.minimum(served * self.price, self.savings)
        goods_before = self.inventory
        total_demand = demand.sum()
        self.inventory = max(0.0, self.inventory - served.sum())
        self.savings = self.savings - spending
        self.firm_money += spending.sum()
        denom = max(total_demand, goods_before)
        phi = (total_demand - goods_before) / denom if denom > 0 else 0.0
        u = rng.random(n + 1)
        self.skill = np.maximum(c.wage_floor, self.skill * (1.0 + u[:n] * c.wage_adjust * phi))
        self.price = max(c.price_floor, self.price * (1.0 + u[n] * c.price_adjust * phi))

        # 4. yearly interest and the Taylor rule
        interest = np.zeros(n)
        if (t + 1) % c.months_per_year == 0:
            interest = r_t * self.savings
            self.savings = self.savings + interest

        # 5. the social channel sees the price change that was just decided
        if self.social is not None:
            self.social.end_month(t, self, price_t, self.price)

        rec = self._m
        for k, v in (("price", price_t), ("mean_wage", wage_t.mean()), ("productivity", a_t),
                     ("interest_rate", r_t),
                     ("employment", worked.mean()), ("production", production),
                     ("consumption", served.sum()), ("demand", total_demand), ("imbalance", phi),
                     ("inventory_start", inv0), ("inventory_end", self.inventory),
                     ("wages_paid", wages), ("taxes", revenue), ("redistribution", transfer * n),
                     ("spending", spending.sum()), ("interest", interest.sum()),
                     ("savings_start", s0.sum()), ("savings_end", self.savings.sum()),
                     ("firm_start", firm0), ("firm_end", self.firm_money)):
            rec[k].append(float(v))
        hh = self._h
        for k, v in (("worked", worked), ("income", income), ("tax", tax),
                     ("consumption_units", served), ("spending", spending), ("savings_start", s0),
                     ("savings_end", self.savings.copy()), ("skill", wage_t),
                     ("work_propensity", p_w), ("consumption_share", p_c)):
            hh[k].append(v)
        self._rates.append(self.tax_rates.copy())

        if (t + 1) % c.months_per_year == 0 and (t + 1) >= 2 * c.months_per_year:
            y = c.months_per_year
            prices = np.array(rec["price"])
            inflation = prices[-y:].mean() / prices[-2 * y:-y].mean() - 1.0
            unemployment = 1.0 - float(np.mean(rec["employment"][-y:]))
            self.interest_rate = c.taylor(inflation, unemployment)

        outcome = MonthOutcome(month=t, worked=worked, income=income, tax=tax,
                               redistribution=np.full(n, transfer), consumption=served,
                               spending=spending, savings=self.savings.copy(), price=price_t,
                               new_price=self.price, interest_rate=r_t)
        self.policy.end_month(obs, outcome)
        if self.planner is not None and hasattr(self.planner, "end_month"):
            self.planner.end_month(t, self)
        self.last_income, self.last_worked = income, worked
        self.last_consumption, self.last_tax = served, tax
        self.last_redistribution = np.full(n, transfer)
        # next month's productivity: a_{t+1} = rho a_t + sigma eps_{t+1}
        self.log_productivity = (c.productivity_rho * self.log_productivity
                                 + c.productivity_sigma * float(self._rng_shock.standard_normal()))
        self.month += 1

    def run(self, n_months: int | None = None, progress: bool = False) -> EconomyResult:
        """Run ``n_months`` more months (default ``config.n_months``) and return the full record."""
        n_months = self.config.n_months if n_months is None else int(n_months)
        if n_months < 0:
            raise ValueError(f"n_months must be >= 0, got {n_months}")
        it = range(n_months)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, desc=f"economy ({self.policy.name})", unit="month", leave=False)
        for _ in it:
            self.step()
        return self.result()

    def result(self) -> EconomyResult:
        """The record of all months run so far."""
        n = self.config.n_households
        j = self.tax_cutoffs.size
        monthly = {k: np.array(v, dtype=float) for k, v in self._m.items()}
        hh = {k: (np.array(v) if v else np.zeros((0, n))) for k, v in self._h.items()}
        rates = np.array(self._rates) if self._rates else np.zeros((0, j))
        return EconomyResult(
            config=self.config, seed=self.seed, policy=self.policy.to_dict(), monthly=monthly,
            households=hh, tax_rates=rates, tax_cutoffs=self.tax_cutoffs.copy(),
            policy_stats=self.policy.stats(),
            planner=self.planner.to_dict() if self.planner is not None and hasattr(self.planner, "to_dict") else None,
            social=self.social.to_dict() if self.social is not None else None)
