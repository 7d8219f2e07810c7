"""Plots of an audit report (matplotlib, Agg backend, PNG files).

RIBUM audits: one heatmap of the recovered utilities ``r_k(x, a)`` per
environment, the action kernels ``p_k(a|x)``, the bootstrap distribution of
the NIAS/NIAC margin.  Per-environment figures draw at most
:data:`MAX_ENV_FIGURES` environments (their captions say so); ``report.json``
keeps every environment.  Budget audits: CCEI histogram (model vs uniformly random
choices on the same budgets), budget share against the log price ratio, and
the Afriat utility of the first subject.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..report import Figure

#: environments drawn in per-environment figures; report.json keeps every environment
MAX_ENV_FIGURES = 12


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", s).strip("_")[:40] or "env"


def _heatmap(ax, m, title, xlabels, ylabels, cmap, vmin=None, vmax=None):
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_title(title, fontsize=9)
    ax.set_xticks(range(m.shape[1]), xlabels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(m.shape[0]), ylabels, fontsize=7)
    if m.size <= 100:
        for (i, j), v in np.ndenumerate(m):
            r, g, b, _ = im.cmap(im.norm(v))
            # dark text on light cells, light text on dark ones (by luminance)
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black")
    return im


def _labels(design: dict, key: str, n: int) -> list[str]:
    names = design.get(key)
    return [str(v) for v in names] if names and len(names) == n else [str(i) for i in range(n)]


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)


def ribum_figures(r: dict[str, Any], design: dict[str, Any]) -> list[Figure]:
    """Figures of a RIBUM audit: recovered utilities per environment, kernels, bootstrap of the margin."""
    U = np.asarray(r["utilities"], dtype=float)
    Kn = np.asarray(r["kernels"], dtype=float)
    envs = list(r["environments"])
    K, X, A = Kn.shape
    xs, acts = _labels(design, "state_names", X), _labels(design, "action_names", A)
    figs = []

    def utility(k: int, e: str):
        def draw(path: Path) -> None:
            plt = _plt()
            fig, ax = plt.subplots(figsize=(1.6 + 0.6 * A, 1.2 + 0.45 * X))
            im = _heatmap(ax, U[k], f"recovered utility r(x, a), environment {e}", acts, xs, "viridis", 0.0, 1.0)
            ax.set_xlabel("action a")
            ax.set_ylabel("state x")
            fig.colorbar(im, ax=ax, fraction=0.046, label="utility r(x, a) (normalized to [0, 1])")
            _save(fig, path)
        return draw

    shown = list(range(min(K, MAX_ENV_FIGURES)))
    cap = (f" (environments 1 to {len(shown)} of {K} are drawn; report.json holds every environment)"
           if len(shown) < K else "")
    for k in shown:
        e = envs[k]
        figs.append(Figure(f"utility_{k}_{_slug(e)}.png",
                           f"Recovered utility r(x, a) in environment {e} (one solution of the LP)"
                           + (f"; environment {k + 1} of {K}, the first {len(shown)} are drawn" if cap else ""),
                           utility(k, e)))

    def kernels(path: Path) -> None:
        plt = _plt()
        n = len(shown)
        fig, axes = plt.subplots(1, n, figsize=(1.0 + (1.0 + 0.5 * A) * n, 1.4 + 0.45 * X), squeeze=False)
        im = None
        for k in shown:
            e = envs[k]
            ax = axes[0, k]
            im = _heatmap(ax, Kn[k], f"p(a|x), {e}", acts, xs if k == 0 else [""] * X, "Blues", 0.0, 1.0)
            ax.set_xlabel("action a")
            if k == 0:
                ax.set_ylabel("state x")
        fig.colorbar(im, ax=list(axes[0]), fraction=0.046 / max(n, 1) * 2, label="probability p(a | x)")
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)

    figs.append(Figure("kernels.png", "Action kernels p_k(a | x): how often each action follows each state" + cap,
                       kernels))
    boot = r.get("bootstrap") or {}
    if boot.get("margins"):
        m = np.asarray(boot["margins"], dtype=float)

        def bootstrap(path: Path) -> None:
            plt = _plt()
            fig, ax = plt.subplots(figsize=(5, 3.2))
            ax.hist(m, bins=min(30, max(5, m.size // 4)), color="0.6", edgecolor="k", label="replications")
            ax.axvline(r["margin"], color="C3", label=f"m* = {r['margin']:.3g}")
            ax.axvline(0.0, color="k", ls="--", lw=0.8, label="0 (fail)")
            ax.set_xlabel("NIAS/NIAC margin m*")
            ax.set_ylabel("bootstrap replications")
            ax.set_title(boot.get("kind", "bootstrap"), fontsize=8)
            ax.legend(fontsize=8)
            _save(fig, path)

        figs.append(Figure("margin_bootstrap.png", "Bootstrap distribution of the margin m*", bootstrap))
    return figs


def budget_figures(r: dict[str, Any]) -> list[Figure]:
    """Figures of a budget audit: CCEI versus random choices, shares against prices, one Afriat utility."""
    figs = []

    def ccei(path: Path) -> None:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(5, 3.2))
        bins = np.linspace(min(0.5, min(r["ccei"] + [c for c in r["random"]["ccei"] if c is not None] + [1.0])),
                           1.0, 26)
        ax.hist(r["random"]["ccei"], bins=bins, density=True, alpha=0.5, color="0.5", label="uniform random")
        ax.hist(r["ccei"], bins=bins, density=True, alpha=0.7, color="C0", label="model")
        ax.set_xlabel("CCEI (Afriat efficiency)")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
        _save(fig, path)

    figs.append(Figure("ccei_hist.png", "CCEI of the model's subjects and of uniformly random choices", ccei))
    P = np.asarray(r["prices"], dtype=float)
    S = np.asarray(r["shares"], dtype=float)

    def shares(path: Path) -> None:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(5, 3.2))
        framings = r.get("framing") or ["model"] * len(S)
        for i, f in enumerate(sorted(set(framings))):
            idx = [j for j, g in enumerate(framings) if g == f]
            ax.scatter(np.log(P[idx, :, 0] / P[idx, :, 1]).ravel(), S[idx].ravel(), s=10, color=f"C{i}", label=f)
        ax.set_xlabel("log(p1 / p2)")
        ax.set_ylabel("budget share on good 1")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=8)
        _save(fig, path)

    figs.append(Figure("shares.png", "Budget share of good 1 against the log price ratio", shares))
    first = r["subjects"][0]
    af = first.get("afriat") or {}
    if "U" in af:
        def afriat(path: Path) -> None:
            plt = _plt()
            Q = np.asarray(r["quantities"], dtype=float)[0]
            p = P[0]
            U, lam = np.asarray(af["U"]), np.asarray(af["lam"])
            e = float(af.get("efficiency", 1.0))
            g = np.linspace(0, Q.max() * 1.1 + 1e-9, 80)
            G1, G2 = np.meshgrid(g, g)
            pts = np.stack([G1.ravel(), G2.ravel()], axis=1)
            # u(x) = min_t U_t + lam_t (p_t.x - e p_t.x_t)  (Afriat at efficiency e)
            vals = (U[None, :] + lam[None, :] * (pts @ p.T - e * np.sum(p * Q, axis=1)[None, :])).min(axis=1)
            fig, ax = plt.subplots(figsize=(4.8, 4))
            levels = np.unique(np.quantile(U, np.linspace(0.05, 0.95, 9)))
            cs = ax.contour(G1, G2, vals.reshape(G1.shape), levels=levels if levels.size >= 2 else 9, cmap="viridis")
            fig.colorbar(cs, ax=ax, label="Afriat utility u(x)")
            ax.scatter(Q[:, 0], Q[:, 1], s=12, color="C3", label="chosen bundles")
            ax.set_xlabel("good 1")
            ax.set_ylabel("good 2")
            ax.set_title(f"Afriat utility, {first['subject'][:40]}", fontsize=8)
            ax.legend(fontsize=7)
            _save(fig, path)

        figs.append(Figure("afriat_utility.png", "Indifference curves of the Afriat utility of the first subject",
                           afriat))
    return figs
