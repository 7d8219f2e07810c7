"""ribum: revealed preferences, from budget data to rationally inattentive agents.

Budget data (Afriat 1967, Varian 1982): :func:`garp`, :func:`ccei`,
:func:`afriat_utility`, :func:`varian_index`, :func:`houtman_maks`,
:func:`money_pump_index`, :func:`bronars_power`.

Rational inattention (Caplin & Dean 2015; SPEC 1b): :func:`check_ribum` (the
NIAS + NIAC linear program), :func:`nias`, :func:`niac`, :func:`recover_costs`,
:func:`bootstrap_ribum`, :func:`ribum_power` (its power against random
behaviour; SPEC 1c). ``check_ribum(..., utilities="shared", incentives=Delta)``
is the test with a shared utility and known incentives.

Pure numerics: numpy, scipy and CVXPY only. Plots live in :mod:`ribum.plots`.
"""
from __future__ import annotations

from llmsl_core import mutual_information

from .bootstrap import bootstrap_ribum
from .budget import AfriatUtility, afriat_utility, ccei, expenditure_matrix, garp, sarp, warp
from .compare import CompareResult, compare, plot_ccei_ecdf
from .inattention import check_ribum, niac, nias, rational_inattention_kernel, recover_costs
from .indices import houtman_maks, money_pump_index, varian_index
from .panel import analyze, panel_garp_ccei
from .power import bronars_power
from .results import (
    BootstrapResult,
    GarpResult,
    IndexResult,
    PowerResult,
    RibumPowerResult,
    RibumResult,
    SlackResult,
)
from .ribum_power import ribum_power

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
    "analyze",
    "panel_garp_ccei",
    "compare",
    "CompareResult",
    "plot_ccei_ecdf",
    "recover_costs",
    "ribum_power",
    # extras
    "warp",
    "sarp",
    "expenditure_matrix",
    "rational_inattention_kernel",
    "mutual_information",
    "AfriatUtility",
    "GarpResult",
    "IndexResult",
    "PowerResult",
    "RibumResult",
    "RibumPowerResult",
    "SlackResult",
    "BootstrapResult",
]
