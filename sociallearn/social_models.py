r"""Which model of social learning explains the observed actions? Maximum likelihood on chains.

Every candidate gives, for agent k of chain r with private signal ``y`` and
public history ``h = a_{r,1..k-1}``, a decision rule ``D_{r,k}(a | y)``. The
probability of the observed action is

``q_{r,k}(a) = D_{r,k}(a | y_{r,k})`` when the signal is known, and
``q_{r,k}(a) = sum_y B[x_r, y] D_{r,k}(a | y)`` when only the state of the
agent's text is known.

Log-likelihood. With observed actions, ``l = sum_{r,k} log q_{r,k}(a_{r,k})``
(the exact likelihood of the chains given the histories, which are the
observed actions themselves). With exact action probabilities ``p_{r,k}(a)``
from the backend, the soft-count (expected) log-likelihood
``l = sum_{r,k} sum_a p_{r,k}(a) log q_{r,k}(a)`` is used: the log-likelihood
the model would get, on average, if each agent's action were drawn from its own
distribution. Maximizing it minimizes the cross-entropy from ``p`` to ``q``;
AIC and the likelihood-ratio tests are then computed as if the soft counts were
counts (a quasi-likelihood: with one action per agent the tests are exact
asymptotically; with soft counts they are a guide).

Candidates (``own`` denotes the rule ``D^0(a | y)`` of a myopic Bayesian acting
on its signal alone at the chain's prior ``pi_0``; ``U`` is uniform over the A
actions; ``epsilon`` is a tremble: ``D_eps = (1 - epsilon) D + epsilon U``,
fitted so that the likelihood stays finite when an agent deviates):

* ``"bayes"`` (1 parameter, epsilon): the Bayesian social-learning filter with
  likelihood ``B``, ``D(a | y) = 1{a = argmin_a c_a' B_y P' pi_{k-1}}`` (the
  model's tie rule), ``pi_{k-1}`` from :func:`~sociallearn.chains.public_beliefs`.
* ``"sensor"``: the history is ignored. ``sensor="data"`` (default): a free
  table ``P(a | y)`` (``P(a | x)`` without signals) estimated from the data,
  ``(#rows observed) (A - 1)`` parameters. ``sensor="bayes"``: ``D^0`` with a
  tremble (1 parameter).
* ``"copy_last"`` (1 parameter): ``D(a | y) = 1{a = a_{k-1}}``; the first
  agent follows ``D^0``.
* ``"majority"`` (1 parameter): the most frequent action in the history; among
  tied actions the own-signal action when it is one of them, otherwise uniform
  over the tied ones (the first agent, with an empty history, follows ``D^0``).
* ``"logit"`` (2 parameters, binary state and actions): with the private
  log-likelihood ratio ``l_y = log B[1, y] / B[0, y]``, the public one
  ``lambda_{k-1} = log (P' pi_{k-1})(1) / (P' pi_{k-1})(0)`` and the Bayesian
  decision threshold ``tau = log((c[0,1] - c[0,0]) / (c[1,0] - c[1,1]))``,

  ``P(a = 1 | y, h) = sigma(beta (l_y + w lambda_{k-1} - tau))``,

  i.e. ``P(a) ∝ exp(beta_priv l + beta_pub lambda)`` with ``w = beta_pub / beta_priv``
  (a logistic regression on the two log-likelihood ratios computed from ``B``).
  A Bayesian takes ``a = 1`` iff ``l_y + lambda_{k-1} > tau``: the limit
  ``beta -> inf`` with ``w = 1`` (ties get 1/2, the coin-flip tie rule). For
  ``X > 2`` or ``A > 2`` there is no single log-likelihood ratio and the logit
  model is not fitted (a note says so; the herding strength is then None).

Herding strength. ``w`` is the weight on others: 0 ignores them, 1 weighs
them as a Bayesian, ``w > 1`` over-herds. By default (``herding_lapse=True``)
it is estimated in the logit model with a lapse rate,

``P(a = 1 | y, h) = (1 - eps) sigma(beta (l_y + w lambda_{k-1} - tau)) + eps / 2``,

which contains the trembling Bayesian agent (``beta -> inf``, ``w = 1``,
``eps = epsilon``). Without the lapse, the only way a logit can fit agents
that herd firmly but err at a constant rate is a steeper weight on the public
evidence: on trembling BHW agents (precision 0.7, ``epsilon = 0.1``) the plain
logit gives ``w`` about 2 to 3, the lapse logit 1. The lapse logit is not a
candidate in the AIC ranking: it nests the Bayesian, the sensor (``w = 0``)
and the plain logit, so AIC would pick it over a correct, smaller model about
one time in seven by chance; the ranking keeps the five candidates above.

``w`` is estimated by profile likelihood,
``l_p(w) = max_{0 <= beta <= beta_max, 0 <= eps <= 1} l(beta, eps, w)``, over
``w_bounds``; its interval is ``{w : 2 (l_p(w_hat) - l_p(w)) <= chi2_1(level)}``
(an end is None when the profile stays above the cut-off up to the bound of
the search range; ``w`` is None when the profile is flat, e.g. for an
uninformative sensor). The precision is searched on a log grid (refined
six times) and the lapse exactly (the likelihood is concave in it).
Log-likelihood ratios are clipped to +-30 so that a likelihood with zeros stays
finite.

Likelihood-ratio tests are reported for the nested pairs: the herding-strength
logit with ``w = 0`` (others ignored) and with ``w = 1`` (Bayesian weight) against ``w`` free,
each ``2 (l_1 - l_0) ~ chi2_1``; when ``sensor="data"`` also the tremble
sensor ``D^0_eps`` (1 parameter) against the free table. The other candidates
are not nested; they are compared by AIC ``= 2 k - 2 l`` (BIC ``= k log n - 2 l``
is reported beside it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from llmsl_core import to_jsonable

from ._validation import positive_int
from .chains import ChainData, _check_data_model, _check_level, public_beliefs
from .model import SocialLearningModel

__all__ = [
    "CANDIDATE_MODELS",
    "decision_table",
    "predicted_action_probs",
    "chain_log_likelihood",
    "fit_social_models",
    "ModelFit",
    "SocialModelComparison",
]

CANDIDATE_MODELS = ("bayes", "sensor", "copy_last", "majority", "logit")
_TREMBLE_MODELS = ("bayes", "sensor", "copy_last", "majority")
_LLR_CLIP = 30.0


# ---------------------------------------------------------------------- decision rules (shared with the scripts)
def _binary_llr(model: SocialLearningModel) -> tuple[np.ndarray, float]:
    """Private log-likelihood ratios ``l_y`` (Y,) and the threshold ``tau`` of a binary model."""
    if model.n_states != 2 or model.n_actions != 2:
        raise ValueError(f"the logit model needs X = A = 2, got X = {model.n_states}, A = {model.n_actions}")
    B, c = model.likelihood, model.cost
    with np.errstate(divide="ignore"):
        ell = np.log(B[1]) - np.log(B[0])
    ell = np.clip(np.nan_to_num(ell, nan=0.0), -_LLR_CLIP, _LLR_CLIP)
    g0, g1 = c[0, 1] - c[0, 0], c[1, 0] - c[1, 1]
    if not (g0 > 0 and g1 > 0):
        raise ValueError("the logit model needs action 0 to be strictly better in state 0 and action 1 in state 1 "
                         f"(c[0,1] > c[0,0] and c[1,0] > c[1,1]); cost is {c.tolist()}")
    return ell, float(np.log(g0 / g1))


def _public_llr(model: SocialLearningModel, pi: np.ndarray) -> np.ndarray:
    pred = model._predict(pi)
    with np.errstate(divide="ignore"):
        lam = np.log(pred[..., 1]) - np.log(pred[..., 0])
    return np.clip(lam, -_LLR_CLIP, _LLR_CLIP)


def _check_params(kind: str, epsilon, beta, weight):
    if kind not in CANDIDATE_MODELS:
        raise ValueError(f"kind must be one of {CANDIDATE_MODELS}, got {kind!r}")
    eps = float(epsilon)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
    if kind == "logit":
        if beta is None or weight is None:
            raise ValueError("the logit model needs beta= and weight=")
        beta, weight = float(beta), float(weight)
        if not (math.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {beta}")
        if not math.isfinite(weight):
            raise ValueError(f"weight must be finite, got {weight}")
    return eps, beta, weight


def decision_table(kind: str, model: SocialLearningModel, k: int, history, pi_prev, own, *, epsilon: float = 0.0,
                   beta=None, weight=None) -> np.ndarray:
    r"""Decision rule ``D(a | y)`` of agent ``k + 1`` (0-based ``k``) of R chains under a candidate model.

    Parameters
    ----------
    kind : one of :data:`CANDIDATE_MODELS` (``"sensor"`` is the rule ``D^0``)
    model : SocialLearningModel
    k : int
        Number of earlier agents.
    history : array_like of int, shape (R, >= k)
        Actions; only the first ``k`` columns are read.
    pi_prev : array_like, shape (R, X)
        Public belief ``pi_k`` after the history (Bayesian filter).
    own : ndarray, shape (R, Y, A)
        ``D^0``: the decision on the signal alone at the prior.
    epsilon : float
        Tremble; the result is ``(1 - epsilon) D + epsilon / A``.
    beta, weight : float
        Logit parameters.

    Returns
    -------
    ndarray, shape (R, Y, A), rows summing to one.

    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> own = m.decision_probs([[0.5, 0.5]])
    >>> decision_table("majority", m, 3, [[1, 0, 0]], [[0.5, 0.5]], own)[0].tolist()
    [[1.0, 0.0], [1.0, 0.0]]
    """
    eps, beta, weight = _check_params(kind, epsilon, beta, weight)
    hist = np.asarray(history, dtype=np.int64)
    pi = np.asarray(pi_prev, dtype=np.float64)
    R, Y, A = own.shape
    if kind == "bayes":
        D = model._decision_from_pred(model._predict(pi))
    elif kind == "logit":
        D = _logit_table(model, pi, beta, weight)
    elif kind == "sensor" or k == 0:
        D = own
    elif kind == "copy_last":
        D = np.zeros((R, Y, A))
        D[np.arange(R), :, hist[:, k - 1]] = 1.0
    else:  # majority
        counts = np.zeros((R, A))
        np.add.at(counts, (np.repeat(np.arange(R), k), hist[:, :k].ravel()), 1.0)
        D = _majority(own, counts)
    return (1.0 - eps) * D + eps / A if eps > 0 else D


def _majority(own: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Majority rule with ties to the own-signal action: own (R, Y, A), counts (R, A)."""
    tied = (counts >= counts.max(axis=-1, keepdims=True)).astype(np.float64)  # (R, A)
    kept = own * tied[:, None, :]
    rest = (own * (1.0 - tied[:, None, :])).sum(axis=-1, keepdims=True)
    return kept + rest * (tied / tied.sum(axis=-1, keepdims=True))[:, None, :]


