"""Input validation at the public boundary of :mod:`ribum`.

Every public function calls one of these helpers first, so that bad input gets a
``ValueError`` that names the problem instead of a traceback from inside numpy or
CVXPY, or silently wrong numbers.
"""
from __future__ import annotations

import numpy as np

from llmsl_core import STOCHASTIC_ATOL

#: Rows of a kernel must sum to one within this absolute tolerance.
ROW_SUM_ATOL = STOCHASTIC_ATOL  # one tolerance for every probability check in llmsl


def as_real_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)`` if it is real and numeric (bool, int, float), without copying; else one ValueError.

    Strings, objects (ragged lists, None, Decimal, ...) and dates are rejected
    rather than coerced: ``np.asarray(["1", "2"], float)`` would silently parse text.
    """
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if raw.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got a complex array (dtype {raw.dtype})")
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array, got dtype {raw.dtype}")
    return raw


def _as_float_array(x, name: str, ndim: int) -> np.ndarray:
    raw = as_real_array(x, name)
    arr = raw.astype(np.float64, copy=False)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or infinite values (first at index {tuple(int(i) for i in bad)})")
    return arr


def check_budget_data(prices, quantities, *, scale: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate budget data: prices (T, G) > 0 and quantities (T, G) >= 0.

    Each observation must spend a positive amount (a zero bundle at positive prices
    has no budget, so revealed preference from it is undefined). With ``scale``
    the data come back rescaled by :func:`scale_budget_data` (overflow-safe, same
    revealed-preference relations and ratios).
    """
    p = _as_float_array(prices, "prices", 2)
    x = _as_float_array(quantities, "quantities", 2)
    if p.shape != x.shape:
        raise ValueError(f"prices and quantities must have the same shape (T, G); got {p.shape} and {x.shape}")
    if np.any(p <= 0):
        t = int(np.argwhere(p <= 0)[0][0])
        raise ValueError(f"prices must be strictly positive (observation {t} has a price <= 0)")
    if np.any(x < 0):
        t = int(np.argwhere(x < 0)[0][0])
        raise ValueError(f"quantities must be non-negative (observation {t} has a negative quantity)")
    zero = ~np.any(x > 0, axis=1)
    if np.any(zero):
        raise ValueError(
            f"observation {int(np.flatnonzero(zero)[0])} has an all-zero bundle (zero expenditure); "
            "revealed preference is undefined for it"
        )
    if scale:
        p, x = scale_budget_data(p, x)
    return np.ascontiguousarray(p), np.ascontiguousarray(x)


def scale_budget_data(p: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rescale validated budget data by powers of two so that p_t . x_s cannot overflow.

    Each observation's prices are multiplied by 2^-k_t (k_t the binary exponent of
    max_g p_tg), and all bundles of one data set by one common power of two. Both
    leave every comparison e p_t . x_t >= p_t . x_s and every ratio
    E[t, s] / E[t, t] unchanged, and powers of two are exact in floating point, so
    results are bit for bit those of the unscaled data whenever these neither
    overflow nor underflow (data sets within [2^-400, 2^400] are returned as they
    are). Works on (T, G) data and on stacks (..., T, G) of data sets.

    Raises ValueError if an observation's expenditure underflows to zero after
    scaling (bundles spanning more than about 600 orders of magnitude).
    """
    lo, hi = 2.0**-400, 2.0**400
    axes = (-2, -1)
    xmax = x.max(axis=axes, keepdims=True)
    safe = ((p.min(axis=axes, keepdims=True) >= lo) & (p.max(axis=axes, keepdims=True) <= hi)
            & (np.min(x, axis=axes, keepdims=True, where=x > 0, initial=np.inf) >= lo) & (xmax <= hi))
    if np.all(safe):
        # Every product and sum stays a normal float: scaling would change no bit.
        return p, x
    # Data sets in the safe range are left as they are (decided per data set, so a
    # data set gives the same bits alone or in a stack).
    _, kp = np.frexp(p.max(axis=-1, keepdims=True))
    _, kx = np.frexp(xmax)
    ps = np.where(safe, p, np.ldexp(p, -kp))
    xs = np.where(safe, x, np.ldexp(x, -kx))
    d = np.einsum("...g,...g->...", ps, xs)
    if not np.all(d > 0):
        raise ValueError("quantities span too many orders of magnitude: an expenditure underflows to zero")
    return ps, xs


def check_efficiency(efficiency) -> float:
    try:
        e = float(efficiency)
    except (TypeError, ValueError):
        raise ValueError(f"efficiency must be a number in (0, 1], got {efficiency!r}") from None
    if not (0.0 < e <= 1.0):
        raise ValueError(f"efficiency must lie in (0, 1], got {e}")
    return e


def check_prior(prior, n_states: int) -> np.ndarray:
    """Validate a prior over ``n_states`` states (``None`` gives the uniform prior)."""
    if prior is None:
        return np.full(n_states, 1.0 / n_states)
    pi = _as_float_array(prior, "prior", 1)
    if pi.shape != (n_states,):
        raise ValueError(f"prior must have shape ({n_states},) to match the kernels' states, got {pi.shape}")
    if np.any(pi < 0):
        raise ValueError("prior has negative entries")
    if abs(pi.sum() - 1.0) > ROW_SUM_ATOL:
        raise ValueError(f"prior must sum to 1, sums to {pi.sum():.12g}")
    return pi / pi.sum()


def check_kernels(kernels, prior=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate action kernels (K, X, A), row-stochastic in the action, and the prior (X,)."""
    p = _as_float_array(kernels, "kernels", 3)
    K, X, A = p.shape
    if np.any(p < 0):
        k, x, a = (int(i) for i in np.argwhere(p < 0)[0])
        raise ValueError(f"kernels has a negative probability at environment {k}, state {x}, action {a}")
    sums = p.sum(axis=2)
    bad = np.abs(sums - 1.0) > ROW_SUM_ATOL
    if np.any(bad):
        k, x = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"kernels rows must sum to 1 over actions: environment {k}, state {x} sums to {sums[k, x]:.12g}"
        )
    pi = check_prior(prior, X)
    return p / sums[..., None], pi


def check_utilities(utilities, shape: tuple[int, int, int]) -> np.ndarray:
    r = _as_float_array(utilities, "utilities", 3)
    if r.shape != shape:
        raise ValueError(f"utilities must have shape (K, X, A) = {shape}, got {r.shape}")
    return r


def check_costs(costs, n_env: int) -> np.ndarray:
    c = _as_float_array(costs, "costs", 1)
    if c.shape != (n_env,):
        raise ValueError(f"costs must have shape ({n_env},), got {c.shape}")
    return c


def check_counts(counts) -> np.ndarray:
    """Validate action counts (K, X, A): non-negative integers, every (k, x) row non-empty."""
    c = _as_float_array(counts, "counts", 3)
    if np.any(c < 0):
        raise ValueError("counts must be non-negative")
    if np.any(c != np.round(c)):
        raise ValueError("counts must be integers")
    empty = c.sum(axis=2) == 0
    if np.any(empty):
        k, x = (int(i) for i in np.argwhere(empty)[0])
        raise ValueError(f"counts has no observations for environment {k}, state {x}")
    return c.astype(np.int64)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_callback(callback, name: str = "callback"):
    """``None`` or a callable (progress reports), else one ValueError naming the argument."""
    if callback is not None and not callable(callback):
        raise ValueError(f"{name} must be None or a callable f(i, n), got {type(callback).__name__}")
    return callback
