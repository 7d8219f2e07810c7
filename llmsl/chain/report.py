"""The :class:`~llmsl.report.Report` of ``llmsl chain``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..report import Figure, Provenance, Report, Section, Table, Verdict, fmt
from .analysis import ChainStudy

__all__ = ["chain_report", "chain_verdict"]

_DESCRIPTIONS = {
    "bayes": "the Bayesian social-learning filter with B",
    "sensor": "the sensor alone, history ignored",
    "copy_last": "copy the previous decision",
    "majority": "follow the majority of the history",
    "logit": "a logit on the private and public evidence",
}


def _ci(lo, hi) -> str:
    return f"[{fmt(lo) if lo is not None else '-inf'}, {fmt(hi) if hi is not None else '+inf'}]"


def _w_text(comp) -> str:
    w = comp.herding_strength
    if w is None:
        return "herding strength not identified"
    lo, hi = comp.herding_strength_interval
    return f"w = {w:.2f} {_ci(lo, hi)}"


def chain_verdict(study: ChainStudy) -> Verdict:
    """The headline: which rule explains the decisions, with the herding strength.

    Labels: ``uninformative_sensor``, ``bayesian_herding``, ``over_herding``, ``under_herding``,
    ``ignores_history``, ``copies_last``, ``follows_majority``, ``history_dependent``.
    """
    comp = study.comparison
    best = comp.best_model
    w = comp.herding_strength
    lo, hi = comp.herding_strength_interval
    wt = _w_text(comp)
    inf = study.informativeness
    lo_v = -np.inf if lo is None else lo
    hi_v = np.inf if hi is None else hi
    if not study.informative:
        label = "uninformative_sensor"
        headline = (f"The sensor is uninformative: the model's labels without history do not depend detectably on "
                    f"the state (G-test p = {fmt(inf.get('p_value'))}), so the history is all agents can use; "
                    f"their decisions are best explained by {_DESCRIPTIONS[best]} ({wt}).")
    elif best == "bayes" or (best == "logit" and w is not None and lo_v <= 1 <= hi_v):
        label = "bayesian_herding"
        headline = f"Agents herd like Bayesian learners ({wt}; best model by AIC: {_DESCRIPTIONS[best]})."
    elif best == "sensor" or (best == "logit" and w is not None and lo_v <= 0 <= hi_v):  # w = 0: others ignored
        label = "ignores_history"
        headline = f"Agents ignore the history and act on their own text ({wt}; best model: {_DESCRIPTIONS[best]})."
    elif best == "logit" and w is None:
        label = "history_dependent"
        headline = ("The decisions depend on the history, best explained by a logit on the private and public "
                    "evidence, but the weight on the others is not identified.")
    elif best == "copy_last":
        label = "copies_last"
        headline = f"Agents copy the previous decision ({wt})."
    elif best == "majority":
        label = "follows_majority"
        headline = f"Agents follow the majority of the earlier decisions ({wt})."
    elif w is not None and lo_v > 1:
        label = "over_herding"
        headline = f"Agents weigh the others' decisions more than Bayesian learners would ({wt})."
    else:
        label = "under_herding"
        headline = f"Agents weigh the others' decisions less than Bayesian learners would ({wt})."
    run = study.run
    kind = ("Each agent's action probabilities were read exactly from log-probabilities, so the likelihoods are "
            "expected log-likelihoods under those probabilities (soft counts)" if run.method == "logprobs" else
            "The backend gave no log-probabilities: actions are sampled replies and the likelihoods are those of "
            "the observed actions")
    explain = (
        f"{run.data.n_chains} chains of {run.data.n_agents} agents decided between {list(run.options)} on texts of "
        f"known state; each agent saw its own text and the earlier agents' decisions ({run.history} history). "
        "Five models of social learning were fitted to the decisions by maximum likelihood and ranked by AIC; the "
        "herding strength w is the weight on the others' evidence in a logit with a lapse rate (0 ignores others, "
        "1 is Bayesian, above 1 over-herds), with a profile-likelihood interval. The Bayesian benchmark uses the "
        "likelihood B of the same model's labels of the same texts without any history. "
        f"{kind}. Chains of the same state share their texts through {run.text_slots} text slot(s), so chains are "
        "not fully independent and the intervals are somewhat too narrow; scripted agents of known rule run "
        "through this same pipeline are recognised in at least 95% of seeds at 60 chains x 8 agents "
        "(tests/test_chain.py)."
        + (" Because the sensor is uninformative, a Bayesian agent would learn nothing from its text and follow the "
           "prior at once: what the chains show is how the model treats the history, not social learning from "
           "private information." if not study.informative else ""))
    return Verdict(label, headline, explain)


def _model_table(comp) -> Table:
    aic_min = min(f.aic for f in comp.fits.values())
    rows = []
    for _name, f in sorted(comp.fits.items(), key=lambda kv: kv[1].aic):
        params = ", ".join(f"{k}={fmt(v) if not isinstance(v, list) else np.round(v, 3).tolist()}"
                           for k, v in f.params.items())
        rows.append([f.log_likelihood, f.n_params, f.aic, f.aic - aic_min, f.bic, params])
    return Table(["log-likelihood", "parameters", "AIC", "dAIC", "BIC", "estimates"], rows,
                 index=[f"{n} ({_DESCRIPTIONS[n]})" for n, _ in sorted(comp.fits.items(), key=lambda kv: kv[1].aic)],
                 index_name="model", title="Models of social learning, best (least AIC) first")


def _herding_table(study: ChainStudy) -> Table:
    rows, index = [], []
    for g in study.herding.groups:
        o, p, e = g.observed, g.predicted, g.exact_cascade or {}
        index.append(str(np.round(g.prior, 3).tolist()))
        rows.append([g.n_chains, f"{fmt(o['p_herd'])} {_ci(*o['p_herd_ci'])}", p["p_herd"], e.get("p_cascade"),
                     f"{fmt(o['p_wrong_herd'])} {_ci(*o['p_wrong_herd_ci'])}", p["p_wrong_herd"],
                     e.get("p_wrong_cascade"), f"{fmt(o['mean_herd_time'])} {_ci(*o['mean_herd_time_ci'])}",
                     p["mean_herd_time"], e.get("mean_cascade_time")])
    return Table(["chains", "P(herd) observed", "Bayes", "exact cascade", "P(wrong herd) observed", "Bayes",
                  "exact wrong cascade", "E[herd time] observed", "Bayes", "exact E[cascade time]"], rows,
                 index=index, index_name="prior", title="Herding: observed [interval] versus the Bayesian prediction")


def _threshold_table(th) -> Table:
    rows, index = [], []
    for i, m in enumerate(th.leads):
        if th.n_disagree[i] > 0:
            index.append(str(int(m)))
            ci = _ci(th.follow_own_lower[i], th.follow_own_upper[i])
            rows.append([int(round(float(th.n_disagree[i]))), f"{fmt(th.follow_own[i])} {ci}", th.follow_own_bayes[i]])
    return Table(["agents", "P(follow own text) observed", "Bayes"], rows, index=index, index_name="lead",
                 title="Agents whose text disagrees with the leading decision")


def _region_text(reg: dict) -> str:
    if "intervals" in reg and reg["intervals"]:
        return "; ".join(f"pi(0) in [{iv['lo']:.4g}, {iv['hi']:.4g}] -> action {iv['action']}"
                         for iv in reg["intervals"])
    return "empty (no public belief makes agents ignore their signal)"


def chain_report(study: ChainStudy) -> Report:
    """The report of ``llmsl chain`` from :func:`~llmsl.chain.analyze_chain_run`."""
    from . import plots

    run, comp, th = study.run, study.comparison, study.threshold
    verdict = chain_verdict(study)
    d = run.data
    calls = Table(["value"], [[run.n_agent_decisions], [run.n_distinct_prompts], [run.calls_saved],
                              [run.model_calls], [run.cache_hits], [run.method]],
                  index=["agent decisions (R x N)", "distinct prompts (prefix tree)", "calls saved by shared prompts",
                         "model calls this run (chains)", "answers read from the cache (chains)",
                         "action probabilities"], index_name="", title="Model calls")
    sections = [Section(
        "What was run",
        f"Task `{run.task}`, decisions {list(run.options)} (coarsening `{run.labels}`), history shown: "
        f"`{run.history}`" + (f" (last {run.last_m})" if run.history == "last" else "") +
        f"; {d.n_chains} chains x {d.n_agents} agents, states {np.bincount(d.states, minlength=d.n_states).tolist()} "
        f"chains per state, public prior {np.round(d.priors[0], 3).tolist()}, {run.text_slots} text slot(s) per "
        f"state, seed {run.seed}. The prompt of the third agent of one chain is shown below.",
        tables=[calls],
        preformatted="\n\n".join(f"[{m['role']}]\n{m['content']}" for m in run.example_prompt))]
    lr = Table(["statistic", "df", "p-value"], [[t["statistic"], t["df"], t["p_value"]] for t in comp.lr_tests],
               index=[f"{t['null']} vs {t['alternative']}" for t in comp.lr_tests], index_name="test",
               title="Likelihood-ratio tests of nested models")
    hs_text = (f"Herding strength (headline): {_w_text(comp)} at level {comp.level:g}, estimated in the logit with a "
               "lapse rate. " + " ".join(f"Note: {n}." for n in comp.notes) + f" Likelihood: {comp.likelihood_kind}.")
    figs_models = []
    if comp.herding_fit is not None and comp.herding_fit.get("profile"):
        from scipy.stats import chi2

        cut = float(chi2.ppf(comp.level, 1)) / 2
        figs_models.append(Figure("herding_strength_profile.png",
                                  "Profile log-likelihood of the herding strength w with its interval",
                                  lambda path: plots.plot_w_profile(comp.herding_fit["profile"], path,
                                                                    w_hat=comp.herding_strength,
                                                                    interval=comp.herding_strength_interval,
                                                                    cut=cut)))
    sections.append(Section("Which model of social learning explains the decisions?", hs_text,
                            tables=[_model_table(comp)] + ([lr] if comp.lr_tests else []), figures=figs_models))
    groups = [g.to_dict() for g in study.herding.groups]
    sections.append(Section(
        "Herding versus the Bayesian prediction",
        f"A chain herds when its final run of identical decisions is at least {study.herding.min_run} agents long; "
        "the herd is wrong when its decision is not the chain's true state. Observed shares with Wilson intervals, "
        "mean herd times with bootstrap intervals over chains; 'Bayes' applies the same definitions to chains "
        "simulated from the Bayesian filter with B; 'exact cascade' is the exact law of the information cascade.",
        tables=[_herding_table(study)],
        figures=[Figure("herd_times.png", "Herd-time distribution: observed chains versus the Bayesian prediction",
                        lambda path: plots.plot_herd_times(groups, path, n_agents=d.n_agents))]))
    if th is not None:
        tdict = th.to_dict()
        ci = th.threshold_interval
        sections.append(Section(
            "Empirical cascade threshold",
            f"The lead in the history at which agents stop following their own text (share below 1/2): "
            f"{fmt(th.threshold)} {_ci(*ci)} (bootstrap over chains; resamples with a threshold: "
            f"{100 * th.p_threshold_exists:.0f}%); the Bayesian filter with B predicts {fmt(th.threshold_bayes)}. "
            f"Theoretical cascade region: {_region_text(th.cascade_region)}.",
            tables=[_threshold_table(th)],
            figures=[Figure("follow_own_signal.png", "P(follow own text) versus the lead in the history, with the "
                            "threshold", lambda path: plots.plot_follow_own(tdict, path))]))
    B, lo, hi = study.likelihood, study.likelihood_lower, study.likelihood_upper
    s = study.sensor
    btab = Table([str(o) for o in s.obs_labels],
                 [[f"{B[x, y]:.3f} [{lo[x, y]:.3f}, {hi[x, y]:.3f}]" for y in range(B.shape[1])]
                  for x in range(B.shape[0])], index=[str(v) for v in s.state_labels], index_name="state \\ label",
                 title="B[x, y] = P(label y | state x) without history: posterior mean [interval]")
    inf = study.informativeness
    est = inf.get("estimate", {})
    sections.append(Section(
        "The model without history (the sensor)",
        f"{s.n} readings from {s.source}; mutual information I(x; y) = {fmt(est.get('mi_bits'), 4)} bits, G-test of "
        f"independence p = {fmt(inf.get('p_value'))} ("
        + ("informative" if study.informative else "NOT distinguishable from uninformative") + ").",
        tables=[btab],
        figures=[Figure("belief_paths.png", "Public beliefs along the observed chains (Bayesian observer with B)",
                        lambda path: plots.plot_belief_paths(study.beliefs, d.states, path,
                                                             option=run.options[-1]))]))
    meta: dict[str, Any] = s.meta
    prov = Provenance(seed=run.seed, model=dict(run.backend),
                      decoding={"choices": "letters A.. (exact choice probabilities)", "history": run.history,
                                "choice_method": run.method, "labels_mode": meta.get("mode")})
    lab_calls = int(meta.get("n_model_calls") or 0)
    lab_hits = int(meta.get("n_cached") or 0)
    prov.model_calls = run.model_calls + lab_calls
    prov.cache_hits = run.cache_hits + lab_hits
    results = study.to_dict()
    results["calls"] = {"agent_decisions": run.n_agent_decisions, "distinct_prompts": run.n_distinct_prompts,
                        "saved_by_prefix_tree": run.calls_saved, "chain_model_calls": run.model_calls,
                        "chain_cache_hits": run.cache_hits, "label_model_calls": lab_calls,
                        "label_cache_hits": lab_hits}
    return Report("chain", "Do chains of LLM agents herd like Bayesian social learners?", verdict,
                  sections=sections, results=results, provenance=prov)
