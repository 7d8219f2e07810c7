"""The household vote (LLM Economist): a proposed tax schedule needs a majority.

:class:`VotedPlanner` wraps any planner. Whenever the inner planner proposes new bracket
rates (every ``interval`` months, its period T), every household votes through its
policy's :meth:`~macro.households.HouseholdPolicy.vote`; the proposal takes effect only
with a strict majority, approvals > N / 2 (a tie keeps the schedule in force). Every
vote is recorded with its approval rate.

The default vote (:func:`self_interest_votes`) is that of a household comparing its own
net position at last month's gross incomes z (j = 1..N):

    net_i(tau) = z_i - T(z_i; tau) + (1 / N) sum_j T(z_j; tau),

approving iff net_i(proposed) > net_i(current) (strictly; indifference keeps the status
quo). LLM households vote through their backend instead (one batched call per vote).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .planner import Planner
from .tax import bracket_tax


def self_interest_votes(income, cutoffs, current, proposed) -> np.ndarray:
    """Approvals (N,) bool: net_i(proposed) > net_i(current) at gross incomes ``income`` (N,).

    net_i(tau) = z_i - T(z_i; tau) + mean_j T(z_j; tau) (revenue rebated lump-sum).

    Example
    -------
    Two poor households and one rich one; a flat 50 % tax with rebate helps the poor:

    >>> z = np.array([100.0, 100.0, 1000.0])
    >>> self_interest_votes(z, [0.0], [0.0], [0.5]).tolist()
    [True, True, False]
    """
    z = np.asarray(income, dtype=float)
    if z.ndim != 1 or z.size == 0 or np.any(~np.isfinite(z)):
        raise ValueError(f"income must be a non-empty 1-D array of finite numbers, got shape {z.shape}")

    def net(rates):
        t = bracket_tax(z, cutoffs, rates)
        return z - t + t.mean()

    return net(np.asarray(proposed, dtype=float)) > net(np.asarray(current, dtype=float))


def majority(approvals) -> bool:
    """Strict majority: sum(approvals) > N / 2.

    Example
    -------
    >>> majority([True, True, False]), majority([True, False]), majority([True, True, False, False])
    (True, False, False)
    """
    a = np.asarray(approvals, dtype=bool)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"approvals must be a non-empty 1-D array of booleans, got shape {a.shape}")
    return bool(2 * int(a.sum()) > a.size)


class VotedPlanner(Planner):
    """A planner whose proposals need a household majority (module docstring).

    Parameters
    ----------
    inner : Planner
        Proposes the schedule; acts every ``inner.interval`` months (T).

    Attributes
    ----------
    votes : list of dicts {"month", "approval_rate", "passed", "current", "proposed"}

    Example
    -------
    >>> from macro import Economy, EconomyConfig, RuleHouseholds, FixedPlanner
    >>> vp = VotedPlanner(FixedPlanner(np.full(7, 0.3)))
    >>> _ = Economy(EconomyConfig(n_households=9, n_months=12), RuleHouseholds(), vp, seed=0).run()
    >>> len(vp.votes), vp.votes[0]["passed"]      # month 0: no incomes yet, nobody gains
    (1, False)
    """

    def __init__(self, inner: Planner):
        if not isinstance(inner, Planner):
            raise ValueError(f"inner must be a Planner, got {type(inner).__name__}")
        super().__init__(inner.interval)
        self.inner = inner
        self.name = f"voted({inner.name})"
        self.votes: list[dict] = []

    def reset(self, economy) -> None:
        super().reset(economy)
        self.inner.reset(economy)
        self.votes = []

    def rates_for_month(self, month: int, economy):
        proposed = self.inner.rates_for_month(month, economy)
        if proposed is None:
            return None
        proposed = np.clip(np.asarray(proposed, dtype=float), 0.0, 1.0)
        current = economy.tax_rates.copy()
        approvals = np.asarray(economy.policy.vote(economy.observe(), current, proposed), dtype=bool)
        if approvals.shape != (economy.config.n_households,):
            raise ValueError(f"vote must return one boolean per household, got shape {approvals.shape}")
        passed = majority(approvals)
        rec: dict[str, Any] = {"month": month, "approval_rate": float(approvals.mean()), "passed": passed,
                               "current": current.tolist(), "proposed": proposed.tolist()}
        self.votes.append(rec)
        self.history.append({"month": month, "rates": proposed.tolist() if passed else None,
                             "vote": {k: rec[k] for k in ("approval_rate", "passed")}})
        return proposed if passed else None

    def vote_summary(self) -> dict:
        """Number of votes, share passed and the approval rates."""
        rates = [v["approval_rate"] for v in self.votes]
        return {"n_votes": len(self.votes), "n_passed": sum(v["passed"] for v in self.votes),
                "approval_rates": rates, "mean_approval": float(np.mean(rates)) if rates else None}

    def to_dict(self) -> dict:
        return {**super().to_dict(), "inner": self.inner.to_dict(), "votes": self.votes,
                "vote_summary": self.vote_summary(), "rule": "strict majority (approvals > N/2)"}
