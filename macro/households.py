"""Household decision rules behind one interface.

A policy decides, each month and for all N households at once,

1. a work propensity p_w in [0, 1] (the economy then draws work ~ Bernoulli(p_w)),
2. after labor income is known, a consumption share p_c in [0, 1] of the
   household's money (savings plus this month's net income).

Rule-based baselines are those of EconAgent's ``complex_actions``:

* work:  p_w = min(1, (z / (s (1 + r)))^gamma) * (1 - tau(z))^e, z = hours * wage the
  potential income, s the savings, gamma = 0.1; the second factor is this package's
  addition to EconAgent's rule: labour supply responds to the net-of-tax rate 1 - tau(z)
  (tau the marginal rate at z under the schedule in force) with elasticity e =
  ``labor_elasticity`` (default 0.1; e = 0 is EconAgent's rule, which reacts to pre-tax
  income only). Expected hours are hours * p_w, so d log E[hours] / d log(1 - tau) = e
  wherever savings do not react (see :func:`macro.elasticity.measure_labor_elasticity`);
* LEN consumption:  p_c = (P / (s + z))^beta, beta = 0.1, z the realized income;
* CATS consumption (buffer-stock):  with h' = h / (1 + r), g = z / z_prev - 1,
  d = s / z_prev - h',  c = 1 + (d - h' g) / (1 + g),  p_c = c z / (s + z);
* Composite: each household is assigned LEN or CATS at random once (EconAgent's
  mix), and every household uses the work rule above.

Consumption shares are floored to the EconAgent action grid of 0.02 and clipped
to [0, 1].
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

_EPS = 1e-8


@dataclass
class Observation:
    """What households see at the start of month ``month`` (arrays over households).

    Attributes
    ----------
    month : int
        0-based month index t.
    skill : ndarray (N,)
        Hourly wage w_i in force this month.
    savings : ndarray (N,)
        Money s_i at the start of the month.
    last_income : ndarray (N,)
        Gross labor income z_i of the previous month (0 in month 0).
    last_worked : ndarray (N,) bool
        Whether the household worked last month.
    last_consumption : ndarray (N,)
        Units consumed last month.
    last_tax, last_redistribution : ndarray (N,)
        Tax paid and lump-sum transfer received last month.
    price : float
        Price P of the good this month.
    interest_rate : float
        Annual interest rate r on savings.
    hours : float
        Hours of a working month.
    tax_cutoffs, tax_rates : ndarray (J,)
        Monthly bracket schedule in force.
    price_history, wage_history : ndarray (t,)
        Past prices and mean wages (months 0..t-1).
    unemployment_history : ndarray (t,)
        Past monthly unemployment rates.
    """

    month: int
    skill: np.ndarray
    savings: np.ndarray
    last_income: np.ndarray
    last_worked: np.ndarray
    last_consumption: np.ndarray
    last_tax: np.ndarray
    last_redistribution: np.ndarray
    price: float
    interest_rate: float
    hours: float
    tax_cutoffs: np.ndarray
    tax_rates: np.ndarray
    price_history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    wage_history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unemployment_history: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_households(self) -> int:
        return self.skill.shape[0]

    @property
    def potential_income(self) -> np.ndarray:
        """z_i = hours * skill_i, the income of a month's work."""
        return self.hours * self.skill


@dataclass
class MonthOutcome:
    """What happened to each household in a month (passed to ``HouseholdPolicy.end_month``)."""

    month: int
    worked: np.ndarray
    income: np.ndarray
    tax: np.ndarray
    redistribution: np.ndarray
    consumption: np.ndarray
    spending: np.ndarray
    savings: np.ndarray
    price: float
    new_price: float
    interest_rate: float


class HouseholdPolicy(ABC):
    """Interface of household decision rules (vectorized over households).

    Subclasses implement :meth:`work_propensity` and :meth:`consumption_share`;
    :meth:`reset` receives the number of households and a dedicated
    ``numpy.random.Generator`` (the only randomness a policy may use), and
    :meth:`end_month` lets stateful policies (LLM memory) see the outcome.
    """

    name: str = "policy"

    def reset(self, n_households: int, rng: np.random.Generator) -> None:
        self.n_households = int(n_households)
        self.rng = rng

    @abstractmethod
    def work_propensity(self, obs: Observation) -> np.ndarray:
        """Probability p_w[i] in [0, 1] that household i works this month, shape (N,)."""

    @abstractmethod
    def consumption_share(self, obs: Observation, income: np.ndarray) -> np.ndarray:
        """Share p_c[i] in [0, 1] of money spent on the good, shape (N,); ``income`` is z (N,)."""

    def end_month(self, obs: Observation, outcome: MonthOutcome) -> None:  # noqa: B027
        """Hook called after the month's accounts close (default: nothing)."""

    def vote(self, obs: Observation, current: np.ndarray, proposed: np.ndarray) -> np.ndarray:
        """Approve (True) or reject each household's vote on ``proposed`` bracket rates, shape (N,).

        Default: self-interest at last month's incomes (:func:`macro.vote.self_interest_votes`).
        """
        from .vote import self_interest_votes

        return self_interest_votes(obs.last_income, obs.tax_cutoffs, current, proposed)

    def stats(self) -> dict:
        """Counters worth reporting (calls, parse failures...)."""
        return {}

    def to_dict(self) -> dict:
        return {"name": self.name}


