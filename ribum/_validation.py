"""Input validation at the public boundary of :mod:`ribum`.

Every public function calls one of these helpers first, so that bad input gets a
``ValueError`` that names the problem instead of a traceback from inside numpy or
CVXPY, or silently wrong numbers.
"""
from __future__ import annotations

import numpy as np

#: Rows of a kernel must sum to one within this absolute tolerance.
ROW_SUM_ATOL = 1e-8


def _as_float_array(x, name: str, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or infinite values (first at index {tuple(int(i) for i in bad)})")
    return arr


def check_budget_data(prices, quantities) -> tuple[np.ndarray, np.ndarray]:
    """Validate budget data: prices (T, G) > 0 and quantities (T, G) >= 0.

    Each observation must spend a positive amount (a zero bundle at positive prices
    has no budget, so revealed preference from it is undefined).
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
    return np.ascontiguousarray(p), np.ascontiguousarray(x)


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


def check_rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.default_rng(seed)
    raise ValueError(f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}")
