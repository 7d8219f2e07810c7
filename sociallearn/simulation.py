"""Vectorized Monte Carlo of many independent social learning chains.

Two engines compute the same thing (they consume the random stream identically,
so with one seed they return the same actions):

* ``"lattice"`` (default for a static state). With finitely many signals the
  public belief after k agents is ``pi0 * prod_j P(a_j | x, pi_{j-1})``
  normalized, and the factors take finitely many values, so the reachable
  beliefs form a small lattice shared by all runs. Each distinct belief is
  stored once (beliefs equal to 12 decimals are identified) with its decision
  table ``P(a | y, pi)``, its cascade flag and its successor under each action;
  a step of the simulation is then a handful of integer gathers over the runs
  still learning. Runs whose public belief enters the cascade set are frozen
  (for a static state the belief is a fixed point there) and their remaining
  actions are filled at the end with the herd's action.
* ``"direct"`` (used for a moving state, ``transition`` not the identity): the
  filter is evaluated on every active run's own belief at every step.

State and observation draws: ``x_0 ~ prior`` (or ``true_state``),
``x_k ~ P[x_{k-1}, .]``, ``y_k ~ B[x_k, .]`` -- or, with ``observations=``,
``y_k`` is drawn uniformly with replacement from the user's observed labels of
state ``x_k`` (the agents still *believe* the model's ``B``; this is how real
sensor output, such as an LLM's labels of real texts, enters the chain).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from llmsl_core import check_random_state

from ._validation import positive_int, simplex_points
from .model import SocialLearningModel

__all__ = ["simulate", "SimulationResult"]

_KEY_SCALE = 1e12  # beliefs equal to 12 decimals share one lattice state


@dataclass
class SimulationResult:
    """Output of :func:`simulate`.

    Attributes
    ----------
    actions : ndarray, shape (n_runs, n_agents)
        Action of agent k (column k-1) in each run; integer dtype (int8 when A <= 127).
    cascade_time : ndarray of int64, shape (n_runs,)
        The first k in 0..n_agents with the public belief ``pi_k`` in the cascade
        set (agents k+1, k+2, ... herd); equivalently the number of agents that
        acted before the cascade. ``-1`` when no cascade started in the horizon.
        With a moving state the belief keeps drifting by ``P' pi`` inside a
        cascade and may leave the set again; this is the *first* entry.
    cascade_action : ndarray of int64, shape (n_runs,)
        The herd's action (``-1`` when no cascade).
    true_state : ndarray of int64, shape (n_runs,)
        The initial state ``x_0`` of each run (the state, for a static model).
    state_paths : ndarray or None, shape (n_runs, n_agents + 1)
        States ``x_0..x_n`` for a moving state; None for a static one.
    public_beliefs : ndarray, shape (n_runs, n_agents + 1, X)
        ``pi_0..pi_n`` per run (materialized on first access from the lattice).
    wrong_cascade : ndarray of bool, shape (n_runs,)
        The run herded on an action that is not optimal in the state at the
        cascade time (see :meth:`SocialLearningModel.correct_actions`).
    """

    model: SocialLearningModel
    prior: np.ndarray
    n_agents: int
    n_runs: int
    actions: np.ndarray
    cascade_time: np.ndarray
    cascade_action: np.ndarray
    true_state: np.ndarray
    state_paths: np.ndarray | None
    engine: str
    seed: object = None
    used_observations: bool = False
    n_lattice_states: int | None = None
    _belief_table: np.ndarray | None = field(default=None, repr=False)
    _belief_index: np.ndarray | None = field(default=None, repr=False)
    _beliefs: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def public_beliefs(self) -> np.ndarray:
        if self._beliefs is not None:
            return self._beliefs
        if self._belief_table is None or self._belief_index is None:
            raise ValueError("public beliefs were not recorded (simulate(..., record_paths=False))")
        return self._belief_table[self._belief_index]

    @property
    def cascaded(self) -> np.ndarray:
        """Boolean (n_runs,): a cascade started within the horizon."""
        return self.cascade_time >= 0

    @cached_property
    def wrong_cascade(self) -> np.ndarray:
        ok = self.model.correct_actions()
        casc = self.cascaded
        if self.state_paths is None:
            x = self.true_state
        else:
            t = np.where(casc, self.cascade_time, 0)
            x = self.state_paths[np.arange(self.n_runs), t]
        a = np.where(casc, self.cascade_action, 0)
        return casc & ~ok[x, a]

    # -------------------------------------------------------------- statistics
    def herding_stats(self) -> dict:
        """Probabilities of a wrong / correct / no cascade with binomial standard errors,
        and the mean cascade time (over runs that cascaded) with its standard error."""
        n = self.n_runs
        casc = self.cascaded
        out = {}
        for name, mask in (("p_wrong_cascade", self.wrong_cascade),
                           ("p_correct_cascade", casc & ~self.wrong_cascade),
                           ("p_no_cascade", ~casc)):
            p = float(mask.mean())
            out[name] = p
            out[name.replace("p_", "se_")] = float(np.sqrt(p * (1 - p) / n))
        t = self.cascade_time[casc].astype(np.float64)
        out["mean_cascade_time"] = float(t.mean()) if t.size else float("nan")
        out["se_cascade_time"] = float(t.std(ddof=1) / np.sqrt(t.size)) if t.size > 1 else float("nan")
        out["median_cascade_time"] = float(np.median(t)) if t.size else float("nan")
        out["cascade_action_frequencies"] = (np.bincount(self.cascade_action[casc],
                                                         minlength=self.model.n_actions) / n).tolist()
        return out

    def to_dict(self, include_paths: bool = False) -> dict:
        """JSON-ready dictionary: parameters, model and statistics (paths on request)."""
        d = {"n_runs": self.n_runs, "n_agents": self.n_agents, "prior": self.prior.tolist(),
             "seed": self.seed if isinstance(self.seed, (int, type(None))) else repr(self.seed),
             "engine": self.engine, "used_observations": self.used_observations,
             "n_lattice_states": self.n_lattice_states, "model": self.model.to_dict(),
             **self.herding_stats()}
        if include_paths:
            d["actions"] = self.actions.tolist()
            d["cascade_time"] = self.cascade_time.tolist()
            d["cascade_action"] = self.cascade_action.tolist()
            d["true_state"] = self.true_state.tolist()
        return d

    def summary(self) -> str:
        """Readable summary of the herding statistics."""
        s = self.herding_stats()
        m = self.model
        lines = [
            "Social learning simulation",
            "=" * 60,
            f"model: X={m.n_states}, Y={m.n_obs}, A={m.n_actions}, tie rule {m.tie_rule!r}, "
            f"{'static' if m.is_static else 'moving'} state",
            f"prior: {np.array2string(self.prior, precision=4)}",
            f"runs: {self.n_runs}   agents per run: {self.n_agents}   engine: {self.engine}"
            + (f" ({self.n_lattice_states} lattice beliefs)" if self.n_lattice_states else ""),
            f"signals: {'resampled from user observations' if self.used_observations else 'drawn from B'}",
            "-" * 60,
            f"P(wrong cascade)   = {s['p_wrong_cascade']:.4f} +/- {s['se_wrong_cascade']:.4f}",
            f"P(correct cascade) = {s['p_correct_cascade']:.4f} +/- {s['se_correct_cascade']:.4f}",
            f"P(no cascade by agent {self.n_agents}) = {s['p_no_cascade']:.4f}",
            f"cascade time (agents before the herd): mean {s['mean_cascade_time']:.3f} "
            f"+/- {s['se_cascade_time']:.3f}, median {s['median_cascade_time']:.1f}",
            "herd action frequencies: " + ", ".join(f"a={i}: {f:.4f}" for i, f in
                                                    enumerate(s["cascade_action_frequencies"])),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"SimulationResult(n_runs={self.n_runs}, n_agents={self.n_agents}, "
                f"engine={self.engine!r}, p_cascade={self.cascaded.mean():.4f})")


# ---------------------------------------------------------------------- helpers
def _cum_table(probs: np.ndarray) -> np.ndarray:
    """Inverse-CDF thresholds for rows of ``probs`` (..., K) -> (..., K-1).

    ``k = (u >= thresholds).sum()`` draws k with the row's probabilities for
    ``u ~ U[0, 1)``; thresholds at or after a row's last positive entry are set
    above 1 so that round-off never selects a zero-probability category.
    """
    cum = np.cumsum(probs, axis=-1)
    K = probs.shape[-1]
    pos = probs > 0
    last = K - 1 - np.argmax(pos[..., ::-1], axis=-1)
    idx = np.arange(K)
    cum = np.where(idx >= last[..., None], 2.0, cum)
    return cum[..., :-1]


def _draw(u: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    if thresholds.shape[-1] == 0:
        return np.zeros(u.shape[0], dtype=np.intp)
    return (u[:, None] >= thresholds).sum(axis=1)


class _Observations:
    """Resampling of user-supplied observed labels, one array per state."""

    def __init__(self, observations, model: SocialLearningModel, needed_states: np.ndarray):
        X, Y = model.n_states, model.n_obs
        if isinstance(observations, np.ndarray) and observations.ndim == 2:
            observations = list(observations)
        if isinstance(observations, dict):
            observations = [observations.get(x, []) for x in range(X)]
        try:
            arrays = [np.asarray(o) for o in observations]
        except TypeError:
            raise ValueError("observations must be a sequence of X arrays of observed labels "
                             "(one per state) or an (X, n) array") from None
        if len(arrays) != X:
            raise ValueError(f"observations must hold one array of labels per state: expected {X}, got {len(arrays)}")
        flat = []
        for x, arr in enumerate(arrays):
            arr = arr.ravel()
            if arr.size and arr.dtype.kind not in "iu":
                if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                    arr = arr.astype(np.int64)
                else:
                    raise ValueError(f"observations[{x}] must contain integer labels, got dtype {arr.dtype}")
            if arr.size and (arr.min() < 0 or arr.max() >= Y):
                raise ValueError(f"observations[{x}] has labels outside 0..{Y - 1}")
            if arr.size == 0 and x in needed_states:
                raise ValueError(f"observations[{x}] is empty but state {x} can occur in the simulation")
            if arr.size and np.any(model.likelihood[x, arr] == 0):
                y = int(arr[model.likelihood[x, arr] == 0][0])
                raise ValueError(f"observations[{x}] contains label {y} but the model's likelihood B[{x}, {y}] = 0; "
                                 "the agents' model cannot explain it (smooth B, e.g. with estimate_likelihood)")
            flat.append(arr.astype(np.int64))
        self.sizes = np.array([a.size for a in flat], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self.labels = np.concatenate(flat) if flat else np.zeros(0, np.int64)

    def draw(self, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        size = self.sizes[x]
        return self.labels[self.offsets[x] + np.minimum((u * size).astype(np.int64), size - 1)]


class _Lattice:
    """Hash-consed table of reachable public beliefs with cached filter quantities."""

    def __init__(self, model: SocialLearningModel, max_states: int):
        self.model = model
        self.max_states = max_states
        X, Y, A = model.n_states, model.n_obs, model.n_actions
        cap = 64
        self.n = 0
        self.beliefs = np.empty((cap, X))
        self.Pa = np.empty((cap, X, A))
        self.det = np.empty((cap, Y), dtype=np.int64)
        self.Dcum = np.empty((cap, Y, max(A - 1, 0)))
        self.trans = np.empty((cap, A), dtype=np.int64)
        self.cascade = np.empty(cap, dtype=bool)
        self.herd_action = np.empty(cap, dtype=np.int64)
        self.herd_cum = np.empty((cap, max(A - 1, 0)))
        self.herd_det = np.empty(cap, dtype=bool)
        self.index: dict[bytes, int] = {}

    def _grow(self, need: int) -> None:
        cap = self.beliefs.shape[0]
        if need <= cap:
            return
        new = max(need, 2 * cap)
        for name in ("beliefs", "Pa", "det", "Dcum", "trans", "cascade", "herd_action", "herd_cum", "herd_det"):
            old = getattr(self, name)
            arr = np.empty((new,) + old.shape[1:], dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def lookup(self, beliefs: np.ndarray) -> np.ndarray:
        """State ids of ``beliefs`` (m, X), adding unseen ones."""
        keys = np.rint(beliefs * _KEY_SCALE).astype(np.int64)
        ids = np.empty(beliefs.shape[0], dtype=np.int64)
        new_rows: list[int] = []
        index = self.index
        for i, row in enumerate(keys):
            k = row.tobytes()
            j = index.get(k)
            if j is None:
                j = self.n + len(new_rows)
                index[k] = j
                new_rows.append(i)
            ids[i] = j
        if new_rows:
            self._add(beliefs[new_rows])
        return ids

    def _add(self, beliefs: np.ndarray) -> None:
        m = beliefs.shape[0]
        start, stop = self.n, self.n + m
        if stop > self.max_states:
            raise RuntimeError(f"the belief lattice exceeded max_states={self.max_states}; "
                               "use simulate(..., method='direct') or raise max_states")
        self._grow(stop)
        model = self.model
        D = model._decision_from_pred(beliefs)  # static model: prediction = belief
        possible = model._possible_obs(beliefs)
        casc = model._cascade_from_decision(D, possible)
        det = np.where(D.max(axis=2) >= 1.0 - 1e-12, np.argmax(D, axis=2), -1)
        ref = D[np.arange(m), np.argmax(possible, axis=1)]
        self.beliefs[start:stop] = beliefs
        self.Pa[start:stop] = model._action_probs_from_decision(D)
        self.det[start:stop] = det
        self.Dcum[start:stop] = _cum_table(D)
        self.trans[start:stop] = -1
        self.cascade[start:stop] = casc
        self.herd_action[start:stop] = np.argmax(ref, axis=1)
        self.herd_det[start:stop] = ref.max(axis=1) >= 1.0 - 1e-12
        self.herd_cum[start:stop] = _cum_table(ref)
        self.n = stop

    def successors(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        nxt = self.trans[s, a]
        miss = nxt < 0
        if miss.any():
            A = self.model.n_actions
            pairs = np.unique(s[miss] * A + a[miss])
            ps, pa = pairs // A, pairs % A
            num = self.Pa[ps, :, pa] * self.beliefs[ps]
            sigma = num.sum(axis=1, keepdims=True)
            ids = self.lookup(num / sigma)
            self.trans[ps, pa] = ids
            nxt = self.trans[s, a]
        return nxt


def _prepare(model, prior, n_agents, n_runs, true_state, rng):
    if not isinstance(model, SocialLearningModel):
        raise ValueError(f"model must be a SocialLearningModel, got {type(model).__name__}")
    pi0, single = simplex_points(prior, "prior", model.n_states)
    if not single:
        raise ValueError(f"prior must be one belief of shape ({model.n_states},), got {np.shape(prior)}")
    pi0 = pi0[0]
    n_agents = positive_int(n_agents, "n_agents", minimum=0)
    n_runs = positive_int(n_runs, "n_runs")
    X = model.n_states
    if true_state is None:
        x0 = _draw(rng.random(n_runs), np.broadcast_to(_cum_table(pi0), (n_runs, X - 1)))
    else:
        ts = np.asarray(true_state)
        if ts.dtype.kind not in "iu" or ts.ndim > 1:
            raise ValueError(
                f"true_state must be an integer or an integer array of shape (n_runs,), got {true_state!r}"
            )
        if ts.ndim == 1 and ts.shape[0] != n_runs:
            raise ValueError(f"true_state has {ts.shape[0]} entries but n_runs = {n_runs}")
        if np.any((ts < 0) | (ts >= X)):
            raise ValueError(f"true_state must lie in 0..{X - 1}")
        x0 = np.broadcast_to(ts, (n_runs,)).astype(np.int64)
        if np.any(pi0[x0] <= 0):
            raise ValueError("true_state has prior probability zero; the public could never learn it")
    return pi0, n_agents, n_runs, x0.astype(np.int64)


def _action_dtype(A: int):
    return np.int8 if A <= 127 else (np.int16 if A <= 32767 else np.int32)


def simulate(model: SocialLearningModel, prior, n_agents: int, n_runs: int, true_state=None,
             seed=None, observations=None, *, method: str = "auto", record_paths: bool = True,
             max_states: int = 2_000_000) -> SimulationResult:
    r"""Monte Carlo of ``n_runs`` independent chains of ``n_agents`` social learners.

    Each run draws ``x_0 ~ prior`` (unless ``true_state`` is given), then for
    k = 1..n_agents: ``x_k ~ P[x_{k-1}]``, ``y_k ~ B[x_k]``, agent k takes
    ``a_k = argmin_a c_a' eta_k`` with ``eta_k = B_{y_k} P' pi_{k-1} / 1' B_{y_k} P' pi_{k-1}``
    (tie rule of the model) and the public belief moves by the social learning
    filter ``pi_k = R^pi_{a_k} P' pi_{k-1} / sigma(pi_{k-1}, a_k)``.

    Parameters
    ----------
    model : SocialLearningModel
    prior : array_like, shape (X,)
        Initial public belief ``pi_0`` (also the distribution of ``x_0``).
    n_agents, n_runs : int
    true_state : int or array_like of int (n_runs,), optional
        Fix ``x_0`` instead of drawing it from the prior.
    seed : None, int or numpy.random.Generator
    observations : sequence of X 1-D integer arrays, or (X, n) array, or dict, optional
        Real sensor output: ``observations[x]`` holds the labels (in 0..Y-1)
        observed for items whose true state is ``x``, for example an LLM's labels
        of real texts of class ``x``. Each agent's ``y_k`` is drawn uniformly with
        replacement from ``observations[x_k]`` instead of from ``B[x_k]``. The
        agents still reason with ``model.likelihood``, so every observed label
        must have ``B[x, y] > 0``.
    method : {"auto", "lattice", "direct"}
        Engine (see the module docstring); "auto" picks "lattice" for a static
        state and "direct" otherwise. "lattice" requires a static state.
    record_paths : bool
        When False the (n_runs, n_agents) action and belief paths are not
        stored (``actions`` is then an empty (n_runs, 0) array); cascade times
        and actions are still exact. Saves memory for long horizons.
    max_states : int
        Limit on distinct lattice beliefs (guards against misuse).

    Returns
    -------
    SimulationResult
        ``actions`` (n_runs, n_agents), ``public_beliefs`` (n_runs, n_agents+1, X),
        ``cascade_time`` and ``cascade_action`` per run (``-1``: no cascade within
        the horizon), and :meth:`SimulationResult.summary`.

    Examples
    --------
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> res = simulate(m, [0.5, 0.5], n_agents=50, n_runs=1000, true_state=0, seed=1)
    >>> res.actions.shape, res.public_beliefs.shape
    ((1000, 50), (1000, 51, 2))
    >>> bool((res.cascade_time >= 0).all())
    True
    """
    rng = check_random_state(seed)
    pi0, n_agents, n_runs, x0 = _prepare(model, prior, n_agents, n_runs, true_state, rng)
    if method == "auto":
        method = "lattice" if model.is_static else "direct"
    if method not in ("lattice", "direct"):
        raise ValueError(f"method must be 'auto', 'lattice' or 'direct', got {method!r}")
    if method == "lattice" and not model.is_static:
        raise ValueError("method='lattice' needs a static state (identity transition); use method='direct'")
    obs = None
    if observations is not None:
        needed = np.unique(x0) if model.is_static else np.arange(model.n_states)
        obs = _Observations(observations, model, needed)
    if method == "lattice":
        res = _simulate_lattice(model, pi0, n_agents, n_runs, x0, rng, obs, record_paths, max_states)
    else:
        res = _simulate_direct(model, pi0, n_agents, n_runs, x0, rng, obs, record_paths)
    res.seed = seed if isinstance(seed, (int, np.integer, type(None))) else repr(seed)
    res.used_observations = obs is not None
    return res


def _fill_frozen(actions, frozen_runs, start, herd_action, herd_det, herd_cum, rng):
    """Fill actions[r, start[r]:] with the herd's action for frozen runs."""
    n_agents = actions.shape[1]
    if frozen_runs.size == 0 or n_agents == 0:
        return
    cols = np.arange(n_agents)
    det = herd_det
    if det.all():
        block = actions[frozen_runs]
        np.copyto(block, herd_action[:, None].astype(actions.dtype), where=cols[None, :] >= start[:, None])
        actions[frozen_runs] = block
    else:
        for sel in (det, ~det):
            if not sel.any():
                continue
            runs, st = frozen_runs[sel], start[sel]
            block = actions[runs]
            if sel is det:
                vals = np.broadcast_to(herd_action[sel][:, None], block.shape)
            else:
                # a degenerate cascade whose agents randomize identically whatever they observe
                u = rng.random(block.shape)
                vals = (u[..., None] >= herd_cum[sel][:, None, :]).sum(axis=2)
            np.copyto(block, vals.astype(actions.dtype), where=cols[None, :] >= st[:, None])
            actions[runs] = block


