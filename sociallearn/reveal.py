r"""Chains of agents under a *reveal* policy: the public belief decides who shares its observation.

The paper's threshold control of herding (Jain & Krishnamurthy, section on
controlling herding): while the public belief satisfies the policy (for
example ``pi(0) < gamma``), agent ``k`` reveals its private observation --- its
label is its own observation ``a_k = y_k`` and the public updates by Bayes' rule

.. math:: \pi_k = B_{y_k} \pi_{k-1} / \mathbf 1' B_{y_k} \pi_{k-1};

otherwise it acts myopically, ``a_k = argmin_a c_a' \eta_k`` (tie rule of the
model), and the public sees only the action, through the social learning filter
``pi_k = R^\pi_{a_k} \pi_{k-1} / \sigma`` (:meth:`sociallearn.SocialLearningModel.public_update`).

Unlike the reference code, the filter starts ``R`` from zeros (not the
identity), a revealing agent's update is the exact Bayes update on ``y`` (not
the herding filter applied to an action the public knows to be ``y``), and
ties are never counted twice.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from llmsl_core import check_random_state

__all__ = ["RevealResult", "simulate_reveal_policy"]


@dataclass
class RevealResult:
    """Output of :func:`simulate_reveal_policy`.

    Attributes
    ----------
    actions : ndarray (n_runs, n_agents)
        Labels ``a_k`` (the observation when revealing).
    revealed : ndarray of bool (n_runs, n_agents)
        Whether agent ``k`` revealed its observation.
    true_state : ndarray (n_runs,)
    final_belief : ndarray (n_runs, X)
    correct : ndarray of bool (n_runs, n_agents)
        ``a_k`` is a full-information optimal action of the true state.
    beliefs : ndarray (n_runs, n_agents + 1, X) or None
        Public beliefs ``pi_0..pi_n`` (with ``record_beliefs=True``).
    """

    actions: np.ndarray
    revealed: np.ndarray
    true_state: np.ndarray
    final_belief: np.ndarray
    correct: np.ndarray
    beliefs: np.ndarray | None = None

    def accuracy(self, last: int | None = None) -> np.ndarray:
        """Per run: share of correct labels (over the last ``last`` agents, or all)."""
        c = self.correct if last is None else self.correct[:, -int(last):]
        return c.mean(axis=1)


def simulate_reveal_policy(model, prior, reveal: Callable[..., np.ndarray], n_agents: int,
                           n_runs: int | None = None, *, true_state=None, observations: Sequence | None = None,
                           seed=None, record_beliefs: bool = False) -> RevealResult:
    r"""Simulate many chains under a reveal policy, vectorized over runs.

    Parameters
    ----------
    model : sociallearn.SocialLearningModel
        Static state; ``Y == A`` (a revealing agent's label is its observation).
    prior : array (X,) or (n_runs, X)
        Initial public belief, one for all runs or one per run (so a whole grid
        of priors runs as one batch).
    reveal : callable
        ``reveal(beliefs (n, X)) -> bool (n,)``; may also take a second argument,
        the run indices, so the policy can differ across runs (a grid of thresholds).
    n_agents : int
    n_runs : int, optional
        Needed when ``prior`` is a single belief.
    true_state : int or array (n_runs,), optional
        Fixed state per run; drawn from the prior otherwise.
    observations : sequence of X integer arrays, optional
        Real labels per state to resample (as in ``sociallearn.simulate``);
        ``y ~ B[x]`` otherwise.
    seed : int or Generator
    record_beliefs : bool
        Keep the public-belief paths.

    Returns
    -------
    RevealResult

    Examples
    --------
    >>> from sociallearn import SocialLearningModel
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> r = simulate_reveal_policy(m, [0.5, 0.5], lambda pi: np.ones(len(pi), bool), 50, 200, true_state=0, seed=0)
    >>> bool(r.revealed.all()), bool(abs(r.correct.mean() - 0.7) < 0.05)
    (True, True)
    """
    if not model.is_static:
        raise ValueError("simulate_reveal_policy needs a static state (identity transition)")
    X, Y, A = model.n_states, model.n_obs, model.n_actions
    if Y != A:
        raise ValueError(f"a revealing agent's label is its observation: need Y == A, got Y={Y}, A={A}")
    rng = check_random_state(seed)
    pri = np.asarray(prior, dtype=float)
    if pri.ndim == 1:
        if n_runs is None:
            raise ValueError("n_runs is required when prior is a single belief")
        pri = np.broadcast_to(pri, (int(n_runs), X))
    n = int(pri.shape[0])
    if pri.shape != (n, X) or np.any(pri < 0) or np.any(np.abs(pri.sum(axis=1) - 1) > 1e-9):
        raise ValueError(f"prior must be a belief of length {X} or an (n_runs, {X}) array of beliefs")
    if int(n_agents) != n_agents or n_agents < 1:
        raise ValueError(f"n_agents must be a positive integer, got {n_agents}")
    if true_state is None:
        cum = np.cumsum(pri, axis=1)
        x = np.minimum((rng.random(n)[:, None] >= cum).sum(axis=1), X - 1)
    else:
        x = np.broadcast_to(np.asarray(true_state, dtype=np.int64), (n,)).copy()
        if np.any((x < 0) | (x >= X)):
            raise ValueError(f"true_state must lie in 0..{X - 1}")
    if observations is not None:
        pools = [np.asarray(o, dtype=np.int64).ravel() for o in observations]
        if len(pools) != X:
            raise ValueError(f"observations must hold one array of labels per state ({X})")
        for s in np.unique(x):
            if pools[s].size == 0:
                raise ValueError(f"no observed labels for state {s} to resample")
        sizes = np.array([p.size for p in pools])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        flat = np.concatenate(pools)
    try:
        import inspect
        two_args = len(inspect.signature(reveal).parameters) >= 2
    except (TypeError, ValueError):
        two_args = False
    B = model.likelihood
    cumB = np.cumsum(B, axis=1)
    ok = model.correct_actions()
    pi = pri.copy()
    runs = np.arange(n)
    actions = np.empty((n, int(n_agents)), dtype=np.int64)
    revealed = np.empty((n, int(n_agents)), dtype=bool)
    paths = np.empty((n, int(n_agents) + 1, X)) if record_beliefs else None
    if paths is not None:
        paths[:, 0] = pi
    for k in range(int(n_agents)):
        u = rng.random(n)
        if observations is not None:
            y = flat[offsets[x] + np.minimum((u * sizes[x]).astype(np.int64), sizes[x] - 1)]
        else:
            y = np.minimum((u[:, None] >= cumB[x]).sum(axis=1), Y - 1)
        rv = np.asarray(reveal(pi, runs) if two_args else reveal(pi), dtype=bool).reshape(n)
        a = y.copy()
        herd = ~rv
        if herd.any():
            idx = np.flatnonzero(herd)
            D = model.decision_probs(pi[idx])  # (m, Y, A)
            probs = D[np.arange(idx.size), y[idx]]
            cum = np.cumsum(probs, axis=1)
            v = rng.random(idx.size)[:, None] * cum[:, -1:]
            a[idx] = np.minimum((v >= cum).sum(axis=1), A - 1)
            pi[idx] = model.public_update(pi[idx], a[idx])
        if rv.any():
            idx = np.flatnonzero(rv)
            num = pi[idx] * B[:, y[idx]].T
            pi[idx] = num / num.sum(axis=1, keepdims=True)
        actions[:, k] = a
        revealed[:, k] = rv
        if paths is not None:
            paths[:, k + 1] = pi
    return RevealResult(actions, revealed, x, pi, ok[x[:, None], actions], paths)
