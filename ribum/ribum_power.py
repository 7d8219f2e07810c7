"""Power of the RIBUM test: how often random behaviour of the same shape fails it (SPEC 1c).

A RIBUM verdict alone says little: with a free utility per environment almost
every kernel passes (SPEC 1c), so a "consistent" verdict that random behaviour
also earns carries no information. The power is the analogue of Bronars' power
for budget data (:func:`ribum.bronars_power`): the probability that kernels of
the same shape (K, X, A), drawn under a stated null with the same prior (and,
for the shared test, the same incentives), *fail* the same test.
"""
from __future__ import annotations

import numpy as np

from llmsl_core import check_n_jobs, check_random_state, mutual_information

from ._validation import check_callback, check_kernels, check_positive_int
from .inattention import (
    TOL,
    RibumLP,
    SharedRibumLP,
    certified_pass,
    check_incentives,
    check_mode,
    check_tol,
    drop_zero_prior,
)
from .results import RibumPowerResult

__all__ = ["ribum_power", "matched_kernel"]

#: Bisection steps for the mixing weight of the matched null (2^-60: exact to double precision).
_BISECT_STEPS = 60
#: Redraws (with the Dirichlet concentration halved each time) before a matched draw gives up.
_MAX_REDRAWS = 40


def matched_kernel(rng: np.random.Generator, prior: np.ndarray, n_actions: int,
                   target: float) -> tuple[np.ndarray, bool]:
    r"""One random (X, A) kernel whose mutual information equals ``target`` (bits).

    Construction (the "matched" null of :func:`ribum_power`): draw Q with
    Dirichlet(alpha) rows (alpha = 1 first), let q(a) = sum_x pi0(x) Q(x, a) be
    its marginal and mix Q with the rank-one, uninformative kernel 1 q^T:

    .. math:: P_t = t Q + (1 - t) 1 q^\top, \qquad t \in [0, 1].

    Every P_t has the marginal q, and t -> I(P_t) is convex (mutual information
    is convex in the channel) with I(P_0) = 0, hence non-decreasing; t is found
    by bisection. If even I(Q) < target (mixing only removes information), Q is
    redrawn with alpha halved (sparser, more informative rows), up to
    ``_MAX_REDRAWS`` times; then the most informative draw is used and the
    second return value is False.

    Example
    -------
    >>> k, ok = matched_kernel(np.random.default_rng(0), np.full(3, 1 / 3), 3, 0.2)
    >>> ok and abs(mutual_information(k, np.full(3, 1 / 3)) - 0.2) < 1e-9
    True
    """
    X = prior.size
    alpha = 1.0
    best, best_mi = None, -1.0
    for _ in range(_MAX_REDRAWS):
        Q = rng.dirichlet(np.full(n_actions, alpha), size=X)
        mi = float(mutual_information(Q, prior))
        if mi > best_mi:
            best, best_mi = Q, mi
        if mi >= target:
            break
        alpha /= 2.0
    assert best is not None
    if best_mi < target:
        return best, False
    q = prior @ best
    lo, hi = 0.0, 1.0
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if mutual_information(mid * best + (1 - mid) * q[None, :], prior) < target:
            lo = mid
        else:
            hi = mid
    return hi * best + (1 - hi) * q[None, :], True


