"""Mutual information of a channel: the one definition every package uses."""
from __future__ import annotations

from typing import Any

import numpy as np

from .checks import STOCHASTIC_ATOL

__all__ = ["mutual_information"]


def mutual_information(kernel: Any, prior: Any, *, base: float = 2.0) -> Any:
    r"""Mutual information ``I(X; A)`` of the channel ``p(a | x)`` under the prior ``pi(x)``.

    .. math:: I = \sum_{x,a} \pi(x) p(a|x) \log \frac{p(a|x)}{q(a)}, \qquad q(a) = \sum_x \pi(x) p(a|x),

    in bits by default (``base=np.e`` for nats).

    Parameters
    ----------
    kernel : array (X, A), or a stack (..., X, A) of kernels (a likelihood ``B[x, y]`` is one)
    prior : array (X,)

    Returns
    -------
    float for one kernel, an array of shape (...) for a stack; never negative.

    >>> mutual_information([[1, 0], [0, 1]], [0.5, 0.5])
    1.0
    >>> mutual_information([[0.3, 0.7], [0.3, 0.7]], [0.5, 0.5])
    0.0
    >>> mutual_information([[[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]]], [0.5, 0.5]).tolist()
    [1.0, 0.0]
    """
    p = np.asarray(kernel, dtype=float)
    pi = np.asarray(prior, dtype=float)
    if p.ndim < 2:
        raise ValueError(f"kernel must have shape (X, A) or (..., X, A), got {p.shape}")
    if pi.shape != (p.shape[-2],):
        raise ValueError(f"prior must have {p.shape[-2]} entries (one per state), got shape {pi.shape}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(pi))) or np.any(p < 0) or np.any(pi < 0):
        raise ValueError("kernel and prior must be finite and non-negative")
    if np.any(np.abs(p.sum(axis=-1) - 1) > STOCHASTIC_ATOL) or abs(pi.sum() - 1) > STOCHASTIC_ATOL:
        raise ValueError("kernel rows and prior must each sum to 1")
    if not base > 1:
        raise ValueError(f"base must be > 1, got {base!r}")
    joint = pi[:, None] * p
    q = joint.sum(axis=-2, keepdims=True)
    pos = joint > 0
    denom = pi[:, None] * q
    ratio = np.divide(joint, denom, out=np.ones_like(joint), where=pos & (denom > 0))
    mi = np.where(pos, joint * np.log(ratio), 0.0).sum(axis=(-2, -1)) / np.log(base)
    mi = np.maximum(mi, 0.0) + 0.0
    return float(mi) if mi.ndim == 0 else mi
