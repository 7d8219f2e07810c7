"""Simultaneous perturbation stochastic approximation (Spall 1992, 1998).

Minimizes ``J(theta) = E[ f(theta, seed) ]`` from noisy evaluations only:

    g_n = (f(theta_n + c_n Delta_n) - f(theta_n - c_n Delta_n)) / (2 c_n) * Delta_n^{-1},
    theta_{n+1} = Proj(theta_n - a_n g_n),
    a_n = a / (A + n + 1)^alpha,   c_n = c / (n + 1)^gamma,

with ``Delta_n`` independent Rademacher (+-1) vectors. Two evaluations per
iteration whatever the dimension of ``theta``.
"""
from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmsl_core import check_random_state

__all__ = ["spsa", "SPSAResult"]


@dataclass
class SPSAResult:
    """Result of :func:`spsa`.

    Attributes
    ----------
    theta : ndarray (p,)
        The answer: the averaged iterate when averaging was requested, else the last iterate.
    theta_last : ndarray (p,)
        The last iterate ``theta_n``.
    theta_avg : ndarray (p,) or None
        Polyak-Ruppert average of the iterates from ``average_from`` on.
    history : ndarray (n_iter + 1, p)
        ``theta_0, ..., theta_n`` (after projection).
    gradients : ndarray (n_iter, p)
        The gradient estimates ``g_n``.
    f_plus, f_minus : ndarray (n_iter,)
        The two evaluations of each iteration.
    a_gains, c_gains : ndarray (n_iter,)
        ``a_n`` and ``c_n``.
    a, c, A, alpha, gamma : float
        The gain constants (``a`` as calibrated when it was not given).
    n_evals : int
        Objective evaluations, calibration included.
    seeds : ndarray (n_iter,)
        The seed passed to the objective at each iteration (both evaluations
        share it when ``paired``).
    elapsed : float
        Seconds.
    """

    theta: np.ndarray
    theta_last: np.ndarray
    theta_avg: np.ndarray | None
    history: np.ndarray = field(repr=False)
    gradients: np.ndarray = field(repr=False)
    f_plus: np.ndarray = field(repr=False)
    f_minus: np.ndarray = field(repr=False)
    a_gains: np.ndarray = field(repr=False)
    c_gains: np.ndarray = field(repr=False)
    seeds: np.ndarray = field(repr=False)
    a: float
    c: float
    A: float
    alpha: float
    gamma: float
    paired: bool
    average_from: int | None
    calibrated: bool
    n_iter: int
    n_evals: int
    elapsed: float

    @property
    def f_mean(self) -> np.ndarray:
        """``(f_plus + f_minus) / 2`` per iteration: a noisy trace of ``J(theta_n)``."""
        return 0.5 * (self.f_plus + self.f_minus)

    def summary(self) -> str:
        fm = self.f_mean
        tail = fm[-max(1, len(fm) // 10):]
        return "\n".join(
            [
                "SPSA (Spall) result",
                f"  iterations = {self.n_iter}, objective evaluations = {self.n_evals}, {self.elapsed:.2f} s",
                f"  gains: a = {self.a:.4g}{' (calibrated)' if self.calibrated else ''}, c = {self.c:.4g}, "
                f"A = {self.A:.4g}, alpha = {self.alpha}, gamma = {self.gamma}",
                f"  common random numbers (paired) = {self.paired}, "
                + (f"averaging from iteration {self.average_from}" if self.average_from is not None
                   else "no averaging"),
                f"  theta_0 = {np.array2string(self.history[0], precision=5)}",
                f"  theta   = {np.array2string(self.theta, precision=5)}",
                f"  mean objective over the last 10% of iterations = {tail.mean():.6g}",
            ]
        )

    def to_dict(self, include_history: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "theta": self.theta.tolist(),
            "theta_last": self.theta_last.tolist(),
            "theta_avg": None if self.theta_avg is None else self.theta_avg.tolist(),
            "a": self.a,
            "c": self.c,
            "A": self.A,
            "alpha": self.alpha,
            "gamma": self.gamma,
            "paired": self.paired,
            "average_from": self.average_from,
            "calibrated": self.calibrated,
            "n_iter": self.n_iter,
            "n_evals": self.n_evals,
            "elapsed": self.elapsed,
        }
        if include_history:
            d["history"] = self.history.tolist()
            d["f_plus"] = self.f_plus.tolist()
            d["f_minus"] = self.f_minus.tolist()
            d["seeds"] = self.seeds.tolist()
        return d


def _accepts_seed(f: Callable) -> bool:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return True
    ps = sig.parameters
    return "seed" in ps or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in ps.values())


def _check_bounds(bounds, p: int) -> tuple[np.ndarray, np.ndarray] | None:
    if bounds is None:
        return None
    b = np.asarray(bounds, dtype=float)
    if b.shape == (2,):
        b = np.tile(b, (p, 1))
    if b.shape != (p, 2):
        raise ValueError(f"bounds must be (lower, upper) or an array of shape ({p}, 2); got shape {b.shape}")
    if np.any(np.isnan(b)) or np.any(b[:, 0] > b[:, 1]):
        raise ValueError("bounds must satisfy lower <= upper with no NaN")
    return b[:, 0], b[:, 1]


def spsa(
    objective: Callable[..., float],
    theta0: np.ndarray | float,
    n_iter: int,
    a: float | None = None,
    c: float = 0.1,
    A: float | None = None,
    alpha: float = 0.602,
    gamma: float = 0.101,
    bounds: np.ndarray | tuple[float, float] | None = None,
    paired: bool = True,
    average: bool | int = False,
    seed: int | np.random.Generator | None = None,
    callback: Callable[[int, np.ndarray, float], Any] | None = None,
    target_step: float | None = None,
    n_calibrate: int = 5,
    max_step: float | None = None,
) -> SPSAResult:
    """Spall's simultaneous perturbation stochastic approximation.

    ``theta_{n+1} = Proj(theta_n - a_n g_n)`` with
    ``g_n = (f(theta_n + c_n Delta_n, s_n) - f(theta_n - c_n Delta_n, s'_n)) / (2 c_n Delta_n)``,
    ``a_n = a / (A + n + 1)^alpha``, ``c_n = c / (n + 1)^gamma`` and ``Delta_n``
    with independent +-1 entries.

    Parameters
    ----------
    objective : callable
        ``objective(theta, seed=s) -> float`` (a noisy evaluation). If it takes
        no ``seed`` argument it is called as ``objective(theta)``.
    theta0 : array (p,) or float
    n_iter : int
        Number of iterations (two evaluations each).
    a : float, optional
        Step gain. When ``None`` it is calibrated by Spall's rule (1998, sec. III):
        ``n_calibrate`` gradient estimates at ``theta0`` give the mean magnitude
        ``gbar`` of a gradient component, and ``a = target_step (A + 1)^alpha / gbar``
        so the first step moves each coordinate by about ``target_step``.
    c : float
        Perturbation gain; about the standard deviation of the noise of ``f``.
    A : float, optional
        Stability constant; default ``0.1 * n_iter``.
    alpha, gamma : float
        Gain exponents (Spall's practical values 0.602 and 0.101).
    bounds : (lower, upper) or array (p, 2), optional
        Box constraints. Iterates are projected onto the box and so are the
        perturbed points; the gradient then divides by the actual distance
        between the two projected points (0 where both are on the same bound).
    paired : bool
        Common random numbers: the two evaluations of an iteration get the same
        seed, so the noise common to both cancels in the difference.
    average : bool or int
        Polyak-Ruppert iterate averaging: ``True`` averages the second half of
        the iterates, an int ``k`` averages ``theta_k, ..., theta_n``.
    seed : int or numpy.random.Generator, optional
        Drives the perturbations and the seeds passed to ``objective``.
    callback : callable, optional
        ``callback(n, theta_n, f_mean_n)`` after each iteration; returning
        ``True`` stops early.
    target_step : float, optional
        For the calibration of ``a``: default 10% of the bound width when bounds
        are given, else ``0.1 * max(1, max|theta0|)``.
    n_calibrate : int
        Gradient estimates used for the calibration.
    max_step : float, optional
        Blocking (Spall 1998, sec. III): each coordinate of ``a_n g_n`` is clipped
        to ``[-max_step, max_step]``, guarding against a wild step where the
        objective is much steeper than at ``theta0``.

    Returns
    -------
    SPSAResult

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda th, seed: float(np.sum((th - 1) ** 2) + np.random.default_rng(seed).normal(0, 0.1))
    >>> res = spsa(f, np.zeros(2), n_iter=500, seed=0, average=True)
    >>> bool(np.allclose(res.theta, 1, atol=0.1))
    True
    """
    t0 = time.perf_counter()
    th = np.atleast_1d(np.asarray(theta0, dtype=float)).copy()
    if th.ndim != 1 or not np.all(np.isfinite(th)):
        raise ValueError(f"theta0 must be a finite scalar or 1-D array; got {theta0!r}")
    p = th.size
    if int(n_iter) != n_iter or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer; got {n_iter}")
    n_iter = int(n_iter)
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"c must be positive; got {c}")
    if a is not None and not (np.isfinite(a) and a > 0):
        raise ValueError(f"a must be positive or None; got {a}")
    A = 0.1 * n_iter if A is None else float(A)
    if A < 0:
        raise ValueError(f"A must be non-negative; got {A}")
    if not (0 < alpha <= 1) or not (0 < gamma < alpha):
        raise ValueError(f"need 0 < gamma < alpha <= 1; got alpha={alpha}, gamma={gamma}")
    bx = _check_bounds(bounds, p)
    if max_step is not None and not (np.isfinite(max_step) and max_step > 0):
        raise ValueError(f"max_step must be positive or None; got {max_step}")
    if isinstance(average, bool) or average is None:
        average_from = n_iter // 2 if average else None
    else:
        if int(average) != average or not (0 <= average <= n_iter):
            raise ValueError(f"average must be a bool or an iteration index in [0, n_iter]; got {average}")
        average_from = int(average)
    rng = check_random_state(seed)
    with_seed = _accepts_seed(objective)
    n_evals = 0

    def proj(x: np.ndarray) -> np.ndarray:
        return x if bx is None else np.clip(x, bx[0], bx[1])

    def f(x: np.ndarray, s: int) -> float:
        nonlocal n_evals
        n_evals += 1
        v = objective(x, seed=s) if with_seed else objective(x)
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"objective must return a float; got {type(v).__name__}") from None
        if not np.isfinite(v):
            raise ValueError(f"objective returned {v} at theta = {x}")
        return v

    def grad(x: np.ndarray, ck: float) -> tuple[np.ndarray, float, float, int]:
        delta = rng.choice(np.array([-1.0, 1.0]), size=p)
        s1 = int(rng.integers(0, 2**32))
        s2 = s1 if paired else int(rng.integers(0, 2**32))
        xp, xm = proj(x + ck * delta), proj(x - ck * delta)
        yp, ym = f(xp, s1), f(xm, s2)
        span = xp - xm
        g = np.divide(yp - ym, span, out=np.zeros(p), where=span != 0)
        return g, yp, ym, s1

    th = proj(th)
    calibrated = a is None
    if calibrated:
        if int(n_calibrate) != n_calibrate or n_calibrate < 1:
            raise ValueError(f"n_calibrate must be a positive integer; got {n_calibrate}")
        if target_step is None:
            if bx is not None and np.all(np.isfinite(bx[1] - bx[0])):
                target_step = 0.1 * float(np.mean(bx[1] - bx[0]))
            else:
                target_step = 0.1 * max(1.0, float(np.max(np.abs(th))))
        gs = np.array([grad(th, c)[0] for _ in range(int(n_calibrate))])
        gbar = float(np.mean(np.abs(gs)))
        if gbar == 0:
            raise ValueError(
                "gain calibration failed: all gradient estimates at theta0 are zero (the objective looks "
                "flat at this c); pass a larger c or an explicit a"
            )
        a = float(target_step) * (A + 1.0) ** alpha / gbar

    assert a is not None  # given, or set by the calibration above
    hist = np.empty((n_iter + 1, p))
    hist[0] = th
    grads = np.empty((n_iter, p))
    fp = np.empty(n_iter)
    fm = np.empty(n_iter)
    an = a / (A + np.arange(1, n_iter + 1)) ** alpha
    cn = c / np.arange(1, n_iter + 1) ** gamma
    seeds = np.empty(n_iter, dtype=np.int64)
    n_done = n_iter
    for k in range(n_iter):
        g, yp, ym, s = grad(th, cn[k])
        step = an[k] * g
        if max_step is not None:
            step = np.clip(step, -max_step, max_step)
        th = proj(th - step)
        hist[k + 1] = th
        grads[k], fp[k], fm[k], seeds[k] = g, yp, ym, s
        if callback is not None and callback(k, th.copy(), 0.5 * (yp + ym)) is True:
            n_done = k + 1
            break
    hist, grads, fp, fm = hist[: n_done + 1], grads[:n_done], fp[:n_done], fm[:n_done]
    an, cn, seeds = an[:n_done], cn[:n_done], seeds[:n_done]
    avg = None
    if average_from is not None:
        avg = hist[min(average_from, n_done):].mean(axis=0)
    return SPSAResult(
        theta=avg if avg is not None else th.copy(),
        theta_last=th.copy(),
        theta_avg=avg,
        history=hist,
        gradients=grads,
        f_plus=fp,
        f_minus=fm,
        a_gains=an,
        c_gains=cn,
        seeds=seeds,
        a=float(a),
        c=float(c),
        A=float(A),
        alpha=float(alpha),
        gamma=float(gamma),
        paired=bool(paired),
        average_from=average_from,
        calibrated=calibrated,
        n_iter=n_done,
        n_evals=n_evals,
        elapsed=time.perf_counter() - t0,
    )
