"""Autonomous agents paid to keep their actions informative (SPEC 3b).

Model. The state ``x`` (X values) is drawn from the prior; agent ``k`` observes
``y_k ~ B[x, .]``, forms the private belief ``eta_k = T_{y_k} pi_{k-1}`` from
the public belief, and chooses

    a_k = argmax_a [ r_a' eta_k + omega_a I_k - delta_a ],

where ``r`` (X, A) is its utility, ``delta`` (A,) an action cost and ``I_k >= 0``
the incentive posted by the platform, paid as ``omega_a I_k`` when the agent
takes action ``a``. The action is *informative* when it reveals ``y_k``: the
agent takes the signal action ``s(y_k)`` (``signal_action``, injective; by
default ``s(y) = y``). The minimal incentive at public belief ``pi`` is the
least ``I >= 0`` making ``s(y)`` weakly optimal for every ``y`` with
``sigma(pi, y) > 0``: with ``U_b(y) = r_b' T_y pi - delta_b`` and ``a = s(y)``,

    (omega_a - omega_b) I >= U_b(y) - U_a(y)    for all y, b,

a lower bound on ``I`` where ``omega_a > omega_b``, an upper bound where
``omega_a < omega_b`` and a condition where they are equal; so

    I*(pi) = max(0, max_{y, b: omega_a > omega_b} (U_b - U_a) / (omega_a - omega_b)),

and ``I*(pi) = inf`` when an upper bound or condition fails (no incentive of
this form makes the action informative). With ``incentive_weights=None`` the
platform subsidizes one action of its choice, ``omega = e_b``, and ``I*`` is
the minimum over ``b``. Indifference is resolved in favour of ``s(y)`` (the
platform can add an arbitrarily small amount). ``I* = 0`` exactly when the
myopic action already reveals the signal, i.e. outside the cascade set.

Platform. A threshold policy in ``pi(0)`` decides whether to post ``I*(pi)``
("continue": the agent reveals ``y`` and the public belief moves to
``T_y pi``) or nothing (the agent acts myopically and the public learns only
its action, the social learning filter of ``sociallearn``, which may herd).
After ``n_agents`` agents the objective is

    J = E[ sum_k rho^k omega_{a_k} I_k ] + weight * (1 - E[max_x pi_N(x)]),

the expected incentive paid plus ``weight`` times the probability that the
final public estimate ``argmax pi_N`` is wrong (``E[max_x pi_N(x)]`` is that
probability's complement under the model, estimated with less variance than
the 0-1 indicator, which is reported too).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmsl_core import check_random_state

from .grid import _check_beliefs
from .stopping import _stochastic
from .threshold import PolicyCost, ThresholdOptimization, ThresholdPolicy, _draw, _prior, spsa_on_thresholds

__all__ = ["IncentiveProblem", "IncentiveSimulation"]


@dataclass
class IncentiveSimulation:
    """Monte Carlo of the platform's incentive policy.

    Attributes
    ----------
    payments : ndarray (n_runs,)
        Discounted incentive paid per run.
    paid_agents : ndarray (n_runs,)
        Number of agents paid (incentive posted and taken) per run.
    final_beliefs : ndarray (n_runs, X)
    true_state : ndarray (n_runs,)
    accuracy : float
        ``E[max_x pi_N(x)]``: probability that the final public estimate is right.
    accuracy_realized : float
        Fraction of runs with ``argmax pi_N = x`` (0-1 indicator, noisier).
    objective : float
        ``mean payment + weight * (1 - accuracy)``.
    per_run : ndarray (n_runs,)
        The objective per run.
    """

    payments: np.ndarray = field(repr=False)
    paid_agents: np.ndarray = field(repr=False)
    final_beliefs: np.ndarray = field(repr=False)
    true_state: np.ndarray = field(repr=False)
    per_run: np.ndarray = field(repr=False)
    accuracy: float
    accuracy_realized: float
    mean_payment: float
    objective: float
    std_error: float
    weight: float
    n_agents: int
    n_runs: int

    def summary(self) -> str:
        return "\n".join(
            [
                f"Incentive policy: {self.n_runs} runs of {self.n_agents} agents",
                f"  mean incentive paid = {self.mean_payment:.6g}, agents paid per run = {self.paid_agents.mean():.3f}",
                f"  accuracy of the final estimate = {self.accuracy:.4f} (realized {self.accuracy_realized:.4f})",
                f"  objective = payment + {self.weight} * (1 - accuracy) = {self.objective:.6g}"
                f" +- {self.std_error:.2g}",
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "accuracy_realized": self.accuracy_realized,
            "mean_payment": self.mean_payment,
            "mean_paid_agents": float(self.paid_agents.mean()),
            "objective": self.objective,
            "std_error": self.std_error,
            "weight": self.weight,
            "n_agents": self.n_agents,
            "n_runs": self.n_runs,
        }


class IncentiveProblem:
    """Minimal incentives that keep autonomous agents' actions informative (SPEC 3b).

    Parameters
    ----------
    likelihood : array (X, Y)
        ``B[x, y]``, row-stochastic.
    utility : array (X, A)
        ``r[x, a]``.
    action_cost : array (A,), optional
        ``delta_a`` (default 0).
    incentive_weights : array (A,), optional
        ``omega_a >= 0``; ``None`` lets the platform subsidize one action of its choice.
    signal_action : array of int (Y,), optional
        ``s(y)``, the action that reveals ``y``; injective; default ``s(y) = y`` (needs ``A >= Y``).
    transition : array (X, X), optional
    tie_rule : str
        Tie rule of the unpaid (myopic) agents, as in ``sociallearn``.

    Examples
    --------
    >>> import numpy as np
    >>> prob = IncentiveProblem([[0.7, 0.3], [0.3, 0.7]], utility=np.eye(2))
    >>> prob.minimal_incentive([[0.5, 0.5], [0.9, 0.1]]).round(4)   # no herd / herd on action 0
    array([0.    , 0.5882])
    """

    def __init__(
        self,
        likelihood: np.ndarray,
        utility: np.ndarray,
        action_cost: np.ndarray | None = None,
        incentive_weights: np.ndarray | None = None,
        signal_action: np.ndarray | None = None,
        transition: np.ndarray | None = None,
        tie_rule: str = "uniform",
    ):
        from sociallearn import SocialLearningModel

        B = _stochastic(likelihood, "likelihood")
        X, Y = B.shape
        r = np.asarray(utility, dtype=float)
        if r.ndim != 2 or r.shape[0] != X or not np.all(np.isfinite(r)):
            raise ValueError(f"utility must be a finite matrix ({X}, A); got shape {r.shape}")
        A = r.shape[1]
        delta = np.zeros(A) if action_cost is None else np.asarray(action_cost, dtype=float)
        if delta.shape != (A,) or not np.all(np.isfinite(delta)):
            raise ValueError(f"action_cost must be a finite vector ({A},); got shape {delta.shape}")
        if incentive_weights is not None:
            w = np.asarray(incentive_weights, dtype=float)
            if w.shape != (A,) or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"incentive_weights must be a non-negative vector ({A},); got {incentive_weights!r}")
        else:
            w = None
        if signal_action is None:
            if A < Y:
                raise ValueError(f"with fewer actions ({A}) than observations ({Y}) give signal_action explicitly")
            s = np.arange(Y)
        else:
            s = np.asarray(signal_action)
            if s.shape != (Y,) or s.dtype.kind not in "iu" or np.any((s < 0) | (s >= A)):
                raise ValueError(f"signal_action must be {Y} action indices in 0..{A - 1}; got {signal_action!r}")
            if len(set(s.tolist())) != Y:
                raise ValueError("signal_action must be injective so that the action reveals the observation")
        self.likelihood = B
        self.utility = r
        self.action_cost = delta
        self.incentive_weights = w
        self.signal_action = s
        self.social_model = SocialLearningModel(B, cost=-r + delta[None, :], transition=transition, tie_rule=tie_rule)
        self.transition = self.social_model.transition

    @property
    def n_states(self) -> int:
        return self.likelihood.shape[0]

    def _private(self, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pred = pi @ self.transition
        un = pred[:, None, :] * self.likelihood.T[None, :, :]  # (n, Y, X)
        sig = un.sum(axis=2)
        eta = un / np.where(sig > 0, sig, 1.0)[:, :, None]
        return sig, eta

    def _bound(self, U: np.ndarray, possible: np.ndarray, omega: np.ndarray) -> np.ndarray:
        """Least I for weights ``omega`` (A,), from utilities U (n, Y, A); inf if infeasible."""
        n, Y, A = U.shape
        a = self.signal_action
        Ua = U[:, np.arange(Y), a][:, :, None]  # (n, Y, 1)
        dw = omega[a][:, None] - omega[None, :]  # (Y, A): omega_a - omega_b
        gap = U - Ua  # U_b - U_a
        tol = 1e-12 * max(1.0, float(np.abs(U).max()))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = gap / dw[None]
        lower = np.where((dw[None] > 0) & possible[:, :, None], ratio, -np.inf).max(axis=(1, 2))
        upper = np.where((dw[None] < 0) & possible[:, :, None], ratio, np.inf).min(axis=(1, 2))
        equal_bad = ((dw[None] == 0) & possible[:, :, None] & (gap > tol)).any(axis=(1, 2))
        I = np.maximum(lower, 0.0)
        return np.where(equal_bad | (upper + tol < I), np.inf, I)

    def minimal_incentive(self, beliefs: np.ndarray, return_action: bool = False):
        """``I*(pi)`` for public beliefs (n, X) -> (n,) (``inf`` where no incentive works).

        With ``return_action=True`` also the subsidized action (n,) (``-1`` where
        ``I* = 0`` or infeasible; the given ``omega``'s argmax when weights are fixed).
        """
        pi = _check_beliefs(beliefs, self.n_states)
        sig, eta = self._private(pi)
        U = eta @ self.utility - self.action_cost[None, None, :]
        possible = sig > 0
        A = self.utility.shape[1]
        if self.incentive_weights is not None:
            I = self._bound(U, possible, self.incentive_weights)
            act = np.where(np.isfinite(I) & (I > 0), int(np.argmax(self.incentive_weights)), -1)
        else:
            cand = np.stack([self._bound(U, possible, np.eye(A)[b]) for b in range(A)], axis=1)
            best = np.argmin(cand, axis=1)
            I = cand[np.arange(pi.shape[0]), best]
            act = np.where(np.isfinite(I) & (I > 0), best, -1)
        return (I, act) if return_action else I

    def simulate(
        self,
        policy: ThresholdPolicy,
        prior: np.ndarray,
        n_agents: int,
        n_runs: int = 2000,
        *,
        weight: float = 1.0,
        discount: float = 1.0,
        seed: int | np.random.Generator | None = None,
    ) -> IncentiveSimulation:
        """Simulate ``n_runs`` chains of ``n_agents`` agents under the incentive policy.

        The policy's "continue" probability at ``pi_{k-1}`` is the probability
        that the platform posts ``I*(pi_{k-1})`` to agent ``k``.
        """
        if not isinstance(policy, ThresholdPolicy):
            raise ValueError(f"policy must be a ThresholdPolicy; got {type(policy).__name__}")
        X = self.n_states
        if X != 2:
            raise ValueError(f"threshold incentive policies need X = 2 states; got X = {X}")
        pi0 = _prior(prior, X)
        for name, val in (("n_agents", n_agents), ("n_runs", n_runs)):
            if int(val) != val or val < 1:
                raise ValueError(f"{name} must be a positive integer; got {val}")
        if not (0.0 < discount <= 1.0):
            raise ValueError(f"discount must lie in (0, 1]; got {discount}")
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"weight must be >= 0; got {weight}")
        n, N = int(n_runs), int(n_agents)
        rng = check_random_state(seed)
        m = self.social_model
        B, P = self.likelihood, self.transition
        cumB, cumP = np.cumsum(B, axis=1), np.cumsum(P, axis=1)
        omega = self.incentive_weights
        x = _draw(rng, np.broadcast_to(pi0, (n, X)))
        pi = np.broadcast_to(pi0, (n, X)).copy()
        pay = np.zeros(n)
        n_paid = np.zeros(n, dtype=np.int64)
        disc = 1.0
        for _ in range(N):
            u = rng.random(n)
            if not m.is_static:
                x = np.minimum((rng.random(n)[:, None] >= cumP[x]).sum(axis=1), X - 1)
            y = np.minimum((rng.random(n)[:, None] >= cumB[x]).sum(axis=1), B.shape[1] - 1)
            v = rng.random(n)  # uniforms of the unpaid agents' actions, drawn for every run (CRN)
            I, sub = self.minimal_incentive(pi, return_action=True)
            paid = (u < policy.continue_prob(pi)) & np.isfinite(I)
            a = np.empty(n, dtype=np.int64)
            if paid.any():
                i = np.flatnonzero(paid)
                a[i] = self.signal_action[y[i]]
                w = omega[a[i]] if omega is not None else (a[i] == sub[i]).astype(float)
                amount = w * I[i]
                pay[i] += disc * amount
                n_paid[i] += amount > 0
                un = (pi[i] @ P) * B[:, y[i]].T
                pi[i] = un / un.sum(axis=1, keepdims=True)
            free = ~paid
            if free.any():
                i = np.flatnonzero(free)
                D = m.decision_probs(pi[i])  # (k, Y, A)
                a[i] = _draw(rng, D[np.arange(i.size), y[i]], v[i])
                pi[i] = m.public_update(pi[i], a[i])
            disc *= discount
        acc = pi.max(axis=1)
        per_run = pay + weight * (1.0 - acc)
        return IncentiveSimulation(
            payments=pay,
            paid_agents=n_paid,
            final_beliefs=pi,
            true_state=x,
            per_run=per_run,
            accuracy=float(acc.mean()),
            accuracy_realized=float(np.mean(np.argmax(pi, axis=1) == x)),
            mean_payment=float(pay.mean()),
            objective=float(per_run.mean()),
            std_error=float(per_run.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            weight=float(weight),
            n_agents=N,
            n_runs=n,
        )

    def optimize_threshold(
        self,
        prior: np.ndarray,
        n_agents: int,
        *,
        weight: float = 1.0,
        discount: float = 1.0,
        kind: str = "symmetric",
        thresholds0: np.ndarray | float | None = None,
        tau: float = 0.02,
        n_iter: int = 200,
        n_runs: int = 1000,
        seed: int | None = None,
        **spsa_kwargs,
    ) -> ThresholdOptimization:
        """SPSA on the thresholds of the incentive policy (common random numbers).

        Returns a :class:`ThresholdOptimization` whose ``cost.per_run`` is the
        objective per run and ``cost.stop_time`` the number of paid agents per run;
        ``cost_start`` is the hard policy at ``thresholds0`` on the same random
        numbers (``improvement``: the paired difference and its standard error).
        The hard policy's objective is piecewise constant in the threshold (jumps
        at reachable beliefs) and SPSA minimizes its ``tau``-smoothed version, so
        the answer can land next to a jump, on the worse side: compare with a
        sweep on common random numbers (``simulate`` with one seed).
        """
        def final_cost(pol: ThresholdPolicy, s: int) -> PolicyCost:
            sim = self.simulate(pol, prior, n_agents, 4 * n_runs, weight=weight, discount=discount, seed=s)
            return PolicyCost(sim.objective, sim.std_error, sim.per_run, sim.n_runs, n_agents,
                              sim.paid_agents.astype(float))

        return spsa_on_thresholds(
            lambda pol, s: self.simulate(pol, prior, n_agents, n_runs, weight=weight, discount=discount,
                                         seed=s).objective,
            final_cost, kind=kind, thresholds0=thresholds0, tau=tau, n_iter=n_iter, seed=seed, **spsa_kwargs)

    def __repr__(self) -> str:
        X, Y = self.likelihood.shape
        return f"IncentiveProblem(X={X}, Y={Y}, A={self.utility.shape[1]}, tie_rule={self.social_model.tie_rule!r})"
