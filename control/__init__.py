"""control: delaying herding by optimal stopping, SPSA policy gradients and incentives.

SPEC section 3. Pure numerics (numpy/scipy); imports ``sociallearn`` lazily for
the social-learning simulations, never ``llmas`` or torch.
"""
from __future__ import annotations

from .dp import DiscretizationBounds, StoppingSolution, discretize, policy_iteration, value_iteration
from .exact import ExactValue, exact_value
from .grid import BeliefGrid, simplex_grid
from .incentive_sweep import incentive_sweep
from .incentives import IncentiveProblem, IncentiveSimulation
from .reachable import reachable_beliefs, reachable_bracket
from .spsa import SPSAResult, spsa
from .stopping import StoppingProblem
from .threshold import PolicyCost, ThresholdOptimization, ThresholdPolicy, optimize_threshold, policy_cost

__all__ = [
    "StoppingProblem",
    "value_iteration",
    "policy_iteration",
    "discretize",
    "StoppingSolution",
    "DiscretizationBounds",
    "exact_value",
    "ExactValue",
    "spsa",
    "SPSAResult",
    "ThresholdPolicy",
    "policy_cost",
    "optimize_threshold",
    "PolicyCost",
    "ThresholdOptimization",
    "IncentiveProblem",
    "IncentiveSimulation",
    "incentive_sweep",
    "reachable_beliefs",
    "reachable_bracket",
    "BeliefGrid",
    "simplex_grid",
]
