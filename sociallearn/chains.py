r"""Observed chains of interacting agents: the data container and its analysis.

A *chain* r = 1..R is a sequence of N agents acting on one hidden state ``x_r``
(known to the analyst). Agent k of chain r sees its private observation (the
sensor reading / its text's label ``y_{r,k}``, when known) and the public
history ``a_{r,1..k-1}``, and takes the action ``a_{r,k}``. When the backend
gives exact action probabilities, ``p_{r,k}(a)`` is the agent's whole action
distribution (the history still holds the realized actions that the next
agents saw).

This module holds

* :class:`ChainData`, the validated container a pipeline hands over;
* :func:`public_beliefs`, the social learning filter of SPEC section 2 run
  along the *observed* histories;
* :func:`analyze_chains`, the empirical probability of herding and of herding on
  the wrong action and the herd-time distribution, per prior, with intervals,
  beside what the Bayesian model with the sensor likelihood ``B`` predicts;
* :func:`cascade_threshold`, the empirical lead in the history at which agents
  stop following their own signal, beside the Bayesian prediction and the exact
  cascade region.

Herding, empirically. The actions of an observed chain are all we see, so a
*herd* is a run of identical actions that lasts to the end of the chain: with
``s_r = min{k : a_{r,k} = a_{r,k+1} = ... = a_{r,N}}`` the chain herded when the
run is at least ``min_run`` agents long (``N - s_r + 1 >= min_run``); its herd
time is ``s_r - 1`` (the number of agents before the herd, as
:attr:`SimulationResult.cascade_time`) and the herd is *wrong* when the herd
action is not optimal in state ``x_r`` (:meth:`SocialLearningModel.correct_actions`).
The prediction applies the very same definition to chains simulated from the
Bayesian model (:func:`~sociallearn.simulate`), so observed and predicted
numbers are comparable; the exact law of the SPEC cascade (the public belief
entering the cascade set, :func:`~sociallearn.cascade_distribution`) is shown
beside them.

Public belief along an observed history. The public assumes every agent is a
myopic Bayesian with likelihood ``B``: ``pi_k = R^pi_{a_k} P' pi_{k-1} /
sigma(pi_{k-1}, a_k)``. An action that no Bayesian agent would take
(``sigma(pi_{k-1}, a_k) = 0``, e.g. a deviation inside a cascade) carries no
information under that belief, and the filter then leaves the (predicted)
belief unchanged: ``pi_k = P' pi_{k-1}``. Inside a cascade this is the filter's
own fixed point, so the convention only matters for off-path actions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from llmsl_core import check_random_state, to_jsonable

from ._validation import as_finite_array, positive_int, simplex_points
from .model import SocialLearningModel

__all__ = [
    "ChainData",
    "public_beliefs",
    "own_signal_actions",
    "herd_runs",
    "wilson_interval",
    "analyze_chains",
    "ChainAnalysis",
    "PriorGroupAnalysis",
    "cascade_threshold",
    "CascadeThreshold",
]


# ---------------------------------------------------------------------- helpers
def _check_level(level) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    return level


def _int_array(value, name: str, ndim: int, upper: int | None = None) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.ndim != ndim or (arr.size and arr.dtype.kind not in "iu") or arr.dtype.kind in "bO":
        raise ValueError(f"{name} must be a {ndim}-D array of integer labels, got shape {arr.shape} "
                         f"and dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be >= 0, got {int(arr.min())}")
    if upper is not None and arr.size and arr.max() >= upper:
        raise ValueError(f"{name} must lie in 0..{upper - 1}, got {int(arr.max())}")
    return arr


def wilson_interval(successes, trials, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Wilson score interval of a binomial proportion (works elementwise).

    With ``p = k / n`` and ``z`` the two-sided normal quantile,

    ``(p + z^2/(2n) +- z sqrt(p (1-p)/n + z^2/(4n^2))) / (1 + z^2/n)``.

    Fractional ``successes`` (soft counts from action probabilities) are
    allowed. Where ``trials == 0`` the interval is the whole ``[0, 1]``.

    >>> lo, hi = wilson_interval(8, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4902, 0.9433)
    """
    from scipy.special import ndtri

    level = _check_level(level)
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    if np.any(n < 0) or np.any(k < 0) or np.any(k > n + 1e-9):
        raise ValueError("wilson_interval needs 0 <= successes <= trials")
    z = float(ndtri(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1.0), 0.5)
        nn = np.where(n > 0, n, 1.0)
        den = 1 + z * z / nn
        mid = (p + z * z / (2 * nn)) / den
        half = z * np.sqrt(np.clip(p * (1 - p) / nn + z * z / (4 * nn * nn), 0.0, None)) / den
    # k = 0 and k = n give the end points 0 and 1 exactly (round-off would move them slightly)
    lo = np.where((n > 0) & (k > 0), np.clip(mid - half, 0.0, 1.0), 0.0)
    hi = np.where((n > 0) & (k < n), np.clip(mid + half, 0.0, 1.0), 1.0)
    return lo, hi


