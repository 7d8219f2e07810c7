"""Boundary validation shared by the public functions of :mod:`sociallearn`.

Every public entry point converts its inputs here so that bad input fails with a
``ValueError`` that names the argument and the problem, never deep inside numpy.
"""
from __future__ import annotations

import numpy as np

from llmsl_core import STOCHASTIC_ATOL

#: Absolute tolerance on "sums to one" for user-supplied probability vectors/rows.
SIMPLEX_ATOL = STOCHASTIC_ATOL  # one tolerance for every probability check in llmsl


def as_finite_array(value, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array, checking dimensionality and finiteness."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def row_stochastic(value, name: str, shape: tuple[int | None, int | None] | None = None,
                   atol: float = SIMPLEX_ATOL) -> np.ndarray:
    """Validate a row-stochastic matrix (non-negative, rows summing to 1)."""
    arr = as_finite_array(value, name, ndim=2)
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape, strict=True)):
            if want is not None and want != got:
                raise ValueError(f"{name} must have shape {tuple('?' if s is None else s for s in shape)}, "
                                 f"got {arr.shape} (axis {axis} mismatch)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries (min {arr.min():.3g}); probabilities must be >= 0")
    sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        raise ValueError(f"rows of {name} must sum to 1; row {bad[0]} sums to {sums[bad[0]]:.10g}"
                         + (f" ({bad.size} bad rows)" if bad.size > 1 else ""))
    return arr / sums[:, None]


def simplex_points(value, name: str, n_states: int, atol: float = 1e-6) -> tuple[np.ndarray, bool]:
    """Validate one belief ``(X,)`` or a batch ``(n, X)``; return (2-D array, was_1d)."""
    arr = as_finite_array(value, name, ndim=(1, 2))
    single = arr.ndim == 1
    arr2 = arr[None, :] if single else arr
    if arr2.shape[1] != n_states:
        raise ValueError(f"{name} must have {n_states} entries per belief (one per state), got shape {arr.shape}")
    if np.any(arr2 < -atol):
        raise ValueError(f"{name} is off the probability simplex: negative entry {arr2.min():.3g}")
    sums = arr2.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        raise ValueError(f"{name} is off the probability simplex: entries sum to {sums[bad[0]]:.10g}, not 1")
    arr2 = np.clip(arr2, 0.0, None)
    return arr2 / arr2.sum(axis=1, keepdims=True), single





def positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
