"""The Bayesian social learning model and its filter (SPEC section 2).

A sequence of agents k = 1, 2, ... acts on a hidden state x in {0..X-1}. Agent k
observes a private signal y_k ~ B[x_k, .] (the LLM used as a sensor), sees the
actions of all predecessors through the public belief pi_{k-1}, forms its
private belief, takes the myopic action with the least expected cost, and the
public updates its belief from the action alone (the social learning filter).

Notation (Krishnamurthy, *Partially Observed Markov Decision Processes*, ch. 5):

* likelihood ``B`` (X, Y), ``B[x, y] = P(y | x)``; ``B_y = diag(B[:, y])``;
* transition ``P`` (X, X), ``P[i, j] = P(x_k = j | x_{k-1} = i)`` (identity for a
  static state); the prediction of a belief is ``P' pi``;
* cost ``c`` (X, A); the expected cost of action ``a`` under belief ``eta`` is
  ``c_a' eta``.

Private belief:  ``eta_k = B_{y_k} P' pi_{k-1} / (1' B_{y_k} P' pi_{k-1})``.
Myopic action:   ``a_k = argmin_a c_a' eta_k`` with an explicit tie rule.
Social learning filter:
``pi_k = R^pi_{a_k} P' pi_{k-1} / sigma(pi_{k-1}, a_k)``, with
``R^pi_a = diag(P(a | x, pi))``, ``P(a | x, pi) = sum_y P(a | y, pi) B[x, y]`` and
``sigma = 1' R^pi_a P' pi``. ``R`` is built from zeros, and under a randomized
tie rule each tied action receives its fractional share, so the probabilities
``P(a | y, pi)`` of one ``y`` always sum to exactly one (no double counting).

Ties. Actions whose posterior expected costs differ from the minimum by at most
``tie_rtol * (max(c) - min(c))`` (``tie_rtol = 1e-9`` by default) are tied. The
tolerance is relative to the cost scale so that a model written in cents and one
written in dollars break ties identically, and it is far above floating-point
round-off (about 1e-16 relative) so that beliefs that are equal in exact
arithmetic but reached along different paths are treated alike.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_finite_array, row_stochastic, simplex_points

TIE_RULES = ("uniform", "own_signal", "first")

__all__ = ["SocialLearningModel", "TIE_RULES", "zero_one_cost"]


class SocialLearningModel:
    r"""Bayesian social learning model with a finite state, signal and action set.

    Parameters
    ----------
    likelihood : array_like, shape (X, Y)
        Row-stochastic observation likelihood ``B[x, y] = P(y | x)``.
    cost : array_like, shape (X, A), optional
        Cost ``c[x, a]`` of action ``a`` in state ``x``. Give exactly one of
        ``cost`` and ``utility``.
    transition : array_like, shape (X, X), optional
        Row-stochastic state transition ``P``; identity (static state) by default.
    tie_rule : {"uniform", "own_signal", "first"}
        How an agent indifferent between several actions chooses:

        * ``"uniform"`` -- uniformly at random among the tied actions
          (Bikhchandani-Hirshleifer-Welch); each tied action gets a fractional
          share ``1/|tied|`` in ``P(a | y, pi)``.
        * ``"own_signal"`` -- the agent takes the action with the same index as
          its observation ``y`` when that action is among the tied ones;
          otherwise (``y >= A`` or ``y`` not tied) it randomizes uniformly among
          the tied actions.
        * ``"first"`` -- the tied action with the lowest index.
    utility : array_like, shape (X, A), optional
        Utility ``r[x, a]``; equivalent to ``cost = -utility``.
    tie_rtol : float
        Relative tie tolerance (see the module docstring).

    Attributes
    ----------
    likelihood, cost, transition : ndarray
        The validated model matrices (``cost`` also when built from ``utility``).
    n_states, n_obs, n_actions : int
        X, Y and A.
    tie_rule : str
    tie_tol : float
        Absolute tolerance on expected costs, ``tie_rtol * (max c - min c)``.
    is_static : bool
        True when the transition is the identity (the state never moves).

    Notes
    -----
    All belief methods accept one belief ``(X,)`` or a batch ``(n, X)`` and
    return arrays whose leading axis matches (dropped for a single belief).
    Beliefs are always about the state *before* the next agent's observation;
    the methods apply the prediction ``P' pi`` themselves.

    Examples
    --------
    The Bikhchandani-Hirshleifer-Welch model with signal precision 0.7:

    >>> import numpy as np
    >>> m = SocialLearningModel([[0.7, 0.3], [0.3, 0.7]], cost=1 - np.eye(2))
    >>> m.public_update([0.5, 0.5], 0)        # the first agent reveals its signal
    array([0.7, 0.3])
    >>> bool(m.in_cascade([0.7, 0.3])), bool(m.in_cascade(m.public_update([0.7, 0.3], 0)))
    (False, True)
    """

    def __init__(self, likelihood, cost=None, transition=None, tie_rule: str = "uniform", *,
                 utility=None, tie_rtol: float = 1e-9):
        B = row_stochastic(likelihood, "likelihood")
        X, Y = B.shape
        if (cost is None) == (utility is None):
            raise ValueError("give exactly one of cost= and utility= (an (X, A) array)")
        c = as_finite_array(cost, "cost", ndim=2) if cost is not None else -as_finite_array(utility, "utility", ndim=2)
        if c.shape[0] != X:
            raise ValueError(f"cost/utility must have one row per state: likelihood has {X} states "
                             f"(shape {B.shape}) but cost has shape {c.shape}")
        if c.shape[1] < 1:
            raise ValueError("cost/utility must have at least one action (column)")
        P = np.eye(X) if transition is None else row_stochastic(transition, "transition", shape=(X, X))
        if tie_rule not in TIE_RULES:
            raise ValueError(f"tie_rule must be one of {TIE_RULES}, got {tie_rule!r}")
        tie_rtol = float(tie_rtol)
        if not (0.0 <= tie_rtol < 1e-2):
            raise ValueError(f"tie_rtol must be in [0, 0.01), got {tie_rtol}")
        self.likelihood = B
        self.cost = c + 0.0  # copy; also turns -0.0 into 0.0
        self.transition = P
        self.tie_rule = tie_rule
        self.tie_rtol = tie_rtol
        scale = float(c.max() - c.min())
        self.tie_tol = tie_rtol * (scale if scale > 0 else 1.0)
        self.n_states, self.n_obs = X, Y
        self.n_actions = c.shape[1]
        self.is_static = bool(np.array_equal(P, np.eye(X)))
        for arr in (self.likelihood, self.cost, self.transition):
            arr.setflags(write=False)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def binary_symmetric(cls, precision: float, tie_rule: str = "uniform") -> SocialLearningModel:
        """The Bikhchandani-Hirshleifer-Welch model: X = Y = A = 2.

        ``B = [[p, 1-p], [1-p, p]]`` and cost ``c = 1 - I`` (an agent is right
        when its action equals the state).

        >>> SocialLearningModel.binary_symmetric(0.8).likelihood
        array([[0.8, 0.2],
               [0.2, 0.8]])
        """
        return cls.symmetric(2, precision, tie_rule=tie_rule)

    @classmethod
    def symmetric(cls, n: int, precision: float, tie_rule: str = "uniform") -> SocialLearningModel:
        """Symmetric n-ary model: X = Y = A = n, ``B[x, x] = p``, errors spread
        uniformly ``(1 - p) / (n - 1)``, cost ``c = 1 - I`` (0-1 loss).

        >>> SocialLearningModel.symmetric(3, 0.6).likelihood[0]
        array([0.6, 0.2, 0.2])
        """
        if not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"n must be an integer >= 2, got {n!r}")
        p = float(precision)
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"precision must lie in [0, 1], got {precision}")
        B = np.full((n, n), (1.0 - p) / (n - 1))
        np.fill_diagonal(B, p)
        return cls(B, cost=1.0 - np.eye(n), tie_rule=tie_rule)

    # ------------------------------------------------------------------ validation
    def _beliefs(self, pi, name: str = "pi") -> tuple[np.ndarray, bool]:
        return simplex_points(pi, name, self.n_states)

    def _beliefs_and_index(self, pi, idx, name: str, what: str, n: int):
        """Validated beliefs (m, X), the single-belief flag, and an integer index
        (an observation or an action) broadcast to shape (m,).

        A 1-D index with a single belief repeats the belief for every entry.
        """
        p, single = self._beliefs(pi)
        arr = np.asarray(idx)
        if arr.dtype.kind not in "iu" or arr.ndim > 1:
            raise ValueError(f"{name} must be an integer or a 1-D integer array, got {idx!r}")
        if arr.ndim == 1:
            if single:
                p = np.broadcast_to(p, (arr.shape[0], self.n_states))
                single = False
            elif arr.shape[0] != p.shape[0]:
                raise ValueError(f"{name} has {arr.shape[0]} entries but pi has {p.shape[0]} beliefs")
        if np.any((arr < 0) | (arr >= n)):
            raise ValueError(f"{what} must lie in 0..{n - 1}, got {idx!r}")
        return p, single, np.broadcast_to(arr, (p.shape[0],)).astype(np.intp)

    @staticmethod
    def _out(arr: np.ndarray, single: bool):
        return arr[0] if single else arr

    # ------------------------------------------------------------------ core (unvalidated, batched)
    def _predict(self, pi: np.ndarray) -> np.ndarray:
        return pi if self.is_static else pi @ self.transition

    def _decision_from_pred(self, pred: np.ndarray) -> np.ndarray:
        """P(a | y, pi) for predicted beliefs ``pred`` (n, X) -> (n, Y, A)."""
        B, c = self.likelihood, self.cost
        n = pred.shape[0]
        Y, A = self.n_obs, self.n_actions
        # posterior over x after signal y: (n, Y, X)
        joint = pred[:, None, :] * B.T[None, :, :]
        py = joint.sum(axis=2, keepdims=True)
        possible = py > 0
        # an impossible signal (probability 0 under the public belief) carries no
        # usable Bayes update; the agent then acts on the public prediction alone
        post = np.where(possible, joint / np.where(possible, py, 1.0), pred[:, None, :])
        ecost = post @ c  # (n, Y, A)
        tied = ecost <= ecost.min(axis=2, keepdims=True) + self.tie_tol
        if self.tie_rule == "first":
            D = np.zeros((n, Y, A))
            first = np.argmax(tied, axis=2)
            np.put_along_axis(D, first[..., None], 1.0, axis=2)
            return D
        D = tied / tied.sum(axis=2, keepdims=True)
        if self.tie_rule == "own_signal":
            m = min(Y, A)
            idx = np.arange(m)
            own = tied[:, idx, idx]  # (n, m): is action y among the tied ones?
            if own.any():
                onehot = np.zeros((m, A))
                onehot[idx, idx] = 1.0
                D[:, :m, :] = np.where(own[..., None], onehot[None], D[:, :m, :])
        return D

    def _possible_obs(self, pred: np.ndarray) -> np.ndarray:
        return (pred @ self.likelihood) > 0

    def _action_probs_from_decision(self, D: np.ndarray) -> np.ndarray:
        return np.matmul(self.likelihood[None], D)  # (n, X, A)

    def _cascade_from_decision(self, D: np.ndarray, possible: np.ndarray) -> np.ndarray:
        ref_y = np.argmax(possible, axis=1)
        ref = D[np.arange(D.shape[0]), ref_y]  # (n, A)
        dev = np.abs(D - ref[:, None, :]).max(axis=2)  # (n, Y)
        return np.all((dev <= 1e-12) | ~possible, axis=1)

    def _update_from(self, pred: np.ndarray, Pa: np.ndarray, a: np.ndarray):
        R = np.take_along_axis(Pa, a[:, None, None], axis=2)[:, :, 0]  # (n, X)
        num = R * pred
        sigma = num.sum(axis=1)
        return num, sigma

    # ------------------------------------------------------------------ public API
    def predict(self, pi):
        """Predicted belief ``P' pi`` (shape of ``pi``).

        >>> SocialLearningModel([[1, 0], [0, 1]], cost=np.eye(2), transition=[[0.9, 0.1], [0, 1]]).predict([1, 0])
        array([0.9, 0.1])
        """
        p, single = self._beliefs(pi)
        return self._out(self._predict(p), single)

    def private_belief(self, pi, y):
        r"""Private belief ``eta = B_y P' pi / (1' B_y P' pi)``.

        Parameters
        ----------
        pi : array_like, shape (X,) or (n, X)
            Public belief(s) before the agent acts.
        y : int or array_like of int, shape () or (n,)
            Observation(s); broadcast against the batch of beliefs.

        Returns
        -------
        ndarray, shape (X,) or (n, X)

        Raises ``ValueError`` when ``y`` has probability zero under ``pi``.

        >>> m = SocialLearningModel.binary_symmetric(0.7)
        >>> m.private_belief([0.5, 0.5], 1)
        array([0.3, 0.7])
        """
        p, single, yb = self._beliefs_and_index(pi, y, "y", "observations", self.n_obs)
        num = self._predict(p) * self.likelihood[:, yb].T
        s = num.sum(axis=1)
        if np.any(s <= 0):
            raise ValueError("observation has probability zero under the given public belief "
                             "(1' B_y P' pi = 0); the private belief is undefined")
        return self._out(num / s[:, None], single)

    def decision_probs(self, pi):
        r"""Decision rule ``P(a | y, pi)`` of the next agent, shape (Y, A) or (n, Y, A).

        Row ``y`` is the one-hot vector of ``argmin_a c_a' eta_y`` (fractional
        under a randomizing tie rule); each row sums to one. For a signal that is
        impossible under ``pi`` the agent acts on ``P' pi`` alone.

        >>> SocialLearningModel.binary_symmetric(0.7).decision_probs([0.7, 0.3])
        array([[1. , 0. ],
               [0.5, 0.5]])
        """
        p, single = self._beliefs(pi)
        return self._out(self._decision_from_pred(self._predict(p)), single)

    def action_probs(self, pi):
        r"""Action likelihood ``P(a | x, pi) = sum_y B[x, y] P(a | y, pi)``.

        Returns the (X, A) matrix (or (n, X, A) for a batch) whose rows sum to
        one; ``R^pi_a = diag(action_probs(pi)[:, a])`` in the filter.

        >>> SocialLearningModel.binary_symmetric(0.7).action_probs([0.7, 0.3])
        array([[0.85, 0.15],
               [0.65, 0.35]])
        """
        p, single = self._beliefs(pi)
        D = self._decision_from_pred(self._predict(p))
        return self._out(self._action_probs_from_decision(D), single)

    def action_distribution(self, pi):
        r"""Public predictive probability of the next action, ``sigma(pi, a) = 1' R^pi_a P' pi``.

        Shape (A,) or (n, A).

        >>> SocialLearningModel.binary_symmetric(0.7).action_distribution([0.5, 0.5])
        array([0.5, 0.5])
        """
        p, single = self._beliefs(pi)
        pred = self._predict(p)
        Pa = self._action_probs_from_decision(self._decision_from_pred(pred))
        return self._out(np.einsum("nx,nxa->na", pred, Pa), single)

    def public_update(self, pi, a):
        r"""Social learning filter ``pi' = R^pi_a P' pi / sigma(pi, a)``.

        Parameters
        ----------
        pi : array_like, shape (X,) or (n, X)
        a : int or array_like of int, shape () or (n,)
            Observed action(s).

        Raises ``ValueError`` when an action has probability zero under ``pi``.

        >>> m = SocialLearningModel.binary_symmetric(0.7)
        >>> m.public_update([0.7, 0.3], 1)   # a tie-breaking coin flip undoes one step
        array([0.5, 0.5])
        """
        p, single, ab = self._beliefs_and_index(pi, a, "a", "actions", self.n_actions)
        pred = self._predict(p)
        Pa = self._action_probs_from_decision(self._decision_from_pred(pred))
        num, sigma = self._update_from(pred, Pa, ab)
        if np.any(sigma <= 0):
            bad = int(np.flatnonzero(sigma <= 0)[0])
            raise ValueError(f"action {int(ab[bad])} has probability zero under public belief "
                             f"{p[bad].tolist()}; the filter update is undefined")
        return self._out(num / sigma[:, None], single)

    def in_cascade(self, pi):
        r"""True where ``pi`` lies in the information cascade set.

        ``pi`` is in the cascade set when ``P(a | y, pi)`` does not depend on
        ``y`` (over the signals with positive probability under ``P' pi``): the
        next agent's action then reveals nothing and, for a static state, the
        public belief is a fixed point of the filter.

        >>> m = SocialLearningModel.binary_symmetric(0.7)
        >>> m.in_cascade([[0.5, 0.5], [0.9, 0.1]])
        array([False,  True])
        """
        p, single = self._beliefs(pi)
        pred = self._predict(p)
        D = self._decision_from_pred(pred)
        return self._out(self._cascade_from_decision(D, self._possible_obs(pred)), single)

    def cascade_action(self, pi):
        r"""The herd's action at ``pi``: the most probable action where ``pi`` is in
        the cascade set (lowest index on a tie), ``-1`` elsewhere.

        >>> SocialLearningModel.binary_symmetric(0.7).cascade_action([[0.5, 0.5], [0.1, 0.9]])
        array([-1,  1])
        """
        p, single = self._beliefs(pi)
        pred = self._predict(p)
        D = self._decision_from_pred(pred)
        possible = self._possible_obs(pred)
        casc = self._cascade_from_decision(D, possible)
        ref = D[np.arange(D.shape[0]), np.argmax(possible, axis=1)]
        act = np.where(casc, np.argmax(ref, axis=1), -1)
        return self._out(act, single)

    def correct_actions(self) -> np.ndarray:
        """Boolean (X, A) mask of the full-information optimal actions ``argmin_a c[x, a]``.

        A cascade on action ``a`` is *correct* in state ``x`` when ``mask[x, a]``.

        >>> SocialLearningModel.binary_symmetric(0.7).correct_actions()
        array([[ True, False],
               [False,  True]])
        """
        c = self.cost
        return c <= c.min(axis=1, keepdims=True) + self.tie_tol

    # ------------------------------------------------------------------ reporting
    def to_dict(self) -> dict:
        """JSON-ready description of the model."""
        return {"likelihood": self.likelihood.tolist(), "cost": self.cost.tolist(),
                "transition": self.transition.tolist(), "tie_rule": self.tie_rule,
                "tie_rtol": self.tie_rtol, "n_states": self.n_states, "n_obs": self.n_obs,
                "n_actions": self.n_actions}

    def __repr__(self) -> str:
        return (f"SocialLearningModel(X={self.n_states}, Y={self.n_obs}, A={self.n_actions}, "
                f"tie_rule={self.tie_rule!r}, static={self.is_static})")


def zero_one_cost(n_states: int, n_actions: int | None = None) -> np.ndarray:
    """The 0-1 misclassification cost ``c[x, a] = 1{a != x}``, shape (X, A).

    >>> zero_one_cost(2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    n_actions = n_states if n_actions is None else n_actions
    return 1.0 - np.eye(n_states, n_actions)
