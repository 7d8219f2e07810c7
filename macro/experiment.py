"""Run an economy over several seeds and assemble the report (used by ``llmsl macro``)."""
from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import EconomyConfig
from .economy import Economy
from .metrics import _nan_to_none, _t_interval, okun_law, phillips_curve, summarize_seeds

#: Below this std (0-1 scale) across households of the model's expected work and consumption
#: levels, the summary says the LLM households barely respond to their circumstances.
RESPONSIVE_SD = 0.02


@dataclass
class MacroReport:
    """Results of one configuration over seeds: runs, indicators, the two curves, audit."""

    results: list
    seeds: list
    wall_time_s: list
    indicators: Any
    phillips: Any
    okun: Any
    audit: Any = None
    regret: Any = None
    extra: dict = field(default_factory=dict)
    studies: Any = None

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
            fallback = r0.policy.get("fallback", "previous valid decision")
            lines.append(f"LLM replies: {nr}, parse failures: {nf} ({nf / max(nr, 1):.1%}; fallback: "
                         f"{fallback}), model calls (cache misses): {calls}")
            spread = decision_spread(self.results)
            lines.append(f"LLM decisions: {spread['distinct_decisions']} distinct (work, consumption) pairs; "
                         f"std over households and months: work {spread['work_std']:.3f}, "
                         f"consumption {spread['consumption_std']:.3f}")
            if spread["distinct_decisions"] == 1:
                lines.append("  every household gave the same decision every month: the model does not "
                             "respond to its circumstances, so the households are uninformative about "
                             "them (a passed audit then says nothing about rationality)")
            scored = [s for s in stats if "expected_work_sd" in s]
            if scored:
                # Scored decisions are drawn from the model's distribution, so distinct draws do not
                # show that the model responds; the spread of its expected decision does.
                ew = float(np.mean([s["expected_work_sd"] for s in scored]))
                ec = float(np.mean([s["expected_consumption_sd"] for s in scored]))
                lines.append(f"  the model's expected decision varies across households by (std) work {ew:.3f}, "
                             f"consumption {ec:.3f} on a 0-1 scale"
                             + (": it barely responds to the households' circumstances; they differ mostly by "
                                "the random draw" if max(ew, ec) < RESPONSIVE_SD else ""))
        if self.audit is not None:
            lines.append(self.audit.summary())
        if self.regret is not None:
            lines.append(self.regret.summary())
        gap = okun_identity_gap(self.results)
        lines.append(f"Okun identity check: max |real GDP growth - employment growth| = {gap['max_abs_gap']:.3g} "
                     f"(productivity shocks rho = {gap['productivity_rho']}, sigma = {gap['productivity_sigma']}; "
                     f"0 without shocks, where Okun's law holds by construction)")
        herd = social_herding(self.results)
        if herd is not None:
            lines.append(f"Social channel (sociallearn filter) over {herd['n_months']} months: cascade in "
                         f"{herd['p_cascade']:.3f} of months (exact {herd['exact_p_cascade']:.3f}), wrong "
                         f"cascade {herd['p_wrong_cascade']:.3f} +/- {herd['se_wrong_cascade']:.3f} (exact "
                         f"{herd['exact_p_wrong_cascade']:.3f}); share of correct expectations "
                         f"{herd['mean_share_correct']:.3f} (signals alone: {herd['correct_if_signals_only']:.3f})")
        if self.studies is not None:
            lines.append(self.studies.summary())
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
            "okun_identity": okun_identity_gap(self.results), "social_herding": social_herding(self.results),
            "studies": self.studies.to_dict() if self.studies is not None else None,
            "literature": {"econagent_phillips": ECONAGENT_PHILLIPS},
            "decision_spread": decision_spread(self.results),
            "versions": {"python": platform.python_version(), "llmsl": ver("llmsl"),
                         "numpy": ver("numpy"), "scipy": ver("scipy")}})


def okun_identity_gap(results) -> dict:
    """max over runs and years of |real GDP growth - employment growth| (annual).

    Without productivity shocks real GDP is P_0 A hours x employment, so the gap is 0 up
    to rounding and Okun's law is an identity; with shocks it is an empirical relation.
    """
    gaps = []
    for r in results:
        a = r.annual()
        emp = 1.0 - a.unemployment
        with np.errstate(divide="ignore", invalid="ignore"):
            g = emp[1:] / emp[:-1] - 1.0
        d = np.abs(a.real_gdp_growth[1:] - g)
        d = d[np.isfinite(d)]
        if d.size:
            gaps.append(float(d.max()))
    c = results[0].config
    return {"max_abs_gap": max(gaps) if gaps else float("nan"), "productivity_rho": c.productivity_rho,
            "productivity_sigma": c.productivity_sigma}


