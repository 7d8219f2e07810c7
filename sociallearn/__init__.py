"""sociallearn: Bayesian social learning, information cascades and herding.

The social learning filter of SPEC section 2 (Krishnamurthy, *Partially Observed
Markov Decision Processes*, ch. 5; Bikhchandani, Hirshleifer & Welch 1992) for
chains of agents -- LLMs used as sensors -- that observe a private signal, see
their predecessors' actions and act myopically.

Pure numerics: numpy and scipy only. Plots live in :mod:`sociallearn.plots`.
"""
from __future__ import annotations

from .cascades import (
    CascadeDistribution,
    CascadeInterval,
    CascadeRegion,
    CascadeTimeResult,
    HerdingResult,
    cascade_distribution,
    cascade_region,
    expected_cascade_time,
    family_thresholds,
    herding_probability,
    prior_family,
    simplex_grid,
)
from .chains import (
    CascadeThreshold,
    ChainAnalysis,
    ChainData,
    analyze_chains,
    cascade_threshold,
    public_beliefs,
    wilson_interval,
)
from .estimation import (
    LikelihoodEstimate,
    ThresholdIntervals,
    estimate_likelihood,
    likelihood_intervals,
    posterior_samples,
    threshold_intervals,
)
from .information import Informativeness, informativeness, mutual_information, rank_one_distance
from .model import TIE_RULES, SocialLearningModel, zero_one_cost
from .reveal import RevealResult, simulate_reveal_policy
from .simulation import SimulationResult, simulate
from .social_models import (
    CANDIDATE_MODELS,
    ModelFit,
    SocialModelComparison,
    chain_log_likelihood,
    fit_social_models,
)
from .testing import scripted_chains

__all__ = [
    "SocialLearningModel",
    "zero_one_cost",
    "prior_family",
    "family_thresholds",
    "simulate_reveal_policy",
    "RevealResult",
    "TIE_RULES",
    "simulate",
    "SimulationResult",
    "cascade_region",
    "CascadeRegion",
    "CascadeInterval",
    "herding_probability",
    "HerdingResult",
    "expected_cascade_time",
    "CascadeTimeResult",
    "cascade_distribution",
    "CascadeDistribution",
    "simplex_grid",
    "estimate_likelihood",
    "LikelihoodEstimate",
    "likelihood_intervals",
    "posterior_samples",
    "threshold_intervals",
    "ThresholdIntervals",
    "informativeness",
    "Informativeness",
    "mutual_information",
    "rank_one_distance",
    "ChainData",
    "analyze_chains",
    "ChainAnalysis",
    "cascade_threshold",
    "CascadeThreshold",
    "public_beliefs",
    "wilson_interval",
    "fit_social_models",
    "SocialModelComparison",
    "ModelFit",
    "chain_log_likelihood",
    "CANDIDATE_MODELS",
    "scripted_chains",
]
