"""Validation helpers shared by the numerical packages (one per concept)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["check_random_state", "check_stochastic", "check_n_jobs", "STOCHASTIC_ATOL"]

#: how far a row of a stochastic matrix may sum from 1 (absolute), everywhere in llmsl
STOCHASTIC_ATOL = 1e-8


def check_random_state(seed: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``seed``.

    ``seed`` may be ``None`` (fresh entropy), an int >= 0, a sequence of ints, a
    ``SeedSequence`` or a ``Generator`` (returned as is, so a caller can thread
    one stream through several calls).  Anything else is a ``ValueError`` naming
    the argument.

    >>> bool(check_random_state(0).integers(10) == check_random_state(0).integers(10))
    True
    >>> g = np.random.default_rng(1); check_random_state(g) is g
    True
    >>> check_random_state("x")
    Traceback (most recent call last):
    ...
    ValueError: seed must be None, a non-negative int, a sequence of them, a SeedSequence or a numpy Generator, got 'x'
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if not isinstance(seed, (bool, np.bool_, float, str, bytes, complex)):
        try:
            return np.random.default_rng(seed)
        except (TypeError, ValueError):
            pass
    raise ValueError("seed must be None, a non-negative int, a sequence of them, a SeedSequence or a numpy "
                     f"Generator, got {seed!r}")


def check_n_jobs(n_jobs: Any, name: str = "n_jobs") -> int:
    """Worker threads: a positive int, or ``None`` for the available cores (at most 8).

    >>> check_n_jobs(2), check_n_jobs(None) >= 1
    (2, True)
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be a positive int or None, got 0
    """
    if n_jobs is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        return max(1, min(8, cores))
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"{name} must be a positive int or None, got {n_jobs!r}")
    return int(n_jobs)


def check_stochastic(value: Any, name: str, *, ndim: int = 2, atol: float = STOCHASTIC_ATOL) -> np.ndarray:
    """Validate an array whose last axis holds probability distributions.

    ``ndim`` = 2 for a matrix ``B[x, y]`` (rows over ``y``), 3 for a stack of
    kernels ``p_k(a | x)``.  Entries must be finite, real and non-negative, and
    every row must sum to 1 within ``atol``; the rows are then renormalized
    exactly.  Raises ``ValueError`` naming ``name`` and the first bad row.

    >>> check_stochastic([[0.25, 0.75], [1, 0]], "B").tolist()
    [[0.25, 0.75], [1.0, 0.0]]
    >>> check_stochastic([[0.5, 0.6]], "B")
    Traceback (most recent call last):
    ...
    ValueError: B is not row-stochastic: row (0,) sums to 1.1, not 1
    """
    arr = np.asarray(value)
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got complex values")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got an array of {arr.dtype}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if arr.size == 0 or 0 in arr.shape:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(arr < 0):
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} has a negative probability at {idx}; it must be row-stochastic")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > atol
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} is not row-stochastic: row {idx} sums to {sums[idx]:.10g}, not 1")
    return arr / sums[..., None]
