"""End-to-end LLM rationality audits (``llmsl audit``, ``llmsl audit-file``).

>>> import llmas                                                # doctest: +SKIP
>>> report = llmas.audit("hate_speech")                         # doctest: +SKIP
>>> print(report.summary()); report.save("report")              # doctest: +SKIP

- :func:`audit`: run a task (:mod:`llmas.tasks`) against a backend
  (also exported as ``llmas.audit``).
- :func:`audit_file`: the same analysis on answers you already have
  (``llmas.audit_file``).
- :class:`AuditReport`: ``summary()``, ``to_dict()``, ``save(dir)``.
- :mod:`llmas.auditing.synthetic`: planted rational / irrational agents.
"""
from __future__ import annotations

from .from_file import audit_file
from .report import AuditReport
from .runner import DEFAULT_N, audit

__all__ = ["audit", "audit_file", "AuditReport", "DEFAULT_N"]