def _simulate_lattice(model, pi0, n_agents, n_runs, x0, rng, obs, record_paths, max_states):
    lat = _Lattice(model, max_states)
    s0 = int(lat.lookup(pi0[None, :])[0])
    Bcum = _cum_table(model.likelihood)
    adt = _action_dtype(model.n_actions)
    actions = np.zeros((n_runs, n_agents if record_paths else 0), dtype=adt)
    bidx = np.full((n_runs, n_agents + 1 if record_paths else 0), s0, dtype=np.int32)
    cascade_time = np.full(n_runs, -1, dtype=np.int64)
    cascade_state = np.full(n_runs, -1, dtype=np.int64)
    state = np.full(n_runs, s0, dtype=np.int64)
    if lat.cascade[s0]:
        active = np.zeros(0, dtype=np.int64)
        cascade_time[:] = 0
        cascade_state[:] = s0
    else:
        active = np.arange(n_runs)
    s = state[active]
    x = x0[active]
    for t in range(n_agents):
        if active.size == 0:
            break
        u = rng.random((2, active.size))
        y = obs.draw(u[0], x) if obs is not None else _draw(u[0], Bcum[x])
        a = lat.det[s, y]
        rnd = a < 0
        if rnd.any():
            a[rnd] = _draw(u[1][rnd], lat.Dcum[s[rnd], y[rnd]])
        s = lat.successors(s, a)
        if record_paths:
            actions[active, t] = a
            bidx[active, t + 1] = s
        stop = lat.cascade[s]
        if stop.any():
            done = active[stop]
            cascade_time[done] = t + 1
            cascade_state[done] = s[stop]
            keep = ~stop
            active, s, x = active[keep], s[keep], x[keep]
    state[active] = s
    casc = cascade_time >= 0
    if record_paths:
        runs = np.flatnonzero(casc)
        st = cascade_state[runs]
        _fill_frozen(actions, runs, cascade_time[runs], lat.herd_action[st], lat.herd_det[st],
                     lat.herd_cum[st], rng)
        cols = np.arange(n_agents + 1)
        block = bidx[runs]
        np.copyto(block, st[:, None].astype(np.int32), where=cols[None, :] >= cascade_time[runs][:, None])
        bidx[runs] = block
    herd = np.where(casc, lat.herd_action[np.maximum(cascade_state, 0)], -1)
    return SimulationResult(model=model, prior=pi0, n_agents=n_agents, n_runs=n_runs, actions=actions,
                            cascade_time=cascade_time, cascade_action=herd, true_state=x0, state_paths=None,
                            engine="lattice", n_lattice_states=lat.n,
                            _belief_table=lat.beliefs[:lat.n].copy() if record_paths else None,
                            _belief_index=bidx if record_paths else None)


