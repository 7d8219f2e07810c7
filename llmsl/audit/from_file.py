"""Audit answers a user already has (CSV / JSONL / JSON / Parquet): ``llmsl audit-file``.

RIBUM tasks (``hate_speech``, ``product_quality``): one row per answer, with
columns

- ``state`` (int, required),
- ``environment`` (any label; optional, default one environment),
- either a reply column (``reply``, ``response``, ``output`` or ``completion``:
  raw model text, parsed with the task's schema and mapped to an action) or an
  ``action`` column (int).

Budget task: one row per choice, with columns ``subject``, ``p1``, ``p2``,
``x1``, ``x2`` (prices and chosen quantities of the two goods).

The prior is the file's state frequencies (every row counts, parsed or not).
With one environment only NIAS is tested: NIAC compares environments.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from llmas.tables import read_table
from llmas.tasks import Task, get_task

from .analysis import budget_analysis, ribum_analysis
from .report import AuditResult, ParseTally

REPLY_COLUMNS = ("reply", "response", "output", "completion")


def _int(v: Any, what: str, row: int) -> int:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"row {row}: {what} {v!r} is not an integer") from None
    if not np.isfinite(f) or f != int(f):
        raise ValueError(f"row {row}: {what} {v!r} is not an integer")
    return int(f)


def audit_file(path: str | Path, task: str | Task = "hate_speech", *, reply_column: str | None = None,
               action_column: str | None = None, state_column: str = "state",
               environment_column: str = "environment", n_boot: int = 200, seed: int = 0,
               n_sim: int = 200, format: str | None = None):
    """Run the audit analysis of ``task`` on the answers in ``path``.

    Parameters
    ----------
    path : CSV/JSONL/JSON/Parquet file (columns: see the module docstring).
    task : a registered task name (``hate_speech``, ``product_quality``, ``budget``) or a
        :class:`llmas.tasks.Task`.
    format : ``csv``, ``json``, ``jsonl`` or ``parquet``; ``None`` picks it from the extension.
    reply_column, action_column : override the column detection.
    n_boot : bootstrap replications of the margin (:func:`ribum.bootstrap_ribum`).

    Returns
    -------
    :class:`llmsl.report.Report` (``results["mode"] == "file"``).

    Example
    -------
    >>> rep = audit_file("mistral7b_responses.csv", "hate_speech")   # doctest: +SKIP
    >>> rep.results["parse"]["n_failed"], rep.verdict.label           # doctest: +SKIP
    """
    t = get_task(task)
    for name, value, lo in (("n_boot", n_boot, 0), ("n_sim", n_sim, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    t0 = time.perf_counter()
    rows = read_table(path, format)
    if not rows:
        raise ValueError(f"{path}: no rows")
    cols = list(rows[0])
    params: dict[str, Any] = {"path": str(path), "n_boot": n_boot, "seed": seed}
    if t.kind == "budget":
        need = ("subject", "p1", "p2", "x1", "x2")
        miss = [c for c in need if c not in cols]
        if miss:
            raise ValueError(f"{path}: the budget task needs the columns {list(need)}; missing {miss}")
        subjects: dict[str, list[list[float]]] = {}
        for i, r in enumerate(rows):
            try:
                vals = [float(r[c]) for c in need[1:]]
            except (TypeError, ValueError):
                raise ValueError(f"{path}: row {i} has a non-numeric price or quantity") from None
            subjects.setdefault(str(r["subject"]), []).append(vals)
        sizes = {len(v) for v in subjects.values()}
        if len(sizes) != 1:
            raise ValueError(f"{path}: every subject needs the same number of budgets, got {sorted(sizes)}")
        arr = np.array(list(subjects.values()))
        params.update(n_sim=n_sim)
        res = budget_analysis(arr[..., :2], arr[..., 2:], subjects=list(subjects), n_sim=n_sim, seed=seed)
        p, q = arr[..., :2], arr[..., 2:]
        res["shares"] = (p[..., 0] * q[..., 0] / (p * q).sum(axis=2)).tolist()
        res["framing"] = ["file"] * len(subjects)
        from .runner import budget_verdict

        res["verdict_text"] = budget_verdict(res)
        rep = AuditResult(task=t.name, kind="budget", mode="file", seed=seed, parameters=params, corpus=None,
                          parse={"n_total": len(rows), "n_ok": len(rows), "n_failed": 0}, results=res)
    else:
        if state_column not in cols:
            raise ValueError(f"{path}: needs a {state_column!r} column; found {cols}")
        if action_column is None and reply_column is None:
            if "action" in cols:
                action_column = "action"
            else:
                reply_column = next((c for c in REPLY_COLUMNS if c in cols), None)
                if reply_column is None:
                    raise ValueError(f"{path}: needs an 'action' column or a reply column "
                                     f"(one of {list(REPLY_COLUMNS)}); found {cols}")
        for c in (action_column, reply_column):
            if c is not None and c not in cols:
                raise ValueError(f"{path}: no column {c!r}; found {cols}")
        X, A = t.n_states, t.n_actions
        env_labels: list[str] = []
        env_of_row = []
        for r in rows:
            lab = str(r[environment_column]) if environment_column in cols else "all"
            if lab not in env_labels:
                env_labels.append(lab)
            env_of_row.append(env_labels.index(lab))
        states = np.array([_int(r.get(state_column), "state", i) for i, r in enumerate(rows)])
        if states.min() < 0 or states.max() >= X:
            raise ValueError(f"{path}: states must lie in 0..{X - 1} for task {t.name}")
        tally = ParseTally(env_labels)
        counts = np.zeros((len(env_labels), X, A))
        actions = []
        for i, r in enumerate(rows):
            k = env_of_row[i]
            if action_column is not None:
                a = _int(r.get(action_column), "action", i)
                if not 0 <= a < A:
                    raise ValueError(f"{path}: row {i}: action {a} outside 0..{A - 1}")
            else:
                d = tally.parse(str(r[reply_column] or ""), t.schema, env=k)
                a = None if d is None else int(t.action_from_reply(d))
            actions.append(a)
            if a is not None:
                counts[k, states[i], a] += 1
        parse = tally.to_dict() if reply_column is not None else {
            "n_total": len(rows), "n_ok": len(rows), "n_failed": 0}
        empty = np.argwhere(counts.sum(axis=2) == 0)
        if len(empty):
            cells = ", ".join(f"({env_labels[k]}, state {x})" for k, x in empty)
            raise ValueError(f"{path}: no usable answers for the cells {cells}")
        kernels = counts / counts.sum(axis=2, keepdims=True)
        prior = np.bincount(states, minlength=X) / len(states)
        res = ribum_analysis(kernels, prior, counts, exact=False, n_boot=n_boot, seed=seed,
                             env_names=env_labels)
        res["environments"] = env_labels
        res["items"] = {"state": states.tolist(), "environment": env_of_row, "action": actions}
        params.update(reply_column=reply_column, action_column=action_column)
        rep = AuditResult(task=t.name, kind="ribum", mode="file", seed=seed, parameters=params,
                          corpus={"name": str(path), "n": len(rows),
                                  "n_per_state": np.bincount(states, minlength=X).tolist(),
                                  "source": str(path), "license": "the user's"},
                          parse=parse, results=res)
    rep.design = t.design()
    report = rep.to_report(wall_time_s=time.perf_counter() - t0)
    report.kind = "audit-file"
    report.provenance.model = {"backend": "file", "model": str(path)}
    return report
