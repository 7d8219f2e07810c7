"""Macroeconomic indicators, the Phillips curve and Okun's law, with intervals over seeds.

Annual indicators follow EconAgent: for year y (months 12y .. 12y + 11)

* price level  P_y = mean of the monthly prices;   inflation_y = P_y / P_{y-1} - 1;
* unemployment u_y = mean over months of the share of households not working;
* nominal GDP_y = sum_t P_t * production_t;  real GDP_y = sum_t P_0 * production_t;
  growth_y = GDP_y / GDP_{y-1} - 1;
* wage level   W_y = mean of the monthly mean wages;  wage inflation_y = W_y / W_{y-1} - 1;
* unemployment growth_y = u_y / u_{y-1} - 1 (undefined, NaN, when u_{y-1} = 0) and
  unemployment change_y = u_y - u_{y-1}.

Growth rates of the first year are NaN. Curves:

* Phillips curve: u_y against wage inflation_y (expected slope < 0);
* Okun's law: unemployment growth_y against real GDP growth_y (expected slope < 0).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np


def _nan_to_none(x):
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_nan_to_none(v) for v in x]
    if isinstance(x, np.ndarray):
        return _nan_to_none(x.tolist())
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _growth(v: np.ndarray) -> np.ndarray:
    out = np.full(v.shape, np.nan)
    if v.size > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            g = v[1:] / v[:-1] - 1.0
        out[1:] = np.where(v[:-1] > 0, g, np.nan)
    return out


@dataclass
class AnnualIndicators:
    """Annual series of one run, arrays of shape (Y,) (growth rates NaN in year 0)."""

    price: np.ndarray
    inflation: np.ndarray
    unemployment: np.ndarray
    unemployment_growth: np.ndarray
    unemployment_change: np.ndarray
    nominal_gdp: np.ndarray
    nominal_gdp_growth: np.ndarray
    real_gdp: np.ndarray
    real_gdp_growth: np.ndarray
    wage: np.ndarray
    wage_inflation: np.ndarray
    interest_rate: np.ndarray

    @property
    def n_years(self) -> int:
        return int(self.price.size)

    def summary(self) -> str:
        if self.n_years == 0:
            return "  (less than one full year simulated)"
        def m(v):
            v = v[np.isfinite(v)]
            return f"{v.mean():+.3f}" if v.size else "n/a"
        return (f"  {self.n_years} years: mean inflation {m(self.inflation)}, unemployment "
                f"{np.mean(self.unemployment):.3f}, real GDP growth {m(self.real_gdp_growth)}, "
                f"wage inflation {m(self.wage_inflation)}")

    def to_dict(self) -> dict:
        return _nan_to_none({k: v for k, v in asdict(self).items()})


def annual_indicators(result) -> AnnualIndicators:
    """Annual indicators of an :class:`~macro.economy.EconomyResult` (complete years only).

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> a = Economy(EconomyConfig(n_households=5), seed=0).run(36).annual()
    >>> a.n_years, bool(np.isnan(a.inflation[0]))
    (3, True)
    """
    y = result.config.months_per_year
    years = result.n_months // y
    m = result.monthly
    cut = years * y

    def per_year(v, how="mean"):
        v = np.asarray(v[:cut], dtype=float).reshape(years, y)
        return v.mean(axis=1) if how == "mean" else v.sum(axis=1)

    price = per_year(m["price"])
    u = 1.0 - per_year(m["employment"])
    nominal = per_year(result.nominal_gdp, "sum")
    real = per_year(result.real_gdp, "sum")
    wage = per_year(m["mean_wage"])
    change = np.full(years, np.nan)
    change[1:] = np.diff(u)
    return AnnualIndicators(
        price=price, inflation=_growth(price), unemployment=u, unemployment_growth=_growth(u),
        unemployment_change=change, nominal_gdp=nominal, nominal_gdp_growth=_growth(nominal),
        real_gdp=real, real_gdp_growth=_growth(real), wage=wage, wage_inflation=_growth(wage),
        interest_rate=per_year(m["interest_rate"]))


def _t_interval(v: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    from scipy import stats  # lazy: scipy.stats takes a second to import

    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(v.mean())
    if v.size < 2:
        return (mean, math.nan, math.nan)
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return (mean, mean - half, mean + half)


@dataclass
class CurveFit:
    """A macro relation y = a + b x fitted on (year, seed) points pooled over seeds.

    Attributes
    ----------
    r, p_value, r_ci : pooled Pearson correlation, its two-sided p-value and 95 %
        Fisher-z interval (NaN with fewer than 4 points or constant data). The
        pooled p-value and interval treat the (year, seed) points as independent;
        consecutive years of one run are not, so they are optimistic.
    slope, slope_ci, intercept : least-squares line and 95 % t interval of the slope.
    r_per_seed : Pearson r of each seed separately (NaN when undefined);
    r_seed_mean, r_seed_ci : across seeds, in Fisher-z space (a correlation is
        bounded, so its mean and interval are taken on z = atanh r and mapped back
        with tanh): r_seed_mean = tanh(mean z_s) and the 95 % t interval of mean z_s,
        which always lies inside (-1, 1). Seeds are independent runs, so this is
        the interval to quote for the sign of the relation.
    slope_per_seed, slope_seed_mean, slope_seed_ci : OLS slope of each seed (NaN when
        undefined), their mean over seeds and its 95 % t interval (seeds are independent,
        so this is the interval to quote for the slope).
    expected_sign : -1 for both curves; ``holds`` is r < 0 with p < 0.05.
    """

    name: str
    x_name: str
    y_name: str
    n_points: int
    n_seeds: int
    r: float
    p_value: float
    r_ci: tuple[float, float]
    slope: float
    slope_ci: tuple[float, float]
    intercept: float
    r_per_seed: list[float]
    r_seed_mean: float
    r_seed_ci: tuple[float, float]
    expected_sign: int = -1
    slope_per_seed: list[float] = field(default_factory=list)
    slope_seed_mean: float = math.nan
    slope_seed_ci: tuple[float, float] = (math.nan, math.nan)
    x: list[float] = field(default_factory=list, repr=False)
    y: list[float] = field(default_factory=list, repr=False)
    seed_index: list[int] = field(default_factory=list, repr=False)

    @property
    def holds(self) -> bool:
        return bool(np.isfinite(self.r) and np.sign(self.r) == self.expected_sign
                    and self.p_value < 0.05)

    def summary(self) -> str:
        return (f"{self.name}: {self.y_name} vs {self.x_name}, {self.n_points} points over "
                f"{self.n_seeds} seeds: r = {self.r:+.3f} (95% CI {self.r_ci[0]:+.3f} .. "
                f"{self.r_ci[1]:+.3f}), p = {self.p_value:.3g}, slope {self.slope:+.4g} "
                f"(95% CI {self.slope_ci[0]:+.4g} .. {self.slope_ci[1]:+.4g}); per-seed r mean "
                f"{self.r_seed_mean:+.3f} (95% CI {self.r_seed_ci[0]:+.3f} .. {self.r_seed_ci[1]:+.3f}); "
                f"per-seed slope mean {self.slope_seed_mean:+.4g} (95% CI {self.slope_seed_ci[0]:+.4g} .. "
                f"{self.slope_seed_ci[1]:+.4g}); {self.verdict}")

    @property
    def verdict(self) -> str:
        """The sign found, in words, against the expected one (for reports)."""
        want = "negative" if self.expected_sign < 0 else "positive"
        if not np.isfinite(self.r):
            return f"sign undefined (expected {want})"
        got = "negative" if self.r < 0 else "positive" if self.r > 0 else "zero"
        sig = "significant" if self.p_value < 0.05 else "not significant"
        agree = "as expected" if np.sign(self.r) == self.expected_sign else "OPPOSITE to the expected sign"
        return f"{got} correlation ({sig} at 5 %), {agree} ({want})"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["holds"] = self.holds
        d["verdict"] = self.verdict
        return _nan_to_none(d)


def fit_curve(xs: list[np.ndarray], ys: list[np.ndarray], name: str = "curve",
              x_name: str = "x", y_name: str = "y", expected_sign: int = -1) -> CurveFit:
    """Pool (x, y) points from several seeds, dropping non-finite pairs, and fit :class:`CurveFit`.

    ``xs[k]``, ``ys[k]``: arrays of the same shape for seed k (K seeds in all).
    On the pooled points: Pearson r with its 95 % CI and p-value, and the OLS
    line y = intercept + slope x with a 95 % t interval of the slope; per seed,
    r_k, averaged in Fisher-z space, tanh(mean_k artanh r_k), with a t interval.

    Example
    -------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> f = fit_curve([x, x], [1 - 2 * x, 2 - 2 * x], "line", expected_sign=-1)
    >>> f.n_points, f.n_seeds, round(f.slope, 6), f.r_per_seed
    (8, 2, -2.0, [-1.0, -1.0])
    >>> bool(-1 < f.r < 0), f.holds
    (True, True)
    """
    from scipy import stats

    if len(xs) != len(ys):
        raise ValueError(f"xs and ys must list the same number of seeds, got {len(xs)} and {len(ys)}")
    px, py, pk, per_seed, slopes = [], [], [], [], []
    for k, (x, y) in enumerate(zip(xs, ys, strict=False)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape:
            raise ValueError(f"seed {k}: x and y shapes differ, {x.shape} vs {y.shape}")
        ok = np.isfinite(x) & np.isfinite(y)
        px.append(x[ok])
        py.append(y[ok])
        pk.append(np.full(ok.sum(), k))
        if ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0:
            per_seed.append(float(stats.pearsonr(x[ok], y[ok]).statistic))
        else:
            per_seed.append(math.nan)
        slopes.append(float(np.polyfit(x[ok], y[ok], 1)[0]) if ok.sum() >= 2 and np.ptp(x[ok]) > 0 else math.nan)
    x = np.concatenate(px) if px else np.zeros(0)
    y = np.concatenate(py) if py else np.zeros(0)
    seed_index = np.concatenate(pk) if pk else np.zeros(0, dtype=int)
    r = p = slope = intercept = math.nan
    r_ci = slope_ci = (math.nan, math.nan)
    if x.size >= 4 and np.ptp(x) > 0 and np.ptp(y) > 0:
        pr = stats.pearsonr(x, y)
        r, p = float(pr.statistic), float(pr.pvalue)
        ci = pr.confidence_interval(0.95)
        r_ci = (float(ci.low), float(ci.high))
        lr = stats.linregress(x, y)
        slope, intercept = float(lr.slope), float(lr.intercept)
        half = stats.t.ppf(0.975, x.size - 2) * lr.stderr
        slope_ci = (slope - half, slope + half)
    # Average correlations in Fisher-z space (clip so that r = +-1 stays finite).
    z_seed = np.arctanh(np.clip(np.array(per_seed), -1 + 1e-12, 1 - 1e-12))
    mean, lo, hi = np.tanh(_t_interval(z_seed))
    s_mean, s_lo, s_hi = _t_interval(np.array(slopes))
    return CurveFit(name=name, x_name=x_name, y_name=y_name, n_points=int(x.size), n_seeds=len(xs),
                    r=r, p_value=p, r_ci=r_ci, slope=slope, slope_ci=slope_ci, intercept=intercept,
                    r_per_seed=per_seed, r_seed_mean=float(mean), r_seed_ci=(float(lo), float(hi)),
                    expected_sign=expected_sign, slope_per_seed=slopes, slope_seed_mean=s_mean,
                    slope_seed_ci=(s_lo, s_hi), x=x.tolist(), y=y.tolist(), seed_index=seed_index.tolist())


def _annuals(results):
    if not isinstance(results, (list, tuple)):
        results = [results]
    if not results:
        raise ValueError("need at least one EconomyResult")
    return [r.annual() for r in results]


def phillips_curve(results, skip_years: int = 1) -> CurveFit:
    """Phillips curve: annual wage inflation (y) against the unemployment rate (x), over seeds.

    The first ``skip_years`` years (no wage inflation in year 0) are dropped.
    x_y = u_y (annual unemployment rate), y_y = wbar_y / wbar_{y-1} - 1 (wbar: mean
    wage of year y), pooled over the runs and fitted by :func:`fit_curve`
    (expected sign: negative).

    ``results``: one :class:`~macro.economy.EconomyResult` or a list (one per seed);
    K runs of Y complete years give K (Y - skip_years) points.

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> runs = [Economy(EconomyConfig(n_households=5, n_months=36), seed=s).run() for s in (0, 1, 2)]
    >>> pc = phillips_curve(runs)
    >>> pc.n_points, pc.n_seeds, pc.x_name, pc.y_name, pc.expected_sign
    (6, 3, 'unemployment rate', 'wage inflation', -1)
    """
    a = _annuals(results)
    return fit_curve([v.unemployment[skip_years:] for v in a], [v.wage_inflation[skip_years:] for v in a],
                     "Phillips curve", "unemployment rate", "wage inflation")


def okun_law(results, skip_years: int = 1, unemployment: str = "growth") -> CurveFit:
    """Okun's law: unemployment growth (y) against real GDP growth (x), over seeds.

    ``unemployment="growth"`` uses u_y / u_{y-1} - 1 (years after a year of zero
    unemployment are dropped: growth is undefined there); ``"change"`` uses u_y - u_{y-1}.
    x_y = GDP_y / GDP_{y-1} - 1 (annual real GDP), fitted by :func:`fit_curve`
    (expected sign: negative).

    ``results``: one :class:`~macro.economy.EconomyResult` or a list (one per seed).

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> runs = [Economy(EconomyConfig(n_households=5, n_months=36), seed=s).run() for s in (0, 1, 2)]
    >>> ok = okun_law(runs, unemployment="change")
    >>> ok.n_points, ok.n_seeds, ok.x_name, ok.y_name
    (6, 3, 'real GDP growth', 'unemployment change')
    >>> okun_law(runs).n_points <= 6      # growth drops years after zero unemployment
    True
    """
    if unemployment not in ("growth", "change"):
        raise ValueError(f"unemployment must be 'growth' or 'change', got {unemployment!r}")
    a = _annuals(results)
    ys = [(v.unemployment_growth if unemployment == "growth" else v.unemployment_change)[skip_years:]
          for v in a]
    return fit_curve([v.real_gdp_growth[skip_years:] for v in a], ys, "Okun's law",
                     "real GDP growth", f"unemployment {unemployment}")


@dataclass
class SeedSummary:
    """Mean and 95 % t interval across seeds of each indicator's per-run average."""

    n_seeds: int
    indicators: dict

    def summary(self) -> str:
        lines = [f"Indicators over {self.n_seeds} seeds (mean of yearly values; 95% t interval across seeds):"]
        for k, (m, lo, hi) in self.indicators.items():
            lines.append(f"  {k:<20s} {m:+.4f}  [{lo:+.4f}, {hi:+.4f}]")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return _nan_to_none({"n_seeds": self.n_seeds,
                             "indicators": {k: {"mean": v[0], "ci_low": v[1], "ci_high": v[2]}
                                            for k, v in self.indicators.items()}})


