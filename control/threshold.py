"""Threshold policies on the public belief, their simulated cost, and SPSA on them.

For two states the policy acts on the scalar public belief ``p = pi(0)``. A
threshold ``t = sin^2(theta)`` keeps ``t`` in ``[0, 1]`` for every real
``theta`` (SPEC 3c), so SPSA runs unconstrained in ``theta`` (or projected on
``[0, pi/2]``, where ``sin^2`` is one-to-one). The policy is smoothed with a
temperature ``tau``: with ``s(z) = 1 / (1 + exp(-z))``,

    "lower"     continue w.p. s((p - t) / tau)                 (stop w.p. s((t - p) / tau))
    "upper"     continue w.p. s((t - p) / tau)
    "interval"  continue w.p. s((p - t_1) / tau) * s((t_2 - p) / tau)    (continue region (t_1, t_2))
    "symmetric" the interval (t, 1 - t), one parameter

and ``tau = 0`` is the hard threshold (continue iff the strict inequality holds).
With finitely many observations the reachable beliefs lie on a lattice, so the
cost of a hard threshold is piecewise constant in ``t``; the smoothing makes its
expectation differentiable.

``policy_cost`` simulates many runs at once. For a :class:`StoppingProblem` it
returns the expected discounted cost

    J(pi_0) = E[ sum_k rho^k S_k ( q_k C_s(pi_k) + (1 - q_k) d(pi_k) ) ],   S_{k+1} = S_k (1 - q_k),

with ``q_k`` the stop probability at ``pi_k``: the policy's randomization is
integrated out exactly along each simulated observation path (Rao-Blackwell),
so for a fixed seed the estimate is a smooth function of the thresholds and
common random numbers make SPSA differences nearly noise-free. This is the
objective value iteration minimizes, so both must find the same threshold.
For a :class:`sociallearn.SocialLearningModel` it simulates quickest herding:
while the controller continues, agent ``k`` reveals ``y_k`` (public belief
``T_y pi``) at cost ``d(pi)``; once it stops, agents act myopically from their
private beliefs, the public sees only actions (the social learning filter of
``sociallearn``), and each agent pays its misclassification cost ``c[x, a_k]``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from llmsl_core import check_random_state

from .spsa import SPSAResult, spsa
from .stopping import CostLike, StoppingProblem, _Cost

__all__ = ["ThresholdPolicy", "PolicyCost", "policy_cost", "optimize_threshold", "ThresholdOptimization"]

KINDS = ("lower", "upper", "interval", "symmetric")
_N_PARAMS = {"lower": 1, "upper": 1, "interval": 2, "symmetric": 1}


class ThresholdPolicy:
    """Smoothed threshold policy in ``pi(0)`` with ``t = sin^2(theta)``.

    Parameters
    ----------
    theta : float or array
        SPSA parameters; one for ``"lower"``, ``"upper"``, ``"symmetric"``, two
        for ``"interval"``.
    tau : float
        Temperature of the logistic smoothing (``0``: hard threshold).
    kind : {"interval", "symmetric", "lower", "upper"}
        See the module docstring.

    Examples
    --------
    >>> pol = ThresholdPolicy.from_thresholds([0.2, 0.8], tau=0.0)
    >>> pol.continue_prob([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    array([0., 1., 0.])
    >>> round(float(ThresholdPolicy.from_thresholds(0.3, tau=0.05, kind="lower").stop_prob([0.3, 0.7])[0]), 3)
    0.5
    """

    def __init__(self, theta: np.ndarray | float, tau: float = 0.0, kind: str = "interval"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
        th = np.atleast_1d(np.asarray(theta, dtype=float))
        if th.shape != (_N_PARAMS[kind],) or not np.all(np.isfinite(th)):
            raise ValueError(f"a {kind!r} policy takes {_N_PARAMS[kind]} finite parameter(s); got {theta!r}")
        tau = float(tau)
        if not (np.isfinite(tau) and tau >= 0):
            raise ValueError(f"tau must be >= 0; got {tau}")
        self.theta = th
        self.tau = tau
        self.kind = kind

    @classmethod
    def from_thresholds(
        cls, thresholds: np.ndarray | float, tau: float = 0.0, kind: str = "interval"
    ) -> ThresholdPolicy:
        """Policy with thresholds ``t`` in ``[0, 1]`` (``theta = arcsin(sqrt(t))``)."""
        t = np.atleast_1d(np.asarray(thresholds, dtype=float))
        if not np.all((t >= 0) & (t <= 1)):
            raise ValueError(f"thresholds must lie in [0, 1]; got {thresholds!r}")
        return cls(np.arcsin(np.sqrt(t)), tau=tau, kind=kind)

    @property
    def thresholds(self) -> np.ndarray:
        """``sin^2(theta)``; for ``"symmetric"`` the pair ``(t, 1 - t)``."""
        t = np.sin(self.theta) ** 2
        return np.array([t[0], 1.0 - t[0]]) if self.kind == "symmetric" else t

    def _p0(self, beliefs) -> np.ndarray:
        b = np.asarray(beliefs, dtype=float)
        if b.ndim == 1:
            b = b[None, :]
        if b.ndim != 2 or b.shape[1] != 2:
            raise ValueError(f"threshold policies act on two-state beliefs of shape (n, 2); got {np.shape(beliefs)}")
        return b[:, 0]

    def _step(self, z: np.ndarray) -> np.ndarray:
        if self.tau == 0.0:
            return (z > 0).astype(float)
        return expit(z / self.tau)

    def continue_prob(self, beliefs: np.ndarray) -> np.ndarray:
        """Probability of continuing at beliefs (n, 2) -> (n,)."""
        p = self._p0(beliefs)
        t = self.thresholds
        if self.kind == "lower":
            return self._step(p - t[0])
        if self.kind == "upper":
            return self._step(t[0] - p)
        return self._step(p - t[0]) * self._step(t[1] - p)

    def stop_prob(self, beliefs: np.ndarray) -> np.ndarray:
        """Probability of stopping at beliefs (n, 2) -> (n,)."""
        return 1.0 - self.continue_prob(beliefs)

    def hard(self) -> ThresholdPolicy:
        """The same thresholds with ``tau = 0``."""
        return ThresholdPolicy(self.theta, 0.0, self.kind)

    def __repr__(self) -> str:
        return (
            f"ThresholdPolicy(kind={self.kind!r}, thresholds={np.round(self.thresholds, 6).tolist()}, tau={self.tau})"
        )


@dataclass
class PolicyCost:
    """Monte Carlo estimate of a policy's expected discounted cost.

    Attributes
    ----------
    mean : float
    std_error : float
        Standard error of ``mean`` over runs.
    per_run : ndarray (n_runs,)
    n_runs, horizon : int
    stop_time : ndarray (n_runs,)
        Expected (StoppingProblem) or realized (social learning) stopping period;
        ``horizon`` where the run never stopped.
    """

    mean: float
    std_error: float
    per_run: np.ndarray = field(repr=False)
    n_runs: int
    horizon: int
    stop_time: np.ndarray = field(repr=False)

    def __float__(self) -> float:
        return self.mean

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std_error": self.std_error, "n_runs": self.n_runs, "horizon": self.horizon,
                "mean_stop_time": float(np.mean(self.stop_time))}


def _default_horizon(rho: float, horizon: int | None) -> int:
    if horizon is not None:
        if int(horizon) != horizon or horizon < 1:
            raise ValueError(f"horizon must be a positive integer; got {horizon}")
        return int(horizon)
    if rho == 0:
        return 1
    # rho^H <= 1e-8: the truncated tail is below 1e-8 times the largest per-period cost / (1 - rho)
    return int(min(100_000, np.ceil(np.log(1e-8) / np.log(rho))))


def _draw(rng: np.random.Generator, probs: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
    """One categorical draw per row of ``probs`` (n, K), by inversion of uniforms ``u`` (n,).

    Simulations of a policy pass ``u`` sliced from one uniform vector per period
    over *all* runs, so the stream drawn from ``rng`` does not depend on which
    runs the policy sends where: run i sees the same states, observations and
    uniforms under every policy (common random numbers across SPSA's paired
    evaluations and across a threshold sweep).
    """
    cum = np.cumsum(probs, axis=1)
    u = (rng.random(probs.shape[0]) if u is None else u) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _prior(prior, X: int) -> np.ndarray:
    p = np.asarray(prior, dtype=float)
    if p.shape != (X,) or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-8:
        raise ValueError(f"prior must be a probability vector of length {X}; got {prior!r}")
    return p


def policy_cost(
    model,
    policy: ThresholdPolicy,
    prior: npt.ArrayLike,
    *,
    n_runs: int = 2000,
    horizon: int | None = None,
    seed: int | np.random.Generator | None = None,
    delay_cost: CostLike | None = None,
    discount: float | None = None,
) -> PolicyCost:
    """Expected discounted cost of a threshold policy by vectorized simulation.

    Parameters
    ----------
    model : StoppingProblem or sociallearn.SocialLearningModel
        Two states. For a StoppingProblem the cost is
        ``E[sum_k rho^k S_k (q_k C_s(pi_k) + (1 - q_k) d(pi_k))]`` (module docstring);
        for a SocialLearningModel, quickest herding with misclassification cost
        ``model.cost`` after stopping and ``delay_cost`` while continuing.
    policy : ThresholdPolicy
    prior : array (2,)
        Initial public belief; the true state of each run is drawn from it.
    n_runs : int
    horizon : int, optional
        Periods simulated; default the smallest ``H`` with ``rho^H <= 1e-8``.
        At the horizon the process is stopped (StoppingProblem: ``C_s`` is paid;
        social learning: the expected cost of the current action distribution
        is paid for ever).
    seed : int or Generator
        Same seed, same states and observations: common random numbers across policies.
    delay_cost, discount :
        Only for a SocialLearningModel: ``d`` (callable, vector over states or
        constant) and ``rho`` in ``[0, 1)``.

    Returns
    -------
    PolicyCost

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[0.7, 0.3], [0.3, 0.7]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    >>> pol = ThresholdPolicy.from_thresholds(0.0, kind="symmetric")   # never stop before the horizon
    >>> never = policy_cost(prob, pol, [0.5, 0.5], n_runs=100, seed=0).mean
    >>> stop_now = policy_cost(prob, ThresholdPolicy.from_thresholds(0.5, kind="symmetric"), [0.5, 0.5]).mean
    >>> round(stop_now, 6), never > 2.99
    (5.0, True)
    """
    if not isinstance(policy, ThresholdPolicy):
        raise ValueError(f"policy must be a ThresholdPolicy; got {type(policy).__name__}")
    if int(n_runs) != n_runs or n_runs < 1:
        raise ValueError(f"n_runs must be a positive integer; got {n_runs}")
    n_runs = int(n_runs)
    rng = check_random_state(seed)
    if isinstance(model, StoppingProblem):
        if delay_cost is not None or discount is not None:
            raise ValueError("delay_cost and discount are part of the StoppingProblem; do not pass them")
        return _cost_stopping(model, policy, prior, n_runs, horizon, rng)
    from sociallearn import SocialLearningModel

    if isinstance(model, SocialLearningModel):
        if delay_cost is None or discount is None:
            raise ValueError("a SocialLearningModel needs delay_cost= and discount=")
        return _cost_social(model, policy, prior, n_runs, horizon, rng, delay_cost, discount)
    raise ValueError(
        f"model must be a StoppingProblem or a sociallearn.SocialLearningModel; got {type(model).__name__}"
    )


def _cost_stopping(prob: StoppingProblem, policy, prior, n, horizon, rng) -> PolicyCost:
    X = prob.n_states
    if X != 2:
        raise ValueError(f"threshold policies need X = 2 states; the problem has X = {X}")
    pi0 = _prior(prior, X)
    rho = prob.discount
    H = _default_horizon(rho, horizon)
    B, P = prob.likelihood, prob.transition
    static = np.array_equal(P, np.eye(X))
    x = _draw(rng, np.broadcast_to(pi0, (n, X)))
    pi = np.broadcast_to(pi0, (n, X)).copy()
    S = np.ones(n)
    J = np.zeros(n)
    T = np.zeros(n)
    disc = 1.0
    cumB = np.cumsum(B, axis=1)
    cumP = np.cumsum(P, axis=1)
    for k in range(H):
        q = policy.stop_prob(pi)
        J += disc * S * (q * prob._stop(pi) + (1.0 - q) * prob._cont(pi))
        T += S * q * k
        S = S * (1.0 - q)
        if disc * S.max() < 1e-15:
            S[:] = 0.0
            break
        if not static:
            x = np.minimum((rng.random(n)[:, None] >= cumP[x]).sum(axis=1), X - 1)
        y = np.minimum((rng.random(n)[:, None] >= cumB[x]).sum(axis=1), B.shape[1] - 1)
        pi = prob.update(pi, y)
        disc *= rho
    else:
        J += disc * S * prob._stop(pi)
    T += S * H
    return PolicyCost(float(J.mean()), float(J.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"), J, n, H, T)


def _cost_social(model, policy, prior, n, horizon, rng, delay_cost, discount) -> PolicyCost:
    X = model.n_states
    if X != 2:
        raise ValueError(f"threshold policies need X = 2 states; the model has X = {X}")
    rho = float(discount)
    if not (0.0 <= rho < 1.0):
        raise ValueError(f"discount must lie in [0, 1); got {discount}")
    d = _Cost(delay_cost, X, "delay_cost")
    pi0 = _prior(prior, X)
    H = _default_horizon(rho, horizon)
    B, P, c = model.likelihood, model.transition, model.cost
    static = model.is_static
    cumB = np.cumsum(B, axis=1)
    cumP = np.cumsum(P, axis=1)
    x = _draw(rng, np.broadcast_to(pi0, (n, X)))
    pi = np.broadcast_to(pi0, (n, X)).copy()
    stopped = np.zeros(n, bool)
    done = np.zeros(n, bool)
    J = np.zeros(n)
    T = np.full(n, float(H))
    disc = 1.0
    for k in range(H):
        live = ~done
        if not live.any():
            break
        # the controller decides at the public belief before agent k moves
        u = rng.random(n)
        newly = live & ~stopped & (u < policy.stop_prob(pi))
        T[newly] = k
        stopped |= newly
        if not static:
            x = np.where(live, np.minimum((rng.random(n)[:, None] >= cumP[x]).sum(axis=1), X - 1), x)
        y = np.minimum((rng.random(n)[:, None] >= cumB[x]).sum(axis=1), B.shape[1] - 1)
        v = rng.random(n)  # uniforms of the myopic actions, one per run whatever the policy (CRN)
        reveal = live & ~stopped
        if reveal.any():
            idx = np.flatnonzero(reveal)
            J[idx] += disc * d(pi[idx])
            un = (pi[idx] @ P) * B[:, y[idx]].T
            pi[idx] = un / un.sum(axis=1, keepdims=True)
        herd = live & stopped
        if herd.any():
            idx = np.flatnonzero(herd)
            Pa = model.action_probs(pi[idx])  # (m, X, A)
            pax = Pa[np.arange(idx.size), x[idx]]  # (m, A)
            if static:
                # in a cascade the action law no longer changes: pay its expectation for ever
                casc = model.in_cascade(pi[idx])
                if casc.any():
                    ci = idx[casc]
                    J[ci] += disc * (pax[casc] * c[x[ci]]).sum(axis=1) / (1.0 - rho)
                    done[ci] = True
                idx, pax = idx[~casc], pax[~casc]
            if idx.size:
                a = _draw(rng, pax, v[idx])
                J[idx] += disc * c[x[idx], a]
                pi[idx] = model.public_update(pi[idx], a)
        disc *= rho
    rest = ~done
    if rest.any():
        # truncation: the current action law (stopped) or the stop decision is paid for ever
        idx = np.flatnonzero(rest)
        Pa = model.action_probs(pi[idx])
        J[idx] += disc * (Pa[np.arange(idx.size), x[idx]] * c[x[idx]]).sum(axis=1) / (1.0 - rho)
    return PolicyCost(float(J.mean()), float(J.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"), J, n, H, T)


@dataclass
class ThresholdOptimization:
    """Result of :func:`optimize_threshold`.

    Attributes
    ----------
    policy : ThresholdPolicy
        The optimized policy, hard (``tau = 0``).
    thresholds : ndarray
    cost : PolicyCost
        Cost of the hard policy on fresh random numbers.
    spsa : SPSAResult
        The optimizer's run (``spsa.history`` is in ``theta``; see ``threshold_history``).
    tau : float
    cost_start : PolicyCost or None
        Cost of the hard policy at the starting thresholds, on the *same* random
        numbers as ``cost`` (common random numbers), so that
        ``improvement`` = cost_start - cost is a paired estimate.
    thresholds_start : ndarray or None

    Why both costs are reported. SPSA minimizes the cost of the *smoothed*
    policy (temperature ``tau``). With finitely many observations the reachable
    beliefs lie on a lattice, the hard policy's cost is piecewise constant in
    the thresholds, and the smoothed optimum can sit near a lattice point,
    where the hard policy may fall on either side of it; where the objective
    is flat, SPSA does not move (or drifts). A small ``tau`` relative to the
    lattice spacing reduces this bias; the paired comparison with the start
    says whether the search actually helped.
    """

    policy: ThresholdPolicy
    thresholds: np.ndarray
    cost: PolicyCost
    spsa: SPSAResult = field(repr=False)
    tau: float
    elapsed: float
    cost_start: PolicyCost | None = field(default=None, repr=False)
    thresholds_start: np.ndarray | None = None

    @property
    def improvement(self) -> tuple[float, float]:
        """``(cost_start - cost, its standard error)`` from the paired per-run costs (NaN without a start cost)."""
        if self.cost_start is None:
            return float("nan"), float("nan")
        d = self.cost_start.per_run - self.cost.per_run
        return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")

    @property
    def threshold_history(self) -> np.ndarray:
        """Thresholds along the SPSA path, (n_iter + 1, n_thresholds)."""
        t = np.sin(self.spsa.history) ** 2
        return np.c_[t, 1 - t] if self.policy.kind == "symmetric" else t

    def summary(self) -> str:
        start: list[str] = []
        if self.cost_start is not None and self.thresholds_start is not None:
            start = [f"  start thresholds {np.round(self.thresholds_start, 6).tolist()}: "
                     f"cost {self.cost_start.mean:.6g} +- {self.cost_start.std_error:.2g}; "
                     f"improvement (paired, same random numbers) "
                     f"{self.improvement[0]:.4g} +- {self.improvement[1]:.2g}"]
        return "\n".join(
            [
                f"Threshold policy ({self.policy.kind}) optimized by SPSA, tau = {self.tau}",
                f"  thresholds in pi(0): {np.round(self.thresholds, 6).tolist()}",
                f"  cost of the hard policy: {self.cost.mean:.6g} +- {self.cost.std_error:.2g} "
                f"({self.cost.n_runs} runs)",
            ]
            + start
            + [
                f"  {self.spsa.n_iter} SPSA iterations, {self.spsa.n_evals} evaluations, {self.elapsed:.2f} s",
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.policy.kind,
            "thresholds": self.thresholds.tolist(),
            "tau": self.tau,
            "cost": self.cost.to_dict(),
            "cost_start": None if self.cost_start is None else self.cost_start.to_dict(),
            "thresholds_start": None if self.thresholds_start is None else self.thresholds_start.tolist(),
            "improvement": list(self.improvement),
            "spsa": self.spsa.to_dict(),
            "threshold_history": self.threshold_history.tolist(),
            "elapsed": self.elapsed,
        }


def optimize_threshold(
    model,
    prior: npt.ArrayLike,
    *,
    kind: str = "interval",
    thresholds0: np.ndarray | float | None = None,
    tau: float = 0.02,
    n_iter: int = 300,
    n_runs: int = 2000,
    n_runs_final: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    delay_cost: CostLike | None = None,
    discount: float | None = None,
    **spsa_kwargs,
) -> ThresholdOptimization:
    """Tune a threshold policy by SPSA on its simulated cost.

    Minimizes ``theta -> policy_cost(model, ThresholdPolicy(theta, tau, kind), prior, seed=s)``
    with :func:`spsa` (common random numbers: both evaluations of an iteration
    share ``s``), ``theta`` projected onto ``[0, pi/2]`` where ``t = sin^2(theta)``
    is one-to-one, iterate averaging over the second half, and gain calibration
    unless ``a=`` is passed in ``spsa_kwargs``. The result reports the hard
    policy's cost at the answer and at the start on common random numbers
    (:class:`ThresholdOptimization`: SPSA optimizes the smoothed cost, which on
    a lattice of reachable beliefs can prefer a threshold next to a lattice
    point, and does not move where the cost is flat).

    Parameters
    ----------
    model : StoppingProblem or SocialLearningModel
    prior : array (2,)
    kind : str
        Policy family (see :class:`ThresholdPolicy`).
    thresholds0 : float or array, optional
        Starting thresholds (default 0.25 / (0.25, 0.75) / 0.5).
    tau : float
        Smoothing temperature; of the order of the spacing of reachable beliefs.
    n_iter, n_runs : int
        SPSA iterations; simulated runs per evaluation.
    n_runs_final : int, optional
        Runs for the final cost estimate (default ``4 * n_runs``).
    seed : int, optional
    horizon, delay_cost, discount :
        Passed to :func:`policy_cost`.
    **spsa_kwargs :
        ``a``, ``c`` (default 0.05 rad), ``max_step`` (default 0.05 rad), ``A``, ``alpha``, ``gamma``,
        ``average``, ``callback``, ...

    Returns
    -------
    ThresholdOptimization

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[0.7, 0.3], [0.3, 0.7]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    >>> res = optimize_threshold(prob, [0.5, 0.5], kind="symmetric", n_iter=100, n_runs=500, seed=0)
    >>> # value iteration: 0.103, in the gap (0.073, 0.155) of reachable beliefs
    >>> bool(0.073 < res.thresholds[0] < 0.155)
    True
    """
    cost_kw: dict[str, Any] = dict(horizon=horizon, delay_cost=delay_cost, discount=discount)
    cost_kw = {k: v for k, v in cost_kw.items() if v is not None}
    n_final = 4 * n_runs if n_runs_final is None else int(n_runs_final)
    return spsa_on_thresholds(
        lambda pol, s: policy_cost(model, pol, prior, n_runs=n_runs, seed=s, **cost_kw).mean,
        lambda pol, s: policy_cost(model, pol, prior, n_runs=n_final, seed=s, **cost_kw),
        kind=kind, thresholds0=thresholds0, tau=tau, n_iter=n_iter, seed=seed, **spsa_kwargs)


#: where SPSA starts when no thresholds are given
DEFAULT_THRESHOLDS = {"lower": 0.5, "upper": 0.5, "interval": [0.25, 0.75], "symmetric": 0.25}


def spsa_on_thresholds(objective, final_cost, *, kind: str, thresholds0, tau: float, n_iter: int,
                       seed, **spsa_kwargs) -> ThresholdOptimization:
    """SPSA on the angles theta of a :class:`ThresholdPolicy` (thresholds sin^2 theta).

    ``objective(policy, seed) -> float`` is the smoothed (temperature ``tau``)
    simulated cost that SPSA minimizes with common random numbers;
    ``final_cost(policy, seed) -> PolicyCost`` prices the answer and the start,
    both hard, on one fresh seed, so that their difference is a paired comparison.
    Shared by :func:`optimize_threshold` and ``IncentiveProblem.optimize_threshold``.
    """
    t0 = time.perf_counter()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if thresholds0 is None:
        thresholds0 = DEFAULT_THRESHOLDS[kind]
    start = ThresholdPolicy.from_thresholds(thresholds0, tau=tau, kind=kind)
    rng = check_random_state(seed)
    kw: dict[str, Any] = dict(c=0.05, bounds=(0.0, np.pi / 2), average=True, paired=True, max_step=0.05)
    kw.update(spsa_kwargs)
    res = spsa(lambda theta, seed: objective(ThresholdPolicy(theta, tau, kind), seed), start.theta, n_iter,
               seed=rng, **kw)
    final = ThresholdPolicy(res.theta, 0.0, kind)
    s_final = int(rng.integers(0, 2**32))
    cost, cost0 = final_cost(final, s_final), final_cost(start.hard(), s_final)
    return ThresholdOptimization(final, final.thresholds, cost, res, float(tau), time.perf_counter() - t0,
                                 cost0, start.thresholds)