def social_herding(results) -> dict | None:
    """Herding in expectations pooled over runs with a social channel (None without one).

    Month frequencies are pooled over seeds; ``exact_*`` averages each run's exact
    sociallearn prediction with weights proportional to its months.
    """
    hs = [r.social["herding"] for r in results if r.social and r.social.get("herding", {}).get("n_months")]
    if not hs:
        return None
    n = np.array([h["n_months"] for h in hs], dtype=float)
    w = n / n.sum()
    out: dict[str, Any] = {"n_months": int(n.sum()), "n_runs": len(hs)}
    for k in ("p_cascade", "p_wrong_cascade", "exact_p_cascade", "exact_p_wrong_cascade", "mean_share_correct",
              "share_up_months"):
        out[k] = float(np.dot(w, [h[k] for h in hs]))
    p = out["p_wrong_cascade"]
    out["se_wrong_cascade"] = float(np.sqrt(p * (1 - p) / n.sum()))
    out["correct_if_signals_only"] = hs[0]["correct_if_signals_only"]
    return out


#: What EconAgent says about rule-based baselines, as far as it could be checked (see ``status``).
ECONAGENT_PHILLIPS = {
    "source": "Li, Gao, Li, Li, Liao: EconAgent: Large Language Model-Empowered Agents for Simulating "
              "Macroeconomic Activities, ACL 2024, arXiv 2310.10436",
    "quote_abstract": "Simulation experiments show that EconAgent can make realistic decisions, leading to more "
                      "reasonable macroeconomic phenomena compared to existing rule-based or learning-based agents.",
    "claim_section_5_2": "rule-based baselines show a positive Phillips curve while LLM households give a negative one",
    "status": "the abstract was verified (quoted above); the section 5.2 text could not be retrieved with the "
              "search tool, so the specific sign claim about rule-based baselines is NOT verified and is not "
              "asserted in the report",
}


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
              audit: bool = True, progress: bool = False, make_social: Callable | None = None) -> MacroReport:
    """Run ``config`` once per seed with fresh households (and planner) and summarize.

    ``make_households()`` / ``make_planner()`` / ``make_social()`` must return new objects
    each call (``make_social``: an :class:`~macro.social.ExpectationChannel` per run).

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
        econ = Economy(config, make_households(), make_planner() if make_planner else None, seed=s,
                       social=make_social() if make_social else None)
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
    """Write report.json, series.png, phillips.png, okun.png (regret.png, regret_horizon.png,
    flat_tax.png) and report.md into ``out_dir``."""
    from .plots import plot_curve, plot_flat_tax, plot_regret, plot_regret_curves, plot_series

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=1, allow_nan=False))
    plot_series(report.results, out / "series.png")
    plot_curve(report.phillips, out / "phillips.png")
    plot_curve(report.okun, out / "okun.png")
    figs = ["series.png", "phillips.png", "okun.png"]
    if report.regret is not None:
        plot_regret(report.regret, out / "regret.png")
        figs.append("regret.png")
    if report.studies is not None:
        plot_regret_curves(report.studies.regret, out / "regret_horizon.png")
        plot_flat_tax(report.studies.flat_tax, out / "flat_tax.png")
        figs += ["regret_horizon.png", "flat_tax.png"]
    md = ["# llmsl macro report", "", "```", report.summary(), "```", ""]
    md += [f"![{f}]({f})" for f in figs]
    c = report.results[0].config
    lit = ECONAGENT_PHILLIPS
    md += ["", "Mechanics: SPEC section 5 (EconAgent). Phillips curve: wage inflation vs unemployment; "
           "Okun's law: unemployment growth vs real GDP growth; both expected negative. "
           f"Productivity follows an AR(1) in logs, a_t = {c.productivity_rho:g} a_(t-1) + "
           f"{c.productivity_sigma:g} eps_t, so Okun's law is an empirical relation here, not an identity "
           "(the report gives its slope with a 95% interval across seeds).",
           "",
           f"On the sign of the Phillips curve: {lit['source']} write in their abstract: \"{lit['quote_abstract']}\" "
           "A further claim attributed to their section 5.2 (rule-based baselines show a positive Phillips curve, "
           "LLM households a negative one) could not be checked against the paper's text here; "
           "it is therefore not relied on. A positive sign for rule-based households is reported as found.",
           "", "Every number is in report.json."]
    (out / "report.md").write_text("\n".join(md) + "\n")
    return out


@dataclass
class PlannerStudies:
    """Items of the planner experiments (issue 17), each a result object with ``to_dict()``.

    Attributes
    ----------
    elasticity : ElasticityEstimate
        Labour-supply elasticity measured from flat-tax runs (used by the Saez planner).
    flat_tax : FlatTaxWelfare
        Welfare against the flat tax rate (is the optimum interior?).
    saez : dict
        Saez planner with the measured elasticity: its mean welfare and final rates over seeds,
        against the best flat tax.
    regret : RegretCurves
        Cumulative regret against horizon of greedy / epsilon-greedy / fixed schedules.
    vote : dict
        The Saez planner's proposals put to a household vote every period: approval rates.
    config : dict
        Parameters of the studies (seeds, grids, periods).
    """

    elasticity: Any
    flat_tax: Any
    saez: dict
    regret: Any
    vote: dict
    config: dict

    def summary(self) -> str:
        s = self.saez
        v = self.vote
        return "\n".join([
            self.elasticity.summary(), self.flat_tax.summary(),
            f"Saez planner with the measured elasticity e = {s['elasticity']:.4f}: welfare {s['welfare_mean']:.3f} "
            f"(95% CI {s['welfare_ci'][0]:.3f} .. {s['welfare_ci'][1]:.3f}) vs best flat tax "
            f"{100 * self.flat_tax.best_rate:.0f}%: {max(self.flat_tax.mean):.3f}; mean final rates "
            f"{[round(100 * r) for r in s['final_rates_mean']]} %",
            f"Household vote on the Saez planner's proposals every {v['interval']} months (strict majority): "
            f"{v['n_passed']} of {v['n_votes']} proposals passed; mean approval {v['mean_approval']:.3f}; "
            f"approval rates {[round(a, 2) for a in v['approval_rates']]}",
            self.regret.summary()])

    def to_dict(self) -> dict:
        return _nan_to_none({"elasticity": self.elasticity.to_dict(), "flat_tax": self.flat_tax.to_dict(),
                             "saez": self.saez, "regret": self.regret.to_dict(), "vote": self.vote,
                             "config": self.config})


def run_studies(config: EconomyConfig, make_households: Callable, seeds=range(5), *, regret_seeds=range(20),
                regret_period: int = 6, vote_interval: int = 12,
                elasticity_rates=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
                flat_rates=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), burn_in: int = 12,
                planners: dict | None = None, n_boot: int = 500) -> PlannerStudies:
    """Run the planner experiments on rule-based (or any vectorized) households.

    1. :func:`~macro.elasticity.measure_labor_elasticity` over ``seeds``;
    2. :func:`~macro.elasticity.flat_tax_welfare` over ``seeds``;
    3. a :class:`~macro.planner.SaezPlanner` with the measured elasticity (interval
       ``vote_interval``) over ``seeds``;
    4. the same planner behind a :class:`~macro.vote.VotedPlanner`: approval rates;
    5. :func:`~macro.bandit.regret_curves` over ``regret_seeds`` (at least 20 for the report).

    Returns
    -------
    PlannerStudies

    Example
    -------
    >>> from macro import EconomyConfig, RuleHouseholds
    >>> st = run_studies(EconomyConfig(n_households=10, n_months=24), RuleHouseholds, seeds=[0, 1],
    ...                  regret_seeds=[0, 1], elasticity_rates=(0.0, 0.5), flat_rates=(0.0, 0.5, 0.9),
    ...                  planners={}, burn_in=0, n_boot=10)
    >>> sorted(st.to_dict())
    ['config', 'elasticity', 'flat_tax', 'regret', 'saez', 'vote']
    """
    from .bandit import regret_curves
    from .elasticity import flat_tax_welfare, measure_labor_elasticity
    from .planner import SaezPlanner
    from .vote import VotedPlanner
    from .welfare import SocialWelfare

    seeds = list(seeds)
    welfare = SocialWelfare()
    est = measure_labor_elasticity(config, make_households, elasticity_rates, seeds, burn_in)
    flat = flat_tax_welfare(config, make_households, flat_rates, seeds, welfare, burn_in)
    e = float(np.clip(est.elasticity, 0.0, 2.0)) if np.isfinite(est.elasticity) else 0.5
    ws, finals, votes = [], [], []
    for s in seeds:
        res = Economy(config, make_households(), SaezPlanner(interval=vote_interval, elasticity=e), seed=s).run()
        ws.append(welfare(res, burn_in))
        finals.append(res.tax_rates[-1])
        vp = VotedPlanner(SaezPlanner(interval=vote_interval, elasticity=e))
        Economy(config, make_households(), vp, seed=s).run()
        votes.extend(vp.votes)
    m, lo, hi = _t_interval(np.array(ws))
    saez = {"elasticity": e, "welfare_per_seed": ws, "welfare_mean": m, "welfare_ci": [lo, hi],
            "final_rates_mean": np.mean(finals, axis=0).tolist(), "interval": vote_interval}
    ar = [v["approval_rate"] for v in votes]
    vote = {"interval": vote_interval, "n_votes": len(votes), "n_passed": int(sum(v["passed"] for v in votes)),
            "approval_rates": ar, "mean_approval": float(np.mean(ar)) if ar else float("nan"),
            "rule": "strict majority (approvals > N/2); self-interest votes at last month's incomes",
            "votes": votes}
    rc = regret_curves(config, make_households, planners, seeds=regret_seeds, period=regret_period, welfare=welfare,
                       n_boot=n_boot)
    cfg = {"seeds": seeds, "regret_seeds": list(regret_seeds), "regret_period": regret_period,
           "vote_interval": vote_interval, "elasticity_rates": list(elasticity_rates),
           "flat_rates": list(flat_rates), "burn_in": burn_in, "welfare": welfare.to_dict(),
           "economy": config.to_dict()}
    return PlannerStudies(elasticity=est, flat_tax=flat, saez=saez, regret=rc, vote=vote, config=cfg)