def _logit_table(model: SocialLearningModel, pi: np.ndarray, beta: float, weight: float) -> np.ndarray:
    from scipy.special import expit

    ell, tau = _binary_llr(model)
    z = ell[None, :] + weight * _public_llr(model, pi)[:, None] - tau  # (R, Y)
    return np.stack([expit(-beta * z), expit(beta * z)], axis=-1)


# ---------------------------------------------------------------------- likelihood of observed chains
@dataclass
class _Prepared:
    T: np.ndarray  # (R, N, A) soft targets
    W: np.ndarray  # (R, N, Y) mixing weights over the signal
    pis: np.ndarray  # (R, N, X) public belief before each agent
    own: np.ndarray  # (R, Y, A)
    n_obs_total: int


def _prepare(data: ChainData, model: SocialLearningModel) -> _Prepared:
    _check_data_model(data, model)
    R, N = data.actions.shape
    Y = model.n_obs
    if data.signals is not None:
        W = np.zeros((R, N, Y))
        np.put_along_axis(W, data.signals[:, :, None], 1.0, axis=2)
    else:
        if not model.is_static:
            raise ValueError("without signals the likelihood mixes over y ~ B[x_r, .], which needs a static state")
        W = np.broadcast_to(model.likelihood[data.states][:, None, :], (R, N, Y))
    pis = public_beliefs(data, model)[:, :-1]
    own = model.decision_probs(data.priors)
    return _Prepared(data.targets(), W, pis, own, R * N)


