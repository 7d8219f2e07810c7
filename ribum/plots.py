"""Plots for :mod:`ribum` results (matplotlib, Agg backend, imported lazily)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_afriat_utility", "plot_bootstrap", "plot_utilities"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_afriat_utility(utility, path, *, goods=(0, 1), n_grid: int = 120):
    """Contours of an Afriat utility in two goods (others held at their mean), with the data.

    Parameters
    ----------
    utility : AfriatUtility
    path : str or Path of the PNG to write
    goods : the two goods on the axes

    Returns
    -------
    Path
    """
    plt = _plt()
    g0, g1 = goods
    q = utility.quantities
    base = q.mean(axis=0)
    a = np.linspace(0, q[:, g0].max() * 1.2, n_grid)
    b = np.linspace(0, q[:, g1].max() * 1.2, n_grid)
    A, B = np.meshgrid(a, b)
    pts = np.tile(base, (A.size, 1))
    pts[:, g0] = A.ravel()
    pts[:, g1] = B.ravel()
    Z = utility(pts).reshape(A.shape)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    cs = ax.contour(A, B, Z, levels=12, cmap="viridis")
    ax.clabel(cs, fontsize=7)
    ax.scatter(q[:, g0], q[:, g1], c="k", s=12, label="chosen bundles")
    ax.set_xlabel(f"good {g0}")
    ax.set_ylabel(f"good {g1}")
    ax.set_title(f"Afriat utility (e = {utility.efficiency:g})")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_bootstrap(result, path):
    """Histogram of bootstrap margins m*_b with m_hat, 0 and the basic interval."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(result.margins, bins=min(40, max(10, result.n_boot // 5)), color="0.6")
    ax.axvline(result.margin, color="C0", label=f"m* = {result.margin:.3g}")
    ax.axvline(0.0, color="k", ls=":", label="0 (consistency boundary)")
    ax.axvspan(result.ci[0], result.ci[1], color="C0", alpha=0.15, label=f"{int(100 * result.level)}% interval")
    ax.set_xlabel("max-margin m*")
    ax.set_ylabel("resamples")
    ax.set_title(f"RIBUM bootstrap (p = {result.pvalue:.3g})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_utilities(result, path):
    """Heat maps of the recovered utilities r_k(x, a), one panel per environment (at most 12)."""
    plt = _plt()
    U = result.utilities
    K = min(U.shape[0], 12)
    cols = min(K, 4)
    rows = int(np.ceil(K / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.6 * rows), squeeze=False)
    for k in range(rows * cols):
        ax = axes[k // cols][k % cols]
        if k >= K:
            ax.axis("off")
            continue
        im = ax.imshow(U[k], vmin=0, vmax=1, cmap="magma", aspect="auto")
        ax.set_title(f"env {k}: kappa = {result.costs[k]:.3g}", fontsize=9)
        ax.set_xlabel("action a")
        ax.set_ylabel("state x")
    fig.colorbar(im, ax=axes, shrink=0.8, label="r_k(x, a)")
    fig.suptitle(f"RIBUM utilities (m* = {result.margin:.3g}, {'pass' if result.passed else 'fail'})")
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