def summarize_seeds(results, skip_years: int = 1) -> SeedSummary:
    """Average each annual indicator over years (after ``skip_years``) per seed, then over seeds.

    For indicator v and seed k, m_k = mean_{y >= skip_years} v_{k, y} (finite values);
    reported: mean_k m_k and its 95 % t interval mean +- t_{0.975, K-1} sd(m) / sqrt(K).
    Indicators: ``inflation``, ``unemployment``, ``nominal_gdp_growth``,
    ``real_gdp_growth``, ``wage_inflation``, ``interest_rate``, each a
    (mean, low, high) tuple.

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> runs = [Economy(EconomyConfig(n_households=5, n_months=36), seed=s).run() for s in (0, 1, 2)]
    >>> s = summarize_seeds(runs)
    >>> s.n_seeds, len(s.indicators)
    (3, 6)
    >>> m, lo, hi = s.indicators["unemployment"]
    >>> bool(lo <= m <= hi and 0 <= m <= 1)
    True
    """
    a = _annuals(results)
    keys = ("inflation", "unemployment", "nominal_gdp_growth", "real_gdp_growth", "wage_inflation",
            "interest_rate")
    out = {}
    for key in keys:
        per = []
        for v in a:
            s = getattr(v, key)[skip_years:]
            s = s[np.isfinite(s)]
            per.append(s.mean() if s.size else np.nan)
        out[key] = _t_interval(np.array(per))
    return SeedSummary(len(a), out)
