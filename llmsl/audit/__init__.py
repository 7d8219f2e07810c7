"""End-to-end LLM rationality audits (``llmsl audit``, ``llmsl audit-file``).

>>> from llmsl.audit import audit                              # doctest: +SKIP
>>> report = audit("hate_speech")                               # doctest: +SKIP
>>> print(report.summary()); report.save("report")              # doctest: +SKIP

- :func:`audit`: run a task (:class:`llmas.tasks.Task`) against a backend.
- :func:`audit_file`: the same analysis on answers you already have.
- :class:`AuditResult`: the numbers, turned into a :class:`llmsl.report.Report`.
- :mod:`llmsl.audit.synthetic`: planted rational / irrational agents.
"""
from __future__ import annotations

from .from_file import audit_file
from .report import AuditResult, ParseTally
from .runner import audit

__all__ = ["audit", "audit_file", "AuditResult", "ParseTally"]
