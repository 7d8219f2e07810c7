"""Figures of the ``llmsl chain`` report (matplotlib, Agg, PNG); each function saves one file and returns its path."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..figures import pyplot, save_figure

_plt = pyplot
_save = save_figure


def plot_herd_times(groups: Sequence[dict], path, *, n_agents: int) -> Path:
    """Herd-time distribution of the observed chains (bars) versus the Bayesian prediction (lines).

    ``groups`` are :meth:`sociallearn.chains.PriorGroupAnalysis.to_dict` dictionaries.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(groups), 1)
    t = np.arange(n_agents)
    for j, g in enumerate(groups):
        pr = np.round(np.asarray(g["prior"], dtype=float), 2).tolist()
        obs = np.asarray(g["observed"]["herd_time_pmf"], dtype=float)
        ax.bar(t + (j - (len(groups) - 1) / 2) * width, obs, width=width, alpha=0.6,
               label=f"observed, prior {pr} ({g['n_chains']} chains)")
        pred = np.asarray(g["predicted"]["herd_time_pmf"], dtype=float)
        ax.plot(t, pred, "o-", ms=3, label=f"Bayesian filter with B (simulated), prior {pr}")
        ex = g.get("exact_cascade")
        if ex is not None:
            pmf = np.asarray(ex["cascade_time_pmf"], dtype=float)
            ax.step(np.arange(pmf.size), pmf, where="mid", ls="--", label=f"exact Bayesian cascade time, prior {pr}")
    ax.set_xlabel("herd time: agents before the final herd (cascade) begins")
    ax.set_ylabel("probability (share of chains)")
    ax.set_title("When do chains herd? observed versus the Bayesian prediction")
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_follow_own(threshold: dict, path) -> Path:
    """P(an agent follows its own text against the lead) versus the lead, with the threshold.

    ``threshold`` is :meth:`sociallearn.chains.CascadeThreshold.to_dict`.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    leads = np.asarray(threshold["leads"], dtype=float)
    n = np.asarray(threshold["n_disagree"], dtype=float)
    ok = n > 0

    def arr(key):
        return np.array([np.nan if v is None else v for v in threshold[key]], dtype=float)

    f, lo, hi, fb = arr("follow_own"), arr("follow_own_lower"), arr("follow_own_upper"), arr("follow_own_bayes")
    if ok.any():
        ax.errorbar(leads[ok], f[ok], yerr=[f[ok] - lo[ok], hi[ok] - f[ok]], fmt="o", capsize=3,
                    label="observed (Wilson interval)")
        ax.plot(leads[ok], fb[ok], "s--", ms=4, label="Bayesian filter with B")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":", label="1/2")
    thr, ci, tb = threshold.get("threshold"), threshold.get("threshold_interval") or [None, None], \
        threshold.get("threshold_bayes")
    if thr is not None:
        ax.axvline(thr, color="C3", label=f"empirical threshold {thr:g} [{ci[0]}, {ci[1]}]")
    if tb is not None:
        ax.axvline(tb, color="C2", ls="--", label=f"Bayesian threshold {tb:g}")
    ax.set_xlabel("lead of the trailing decision's rival in the history (|#a=1 - #a=0|)")
    ax.set_ylabel("P(agent follows its own text)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Agents whose text disagrees with the majority of the history")
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_belief_paths(beliefs: np.ndarray, states: np.ndarray, path, *, option: str, n_show: int = 30) -> Path:
    """Public belief ``pi_k(x = 1)`` along observed histories, coloured by the chains' true state."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    R, N1, _ = beliefs.shape
    k = np.arange(N1)
    shown: set[int] = set()
    for x in np.unique(states):
        idx = np.flatnonzero(states == x)[: max(1, n_show // max(1, np.unique(states).size))]
        for r in idx:
            lab = f"true state {int(x)}" if int(x) not in shown else None
            shown.add(int(x))
            ax.plot(k, beliefs[r, :, 1], color=f"C{int(x)}", alpha=0.5, lw=1, marker="." if N1 == 1 else None,
                    label=lab)
    ax.set_xlabel("agents who have decided (k)")
    ax.set_ylabel(f"public belief P({option!r} | history)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Public beliefs of a Bayesian observer along the observed chains")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_w_profile(profile: dict, path, *, w_hat, interval, cut: float) -> Path:
    """Profile log-likelihood of the herding strength ``w`` with its interval."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    w = np.asarray(profile["w"], dtype=float)
    ll = np.asarray(profile["log_likelihood"], dtype=float)
    ax.plot(w, ll, "-", marker="." if w.size < 60 else None, label="profile log-likelihood")
    if w_hat is not None:
        ax.axvline(w_hat, color="C3", label=f"w = {w_hat:.3f}")
        ax.axhline(np.nanmax(ll) - cut, color="grey", ls=":", label="interval cut-off")
    for v in interval:
        if v is not None:
            ax.axvline(v, color="C3", ls="--", lw=0.8)
    ax.axvline(1.0, color="C2", ls="-.", lw=0.8, label="w = 1 (Bayesian)")
    ax.set_xlabel("herding strength w (0 ignores others, 1 Bayesian, > 1 over-herds)")
    ax.set_ylabel("profile log-likelihood")
    ax.legend(fontsize=7)
    return _save(fig, path)
