"""Piecewise-linear bracket income tax and the Saez optimal-rate formula.

The monthly schedule is the 2018 US federal single-filer schedule with the
annual cutoffs divided by 12 (EconAgent, ``us-federal-single-filer-2018-scaled``
with ``usd_scaling=12``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: 2018 US federal single-filer bracket lower edges, dollars per year.
US2018_ANNUAL_CUTOFFS = np.array([0.0, 9700.0, 39475.0, 84200.0, 160725.0, 204100.0, 510300.0])
#: 2018 US federal single-filer marginal rates of those brackets.
US2018_RATES = np.array([0.10, 0.12, 0.22, 0.24, 0.32, 0.35, 0.37])
#: Monthly cutoffs used by the economy (annual / 12).
US2018_MONTHLY_CUTOFFS = US2018_ANNUAL_CUTOFFS / 12.0


def _check_schedule(cutoffs, rates) -> tuple[np.ndarray, np.ndarray]:
    cutoffs = np.asarray(cutoffs, dtype=float)
    rates = np.asarray(rates, dtype=float)
    if cutoffs.ndim != 1 or rates.ndim != 1 or cutoffs.shape != rates.shape:
        raise ValueError(
            f"tax bracket cutoffs and rates must be 1-D arrays of the same length, got shapes "
            f"{cutoffs.shape} and {rates.shape}")
    if cutoffs.size == 0:
        raise ValueError("a tax schedule needs at least one bracket")
    if not (np.all(np.isfinite(cutoffs)) and np.all(np.isfinite(rates))):
        raise ValueError("tax cutoffs and rates must be finite (no NaN or inf)")
    if cutoffs[0] != 0.0:
        raise ValueError(f"the first bracket must start at income 0, got {cutoffs[0]}")
    if np.any(np.diff(cutoffs) <= 0):
        raise ValueError(f"bracket cutoffs must be strictly increasing, got {cutoffs.tolist()}")
    if np.any(rates < 0) or np.any(rates > 1):
        raise ValueError(f"marginal tax rates must lie in [0, 1], got {rates.tolist()}")
    return cutoffs, rates


def bracket_tax(income, cutoffs=US2018_MONTHLY_CUTOFFS, rates=US2018_RATES) -> np.ndarray:
    """Income tax owed under a bracket schedule.

    T(z) = sum_j tau_j * clip(z - c_j, 0, c_{j+1} - c_j), with c_{J+1} = inf.

    Parameters
    ----------
    income : array_like, shape (N,) or scalar
        Taxable incomes z >= 0 (negative incomes are taxed as 0).
    cutoffs : array_like, shape (J,)
        Lower bracket edges c_j, starting at 0 and strictly increasing.
    rates : array_like, shape (J,)
        Marginal rates tau_j in [0, 1].

    Returns
    -------
    ndarray, same shape as ``income``.

    Example
    -------
    >>> float(bracket_tax(10_000.0 / 12 * 12, US2018_ANNUAL_CUTOFFS, US2018_RATES))
    1006.0
    """
    cutoffs, rates = _check_schedule(cutoffs, rates)
    z = np.asarray(income, dtype=float)
    if np.any(np.isnan(z)):
        raise ValueError("income contains NaN")
    widths = np.append(np.diff(cutoffs), np.inf)
    # (N, J) amounts of income that fall in each bracket.
    inside = np.clip(z[..., None] - cutoffs, 0.0, widths)
    return inside @ rates


def marginal_rate(income, cutoffs=US2018_MONTHLY_CUTOFFS, rates=US2018_RATES) -> np.ndarray:
    """Marginal rate tau_j of the bracket containing each income (z in [c_j, c_{j+1})).

    tau(z) = tau_j for c_j <= z < c_{j+1} (c_{J+1} = inf; incomes below 0 get tau_1),
    i.e. the slope dT/dz of :func:`bracket_tax`.

    Parameters
    ----------
    income : array_like, shape (N,) or scalar
    cutoffs, rates : array_like, shape (J,)
        Lower bracket edges (from 0, increasing) and their rates.

    Returns
    -------
    ndarray, same shape as ``income``.

    Example
    -------
    >>> marginal_rate([0.0, 500.0, 1000.0, 50_000.0]).tolist()   # monthly US 2018 brackets
    [0.1, 0.1, 0.12, 0.37]
    >>> float(marginal_rate(US2018_MONTHLY_CUTOFFS[1]))   # a cutoff starts the next bracket
    0.12
    """
    cutoffs, rates = _check_schedule(cutoffs, rates)
    z = np.asarray(income, dtype=float)
    idx = np.searchsorted(cutoffs, z, side="right") - 1
    return rates[np.clip(idx, 0, len(rates) - 1)]


@dataclass
class TaxSchedule:
    """A bracket schedule (cutoffs, rates); callable as ``schedule(income) -> tax``."""

    cutoffs: np.ndarray = field(default_factory=lambda: US2018_MONTHLY_CUTOFFS.copy())
    rates: np.ndarray = field(default_factory=lambda: US2018_RATES.copy())

    def __post_init__(self):
        self.cutoffs, self.rates = _check_schedule(self.cutoffs, self.rates)
        self.cutoffs = self.cutoffs.copy()
        self.rates = self.rates.copy()

    def __call__(self, income) -> np.ndarray:
        return bracket_tax(income, self.cutoffs, self.rates)

    def with_rates(self, rates) -> TaxSchedule:
        return TaxSchedule(self.cutoffs, np.asarray(rates, dtype=float))


def saez_rates(incomes, cutoffs=US2018_MONTHLY_CUTOFFS, elasticity: float = 0.5,
               weights: str = "inverse_income", n_bins: int = 100,
               rate_bounds: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Bracket rates from the Saez (2001) optimal-tax formula on observed incomes.

    For an income level z with income density h, distribution H and average
    social welfare weight G(z) of people with income >= z,

        tau(z) = (1 - G(z)) / (1 - G(z) + A(z) e),   A(z) = z h(z) / (1 - H(z)),

    with e the elasticity of taxable income. As in the AI-Economist adaptation
    (used by EconAgent and the LLM Economist), tau is computed on ``n_bins``
    equal bins from 0 to the top cutoff (plus one open top bin, where
    A = mean(z | z > c_top) / (mean(z | z > c_top) - c_top)), empty bins are
    filled by linear interpolation, and each bracket's rate is the width-weighted
    mean of the bin rates inside it.

    Parameters
    ----------
    incomes : array_like, shape (M,)
        Observed (pre-tax) incomes, pooled over households and periods.
    cutoffs : array_like, shape (J,)
        Bracket lower edges.
    elasticity : float
        e >= 0.
    weights : {"inverse_income", "uniform"}
        Pareto weights g(z) = 1 / max(z, 1) (favouring the poor) or 1.
    rate_bounds : (lo, hi)
        Rates are clipped to this interval.

    Returns
    -------
    ndarray, shape (J,)

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> r = saez_rates(rng.pareto(2.0, 500) * 3000)
    >>> r.shape
    (7,)
    """
    z = np.asarray(incomes, dtype=float).ravel()
    cutoffs = np.asarray(cutoffs, dtype=float)
    if z.size == 0 or np.any(~np.isfinite(z)):
        raise ValueError("saez_rates needs a non-empty array of finite incomes")
    if elasticity < 0 or not np.isfinite(elasticity):
        raise ValueError(f"elasticity must be a finite number >= 0, got {elasticity}")
    if weights not in ("inverse_income", "uniform"):
        raise ValueError(f"weights must be 'inverse_income' or 'uniform', got {weights!r}")
    _check_schedule(cutoffs, np.zeros_like(cutoffs))
    z = np.maximum(z, 0.0)
    top = cutoffs[-1]
    edges = np.linspace(0.0, top, n_bins + 1)
    below_top = z[z <= top]
    counts, _ = np.histogram(below_top, bins=edges)
    above = z[z > top]
    mids = 0.5 * (edges[:-1] + edges[1:])
    n = z.size

    def pareto(v):
        return 1.0 / np.maximum(v, 1.0) if weights == "inverse_income" else np.ones_like(v)

    # Welfare-weight mass per bin and in the open top bin, normalized to sum 1
    # (exact weights of the incomes in each bin; AI-Economist used bin midpoints).
    w_bins, _ = np.histogram(below_top, bins=edges, weights=pareto(below_top))
    w_above = pareto(above).sum()
    w_total = w_bins.sum() + w_above + 1e-12
    dens_w = np.append(w_bins, w_above) / w_total
    pz = np.append(counts, above.size) / n
    # Average normalized weight of people at or above each bin, G(z).
    g_geq = np.cumsum(dens_w[::-1])[::-1] / (np.cumsum(pz[::-1])[::-1] + 1e-12)
    g = np.append(0.5 * (g_geq[:-1] + g_geq[1:]), g_geq[-1])
    # A(z) per bin: z h(z) / P(z' >= z), density per unit income.
    cum = np.cumsum(pz)
    p_geq = np.clip(1.0 - cum + 0.5 * pz, 0.0, 1.0)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(counts > 0, mids * pz[:-1] / (p_geq + 1e-12) / np.diff(edges), np.nan)
    a_top = above.mean() / (above.mean() - top + 1e-12) if above.size else 0.0
    a = np.append(a, a_top)
    tau = (1.0 - g) / (1.0 - g + a * elasticity + 1e-12)
    # Empty bins: interpolate between the neighbouring finite rates (0 before the first).
    ok = np.isfinite(tau)
    if not ok.any():
        tau = np.zeros_like(tau)
    else:
        idx = np.arange(tau.size)
        xp = np.concatenate([[-1], idx[ok]])
        fp = np.concatenate([[0.0], tau[ok]])
        tau = np.interp(idx, xp, fp)
    # Bracketize: width-weighted mean of bin rates inside each bracket (top bin for the top bracket).
    bin_tau, top_tau = tau[:-1], tau[-1]
    out = np.empty(cutoffs.size)
    upper = np.append(cutoffs[1:], np.inf)
    for j in range(cutoffs.size):  # J = 7 brackets: a loop over brackets, not data
        lo_e = np.clip(edges[:-1], cutoffs[j], upper[j])
        hi_e = np.clip(edges[1:], cutoffs[j], upper[j])
        width = hi_e - lo_e
        if j == cutoffs.size - 1:
            out[j] = top_tau
        else:
            out[j] = (width * bin_tau).sum() / width.sum()
    lo, hi = rate_bounds
    return np.clip(out, lo, hi)