def _tables(kind: str, model: SocialLearningModel, data: ChainData, prep: _Prepared, **params) -> np.ndarray:
    R, N = data.actions.shape
    if kind == "bayes" and not params.get("epsilon"):
        X = model.n_states
        return model.decision_probs(prep.pis.reshape(R * N, X)).reshape(R, N, model.n_obs, model.n_actions)
    return np.stack([decision_table(kind, model, k, data.actions, prep.pis[:, k], prep.own, **params)
                     for k in range(N)], axis=1)


def _mix(prep: _Prepared, D: np.ndarray) -> np.ndarray:
    return np.einsum("rky,rkya->rka", prep.W, D)


def _soft_ll(T: np.ndarray, Q: np.ndarray) -> float:
    pos = T > 0
    if np.any(Q[pos] <= 0):
        return -math.inf
    return float(np.sum(T[pos] * np.log(Q[pos])))


def predicted_action_probs(data: ChainData, model: SocialLearningModel, kind: str, *, epsilon: float = 0.0,
                           beta=None, weight=None) -> np.ndarray:
    r"""``q_{r,k}(a)`` of a candidate model on observed chains, shape (R, N, A).

    ``q_{r,k}(a) = sum_y W_{r,k}(y) D_{r,k}(a | y)`` with ``W`` one-hot at the
    known signal, or ``B[x_r, .]`` without signals. ``kind="sensor"`` here is
    the rule ``D^0`` (the free table is fitted by :func:`fit_social_models`).

    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> d = ChainData([0], [[0, 1]], [0.5, 0.5], signals=[[0, 1]])
    >>> predicted_action_probs(d, m, "bayes", epsilon=0.1)[0].round(3).tolist()
    [[0.95, 0.05], [0.5, 0.5]]
    """
    prep = _prepare(data, model)
    return _mix(prep, _tables(kind, model, data, prep, epsilon=epsilon, beta=beta, weight=weight))


def chain_log_likelihood(data: ChainData, model: SocialLearningModel, kind: str, *, epsilon: float = 0.0,
                         beta=None, weight=None) -> float:
    r"""Log-likelihood ``sum_{r,k} sum_a T_{r,k}(a) log q_{r,k}(a)`` of a candidate at given parameters.

    ``T`` is one-hot at the observed actions, or the agents' action
    probabilities when the data hold them (expected log-likelihood). Returns
    ``-inf`` when an observed action has probability zero.

    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> d = ChainData([0], [[0, 1, 0]], [0.5, 0.5], signals=[[0, 1, 1]])
    >>> chain_log_likelihood(d, m, "bayes")   # agent 3 acts against its signal at pi = (0.5, 0.5)
    -inf
    >>> round(chain_log_likelihood(d, m, "bayes", epsilon=0.2), 4)   # log(0.9) + log(0.5) + log(0.1)
    -3.1011
    """
    prep = _prepare(data, model)
    Q = _mix(prep, _tables(kind, model, data, prep, epsilon=epsilon, beta=beta, weight=weight))
    return _soft_ll(prep.T, Q)


