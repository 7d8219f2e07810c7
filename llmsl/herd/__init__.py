"""LLM agents as sensors in a chain of social learners: herding and its control.

``llmsl herd``, ``llmsl control`` and ``llmsl reproduce`` are built from:

SensorData, load_responses, label_corpus, get_herd_task
    Labelled readings ``(x_i, y_i)`` of an LLM (from a file, or by labelling a corpus).
analyze_herding, HerdingReport
    Likelihood with intervals, informativeness, cascade region and thresholds,
    herding on the wrong action versus the prior (chains resample the real labels).
analyze_control, ControlReport
    Optimal stopping (value iteration) vs SPSA on the threshold policy, incentives.
herd_report, control_report
    Their :class:`~llmsl.report.Report`.
reproduce
    The paper's experiments (a)-(d) with the corrected model.

The numerics they use live in :mod:`sociallearn` and :mod:`control`.
"""
from __future__ import annotations

from .analysis import HerdingReport, analyze_herding
from .control_analysis import ControlReport, analyze_control
from .report import control_report, herd_report
from .reproduction import reproduce
from .sensor import SensorData
from .tasks import get_herd_task, label_corpus, load_responses

__all__ = ["SensorData", "load_responses", "label_corpus", "get_herd_task", "analyze_herding", "HerdingReport",
           "analyze_control", "ControlReport", "herd_report", "control_report", "reproduce"]
