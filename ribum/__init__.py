"""ribum: revealed preferences, from budget data to rationally inattentive agents.

Budget data (Afriat 1967, Varian 1982): :func:`garp`, :func:`ccei`,
:func:`afriat_utility`, :func:`varian_index`, :func:`houtman_maks`,
:func:`money_pump_index`, :func:`bronars_power`.

Rational inattention (Caplin & Dean 2015; SPEC 1b): :func:`check_ribum` (the
NIAS + NIAC linear program), :func:`nias`, :func:`niac`, :func:`recover_costs`,
:func:`bootstrap_ribum`.

Pure numerics: numpy, scipy and CVXPY only. Plots live in :mod:`ribum.plots`.
"""
from __future__ import annotations

from .bootstrap import bootstrap_ribum
from .budget import AfriatUtility, afriat_utility, ccei, expenditure_matrix, garp, sarp, warp
from .indices import houtman_maks, money_pump_index, varian_index
from .inattention import check_ribum, niac, nias, rational_inattention_kernel, recover_costs
from .power import bronars_power
from .results import BootstrapResult, GarpResult, IndexResult, PowerResult, RibumResult, SlackResult

__all__ = [
    "garp",
    "ccei",
    "afriat_utility",
    "varian_index",
    "houtman_maks",
    "money_pump_index",
    "bronars_power",
    "check_ribum",
    "nias",
    "niac",
    "bootstrap_ribum",
    "recover_costs",
    # extras
    "warp",
    "sarp",
    "expenditure_matrix",
    "rational_inattention_kernel",
    "AfriatUtility",
    "GarpResult",
    "IndexResult",
    "PowerResult",
    "RibumResult",
    "SlackResult",
    "BootstrapResult",
]
