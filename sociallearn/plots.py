"""Plots for social learning results (matplotlib, Agg backend, PNG output).

Each function takes a result object, draws on ``ax`` (a new figure when None),
saves a PNG when ``path`` is given and returns the matplotlib Figure.
matplotlib is imported only here, so ``import sociallearn`` stays light.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "plot_belief_paths",
    "plot_action_paths",
    "plot_cascade_time_histogram",
    "plot_herding_vs_prior",
    "plot_cascade_region",
]


def _axes(ax, figsize=(6.4, 4.0)):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


def plot_belief_paths(result, state: int = 0, n_paths: int = 20, ax=None, path=None):
    """Public belief ``pi_k(state)`` against the agent index for the first ``n_paths`` runs.

    Dots mark the cascade times (the belief is frozen after them for a static state).

    >>> from sociallearn import SocialLearningModel, simulate
    >>> res = simulate(SocialLearningModel.binary_symmetric(0.7), [0.5, 0.5], 20, 50, seed=0)
    >>> fig = plot_belief_paths(res)
    """
    fig, ax = _axes(ax)
    pb = result.public_beliefs
    if not 0 <= state < pb.shape[2]:
        raise ValueError(f"state must lie in 0..{pb.shape[2] - 1}, got {state}")
    n = min(n_paths, pb.shape[0])
    k = np.arange(pb.shape[1])
    for r in range(n):
        line, = ax.plot(k, pb[r, :, state], lw=1, alpha=0.7, drawstyle="steps-post")
        t = result.cascade_time[r]
        if t >= 0:
            ax.plot([t], [pb[r, t, state]], "o", ms=3, color=line.get_color())
    ax.set_xlabel("agent k")
    ax.set_ylabel(f"public belief $\\pi_k({state})$")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"public belief paths ({n} runs; dots: cascade starts)")
    return _finish(fig, path)


def plot_action_paths(result, n_paths: int = 40, ax=None, path=None):
    """Actions of the first ``n_paths`` runs as an image (run x agent), cascade times marked.

    >>> from sociallearn import SocialLearningModel, simulate
    >>> fig = plot_action_paths(simulate(SocialLearningModel.binary_symmetric(0.7), [0.5, 0.5], 20, 50, seed=0))
    """
    fig, ax = _axes(ax)
    acts = np.asarray(result.actions)
    if acts.shape[1] == 0:
        raise ValueError("the result has no recorded actions (simulate(..., record_paths=False))")
    n = min(n_paths, acts.shape[0])
    A = result.model.n_actions
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if A <= 10 else "viridis", A)
    im = ax.imshow(acts[:n], aspect="auto", interpolation="nearest", cmap=cmap, vmin=-0.5, vmax=A - 0.5,
                   extent=(0.5, acts.shape[1] + 0.5, n - 0.5, -0.5))
    t = result.cascade_time[:n]
    rows = np.flatnonzero(t >= 0)
    ax.plot(t[rows] + 0.5, rows, "k|", ms=6, label="cascade starts")
    fig.colorbar(im, ax=ax, ticks=range(A), label="action")
    ax.set_xlabel("agent k")
    ax.set_ylabel("run")
    ax.set_title("actions per run")
    ax.legend(loc="upper right", fontsize=8)
    return _finish(fig, path)


def plot_cascade_time_histogram(result, exact=None, ax=None, path=None):
    """Histogram of the cascade time; optionally overlays an exact pmf.

    ``result`` is a SimulationResult or an array of cascade times (``-1``:
    none); ``exact`` a CascadeDistribution or CascadeTimeResult or pmf array.

    >>> import numpy as np
    >>> fig = plot_cascade_time_histogram(np.array([2, 2, 4, 2, 6, -1]))
    """
    fig, ax = _axes(ax)
    times = np.asarray(getattr(result, "cascade_time", result))
    done = times[times >= 0]
    if done.size:
        bins = np.arange(done.max() + 2) - 0.5
        ax.hist(done, bins=bins, density=False, weights=np.full(done.size, 1.0 / times.size),
                alpha=0.7, label=f"simulation ({times.size} runs)")
    if exact is not None:
        pmf = np.asarray(getattr(exact, "time_pmf", getattr(exact, "pmf", exact)))
        upto = int(done.max()) + 1 if done.size else pmf.size
        ax.plot(np.arange(min(upto, pmf.size)), pmf[:upto], "k.", label="exact")
    censored = np.mean(times < 0)
    ax.set_xlabel("cascade time T (agents before the herd)")
    ax.set_ylabel("probability")
    ax.set_title("cascade time" + (f" ({100 * censored:.1f}% no cascade)" if censored > 0 else ""))
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_herding_vs_prior(herding, coordinate: int = 0, ax=None, path=None):
    """Probability of a wrong cascade (with 2 s.e. bars) against ``prior[coordinate]``.

    ``herding`` is a :class:`~sociallearn.HerdingResult` computed on several priors.

    >>> import numpy as np
    >>> from sociallearn import SocialLearningModel, herding_probability
    >>> h = herding_probability(SocialLearningModel.binary_symmetric(0.7),
    ...                         np.array([[p, 1 - p] for p in (0.2, 0.5, 0.8)]), method="exact")
    >>> fig = plot_herding_vs_prior(h)
    """
    fig, ax = _axes(ax)
    x = herding.priors[:, coordinate]
    order = np.argsort(x)
    ax.errorbar(x[order], herding.p_wrong[order], yerr=2 * herding.se_wrong[order], marker="o", ms=3,
                capsize=2, label="P(wrong cascade)")
    ax.plot(x[order], herding.p_no_cascade[order], ls="--", lw=1, label="P(no cascade in horizon)")
    ax.set_xlabel(f"prior $\\pi_0({coordinate})$")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    state = "drawn from the prior" if herding.true_state is None else f"x = {herding.true_state}"
    ax.set_title(f"wrong herding vs prior ({herding.method}, state {state})")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_cascade_region(region, ax=None, path=None):
    """The cascade set: coloured intervals of ``pi(0)`` for X = 2, a ternary
    scatter of the simplex grid for X = 3.

    >>> from sociallearn import SocialLearningModel, cascade_region
    >>> fig = plot_cascade_region(cascade_region(SocialLearningModel.binary_symmetric(0.7)))
    """
    fig, ax = _axes(ax, figsize=(6.4, 2.4) if region.intervals is not None else (5.5, 5.0))
    import matplotlib.pyplot as plt

    A = region.model.n_actions
    colors = plt.get_cmap("tab10")
    if region.intervals is not None:
        ax.axhspan(0, 1, color="0.9")
        seen = set()
        for iv in region.intervals:
            label = None if iv.action in seen else f"herd on action {iv.action}"
            seen.add(iv.action)
            ax.axvspan(iv.lo, iv.hi, color=colors(iv.action % 10), alpha=0.8, label=label)
        for t in region.thresholds:
            ax.axvline(t, color="k", lw=0.8)
            ax.text(t, 1.05, f"{t:.3f}", ha="center", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.2)
        ax.set_yticks([])
        ax.set_xlabel("public belief $\\pi(0)$ (grey: agents still learn)")
        ax.legend(fontsize=8, loc="lower right")
    elif region.grid.shape[1] == 3:
        g = region.grid
        px = g[:, 1] + 0.5 * g[:, 2]
        py = np.sqrt(3) / 2 * g[:, 2]
        act = region.grid_action
        ax.scatter(px[act < 0], py[act < 0], s=4, color="0.85", label="agents learn")
        for a in range(A):
            sel = act == a
            if sel.any():
                ax.scatter(px[sel], py[sel], s=4, color=colors(a % 10), label=f"herd on action {a}")
        for (x, y), name in zip([(0, 0), (1, 0), (0.5, np.sqrt(3) / 2)], ["x=0", "x=1", "x=2"], strict=True):
            ax.annotate(name, (x, y), ha="center", va="top" if y == 0 else "bottom")
        ax.set_aspect("equal")
        ax.axis("off")
        ax.legend(fontsize=8, loc="upper right", markerscale=3)
    else:
        raise ValueError("plot_cascade_region draws X = 2 or X = 3; use region.grid for more states")
    ax.set_title("information cascade set")
    return _finish(fig, path)
