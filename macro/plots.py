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
    for ax, (k, title) in zip(axes.ravel(), keys):
        for r in results:
            v = getattr(r.annual(), k)
            ax.plot(np.arange(1, v.size + 1), v, alpha=0.6, lw=1)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(title)
        ax.set_xlabel("year")
    fig.suptitle(f"{results[0].policy.get('name')} households, {len(results)} seed(s)")
    return _save(plt, fig, path)


def plot_curve(fit, path) -> Path:
    """Scatter of a :class:`~macro.metrics.CurveFit` (colour = seed) with its fitted line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    x, y = np.asarray(fit.x), np.asarray(fit.y)
    if x.size:
        ax.scatter(x, y, c=np.asarray(fit.seed_index), cmap="viridis", s=14, alpha=0.8)
        if np.isfinite(fit.slope):
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, fit.intercept + fit.slope * xs, "r-",
                    label=f"r = {fit.r:+.2f} (p = {fit.p_value:.2g})")
            ax.legend()
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
