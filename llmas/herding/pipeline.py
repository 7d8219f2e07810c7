"""Report folders of ``llmsl herd`` and ``llmsl control``: report.json, PNGs, report.md."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .analysis import HerdingReport, informativeness_line
from .control_analysis import ControlReport
from .report import fmt, md_table, versions, write_json

__all__ = ["write_herd_report", "write_control_report", "likelihood_markdown"]


def likelihood_markdown(B: np.ndarray, lo: np.ndarray, hi: np.ndarray, state_labels, obs_labels,
                        counts: np.ndarray | None = None) -> str:
    """Markdown table of ``B[x, y]`` with its 95% interval (and the counts)."""
    header = ["state \\ label"] + list(obs_labels) + (["n"] if counts is not None else [])
    rows = []
    for x in range(B.shape[0]):
        r = [str(state_labels[x])] + [f"{B[x, y]:.3f} [{lo[x, y]:.3f}, {hi[x, y]:.3f}]" for y in range(B.shape[1])]
        if counts is not None:
            r.append(str(int(counts[x].sum())))
        rows.append(r)
    return md_table(header, rows)


def _sensor_md(sensor) -> list[str]:
    lines = [f"- readings: **{sensor.n} parsed**, **{sensor.n_failed} unparsed** (kept in report.json with "
             f"their raw text and reason), source `{sensor.source}`"]
    m = sensor.meta
    if "model" in m:
        lines.append(f"- model: `{m.get('backend')}:{m['model']}`, decoding {m.get('decoding')}, "
                     f"{m.get('n_model_calls')} model calls, {m.get('n_cached')} answers from the cache")
    if "labels" in m:
        lines.append(f"- labels coarsened: {m['labels']['description']}")
    if sensor.failures:
        reasons: dict[str, int] = {}
        for f in sensor.failures:
            reasons[f["reason"]] = reasons.get(f["reason"], 0) + 1
        top = sorted(reasons.items(), key=lambda kv: -kv[1])[:5]
        lines.append("- parse failures by reason: " + "; ".join(f"{r} ({n})" for r, n in top))
    return lines


def write_herd_report(report: HerdingReport, out_dir: str | Path, *, command: dict | None = None,
                      title: str = "LLM herding report") -> Path:
    """Write ``report.json``, the PNGs and ``report.md`` for a herding analysis; returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = report.plots(out)
    payload = {"kind": "herd", "command": command or {}, "versions": versions(), **report.to_dict(),
               "figures": [f.name for f in figs]}
    write_json(out / "report.json", payload)
    s = report.sensor
    p = report.params
    md = [f"# {title}", "",
          "## How informative is the model?", "",
          informativeness_line(report.informativeness), "",
          "A sensor with mutual information near 0 (its label ignores the state) makes every agent "
          "follow the public belief: herding then reflects an uninformative model, not irrational agents. "
          "Mutual information is biased upwards under posterior sampling, so with few readings the credible "
          "interval can lie above the value at the posterior-mean B; the G-test is the verdict.", "",
          "## Readings", "", *_sensor_md(s), "",
          "## Estimated likelihood B[x, y] = P(y | x)", "",
          f"Dirichlet posterior (pseudo-count {p['prior_strength']} per cell): posterior mean [95% interval].", "",
          likelihood_markdown(report.likelihood, report.likelihood_lower, report.likelihood_upper,
                              s.state_labels, s.obs_labels, s.counts()), "",
          "![likelihood](likelihood.png)", "",
          "## Cascade region and herding thresholds", "",
          f"Social learning model: cost c[x, a] = {np.asarray(p['cost']).tolist()}, tie rule `{p['tie_rule']}`. "
          f"Initial public beliefs pi0(p) = p e_{p['anchor']} + (1 - p) uniform(other states).", "",
          f"- cascade region (exact, `sociallearn.cascade_region`): {report.cascade_region}",
          "- thresholds on p (95% intervals from posterior samples of B, over the "
          f"{100 * report.threshold_agreement:.0f}% of samples whose cascade set has the same number of "
          "thresholds; with few readings the posterior-mean model, whose rows are shrunk towards uniform, can "
          "lie outside them): "
          + (", ".join(f"{t.value:.4f} [{fmt(t.lower, 4)}, {fmt(t.upper, 4)}]" for t in report.thresholds)
             or "none"), "",
          "![cascade region](cascade_region.png)", "",
          "## Herding on the wrong action versus the prior", "",
          f"{p['n_runs']} chains of {p['n_agents']} agents per prior and true state; private observations are "
          + ("the model's real labels resampled per state." if p["resample_real_labels"] else "drawn from B."), "",
          md_table(["p", "P(wrong cascade)", "s.e.", "P(no cascade)", "E[cascade time]", "s.e."],
                   [[float(report.priors[i]), float(report.p_wrong[i]), float(report.se_wrong[i]),
                     float(report.p_no_cascade[i]), float(report.mean_cascade_time[i]),
                     float(report.se_cascade_time[i])] for i in range(report.priors.size)], 4), "",
          "![wrong herding](wrong_herding.png)", "",
          "## Cascade time at the reference prior", "",
          f"Reference prior {np.round(report.reference_prior, 4).tolist()} (state drawn from it): "
          f"P(wrong cascade) = {report.reference_stats['p_wrong_cascade']:.4f} +/- "
          f"{report.reference_stats['se_wrong_cascade']:.4f}, P(no cascade by agent {p['n_agents']}) = "
          f"{report.reference_stats['p_no_cascade']:.4f}, mean cascade time "
          f"{report.reference_stats['mean_cascade_time']:.3f} +/- {report.reference_stats['se_cascade_time']:.3f}.", "",
          "![cascade times](cascade_times.png)", "", "![belief paths](belief_paths.png)", "",
          "## Parameters", "", f"Seed {p['seed']}; {p['seed_scheme']}. Every number above is in `report.json`.", ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    return out


def write_control_report(report: ControlReport, out_dir: str | Path, *, command: dict | None = None,
                         title: str = "Control of herding report") -> Path:
    """Write ``report.json``, the PNGs and ``report.md`` for a control analysis; returns the folder."""
    from . import plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = report.plots(out)
    s = report.sensor
    figs.append(plots.plot_likelihood(report.likelihood, report.likelihood_lower, report.likelihood_upper,
                                      out / "likelihood.png", state_labels=s.state_labels,
                                      obs_labels=s.obs_labels))
    payload = {"kind": "control", "command": command or {}, "versions": versions(), **report.to_dict(),
               "figures": [f.name for f in figs]}
    write_json(out / "report.json", payload)
    p = report.params
    md = [f"# {title}", "", "## How informative is the model?", "", informativeness_line(report.informativeness), "",
          "## Readings and likelihood", "", *_sensor_md(s), "",
          likelihood_markdown(report.likelihood, report.likelihood_lower, report.likelihood_upper,
                              s.state_labels, s.obs_labels, s.counts()), "",
          "## Optimal stopping (central controller)", "",
          f"V(pi) = min{{ C_s(pi), d + rho sum_y sigma(pi, y) V(T_y pi) }} with C_s(pi) = min_a c_a' pi / (1 - rho), "
          f"c = {np.asarray(p['action_cost']).tolist()}, d = {p['delay_cost']}, rho = {p['discount']}; value "
          f"iteration on {p['grid_size']} grid points.", "",
          "```", report.vi.summary(), "```", "",
          "![value function](value_function.png)", "",
          "## SPSA on the threshold policy", "",
          "```", report.spsa.summary(), "```", "",
          md_table(["VI threshold", "SPSA threshold", "reachable bracket", "lattice spacing", "agree"],
                   [[c["vi"], c["spsa"], f"({c['bracket'][0]:.4f}, {c['bracket'][1]:.4f})", c["spacing"],
                     "yes" if c["agree"] else "NO"] for c in report.comparisons], 4), "",
          f"Lattice: beliefs reachable from the prior by revealed observations with discounted visitation "
          f"probability >= {p['lattice']['min_mass']} ({p['lattice']['n_beliefs']} beliefs).", ""]
    cc = report.cost_comparison
    if cc:
        md += [f"Cost from the prior on common random numbers ({cc['n_runs']} runs): VI policy "
               f"{cc['cost_vi_policy']:.4f}, SPSA policy {cc['cost_spsa_policy']:.4f}, paired difference "
               f"{cc['paired_difference']:+.4f} +/- {cc['se_paired_difference']:.4f}; V(pi0) = "
               f"{cc['vi_value_at_prior']:.4f}.", ""]
    md += [f"![SPSA path](spsa_path_{j}.png)" for j in range(len(report.comparisons))] + [""]
    if report.incentives:
        md += ["## Incentives", "", report.incentives.get("summary", "")]
        if report.incentives.get("sweep"):
            sw = report.incentives["sweep"]
            md += ["", md_table(["threshold t", "incentive paid", "s.e.", "accuracy", "s.e.", "objective"],
                                [[sw["thresholds"][i], sw["paid"][i], sw["paid_se"][i], sw["accuracy"][i],
                                  sw["accuracy_se"][i], sw["objective"][i]] for i in range(len(sw["thresholds"]))],
                                4), "", "![incentives](incentives.png)"]
        md.append("")
    md += ["## Parameters", "", f"Seed {p['seed']}. Every number above is in `report.json`.", ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    return out
