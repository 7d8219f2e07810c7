"""Group comparisons of revealed-preference metrics (models, temperatures, personas...).

:func:`compare` takes the per-subject table of :func:`ribum.analyze` (one row per
subject) with a group label and reports, per group and metric, the distribution
(n, mean, median, standard deviation, share equal to 1) with percentile
bootstrap intervals of the mean and the median, and for every pair of groups a
permutation test of equal distributions, with Benjamini-Hochberg q-values across
all tests. :func:`plot_ccei_ecdf` draws the standard picture: the empirical CDF
of the CCEI per group (as in Choi, Fisman, Gale & Kariv 2007, AER, and Chen,
Liu, Shan & Zhong 2023, PNAS).

Permutation test. For groups a and b with n_a and n_b values of a metric, the
statistic is the two-sample Kolmogorov-Smirnov distance

    D = sup_v | F_a(v) - F_b(v) |,    F_g(v) = #{i in g : y_i <= v} / n_g,

and under H0 (the two samples come from one distribution, so the labels are
exchangeable) its null distribution is that of D over random relabelings of the
pooled sample. With B relabelings drawn uniformly, the p-value

    p = (1 + #{b : D_b >= D}) / (1 + B)

is exact (valid at every level) for any distribution, ties included (CCEI has an
atom at 1), unlike the asymptotic KS p-value (Phipson & Smyth 2010, "Permutation
p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 9(1); Good 2005,
*Permutation, Parametric and Bootstrap Tests of Hypotheses*). The difference in
means is reported alongside. The p-values of all (pair, metric) tests are
adjusted together by the Benjamini-Hochberg (1995) step-up procedure
(``scipy.stats.false_discovery_control``), which controls the false discovery
rate under independence or positive dependence.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from llmsl_core import check_random_state

from ._validation import check_positive_int

__all__ = ["compare", "CompareResult", "plot_ccei_ecdf"]

DEFAULT_METRICS = ("ccei", "houtman_maks", "bronars_power", "predictive_success")
#: Elements of one (resamples x n) block of bootstrap or permutation draws.
_BLOCK = 1 << 22


def _num(v):
    """A float for JSON: None for NaN or infinity."""
    v = float(v)
    return v if np.isfinite(v) else None


@dataclass
class CompareResult:
    """Outcome of :func:`compare`.

    Attributes
    ----------
    by : str
        Name of the grouping.
    groups : list of str
        Group labels in order of first appearance.
    metrics : list of str
    stats : list of dict
        One per (group, metric): n, mean, median, sd, share_one (share of values
        equal to 1), mean_ci and median_ci (percentile bootstrap intervals).
    tests : list of dict
        One per (metric, pair of groups): statistic "KS", D, diff_mean
        (mean of group_a minus mean of group_b), p_value (permutation), q_value
        (Benjamini-Hochberg over all tests).
    values : dict
        metric -> group -> sorted values (kept for plots; not in ``to_dict``).
    """

    by: str
    groups: list
    metrics: list
    stats: list
    tests: list
    n_boot: int
    n_perm: int
    level: float
    seed: int | None
    values: dict = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict:
        """Plain, strict JSON values (no NaN or infinity)."""
        out = {"by": self.by, "groups": [str(g) for g in self.groups], "metrics": list(self.metrics),
               "n_boot": self.n_boot, "n_perm": self.n_perm, "level": self.level, "seed": self.seed,
               "stats": self.stats, "tests": self.tests}
        json.dumps(out, allow_nan=False)
        return out

    def summary(self) -> str:
        pct = int(round(100 * self.level))
        lines = [f"Comparison by {self.by}: {len(self.groups)} groups, metrics {', '.join(self.metrics)}",
                 f"  {'metric':<20} {'group':<16} {'n':>6} {'mean':>8} {pct}% CI (mean)      {'median':>8}"
                 f" {'share=1':>8}"]
        for s in self.stats:
            lo, hi = s["mean_ci"]
            ci = f"[{_fmt(lo)}, {_fmt(hi)}]"
            lines.append(f"  {s['metric']:<20} {str(s['group']):<16} {s['n']:>6} {_fmt(s['mean']):>8} {ci:<19}"
                         f" {_fmt(s['median']):>8} {_fmt(s['share_one']):>8}")
        if self.tests:
            lines.append(f"  permutation tests (KS distance, {self.n_perm} relabelings; q = Benjamini-Hochberg):")
            for t in self.tests:
                lines.append(f"  {t['metric']:<20} {t['group_a']} vs {t['group_b']}: D = {_fmt(t['D'])}, "
                             f"diff mean = {_fmt(t['diff_mean'])}, p = {t['p_value']:.4g}, q = {t['q_value']:.4g}")
        return "\n".join(lines)


def _fmt(v) -> str:
    return "nan" if v is None else f"{v:.4f}"


def _bootstrap(y: np.ndarray, n_boot: int, rng: np.random.Generator, level: float):
    """Percentile bootstrap intervals of the mean and the median of y."""
    n = y.size
    means = np.empty(n_boot)
    medians = np.empty(n_boot)
    step = max(1, _BLOCK // n)
    for i in range(0, n_boot, step):
        k = min(step, n_boot - i)
        draw = y[rng.integers(0, n, size=(k, n))]
        means[i : i + k] = draw.mean(axis=1)
        medians[i : i + k] = np.median(draw, axis=1)
    a = (1 - level) / 2
    return np.quantile(means, [a, 1 - a]), np.quantile(medians, [a, 1 - a])


def _ks(sorted_is_a: np.ndarray, ends: np.ndarray, na: int, nb: int) -> np.ndarray:
    """KS distance for label vectors (k, n) given in the order of the sorted pooled sample."""
    ca = np.cumsum(sorted_is_a, axis=-1, dtype=np.int64)[..., ends]
    cb = (ends + 1) - ca
    return np.abs(ca / na - cb / nb).max(axis=-1)


def _perm_test(ya: np.ndarray, yb: np.ndarray, n_perm: int, rng: np.random.Generator) -> tuple[float, float]:
    z = np.r_[ya, yb]
    order = np.argsort(z, kind="stable")
    zs = z[order]
    ends = np.r_[np.flatnonzero(zs[1:] != zs[:-1]), zs.size - 1]  # last index of each run of ties
    lab = np.r_[np.ones(ya.size, bool), np.zeros(yb.size, bool)]
    d_obs = float(_ks(lab[order], ends, ya.size, yb.size))
    n = z.size
    step = max(1, _BLOCK // n)
    hits = 0
    for i in range(0, n_perm, step):
        k = min(step, n_perm - i)
        perm = rng.permuted(np.broadcast_to(lab, (k, n)), axis=1)
        # A uniformly random relabeling of the pooled sample, read in sorted order.
        hits += int(np.count_nonzero(_ks(perm[:, order], ends, ya.size, yb.size) >= d_obs - 1e-12))
    return d_obs, (1 + hits) / (1 + n_perm)


def compare(frame, by, *, metrics=None, n_boot: int = 2000, n_perm: int = 2000, level: float = 0.95,
            seed=None) -> CompareResult:
    """Compare revealed-preference metrics across groups of subjects.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per subject, e.g. the output of :func:`ribum.analyze` with a
        group column added (or the group as an index level).
    by : str
        Column (or index level) holding the group label (model, temperature, persona...).
    metrics : sequence of str or None
        Columns to compare; default: those of ccei, houtman_maks,
        bronars_power and predictive_success present in ``frame``.
    n_boot : int
        Bootstrap resamples per group and metric (percentile intervals of the
        mean and the median at ``level``).
    n_perm : int
        Random relabelings per permutation test (module docstring: KS
        distance, p = (1 + #{D_b >= D}) / (1 + B), Benjamini-Hochberg q-values
        across all pairs and metrics).
    level : float in (0, 1)
    seed : int, numpy.random.Generator or None

    Returns
    -------
    CompareResult

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"model": ["a"] * 4 + ["b"] * 4,
    ...                    "ccei": [1.0, 0.99, 0.97, 1.0, 0.80, 0.85, 0.9, 0.7]})
    >>> res = compare(df, "model", metrics=["ccei"], n_boot=200, n_perm=200, seed=0)
    >>> res.tests[0]["D"], res.tests[0]["p_value"] < 0.05
    (1.0, True)
    """
    import pandas as pd
    from scipy.stats import false_discovery_control

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if not isinstance(by, str):
        raise ValueError(f"by must be a column name (str), got {by!r}")
    if by in frame.columns:
        labels = frame[by]
    elif by in (frame.index.names or []):
        labels = pd.Series(frame.index.get_level_values(by), index=frame.index)
    else:
        raise ValueError(f"by={by!r} is neither a column nor an index level of frame (columns {list(frame.columns)})")
    if labels.isna().any():
        raise ValueError(f"group column {by!r} has missing values")
    if metrics is None:
        names = [m for m in DEFAULT_METRICS if m in frame.columns]
        if not names:
            raise ValueError(f"frame has none of the default metrics {DEFAULT_METRICS}; pass metrics=")
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        missing = [m for m in names if m not in frame.columns]
        if missing or not names:
            raise ValueError(f"metrics {missing or names} are not columns of frame ({list(frame.columns)})")
    n_boot = check_positive_int(n_boot, "n_boot")
    n_perm = check_positive_int(n_perm, "n_perm")
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    seed_out = int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None
    rng = check_random_state(seed)
    codes, groups = pd.factorize(labels, sort=False)
    groups = list(groups)
    values: dict = {}
    for m in names:
        col = frame[m]
        if col.dtype.kind not in "biuf":
            raise ValueError(f"metric column {m!r} is not numeric (dtype {col.dtype})")
        y = col.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"metric column {m!r} has NaN or infinite values")
        values[m] = {g: np.sort(y[codes == k]) for k, g in enumerate(groups)}
    stats = []
    for m in names:
        for g in groups:
            y = values[m][g]
            mean_ci, med_ci = _bootstrap(y, n_boot, rng, level)
            stats.append({"metric": m, "group": str(g), "n": int(y.size), "mean": _num(y.mean()),
                          "median": _num(np.median(y)), "sd": _num(y.std(ddof=1)) if y.size > 1 else None,
                          "share_one": _num(np.mean(y == 1.0)),
                          "mean_ci": [_num(v) for v in mean_ci], "median_ci": [_num(v) for v in med_ci]})
    tests = []
    for m in names:
        for a, b in combinations(groups, 2):
            ya, yb = values[m][a], values[m][b]
            d, p = _perm_test(ya, yb, n_perm, rng)
            tests.append({"metric": m, "group_a": str(a), "group_b": str(b), "statistic": "KS", "D": _num(d),
                          "diff_mean": _num(ya.mean() - yb.mean()), "p_value": float(p)})
    if tests:
        q = false_discovery_control(np.array([t["p_value"] for t in tests]), method="bh")
        for t, qv in zip(tests, q, strict=True):
            t["q_value"] = float(qv)
    return CompareResult(by=by, groups=groups, metrics=names, stats=stats, tests=tests, n_boot=n_boot,
                         n_perm=n_perm, level=level, seed=seed_out, values=values)


def plot_ccei_ecdf(result: CompareResult, path, *, metric: str = "ccei", title: str | None = None) -> Path:
    """Empirical CDFs of a metric (CCEI by default) per group, one step curve each, to a PNG.

    The curve of group g at v is the share of its subjects with value <= v;
    a curve further right and lower means more rational subjects.

    Example
    -------
    >>> import pandas as pd, tempfile, os
    >>> df = pd.DataFrame({"model": ["a", "a", "b", "b"], "ccei": [1.0, 0.9, 0.8, 0.95]})
    >>> res = compare(df, "model", n_boot=50, n_perm=50, seed=0)
    >>> out = plot_ccei_ecdf(res, os.path.join(tempfile.mkdtemp(), "ecdf.png"))
    >>> out.suffix
    '.png'
    """
    if not isinstance(result, CompareResult):
        raise ValueError(f"result must be a CompareResult, got {type(result).__name__}")
    if metric not in result.values:
        raise ValueError(f"metric {metric!r} was not compared (metrics: {result.metrics})")
    from .plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for g in result.groups:
        y = result.values[metric][g]
        xs = np.r_[y, 1.0] if metric == "ccei" else y
        ys = np.r_[np.arange(1, y.size + 1) / y.size, 1.0] if metric == "ccei" else np.arange(1, y.size + 1) / y.size
        ax.step(xs, ys, where="post", label=f"{g} (n = {y.size})")
    label = "CCEI (Afriat efficiency)" if metric == "ccei" else metric
    ax.set_xlabel(label)
    ax.set_ylabel(f"share of subjects with {metric} <= x")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or f"{label} by {result.by}")
    ax.legend(title=result.by, fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
