"""The numbers of an audit (:class:`AuditResult`) and their :class:`~llmsl.report.Report`."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..report import Provenance, Report, Section, Table, Verdict, to_jsonable

__all__ = ["AuditResult", "ParseTally"]


class ParseTally:
    """Parses replies with :func:`llmas.parsing.parse_reply` and counts, per
    environment, what parsed and every failure (raw text and reason).

    ``check(d)`` may return ``True`` or a reason string that marks a parsed reply
    as a failure (for example a share outside [0, 100]).
    """

    def __init__(self, env_names: Sequence[str]):
        self.env_names = list(env_names)
        self.n_ok = Counter()
        self.n_failed = Counter()
        self.methods: Counter = Counter()
        self.failures: list[dict[str, Any]] = []

    def parse(self, text: str, schema: Mapping[str, Any], *, env: int = 0,
              check: Callable[[dict], Any] | None = None) -> dict[str, Any] | None:
        from llmas.parsing import ParseError, parse_reply

        index = sum(self.n_ok.values()) + sum(self.n_failed.values())
        try:
            value, how = parse_reply(text, schema)
            if check is not None:
                ok = check(value)
                if ok is not True:
                    raise ParseError(str(ok), text)
        except ParseError as exc:
            self.n_failed[env] += 1
            self.failures.append({"index": index, "environment": self._name(env), "raw": exc.raw,
                                  "reason": exc.reason})
            return None
        self.n_ok[env] += 1
        self.methods[how] += 1
        return value

    def _name(self, env: int) -> str:
        return self.env_names[env] if 0 <= env < len(self.env_names) else str(env)

    def to_dict(self) -> dict[str, Any]:
        ok, bad = sum(self.n_ok.values()), sum(self.n_failed.values())
        envs = sorted(set(self.n_ok) | set(self.n_failed))
        return {
            "n_total": ok + bad,
            "n_ok": ok,
            "n_failed": bad,
            "failure_rate": bad / (ok + bad) if ok + bad else 0.0,
            "methods": dict(self.methods),
            "by_environment": {self._name(e): {"n_ok": self.n_ok[e], "n_failed": self.n_failed[e]} for e in envs},
            "failures": self.failures,
        }


@dataclass
class AuditResult:
    """The numbers of one audit, from :func:`llmsl.audit.audit` or :func:`llmsl.audit.audit_file`.

    Attributes
    ----------
    task : design name (``hate_speech``, ``product_quality``, ``budget``...).
    kind : ``"ribum"`` (NIAS/NIAC on action kernels) or ``"budget"`` (GARP/CCEI).
    mode : ``"logprobs"`` (exact choice probabilities), ``"sampling"`` (parsed
        sampled replies) or ``"file"`` (answers read from a file).
    seed : the audit's seed.
    parameters : every run parameter (n, samples, bootstrap size, decoding...).
    corpus : corpus summary (name, size per state, license) or ``None``.
    parse : parse counts (total, ok, failed, by environment, every failure).
    results : every number (kernels, LP result, bootstrap, informativeness,
        verdict and its text; or per-subject budget indices).
    design : the task design (prompts, schema, version).
    """

    task: str
    kind: str
    mode: str
    seed: int
    parameters: dict[str, Any]
    corpus: dict[str, Any] | None
    parse: dict[str, Any]
    results: dict[str, Any]
    design: dict[str, Any] = field(default_factory=dict)

    def to_report(self, backend: Any = None, *, calls0: int = 0, hits0: int = 0,
                  wall_time_s: float | None = None) -> Report:
        """The :class:`~llmsl.report.Report` of this audit."""
        from . import plots

        prov = Provenance(seed=self.seed, decoding=dict(self.parameters.get("decoding") or {}),
                          wall_time_s=wall_time_s)
        if backend is not None:
            prov.record_backend(backend, calls0, hits0)
        results = {"task": self.task, "kind": self.kind, "mode": self.mode, "parameters": self.parameters,
                   "corpus": self.corpus, "parse": self.parse, "design": self.design, **self.results}
        title = f"LLM rationality audit: {self.task}"
        if self.kind == "ribum":
            verdict, sections = _ribum_sections(self)
            figs = plots.ribum_figures(self.results, self.design)
        else:
            verdict, sections = _budget_sections(self)
            figs = plots.budget_figures(self.results)
        if figs:
            sections.append(Section("Figures", figures=figs))
        sections.append(_design_section(self))
        if self.parse.get("n_total"):
            sections.append(_parse_section(self.parse))
        return Report("audit", title, verdict, sections=sections, results=to_jsonable(results), provenance=prov)


def _first_sentence(text: str) -> str:
    head, _, _ = text.partition(". ")
    return head.rstrip(".") + "."


def _ribum_sections(res: AuditResult) -> tuple[Verdict, list[Section]]:
    r = res.results
    envs = list(r["environments"])
    K = len(envs)
    label = r["verdict"]
    tested = "NIAS and NIAC" if K >= 2 else "NIAS (NIAC needs two or more environments)"
    explain = [
        f"The model's answers were read as choices of an action given a text whose true state is known, in {K} "
        f"decision problem(s) ({', '.join(envs)}). The test asks whether some utility over (state, action) and some "
        f"cost of paying attention make these choices optimal: {tested}, the conditions of rational inattention "
        f"(Caplin & Dean 2015). The largest margin by which the conditions hold is m* = {r['margin']:.4g}; the data "
        f"pass when m* > 0."]
    power = r.get("power")
    if power:
        explain.append(power.get("sentence", ""))
    if label == "consistent_uninformative":
        explain.append("The answers barely depend on the text, so the test had almost nothing to reject: this "
                       "pass says that the model ignores the text, not that it reasons well.")
    elif label == "uninformative":
        explain.append("The answers barely depend on the text, so the failure says the model ignores the text; "
                       "it is not evidence of a specific irrationality.")
    elif label == "consistent":
        explain.append("A pass means the choices can be explained by some utility and attention cost; it does "
                       "not identify them uniquely, and with a free utility per environment random behaviour "
                       "often passes too (see the power).")
    else:
        explain.append("A failure means no utility and attention cost explain the choices: the model's answers "
                       "contradict each other across texts or across decision problems.")
    verdict = Verdict(label, _first_sentence(r["verdict_text"]), " ".join(e for e in explain if e))
    info_rows, info_index = [], []
    for e, inf in zip(envs, r["informativeness"], strict=True):
        est = (inf.get("informativeness") or {})
        iv = inf.get("mi_interval_95") or [None, None]
        info_index.append(e)
        info_rows.append([inf["mutual_information_bits"], iv[0], iv[1],
                          (est.get("estimate") or {}).get("tv_from_rank_one"), est.get("p_value"),
                          bool(inf.get("informative"))])
    sections = [
        Section("How informative are the answers?",
                f"Mutual information I(X; A) between the text's state and the model's action, in bits (0: the "
                f"action ignores the state). An environment counts as informative above "
                f"{r.get('uninformative_bits', 0.05)} bits" + ("" if r.get("exact") else
                                                              " and when a G-test rejects independence at 5%")
                + ". Posterior sampling biases I(X; A) upwards, so with few answers the interval can lie above "
                  "the point value.",
                tables=[Table(["I(X;A) bits", "95% low", "95% high", "distance from rank one (TV)", "G-test p",
                               "informative"], info_rows, index=info_index, index_name="environment", digits=4)]),
    ]
    costs = list(r.get("costs") or [])
    lp_text = (f"{tested}: margin m* = {r['margin']:.4g} ({'pass' if r['passed'] else 'fail'}). Utilities are "
               "normalized to [0, 1]; the margin is in expected-utility units.")
    if r.get("niac_note"):
        lp_text += " " + r["niac_note"] + "."
    sections.append(Section("NIAS and NIAC", lp_text, tables=[
        Table(["attention cost kappa"], [[c] for c in costs], index=envs, index_name="environment", digits=4)]
        if costs else []))
    boot = r.get("bootstrap") or {}
    if "fraction_passed" in boot:
        rows = [["replications", boot["n_boot"]], ["share that pass", boot["fraction_passed"]]]
        if "margin_interval_95" in boot:
            rows += [["margin 2.5%", boot["margin_interval_95"][0]], ["margin 97.5%", boot["margin_interval_95"][1]]]
        if "p_value" in boot:
            rows.append(["p-value of H0: m* = 0", boot["p_value"]])
        sections.append(Section("Bootstrap of the margin", boot.get("kind", ""),
                                tables=[Table(["value"], [[v] for _, v in rows], index=[k for k, _ in rows],
                                              digits=4)]))
    kern = np.asarray(r["kernels"], dtype=float)
    xs = _names(res.design.get("state_names"), kern.shape[1])
    acts = _names(res.design.get("action_names"), kern.shape[2])
    sections.append(Section("Action kernels p_k(a | x)", "Rows: states; columns: actions.", tables=[
        Table(acts, kern[k].tolist(), index=xs, index_name=f"{e}: state", digits=3) for k, e in enumerate(envs)]))
    return verdict, sections


def _names(names: Any, n: int) -> list[str]:
    return [str(v) for v in names] if names and len(names) == n else [str(i) for i in range(n)]


def _budget_sections(res: AuditResult) -> tuple[Verdict, list[Section]]:
    r = res.results
    rate, rnd = r["garp_pass_rate"], r["random"]
    label = "garp_consistent" if rate == 1.0 else "garp_violations"
    headline = (f"{100 * rate:.0f}% of {r['n_subjects']} subjects satisfy GARP; median CCEI {r['ccei_median']:.3f} "
                f"(uniformly random choices: {100 * rnd['garp_pass_rate']:.0f}% and "
                f"{rnd['ccei_median'] if rnd['ccei_median'] is not None else float('nan'):.3f}).")
    explain = (f"Each subject allocated a budget between two goods on {r['n_budgets']} budget lines. GARP asks "
               "whether one utility function explains every choice (Afriat 1967); the CCEI is the share of the "
               "budget a subject could have saved without changing its ranking, so 1 is perfectly consistent. "
               f"Bronars' power, the probability that uniformly random choices on the same budgets violate GARP, "
               f"averages {r['bronars_power_mean']:.2f}: " + (
                   "the test could tell the model from random behaviour." if r["bronars_power_mean"] >= 0.5 else
                   "the test had little power, so a pass means little.") + " " + r.get("verdict_text", ""))
    rows = [[s["garp"], s["violations"], s["ccei"], s["bronars_power"], s["mean_share_good1"]] for s in r["subjects"]]
    sections = [Section("Per subject", tables=[Table(["GARP", "violations", "CCEI", "Bronars power",
                                                      "mean share of good 1"], rows,
                                                     index=[s["subject"] for s in r["subjects"]],
                                                     index_name="subject")])]
    if r.get("dropped_subjects"):
        sections.append(Section("Dropped subjects", "Subjects without a usable answer on every budget line: "
                                + ", ".join(r["dropped_subjects"]) + "."))
    return Verdict(label, headline, explain), sections


def _design_section(res: AuditResult) -> Section:
    p = res.parameters
    lines = [f"Design `{res.task}` version {res.design.get('version', '?')}; mode `{res.mode}`"
             + (f" ({p.get('choice_method')})" if p.get("choice_method") else "") + f"; seed {res.seed}."]
    if res.corpus:
        c = res.corpus
        lines.append(f"Corpus {c.get('name')}: {c.get('n')} items, per state {c.get('n_per_state')}, "
                     f"license {c.get('license', '?')}.")
    envs = res.design.get("environments") or []
    tables = []
    if envs and isinstance(envs[0], dict):
        tables.append(Table(["description"], [[e.get("description", "")] for e in envs],
                            index=[e.get("name", str(i)) for i, e in enumerate(envs)], index_name="environment"))
    return Section("What was asked", " ".join(lines), tables=tables)


def _parse_section(parse: dict[str, Any]) -> Section:
    text = (f"{parse['n_ok']} of {parse['n_total']} replies parsed, {parse['n_failed']} failed "
            f"({100 * parse.get('failure_rate', 0):.1f}%); every failure is kept in report.json with its raw text.")
    reasons = Counter(f["reason"] for f in parse.get("failures", []))
    tables = [Table(["replies"], [[n] for _, n in reasons.most_common(5)], index=[r for r, _ in reasons.most_common(5)],
                    index_name="most common failure")] if reasons else []
    return Section("Parsing", text, tables=tables)