# ---------------------------------------------------------------------- data container
class ChainData:
    r"""Validated data of R observed chains of N agents.

    Parameters
    ----------
    states : array_like of int, shape (R,)
        True state ``x_r`` of each chain (0..X-1).
    actions : array_like of int, shape (R, N)
        Observed action ``a_{r,k}``; row r is also the public history the later
        agents of chain r saw.
    prior : array_like, shape (X,) or (R, X)
        Initial public belief ``pi_0`` of each chain (one for all, or one per
        chain; chains that share a prior form a group in :func:`analyze_chains`).
    signals : array_like of int, shape (R, N), optional
        Private observation ``y_{r,k}`` (0..Y-1) of each agent, e.g. the label the
        same model gave its text without history. When absent, likelihoods mix
        over ``y ~ B[x_r, .]``.
    action_probs : array_like, shape (R, N, A), optional
        Exact action distribution ``p_{r,k}(a)`` of each agent (from
        log-probabilities). Rows must sum to one and give the observed action a
        positive probability. Likelihoods then use these as soft counts: the
        *expected* log-likelihood ``sum_{r,k} sum_a p_{r,k}(a) log q_{r,k}(a)``
        (a cross-entropy; see :mod:`sociallearn.social_models`).
    n_states, n_actions, n_obs : int, optional
        X, A and Y; inferred when omitted (X from ``prior``, A from
        ``action_probs`` or ``max(actions) + 1`` (at least 2), Y from
        ``max(signals) + 1``).

    Attributes
    ----------
    states (R,), actions (R, N), priors (R, X), signals (R, N) or None,
    action_probs (R, N, A) or None, n_chains, n_agents, n_states, n_actions, n_obs.

    Examples
    --------
    >>> d = ChainData([0, 1], [[0, 0, 0], [1, 0, 1]], [0.5, 0.5], signals=[[0, 1, 0], [1, 0, 1]])
    >>> d.n_chains, d.n_agents, d.n_actions, d.targets()[1, 1].tolist()
    (2, 3, 2, [1.0, 0.0])
    """

    def __init__(self, states, actions, prior, *, signals=None, action_probs=None,
                 n_states: int | None = None, n_actions: int | None = None, n_obs: int | None = None):
        acts = _int_array(actions, "actions", 2)
        R, N = acts.shape
        if R < 1 or N < 1:
            raise ValueError(f"actions must hold at least one chain of at least one agent, got shape {acts.shape}")
        pri = as_finite_array(prior, "prior", ndim=(1, 2))
        X = pri.shape[-1] if n_states is None else positive_int(n_states, "n_states")
        priors, single = simplex_points(pri, "prior", X)
        if single:
            priors = np.broadcast_to(priors, (R, X)).copy()
        elif priors.shape[0] != R:
            raise ValueError(f"prior must have shape ({X},) or ({R}, {X}) (one per chain), got {pri.shape}")
        st = _int_array(states, "states", 1, upper=X)
        if st.shape[0] != R:
            raise ValueError(f"states has {st.shape[0]} entries but actions has {R} chains")
        probs = None
        if action_probs is not None:
            probs = as_finite_array(action_probs, "action_probs", ndim=3)
            if probs.shape[:2] != (R, N):
                raise ValueError(f"action_probs must have shape ({R}, {N}, A), got {probs.shape}")
            if np.any(probs < 0):
                raise ValueError("action_probs has negative entries")
            if np.any(np.abs(probs.sum(axis=2) - 1.0) > 1e-6):
                raise ValueError("action_probs rows must sum to 1")
            probs = probs / probs.sum(axis=2, keepdims=True)
        if n_actions is None:
            A = probs.shape[2] if probs is not None else max(int(acts.max()) + 1, 2)
        else:
            A = positive_int(n_actions, "n_actions")
        if probs is not None and probs.shape[2] != A:
            raise ValueError(f"action_probs has {probs.shape[2]} actions but n_actions = {A}")
        if acts.max() >= A:
            raise ValueError(f"actions must lie in 0..{A - 1}, got {int(acts.max())}")
        if probs is not None:
            p_obs = np.take_along_axis(probs, acts[:, :, None], axis=2)[:, :, 0]
            if np.any(p_obs <= 0):
                r, k = np.argwhere(p_obs <= 0)[0]
                raise ValueError(f"action_probs gives the observed action a[{r}, {k}] = {acts[r, k]} probability 0")
        sig = None
        Y = None if n_obs is None else positive_int(n_obs, "n_obs")
        if signals is not None:
            sig = _int_array(signals, "signals", 2, upper=Y)
            if sig.shape != (R, N):
                raise ValueError(f"signals must have shape ({R}, {N}) like actions, got {sig.shape}")
            if Y is None:
                Y = int(sig.max()) + 1
        self.states, self.actions, self.priors = st, acts, priors
        self.signals, self.action_probs = sig, probs
        self.n_chains, self.n_agents = R, N
        self.n_states, self.n_actions, self.n_obs = X, A, Y
        for arr in (st, acts, priors, sig, probs):
            if arr is not None:
                arr.setflags(write=False)

    def targets(self) -> np.ndarray:
        """Soft targets (R, N, A): ``action_probs`` when given, else one-hot observed actions."""
        if self.action_probs is not None:
            return self.action_probs.copy()
        T = np.zeros((self.n_chains, self.n_agents, self.n_actions))
        np.put_along_axis(T, self.actions[:, :, None], 1.0, axis=2)
        return T

    def subset(self, chains) -> ChainData:
        """The chains with the given indices (repeats allowed: a bootstrap resample)."""
        idx = np.asarray(chains, dtype=np.int64)
        return ChainData(self.states[idx], self.actions[idx], self.priors[idx],
                         signals=None if self.signals is None else self.signals[idx],
                         action_probs=None if self.action_probs is None else self.action_probs[idx],
                         n_states=self.n_states, n_actions=self.n_actions, n_obs=self.n_obs)

    def check_model(self, model: SocialLearningModel) -> None:
        """Raise ValueError unless ``model`` has this data's X and A (and covers its signals)."""
        if not isinstance(model, SocialLearningModel):
            raise ValueError(f"model must be a SocialLearningModel, got {type(model).__name__}")
        if model.n_states != self.n_states:
            raise ValueError(f"model has {model.n_states} states but the chain data has {self.n_states}")
        if model.n_actions != self.n_actions:
            raise ValueError(f"model has {model.n_actions} actions but the chain data has {self.n_actions}")
        if self.signals is not None and self.n_obs is not None and self.n_obs > model.n_obs:
            raise ValueError(f"signals take {self.n_obs} values but the model's likelihood has {model.n_obs} columns")

    def to_dict(self) -> dict:
        """JSON-ready copy of the data."""
        return to_jsonable({"n_chains": self.n_chains, "n_agents": self.n_agents, "n_states": self.n_states,
                           "n_actions": self.n_actions, "n_obs": self.n_obs, "states": self.states,
                           "actions": self.actions, "priors": self.priors, "signals": self.signals,
                           "action_probs": self.action_probs})

    def __repr__(self) -> str:
        return (f"ChainData(n_chains={self.n_chains}, n_agents={self.n_agents}, X={self.n_states}, "
                f"A={self.n_actions}, signals={'yes' if self.signals is not None else 'no'}, "
                f"action_probs={'yes' if self.action_probs is not None else 'no'})")


