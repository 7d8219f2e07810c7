"""Plots for the control package (matplotlib, Agg backend, imported lazily).

Each function returns the matplotlib Figure and, with ``path=``, saves it as PNG.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_value_function", "plot_spsa_path", "plot_cost_vs_threshold"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def plot_value_function(solution, path=None):
    """``V``, ``C_s`` and ``Q_c`` over ``pi(0)`` with the continue region shaded (X = 2).

    >>> # fig = plot_value_function(value_iteration(prob), "value.png")
    """
    solution._need_1d("plot_value_function")
    plt = _plt()
    p = solution.grid.points[:, 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(p, solution.stop_values, "--", label="stop cost $C_s(\\pi)$")
    ax.plot(p, solution.continue_values, ":", label="continue $Q_c(\\pi)$")
    ax.plot(p, solution.values, "k", lw=1.5, label="value $V(\\pi)$")
    for lo, hi in solution.continue_region:
        ax.axvspan(lo, hi, color="C2", alpha=0.15, label="continue region")
    ax.set_xlabel("public belief $\\pi(0)$")
    ax.set_ylabel("expected discounted cost")
    ax.legend()
    ax.set_title(f"Optimal stopping ({solution.method}, N = {solution.grid.size})")
    return _save(fig, path)


def plot_spsa_path(result, vi_solution=None, path=None):
    """Thresholds along the SPSA iterations, with the value-iteration thresholds as lines.

    ``result`` is a :class:`~control.threshold.ThresholdOptimization`.
    """
    plt = _plt()
    th = result.threshold_history
    fig, ax = plt.subplots(figsize=(6, 4))
    for j in range(th.shape[1]):
        ax.plot(th[:, j], color=f"C{j}", label=f"SPSA threshold {j + 1}")
    if vi_solution is not None:
        for j, t in enumerate(vi_solution.thresholds):
            ax.axhline(t, color=f"C{j}", ls="--", label=f"value iteration {j + 1}")
    ax.set_xlabel("SPSA iteration")
    ax.set_ylabel("threshold in $\\pi(0)$")
    ax.set_ylim(0, 1)
    ax.legend()
    return _save(fig, path)


def plot_cost_vs_threshold(model, prior, thresholds=None, *, kind="symmetric", tau=0.0, n_runs=2000, seed=0,
                           vi_solution=None, path=None, **cost_kwargs):
    """Simulated cost of a one-parameter threshold policy against its threshold.

    Common random numbers (one ``seed``) make the piecewise-constant structure of
    the hard policy's cost (the belief lattice) visible.
    """
    from .threshold import ThresholdPolicy, policy_cost

    plt = _plt()
    t = np.linspace(0.0, 0.5 if kind == "symmetric" else 1.0, 101) if thresholds is None else np.asarray(thresholds)
    costs = np.array([policy_cost(model, ThresholdPolicy.from_thresholds(x, tau, kind), prior, n_runs=n_runs,
                                  seed=seed, **cost_kwargs).mean for x in t])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(t, costs, "k.-", ms=3, label=f"{kind} threshold, tau = {tau}")
    if vi_solution is not None:
        ax.axvline(vi_solution.thresholds[0], color="C3", ls="--", label="value iteration")
    ax.set_xlabel("threshold")
    ax.set_ylabel("expected discounted cost")
    ax.legend()
    return _save(fig, path)
