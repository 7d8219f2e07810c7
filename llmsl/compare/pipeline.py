"""Model comparison of budget audits: several models, one table, one plot.

Two ways in, one way out:

- :func:`audit_models` runs the budget audit (:func:`llmsl.audit.audit`) once
  per backend (``llmsl audit --task budget --model A --model B``);
- :func:`compare_reports` reads finished budget audit reports
  (``llmsl compare DIR...``);

both turn every model's subjects into a :class:`BudgetPanel` (budgets and
chosen bundles) and hand the panels to :func:`compare_panels`, which computes
the per-subject metrics with :func:`ribum.analyze` (GARP, CCEI, Houtman-Maks,
Bronars' power and Beatty & Crawford's predictive success) and compares the
models with :func:`ribum.compare` (percentile bootstrap intervals per model,
KS permutation tests per pair of models and metric, Benjamini-Hochberg
q-values). The same panels with the same options give the same numbers by both
ways in, because Bronars' power is simulated with the same seed for every
model (common random numbers: on equal budgets every model gets the same power
estimate, so differences in predictive success come from the pass rates only).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..report import Report, backend_record

__all__ = ["BudgetPanel", "panel_from_report", "load_budget_report", "audit_models", "compare_reports",
           "compare_panels", "METRICS"]

#: per-subject metrics of the comparison (columns of :func:`ribum.analyze`)
METRICS = ("garp", "ccei", "houtman_maks", "bronars_power", "predictive_success")
#: Bronars simulations per subject when the reports do not record theirs
DEFAULT_N_SIM = 200


@dataclass
class BudgetPanel:
    """The subjects of one model in a budget audit.

    Attributes
    ----------
    label : group name in the comparison (the model, by default).
    prices, quantities : (S, T, 2) arrays: S subjects, T budget lines, two goods.
    subjects : S subject names.
    random_ccei : CCEIs of uniformly random choices on the same budget lines
        (the audit's reference distribution); empty when unknown.
    random_garp_pass_rate : their GARP pass rate, or ``None``.
    model : what the report says about the backend (:func:`llmsl.report.backend_record`).
    source : the report folder, or ``None`` for a run of this process.
    parameters : the audit's parameters (mode, n_sim, seed...).
    model_calls, cache_hits : the audit's model calls and cache hits.
    """

    label: str
    prices: np.ndarray
    quantities: np.ndarray
    subjects: list[str]
    random_ccei: np.ndarray = field(default_factory=lambda: np.zeros(0))
    random_garp_pass_rate: float | None = None
    model: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    model_calls: int | None = None
    cache_hits: int | None = None

    def __post_init__(self) -> None:
        P = np.asarray(self.prices, dtype=float)
        Q = np.asarray(self.quantities, dtype=float)
        if P.ndim != 3 or P.shape != Q.shape or P.shape[0] == 0 or P.shape[2] != 2:
            raise ValueError(f"panel {self.label!r}: prices and quantities must both be (S, T, 2) with S >= 1, "
                             f"got {P.shape} and {Q.shape}")
        if not (np.all(np.isfinite(P)) and np.all(np.isfinite(Q))):
            raise ValueError(f"panel {self.label!r}: prices and quantities must be finite")
        if len(self.subjects) != P.shape[0]:
            raise ValueError(f"panel {self.label!r}: {len(self.subjects)} subject names for {P.shape[0]} subjects")
        self.prices, self.quantities = P, Q
        rc = np.asarray(self.random_ccei, dtype=float).ravel()
        self.random_ccei = rc[np.isfinite(rc)]

    @property
    def n_subjects(self) -> int:
        return int(self.prices.shape[0])

    def analyze(self, *, n_sim: int = DEFAULT_N_SIM, seed: int = 0):
        """Per-subject metrics (:data:`METRICS`) of this panel: :func:`ribum.analyze` on its (P, X) arrays."""
        import ribum

        frame = ribum.analyze((self.prices, self.quantities), metrics=list(METRICS), n_sim=n_sim, seed=seed)
        frame.index = list(self.subjects)
        frame.index.name = "subject"
        return frame


def _report_dict(report: Report | dict[str, Any]) -> dict[str, Any]:
    return report.to_dict() if isinstance(report, Report) else report


def panel_from_report(report: Report | dict[str, Any], *, label: str | None = None,
                      source: str | None = None) -> BudgetPanel:
    """The :class:`BudgetPanel` of a budget audit report (a :class:`~llmsl.report.Report` or its ``to_dict()``).

    ``label`` defaults to the model recorded in the report's provenance.
    Raises ``ValueError`` (one line, naming ``source`` when given) for a report
    that is not a budget audit.
    """
    d = _report_dict(report)
    where = f"{source}: " if source else ""
    if not isinstance(d, dict) or "results" not in d:
        raise ValueError(f"{where}not an llmsl report")
    res = d.get("results") or {}
    kind, task = d.get("kind"), res.get("task")
    if kind != "audit" or res.get("kind") != "budget":
        what = f"a report of kind '{kind}'" + (f" (task '{task}')" if task else "")
        hint = (f"; compare the per-model folders under {Path(source) / 'models'} instead"
                if kind == "compare" and source else "")
        raise ValueError(f"{where}{what}, not a budget audit report (made by: llmsl audit --task budget){hint}")
    missing = [k for k in ("prices", "quantities", "subjects") if not res.get(k)]
    if missing:
        raise ValueError(f"{where}budget audit report without {', '.join(missing)}")
    prov = d.get("provenance") or {}
    model = dict(prov.get("model") or {})
    name = label if label is not None else str(model.get("model") or "").strip() or "model"
    rand = res.get("random") or {}
    rc = [np.nan if c is None else c for c in (rand.get("ccei") or [])]
    try:
        return BudgetPanel(label=name, prices=np.asarray(res["prices"], dtype=float),
                           quantities=np.asarray(res["quantities"], dtype=float),
                           subjects=[str(s.get("subject", i)) if isinstance(s, dict) else str(s)
                                     for i, s in enumerate(res["subjects"])],
                           random_ccei=np.asarray(rc, dtype=float), random_garp_pass_rate=rand.get("garp_pass_rate"),
                           model=model, source=source, parameters=dict(res.get("parameters") or {}),
                           model_calls=prov.get("model_calls"), cache_hits=prov.get("cache_hits"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}malformed budget audit report: {exc}") from None


def load_budget_report(path: str | Path, *, label: str | None = None) -> BudgetPanel:
    """The :class:`BudgetPanel` of a budget audit report folder (or its ``report.json``).

    Every failure is a ``ValueError`` with one line naming the folder.
    """
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{p}: no such folder")
    if p.is_dir() and not (p / "report.json").is_file():
        raise ValueError(f"{p}: no report.json here (expected a folder written by llmsl audit --task budget)")
    rep = Report.load(p)
    return panel_from_report(rep.to_dict(), label=label, source=str(path))


def _unique(labels: Sequence[str]) -> list[str]:
    """Labels made unique by appending `` (2)``, `` (3)``... to repeats."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "model"


def _check_int(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    return int(value)


def audit_models(task: Any, backends: Sequence[Any], *, labels: Sequence[str] | None = None,
                 save_each: str | Path | None = None, n_boot: int = 2000, n_perm: int = 2000,
                 level: float = 0.95, **audit_kwargs: Any) -> Report:
    """Run the budget audit for several models and compare them in one report.

    Parameters
    ----------
    task : ``"budget"`` or a task object of kind ``budget``.
    backends : sequence of backends, or of zero-argument callables that build
        one (built when its turn comes, so one local model at a time is in memory).
    labels : group names; default: the model id each backend reports
        (repeats get `` (2)``, `` (3)``...).
    save_each : folder under which each model's own audit report is saved, in
        ``<save_each>/<label>/`` (these folders can be compared again with
        ``llmsl compare``); ``None`` saves nothing.
    n_boot, n_perm, level : of :func:`ribum.compare`.
    audit_kwargs : passed to :func:`llmsl.audit.audit` (``n``, ``mode``,
        ``n_samples``, ``seed``, ``n_sim``, ``choice_rule``, ``chunk_size``,
        ``progress``); ``seed`` and ``n_sim`` are also those of the comparison.

    Returns
    -------
    Report
        Kind ``compare``; see :func:`compare_panels`.

    Example
    -------
    >>> from llmsl.audit.synthetic import PlantedBudgetAgent        # doctest: +SKIP
    >>> rep = audit_models("budget", [PlantedBudgetAgent("rational"), PlantedBudgetAgent("random")],
    ...                    n=1, n_sim=50, progress=False)          # doctest: +SKIP
    >>> rep.verdict.label                                          # doctest: +SKIP
    'models_differ'
    """
    from llmas.tasks import get_task

    from ..audit import audit

    t = get_task(task)
    if t.kind != "budget":
        raise ValueError(f"model comparison runs budget tasks; task {t.name!r} has kind {t.kind!r}")
    items = list(backends)
    if not items:
        raise ValueError("backends must hold at least one backend")
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(items):
            raise ValueError(f"labels: {len(labels)} names for {len(items)} backends")
    seed = _check_int("seed", audit_kwargs.get("seed", 0), 0)
    n_sim = _check_int("n_sim", audit_kwargs.get("n_sim", DEFAULT_N_SIM), 1)
    audit_kwargs = {**audit_kwargs, "seed": seed, "n_sim": n_sim}
    panels: list[BudgetPanel] = []
    names: list[str] = []
    for i, item in enumerate(items):
        be = item() if callable(item) and not hasattr(item, "choice_probs") else item
        rec = backend_record(be)
        name = labels[i] if labels is not None else str(rec.get("model") or f"model {i + 1}")
        name = _unique([*names, name])[-1]
        names.append(name)
        rep = audit(t, be, **audit_kwargs)
        src = None
        if save_each is not None:
            folder = Path(save_each) / _slug(name)
            rep.save(folder)
            src = str(folder)
        panels.append(panel_from_report(rep.to_dict(), label=name, source=src))
        del be, rep
    return compare_panels(panels, n_sim=n_sim, seed=seed, n_boot=n_boot, n_perm=n_perm, level=level,
                          origin="audit")


def compare_reports(paths: Sequence[str | Path], *, label_by: str = "model", n_sim: int | None = None,
                    seed: int = 0, n_boot: int = 2000, n_perm: int = 2000, level: float = 0.95) -> Report:
    """Compare finished budget audit report folders in one report.

    Parameters
    ----------
    paths : report folders (or ``report.json`` files) of ``llmsl audit --task budget``.
    label_by : ``"model"`` (the model in each report's provenance) or
        ``"folder"`` (the folder name) names the groups.
    n_sim : Bronars simulations per subject; ``None`` uses the ``n_sim`` the
        reports record (the first one's when they differ), else 200.
    seed, n_boot, n_perm, level : as in :func:`compare_panels`.

    Every unreadable folder or report that is not a budget audit raises a
    ``ValueError`` of one line naming it, before any computation.
    """
    if label_by not in ("model", "folder"):
        raise ValueError(f"label_by must be 'model' or 'folder', got {label_by!r}")
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise ValueError("paths must name at least one report folder")
    panels = []
    for p in paths:
        pp = Path(p)
        name = (pp.parent.name if pp.name == "report.json" else pp.resolve().name) if label_by == "folder" else None
        panels.append(load_budget_report(pp, label=name))
    for lab, pan in zip(_unique([p.label for p in panels]), panels, strict=True):
        pan.label = lab
    if n_sim is None:
        rec = [int(p.parameters["n_sim"]) for p in panels if isinstance(p.parameters.get("n_sim"), int)]
        n_sim = rec[0] if rec else DEFAULT_N_SIM
    return compare_panels(panels, n_sim=n_sim, seed=seed, n_boot=n_boot, n_perm=n_perm, level=level,
                          origin="reports")


def compare_panels(panels: Sequence[BudgetPanel], *, n_sim: int = DEFAULT_N_SIM, seed: int = 0,
                   n_boot: int = 2000, n_perm: int = 2000, level: float = 0.95, origin: str = "panels") -> Report:
    """The comparison report of several models' budget panels.

    For each panel, :meth:`BudgetPanel.analyze` gives one row per subject
    (:data:`METRICS`; Bronars' power with ``n_sim`` simulations and the same
    ``seed`` for every model); the stacked frame goes to
    ``ribum.compare(frame, by="model", metrics=METRICS, n_boot=n_boot,
    n_perm=n_perm, level=level, seed=seed)``.

    Returns
    -------
    Report
        Kind ``compare``: a per-model table (GARP pass rate, CCEI mean and
        median, Houtman-Maks, Bronars' power and predictive success, each with
        its bootstrap interval), the permutation tests with Benjamini-Hochberg
        q-values, the ECDF of the CCEI per model with uniformly random choices
        as reference, and the published figures quoted for context.
    """
    import pandas as pd

    import ribum

    from .report import build_report

    panels = list(panels)
    if not panels or not all(isinstance(p, BudgetPanel) for p in panels):
        raise ValueError("panels must be a non-empty sequence of BudgetPanel")
    labels = [p.label for p in panels]
    if len(set(labels)) != len(labels):
        raise ValueError(f"panels must have distinct labels, got {labels}")
    n_sim = _check_int("n_sim", n_sim, 1)
    seed = _check_int("seed", seed, 0)
    if origin not in ("audit", "reports", "panels"):
        raise ValueError(f"origin must be 'audit', 'reports' or 'panels', got {origin!r}")
    frames = []
    for p in panels:
        f = p.analyze(n_sim=n_sim, seed=seed).reset_index()
        f.insert(0, "model", p.label)
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)
    frame["garp"] = frame["garp"].astype(bool)
    result = ribum.compare(frame, "model", metrics=list(METRICS), n_boot=n_boot, n_perm=n_perm, level=level,
                           seed=seed)
    return build_report(panels, frame, result, n_sim=n_sim, seed=seed, origin=origin)
