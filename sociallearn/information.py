"""How informative is a sensor (an LLM's labels or actions) about the state?

SPEC section 4 requires every audit and herding report to state it, so that a
weak model is reported as *uninformative*, not as irrational. Definitions, for a
state distribution ``p(x)`` and a likelihood ``B[x, y] = P(y | x)`` (``y`` an
observation or an action), joint ``J[x, y] = p(x) B[x, y]``, marginal
``q(y) = sum_x J[x, y]``:

* mutual information, in bits:
  ``I(X; Y) = sum_{x,y} J[x, y] log2(J[x, y] / (p(x) q(y)))``, between 0 (B has
  identical rows) and ``H(X)``; ``relative_mi = I / H(X)``;
* total-variation distance from rank one:
  ``tv = max_{x : p(x) > 0} (1/2) sum_y |B[x, y] - q(y)|`` -- how far the most
  distinctive state's row is from the prior-weighted mean row ``q`` (0 iff B is
  rank one on the support of p, i.e. the sensor ignores the state);
* ``second_singular_value`` of B (0 iff B has rank one);
* ``maximal_correlation``: the second singular value of
  ``J[x, y] / sqrt(p(x) q(y))`` (the Hirschfeld-Gebelein-Renyi maximal
  correlation, in [0, 1], invariant to relabelling and to the scale of B).

From counts, each row of B has the Dirichlet posterior
``Dirichlet(N[x, .] + prior_strength)`` (as in :func:`estimate_likelihood`) and
every measure gets an equal-tailed credible interval from posterior samples;
``p_value`` is the likelihood-ratio (G) test of independence of state and label.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmsl_core import check_random_state, mutual_information

from ._validation import as_finite_array, positive_int
from .estimation import LikelihoodEstimate

__all__ = ["informativeness", "Informativeness", "mutual_information", "rank_one_distance"]

_MEASURES = ("mi_bits", "relative_mi", "tv_from_rank_one", "second_singular_value", "maximal_correlation")


def _measures(B: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """All measures for likelihoods B (..., X, Y) under state distribution p (X,)."""
    J = p[:, None] * B
    q = J.sum(axis=-2)  # (..., Y)
    denom = p[:, None] * q[..., None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(J > 0, J * np.log2(np.where(J > 0, J, 1.0) / np.where(denom > 0, denom, 1.0)), 0.0)
    mi = np.maximum(terms.sum(axis=(-2, -1)), 0.0)
    hx = float(-np.sum(p[p > 0] * np.log2(p[p > 0])))
    support = p > 0
    tv = 0.5 * np.abs(B - q[..., None, :]).sum(axis=-1)
    tv = np.where(support, tv, 0.0).max(axis=-1)
    if min(B.shape[-2:]) >= 2:
        sv = np.linalg.svd(B, compute_uv=False)[..., 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            Q = np.where(denom > 0, J / np.sqrt(np.where(denom > 0, denom, 1.0)), 0.0)
        mc = np.clip(np.linalg.svd(Q, compute_uv=False)[..., 1], 0.0, 1.0)
    else:
        sv = np.zeros(B.shape[:-2])
        mc = np.zeros(B.shape[:-2])
    rel = mi / hx if hx > 0 else np.zeros_like(mi)
    return {"mi_bits": mi, "relative_mi": rel, "tv_from_rank_one": tv,
            "second_singular_value": sv, "maximal_correlation": mc}


def _state_dist(prior, X: int) -> np.ndarray:
    p = as_finite_array(prior, "prior", ndim=1)
    if p.shape[0] != X:
        raise ValueError(f"prior must have {X} entries (one per state), got {p.shape[0]}")
    if np.any(p < 0) or abs(p.sum() - 1) > 1e-8:
        raise ValueError("prior is off the probability simplex (negative entries or sum != 1)")
    return p / p.sum()


def rank_one_distance(likelihood, prior) -> dict[str, float]:
    r"""Distances of B from rank one: ``tv_from_rank_one``, ``second_singular_value``,
    ``maximal_correlation`` (definitions in the module docstring).

    >>> d = rank_one_distance([[0.9, 0.1], [0.2, 0.8]], [0.5, 0.5])
    >>> round(d["tv_from_rank_one"], 6)
    0.35
    """
    from ._validation import row_stochastic

    B = row_stochastic(likelihood, "likelihood")
    m = _measures(B, _state_dist(prior, B.shape[0]))
    return {k: float(m[k]) for k in ("tv_from_rank_one", "second_singular_value", "maximal_correlation")}


@dataclass
class Informativeness:
    """Informativeness of a sensor about the state (see the module docstring).

    Attributes
    ----------
    estimate : dict
        Each measure at the posterior-mean likelihood.
    plugin : dict
        Each measure at the raw frequencies (NaN when a state has no data).
    intervals : dict of (float, float)
        Equal-tailed credible interval of each measure (NaN without samples).
    posterior_mean : dict
        Posterior mean of each measure.
    p_value : float
        G-test of independence of state and label (NaN when undefined).
    entropy_bits : float
        ``H(X)`` of the state distribution used.
    state_probs : ndarray (X,)
    counts : ndarray (X, Y)
    level : float
    n_samples : int
    """

    estimate: dict
    plugin: dict
    intervals: dict
    posterior_mean: dict
    p_value: float
    entropy_bits: float
    state_probs: np.ndarray
    counts: np.ndarray
    level: float
    n_samples: int
    prior_strength: float

    @property
    def mi_bits(self) -> float:
        return float(self.estimate["mi_bits"])

    def is_informative(self, alpha: float = 0.05) -> bool:
        """Whether the independence test rejects at level ``alpha``."""
        return bool(np.isfinite(self.p_value) and self.p_value < alpha)

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "plugin": self.plugin,
                "intervals": {k: list(v) for k, v in self.intervals.items()},
                "posterior_mean": self.posterior_mean, "p_value": self.p_value,
                "entropy_bits": self.entropy_bits, "state_probs": self.state_probs.tolist(),
                "counts": self.counts.tolist(), "level": self.level, "n_samples": self.n_samples,
                "prior_strength": self.prior_strength, "informative_at_5pct": self.is_informative()}

    def summary(self) -> str:
        lines = ["Sensor informativeness", "=" * 72,
                 f"states X = {self.counts.shape[0]}, labels Y = {self.counts.shape[1]}, "
                 f"n = {self.counts.sum():g}, H(X) = {self.entropy_bits:.4f} bits",
                 f"{'measure':<24}{'estimate':>10}{'plug-in':>10}   {100 * self.level:g}% credible interval"]
        for k in _MEASURES:
            lo, hi = self.intervals[k]
            lines.append(f"{k:<24}{self.estimate[k]:>10.4f}{self.plugin[k]:>10.4f}   [{lo:.4f}, {hi:.4f}]")
        verdict = ("the labels carry information about the state" if self.is_informative()
                   else "no evidence that the labels depend on the state: the sensor is UNINFORMATIVE")
        lines.append(f"G-test of independence: p = {self.p_value:.4g} -> {verdict}")
        return "\n".join(lines)


def informativeness(counts, n_samples: int = 2000, seed=None, *, prior=None, prior_strength: float = 1.0,
                    level: float = 0.95) -> Informativeness:
    r"""Mutual information and distance from rank one of a sensor, with credible intervals.

    Parameters
    ----------
    counts : array_like (X, Y) or LikelihoodEstimate
        Contingency counts ``N[x, y]`` of state x and observation/action y
        (non-negative; fractional expected counts are accepted).
    n_samples : int
        Posterior samples for the intervals (0: point values only).
    seed : None, int or Generator
    prior : array_like (X,), optional
        State distribution ``p(x)``; by default the empirical one, ``n_x / n``.
    prior_strength : float
        Dirichlet pseudo-count per cell (ignored when ``counts`` is an estimate).
    level : float
        Credible level.

    Returns
    -------
    Informativeness

    Examples
    --------
    An LLM that says "yes" 10% of the time whatever the text:

    >>> info = informativeness([[90, 10], [91, 9]], seed=0)
    >>> info.is_informative(), info.estimate["mi_bits"] < 0.01
    (False, True)
    """
    est = counts if isinstance(counts, LikelihoodEstimate) else LikelihoodEstimate.from_counts(counts, prior_strength)
    N = est.counts
    X, Y = N.shape
    n_samples = positive_int(n_samples, "n_samples", minimum=0)
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if prior is None:
        tot = N.sum()
        if tot <= 0:
            raise ValueError("counts are all zero; give prior= for the state distribution")
        p = N.sum(axis=1) / tot
    else:
        p = _state_dist(prior, X)
    point = {k: float(v) for k, v in _measures(est.mean, p).items()}
    if np.any(N.sum(axis=1)[p > 0] <= 0):
        plugin = {k: float("nan") for k in _MEASURES}
    else:
        freq = np.where(N.sum(axis=1, keepdims=True) > 0, N / np.maximum(N.sum(axis=1, keepdims=True), 1e-300),
                        1.0 / Y)
        plugin = {k: float(v) for k, v in _measures(freq, p).items()}
    if n_samples:
        samples = _measures(est.sample(n_samples, check_random_state(seed)), p)
        q = (1 - level) / 2
        intervals = {k: (float(np.quantile(v, q)), float(np.quantile(v, 1 - q))) for k, v in samples.items()}
        post_mean = {k: float(v.mean()) for k, v in samples.items()}
    else:
        intervals = {k: (float("nan"), float("nan")) for k in _MEASURES}
        post_mean = {k: float("nan") for k in _MEASURES}
    rows, cols = N.sum(axis=1) > 0, N.sum(axis=0) > 0
    if rows.sum() >= 2 and cols.sum() >= 2:
        from scipy.stats import chi2_contingency

        p_value = float(chi2_contingency(N[rows][:, cols], correction=False, lambda_="log-likelihood").pvalue)
    elif rows.sum() >= 2 and cols.sum() == 1:
        p_value = 1.0  # every item got the same label: nothing depends on the state
    else:
        p_value = float("nan")
    hx = float(-np.sum(p[p > 0] * np.log2(p[p > 0])))
    return Informativeness(point, plugin, intervals, post_mean, p_value, hx, p, N, level, n_samples,
                           est.prior_strength)
