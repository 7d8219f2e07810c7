"""The :class:`~llmsl.report.Report` of a model comparison (budget audits of several models)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..report import Figure, Provenance, Report, Section, Table, Verdict, fmt, to_jsonable

if TYPE_CHECKING:
    from .pipeline import BudgetPanel

__all__ = ["build_report", "published_rows", "ALPHA"]

#: false discovery rate at which a Benjamini-Hochberg q-value counts as a detected difference
ALPHA = 0.05

#: metric -> (column title, statistic shown: "mean" or "median")
COLUMNS = [("garp", "GARP pass rate", "mean"), ("ccei", "CCEI mean", "mean"), ("ccei", "CCEI median", "median"),
           ("houtman_maks", "Houtman-Maks (mean)", "mean"), ("bronars_power", "Bronars power (mean)", "mean"),
           ("predictive_success", "predictive success (mean)", "mean")]
NAMES = {"garp": "GARP pass", "ccei": "CCEI", "houtman_maks": "Houtman-Maks", "bronars_power": "Bronars power",
         "predictive_success": "predictive success"}
REFERENCE = "uniform random (reference)"


def published_rows() -> list[dict[str, Any]]:
    """The reference table of published figures: quoted figures, else each source with no number.

    Rows come from :data:`ribum.published.PUBLISHED_RATIONALITY` (figures read
    in the source text) and, for every source of :data:`ribum.published.SOURCES`
    with no quoted figure, one row with ``value`` ``None`` and the status
    "figure not verified here".  No figure is ever filled in here.
    """
    from ribum.published import PUBLISHED_RATIONALITY, SOURCES

    rows = [{"source": r["source"], "subjects": r["subjects"], "domain": r.get("domain", ""),
             "statistic": r["statistic"], "value": r["value"], "where": r.get("where", ""),
             "status": "quoted, not measured" + (f" ({r['where']})" if r.get("where") else "")}
            for r in PUBLISHED_RATIONALITY]
    quoted = {r.get("key") for r in PUBLISHED_RATIONALITY}
    for s in SOURCES:
        if s["key"] in quoted:
            continue
        cite = s["citation"] + (f", doi:{s['doi']}" if s.get("doi") else "")
        rows.append({"source": cite, "subjects": s["subjects"], "domain": ", ".join(s.get("domains", [])),
                     "statistic": "CCEI", "value": None, "where": "",
                     "status": "quoted, not measured; figure not verified here"})
    return rows


def _cell(stat: dict[str, Any], which: str) -> str:
    v = stat[which]
    lo, hi = stat[f"{which}_ci"]
    return f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]"


def _reference(panels: list[BudgetPanel]) -> dict[str, Any]:
    rc = np.concatenate([p.random_ccei for p in panels]) if panels else np.zeros(0)
    rates = [(p.random_garp_pass_rate, p.random_ccei.size) for p in panels if p.random_garp_pass_rate is not None]
    w = sum(n for _, n in rates)
    rate = (sum(r * n for r, n in rates) / w) if w else None
    return {"n": int(rc.size), "garp_pass_rate": rate,
            "ccei_mean": float(rc.mean()) if rc.size else None,
            "ccei_median": float(np.median(rc)) if rc.size else None, "ccei": np.sort(rc).tolist()}


def _draw_ecdf(path: Path, values: dict[str, np.ndarray], reference: np.ndarray, level_note: str) -> None:
    from ..audit.plots import _plt, _save

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, (g, y) in enumerate(values.items()):
        y = np.sort(np.asarray(y, dtype=float))
        # start at height 0 on the smallest value, end at height 1 on CCEI = 1
        xs = np.r_[y[0], y, 1.0]
        ys = np.r_[0.0, np.arange(1, y.size + 1) / y.size, 1.0]
        ax.step(xs, ys, where="post", color=f"C{i}", lw=1.8, label=f"{g} (n = {y.size})")
        if y.size == 1:
            ax.plot(y, [1.0], "o", color=f"C{i}", ms=4)
    if reference.size:
        r = np.sort(reference)
        ax.step(np.r_[r[0], r, 1.0], np.r_[0.0, np.arange(1, r.size + 1) / r.size, 1.0], where="post",
                color="0.45", ls="--", lw=1.4, label=f"{REFERENCE} (n = {r.size})")
    ax.set_xlabel("CCEI (Afriat critical cost efficiency index)")
    ax.set_ylabel("share of subjects with CCEI <= x")
    ax.set_ylim(0, 1.03)
    ax.set_xlim(right=1.01)
    ax.set_title(f"Empirical CDF of the CCEI per model {level_note}".strip(), fontsize=9)
    ax.legend(title="model", fontsize=7, title_fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    _save(fig, path)


def _verdict(labels: list[str], stats: dict[str, dict[str, dict[str, Any]]], tests: list[dict[str, Any]],
             reference: dict[str, Any]) -> Verdict:
    med = ", ".join(f"{g} {fmt(stats[g]['ccei']['median'])}" for g in labels)
    ref = (f" Uniformly random choices on the same budgets have median CCEI {fmt(reference['ccei_median'])} and "
           f"pass GARP at rate {fmt(reference['garp_pass_rate'])}." if reference["n"] else "")
    what = ("Each model answered the budget task: its subjects allocated a budget between two goods on random budget "
            "lines, and each subject's choices were tested against utility maximization. GARP pass is 1 when some "
            "utility function explains every choice; the CCEI is the largest share of each budget a subject could "
            "have kept without changing its ranking (1: consistent); Houtman-Maks is the largest share of choices "
            "that are consistent; Bronars' power is the probability that uniformly random choices on the same "
            "budgets violate GARP; predictive success (Beatty & Crawford 2011) is pass minus (1 - power), so a pass "
            "on budgets where random choices pass too counts for little. Intervals are percentile bootstrap "
            "intervals over subjects.")
    if len(labels) == 1:
        g = labels[0]
        return Verdict("single_model", f"One model ({g}): GARP pass rate {fmt(stats[g]['garp']['mean'])}, median "
                                       f"CCEI {fmt(stats[g]['ccei']['median'])}; nothing to compare it with.",
                       what + ref)
    sig = [t for t in tests if t["q_value"] < ALPHA]
    sig_ccei = [t for t in sig if t["metric"] == "ccei"]
    n_pairs = len(labels) * (len(labels) - 1) // 2
    tested = (f" For every pair of models and every metric, a permutation test (Kolmogorov-Smirnov distance between "
              f"the two distributions, exact under exchangeability) asks whether the two samples of subjects could "
              f"come from one distribution; the {len(tests)} p-values are adjusted together by Benjamini-Hochberg "
              f"and a q-value below {ALPHA} counts as a detected difference.")
    if sig:
        head = (f"The models differ: median CCEI {med}; the CCEI distributions differ for {len(sig_ccei)} of "
                f"{n_pairs} pairs, and {len(sig)} of {len(tests)} tests (all metrics) have q < {ALPHA}.")
        concl = (" A detected difference says that the models' choices are not equally consistent with utility "
                 "maximization on these budgets; with few subjects per model the intervals are wide, so read the "
                 "sizes of the differences from the table, not only the q-values.")
        return Verdict("models_differ", head, what + ref + tested + concl)
    head = (f"No difference detected between the models: median CCEI {med}; no test of {len(tests)} reaches "
            f"q < {ALPHA}.")
    concl = (" Not detecting a difference is not evidence that the models are equally rational: with few subjects "
             "per model the tests have little power; more subjects (--n) narrow the intervals.")
    return Verdict("no_detected_difference", head, what + ref + tested + concl)


def build_report(panels: list[BudgetPanel], frame, result, *, n_sim: int, seed: int, origin: str) -> Report:
    """Assemble the comparison :class:`~llmsl.report.Report` (see :func:`llmsl.compare.compare_panels`)."""
    labels = [p.label for p in panels]
    stats: dict[str, dict[str, dict[str, Any]]] = {g: {} for g in labels}
    for s in result.stats:
        stats[s["group"]][s["metric"]] = {k: v for k, v in s.items() if k not in ("group", "metric")}
    reference = _reference(panels)
    pct = int(round(100 * result.level))

    # per-model table
    rows, index = [], []
    for p in panels:
        st = stats[p.label]
        rows.append([p.n_subjects, *[_cell(st[m], which) for m, _, which in COLUMNS]])
        index.append(p.label)
    if reference["n"]:
        rows.append([reference["n"], fmt(reference["garp_pass_rate"]), fmt(reference["ccei_mean"]),
                     fmt(reference["ccei_median"]), None, None, None])
        index.append(REFERENCE)
    per_model = Table(["subjects", *[c for _, c, _ in COLUMNS]], rows, index=index, index_name="model",
                      title=f"Per model: value [{pct}% percentile bootstrap interval over subjects]")
    note = (f"{n_sim} uniformly random data sets per subject for Bronars' power, simulated with the same seed "
            f"({seed}) for every model; {result.n_boot} bootstrap resamples. The reference row pools the CCEIs of "
            "uniformly random choices on the models' own budget lines, as recorded by each audit.")
    sections = [Section("Rationality per model", note, tables=[per_model])]

    # permutation tests
    if result.tests:
        trows = [[NAMES.get(t["metric"], t["metric"]), t["group_a"], t["group_b"], t["D"], t["diff_mean"],
                  t["p_value"], t["q_value"], "yes" if t["q_value"] < ALPHA else "no"] for t in result.tests]
        ttable = Table(["metric", "model a", "model b", "KS distance D", "mean a - mean b", "p (permutation)",
                        "q (BH)", f"q < {ALPHA}"], trows,
                       title=f"Permutation tests of equal distributions ({result.n_perm} relabelings per test)")
        sections.append(Section(
            "Do the models differ?",
            "For each metric and pair of models: the Kolmogorov-Smirnov distance D between the two samples of "
            "subjects, its permutation p-value p = (1 + #{relabelings with D_b >= D}) / (1 + B), exact for any "
            "distribution and ties included (Phipson & Smyth 2010), and the Benjamini-Hochberg (1995) q-value over "
            "all tests of this table (false discovery rate control).", tables=[ttable]))

    # figure
    values = {g: np.asarray(result.values["ccei"][g]) for g in labels}
    ref = np.asarray(reference["ccei"], dtype=float)

    def draw(path: Path) -> None:
        _draw_ecdf(path, values, ref, "")

    fig = Figure("ccei_ecdf.png", "Empirical CDF of the CCEI per model; dashed: uniformly random choices on the "
                                  "same budget lines. A curve further right and lower means more consistent "
                                  "subjects.", draw)
    sections.append(Section("Figure", figures=[fig]))

    # published figures
    pub = published_rows()
    ptable = Table(["source", "subjects", "domains", "statistic", "value", "status"],
                   [[r["source"], r["subjects"], r["domain"], r["statistic"], r["value"], r["status"]] for r in pub],
                   title="Published figures, for context (quoted, not measured)")
    sections.append(Section(
        "Published figures for context",
        "Figures from the literature, quoted from their sources and never measured here; their designs (prompts, "
        "budgets, subjects) differ from this audit's, so they are context, not a benchmark. A source whose figure "
        "could not be read in its text is listed without a number.", tables=[ptable]))

    # models
    mrows, mindex = [], []
    for p in panels:
        m = p.model
        mrows.append([m.get("backend"), m.get("model"), m.get("base_url"), p.n_subjects, int(p.prices.shape[1]),
                      p.parameters.get("mode"), p.parameters.get("seed"), p.model_calls, p.cache_hits,
                      p.source or "-"])
        mindex.append(p.label)
    mtable = Table(["backend", "model id", "server", "subjects", "budgets", "mode", "audit seed", "model calls",
                    "cache hits", "report folder"], mrows, index=mindex, index_name="model")
    sections.append(Section("Models compared", "Where each model's answers come from.", tables=[mtable]))

    verdict = _verdict(labels, stats, result.tests, reference)
    records = [p.model for p in panels]
    backends = sorted({str(r.get("backend")) for r in records if r.get("backend")})
    calls = [int(p.model_calls) for p in panels if p.model_calls is not None]
    hits = [int(p.cache_hits) for p in panels if p.cache_hits is not None]
    decodings = [p.parameters.get("decoding") for p in panels]
    prov = Provenance(seed=seed, model={"backend": ", ".join(backends), "model": ", ".join(labels),
                                        "models": records},
                      decoding=decodings[0] if decodings and all(d == decodings[0] for d in decodings) and
                      isinstance(decodings[0], dict) else {},
                      model_calls=sum(calls) if len(calls) == len(panels) else None,
                      cache_hits=sum(hits) if len(hits) == len(panels) else None)
    per_subject = frame.to_dict(orient="records")
    results = {
        "task": "budget", "kind": "budget_compare", "origin": origin, "groups": labels, "metrics": result.metrics,
        "alpha": ALPHA, "n_sim": n_sim, "seed": seed,
        "models": [{"label": p.label, "model": p.model, "source": p.source, "n_subjects": p.n_subjects,
                    "n_budgets": int(p.prices.shape[1]), "parameters": p.parameters, "model_calls": p.model_calls,
                    "cache_hits": p.cache_hits} for p in panels],
        "per_model": stats, "tests": result.tests, "compare": result.to_dict(), "per_subject": per_subject,
        "random_reference": reference, "published": pub,
    }
    title = "LLM rationality: model comparison on the budget task"
    return Report("compare", title, verdict, sections=sections, results=to_jsonable(results), provenance=prov)