def _simulate_direct(model, pi0, n_agents, n_runs, x0, rng, obs, record_paths):
    X = model.n_states
    static = model.is_static
    Bcum = _cum_table(model.likelihood)
    Pcum = _cum_table(model.transition)
    adt = _action_dtype(model.n_actions)
    actions = np.zeros((n_runs, n_agents if record_paths else 0), dtype=adt)
    beliefs = np.zeros((n_runs, n_agents + 1 if record_paths else 0, X))
    paths = None if static else np.zeros((n_runs, n_agents + 1), dtype=np.int64)
    cascade_time = np.full(n_runs, -1, dtype=np.int64)
    herd = np.full(n_runs, -1, dtype=np.int64)
    herd_det = np.ones(n_runs, dtype=bool)
    herd_cum = np.zeros((n_runs, max(model.n_actions - 1, 0)))
    pi = np.broadcast_to(pi0, (n_runs, X)).copy()
    if record_paths:
        beliefs[:, 0] = pi0
    if paths is not None:
        paths[:, 0] = x0

    def herd_info(pred):
        D = model._decision_from_pred(pred)
        possible = model._possible_obs(pred)
        casc = model._cascade_from_decision(D, possible)
        ref = D[np.arange(D.shape[0]), np.argmax(possible, axis=1)]
        return D, casc, ref

    D, casc0, ref0 = herd_info(model._predict(pi0[None, :]))
    active = np.arange(n_runs)
    frozen_at = np.full(n_runs, -1, dtype=np.int64)
    if casc0[0]:
        cascade_time[:] = 0
        herd[:] = np.argmax(ref0[0])
        herd_det[:] = ref0[0].max() >= 1 - 1e-12
        herd_cum[:] = _cum_table(ref0[0])
        if static:
            active = active[:0]
            frozen_at[:] = 0
    x = x0.copy()
    for t in range(n_agents):
        if active.size == 0:
            break
        u = rng.random((2, active.size)) if static else rng.random((3, active.size))
        xa = x[active]
        if not static:
            xa = _draw(u[2], Pcum[xa])
            x[active] = xa
        pred = model._predict(pi[active])
        D = model._decision_from_pred(pred)
        y = obs.draw(u[0], xa) if obs is not None else _draw(u[0], Bcum[xa])
        a = _draw(u[1], _cum_table(D[np.arange(active.size), y]))
        Pa = model._action_probs_from_decision(D)
        num, sigma = model._update_from(pred, Pa, a)
        new = num / sigma[:, None]
        pi[active] = new
        if record_paths:
            actions[active, t] = a
            beliefs[active, t + 1] = new
        if paths is not None:
            paths[active, t + 1] = xa
        _, casc, ref = herd_info(model._predict(new))
        first = casc & (cascade_time[active] < 0)
        if first.any():
            runs = active[first]
            cascade_time[runs] = t + 1
            herd[runs] = np.argmax(ref[first], axis=1)
            herd_det[runs] = ref[first].max(axis=1) >= 1 - 1e-12
            herd_cum[runs] = _cum_table(ref[first])
        if static and casc.any():
            frozen_at[active[casc]] = t + 1
            active = active[~casc]
    if record_paths and static:
        runs = np.flatnonzero(frozen_at >= 0)
        _fill_frozen(actions, runs, frozen_at[runs], herd[runs], herd_det[runs], herd_cum[runs], rng)
        cols = np.arange(n_agents + 1)
        for r_chunk in np.array_split(runs, max(1, runs.size // 4096)):
            if r_chunk.size == 0:
                continue
            block = beliefs[r_chunk]
            np.copyto(block, pi[r_chunk][:, None, :], where=(cols[None, :] >= frozen_at[r_chunk][:, None])[..., None])
            beliefs[r_chunk] = block
    return SimulationResult(model=model, prior=pi0, n_agents=n_agents, n_runs=n_runs, actions=actions,
                            cascade_time=cascade_time, cascade_action=herd, true_state=x0.copy() if paths is None
                            else paths[:, 0].copy(), state_paths=paths, engine="direct",
                            _beliefs=beliefs if record_paths else None)