def _check_data_model(data, model) -> None:
    if not isinstance(data, ChainData):
        raise ValueError(f"data must be a ChainData, got {type(data).__name__}")
    data.check_model(model)


# ---------------------------------------------------------------------- filter along observed histories
def _filter_step(model: SocialLearningModel, pi: np.ndarray, a: np.ndarray) -> np.ndarray:
    """One step of the social learning filter for beliefs (R, X) and actions (R,);
    an action of probability zero leaves the predicted belief unchanged."""
    pred = model._predict(pi)
    Pa = model._action_probs_from_decision(model._decision_from_pred(pred))
    num, sigma = model._update_from(pred, Pa, a)
    on_path = sigma > 1e-300
    out = pred.copy()
    out[on_path] = num[on_path] / sigma[on_path, None]
    return out


def public_beliefs(data: ChainData, model: SocialLearningModel) -> np.ndarray:
    r"""Public beliefs ``pi_0..pi_N`` along the observed histories, shape (R, N + 1, X).

    ``pi_k = R^pi_{a_k} P' pi_{k-1} / sigma(pi_{k-1}, a_k)`` (SPEC section 2), with
    ``pi_k = P' pi_{k-1}`` when ``sigma(pi_{k-1}, a_k) = 0`` (an action no
    Bayesian agent would take is uninformative; see the module docstring).

    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> d = ChainData([0], [[0, 0, 1]], [0.5, 0.5])
    >>> public_beliefs(d, m)[0].round(4).tolist()
    [[0.5, 0.5], [0.7, 0.3], [0.7532, 0.2468], [0.7532, 0.2468]]
    """
    _check_data_model(data, model)
    R, N = data.actions.shape
    out = np.empty((R, N + 1, data.n_states))
    out[:, 0] = data.priors
    for k in range(N):
        out[:, k + 1] = _filter_step(model, out[:, k], data.actions[:, k])
    return out


