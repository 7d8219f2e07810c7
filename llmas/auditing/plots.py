"""Plots of an audit report (matplotlib, Agg backend, PNG files).

RIBUM audits: one heatmap of the recovered utilities ``r_k(x, a)`` per
environment, the action kernels ``p_k(a|x)``, the bootstrap distribution of
the NIAS/NIAC margin.  Budget audits: CCEI histogram (model vs uniformly random
choices on the same budgets), budget share against the log price ratio, and
the Afriat utility of the first subject.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np


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


def _labels(report, key, n):
    names = report.design.get(key)
    return list(names) if names and len(names) == n else [str(i) for i in range(n)]


def save_figures(report, out: Path) -> list[str]:
    """Write the report's PNGs into ``out``; return their file names."""
    plt = _plt()
    files: list[str] = []
    r = report.results
    try:
        if report.kind == "ribum":
            files += _ribum_figures(report, r, out, plt)
        else:
            files += _budget_figures(r, out, plt)
    finally:
        plt.close("all")
    return files


def _ribum_figures(report, r, out, plt) -> list[str]:
    files = []
    U = np.asarray(r["utilities"], dtype=float)
    Kn = np.asarray(r["kernels"], dtype=float)
    envs = r["environments"]
    K, X, A = Kn.shape
    xs, acts = _labels(report, "state_names", X), _labels(report, "action_names", A)
    for k, e in enumerate(envs):
        fig, ax = plt.subplots(figsize=(1.2 + 0.6 * A, 1.0 + 0.45 * X))
        im = _heatmap(ax, U[k], f"recovered utility r(x, a), environment {e}", acts, xs, "viridis", 0.0, 1.0)
        ax.set_xlabel("action a")
        ax.set_ylabel("state x")
        fig.colorbar(im, ax=ax, fraction=0.046)
        fig.tight_layout()
        name = f"utility_{k}_{_slug(e)}.png"
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        files.append(name)
    fig, axes = plt.subplots(1, K, figsize=(0.2 + (1.0 + 0.5 * A) * K, 1.2 + 0.45 * X), squeeze=False)
    for k, e in enumerate(envs):
        _heatmap(axes[0, k], Kn[k], f"p(a|x), {e}", acts, xs if k == 0 else [""] * X, "Blues", 0.0, 1.0)
    fig.tight_layout()
    fig.savefig(out / "kernels.png", dpi=110)
    plt.close(fig)
    files.append("kernels.png")
    boot = r.get("bootstrap") or {}
    if boot.get("margins"):
        m = np.asarray(boot["margins"], dtype=float)
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.hist(m, bins=min(30, max(5, m.size // 4)), color="0.6", edgecolor="k")
        ax.axvline(r["margin"], color="C3", label=f"m* = {r['margin']:.3g}")
        ax.axvline(0.0, color="k", ls="--", lw=0.8)
        ax.set_xlabel("NIAS/NIAC margin m*")
        ax.set_ylabel("bootstrap replications")
        ax.set_title(boot.get("kind", "bootstrap"), fontsize=8)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "margin_bootstrap.png", dpi=110)
        plt.close(fig)
        files.append("margin_bootstrap.png")
    return files


def _budget_figures(r, out, plt) -> list[str]:
    files = []
    fig, ax = plt.subplots(figsize=(5, 3.2))
    bins = np.linspace(min(0.5, min(r["ccei"] + r["random"]["ccei"] + [1.0])), 1.0, 26)
    ax.hist(r["random"]["ccei"], bins=bins, density=True, alpha=0.5, color="0.5", label="uniform random")
    ax.hist(r["ccei"], bins=bins, density=True, alpha=0.7, color="C0", label="model")
    ax.set_xlabel("CCEI (Afriat efficiency)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "ccei_hist.png", dpi=110)
    plt.close(fig)
    files.append("ccei_hist.png")

    P = np.asarray(r["prices"], dtype=float)
    S = np.asarray(r["shares"], dtype=float)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    framings = r.get("framing") or ["model"] * len(S)
    for i, f in enumerate(sorted(set(framings))):
        idx = [j for j, g in enumerate(framings) if g == f]
        ax.scatter(np.log(P[idx, :, 0] / P[idx, :, 1]).ravel(), S[idx].ravel(), s=10, color=f"C{i}", label=f)
    ax.set_xlabel("log(p1 / p2)")
    ax.set_ylabel("budget share on good 1")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "shares.png", dpi=110)
    plt.close(fig)
    files.append("shares.png")

    first = r["subjects"][0]
    af = first.get("afriat") or {}
    if "U" in af:
        Q = np.asarray(r["quantities"], dtype=float)[0]
        p = P[0]
        U, lam = np.asarray(af["U"]), np.asarray(af["lam"])
        e = float(af.get("efficiency", 1.0))
        g = np.linspace(0, Q.max() * 1.1 + 1e-9, 80)
        G1, G2 = np.meshgrid(g, g)
        pts = np.stack([G1.ravel(), G2.ravel()], axis=1)
        # u(x) = min_t U_t + lam_t (p_t.x - e p_t.x_t)  (Afriat at efficiency e)
        vals = (U[None, :] + lam[None, :] * (pts @ p.T - e * np.sum(p * Q, axis=1)[None, :])).min(axis=1)
        fig, ax = plt.subplots(figsize=(4.5, 4))
        # indifference curves through quantiles of the chosen bundles' utilities
        levels = np.unique(np.quantile(U, np.linspace(0.05, 0.95, 9)))
        if levels.size < 2:
            levels = 9
        ax.contour(G1, G2, vals.reshape(G1.shape), levels=levels, cmap="viridis")
        ax.scatter(Q[:, 0], Q[:, 1], s=12, color="C3", label="chosen bundles")
        ax.set_xlabel("good 1")
        ax.set_ylabel("good 2")
        ax.set_title(f"Afriat utility, {first['subject'][:40]}", fontsize=8)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "afriat_utility.png", dpi=110)
        plt.close(fig)
        files.append("afriat_utility.png")
    return files
