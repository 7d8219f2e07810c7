"""Run an economy over several seeds and assemble the report (used by ``llmsl macro``)."""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .config import EconomyConfig
from .economy import Economy
from .metrics import _nan_to_none, okun_law, phillips_curve, summarize_seeds


@dataclass
class MacroReport:
    """Results of one configuration over seeds: runs, indicators, the two curves, audit."""

    results: list
    seeds: list
    wall_time_s: list
    indicators: object
    phillips: object
    okun: object
    audit: object | None = None
    regret: object | None = None
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        r0 = self.results[0]
        lines = [f"macro: {r0.policy.get('name')} households, N = {r0.config.n_households}, "
                 f"T = {r0.n_months} months, seeds {self.seeds}",
                 self.indicators.summary(), self.phillips.summary(), self.okun.summary()]
        stats = [r.policy_stats for r in self.results if r.policy_stats]
        if stats:
            nf = sum(s.get("n_parse_failures", 0) for s in stats)
            nr = sum(s.get("n_replies", 0) for s in stats)
            calls = sum(s.get("model_calls", 0) for s in stats)
            lines.append(f"LLM replies: {nr}, parse failures: {nf} ({nf / max(nr, 1):.1%}; fallback: "
                         f"previous valid decision), model calls (cache misses): {calls}")
            spread = decision_spread(self.results)
            lines.append(f"LLM decisions: {spread['distinct_decisions']} distinct (work, consumption) pairs; "
                         f"std over households and months: work {spread['work_std']:.3f}, "
                         f"consumption {spread['consumption_std']:.3f}")
            if spread["distinct_decisions"] == 1:
                lines.append("  every household gave the same decision every month: the model does not "
                             "respond to its circumstances, so the households are uninformative about "
                             "them (a passed audit then says nothing about rationality)")
        if self.audit is not None:
            lines.append(self.audit.summary())
        if self.regret is not None:
            lines.append(self.regret.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict:
        import importlib.metadata as md

        def ver(p):
            try:
                return md.version(p)
            except md.PackageNotFoundError:
                return None

        return _nan_to_none({
            "seeds": self.seeds, "wall_time_s": self.wall_time_s,
            "config": self.results[0].config.to_dict(), "policy": self.results[0].policy,
            "indicators": self.indicators.to_dict(), "phillips_curve": self.phillips.to_dict(),
            "okun_law": self.okun.to_dict(),
            "audit": self.audit.to_dict() if self.audit is not None else None,
            "regret": self.regret.to_dict() if self.regret is not None else None,
            "runs": [r.to_dict() for r in self.results], **self.extra,
            "decision_spread": decision_spread(self.results),
            "versions": {"python": platform.python_version(), "llmsl": ver("llmsl"),
                         "numpy": ver("numpy"), "scipy": ver("scipy")}})


def decision_spread(results) -> dict:
    """How much household decisions vary: distinct (work, consumption) pairs and
    their standard deviations over households, months and seeds.

    A constant LLM reply (a small model copying the prompt's example) shows up
    here as one distinct pair with zero spread.
    """
    w = np.concatenate([np.ravel(r.households["work_propensity"]) for r in results])
    c = np.concatenate([np.ravel(r.households["consumption_share"]) for r in results])
    pairs = np.unique(np.round(np.stack([w, c], axis=1), 9), axis=0)
    return {"distinct_decisions": int(len(pairs)), "work_std": float(w.std()),
            "consumption_std": float(c.std())}


def run_seeds(config: EconomyConfig, make_households: Callable, seeds, make_planner: Callable | None = None,
              audit: bool = True, progress: bool = False) -> MacroReport:
    """Run ``config`` once per seed with fresh households (and planner) and summarize.

    ``make_households()`` / ``make_planner()`` must return new objects each call.

    Returns a :class:`MacroReport` with one :class:`~macro.economy.EconomyResult` per
    seed, :func:`~macro.metrics.summarize_seeds`, :func:`~macro.metrics.phillips_curve`
    and :func:`~macro.metrics.okun_law` over the seeds, and the household audit of
    the first run (``audit=True``).

    Example
    -------
    >>> from macro import EconomyConfig, RuleHouseholds
    >>> rep = run_seeds(EconomyConfig(n_households=5, n_months=36), RuleHouseholds, [0, 1], audit=False)
    >>> len(rep.results), rep.results[0].n_months, rep.phillips.n_seeds, rep.audit is None
    (2, 36, 2, True)
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("need at least one seed")
    results, times = [], []
    it = seeds
    if progress:
        from tqdm import tqdm

        it = tqdm(seeds, desc="seeds", unit="seed")
    for s in it:
        t0 = time.perf_counter()
        econ = Economy(config, make_households(), make_planner() if make_planner else None, seed=s)
        # A month bar only where months are slow (LLM households).
        results.append(econ.run(progress=progress and hasattr(econ.policy, "backend")))
        times.append(time.perf_counter() - t0)
    au = None
    if audit and config.n_months >= 2:
        from .audit import audit_households

        au = audit_households(results[0])
    return MacroReport(results=results, seeds=seeds, wall_time_s=times,
                       indicators=summarize_seeds(results), phillips=phillips_curve(results),
                       okun=okun_law(results), audit=au)


def write_report(report: MacroReport, out_dir) -> Path:
    """Write report.json, series.png, phillips.png, okun.png (regret.png) and report.md into ``out_dir``."""
    from .plots import plot_curve, plot_regret, plot_series

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=1))
    plot_series(report.results, out / "series.png")
    plot_curve(report.phillips, out / "phillips.png")
    plot_curve(report.okun, out / "okun.png")
    figs = ["series.png", "phillips.png", "okun.png"]
    if report.regret is not None:
        plot_regret(report.regret, out / "regret.png")
        figs.append("regret.png")
    md = ["# llmsl macro report", "", "```", report.summary(), "```", ""]
    md += [f"![{f}]({f})" for f in figs]
    md += ["", "Mechanics: SPEC section 5 (EconAgent). Phillips curve: wage inflation vs unemployment; "
           "Okun's law: unemployment growth vs real GDP growth; both expected negative. "
           "Every number is in report.json."]
    (out / "report.md").write_text("\n".join(md) + "\n")
    return out
