"""Figures of the herding, control and reproduction reports (matplotlib, Agg, PNG).

Imported lazily by the pipelines so that ``import llmsl.herd`` stays light.
Every function takes plain arrays, saves one PNG and returns its path.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..figures import pyplot, save_figure

_plt = pyplot
_save = save_figure


def plot_likelihood(B: np.ndarray, lower: np.ndarray, upper: np.ndarray, path, *,
                    state_labels: Sequence[str], obs_labels: Sequence[str], title: str = "") -> Path:
    """Heatmap of the estimated likelihood ``B[x, y]`` annotated with its 95% interval."""
    plt = _plt()
    X, Y = B.shape
    fig, ax = plt.subplots(figsize=(1.2 * Y + 2.5, 0.7 * X + 1.8))
    im = ax.imshow(B, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for x in range(X):
        for y in range(Y):
            ax.text(y, x, f"{B[x, y]:.2f}\n[{lower[x, y]:.2f},{upper[x, y]:.2f}]", ha="center",
                    va="center", fontsize=7, color="w" if B[x, y] < 0.6 else "k")
    ax.set_xticks(range(Y), obs_labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(X), state_labels, fontsize=8)
    ax.set_xlabel("observation y (LLM label)")
    ax.set_ylabel("state x")
    ax.set_title(title or "estimated likelihood B[x, y] = P(y | x) (95% interval)", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    return _save(fig, path)


def plot_wrong_herding(priors: np.ndarray, p_wrong: np.ndarray, se: np.ndarray, path, *,
                       per_state: np.ndarray | None = None, state_labels: Sequence[str] = (),
                       thresholds: Sequence[float] = (), xlabel: str = "initial public belief pi0(x=0)",
                       title: str = "") -> Path:
    """Probability of a cascade on a wrong action versus the initial public belief (+-2 s.e.)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    if per_state is not None:
        for x in range(per_state.shape[1]):
            ax.plot(priors, per_state[:, x], lw=0.9, alpha=0.7,
                    label=f"true {state_labels[x] if state_labels else x}")
    ax.plot(priors, p_wrong, "k-", lw=2, label="state drawn from the prior")
    ax.fill_between(priors, np.clip(p_wrong - 2 * se, 0, 1), np.clip(p_wrong + 2 * se, 0, 1),
                    color="k", alpha=0.15, lw=0)
    for t in thresholds:
        ax.axvline(t, color="r", ls=":", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("P(cascade on a wrong action)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "wrong herding vs prior (band: +-2 s.e.; red: cascade thresholds)", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return _save(fig, path)


def plot_cascade_times(times: np.ndarray, path, *, n_agents: int, n_never: int = 0, title: str = "") -> Path:
    """Histogram of the cascade time (agents before the public belief freezes)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    times = np.asarray(times)
    if times.size:
        bins = np.arange(-0.5, max(int(times.max()), 1) + 1.5, 1.0)
        ax.hist(times, bins=bins, color="C0", alpha=0.8, density=True)
        ax.axvline(times.mean(), color="k", ls="--", lw=1, label=f"mean {times.mean():.2f}")
        ax.legend(fontsize=8)
    ax.set_xlabel("cascade time (agent index at which the cascade starts)")
    ax.set_ylabel("fraction of runs")
    extra = f"; {n_never} runs without a cascade in {n_agents} agents" if n_never else ""
    ax.set_title((title or "cascade time distribution") + extra, fontsize=9)
    return _save(fig, path)


def plot_cascade_membership(p_grid: np.ndarray, member: np.ndarray, posterior_member: np.ndarray | None, path, *,
                            thresholds: Sequence[float] = (), intervals: Sequence[Sequence[float | None]] = (),
                            xlabel: str = "public belief pi(x=0) along the prior family", title: str = "") -> Path:
    """Cascade set along a one-parameter family of public beliefs, with posterior uncertainty."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.step(p_grid, member.astype(float), where="mid", color="k", lw=1.5, label="in cascade (estimated B)")
    if posterior_member is not None:
        ax.plot(p_grid, posterior_member, color="C1", lw=1.2, label="posterior P(in cascade)")
    ivs: list = list(intervals) if intervals else [None] * len(thresholds)
    for t, iv in zip(thresholds, ivs, strict=True):
        ax.axvline(t, color="r", ls=":", lw=1)
        if iv is not None and iv[0] is not None:
            ax.axvspan(iv[0], iv[1], color="r", alpha=0.12, lw=0)
    ax.set_xlabel(xlabel)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title or "cascade region (red: thresholds with 95% posterior intervals)", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return _save(fig, path)


def plot_heatmap(z: np.ndarray, xs: np.ndarray, ys: np.ndarray, path, *, xlabel: str, ylabel: str,
                 clabel: str, title: str = "") -> Path:
    """A heatmap ``z[i_y, i_x]`` over two parameter grids (e.g. threshold vs prior)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    dx = (xs[1] - xs[0]) / 2 if xs.size > 1 else 0.5
    dy = (ys[1] - ys[0]) / 2 if ys.size > 1 else 0.5
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=1,
                   extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy))
    fig.colorbar(im, ax=ax, label=clabel)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_value_function(grid: np.ndarray, values: np.ndarray, stop_cost: np.ndarray, policy: np.ndarray, path, *,
                        thresholds: Sequence[float] = (), title: str = "") -> Path:
    """Value function V(pi) and stopping cost over pi(x=0); shaded where continuing is optimal."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(grid, stop_cost, "C1--", lw=1.2, label="stopping cost C_s(pi)")
    ax.plot(grid, values, "C0-", lw=2, label="value V(pi)")
    cont = np.asarray(policy).astype(bool)
    if cont.any():
        ax.fill_between(grid, 0, 1, where=cont, transform=ax.get_xaxis_transform(), color="C2", alpha=0.12,
                        lw=0, label="continue (reveal) region")
    for t in thresholds:
        ax.axvline(t, color="r", ls=":", lw=1)
    ax.set_xlabel("public belief pi(x=0)")
    ax.set_ylabel("expected discounted cost")
    ax.set_title(title or "optimal stopping: value function and policy", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_spsa_path(thresholds_path: np.ndarray, path, *, vi_threshold: float, lattice: float | None = None,
                   costs: np.ndarray | None = None, title: str = "") -> Path:
    """SPSA iterates of the threshold against the value-iteration threshold (band: lattice spacing)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2 if costs is not None else 1, figsize=(10 if costs is not None else 6.5, 3.8))
    axes = np.atleast_1d(axes)
    ax = axes[0]
    it = np.arange(len(thresholds_path))
    ax.plot(it, thresholds_path, "C0-", lw=1.2, label="SPSA threshold")
    ax.axhline(vi_threshold, color="r", ls="--", lw=1.2, label="value-iteration threshold")
    if lattice:
        ax.axhspan(vi_threshold - lattice, vi_threshold + lattice, color="r", alpha=0.1, lw=0,
                   label="+- lattice spacing")
    ax.set_xlabel("SPSA iteration")
    ax.set_ylabel("threshold on pi(x=0)")
    ax.legend(fontsize=7)
    ax.set_title(title or "SPSA on the threshold policy", fontsize=9)
    if costs is not None:
        axes[1].plot(np.arange(len(costs)), costs, "C1-", lw=0.8)
        axes[1].set_xlabel("SPSA iteration")
        axes[1].set_ylabel("simulated cost")
    return _save(fig, path)


def plot_incentive_tradeoff(thresholds: np.ndarray, paid: np.ndarray, accuracy: np.ndarray, path, *,
                            paid_se: np.ndarray | None = None, acc_se: np.ndarray | None = None,
                            xlabel: str = "incentive threshold on pi(x=0)", title: str = "") -> Path:
    """Incentive paid and accuracy of the final estimate as the threshold varies."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.errorbar(thresholds, paid, yerr=None if paid_se is None else 2 * paid_se, color="C0", lw=1.5,
                label="incentive paid")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("expected total incentive paid", color="C0")
    ax2 = ax.twinx()
    ax2.errorbar(thresholds, accuracy, yerr=None if acc_se is None else 2 * acc_se, color="C3", lw=1.5,
                 label="accuracy")
    ax2.set_ylabel("accuracy of the final estimate", color="C3")
    ax2.set_ylim(-0.02, 1.02)
    ax.set_title(title or "incentives: paid vs accuracy (bars: +-2 s.e.)", fontsize=9)
    return _save(fig, path)


def plot_belief_paths(beliefs: np.ndarray, path, *, component: int = 0, n_show: int = 20, title: str = "") -> Path:
    """A few public-belief paths ``pi_k(component)`` over agents k."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for r in range(min(n_show, beliefs.shape[0])):
        ax.plot(beliefs[r, :, component], lw=0.8, alpha=0.7)
    ax.set_xlabel("agent k")
    ax.set_ylabel(f"public belief pi_k(x={component})")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "public belief paths", fontsize=9)
    return _save(fig, path)


def plot_herd_actions(p: np.ndarray, freq: np.ndarray, path, *, action_labels: Sequence[str],
                      p_none: np.ndarray | None = None, xlabel: str = "initial public belief",
                      title: str = "") -> Path:
    """Stacked probabilities of the herd's action (and of no cascade) versus the prior."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    parts = [freq[:, a] for a in range(freq.shape[1])]
    labels = [f"herd on {l}" for l in action_labels]
    if p_none is not None:
        parts.append(p_none)
        labels.append("no cascade")
    ax.stackplot(p, *parts, labels=labels, alpha=0.85)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def plot_incentive_example(example: dict, path) -> Path:
    """Public belief paths without and with incentives, and the cumulative incentive paid."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for name, col in (("no_incentive", "C3"), ("incentive", "C0")):
        e = example[name]
        k = np.arange(len(e["mean_belief"]))
        ax.plot(k, e["mean_belief"], color=col, lw=2, label=name.replace("_", " ") + " (mean)")
        ax.fill_between(k, e["q10_belief"], e["q90_belief"], color=col, alpha=0.15, lw=0)
        ax.plot(k, e["example_path"], color=col, lw=0.8, ls="--")
    t = example["threshold"]
    ax.axhline(1 - t, color="k", ls=":", lw=1, label="pay region edge 1 - t")
    ax.set_xlabel("agent k")
    ax.set_ylabel("public belief pi_k(x=0)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    ax.set_title("public belief (band: 10-90%, dashed: one run)", fontsize=9)
    axes[1].plot(example["incentive"]["mean_cumulative_paid"], "C0-", lw=2)
    axes[1].set_xlabel("agent k")
    axes[1].set_ylabel("mean cumulative incentive paid")
    axes[1].set_title("incentive paid", fontsize=9)
    return _save(fig, path)