def quantize_share(c: np.ndarray, step: float = 0.02) -> np.ndarray:
    """EconAgent's action grid: floor(c / step) * step, clipped to [0, 1] (step=0: only clip)."""
    c = np.nan_to_num(np.asarray(c, dtype=float), nan=0.0, posinf=1.0, neginf=0.0)
    c = np.clip(c, 0.0, 1.0)
    if step > 0:
        # The 1e-9 keeps exact grid points (0.06 / 0.02 = 2.999...) on the grid.
        c = np.minimum(np.floor(c / step + 1e-9) * step, 1.0)
    return c


def work_rule(obs: Observation, gamma: float = 0.1) -> np.ndarray:
    """EconAgent work propensity p_w = min(1, (z / (s (1 + r)))^gamma), z = hours * skill."""
    ratio = obs.potential_income / (obs.savings * (1.0 + obs.interest_rate) + _EPS)
    return np.minimum(1.0, ratio ** gamma)


def net_of_tax_rate(obs: Observation) -> np.ndarray:
    """1 - tau(z_i), tau the marginal rate at potential income z_i = hours * wage_i, shape (N,).

    Example
    -------
    >>> import numpy as np
    >>> from macro.tax import US2018_MONTHLY_CUTOFFS
    >>> o = Observation(month=0, skill=np.array([1.0, 10.0]), savings=np.zeros(2), last_income=np.zeros(2),
    ...                 last_worked=np.zeros(2, bool), last_consumption=np.zeros(2), last_tax=np.zeros(2),
    ...                 last_redistribution=np.zeros(2), price=1.0, interest_rate=0.0, hours=168.0,
    ...                 tax_cutoffs=US2018_MONTHLY_CUTOFFS, tax_rates=np.full(7, 0.25))
    >>> net_of_tax_rate(o).tolist()
    [0.75, 0.75]
    """
    from .tax import marginal_rate

    return 1.0 - marginal_rate(obs.potential_income, obs.tax_cutoffs, obs.tax_rates)


def len_consumption(obs: Observation, income: np.ndarray, beta: float = 0.1) -> np.ndarray:
    """LEN consumption share (P / (s + z))^beta (unquantized)."""
    return (obs.price / (obs.savings + income + _EPS)) ** beta


def cats_consumption(obs: Observation, income: np.ndarray, h: float = 1.0) -> np.ndarray:
    """CATS buffer-stock share c z / (s + z), c = 1 + (d - h' g) / (1 + g) (unquantized)."""
    h1 = h / (1.0 + obs.interest_rate)
    g = income / (obs.last_income + _EPS) - 1.0
    d = obs.savings / (obs.last_income + _EPS) - h1
    c = 1.0 + (d - h1 * g) / (1.0 + g + _EPS)
    return c * income / (obs.savings + income + _EPS)


@dataclass
class _RuleParams:
    gamma: float = 0.1
    beta: float = 0.1
    h: float = 1.0
    step: float = 0.02


