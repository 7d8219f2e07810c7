"""Estimating the sensor likelihood B from labelled LLM outputs.

Given items with known state ``x`` and the label ``y`` an LLM gave each, the
confusion counts ``N[x, y]`` and a symmetric Dirichlet prior with pseudo-count
``alpha0`` (``prior_strength``) per cell give, row by row, the posterior

    B[x, .] | data ~ Dirichlet(N[x, .] + alpha0),

whose mean ``(N[x, y] + alpha0) / (n_x + Y alpha0)`` is the additively smoothed
estimate (Laplace smoothing for ``alpha0 = 1``). Each entry's marginal is
``Beta(N[x, y] + alpha0, n_x + Y alpha0 - N[x, y] - alpha0)``, which gives exact
equal-tailed credible intervals; joint posterior samples of B propagate the
uncertainty to anything computed from B, such as the cascade thresholds
(:func:`threshold_intervals`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmsl_core import check_random_state

from ._validation import as_finite_array, positive_int

__all__ = [
    "estimate_likelihood",
    "LikelihoodEstimate",
    "likelihood_intervals",
    "posterior_samples",
    "threshold_intervals",
    "ThresholdIntervals",
]


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    return level


@dataclass
class LikelihoodEstimate:
    """Dirichlet posterior of a likelihood matrix (rows independent).

    Attributes
    ----------
    counts : ndarray (X, Y)
        Confusion counts ``N[x, y]`` (may be fractional, e.g. expected counts).
    prior_strength : float
        Pseudo-count ``alpha0`` added to every cell.
    alpha : ndarray (X, Y)
        Posterior Dirichlet parameters ``N + alpha0``.
    mean : ndarray (X, Y)
        Posterior mean: the smoothed, row-stochastic estimate of B.
    n_per_state : ndarray (X,)
        Items per state ``n_x``.
    """

    counts: np.ndarray
    prior_strength: float

    def __post_init__(self):
        self.alpha = self.counts + self.prior_strength
        if np.any(self.alpha.sum(axis=1) <= 0):
            empty = int(np.flatnonzero(self.alpha.sum(axis=1) <= 0)[0])
            raise ValueError(f"state {empty} has no observations and prior_strength = 0: its row of B is undefined")
        self.mean = self.alpha / self.alpha.sum(axis=1, keepdims=True)
        self.n_per_state = self.counts.sum(axis=1)

    @classmethod
    def from_counts(cls, counts, prior_strength: float = 1.0) -> LikelihoodEstimate:
        """Posterior from a confusion-count matrix (X, Y)."""
        N = as_finite_array(counts, "counts", ndim=2)
        if np.any(N < 0):
            raise ValueError("counts must be non-negative")
        ps = float(prior_strength)
        if not np.isfinite(ps) or ps < 0:
            raise ValueError(f"prior_strength must be a finite number >= 0, got {prior_strength}")
        return cls(N, ps)

    @property
    def n_states(self) -> int:
        return self.counts.shape[0]

    @property
    def n_obs(self) -> int:
        return self.counts.shape[1]

    @property
    def mle(self) -> np.ndarray:
        """Unsmoothed frequencies ``N[x, y] / n_x`` (NaN rows for unobserved states)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts / self.n_per_state[:, None]

    def intervals(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Equal-tailed credible intervals of every entry from its Beta marginal."""
        from scipy.stats import beta

        level = _check_level(level)
        a = self.alpha
        b = a.sum(axis=1, keepdims=True) - a
        q = (1 - level) / 2
        with np.errstate(all="ignore"):
            lo = np.where(a > 0, beta.ppf(q, a, np.maximum(b, 1e-300)), 0.0)
            hi = np.where(a > 0, beta.ppf(1 - q, a, np.maximum(b, 1e-300)), 0.0)
        lo = np.where(b <= 0, 1.0, lo)  # a row with a single possible label is certain
        hi = np.where(b <= 0, 1.0, hi)
        return lo, hi

    def sample(self, n_samples: int, seed=None) -> np.ndarray:
        """Posterior samples of B, shape (n_samples, X, Y), rows summing to 1."""
        n_samples = positive_int(n_samples, "n_samples")
        rng = check_random_state(seed)
        g = rng.standard_gamma(self.alpha, size=(n_samples,) + self.alpha.shape)
        s = g.sum(axis=2, keepdims=True)
        # a tiny alpha can underflow every gamma draw of a row; fall back to the mean row
        bad = s[..., 0] <= 0
        out = g / np.where(s > 0, s, 1.0)
        if bad.any():
            out[bad] = np.broadcast_to(self.mean, out.shape)[bad]
        return out

    def to_dict(self, level: float = 0.95) -> dict:
        lo, hi = self.intervals(level)
        return {"counts": self.counts.tolist(), "prior_strength": self.prior_strength,
                "mean": self.mean.tolist(), "level": level, "lower": lo.tolist(), "upper": hi.tolist(),
                "n_per_state": self.n_per_state.tolist()}

    def summary(self, level: float = 0.95) -> str:
        lo, hi = self.intervals(level)
        lines = ["Likelihood estimate (Dirichlet posterior)", "=" * 60,
                 f"states X = {self.n_states}, observations Y = {self.n_obs}, pseudo-count {self.prior_strength:g}",
                 f"entries: posterior mean [{100 * level:g}% credible interval]"]
        for x in range(self.n_states):
            cells = "  ".join(f"{self.mean[x, y]:.3f} [{lo[x, y]:.3f}, {hi[x, y]:.3f}]" for y in range(self.n_obs))
            lines.append(f"x={x} (n={self.n_per_state[x]:g}): {cells}")
        return "\n".join(lines)


def estimate_likelihood(states, observations, n_states: int, n_obs: int,
                        prior_strength: float = 1.0) -> LikelihoodEstimate:
    r"""Dirichlet-smoothed confusion matrix ``B[x, y] = P(y | x)`` with its posterior.

    ``N[x, y] = #{i : states[i] = x, observations[i] = y}`` and, per row,
    ``B[x, .] ~ Dirichlet(N[x, .] + prior_strength)``; the estimate is the
    posterior mean ``(N[x, y] + prior_strength) / (n_x + Y prior_strength)``.

    Parameters
    ----------
    states, observations : array_like of int, shape (n,)
        True state and observed label of each item.
    n_states, n_obs : int
        X and Y (labels may be absent from the data).
    prior_strength : float
        Pseudo-count per cell (1: Laplace smoothing; 0.5: Jeffreys; 0: none).

    Returns
    -------
    LikelihoodEstimate
        ``.mean`` (the estimate), ``.intervals(level)``, ``.sample(n, seed)``.

    Examples
    --------
    >>> est = estimate_likelihood([0, 0, 0, 1, 1], [0, 0, 1, 1, 1], 2, 2)
    >>> est.mean
    array([[0.6 , 0.4 ],
           [0.25, 0.75]])
    """
    X = positive_int(n_states, "n_states")
    Y = positive_int(n_obs, "n_obs")
    s = np.asarray(states)
    o = np.asarray(observations)
    for name, arr in (("states", s), ("observations", o)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of integer labels, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    if s.shape != o.shape:
        raise ValueError(f"states and observations must have the same length, got {s.size} and {o.size}")
    if s.size and (s.min() < 0 or s.max() >= X):
        raise ValueError(f"states must lie in 0..{X - 1}")
    if o.size and (o.min() < 0 or o.max() >= Y):
        raise ValueError(f"observations must lie in 0..{Y - 1}")
    counts = np.bincount(s.astype(np.int64) * Y + o.astype(np.int64), minlength=X * Y).reshape(X, Y)
    return LikelihoodEstimate.from_counts(counts.astype(np.float64), prior_strength)


def likelihood_intervals(estimate: LikelihoodEstimate, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed credible intervals (lower, upper), each (X, Y), of every ``B[x, y]``.

    >>> lo, hi = likelihood_intervals(estimate_likelihood([0] * 50 + [1] * 50, [0] * 40 + [1] * 10 + [1] * 50, 2, 2))
    >>> bool(lo[0, 0] < 41 / 52 < hi[0, 0])
    True
    """
    if not isinstance(estimate, LikelihoodEstimate):
        raise ValueError("estimate must be a LikelihoodEstimate (from estimate_likelihood)")
    return estimate.intervals(level)


def posterior_samples(estimate: LikelihoodEstimate, n_samples: int, seed=None) -> np.ndarray:
    """Posterior samples of B, shape (n_samples, X, Y) (see :meth:`LikelihoodEstimate.sample`).

    Rows are independent draws ``B[x, .] ~ Dirichlet(N[x, .] + alpha0)``, so every
    sample is row-stochastic and the sample mean tends to ``estimate.mean``.

    Parameters
    ----------
    estimate : LikelihoodEstimate
        From :func:`estimate_likelihood` (``X`` states, ``Y`` observations).
    n_samples : int
    seed : int, Generator or None

    Returns
    -------
    ndarray, shape (n_samples, X, Y)

    Examples
    --------
    >>> est = estimate_likelihood([0, 0, 0, 1, 1], [0, 0, 1, 1, 1], 2, 2)
    >>> S = posterior_samples(est, 2000, seed=0)
    >>> S.shape, bool(np.allclose(S.sum(axis=2), 1.0))
    ((2000, 2, 2), True)
    >>> bool(np.abs(S.mean(axis=0) - est.mean).max() < 0.02)
    True
    """
    if not isinstance(estimate, LikelihoodEstimate):
        raise ValueError("estimate must be a LikelihoodEstimate (from estimate_likelihood)")
    return estimate.sample(n_samples, seed)


@dataclass
class ThresholdIntervals:
    """Cascade thresholds (X = 2) with posterior credible intervals.

    Attributes
    ----------
    thresholds : ndarray (k,)
        Herding thresholds in ``pi(0)`` of the model built on the posterior-mean B.
    lower, upper : ndarray (k,)
        Credible interval of each threshold over the posterior samples that have
        the same number of thresholds (NaN when none do).
    structure_agreement : float
        Share of posterior samples whose cascade set has that same number of
        thresholds (a low value means the shape of the cascade set is uncertain).
    samples : list of ndarray
        Thresholds of each posterior sample.
    level : float
    """

    thresholds: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    structure_agreement: float
    samples: list
    level: float

    def to_dict(self) -> dict:
        return {"thresholds": self.thresholds.tolist(), "lower": self.lower.tolist(), "upper": self.upper.tolist(),
                "structure_agreement": self.structure_agreement, "level": self.level,
                "n_samples": len(self.samples)}

    def summary(self) -> str:
        lines = [f"Herding thresholds in pi(0) with {100 * self.level:g}% credible intervals "
                 f"({100 * self.structure_agreement:.1f}% of posterior samples share the structure)"]
        lines += [f"  {t:.4f} [{lo:.4f}, {hi:.4f}]"
                  for t, lo, hi in zip(self.thresholds, self.lower, self.upper, strict=True)]
        return "\n".join(lines)


def threshold_intervals(estimate: LikelihoodEstimate, cost=None, *, utility=None, tie_rule: str = "uniform",
                        transition=None, n_samples: int = 500, level: float = 0.95, seed=None) -> ThresholdIntervals:
    r"""Herding thresholds of a binary-state model with intervals from the posterior of B.

    For every posterior sample ``B^(s)`` the exact cascade set of
    ``SocialLearningModel(B^(s), cost, ...)`` is computed
    (:func:`~sociallearn.cascade_region`); the thresholds of samples with the
    same number of end points as the posterior-mean model give equal-tailed
    intervals.

    >>> est = estimate_likelihood([0] * 40 + [1] * 40, [0] * 30 + [1] * 10 + [0] * 8 + [1] * 32, 2, 2)
    >>> ti = threshold_intervals(est, 1 - np.eye(2), n_samples=200, seed=0)
    >>> bool(ti.lower[0] <= ti.thresholds[0] <= ti.upper[0])
    True
    """
    from .cascades import cascade_region
    from .model import SocialLearningModel

    if not isinstance(estimate, LikelihoodEstimate):
        raise ValueError("estimate must be a LikelihoodEstimate (from estimate_likelihood)")
    if estimate.n_states != 2:
        raise ValueError(f"threshold_intervals needs X = 2 states, got {estimate.n_states}; "
                         "for X > 2 use cascade_region on posterior samples")
    level = _check_level(level)
    kw = dict(cost=cost, utility=utility, tie_rule=tie_rule, transition=transition)

    def thresholds(B: np.ndarray) -> np.ndarray:
        t = cascade_region(SocialLearningModel(B, **kw)).thresholds
        assert t is not None  # X = 2: cascade_region gives intervals and thresholds
        return t

    point = thresholds(estimate.mean)
    samples = [thresholds(B) for B in estimate.sample(n_samples, seed)]
    same = [t for t in samples if t.size == point.size]
    q = (1 - level) / 2
    if same and point.size:
        arr = np.array(same)
        lo, hi = np.quantile(arr, q, axis=0), np.quantile(arr, 1 - q, axis=0)
    else:
        lo = hi = np.full(point.size, np.nan)
    return ThresholdIntervals(point, lo, hi, len(same) / len(samples), samples, level)
