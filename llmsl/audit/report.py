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
        self.n_ok: Counter[int] = Counter()
        self.n_failed: Counter[int] = Counter()
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
    shared = r.get("test") == "shared"
    tested = "NIAS and NIAC" if K >= 2 else "NIAS (NIAC needs two or more environments)"
    utility = ("one utility over (state, action), the same in every decision problem apart from the incentives "
               "each prompt states (times an unknown scale), and some" if shared else
               "some utility over (state, action), free in each decision problem, and some")
    explain = [
        f"The model's answers were read as choices of an action given a text whose true state is known, in {K} "
        f"decision problem(s) ({', '.join(envs)}). The test asks whether {utility} cost of paying attention make "
        f"these choices optimal: {tested}, the conditions of rational inattention (Caplin & Dean 2015). The "
        f"largest margin by which the conditions hold is m* = {r['margin']:.4g}; the data pass when m* > 0."]
    if shared:
        pe = r["tests"]["per_environment"]
        explain.append(f"The paper's test, with a free utility per decision problem, is reported too: the data "
                       f"{'pass' if pe['passed'] else 'fail'} it (m* = {pe['margin']:.4g}).")
    power = r.get("power")
    if power:
        explain.append(power.get("sentence", ""))
        u = power["tests"][power.get("test", "per_environment")]["uniform"]["power"]
        if u < power.get("low_power_below", 0.5) and not shared:
            stakes = _incentive_tasks()
            explain.append("A design whose prompts state the incentives of each decision problem is tested with one "
                           "shared utility, a test that random answers fail"
                           + (f" (--task {' or --task '.join(stakes)})." if stakes else "."))
    if label == "consistent_uninformative":
        explain.append("The answers barely depend on the text, so the test had almost nothing to reject: this "
                       "pass says that the model ignores the text, not that it reasons well.")
    elif label == "uninformative":
        explain.append("The answers barely depend on the text, so the failure says the model ignores the text; "
                       "it is not evidence of a specific irrationality.")
    elif label == "consistent" and shared:
        explain.append("A pass means one utility, moved by the stated incentives, and one attention cost explain "
                       "the choices: attention responds to the incentives in the direction they point. It does "
                       "not identify the utility uniquely.")
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
        info_rows.append([inf["mutual_information_bits"], inf.get("mi_interval_center"), iv[0], iv[1],
                          (est.get("estimate") or {}).get("tv_from_rank_one"), est.get("p_value"),
                          bool(inf.get("informative"))])
    sections = [
        Section("How informative are the answers?",
                f"Mutual information I(X; A) between the text's state and the model's action, in bits (0: the "
                f"action ignores the state). An environment counts as informative above "
                f"{r.get('uninformative_bits', 0.05)} bits" + ("" if r.get("exact") else
                                                              " and when a G-test rejects independence at 5%")
                + ". The first column is the plug-in value, I(X; A) of the estimated kernel; the interval and "
                  "the mean beside it come from one distribution, the "
                + ("bootstrap over texts" if r.get("exact") else
                   "Dirichlet posterior of the kernel (one pseudo-count per cell, which pulls a kernel estimated "
                   "from few answers towards independence)")
                + ", so read the interval with its own mean: the plug-in value can lie outside it.",
                tables=[Table(["I(X;A) plug-in", "interval mean", "95% low", "95% high",
                               "distance from rank one (TV)", "G-test p", "informative"], info_rows, index=info_index,
                              index_name="environment", digits=4)]),
    ]
    costs = list(r.get("costs") or [])
    lp_text = (f"{tested}: margin m* = {r['margin']:.4g} ({'pass' if r['passed'] else 'fail'}). Utilities are "
               "normalized to [0, 1]; the margin is in expected-utility units.")
    if shared:
        lp_text += (f" Shared-utility test (headline): r_k = r + lambda Delta_k with one baseline r in [0, 1] and "
                    f"the stated incentives Delta_k; lambda = {r['tests']['shared']['scale']:.4g} (lambda > 0: "
                    "attention responds to the incentives; its size is identified only relative to the range of r, "
                    "and its cap sets the margin's units, not the verdict).")
    if r.get("niac_note"):
        lp_text += " " + r["niac_note"] + "."
    lp_tables = [Table(["attention cost kappa"], [[c] for c in costs], index=envs, index_name="environment",
                       digits=4)] if costs else []
    tests = r.get("tests") or {}
    if len(tests) > 1:
        rows = []
        for name, t in tests.items():
            pw = t.get("power") or {}
            rows.append([_TEST_NAMES.get(name, name), bool(t["passed"]), t["margin"], t.get("scale"),
                         (pw.get("uniform") or {}).get("power"), (pw.get("matched") or {}).get("power")])
        lp_tables.insert(0, Table(["utilities", "passed", "margin m*", "incentive scale lambda",
                                   "power (uniform null)", "power (matched null)"], rows, index=list(tests),
                                  index_name="test", digits=4))
    sections.append(Section("NIAS and NIAC", lp_text, tables=lp_tables))
    if power:
        sections.append(_power_section(power, tests))
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


_TEST_NAMES = {"per_environment": "free per environment (SPEC 1b, the paper's)",
               "shared": "one shared utility + stated incentives (SPEC 1c)"}


def _incentive_tasks() -> list[str]:
    """Registered RIBUM tasks whose environments state incentives (a ``Task.incentives`` array)."""
    from llmas.tasks import get_task, task_names

    return [n for n in task_names("ribum") if getattr(get_task(n), "incentives", None) is not None]


def _power_section(power: dict[str, Any], tests: dict[str, Any]) -> Section:
    """The power of every test under both nulls: a table and the plain-words sentences."""
    rows, index = [], []
    for name, by_null in power["tests"].items():
        for null, d in by_null.items():
            index.append(f"{name} / {null}")
            rows.append([d["power"], d["ci"][0], d["ci"][1], d["n_fail"], d["n"], d["observed_margin"]])
    text = ("Power: the probability that random answers of the same shape (environments x states x actions, the "
            "same prior and incentives) fail the same test, the analogue of Bronars' power for budget data. Null "
            "'uniform': every row p_k(.|x) uniformly random; null 'matched': random rows exactly as informative "
            f"(I(X;A) per environment) as the model's. Below {power.get('low_power_below', 0.5):g} the test had "
            f"little power. Monte Carlo draws per null: {power['n']}, seeded from the audit seed {power['seed']}; "
            "95% Wilson intervals. ")
    text += " ".join(t["power_sentence"] for t in tests.values() if t.get("power_sentence"))
    return Section("Power of the test", text, tables=[
        Table(["power", "95% low", "95% high", "failures", "draws", "observed m*"], rows, index=index,
              index_name="test / null", digits=3)])


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
