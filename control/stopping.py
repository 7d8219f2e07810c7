"""The controller's optimal stopping problem on the public belief (SPEC 3a).

State: the public belief ``pi`` on ``X`` states. Each period the controller
either *continues* (the agent reveals its private observation ``y``, the public
belief moves to ``T_y pi`` and the period costs ``d(pi)``) or *stops*
(absorbing; terminal cost ``C_s(pi)``). With ``B_y = diag(B[:, y])``,

    sigma(pi, y) = 1' B_y P' pi,        T_y pi = B_y P' pi / sigma(pi, y),

    V(pi) = min{ C_s(pi),  d(pi) + rho * sum_y sigma(pi, y) V(T_y pi) }.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from llmsl_core import check_stochastic

__all__ = ["StoppingProblem", "CostLike"]

CostLike = Callable[[np.ndarray], np.ndarray] | np.ndarray | float


def _stochastic(M: np.ndarray, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    M = check_stochastic(M, name)
    if shape is not None and M.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {M.shape}")
    return M


class _Cost:
    """A cost on beliefs: callable (n, X) -> (n,), a vector over states (linear
    ``c' pi``), a matrix (X, A) (concave ``min_a c_a' pi``) or a constant."""

    def __init__(self, cost: CostLike, n_states: int, name: str):
        self.name = name
        self.n_states = n_states
        self.func: Callable[[np.ndarray], np.ndarray] | None = None
        self.matrix: np.ndarray | None = None
        if callable(cost):
            self.func = cost
            return
        c = np.asarray(cost, dtype=float)
        if not np.all(np.isfinite(c)):
            raise ValueError(f"{name} contains NaN or infinite entries")
        if c.ndim == 0:
            c = np.full((n_states, 1), float(c))
        elif c.ndim == 1:
            if c.shape[0] != n_states:
                raise ValueError(f"{name} as a vector over states must have shape ({n_states},); got {c.shape}")
            c = c[:, None]
        elif c.ndim != 2 or c.shape[0] != n_states:
            raise ValueError(
                f"{name} must be a callable, a scalar, a vector ({n_states},) or a matrix ({n_states}, A); "
                f"got shape {c.shape}"
            )
        self.matrix = c

    @property
    def is_linear(self) -> bool:
        return self.matrix is not None and self.matrix.shape[1] == 1

    def __call__(self, beliefs: np.ndarray) -> np.ndarray:
        if self.matrix is not None:
            return (beliefs @ self.matrix).min(axis=1)
        assert self.func is not None  # __init__ sets exactly one of matrix and func
        out = np.asarray(self.func(beliefs), dtype=float)
        n = beliefs.shape[0]
        if out.shape == (n, 1):
            out = out[:, 0]
        if out.shape != (n,):
            raise ValueError(
                f"{self.name} callable must map beliefs of shape ({n}, {self.n_states}) to shape ({n},); "
                f"got {out.shape}"
            )
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{self.name} callable returned NaN or infinite values")
        return out


@dataclass(init=False)
class StoppingProblem:
    """Optimal stopping on the public belief: continue (reveal ``y``) or stop.

    ``V(pi) = min{ C_s(pi), d(pi) + rho sum_y sigma(pi, y) V(T_y pi) }`` with
    ``T_y pi = B_y P' pi / sigma(pi, y)`` and ``sigma(pi, y) = 1' B_y P' pi``.

    Parameters
    ----------
    likelihood : array (X, Y)
        ``B[x, y] = P(y | x)``, row-stochastic.
    stop_cost : callable, array or float
        ``C_s``: a callable mapping beliefs (n, X) to costs (n,); a vector ``c``
        (X,) meaning ``c' pi``; a matrix ``c`` (X, A) meaning ``min_a c_a' pi``
        (the expected misclassification cost of the best action); or a constant.
    continue_cost : callable, array or float
        ``d``, same forms as ``stop_cost``.
    discount : float
        ``rho`` in ``[0, 1)``.
    transition : array (X, X), optional
        ``P[x, x'] = P(x_{k+1} = x' | x_k = x)``; identity (static state) by default.

    Examples
    --------
    Two states, a binary signal of precision 0.8, misclassification cost 1, a
    delay cost 0.05 per revealed observation:

    >>> import numpy as np
    >>> B = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.05, 0.9)
    >>> prob.n_states, prob.n_obs
    (2, 2)
    """

    likelihood: np.ndarray
    transition: np.ndarray
    discount: float

    def __init__(
        self,
        likelihood: np.ndarray,
        stop_cost: CostLike,
        continue_cost: CostLike,
        discount: float,
        transition: np.ndarray | None = None,
    ):
        B = _stochastic(likelihood, "likelihood")
        X, Y = B.shape
        if X < 2:
            raise ValueError(f"likelihood must have at least 2 states (rows); got {X}")
        P = np.eye(X) if transition is None else _stochastic(transition, "transition", (X, X))
        try:
            rho = float(discount)
        except (TypeError, ValueError):
            raise ValueError(f"discount must be a number in [0, 1); got {discount!r}") from None
        if not (0.0 <= rho < 1.0):
            raise ValueError(f"discount must lie in [0, 1); got {discount}")
        self.likelihood = B
        self.transition = P
        self.discount = rho
        self._stop = _Cost(stop_cost, X, "stop_cost")
        self._cont = _Cost(continue_cost, X, "continue_cost")
        # fail early on a callable cost of the wrong shape
        probe = np.full((3, X), 1.0 / X)
        self._stop(probe)
        self._cont(probe)

    @classmethod
    def from_misclassification(
        cls,
        likelihood: np.ndarray,
        action_cost: npt.ArrayLike,
        delay_cost: CostLike,
        discount: float,
        transition: np.ndarray | None = None,
    ) -> StoppingProblem:
        """The quickest-herding problem of SPEC 3a.

        ``C_s(pi) = min_a c_a' pi / (1 - rho)``: after stopping, agents act
        myopically and the belief soon freezes, so the misclassification cost of
        the best action is paid in every later period. ``action_cost`` is ``c``
        (X, A); ``delay_cost`` is ``d`` (any cost form).
        """
        c = np.asarray(action_cost, dtype=float)
        rho = float(discount)
        if not (0.0 <= rho < 1.0):
            raise ValueError(f"discount must lie in [0, 1); got {discount}")
        if c.ndim != 2:
            raise ValueError(f"action_cost must be a matrix (X, A); got shape {c.shape}")
        return cls(likelihood, c / (1.0 - rho), delay_cost, rho, transition)

    @property
    def n_states(self) -> int:
        return self.likelihood.shape[0]

    @property
    def n_obs(self) -> int:
        return self.likelihood.shape[1]

    @property
    def stop_cost_matrix(self) -> np.ndarray | None:
        """``c`` (X, A) when ``C_s(pi) = min_a c_a' pi``, else ``None``."""
        return self._stop.matrix

    def check_beliefs(self, beliefs: np.ndarray) -> np.ndarray:
        """Validate beliefs (n, X) or (X,) on the simplex; returns (n, X)."""
        from .grid import _check_beliefs

        return _check_beliefs(beliefs, self.n_states)

    def stop_cost(self, beliefs: np.ndarray) -> np.ndarray:
        """``C_s(pi)`` for beliefs (n, X) -> (n,)."""
        return self._stop(self.check_beliefs(beliefs))

    def continue_cost(self, beliefs: np.ndarray) -> np.ndarray:
        """``d(pi)`` for beliefs (n, X) -> (n,)."""
        return self._cont(self.check_beliefs(beliefs))

    def predict(self, beliefs: np.ndarray) -> np.ndarray:
        """``P' pi`` for beliefs (n, X) -> (n, X) (the belief after the state moves)."""
        return np.asarray(beliefs, dtype=float) @ self.transition

    def observation_probs(self, beliefs: np.ndarray) -> np.ndarray:
        """``sigma(pi, y) = 1' B_y P' pi`` for beliefs (n, X) -> (n, Y)."""
        return self.predict(beliefs) @ self.likelihood

    def update(self, beliefs: np.ndarray, y: np.ndarray | int) -> np.ndarray:
        """Bayes' rule ``T_y pi = B_y P' pi / sigma(pi, y)`` (n, X); ``y`` is an int or (n,) ints.

        Beliefs for which ``y`` has probability zero are returned unchanged.
        """
        pi = np.atleast_2d(np.asarray(beliefs, dtype=float))
        y = np.broadcast_to(np.asarray(y), (pi.shape[0],))
        un = self.predict(pi) * self.likelihood[:, y].T
        s = un.sum(axis=1, keepdims=True)
        return np.where(s > 0, un / np.where(s > 0, s, 1.0), pi)

    def all_updates(self, beliefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(sigma, T)``: ``sigma`` (n, Y) and the updated beliefs ``T`` (n, Y, X)."""
        pred = self.predict(beliefs)
        un = pred[:, None, :] * self.likelihood.T[None, :, :]
        sig = un.sum(axis=2)
        T = un / np.where(sig > 0, sig, 1.0)[:, :, None]
        T = np.where(sig[:, :, None] > 0, T, np.asarray(beliefs, dtype=float)[:, None, :])
        return sig, T

    def __repr__(self) -> str:
        return (
            f"StoppingProblem(n_states={self.n_states}, n_obs={self.n_obs}, discount={self.discount}, "
            f"static={np.array_equal(self.transition, np.eye(self.n_states))})"
        )
