"""PNG plots of macro runs (matplotlib, Agg backend, imported lazily)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt



def _save(plt, fig, path) -> Path:
    """Lay out, write ``fig`` as PNG to ``path`` and free it."""
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

def plot_series(results, path) -> Path:
    """Annual inflation, unemployment, real GDP growth and wage inflation per seed (2x2 PNG)."""
    plt = _plt()
    results = results if isinstance(results, (list, tuple)) else [results]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    keys = [("inflation", "annual price inflation"), ("unemployment", "unemployment rate"),
            ("real_gdp_growth", "real GDP growth"), ("wage_inflation", "wage inflation")]
    for ax, (k, title) in zip(axes.ravel(), keys, strict=False):
        for i, r in enumerate(results):
            v = getattr(r.annual(), k)
            # A series with one finite value would draw nothing as a line: always mark the points.
            ax.plot(np.arange(1, v.size + 1), v, alpha=0.6, lw=1, marker="o", ms=3, label=f"seed {i}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(title)
        ax.set_xlabel("year")
    if len(results) <= 10:
        axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{results[0].policy.get('name')} households, {len(results)} seed(s)")
    return _save(plt, fig, path)


def plot_curve(fit, path) -> Path:
    """Scatter of a :class:`~macro.metrics.CurveFit` (colour = seed) with its fitted line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    x, y = np.asarray(fit.x), np.asarray(fit.y)
    if x.size:
        seeds = np.asarray(fit.seed_index)
        for i, sd in enumerate(np.unique(seeds)):
            m = seeds == sd
            ax.scatter(x[m], y[m], color=plt.cm.viridis(i / max(len(np.unique(seeds)) - 1, 1)), s=14, alpha=0.8,
                       label=f"seed {int(sd)}" if len(np.unique(seeds)) <= 10 else None)
        if np.isfinite(fit.slope) and np.isfinite(fit.r) and np.isfinite(fit.p_value):
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, fit.intercept + fit.slope * xs, "r-",
                    label=f"r = {fit.r:+.2f} (p = {fit.p_value:.2g})")
        elif x.size < 4:
            ax.text(0.5, 0.95, f"{x.size} point(s): too few for a fit", transform=ax.transAxes, ha="center", va="top")
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no finite points", transform=ax.transAxes, ha="center")
    ax.set_xlabel(fit.x_name)
    ax.set_ylabel(fit.y_name)
    ax.set_title(fit.name)
    return _save(plt, fig, path)


def plot_regret(regret, path) -> Path:
    """Cumulative welfare regret of each planner run against the best fixed schedule."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for k, v in regret.cumulative_regret.items():
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", label=k)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("planner period")
    ax.set_ylabel("cumulative regret (welfare)")
    ax.set_title(f"regret vs best fixed schedule ({regret.best_schedule})")
    ax.legend()
    return _save(plt, fig, path)


def plot_regret_curves(rc, path, names=None) -> Path:
    """Mean cumulative regret against horizon (periods) with 95 % bands, log-log axes inset slopes."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    names = names or [n for n in rc.mean if rc.kind[n] == "planner"] + [
        n for n in rc.mean if rc.kind[n] == "fixed" and any(k in n for k in ("flat 0%", "US2018 x1"))
        and not n.endswith("x1.5")]
    k = np.arange(1, rc.n_periods + 1)
    for name in names:
        m = np.asarray(rc.mean[name], dtype=float)
        lo = np.asarray(rc.ci_low[name], dtype=float)
        hi = np.asarray(rc.ci_high[name], dtype=float)
        ls = "--" if rc.kind[name] == "fixed" else "-"
        line, = axes[0].plot(k, m, ls, marker="o", ms=2, label=f"{name} (slope {rc.slope[name]:.2f})")
        axes[0].fill_between(k, lo, hi, color=line.get_color(), alpha=0.15)
        pos = m > 0
        axes[1].loglog(k[pos], m[pos], ls, marker="o", ms=2, color=line.get_color())
    axes[0].axhline(0, color="k", lw=0.5)
    axes[0].set_xlabel("horizon (periods)")
    axes[0].set_ylabel("cumulative regret (welfare)")
    axes[0].set_title(f"mean over {len(rc.seeds)} seeds, 95% t band")
    axes[0].legend(fontsize=6)
    axes[1].loglog(k, k * max(1e-9, float(np.nanmax([np.nanmax(rc.mean[n]) for n in names]))) / k[-1], "k:",
                   lw=0.8, label="slope 1 (linear)")
    axes[1].set_xlabel("horizon (periods, log)")
    axes[1].set_ylabel("mean cumulative regret (log)")
    axes[1].legend(fontsize=7)
    return _save(plt, fig, path)


def plot_flat_tax(flat, path) -> Path:
    """Welfare against the flat tax rate, mean over seeds with 95 % t interval."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    r = 100 * np.asarray(flat.rates, dtype=float)
    m = np.asarray(flat.mean, dtype=float)
    lo = np.asarray(flat.ci_low, dtype=float)
    hi = np.asarray(flat.ci_high, dtype=float)
    ax.errorbar(r, m, yerr=[np.nan_to_num(m - lo), np.nan_to_num(hi - m)], marker="o", capsize=3)
    ax.axvline(100 * flat.best_rate, color="r", lw=0.8, ls="--", label=f"optimum {100 * flat.best_rate:.0f}%")
    ax.set_xlabel("flat tax rate (%)")
    ax.set_ylabel("social welfare")
    ax.set_title(f"welfare vs flat tax, {len(flat.seeds)} seeds")
    ax.legend()
    return _save(plt, fig, path)
