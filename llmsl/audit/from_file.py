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
from llmsl_core import check_n_jobs

from .analysis import budget_analysis, ribum_analysis
from .report import AuditResult, ParseTally

REPLY_COLUMNS = ("reply", "response", "output", "completion")


def audit_file(path: str | Path, task: str | Task = "hate_speech", *, reply_column: str | None = None,
               action_column: str | None = None, state_column: str = "state",
               environment_column: str | None = None, n_boot: int = 200, seed: int = 0,
               n_sim: int = 200, format: str | None = None, power_n: int | None = None,
               progress: bool = False, n_jobs: int | None = None):
    """Run the audit analysis of ``task`` on the answers in ``path``.

    Parameters
    ----------
    path : CSV/JSONL/JSON/Parquet file (columns: see the module docstring).
    task : a registered task name (``hate_speech``, ``product_quality``, ``budget``) or a
        :class:`llmas.tasks.Task`.
    format : ``csv``, ``json``, ``jsonl`` or ``parquet``; ``None`` picks it from the extension.
    reply_column, action_column : override the column detection.
    environment_column : column naming each answer's environment; ``None`` uses ``environment`` when the
        file has it (else one environment), a name the file lacks is an error.
    n_boot : bootstrap replications of the margin (:func:`ribum.bootstrap_ribum`).
    power_n : random kernel sets per null for the power of the NIAS/NIAC test
        (:func:`llmsl.audit.analysis.power_block`; 0 skips it, ``None`` the default).
    progress : a progress bar (stderr) over the LP re-solves of the bootstrap and the power.
    n_jobs : threads that solve those LPs side by side (``None``: the available cores,
        at most 8); the numbers do not depend on it.

    Returns
    -------
    :class:`llmsl.report.Report` (``results["mode"] == "file"``).

    Example
    -------
    >>> rep = audit_file("mistral7b_responses.csv", "hate_speech")   # doctest: +SKIP
    >>> rep.results["parse"]["n_failed"], rep.verdict.label           # doctest: +SKIP
    """
    t = get_task(task)
    from .analysis import POWER_N

    power_n = POWER_N if power_n is None else power_n
    for name, value, lo in (("n_boot", n_boot, 0), ("n_sim", n_sim, 1), ("seed", seed, 0), ("power_n", power_n, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    n_jobs = check_n_jobs(n_jobs)
    t0 = time.perf_counter()
    rows = read_table(path, format)
    if not rows:
        raise ValueError(f"{path}: no rows (an empty file, or a header without data)")
    cols = rows.columns
    params: dict[str, Any] = {"path": str(path), "n_boot": n_boot, "seed": seed}
    if t.kind == "budget":
        need = ("subject", "p1", "p2", "x1", "x2")
        miss = [c for c in need if c not in cols]
        if miss:
            raise ValueError(f"{path}: the budget task needs the columns {list(need)}; missing {miss}")
        subjects: dict[str, list[list[float]]] = {}
        for i in range(len(rows)):
            vals = [rows.number(i, c, positive=True) for c in ("p1", "p2")] + \
                   [rows.number(i, c, nonnegative=True) for c in ("x1", "x2")]
            if vals[2] == 0 and vals[3] == 0:
                raise ValueError(f"{rows.where(i)}: the chosen bundle (x1, x2) = (0, 0) spends nothing")
            subjects.setdefault(str(rows.field(i, "subject")), []).append(vals)
        sizes = {s: len(v) for s, v in subjects.items()}
        if len(set(sizes.values())) != 1:
            few, many = min(sizes, key=sizes.__getitem__), max(sizes, key=sizes.__getitem__)
            raise ValueError(f"{path}: every subject needs the same number of budgets; subject {few!r} has "
                             f"{sizes[few]}, subject {many!r} has {sizes[many]}")
        if next(iter(sizes.values())) < 2:
            raise ValueError(f"{path}: every subject needs at least 2 budgets to test revealed preferences")
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
        if environment_column is None:
            environment_column = "environment" if "environment" in cols else None
        elif environment_column not in cols:
            raise ValueError(f"{path}: no environment column {environment_column!r}; found {cols}")
        X, A = t.n_states, t.n_actions
        env_index: dict[str, int] = {}
        env_of_row = []
        for i in range(len(rows)):
            lab = "all" if environment_column is None else str(rows.field(i, environment_column))
            env_of_row.append(env_index.setdefault(lab, len(env_index)))
        env_labels = list(env_index)
        states = np.array([rows.integer(i, state_column, X) for i in range(len(rows))], dtype=np.int64)
        tally = ParseTally(env_labels)
        counts = np.zeros((len(env_labels), X, A))
        actions: list[int | None] = []
        for i, r in enumerate(rows):
            k = env_of_row[i]
            a: int | None
            if action_column is not None:
                a = rows.integer(i, action_column, A)
            else:
                if reply_column not in r:
                    raise ValueError(f"{rows.where(i)}: no {reply_column!r} field")
                d = tally.parse(str(r[reply_column] or ""), t.schema, env=k)
                a = None if d is None else int(t.action_from_reply(d))
            actions.append(a)
            if a is not None:
                counts[k, states[i], a] += 1
        parse = tally.to_dict() if reply_column is not None else {
            "n_total": len(rows), "n_ok": len(rows), "n_failed": 0}
        empty = np.argwhere(counts.sum(axis=2) == 0)
        if len(empty):
            shown = ", ".join(f"({env_labels[k]}, state {x})" for k, x in empty[:6])
            more = f" and {len(empty) - 6} more" if len(empty) > 6 else ""
            why = (f"; {parse['n_failed']} of {parse['n_total']} replies could not be parsed"
                   if parse.get("n_failed") else "")
            raise ValueError(f"{path}: no usable answers for {len(empty)} (environment, state) cell(s): "
                             f"{shown}{more}{why}")
        kernels = counts / counts.sum(axis=2, keepdims=True)
        prior = np.bincount(states, minlength=X) / len(states)
        res = ribum_analysis(kernels, prior, counts, exact=False, n_boot=n_boot, seed=seed,
                             env_names=env_labels, power_n=power_n, progress=progress, n_jobs=n_jobs)
        res["environments"] = env_labels
        res["items"] = {"state": states.tolist(), "environment": env_of_row, "action": actions}
        params.update(reply_column=reply_column, action_column=action_column, power_n=power_n,
                      environment_column=environment_column)
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
