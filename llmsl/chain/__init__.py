"""Chains of LLM agents that read each other's decisions: do they herd like Bayesian social learners?

``llmsl chain`` is built from:

run_chains, ChainRun
    R chains of N agents on texts of known state, as a prefix tree over histories (exact action
    probabilities from log-probabilities where the backend has them; cached, resumable, seeded).
analyze_chain_run, ChainStudy
    The chains against theory: herding and cascade times versus the Bayesian filter with the
    likelihood ``B`` of the same model's labels without history; which model of social learning
    explains the actions (log-likelihoods, AIC, LR tests, herding strength); the empirical cascade
    threshold beside the theoretical cascade region.
chain_report
    Its :class:`~llmsl.report.Report`.
ScriptedChainAgent, scripted_backend
    Backends whose social learning rule is known (Bayesian, sensor only, copy the last, majority).

The numerics live in :mod:`sociallearn.chains` and :mod:`sociallearn.social_models`.
"""
from __future__ import annotations

from .analysis import ChainStudy, analyze_chain_run
from .pipeline import ChainRun, run_chains
from .report import chain_report
from .scripted import ScriptedChainAgent, scripted_backend

__all__ = ["run_chains", "ChainRun", "analyze_chain_run", "ChainStudy", "chain_report", "ScriptedChainAgent",
           "scripted_backend"]
