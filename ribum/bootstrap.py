"""Sampling uncertainty of the RIBUM test: bootstrap of the max-margin LP.

LLM outputs are samples: p_k(a|x) is estimated from n_kx responses per state and
environment, so a pass or fail of the point estimate needs a statistical
statement (SPEC 1b).
"""
from __future__ import annotations

import numpy as np

from llmsl_core import check_n_jobs, check_random_state

from ._validation import check_callback, check_counts, check_positive_int, check_prior
from .inattention import TOL, RibumLP, SharedRibumLP, check_incentives, check_mode, check_tol, drop_zero_prior
from .results import BootstrapResult

__all__ = ["bootstrap_ribum"]


def bootstrap_ribum(counts, n_boot: int = 200, seed=None, prior=None, *, level: float = 0.95,
                    resample_exponent: float | None = 0.6, tol: float = TOL, incentives=None,
                    utilities: str = "per_environment", max_scale: float = 10.0,
                    callback=None, n_jobs: int | None = 1) -> BootstrapResult:
    """Bootstrap distribution of the RIBUM margin m* and a test of consistency.

    The point estimate is p_hat_k(a|x) = n_kxa / n_kx. Each resample draws, for
    every environment k and state x independently, n_kx responses from
    Multinomial(n_kx, p_hat_k(.|x)) (the nonparametric bootstrap of the
    responses), and re-solves the max-margin LP of :func:`ribum.check_ribum`
    (the stacked sparse matrix is filled from a pattern built once and solved by
    HiGHS or Clarabel directly, without recompiling: :meth:`ribum.inattention.RibumLP.solve_direct`).

    What is tested. The normalised LP always admits constant utilities with
    m = 0, so m* >= 0 for every kernel: "inconsistent" is the boundary m* = 0
    (no utilities separate the constraints), which cannot be the alternative of
    a test. The p-value is therefore that of

        H0: m* = 0 (the kernels are not strictly RIBUM-consistent)  against  H1: m* > 0,

    so a small p-value is significant evidence *for* consistency, and a large one
    says that sampling noise alone could produce the observed margin (noisy
    posteriors are always distinct, so m_hat > 0 even when m* = 0).

    At the boundary the ordinary bootstrap is inconsistent (Andrews 2000); the
    m-out-of-n bootstrap is not (Bickel, Goetze & van Zwet 1997). Each resample
    draws b_kx = floor(n_kx ** gamma) responses (gamma = ``resample_exponent``,
    default 0.6; ``None`` gives the ordinary n-out-of-n bootstrap), and with
    tau_n = sqrt(sum n_kx), tau_b = sqrt(sum b_kx) the law of
    tau_b (m*_b - m_hat) approximates that of tau_n (m_hat - m*). Hence

        p = (1 + #{b : tau_b (m*_b - m_hat) >= tau_n m_hat}) / (1 + n_boot),

    and the interval is [m_hat - q_{1-alpha/2} / tau_n, m_hat - q_{alpha/2} / tau_n]
    with q the quantiles of tau_b (m*_b - m_hat). ``pass_rate`` is the share of
    resamples with m*_b > tol. ``margins`` holds the resampled m*_b.

    Parameters
    ----------
    counts : (K, X, A) int array
        Number of responses choosing action a in state x of environment k.
    n_boot : int
        Number of resamples.
    seed : int, numpy.random.Generator or None
    prior : (X,) array or None
        pi0 (uniform by default: in an audit the experimenter picks the states).
    level : float
        Confidence level of ``ci``.
    resample_exponent : float in (0, 1] or None
        gamma of the m-out-of-n bootstrap (None: resample n_kx responses).
    tol : float >= 0
        Pass threshold for ``pass_rate``.
    incentives, utilities, max_scale
        The test to bootstrap, as in :func:`ribum.check_ribum` (default: the
        per-environment test; ``utilities="shared"`` with known incentives
        bootstraps the shared-utility test).
    callback : callable or None
        Called as ``callback(i, n_boot)`` after resample ``i`` (1-based), for
        progress bars: each resample solves one LP, which takes seconds from
        about 30 environments on.
    n_jobs : int or None
        Threads that solve resamples side by side (:meth:`ribum.inattention.RibumLP.solve_many`;
        None: the available cores, at most 8). The result does not depend on it.

    States with prior 0 are dropped (``notes`` says so). Margins are never
    negative (m* >= 0 exactly), and the interval is intersected with [0, inf).

    Returns
    -------
    BootstrapResult

    Example
    -------
    >>> counts = [[[45, 5], [8, 42]], [[30, 20], [18, 32]]]
    >>> res = bootstrap_ribum(counts, n_boot=20, seed=0)
    >>> res.margin > 0 and res.margins.shape == (20,)
    True
    """
    c = check_counts(counts)
    n_boot = check_positive_int(n_boot, "n_boot")
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must lie in (0, 1), got {level}")
    rng = check_random_state(seed)
    callback = check_callback(callback)
    n_jobs = check_n_jobs(n_jobs)
    tol = check_tol(tol)
    mode, max_scale = check_mode(utilities, incentives, max_scale)
    K, X, A = c.shape
    pi = check_prior(prior, X)
    delta = check_incentives(incentives, c.shape) if mode == "shared" else None
    _, c, pi, *rest, notes = drop_zero_prior(c, pi, *((delta,) if delta is not None else ()))
    X = pi.size
    n = c.sum(axis=2)
    p_hat = c / n[..., None]
    if resample_exponent is None:
        b_size = n
    else:
        if not (0.0 < float(resample_exponent) <= 1.0):
            raise ValueError(f"resample_exponent must lie in (0, 1] or be None, got {resample_exponent}")
        b_size = np.maximum(1, np.floor(n ** float(resample_exponent))).astype(np.int64)
    tau_n = np.sqrt(n.sum())
    tau_b = np.sqrt(b_size.sum())
    lp = SharedRibumLP(K, X, A, rest[0], max_scale=max_scale) if mode == "shared" else RibumLP(K, X, A)
    m_hat, *_, method = lp.solve_direct(p_hat, pi)
    # solve_direct falls back to another solver or method on a degenerate
    # resample; count the fallbacks so that the result says how it was solved.
    n_fallback = int(bool(lp.attempts))
    draws = [rng.multinomial(b_size, p_hat) / b_size[..., None] for _ in range(n_boot)]
    margins, fell = lp.solve_many(draws, pi, n_jobs=n_jobs, callback=callback)
    n_fallback += fell
    stat = tau_b * (margins - m_hat)
    pvalue = (1 + np.count_nonzero(stat >= tau_n * m_hat)) / (1 + n_boot)
    alpha = 1.0 - level
    q_lo, q_hi = np.quantile(stat, [alpha / 2, 1 - alpha / 2])
    # m* >= 0, so the interval is intersected with [0, inf) (+ 0.0 also turns -0.0 into 0.0).
    ci = np.maximum(np.array([m_hat - q_hi / tau_n, m_hat - q_lo / tau_n]), 0.0) + 0.0
    return BootstrapResult(
        margin=float(m_hat),
        margins=margins,
        pvalue=float(pvalue),
        ci=ci,
        level=level,
        pass_rate=float(np.mean(margins > tol)),
        n_boot=n_boot,
        seed=seed if isinstance(seed, (int, type(None))) else None,
        resample_exponent=resample_exponent,
        solver=method + (f"; {n_fallback} of {n_boot + 1} solves fell back to another method" if n_fallback else ""),
        utilities_mode=mode,
        notes=notes,
    )
