r"""Scripted agents whose behaviour is known, for checking the chain analysis.

:func:`scripted_chains` generates R chains of N agents on a static state. Each
chain draws ``x_r ~ prior`` (or takes ``true_state``); agent k draws its signal
``y_{r,k} ~ B[x_r, .]`` and acts by one of the decision rules of
:mod:`sociallearn.social_models` (the very rules the fit uses, so a script and
its model agree exactly):

* ``"bayes"``: the myopic Bayesian agent of SPEC section 2 at the public belief
  of the Bayesian filter along the realized history;
* ``"sensor"``: ignores the history (the Bayesian decision on its signal alone at the prior);
* ``"copy_last"``: copies the previous action (the first agent acts on its signal);
* ``"majority"``: follows the majority of the history (ties: own signal);
* ``"logit"``: ``P(a = 1) = sigma(beta (l_y + w lambda - tau))`` (binary models).

With ``epsilon > 0`` every agent trembles: it takes a uniformly random action
with probability ``epsilon``. Pure numpy; randomness only through ``seed``.
"""
from __future__ import annotations

import numpy as np

from llmsl_core import check_random_state

from ._validation import positive_int, simplex_points
from .chains import ChainData, _filter_step
from .model import SocialLearningModel
from .simulation import _cum_table, _draw

__all__ = ["scripted_chains", "SCRIPTS"]

SCRIPTS = ("bayes", "sensor", "copy_last", "majority", "logit")


def scripted_chains(kind: str, model: SocialLearningModel, prior, n_chains: int, n_agents: int, *,
                    true_state=None, epsilon: float = 0.0, beta: float | None = None, weight: float = 1.0,
                    seed=None, reveal_signals: bool = True, record_probs: bool = False) -> ChainData:
    r"""Chains of scripted agents with a known decision rule.

    For k = 1..N: ``y_{r,k} ~ B[x_r, .]``, ``a_{r,k} ~ (1 - epsilon) D_{r,k}(. | y_{r,k}) + epsilon / A``
    with ``D`` the script's rule (:func:`sociallearn.social_models.decision_table`),
    then ``pi_{r,k}`` by the Bayesian filter (off-path actions uninformative).

    Parameters
    ----------
    kind : one of :data:`SCRIPTS`
    model : SocialLearningModel
        Static model: ``B``, cost and tie rule of the agents.
    prior : array_like, shape (X,) or (R, X)
        ``pi_0`` of each chain (also the law of ``x_r`` when ``true_state`` is None).
    n_chains, n_agents : int
    true_state : int or array_like (R,), optional
    epsilon : float
        Tremble probability.
    beta, weight : float
        Logit precision and weight on the public log-likelihood ratio (``kind="logit"``).
    seed : int, Generator or None
    reveal_signals : bool
        Store the signals in the data (otherwise likelihoods mix over ``B``).
    record_probs : bool
        Store each agent's exact action distribution as ``action_probs``.

    Returns
    -------
    ChainData

    Examples
    --------
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> d = scripted_chains("copy_last", m, [0.5, 0.5], 4, 5, seed=0)
    >>> bool((d.actions == d.actions[:, :1]).all())
    True
    """
    from .social_models import decision_table

    if kind not in SCRIPTS:
        raise ValueError(f"kind must be one of {SCRIPTS}, got {kind!r}")
    if not isinstance(model, SocialLearningModel):
        raise ValueError(f"model must be a SocialLearningModel, got {type(model).__name__}")
    if not model.is_static:
        raise ValueError("scripted_chains needs a static state (identity transition)")
    R = positive_int(n_chains, "n_chains")
    N = positive_int(n_agents, "n_agents")
    X, A = model.n_states, model.n_actions
    pri, single = simplex_points(prior, "prior", X)
    priors = np.broadcast_to(pri, (R, X)).copy() if single else pri
    if priors.shape[0] != R:
        raise ValueError(f"prior must have shape ({X},) or ({R}, {X}), got {np.shape(prior)}")
    rng = check_random_state(seed)
    if true_state is None:
        x = _draw(rng.random(R), _cum_table(priors))
    else:
        ts = np.asarray(true_state)
        if ts.dtype.kind not in "iu" or ts.ndim > 1 or (ts.ndim == 1 and ts.shape[0] != R):
            raise ValueError(f"true_state must be an integer or an integer array of shape ({R},)")
        if np.any((ts < 0) | (ts >= X)):
            raise ValueError(f"true_state must lie in 0..{X - 1}")
        x = np.broadcast_to(ts, (R,)).astype(np.int64)
    kw = {"epsilon": epsilon}
    if kind == "logit":
        if beta is None:
            raise ValueError("kind='logit' needs beta=")
        kw.update(beta=beta, weight=weight)
    own = model.decision_probs(priors)
    Bcum = _cum_table(model.likelihood)
    actions = np.zeros((R, N), dtype=np.int64)
    signals = np.zeros((R, N), dtype=np.int64)
    probs = np.zeros((R, N, A)) if record_probs else None
    pi = priors.copy()
    rows = np.arange(R)
    for k in range(N):
        D = decision_table(kind, model, k, actions, pi, own, **kw)
        y = _draw(rng.random(R), Bcum[x])
        p = D[rows, y]
        a = _draw(rng.random(R), _cum_table(p))
        actions[:, k], signals[:, k] = a, y
        if probs is not None:
            probs[:, k] = p
        pi = _filter_step(model, pi, a)
    return ChainData(x, actions, priors, signals=signals if reveal_signals else None, action_probs=probs,
                     n_states=X, n_actions=A, n_obs=model.n_obs if reveal_signals else None)