def _wilson(k: int, n: int, level: float) -> tuple[float, float]:
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # the Wilson interval touches 0 (1) exactly when k = 0 (k = n); say so without round-off
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def _clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    from scipy.stats import beta

    a = 1 - level
    lo = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def ribum_power(kernels, prior=None, n: int = 200, seed=None, null: str = "uniform", *, level: float = 0.95,
                interval: str = "wilson", incentives=None, utilities: str = "per_environment",
                max_scale: float = 10.0, tol: float = TOL, callback=None,
                n_jobs: int | None = 1, exact_margins: bool = False,
                observed_margin: float | None = None) -> RibumPowerResult:
    r"""Power of the RIBUM test: P(random kernels of the same shape fail it), with a Monte Carlo interval.

    Draws ``n`` sets of K kernels (X x A, the observed shape) under the null,
    keeps the observed prior (and incentives), solves the same max-margin LP as
    :func:`ribum.check_ribum` with the same options, and counts failures
    (m* <= tol):

    .. math:: \widehat{\text{power}} = \frac{1}{n} \sum_{i=1}^n 1\{m^*(P^{(i)}) \le \text{tol}\}.

    Nulls
        ``"uniform"``: every row p_k(.|x) ~ Dirichlet(1, ..., 1) independently
        (uniform on the simplex), the analogue of Bronars' uniformly random
        choice. ``"matched"``: random kernels with the observed informativeness,
        I_k(X; A) of each environment equal to the observed one
        (:func:`matched_kernel`: a Dirichlet kernel mixed with its rank-one
        marginal, the mixing weight solved by bisection). The matched null asks
        whether the test can tell the observed behaviour from random behaviour
        that is *as informative*, i.e. whether the verdict rests on the way
        attention responds to the environments rather than on the amount of it.

    The LP's sparsity pattern is built once; each draw only refills its values
    and goes straight to the solver (:meth:`ribum.inattention.RibumLP.solve_direct`).
    Only the verdict of a draw counts, so for the per-environment test a draw
    that :func:`ribum.inattention.certified_pass` shows to pass (a checked
    feasible point with margin above ``tol``) skips its LP; its margin is then
    NaN and ``n_certified`` counts it (``exact_margins=True`` solves every LP).
    The power is the same either way.

    Parameters
    ----------
    kernels : (K, X, A) array
        The observed kernels (their shape, and for ``null="matched"`` their
        informativeness, define the null; the observed margin is reported too).
    prior : (X,) array or None
        pi0 (uniform by default). States with prior 0 are dropped (as in
        :func:`ribum.check_ribum`; ``notes`` says so).
    n : int
        Monte Carlo draws.
    seed : int, numpy.random.Generator or None
    null : "uniform" or "matched"
    level : float in (0, 1)
        Confidence level of the Monte Carlo interval.
    interval : "wilson" or "clopper-pearson"
        Binomial interval for the power (Wilson score, or the exact
        Clopper-Pearson interval).
    incentives, utilities, max_scale, tol
        The test's options, as in :func:`ribum.check_ribum`.
    callback : callable or None
        Called as ``callback(i, n)`` after draw ``i`` (1-based), for progress
        bars: each draw solves one LP.
    n_jobs : int or None
        Threads that solve draws side by side (:meth:`ribum.inattention.RibumLP.solve_many`;
        None: the available cores, at most 8). The result does not depend on it.
    exact_margins : bool
        Solve the LP of every draw (the null distribution of m*), not only of
        the draws no certificate settles.
    observed_margin : float or None
        m* of the observed kernels under the same test, when the caller has it
        (skips one LP: at K = 300 one solve takes over 20 minutes).

    Returns
    -------
    RibumPowerResult
        ``power``, ``ci``, ``n_fail``, the null margins, the observed margin and
        verdict, and ``statement``, one plain-language sentence.

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> res = ribum_power(k, n=20, seed=0)
    >>> res.power <= 0.5  # a free utility per environment: random kernels pass too
    True
    >>> "little power" in res.statement
    True
    """
    p, pi = check_kernels(kernels, prior)
    n = check_positive_int(n, "n")
    tol = check_tol(tol)
    mode, max_scale = check_mode(utilities, incentives, max_scale)
    if null not in ("uniform", "matched"):
        raise ValueError(f"null must be 'uniform' or 'matched', got {null!r}")
    if interval not in ("wilson", "clopper-pearson"):
        raise ValueError(f"interval must be 'wilson' or 'clopper-pearson', got {interval!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not (0.0 < level < 1.0):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    rng = check_random_state(seed)
    callback = check_callback(callback)
    n_jobs = check_n_jobs(n_jobs)
    K, _, A = p.shape
    delta = check_incentives(incentives, p.shape) if mode == "shared" else None
    _, p, pi, *rest, notes = drop_zero_prior(p, pi, *((delta,) if delta is not None else ()))
    X = pi.size
    lp: RibumLP = (SharedRibumLP(K, X, A, rest[0], max_scale=max_scale) if mode == "shared"
                   else RibumLP(K, X, A))
    if observed_margin is None:
        observed = lp.solve_direct(p, pi)[0]
    else:
        observed = float(observed_margin)
        if not np.isfinite(observed) or observed < 0:
            raise ValueError(f"observed_margin must be a finite number >= 0, got {observed_margin!r}")
    target = np.asarray(mutual_information(p, pi)) if null == "matched" else None
    draws = []
    n_unmatched = 0
    for _ in range(n):
        if target is None:
            draw = rng.dirichlet(np.ones(A), size=(K, X))
        else:
            draw = np.empty((K, X, A))
            for k in range(K):
                draw[k], ok = matched_kernel(rng, pi, A, float(target[k]))
                n_unmatched += not ok
        draws.append(draw)
    certified = np.zeros(n, dtype=bool)
    n_cert = 0
    if mode == "per_environment" and not exact_margins:
        for i, draw in enumerate(draws):
            certified[i] = certified_pass(draw, pi, tol)
            if certified[i]:
                n_cert += 1
                if callback is not None:
                    callback(n_cert, n)
    rest = np.flatnonzero(~certified)
    margins = np.full(n, np.nan)
    solved, _ = lp.solve_many([draws[i] for i in rest], pi, n_jobs=n_jobs,
                              callback=None if callback is None else (lambda i, _: callback(n_cert + i, n)))
    margins[rest] = solved
    n_fail = int(np.count_nonzero(margins[rest] <= tol))
    lo, hi = (_wilson if interval == "wilson" else _clopper_pearson)(n_fail, n, level)
    if n_unmatched:
        notes.append(f"{n_unmatched} of {n * K} matched draws could not reach the observed I(X;A) "
                     "(the most informative of the redraws was used)")
    return RibumPowerResult(
        power=n_fail / n, ci=np.array([lo, hi]), level=float(level), interval=interval, n=n, n_fail=n_fail,
        null=null, utilities_mode=mode, observed_margin=float(observed), observed_passed=bool(observed > tol),
        margins=margins, target_information=target, tol=tol, seed=seed if isinstance(seed, (int, type(None))) else None,
        shape=(K, X, A), notes=notes, n_certified=n_cert,
    )