# ---------------------------------------------------------------------- fitting
@dataclass
class ModelFit:
    """Maximum-likelihood fit of one candidate model."""

    name: str
    log_likelihood: float
    n_params: int
    aic: float
    bic: float
    params: dict
    description: str

    def to_dict(self) -> dict:
        return to_jsonable({"name": self.name, "log_likelihood": self.log_likelihood, "n_params": self.n_params,
                           "aic": self.aic, "bic": self.bic, "params": self.params, "description": self.description})


def _fit_tremble(T: np.ndarray, Q: np.ndarray, A: int) -> tuple[float, float]:
    """MLE of epsilon in ``q_eps = (1 - eps) q + eps / A``; returns (eps, loglik).

    The log-likelihood ``sum t log q_eps`` is concave in ``eps``, so its
    derivative is decreasing and its root is found by safeguarded Newton steps.
    """
    pos = T > 0
    t, q = T[pos], Q[pos]
    d = 1.0 / A - q

    def ll(e):
        v = (1.0 - e) * q + e / A
        return -math.inf if np.any(v <= 0) else float(np.sum(t * np.log(v)))

    def grad(e):
        v = np.maximum((1.0 - e) * q + e / A, 1e-300)
        r = t * d / v
        return float(np.sum(r)), -float(np.sum(r * d / v))

    if np.all(q > 0) and grad(0.0)[0] <= 0:
        return 0.0, ll(0.0)
    if grad(1.0)[0] >= 0:
        return 1.0, ll(1.0)
    lo, hi, e = 0.0, 1.0, 0.5
    for _ in range(200):
        g, h = grad(e)
        if g > 0:
            lo = e
        else:
            hi = e
        step = e - g / h if h < 0 else math.nan
        e_new = step if lo < step < hi else 0.5 * (lo + hi)
        if abs(e_new - e) < 1e-15 or hi - lo < 1e-15:
            e = e_new
            break
        e = e_new
    return float(e), ll(e)


