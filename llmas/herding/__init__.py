"""LLM agents as sensors in a chain of social learners: herding and its control (issue 7).

``llmsl herd``, ``llmsl control`` and ``llmsl reproduce`` are built from:

SensorData, load_responses, label_corpus, get_herd_task
    Labelled readings ``(x_i, y_i)`` of an LLM (from a file, or by labelling a corpus).
analyze_herding, HerdingReport, prior_family
    Likelihood with intervals, informativeness, cascade region and thresholds,
    herding on the wrong action versus the prior (chains resample the real labels).
analyze_control, ControlReport
    Optimal stopping (value iteration) vs SPSA on the threshold policy, incentives.
simulate_reveal_policy
    Chains in which a public-belief policy decides who reveals its observation.
reproduce
    The paper's experiments (a)-(d) with the corrected model.
"""
from __future__ import annotations

from .analysis import HerdingReport, analyze_herding, prior_family, zero_one_cost
from .control_analysis import ControlReport, analyze_control
from .controlled import RevealResult, simulate_reveal_policy
from .reproduction import reproduce
from .sensor import SensorData
from .tasks import get_herd_task, label_corpus, load_responses

__all__ = ["SensorData", "load_responses", "label_corpus", "get_herd_task", "analyze_herding", "HerdingReport",
           "prior_family", "zero_one_cost", "analyze_control", "ControlReport", "simulate_reveal_policy",
           "RevealResult", "reproduce"]