def own_signal_actions(data: ChainData, model: SocialLearningModel) -> np.ndarray:
    r"""The action each agent's own signal favours, shape (R, N); -1 where undefined.

    With signals: the myopic Bayesian action on the signal alone at the chain's
    prior, ``argmin_a c_a' B_y P' pi_0`` (-1 where that decision is a tie).
    Without signals: the first full-information optimal action of the chain's
    true state (the action the agent's *text* supports).

    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> own_signal_actions(ChainData([0], [[0, 1]], [0.5, 0.5], signals=[[1, 0]]), m).tolist()
    [[1, 0]]
    """
    _check_data_model(data, model)
    R, N = data.actions.shape
    if data.signals is None:
        best = np.argmax(model.correct_actions(), axis=1)
        return np.broadcast_to(best[data.states][:, None], (R, N)).copy()
    D0 = model.decision_probs(data.priors)  # (R, Y, A)
    rows = D0[np.arange(R)[:, None], data.signals]  # (R, N, A)
    det = rows.max(axis=2) >= 1.0 - 1e-12
    return np.where(det, np.argmax(rows, axis=2), -1)


def herd_runs(actions, min_run: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The final run of identical actions of each chain.

    Returns ``(herded, herd_time, herd_action)``, each of shape (R,):
    ``herd_time = s - 1`` where agent ``s`` (1-based) starts the run
    ``a_s = ... = a_N``; ``herded`` is ``N - s + 1 >= min_run``; ``herd_action = a_N``.

    >>> h, t, a = herd_runs([[0, 1, 1, 1], [1, 0, 1, 0]], min_run=3)
    >>> h.tolist(), t.tolist(), a.tolist()
    ([True, False], [1, 3], [1, 0])
    """
    acts = _int_array(actions, "actions", 2)
    R, N = acts.shape
    min_run = positive_int(min_run, "min_run")
    diff = acts[:, :-1] != acts[:, -1:]  # (R, N-1): agent j differs from the last
    cols = np.arange(N - 1)
    last_diff = np.where(diff, cols[None, :], -1).max(axis=1) if N > 1 else np.full(R, -1)
    start = last_diff + 1  # 0-based index of the run's first agent = agents before it
    return (N - start) >= min_run, start.astype(np.int64), acts[:, -1].copy()


# ---------------------------------------------------------------------- analysis against theory
@dataclass
class PriorGroupAnalysis:
    """Herding statistics of the chains that share one prior, observed and predicted.

    ``observed`` and ``predicted`` hold ``p_herd``, ``p_wrong_herd`` (with
    intervals for the observed ones), ``mean_herd_time`` and ``herd_time_pmf``
    (``pmf[t] = P(herd starts after t agents)``); ``exact_cascade`` holds the exact
    SPEC-cascade law of the Bayesian model (``p_cascade``, ``p_wrong_cascade``,
    ``mean_cascade_time``) for the chains' states.
    """

    prior: np.ndarray
    n_chains: int
    observed: dict
    predicted: dict
    exact_cascade: dict | None

    def to_dict(self) -> dict:
        return to_jsonable({"prior": self.prior, "n_chains": self.n_chains, "observed": self.observed,
                           "predicted": self.predicted, "exact_cascade": self.exact_cascade})


@dataclass
class ChainAnalysis:
    """Result of :func:`analyze_chains`: one :class:`PriorGroupAnalysis` per distinct prior."""

    groups: list[PriorGroupAnalysis]
    n_chains: int
    n_agents: int
    min_run: int
    level: float
    n_boot: int
    n_sim: int
    model: SocialLearningModel = field(repr=False)

    def to_dict(self) -> dict:
        return to_jsonable({"n_chains": self.n_chains, "n_agents": self.n_agents, "min_run": self.min_run,
                           "level": self.level, "n_boot": self.n_boot, "n_sim": self.n_sim,
                           "herd_definition": "final run of identical actions of at least min_run agents",
                           "model": self.model.to_dict(), "groups": [g.to_dict() for g in self.groups]})

    def summary(self) -> str:
        L = 100 * self.level
        lines = ["Herding in observed chains versus the Bayesian model", "=" * 78,
                 f"{self.n_chains} chains x {self.n_agents} agents; herd = final run of >= {self.min_run} "
                 f"identical actions; {L:g}% intervals (Wilson; bootstrap over chains for times)",
                 repr(self.model), "-" * 78,
                 f"{'prior':>16} {'n':>5} {'P(herd) obs [CI]':>22} {'pred':>6} {'P(wrong) obs [CI]':>22} "
                 f"{'pred':>6} {'E[T] obs':>9} {'pred':>6}"]
        for g in self.groups:
            o, p = g.observed, g.predicted
            pr = np.array2string(g.prior, precision=2, separator=",")
            lines.append(f"{pr:>16} {g.n_chains:5d} {o['p_herd']:6.3f} "
                         f"[{o['p_herd_ci'][0]:.3f},{o['p_herd_ci'][1]:.3f}]"
                         f"  {p['p_herd']:6.3f} {o['p_wrong_herd']:6.3f} [{o['p_wrong_herd_ci'][0]:.3f},"
                         f"{o['p_wrong_herd_ci'][1]:.3f}]  {p['p_wrong_herd']:6.3f} "
                         f"{o['mean_herd_time']:9.3f} {p['mean_herd_time']:6.3f}")
            if g.exact_cascade is not None:
                e = g.exact_cascade
                lines.append(f"{'':>22} exact Bayesian cascade: P(cascade by N) {e['p_cascade']:.3f}, "
                             f"P(wrong) {e['p_wrong_cascade']:.3f}, E[T | T<=N] {e['mean_cascade_time']:.3f}")
        return "\n".join(lines)


def _herd_stats(acts: np.ndarray, states: np.ndarray, correct: np.ndarray, min_run: int):
    herded, t, a = herd_runs(acts, min_run)
    wrong = herded & ~correct[states, a]
    return herded, wrong, t


def analyze_chains(data: ChainData, model: SocialLearningModel, *, min_run: int | None = None,
                   level: float = 0.95, n_boot: int = 1000, n_sim: int = 4000, seed=None) -> ChainAnalysis:
    r"""Empirical herding in observed chains, per prior, beside the Bayesian prediction.

    For the chains of each distinct prior: ``P(herd)`` and ``P(wrong herd)``
    (herd = final run of at least ``min_run`` identical actions; wrong when the
    herd action is not optimal in ``x_r``) with Wilson intervals; the mean herd
    time ``E[T | herd]`` with a percentile bootstrap interval over chains; the
    herd-time distribution. Predicted: the same statistics on ``n_sim`` chains
    simulated from the Bayesian model ``model`` (the likelihood ``B`` estimated
    without history) with the observed states, and the exact SPEC-cascade law
    (static state) from :func:`~sociallearn.cascade_distribution`. Herds are
    read from the realized actions (the histories the agents saw), also when
    the data hold action probabilities.

    Parameters
    ----------
    data : ChainData
    model : SocialLearningModel
        Bayesian model with the sensor likelihood estimated without history.
    min_run : int, optional
        Shortest final run counted as a herd; default ``max(2, ceil(N / 2))``.
    level : float
    n_boot : int
        Bootstrap resamples of chains.
    n_sim : int
        Simulated Bayesian chains per prior (at least the group's size).
    seed : int, Generator or None

    Returns
    -------
    ChainAnalysis

    Examples
    --------
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> d = ChainData([0, 0, 1], [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]], [0.5, 0.5])
    >>> g = analyze_chains(d, m, n_boot=200, n_sim=500, seed=0).groups[0]
    >>> round(g.observed["p_herd"], 4), round(g.observed["p_wrong_herd"], 4)
    (0.6667, 0.3333)
    """
    _check_data_model(data, model)
    level = _check_level(level)
    n_boot = positive_int(n_boot, "n_boot")
    n_sim = positive_int(n_sim, "n_sim")
    rng = check_random_state(seed)
    R, N = data.actions.shape
    min_run = max(2, math.ceil(N / 2)) if min_run is None else positive_int(min_run, "min_run")
    if min_run > N:
        raise ValueError(f"min_run must be <= n_agents = {N}, got {min_run}")
    from .cascades import cascade_distribution
    from .simulation import simulate

    correct = model.correct_actions()
    uniq, inv = np.unique(np.round(data.priors, 12), axis=0, return_inverse=True)
    inv = inv.ravel()
    q = (1 - level) / 2
    groups = []
    for g in range(uniq.shape[0]):
        idx = np.flatnonzero(inv == g)
        n = idx.size
        prior = data.priors[idx[0]]
        st = data.states[idx]
        herded, wrong, t = _herd_stats(data.actions[idx], st, correct, min_run)
        lo, hi = wilson_interval([herded.sum(), wrong.sum()], [n, n], level)
        pmf = np.bincount(t[herded], minlength=N) / n
        mean_t = float(t[herded].mean()) if herded.any() else float("nan")
        res = rng.integers(0, n, size=(n_boot, n))
        h_b = herded[res]
        cnt = h_b.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mt_b = (t[res] * h_b).sum(axis=1) / cnt
        mt_b = mt_b[cnt > 0]
        t_ci = (np.quantile(mt_b, [q, 1 - q]) if mt_b.size else np.array([np.nan, np.nan])).tolist()
        observed = {"p_herd": float(herded.mean()), "p_herd_ci": [float(lo[0]), float(hi[0])],
                    "p_wrong_herd": float(wrong.mean()), "p_wrong_herd_ci": [float(lo[1]), float(hi[1])],
                    "mean_herd_time": mean_t, "mean_herd_time_ci": t_ci, "herd_time_pmf": pmf.tolist()}
        reps = max(1, math.ceil(n_sim / n))
        sim = simulate(model, prior, N, n * reps, true_state=np.tile(st, reps), seed=rng)
        sh, sw, stt = _herd_stats(sim.actions.astype(np.int64), np.tile(st, reps), correct, min_run)
        predicted = {"p_herd": float(sh.mean()), "p_wrong_herd": float(sw.mean()),
                     "se_p_herd": float(np.sqrt(sh.mean() * (1 - sh.mean()) / sh.size)),
                     "se_p_wrong_herd": float(np.sqrt(sw.mean() * (1 - sw.mean()) / sw.size)),
                     "mean_herd_time": float(stt[sh].mean()) if sh.any() else float("nan"),
                     "herd_time_pmf": (np.bincount(stt[sh], minlength=N) / sh.size).tolist(), "n_sim": int(sh.size)}
        exact = None
        if model.is_static:
            freq = np.bincount(st, minlength=model.n_states) / n
            pc = pw = 0.0
            pmf_c = np.zeros(N + 1)
            for x in np.flatnonzero(freq):
                if prior[x] <= 0:
                    continue
                dist = cascade_distribution(model, prior, n_agents=N, true_state=int(x))
                pc += freq[x] * (1 - dist.p_no_cascade)
                pw += freq[x] * dist.p_wrong_cascade
                pmf_c += freq[x] * dist.time_pmf
            exact = {"p_cascade": float(pc), "p_wrong_cascade": float(pw),
                     "mean_cascade_time": float(np.dot(np.arange(N + 1), pmf_c) / pmf_c.sum())
                     if pmf_c.sum() > 0 else float("nan"), "cascade_time_pmf": pmf_c.tolist()}
        groups.append(PriorGroupAnalysis(prior, int(n), observed, predicted, exact))
    return ChainAnalysis(groups, R, N, min_run, level, n_boot, n_sim, model)


# ---------------------------------------------------------------------- empirical cascade threshold
@dataclass
class CascadeThreshold:
    r"""Result of :func:`cascade_threshold`.

    Attributes
    ----------
    leads : ndarray (M,)
        Leads ``m = 1..N-1`` (absolute difference ``|#a=1 - #a=0|`` in the history).
    n_disagree : ndarray (M,)
        Agents at lead ``m`` whose own signal favours the trailing action.
    follow_own : ndarray (M,)
        Share of them that follow their own signal (soft with action probabilities).
    follow_own_lower, follow_own_upper : ndarray (M,)
        Wilson intervals.
    follow_own_bayes : ndarray (M,)
        What the Bayesian model predicts for the same agents (same histories and signals).
    threshold : float or None
        Smallest lead with ``follow_own < 1/2`` (None: no such lead observed).
    threshold_interval : (lower, upper)
        Percentile bootstrap interval over chains (None for an end that is
        unbounded: too many resamples without a threshold).
    threshold_bayes : float or None
        Same rule applied to ``follow_own_bayes``.
    p_threshold_exists : float
        Share of bootstrap resamples that have a threshold.
    cascade_region : dict
        The exact cascade set of the model (:func:`~sociallearn.cascade_region`).
    """

    leads: np.ndarray
    n_disagree: np.ndarray
    follow_own: np.ndarray
    follow_own_lower: np.ndarray
    follow_own_upper: np.ndarray
    follow_own_bayes: np.ndarray
    threshold: float | None
    threshold_interval: tuple
    threshold_bayes: float | None
    p_threshold_exists: float
    level: float
    n_boot: int
    cascade_region: dict

    def to_dict(self) -> dict:
        return to_jsonable({k: getattr(self, k) for k in (
            "leads", "n_disagree", "follow_own", "follow_own_lower", "follow_own_upper", "follow_own_bayes",
            "threshold", "threshold_interval", "threshold_bayes", "p_threshold_exists", "level", "n_boot",
            "cascade_region")})

    def summary(self) -> str:
        ci = self.threshold_interval

        def fmt(v):
            return "none" if v is None else f"{v:g}"

        lines = ["Empirical cascade threshold (lead in the history at which agents stop following their signal)",
                 "=" * 78,
                 f"threshold: {fmt(self.threshold)}  [{100 * self.level:g}% bootstrap: {fmt(ci[0])}, {fmt(ci[1])}]"
                 f"  (resamples with a threshold: {100 * self.p_threshold_exists:.1f}%)   "
                 f"Bayesian prediction: {fmt(self.threshold_bayes)}",
                 f"{'lead':>5} {'n':>7} {'follow own [CI]':>24} {'Bayes':>7}"]
        for i, m in enumerate(self.leads):
            if self.n_disagree[i] > 0:
                lines.append(f"{int(m):5d} {self.n_disagree[i]:7.0f} {self.follow_own[i]:8.3f} "
                             f"[{self.follow_own_lower[i]:.3f}, {self.follow_own_upper[i]:.3f}] "
                             f"{self.follow_own_bayes[i]:7.3f}")
        reg = self.cascade_region
        if "intervals" in reg:
            lines.append("theoretical cascade set in pi(0): " + ", ".join(
                f"[{iv['lo']:.4g}, {iv['hi']:.4g}] -> {iv['action']}" for iv in reg["intervals"]))
        return "\n".join(lines)


def _first_below_half(S: np.ndarray, N: np.ndarray, leads: np.ndarray, min_count: float) -> np.ndarray:
    """Smallest lead with N >= min_count and S / N < 1/2, per row; inf where none."""
    ok = (min_count <= N) & (N > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        below = ok & (S < 0.5 * N)
    first = np.argmax(below, axis=-1)
    return np.where(below.any(axis=-1), leads[first].astype(np.float64), np.inf)


def cascade_threshold(data: ChainData, model: SocialLearningModel, *, level: float = 0.95, n_boot: int = 1000,
                      min_count: float = 5, seed=None) -> CascadeThreshold:
    r"""Empirical cascade threshold of binary-action chains, with a bootstrap interval.

    For agent k of chain r the lead is ``d_{r,k} = #{j < k : a_j = 1} - #{j < k : a_j = 0}``.
    An agent *disagrees* when ``d != 0`` and its own-signal action
    (:func:`own_signal_actions`) is the trailing one. With ``f(m)`` the share of
    disagreeing agents at ``|d| = m`` that take their own-signal action (the
    expected share ``p_{r,k}(own)`` with action probabilities), the threshold is

    ``m* = min{m : n(m) >= min_count, f(m) < 1/2}``,

    with a percentile bootstrap interval over chains. The Bayesian prediction
    ``f_B(m)`` averages, over the same agents, the model's probability
    ``P(a = own | y_{r,k}, pi_{k-1})`` at the public belief of the observed
    history (:func:`public_beliefs`); ``P(a = own | x_r, pi_{k-1})`` when the
    signals are unknown.

    Examples
    --------
    BHW agents who break ties by their own signal follow a disagreeing signal
    at lead 1 and never at lead 2:

    >>> from sociallearn.testing import scripted_chains
    >>> m = SocialLearningModel.binary_symmetric(0.7, tie_rule="own_signal")
    >>> d = scripted_chains("bayes", m, [0.5, 0.5], 300, 8, seed=1)
    >>> ct = cascade_threshold(d, m, n_boot=200, seed=0)
    >>> ct.threshold, ct.threshold_bayes, ct.threshold_interval
    (2.0, 2.0, (2.0, 2.0))
    """
    _check_data_model(data, model)
    if data.n_actions != 2:
        raise ValueError(f"cascade_threshold needs binary actions (A = 2), got A = {data.n_actions}")
    level = _check_level(level)
    n_boot = positive_int(n_boot, "n_boot")
    min_count = float(min_count)
    if not min_count >= 0:
        raise ValueError(f"min_count must be >= 0, got {min_count}")
    rng = check_random_state(seed)
    from .cascades import cascade_region

    R, N = data.actions.shape
    a = data.actions
    step = 2 * a - 1
    lead = np.concatenate([np.zeros((R, 1), dtype=np.int64), np.cumsum(step, axis=1)[:, :-1]], axis=1)
    own = own_signal_actions(data, model)
    lead_act = (lead > 0).astype(np.int64)
    disagree = (lead != 0) & (own >= 0) & (own != lead_act)
    T = data.targets()
    own_c = np.where(own >= 0, own, 0)
    follow = np.take_along_axis(T, own_c[:, :, None], axis=2)[:, :, 0]
    # Bayesian probability of the own action at the observed public beliefs
    pis = public_beliefs(data, model)[:, :-1]  # (R, N, X): pi_{k-1}
    D = model.decision_probs(pis.reshape(R * N, -1)).reshape(R, N, model.n_obs, 2)
    if data.signals is not None:
        pa = D[np.arange(R)[:, None], np.arange(N)[None, :], data.signals]  # (R, N, A)
    else:
        pa = np.einsum("rky,rkya->rka", model.likelihood[data.states][:, None, :].repeat(N, axis=1), D)
    bayes = np.take_along_axis(pa, own_c[:, :, None], axis=2)[:, :, 0]
    leads = np.arange(1, max(N, 2))
    absd = np.abs(lead)
    onehot = (absd[:, :, None] == leads[None, None, :]) & disagree[:, :, None]  # (R, N, M)
    n_rm = onehot.sum(axis=1).astype(np.float64)  # (R, M)
    s_rm = (onehot * follow[:, :, None]).sum(axis=1)
    b_rm = (onehot * bayes[:, :, None]).sum(axis=1)
    n_m, s_m, b_m = n_rm.sum(axis=0), s_rm.sum(axis=0), b_rm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(n_m > 0, s_m / np.where(n_m > 0, n_m, 1), np.nan)
        fb = np.where(n_m > 0, b_m / np.where(n_m > 0, n_m, 1), np.nan)
    lo, hi = wilson_interval(np.minimum(s_m, n_m), n_m, level)
    thr = float(_first_below_half(s_m, n_m, leads, min_count))
    thr_b = float(_first_below_half(b_m, n_m, leads, min_count))
    W = np.zeros((n_boot, R))
    res = rng.integers(0, R, size=(n_boot, R))
    np.add.at(W, (np.repeat(np.arange(n_boot), R), res.ravel()), 1.0)
    boot = _first_below_half(W @ s_rm, W @ n_rm, leads, min_count)
    q = (1 - level) / 2
    ends = np.quantile(boot, [q, 1 - q], method="inverted_cdf")
    ci = tuple(float(e) if np.isfinite(e) else None for e in ends)
    reg = cascade_region(model).to_dict()
    return CascadeThreshold(leads=leads, n_disagree=n_m, follow_own=f, follow_own_lower=np.where(n_m > 0, lo, np.nan),
                            follow_own_upper=np.where(n_m > 0, hi, np.nan), follow_own_bayes=fb,
                            threshold=thr if math.isfinite(thr) else None, threshold_interval=ci,
                            threshold_bayes=thr_b if math.isfinite(thr_b) else None,
                            p_threshold_exists=float(np.isfinite(boot).mean()), level=level, n_boot=n_boot,
                            cascade_region=reg)
