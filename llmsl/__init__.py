"""llmsl: interacting LLM agents through microeconomics and statistical signal processing.

The application layer: the ``llmsl`` command line (:mod:`llmsl.cli`), the
pipelines behind its commands, and the one :class:`~llmsl.report.Report` type
they all return.  The mathematics lives in :mod:`ribum` (revealed
preferences), :mod:`sociallearn` (Bayesian social learning and herding) and
:mod:`control` (stopping, SPSA, incentives); what talks to models lives in
:mod:`llmas`; the economy in :mod:`macro`.

Names are imported lazily, so ``import llmsl`` is fast and loads no torch.
The audit is ``from llmsl.audit import audit, audit_file``.

>>> import llmsl
>>> sorted(llmsl.__all__)[:3]
['Report', 'Verdict', '__version__']
"""
from __future__ import annotations

import importlib
from importlib import metadata

try:
    __version__ = metadata.version("llmsl")
except metadata.PackageNotFoundError:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

_EXPORTS = {
    "Report": "llmsl.report",
    "Verdict": "llmsl.report",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