class _LogitProblem:
    """Profile likelihood of the binary logit model (with an optional lapse).

    Observations with the same signal (or state, without signals) and the same
    public log-likelihood ratio share their likelihood term, so they are merged
    into one row with summed soft counts before fitting.
    """

    def __init__(self, model: SocialLearningModel, prep: _Prepared, beta_max: float | None, lapse: bool):
        ell, tau = _binary_llr(model)
        R, N, Y = prep.W.shape
        W = prep.W.reshape(R * N, Y)
        lam = _public_llr(model, prep.pis.reshape(R * N, -1))
        T = prep.T.reshape(R * N, 2)
        # merge rows with equal mixing weights and public LLR
        keys = np.concatenate([np.round(W, 12), np.round(lam, 10)[:, None]], axis=1)
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        inv = inv.ravel()
        first = np.zeros(uniq.shape[0], dtype=np.int64)
        first[inv[::-1]] = np.arange(R * N)[::-1]
        self.t1 = np.bincount(inv, weights=T[:, 1], minlength=uniq.shape[0])
        self.t0 = np.bincount(inv, weights=T[:, 0], minlength=uniq.shape[0])
        Wu = W[first]
        if np.all(Wu.max(axis=1) == 1.0):  # known signals: one term per row
            self.W = np.ones((Wu.shape[0], 1))
            self.base = (ell[np.argmax(Wu, axis=1)] - tau)[:, None]
        else:
            used = Wu.max(axis=0) > 0
            self.W = Wu[:, used]  # (n, Y')
            self.base = np.broadcast_to(ell[used] - tau, self.W.shape)
        self.lam = lam[first]
        self.lapse = lapse
        scale = float(np.max(np.abs(np.concatenate([ell, lam, [tau]]))))
        self.beta_max = float(beta_max) if beta_max is not None else (100.0 / scale if scale > 0 else 100.0)

    def _eval(self, ws: np.ndarray, betas: np.ndarray, eps0: np.ndarray | None = None):
        """Log-likelihood maximized over the lapse, for weights (K,) and precisions (K, M): (ll, eps), each (K, M)."""
        from scipy.special import expit

        z = self.base[None] + ws[:, None, None] * self.lam[None, :, None]  # (K, n, Y')
        bz = betas[:, :, None, None] * z[:, None]  # (K, M, n, Y')
        S1 = (self.W * expit(bz)).sum(axis=-1).reshape(-1, self.lam.size)  # (K*M, n)
        S0 = (self.W * expit(-bz)).sum(axis=-1).reshape(-1, self.lam.size)
        t1, t0 = self.t1, self.t0
        eps = np.zeros(S1.shape[0])
        if self.lapse:
            start = None if eps0 is None else np.broadcast_to(eps0[:, None], betas.shape).ravel()
            eps = self._lapse(S1, S0, start)
        e = eps[:, None]
        q1 = np.maximum((1 - e) * S1 + 0.5 * e, 1e-300)
        q0 = np.maximum((1 - e) * S0 + 0.5 * e, 1e-300)
        ll = (t1 * np.log(q1) + t0 * np.log(q0)).sum(axis=-1)
        return ll.reshape(betas.shape), eps.reshape(betas.shape)

    def _lapse(self, S1: np.ndarray, S0: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """MLE of the lapse for each row of choice probabilities (m, n): the log-likelihood
        ``sum t1 log((1-e) S1 + e/2) + t0 log((1-e) S0 + e/2)`` is concave in ``e``; its
        derivative is solved by safeguarded Newton steps on the rows where the root is inside (0, 1)."""
        t1, t0 = self.t1, self.t0

        def grad(e, s1, s0, hess=False):
            e = e[:, None]
            q1 = np.maximum((1 - e) * s1 + 0.5 * e, 1e-300)
            q0 = np.maximum((1 - e) * s0 + 0.5 * e, 1e-300)
            r1, r0 = t1 * (0.5 - s1) / q1, t0 * (0.5 - s0) / q0
            g = (r1 + r0).sum(axis=-1)
            if not hess:
                return g
            return g, -(r1 * (0.5 - s1) / q1 + r0 * (0.5 - s0) / q0).sum(axis=-1)

        m = S1.shape[0]
        g_lo = grad(np.zeros(m), S1, S0)
        g_hi = grad(np.ones(m), S1, S0)
        eps = np.where(g_lo > 0, np.where(g_hi >= 0, 1.0, 0.5), 0.0)
        idx = np.flatnonzero((g_lo > 0) & (g_hi < 0))
        lo, hi = np.zeros(idx.size), np.ones(idx.size)
        e = np.full(idx.size, 0.5) if start is None else np.clip(start[idx], 1e-6, 1 - 1e-6)
        s1, s0 = S1[idx], S0[idx]
        for _ in range(60):
            if idx.size == 0:
                break
            g, h = grad(e, s1, s0, hess=True)
            pos = g > 0
            lo, hi = np.where(pos, e, lo), np.where(pos, hi, e)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = e - g / h
            ok = np.isfinite(step) & (step > lo) & (step < hi)
            e_new = np.where(ok, step, 0.5 * (lo + hi))
            # concavity bounds the log-likelihood lost by stopping: |g| (hi - lo)
            done = (np.abs(e_new - e) < 1e-12) | (np.abs(g) * (hi - lo) < 1e-10)
            eps[idx[done]] = e_new[done]
            keep = ~done
            idx, e, lo, hi, s1, s0 = idx[keep], e_new[keep], lo[keep], hi[keep], s1[keep], s0[keep]
        eps[idx] = e
        return eps

    def profile_many(self, ws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Profile log-likelihood at each weight in ``ws``: ``(ll, beta, eps)``, each (K,).

        The precision is searched on a log grid over ``(0, beta_max]`` (and 0),
        refined six times around the best point (each time 4 times finer); the lapse is maximized exactly.
        """
        ws = np.atleast_1d(np.asarray(ws, dtype=np.float64))
        K = ws.size
        grid = np.concatenate([[0.0], self.beta_max * np.geomspace(1e-4, 1.0, 17)])
        betas = np.broadcast_to(grid, (K, grid.size))
        eps0 = None
        for _ in range(7):
            ll, eps = self._eval(ws, betas, eps0)
            j = np.argmax(ll, axis=1)
            rows = np.arange(K)
            best = (ll[rows, j], betas[rows, j], eps[rows, j])
            eps0 = eps[rows, j]
            lo = betas[rows, np.maximum(j - 1, 0)]
            hi = betas[rows, np.minimum(j + 1, betas.shape[1] - 1)]
            betas = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 9)[None, :]
        return best

    def ll(self, beta: float, w: float, eps: float = 0.0) -> float:
        """Log-likelihood at given parameters."""
        from scipy.special import expit

        z = self.base + w * self.lam[:, None]
        S1 = (self.W * expit(beta * z)).sum(axis=1)
        S0 = (self.W * expit(-beta * z)).sum(axis=1)
        q1 = np.maximum((1.0 - eps) * S1 + 0.5 * eps, 1e-300)
        q0 = np.maximum((1.0 - eps) * S0 + 0.5 * eps, 1e-300)
        return float(np.sum(self.t1 * np.log(q1)) + np.sum(self.t0 * np.log(q0)))

    def profile(self, w: float) -> tuple[float, float, float]:
        """``(max l(beta, eps, w), beta, eps)`` over ``0 <= beta <= beta_max`` (and ``0 <= eps <= 1``)."""
        ll, beta, eps = self.profile_many([w])
        return float(ll[0]), float(beta[0]), float(eps[0])


def _crossing(prob: _LogitProblem, cut: float, a: float, b: float) -> float:
    """Where the profile likelihood crosses ``cut`` between ``a`` (above) and ``b`` (below),
    by three rounds of a 17-point grid (resolution ``|b - a| / 16^3``)."""
    lo, hi = a, b  # ``a`` is above the cut, ``b`` below; the grid runs from a to b either way
    for _ in range(3):
        ws = np.linspace(lo, hi, 17)
        ok = prob.profile_many(ws)[0] >= cut
        j = int(np.argmin(ok)) if not ok.all() else ws.size - 1
        lo, hi = ws[max(j - 1, 0)], ws[j]
    return float(0.5 * (lo + hi))


def _fit_logit(model, prep, level, w_bounds, beta_max, n_grid, lapse, interval=True):
    from scipy.special import ndtri

    prob = _LogitProblem(model, prep, beta_max, lapse)
    lo_b, hi_b = w_bounds
    grid = np.unique(np.concatenate([np.linspace(lo_b, hi_b, n_grid), [0.0, 1.0]]))
    grid = grid[(grid >= lo_b) & (grid <= hi_b)]
    prof = prob.profile_many(grid)[0]
    i = int(np.argmax(prof))
    w_hat, ll_hat = float(grid[i]), float(prof[i])
    a, b = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, grid.size - 1)])
    for _ in range(2):  # refine the maximum on finer grids
        ws = np.linspace(a, b, 17)
        pv = prob.profile_many(ws)[0]
        j = int(np.argmax(pv))
        if pv[j] > ll_hat:
            w_hat, ll_hat = float(ws[j]), float(pv[j])
        a, b = float(ws[max(j - 1, 0)]), float(ws[min(j + 1, ws.size - 1)])
    _, beta_hat, eps_hat = prob.profile(w_hat)
    identified = bool(prof.max() - prof.min() > 1e-8)
    cut = ll_hat - float(ndtri(0.5 + level / 2)) ** 2 / 2.0  # chi2_1 quantile = squared normal quantile
    lower = upper = None
    if identified and interval:
        below = np.flatnonzero((prof < cut) & (grid < w_hat))
        if below.size:
            lower = _crossing(prob, cut, w_hat, float(grid[below[-1]]))
        above = np.flatnonzero((prof < cut) & (grid > w_hat))
        if above.size:
            upper = _crossing(prob, cut, w_hat, float(grid[above[0]]))
    ll0, ll1 = (float(prof[np.flatnonzero(grid == v)[0]]) for v in (0.0, 1.0))
    return {"ll": ll_hat, "w": w_hat if identified else None, "beta": beta_hat, "lapse": eps_hat,
            "beta_at_bound": bool(beta_hat >= prob.beta_max * (1 - 1e-6)), "beta_max": prob.beta_max,
            "lower": lower, "upper": upper, "identified": identified, "ll_w0": ll0, "ll_w1": ll1,
            "grid": grid, "profile": prof}


@dataclass
class SocialModelComparison:
    r"""Result of :func:`fit_social_models`.

    Attributes
    ----------
    fits : dict of str -> ModelFit
        One per fitted candidate.
    best_model : str
        Least AIC.
    lr_tests : list of dict
        Likelihood-ratio tests of nested pairs (``null``, ``alternative``,
        ``statistic``, ``df``, ``p_value``).
    herding_strength : float or None
        Fitted weight ``w`` on the public log-likelihood ratio (logit model);
        None when the logit model is unavailable or ``w`` is not identified
        (no variation in the public or private evidence, e.g. an uninformative
        sensor).
    herding_strength_interval : (lower, upper)
        Profile-likelihood interval; an end is None when unbounded within ``w_bounds``.
    """

    fits: dict
    best_model: str
    lr_tests: list
    herding_strength: float | None
    herding_strength_interval: tuple
    level: float
    n_chains: int
    n_agents: int
    n_observations: int
    likelihood_kind: str
    signals_known: bool
    notes: list = field(default_factory=list)
    herding_fit: dict | None = field(default=None, repr=False)

    @property
    def log_likelihood(self) -> dict:
        return {k: f.log_likelihood for k, f in self.fits.items()}

    @property
    def aic(self) -> dict:
        return {k: f.aic for k, f in self.fits.items()}

    def to_dict(self) -> dict:
        """JSON-ready dictionary; ``log_likelihood``, ``aic``, ``herding_strength`` are the report keys."""
        return to_jsonable({
            "log_likelihood": self.log_likelihood, "aic": self.aic,
            "bic": {k: f.bic for k, f in self.fits.items()},
            "n_params": {k: f.n_params for k, f in self.fits.items()},
            "params": {k: f.params for k, f in self.fits.items()},
            "best_model": self.best_model, "lr_tests": self.lr_tests,
            "herding_strength": self.herding_strength,
            "herding_strength_interval": list(self.herding_strength_interval),
            "herding_strength_level": self.level, "herding_fit": self.herding_fit,
            "n_chains": self.n_chains, "n_agents": self.n_agents,
            "n_observations": self.n_observations, "likelihood_kind": self.likelihood_kind,
            "signals_known": self.signals_known, "notes": self.notes})

    def summary(self) -> str:
        lines = ["Models of social learning fitted by maximum likelihood", "=" * 78,
                 f"{self.n_chains} chains x {self.n_agents} agents ({self.n_observations} actions); "
                 f"likelihood: {self.likelihood_kind}; signals {'known' if self.signals_known else 'mixed over B'}",
                 "-" * 78, f"{'model':>10} {'log-lik':>12} {'k':>3} {'AIC':>12} {'dAIC':>9}  parameters"]
        best = self.fits[self.best_model].aic
        for name, f in sorted(self.fits.items(), key=lambda kv: kv[1].aic):
            par = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in f.params.items()
                            if not isinstance(v, (list, dict)))
            lines.append(f"{name:>10} {f.log_likelihood:12.3f} {f.n_params:3d} {f.aic:12.3f} {f.aic - best:9.3f}"
                         f"  {par}")
        lines.append(f"best model (least AIC): {self.best_model}")
        for t in self.lr_tests:
            lines.append(f"LR test {t['null']} vs {t['alternative']}: 2 dl = {t['statistic']:.3f}, "
                         f"df {t['df']}, p = {t['p_value']:.4g}")
        lo, hi = self.herding_strength_interval
        if self.herding_strength is None:
            lines.append("herding strength: not available / not identified")
        else:

            def fmt(v, s):
                return s if v is None else f"{v:.3f}"

            lines.append(f"herding strength w = {self.herding_strength:.3f} "
                         f"[{100 * self.level:g}% profile likelihood: {fmt(lo, '-inf')}, {fmt(hi, '+inf')}]"
                         "  (0 ignores others, 1 Bayesian, >1 over-herds)")
            if self.herding_fit is not None:
                h = self.herding_fit
                lines.append(f"  estimated in {h['model']}: log-lik {h['log_likelihood']:.3f}, beta {h['beta']:.4g}, "
                             f"lapse {h['lapse']:.4g}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def fit_social_models(data: ChainData, model: SocialLearningModel, *, models=CANDIDATE_MODELS,
                      sensor: str = "data", level: float = 0.95, w_bounds=(-3.0, 5.0),
                      beta_max: float | None = None, n_grid: int = 33,
                      herding_lapse: bool = True) -> SocialModelComparison:
    r"""Fit the candidate models of social learning to observed chains and compare them.

    See the module docstring for the models, the likelihood (exact or soft
    counts) and the tests. ``model`` supplies ``B`` (estimated from the same
    agents' labels *without* history), the cost, the tie rule and, through the
    chains' priors, the public beliefs.

    Parameters
    ----------
    data : ChainData
    model : SocialLearningModel
    models : sequence of str
        Subset of :data:`CANDIDATE_MODELS`.
    sensor : {"data", "bayes"}
        The history-ignoring model: a free table ``P(a | y)`` or ``D^0`` with a tremble.
    level : float
        Level of the herding-strength interval.
    w_bounds : (float, float)
        Search range of the herding strength.
    beta_max : float, optional
        Upper bound of the logit precision (default ``100 / max |log-likelihood ratio|``).
    n_grid : int
        Grid points of the profile likelihood before refinement.
    herding_lapse : bool
        Estimate the herding strength with the logit model plus a lapse rate
        (default; see the module docstring) instead of the plain logit candidate.

    Returns
    -------
    SocialModelComparison

    Examples
    --------
    >>> from sociallearn.testing import scripted_chains
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> d = scripted_chains("copy_last", m, [0.5, 0.5], 200, 10, epsilon=0.1, seed=0)
    >>> fit = fit_social_models(d, m)
    >>> fit.best_model, sorted(fit.to_dict())[:3]
    ('copy_last', ['aic', 'best_model', 'bic'])
    """
    prep = _prepare(data, model)
    level = _check_level(level)
    models = tuple(models)
    bad = [m for m in models if m not in CANDIDATE_MODELS]
    if bad or not models:
        raise ValueError(f"models must be a non-empty subset of {CANDIDATE_MODELS}, got {models!r}")
    if sensor not in ("data", "bayes"):
        raise ValueError(f"sensor must be 'data' or 'bayes', got {sensor!r}")
    try:
        lo_b, hi_b = (float(v) for v in w_bounds)
    except (TypeError, ValueError):
        raise ValueError(f"w_bounds must be two numbers (lower, upper), got {w_bounds!r}") from None
    if not (math.isfinite(lo_b) and math.isfinite(hi_b) and lo_b < 0.0 and hi_b > 1.0):
        raise ValueError(f"w_bounds must be finite and contain [0, 1] strictly inside, got {w_bounds!r}")
    if beta_max is not None and not (math.isfinite(float(beta_max)) and float(beta_max) > 0):
        raise ValueError(f"beta_max must be a finite number > 0, got {beta_max!r}")
    n_grid = positive_int(n_grid, "n_grid", minimum=3)
    A = data.n_actions
    n_obs = prep.n_obs_total
    fits: dict[str, ModelFit] = {}
    notes: list[str] = []
    lr_tests: list[dict] = []
    from scipy.special import chdtrc  # chi-square survival function

    def add(name, ll, k, params, desc):
        fits[name] = ModelFit(name, float(ll), int(k), 2 * k - 2 * ll, k * math.log(n_obs) - 2 * ll, params, desc)

    descs = {"bayes": "Bayesian social-learning filter with B, tremble epsilon",
             "copy_last": "copy the previous action, tremble epsilon",
             "majority": "follow the majority of the history (ties: own signal), tremble epsilon"}
    sensor_tremble = None
    herding: tuple = (None, (None, None))
    herding_fit: dict | None = None
    for name in models:
        if name in ("bayes", "copy_last", "majority") or (name == "sensor" and sensor == "bayes"):
            Q = _mix(prep, _tables(name, model, data, prep))
            eps, ll = _fit_tremble(prep.T, Q, A)
            desc = descs.get(name, "history ignored: Bayesian decision on the own signal at the prior, tremble")
            add(name, ll, 1, {"epsilon": eps}, desc)
        elif name == "sensor":
            Q0 = _mix(prep, _tables("sensor", model, data, prep))
            sensor_tremble = _fit_tremble(prep.T, Q0, A)
            if data.signals is not None:
                rows = np.einsum("rky,rka->ya", prep.W, prep.T)
                what = "y"
            else:
                rows = np.zeros((data.n_states, A))
                np.add.at(rows, data.states, prep.T.sum(axis=1))
                what = "x"
            tot = rows.sum(axis=1, keepdims=True)
            table = np.where(tot > 0, rows / np.where(tot > 0, tot, 1.0), 1.0 / A)
            with np.errstate(divide="ignore", invalid="ignore"):
                ll = float(np.sum(np.where(rows > 0, rows * np.log(np.where(table > 0, table, 1.0)), 0.0)))
            k = int((tot[:, 0] > 0).sum()) * (A - 1)
            add(name, ll, k, {f"p_action_given_{what}": table.tolist()},
                f"history ignored: free table P(a | {what}) from the data")
        else:  # logit
            if model.n_states != 2 or A != 2:
                notes.append("logit model not fitted: it needs a binary state and binary actions")
                continue
            try:
                _binary_llr(model)
            except ValueError as exc:
                notes.append(f"logit model not fitted: {exc}")
                continue
            lg = _fit_logit(model, prep, level, (lo_b, hi_b), beta_max, n_grid, False, interval=not herding_lapse)
            add("logit", lg["ll"], 2, {"weight": lg["w"], "beta": lg["beta"], "beta_at_bound": lg["beta_at_bound"]},
                "P(a=1) = sigma(beta (private LLR + w public LLR - tau))")
            hs = _fit_logit(model, prep, level, (lo_b, hi_b), beta_max, n_grid, True) if herding_lapse else lg
            if hs["beta_at_bound"]:
                notes.append(f"herding-strength logit: precision beta reached its bound {hs['beta_max']:.4g} (the "
                             "non-lapse actions are deterministic in the evidence; w is set by where the "
                             "decision boundary can lie)")
            if not hs["identified"]:
                notes.append("herding strength not identified: the profile likelihood is flat in w "
                             "(no variation in the public or private evidence; an uninformative sensor?)")
            name_h = "logit+lapse" if herding_lapse else "logit"
            for w0, llw in ((0.0, hs["ll_w0"]), (1.0, hs["ll_w1"])):
                stat = max(0.0, 2.0 * (hs["ll"] - llw))
                lr_tests.append({"null": f"{name_h}(w={w0:g})", "alternative": name_h, "statistic": stat, "df": 1,
                                 "p_value": float(chdtrc(1, stat))})
            herding_fit = {"model": name_h, "log_likelihood": hs["ll"], "n_params": 3 if herding_lapse else 2,
                           "weight": hs["w"], "beta": hs["beta"], "lapse": hs["lapse"],
                           "beta_at_bound": hs["beta_at_bound"],
                           "profile": {"w": hs["grid"].tolist(), "log_likelihood": hs["profile"].tolist()}}
            herding = (hs["w"], (hs["lower"], hs["upper"]))
    if sensor_tremble is not None and "sensor" in fits:
        stat = 2.0 * (fits["sensor"].log_likelihood - sensor_tremble[1])
        df = fits["sensor"].n_params - 1
        if df > 0 and math.isfinite(stat):
            lr_tests.append({"null": "sensor(D0 with tremble)", "alternative": "sensor(free table)",
                             "statistic": max(0.0, stat), "df": df, "p_value": float(chdtrc(df, max(0.0, stat)))})
    best = min(fits, key=lambda k: fits[k].aic)
    close = sorted((k for k in fits if k != best and fits[k].aic - fits[best].aic < 2.0), key=lambda k: fits[k].aic)
    if close:
        notes.append(f"{', '.join(close)} within 2 AIC units of {best}: the data do not distinguish them")
    kind = ("expected (soft-count) log-likelihood under the agents' action probabilities"
            if data.action_probs is not None else "exact log-likelihood of the observed actions")
    comp = SocialModelComparison(fits=fits, best_model=best, lr_tests=lr_tests, herding_strength=herding[0],
                                 herding_strength_interval=tuple(herding[1]), level=level, n_chains=data.n_chains,
                                 n_agents=data.n_agents, n_observations=n_obs, likelihood_kind=kind,
                                 signals_known=data.signals is not None, notes=notes, herding_fit=herding_fit)
    return comp
