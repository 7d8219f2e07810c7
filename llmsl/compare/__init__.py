"""Model comparison on the budget task (``llmsl audit --task budget --model A --model B``, ``llmsl compare``).

- :func:`audit_models`: run the budget audit for several backends, one report.
- :func:`compare_reports`: compare finished budget audit report folders.
- :func:`compare_panels`: the shared analysis (:func:`ribum.analyze` per model,
  :func:`ribum.compare` across models) and its :class:`~llmsl.report.Report`.
- :class:`BudgetPanel`, :func:`panel_from_report`, :func:`load_budget_report`:
  one model's subjects (budgets and chosen bundles).
"""
from __future__ import annotations

from .pipeline import (
    METRICS,
    BudgetPanel,
    audit_models,
    compare_panels,
    compare_reports,
    load_budget_report,
    panel_from_report,
)
from .report import published_rows

__all__ = ["audit_models", "compare_reports", "compare_panels", "BudgetPanel", "panel_from_report",
           "load_budget_report", "published_rows", "METRICS"]
