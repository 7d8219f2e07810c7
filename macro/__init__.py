"""macro: a thin EconAgent-style macroeconomy with rule-based or LLM households.

Mechanics follow SPEC section 5 (EconAgent, Li et al. ACL 2024); the tax planner
follows the LLM Economist (Karten et al. 2025). Heavy pieces (LLM households,
plots, audits) are imported lazily so ``import macro`` stays fast.
"""
from __future__ import annotations

from .bandit import BanditPlanner, RegretCurves, regret_curves
from .config import EconomyConfig
from .economy import Economy, EconomyResult, initial_skills
from .elasticity import ElasticityEstimate, FlatTaxWelfare, flat_tax_welfare, measure_labor_elasticity
from .households import ConstantHouseholds, HouseholdPolicy, MonthOutcome, Observation, PeerInfluence, RuleHouseholds
from .metrics import AnnualIndicators, CurveFit, annual_indicators, fit_curve, okun_law, phillips_curve, summarize_seeds
from .monetary import TaylorRule
from .planner import (
    FixedPlanner,
    LLMPlanner,
    Planner,
    RandomPlanner,
    RegretResult,
    SaezPlanner,
    default_candidates,
    optimize_rates_spsa,
    regret_study,
)
from .tax import (
    US2018_ANNUAL_CUTOFFS,
    US2018_MONTHLY_CUTOFFS,
    US2018_RATES,
    TaxSchedule,
    bracket_tax,
    marginal_rate,
    saez_rates,
)
from .vote import VotedPlanner, majority, self_interest_votes
from .welfare import SocialWelfare

__all__ = [
    "EconomyConfig", "Economy", "EconomyResult", "initial_skills",
    "HouseholdPolicy", "Observation", "MonthOutcome", "RuleHouseholds", "ConstantHouseholds",
    "PeerInfluence", "LLMHouseholds",
    "AnnualIndicators", "CurveFit", "annual_indicators", "fit_curve", "okun_law", "phillips_curve",
    "summarize_seeds", "TaylorRule", "TaxSchedule", "bracket_tax", "marginal_rate", "saez_rates",
    "US2018_ANNUAL_CUTOFFS", "US2018_MONTHLY_CUTOFFS", "US2018_RATES",
    "Planner", "FixedPlanner", "SaezPlanner", "LLMPlanner", "RandomPlanner", "RegretResult",
    "default_candidates", "regret_study", "optimize_rates_spsa", "SocialWelfare",
    "audit_households", "run_seeds", "MacroReport",
    "BanditPlanner", "RegretCurves", "regret_curves", "ElasticityEstimate", "FlatTaxWelfare",
    "flat_tax_welfare", "measure_labor_elasticity", "VotedPlanner", "majority", "self_interest_votes",
    "ExpectationChannel", "run_chain", "run_studies", "PlannerStudies",
]


def __getattr__(name):
    if name == "LLMHouseholds":
        from .llm_households import LLMHouseholds

        return LLMHouseholds
    if name == "audit_households":
        from .audit import audit_households

        return audit_households
    if name in ("ExpectationChannel", "run_chain"):
        from . import social  # imports sociallearn

        return getattr(social, name)
    if name in ("run_seeds", "MacroReport", "run_studies", "PlannerStudies"):
        from . import experiment

        return getattr(experiment, name)
    raise AttributeError(f"module 'macro' has no attribute {name!r}")
