"""End-to-end LLM rationality audits (``llmsl audit``, ``llmsl audit-file``).

>>> import llmas.audit                                         # doctest: +SKIP
>>> report = llmas.audit("hate_speech")                         # doctest: +SKIP
>>> print(report.summary()); report.save("report")              # doctest: +SKIP

The module itself is callable (``llmas.audit(...)`` is :func:`audit`), so the
name works both as the package and as the toolkit's one-call API.

- :func:`audit`: run a task (:mod:`llmas.tasks`) against a backend.
- :func:`audit_file`: the same analysis on answers you already have.
- :class:`AuditReport`: ``summary()``, ``to_dict()``, ``save(dir)``.
- :mod:`llmas.audit.synthetic`: planted rational / irrational agents.
"""
from __future__ import annotations

import sys
import types

from .from_file import audit_file
from .report import AuditReport
from .runner import DEFAULT_N, audit

__all__ = ["audit", "audit_file", "AuditReport", "DEFAULT_N"]


class _CallableModule(types.ModuleType):
    """Lets ``llmas.audit(...)`` call :func:`audit` although ``llmas.audit`` is a package."""

    def __call__(self, *args, **kwargs):
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
