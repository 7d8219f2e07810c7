"""The :class:`~llmsl.report.Report` of ``llmsl macro`` (the economy itself lives in :mod:`macro`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .report import Figure, Provenance, Report, Section, Verdict, to_jsonable

__all__ = ["macro_report"]


def _curve_text(fit: Any) -> str:
    return fit.summary()


def macro_report(mr: Any, *, backend: Any = None, seed: int | None = None) -> Report:
    """The report of a :class:`macro.experiment.MacroReport` (runs over seeds, curves, studies, audit)."""
    from macro import plots
    from macro.experiment import ECONAGENT_PHILLIPS

    r0 = mr.results[0]
    c = r0.config
    ph, ok = mr.phillips, mr.okun
    label = ("okun_holds" if ok.holds else "okun_not_detected") + "_" + \
        ("phillips_negative" if ph.holds else "phillips_not_negative")
    headline = (f"Okun's law: r = {ok.r:+.3f} (p = {ok.p_value:.3g}); Phillips curve: r = {ph.r:+.3f} "
                f"(p = {ph.p_value:.3g}), over {len(mr.seeds)} seed(s) of {c.n_households} "
                f"{r0.policy.get('name')} households and {r0.n_months} months.")
    lit = ECONAGENT_PHILLIPS
    explain = ("The economy follows EconAgent (SPEC 5): households choose how much to work and consume, firms set "
               "wages and prices, taxes are redistributed, and a Taylor rule sets the interest rate. Okun's law "
               "(unemployment growth falls as real GDP grows) and the Phillips curve (wage inflation falls as "
               "unemployment rises) are measured across years and seeds; with productivity shocks Okun's law is an "
               "empirical result here, not an identity. " + f"On the sign of the Phillips curve, {lit['source']}: "
               + lit.get("status", ""))
    figs = [Figure("series.png", "Monthly series of every seed (one colour per seed)",
                   lambda path: plots.plot_series(mr.results, path)),
            Figure("phillips.png", "Phillips curve: wage inflation against unemployment (colour = seed)",
                   lambda path: plots.plot_curve(ph, path)),
            Figure("okun.png", "Okun's law: unemployment growth against real GDP growth (colour = seed)",
                   lambda path: plots.plot_curve(ok, path))]
    if mr.regret is not None:
        figs.append(Figure("regret.png", "Cumulative welfare regret of the planner against the best fixed schedule",
                           lambda path: plots.plot_regret(mr.regret, path)))
    studies = getattr(mr, "studies", None)
    if studies is not None:
        if hasattr(plots, "plot_regret_curves"):
            figs.append(Figure("regret_horizon.png", "Cumulative regret against horizon with bands over seeds "
                               "(log-log)", lambda path: plots.plot_regret_curves(studies.regret, path)))
        if hasattr(plots, "plot_flat_tax"):
            figs.append(Figure("flat_tax.png", "Social welfare against the flat tax rate, with intervals",
                               lambda path: plots.plot_flat_tax(studies.flat_tax, path)))
    sections = [Section("Indicators", preformatted=mr.indicators.summary()),
                Section("Phillips curve and Okun's law", preformatted="\n".join([_curve_text(ph), _curve_text(ok)]))]
    if studies is not None:
        sections.append(Section("Planner experiments", preformatted=studies.summary()))
    if mr.regret is not None:
        sections.append(Section("Regret of the planner", preformatted=mr.regret.summary()))
    if mr.audit is not None:
        sections.append(Section("Revealed preferences of the households", preformatted=mr.audit.summary()))
    sections.append(Section("Everything", preformatted=mr.summary()))
    sections.append(Section("Figures", figures=figs))
    prov = Provenance(seed=seed, wall_time_s=float(sum(mr.wall_time_s)) if mr.wall_time_s else None)
    if backend is not None:
        prov.record_backend(backend)
    return Report("macro", "An EconAgent-style economy", Verdict(label, headline, explain), sections=sections,
                  results=to_jsonable(mr.to_dict()), provenance=prov)


def save_macro(report: Report, out: str | Path) -> Path:
    """Save a macro report (alias of :meth:`Report.save`)."""
    return report.save(out)
