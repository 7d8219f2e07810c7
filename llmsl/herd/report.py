"""The :class:`~llmsl.report.Report` of ``llmsl herd`` and ``llmsl control``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..report import Figure, Provenance, Report, Section, Table, Verdict, fmt, to_jsonable
from .analysis import HerdingReport, informativeness_line
from .control_analysis import ControlReport

__all__ = ["herd_report", "control_report", "likelihood_table", "readings_section"]


def likelihood_table(B: np.ndarray, lo: np.ndarray, hi: np.ndarray, state_labels, obs_labels,
                     counts: np.ndarray | None = None) -> Table:
    """``B[x, y]`` with its 95% interval (and the number of readings per state)."""
    cols = [str(o) for o in obs_labels] + (["readings"] if counts is not None else [])
    rows = []
    for x in range(B.shape[0]):
        r: list[Any] = [f"{B[x, y]:.3f} [{lo[x, y]:.3f}, {hi[x, y]:.3f}]" for y in range(B.shape[1])]
        if counts is not None:
            r.append(int(counts[x].sum()))
        rows.append(r)
    return Table(cols, rows, index=[str(s) for s in state_labels], index_name="state \\ label",
                 title="B[x, y] = P(label y | state x): posterior mean [95% interval]")


def readings_section(sensor, B, lo, hi) -> Section:
    """Where the readings come from, how many parsed, and the estimated likelihood."""
    lines = [f"{sensor.n} readings parsed, {sensor.n_failed} unparsed (kept in report.json with their raw text "
             f"and reason), from {sensor.source}."]
    m = sensor.meta
    if "model" in m:
        lines.append(f"Model {m.get('backend')}:{m['model']}, decoding {m.get('decoding')}.")
    if "labels" in m:
        lines.append(f"Labels coarsened: {m['labels']['description']}.")
    if sensor.failures:
        reasons: dict[str, int] = {}
        for f in sensor.failures:
            reasons[f["reason"]] = reasons.get(f["reason"], 0) + 1
        top = sorted(reasons.items(), key=lambda kv: -kv[1])[:5]
        lines.append("Parse failures by reason: " + "; ".join(f"{r} ({n})" for r, n in top) + ".")
    lines.append("The likelihood B is a Dirichlet posterior over the confusion counts.")
    return Section("Readings and the estimated likelihood", " ".join(lines),
                   tables=[likelihood_table(B, lo, hi, sensor.state_labels, sensor.obs_labels, sensor.counts())])


def _sensor_provenance(sensor, seed: int) -> Provenance:
    m = sensor.meta
    prov = Provenance(seed=seed, decoding=dict(m.get("decoding") or {}))
    if "model" in m:
        prov.model = {"backend": m.get("backend"), "model": m.get("model")}
        for k in ("base_url", "revision"):
            if m.get(k):
                prov.model[k] = m[k]
        prov.model_calls = m.get("n_model_calls")
        prov.cache_hits = m.get("n_cached")
    else:
        prov.model = {"backend": "file", "model": sensor.source}
    return prov


def _uninformative(inf: dict) -> bool:
    return not inf.get("informative_at_5pct", False)


def herd_report(h: HerdingReport, *, prefix: str = "") -> Report:
    """The report of a herding analysis (:func:`llmsl.herd.analyze_herding`)."""
    from . import plots

    s, p, inf = h.sensor, h.params, h.informativeness
    ref = h.reference_stats
    th = ", ".join(f"{t.value:.4f} [{fmt(t.lower, 4)}, {fmt(t.upper, 4)}]" for t in h.thresholds) or "none"
    worst = int(np.argmax(h.p_wrong)) if h.p_wrong.size else 0
    if _uninformative(inf):
        label = "uninformative_sensor"
        headline = (f"The model's labels do not depend detectably on the state (G-test p = {inf['p_value']:.3g}): "
                    "agents using it learn nothing from their own signal and follow the prior at once.")
    else:
        label = "herds" if ref["p_no_cascade"] < 0.5 else "rarely_herds"
        headline = (f"At the reference prior, chains of {p['n_agents']} agents enter a cascade with probability "
                    f"{1 - ref['p_no_cascade']:.3f} and herd on a wrong action with probability "
                    f"{ref['p_wrong_cascade']:.3f} +/- {ref['se_wrong_cascade']:.3f}.")
    explain = (
        "Each simulated agent sees a private label produced by the model for a text of the true state, and the "
        "actions of the agents before it; it acts as a Bayesian would (SPEC 2). Once the public belief enters "
        "the cascade region, every later agent ignores its own label and copies the crowd: that is herding, "
        "possibly on the wrong action. "
        f"Cascade thresholds on the prior p = pi0(x={p.get('anchor', 0)}): {th}. The probability of a wrong "
        f"cascade is largest, {h.p_wrong[worst]:.3f}, at p = {h.priors[worst]:.3f}. "
        + ("Because the sensor is uninformative, these numbers describe the prior, not the model's judgement."
           if _uninformative(inf) else
           "The intervals come from posterior samples of B; they say how much the thresholds could move with "
           "more readings."))
    figs = [
        Figure(f"{prefix}likelihood.png", "Estimated likelihood B[x, y] with 95% intervals",
               lambda path: plots.plot_likelihood(h.likelihood, h.likelihood_lower, h.likelihood_upper, path,
                                                  state_labels=s.state_labels, obs_labels=s.obs_labels)),
        Figure(f"{prefix}cascade_region.png", "Cascade membership along the prior family, with thresholds",
               lambda path: plots.plot_cascade_membership(h.membership_grid, h.membership, h.posterior_membership,
                                                          path, thresholds=[t.value for t in h.thresholds],
                                                          intervals=[(t.lower, t.upper) for t in h.thresholds])),
        Figure(f"{prefix}wrong_herding.png", "Probability of a wrong cascade against the prior",
               lambda path: plots.plot_wrong_herding(h.priors, h.p_wrong, h.se_wrong, path,
                                                     per_state=h.p_wrong_by_state, state_labels=s.state_labels,
                                                     thresholds=[t.value for t in h.thresholds])),
        Figure(f"{prefix}cascade_times.png", "Distribution of the cascade time at the reference prior",
               lambda path: plots.plot_cascade_times(h.reference_times, path, n_agents=int(p["n_agents"]),
                                                     n_never=int(round(ref["p_no_cascade"] * p["n_runs"])))),
    ]
    sample_beliefs = h.sample_beliefs
    if sample_beliefs is not None:
        figs.append(Figure(f"{prefix}belief_paths.png", "Public belief pi_k(x=0) along sample chains",
                           lambda path: plots.plot_belief_paths(sample_beliefs, path,
                                                                title="public belief pi_k(x=0), reference prior")))
    sections = [
        Section("How informative is the model?", informativeness_line(inf) + ". A sensor with mutual information "
                "near 0 makes every agent follow the public belief: herding then reflects an uninformative "
                "model, not irrational agents."),
        readings_section(s, h.likelihood, h.likelihood_lower, h.likelihood_upper),
        Section("Cascade region and thresholds",
                f"Cost c[x, a] = {np.asarray(p['cost']).tolist()}, tie rule `{p['tie_rule']}`; initial public "
                f"beliefs pi0(p) = p e_{p['anchor']} + (1 - p) uniform(other states). Cascade region (exact): "
                f"{h.cascade_region}. Thresholds with 95% intervals over the "
                f"{100 * h.threshold_agreement:.0f}% of posterior samples with the same number of thresholds: {th}. "
                "The posterior-mean model, whose rows are shrunk towards uniform, can lie outside them."),
        Section("Herding on the wrong action versus the prior",
                f"{p['n_runs']} chains of {p['n_agents']} agents per prior and true state; private observations "
                + ("are the model's real labels resampled per state." if p["resample_real_labels"]
                   else "are drawn from B."),
                tables=[Table(["P(wrong cascade)", "s.e.", "P(no cascade)", "E[cascade time]", "s.e."],
                              [[float(h.p_wrong[i]), float(h.se_wrong[i]), float(h.p_no_cascade[i]),
                                float(h.mean_cascade_time[i]), float(h.se_cascade_time[i])]
                               for i in range(h.priors.size)],
                              index=[f"{v:.3f}" for v in h.priors], index_name="p", digits=4)]),
        Section("Figures", figures=figs),
    ]
    return Report("herd", "When do agents using this LLM as a sensor herd?", Verdict(label, headline, explain),
                  sections=sections, results=to_jsonable(h.to_dict()), provenance=_sensor_provenance(s, p["seed"]))


def control_report(c: ControlReport, *, prefix: str = "") -> Report:
    """The report of a control analysis (:func:`llmsl.herd.analyze_control`)."""
    from control.plots import plot_cost_vs_threshold

    from . import plots

    s, p, inf = c.sensor, c.params, c.informativeness
    cc = c.cost_comparison or {}
    costs_equal = bool(cc) and abs(cc["paired_difference"]) <= 2 * max(cc["se_paired_difference"], 1e-12) and \
        float(np.ptp(c.vi.values)) < 1e-9 + 1e-6 * max(1.0, float(np.abs(c.vi.values).max()))
    region = ", ".join(f"({a:.4f}, {b:.4f})" for a, b in c.vi.continue_region) or "nowhere"
    if _uninformative(inf) or costs_equal:
        label = "uninformative_sensor"
        headline = ("The sensor carries no detectable information, so revealing observations cannot lower the "
                    "cost: every policy costs the same, and the agreement of value iteration and SPSA says "
                    "nothing.")
    elif c.agree:
        label = "vi_spsa_agree"
        headline = (f"Reveal observations while pi(0) lies in {region}; SPSA finds the value-iteration "
                    "thresholds within the spacing of reachable beliefs.")
    else:
        label = "vi_spsa_disagree"
        headline = (f"Value iteration says reveal while pi(0) lies in {region}; SPSA ends elsewhere by more than "
                    "the spacing of reachable beliefs.")
    explain = ("A central controller decides, from the public belief, whether the next agent reveals its private "
               "label (at a delay cost) or acts on the public belief, after which the chain soon herds. Value "
               "iteration solves this stopping problem on a belief grid; SPSA tunes a threshold policy by "
               "simulation alone. They should agree to within the spacing of the beliefs the chain can reach. "
               + (f"Here the cost of the two policies from the prior differs by {cc['paired_difference']:+.4f} "
                  f"+/- {cc['se_paired_difference']:.4f}; the cost curve shows how flat the objective is."
                  if cc else ""))
    grid = c.vi.grid.points[:, 0]
    order = np.argsort(grid)
    figs = [Figure(f"{prefix}value_function.png", "Value function V(pi) and the stopping cost; shaded: reveal",
                   lambda path: plots.plot_value_function(grid[order], c.vi.values[order], c.vi.stop_values[order],
                                                          c.vi.continue_mask[order], path,
                                                          thresholds=list(c.vi_thresholds)))]
    hist = c.spsa.threshold_history
    for j, comp in enumerate(c.comparisons):
        figs.append(Figure(f"{prefix}spsa_path_{j}.png", f"SPSA path of threshold {j} against value iteration",
                           lambda path, j=j, comp=comp: plots.plot_spsa_path(  # type: ignore[misc]
                               hist[:, comp["index"]], path, vi_threshold=comp["vi"], lattice=comp["spacing"],
                               costs=c.spsa.spsa.f_mean, title=f"SPSA threshold {j} vs value iteration")))
    if c.vi_thresholds.size:
        def cost_curve(path: Path) -> None:
            from control import StoppingProblem

            prob = StoppingProblem.from_misclassification(c.likelihood, np.asarray(p["action_cost"]),
                                                          float(p["delay_cost"]), float(p["discount"]))
            plot_cost_vs_threshold(prob, np.array([0.5, 0.5]), thresholds=np.linspace(0.0, 0.5, 26),
                                   kind="symmetric", n_runs=300, seed=int(p["seed"]), vi_solution=c.vi, path=path)

        figs.append(Figure(f"{prefix}cost_curve.png", "Simulated cost of the symmetric threshold policy against "
                           "its threshold (a flat curve: the policy does not matter)", cost_curve))
    if c.incentives and "sweep" in c.incentives:
        sw = c.incentives["sweep"]
        figs.append(Figure(f"{prefix}incentives.png", "Incentive paid and accuracy against the pay threshold",
                           lambda path: plots.plot_incentive_tradeoff(
                               np.asarray(sw["thresholds"]), np.asarray(sw["paid"]), np.asarray(sw["accuracy"]),
                               path, paid_se=np.asarray(sw["paid_se"]) if sw.get("paid_se") is not None else None,
                               acc_se=np.asarray(sw["accuracy_se"]) if sw.get("accuracy_se") is not None
                               else None)))
    figs.append(Figure(f"{prefix}likelihood.png", "Estimated likelihood B[x, y] with 95% intervals",
                       lambda path: plots.plot_likelihood(c.likelihood, c.likelihood_lower, c.likelihood_upper,
                                                          path, state_labels=s.state_labels,
                                                          obs_labels=s.obs_labels)))
    comp_table = Table(["VI threshold", "SPSA threshold", "reachable bracket", "lattice spacing", "agree"],
                       [[cm["vi"], cm["spsa"], f"({cm['bracket'][0]:.4f}, {cm['bracket'][1]:.4f})", cm["spacing"],
                         bool(cm["agree"])] for cm in c.comparisons], digits=4)
    sections = [
        Section("How informative is the model?", informativeness_line(inf) + "."),
        readings_section(s, c.likelihood, c.likelihood_lower, c.likelihood_upper),
        Section("Optimal stopping (central controller)",
                "V(pi) = min{ C_s(pi), d + rho sum_y sigma(pi, y) V(T_y pi) } with C_s(pi) = min_a c_a' pi / "
                f"(1 - rho), c = {np.asarray(p['action_cost']).tolist()}, d = {p['delay_cost']}, rho = "
                f"{p['discount']}; value iteration on {p['grid_size']} grid points.",
                preformatted=c.vi.summary()),
        Section("SPSA on the threshold policy", preformatted=c.spsa.summary(), tables=[comp_table]),
    ]
    if cc:
        sections.append(Section("Cost of the policies", tables=[Table(["value"], [
            [cc["cost_vi_policy"]], [cc["cost_spsa_policy"]], [cc["paired_difference"]],
            [cc["se_paired_difference"]], [cc["vi_value_at_prior"]]],
            index=["cost of the VI policy", "cost of the SPSA policy", "paired difference", "its s.e.",
                   "V(pi0) by value iteration"], digits=4)],
            text=f"Common random numbers, {cc['n_runs']} runs from the prior."))
    if c.incentives:
        inc_tables = []
        if c.incentives.get("sweep"):
            sw = c.incentives["sweep"]
            inc_tables.append(Table(["incentive paid", "s.e.", "accuracy", "s.e.", "objective"],
                                    [[sw["paid"][i], sw["paid_se"][i], sw["accuracy"][i], sw["accuracy_se"][i],
                                      sw["objective"][i]] for i in range(len(sw["thresholds"]))],
                                    index=[f"{t:.3f}" for t in sw["thresholds"]], index_name="threshold t",
                                    digits=4))
        sections.append(Section("Incentives", c.incentives.get("summary", ""), tables=inc_tables))
    sections.append(Section("Figures", figures=figs))
    return Report("control", "Delaying herding: optimal stopping, SPSA and incentives",
                  Verdict(label, headline, explain), sections=sections, results=to_jsonable(c.to_dict()),
                  provenance=_sensor_provenance(s, p["seed"]))


def save_report(report: Report, out: str | Path) -> Path:
    """Save ``report`` into ``out`` (a thin alias kept for scripts)."""
    return report.save(out)