class RuleHouseholds(HouseholdPolicy):
    """Rule-based households: EconAgent work rule plus LEN, CATS or a random mix.

    Parameters
    ----------
    consumption : {"len", "cats", "composite"}
        Consumption rule; "composite" assigns each household LEN or CATS with
        probability ``p_len`` / 1 - ``p_len`` at reset (EconAgent: 1/2 each).
    gamma, beta, h : float
        Work elasticity (0.1), LEN exponent (0.1), CATS buffer target (1).
    labor_elasticity : float
        e >= 0: p_w is multiplied by (1 - tau(z))^e, the net-of-tax rate at the
        household's potential income (default 0.1; 0 gives EconAgent's rule).
    step : float
        Consumption action grid (0.02; 0 for continuous shares).

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> econ = Economy(EconomyConfig(n_households=5, n_months=12), RuleHouseholds("len"), seed=0)
    >>> econ.run().n_months
    12
    """

    def __init__(self, consumption: str = "composite", *, gamma: float = 0.1, beta: float = 0.1,
                 h: float = 1.0, step: float = 0.02, p_len: float = 0.5, labor_elasticity: float = 0.1):
        if consumption not in ("len", "cats", "composite"):
            raise ValueError(f"consumption must be 'len', 'cats' or 'composite', got {consumption!r}")
        for nm, v in (("gamma", gamma), ("beta", beta), ("h", h), ("step", step),
                      ("labor_elasticity", labor_elasticity)):
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{nm} must be a finite number >= 0, got {v}")
        if not 0 <= p_len <= 1:
            raise ValueError(f"p_len must be in [0, 1], got {p_len}")
        self.consumption = consumption
        self.params = _RuleParams(gamma, beta, h, step)
        self.p_len = p_len
        self.labor_elasticity = float(labor_elasticity)
        self.name = {"len": "LEN", "cats": "CATS", "composite": "Composite"}[consumption]
        self.uses_len: np.ndarray | None = None

    def reset(self, n_households: int, rng: np.random.Generator) -> None:
        super().reset(n_households, rng)
        if self.consumption == "composite":
            self.uses_len = rng.random(n_households) < self.p_len
        else:
            self.uses_len = np.full(n_households, self.consumption == "len")

    def work_propensity(self, obs: Observation) -> np.ndarray:
        p = work_rule(obs, self.params.gamma)
        if self.labor_elasticity:
            p = p * net_of_tax_rate(obs) ** self.labor_elasticity
        return p

    def consumption_share(self, obs: Observation, income: np.ndarray) -> np.ndarray:
        if self.uses_len is None:
            raise RuntimeError("call reset() before consumption_share(): it draws which households use LEN")
        c = np.where(self.uses_len, len_consumption(obs, income, self.params.beta),
                     cats_consumption(obs, income, self.params.h))
        return quantize_share(c, self.params.step)

    def to_dict(self) -> dict:
        return {"name": self.name, "consumption": self.consumption, "gamma": self.params.gamma,
                "beta": self.params.beta, "h": self.params.h, "step": self.params.step,
                "p_len": self.p_len, "labor_elasticity": self.labor_elasticity}


class ConstantHouseholds(HouseholdPolicy):
    """Every household uses fixed (p_w, p_c): a transparent baseline for tests and studies."""

    def __init__(self, work: float = 1.0, consumption: float = 0.5):
        if not (0 <= work <= 1 and 0 <= consumption <= 1):
            raise ValueError(f"work and consumption must lie in [0, 1], got {work}, {consumption}")
        self.work, self.consumption = float(work), float(consumption)
        self.name = f"Constant(w={work:g}, c={consumption:g})"

    def work_propensity(self, obs):
        return np.full(obs.n_households, self.work)

    def consumption_share(self, obs, income):
        return np.full(obs.n_households, self.consumption)

    def to_dict(self):
        return {"name": self.name, "work": self.work, "consumption": self.consumption}


class PeerInfluence(HouseholdPolicy):
    """Social channel: each household observes ``n_peers`` random others' last work choices.

        p_w' = (1 - lambda) p_w + lambda * (share of sampled peers who worked last month)

    with lambda = ``weight``. Peers are redrawn every month from the policy's
    generator. Wraps any other policy (rule-based or LLM); for LLM households,
    prefer ``LLMHouseholds(peer_sample=k)``, which puts the observation in the prompt.
    """

    def __init__(self, base: HouseholdPolicy, n_peers: int = 5, weight: float = 0.3):
        if n_peers < 1:
            raise ValueError(f"n_peers must be >= 1, got {n_peers}")
        if not 0 <= weight <= 1:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        self.base, self.n_peers, self.weight = base, int(n_peers), float(weight)
        self.name = f"{base.name}+peers({n_peers}, {weight:g})"

    def reset(self, n_households, rng):
        super().reset(n_households, rng)
        self.base.reset(n_households, rng.spawn(1)[0])

    def peer_share(self, obs: Observation) -> np.ndarray:
        n = obs.n_households
        # Sample peers other than oneself: draw from n-1 and shift indices >= own.
        peers = self.rng.integers(0, max(n - 1, 1), size=(n, self.n_peers))
        peers = peers + (peers >= np.arange(n)[:, None]) if n > 1 else np.zeros_like(peers)
        return obs.last_worked[peers].mean(axis=1)

    def work_propensity(self, obs):
        p = self.base.work_propensity(obs)
        if obs.month == 0:
            return p
        return (1 - self.weight) * p + self.weight * self.peer_share(obs)

    def consumption_share(self, obs, income):
        return self.base.consumption_share(obs, income)

    def end_month(self, obs, outcome):
        self.base.end_month(obs, outcome)

    def vote(self, obs, current, proposed):
        return self.base.vote(obs, current, proposed)

    def stats(self):
        return self.base.stats()

    def to_dict(self):
        return {"name": self.name, "base": self.base.to_dict(), "n_peers": self.n_peers,
                "weight": self.weight}
