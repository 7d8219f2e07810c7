"""Power of the GARP test against random behaviour (Bronars 1987)."""
from __future__ import annotations

import numpy as np

from llmsl_core import check_random_state

from ._blas import single_threaded_blas
from ._validation import check_budget_data, check_efficiency, check_positive_int
from .budget import _garp
from .budget import ccei as _ccei
from .results import PowerResult

__all__ = ["bronars_power"]


@single_threaded_blas
def bronars_power(prices, quantities, n_sim: int = 1000, seed=None, *, efficiency: float = 1.0,
                  with_ccei: bool = False) -> PowerResult:
    """Bronars' power: how often uniformly random choices on the same budgets violate GARP_e.

    Each simulated consumer keeps the observed budgets {x >= 0 : p_t . x = p_t . x_t}
    and picks a bundle uniformly on each budget hyperplane: budget shares
    w ~ Dirichlet(1, ..., 1) (uniform on the simplex) and x_g = w_g m_t / p_tg, a
    linear image of the simplex, hence uniform on the hyperplane. Power is the
    share of simulated data sets that fail GARP_e; a test with low power cannot
    tell rational data from noise.

    Parameters
    ----------
    prices, quantities : (T, G) arrays
        Observed data (only the budgets p_t and m_t = p_t . x_t are used).
    n_sim : int
    seed : int, numpy.random.Generator or None
    efficiency : float
        Test GARP_e at this efficiency (power against random choice at e < 1).
    with_ccei : bool
        Also return the CCEI of every simulated data set (``ccei`` attribute),
        the distribution against which an observed CCEI can be compared.

    Returns
    -------
    PowerResult
        ``power``, ``n_violating``, ``stderr`` = sqrt(power (1 - power) / n_sim).

    Example
    -------
    >>> p = [[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]]; x = [[2.0, 1.0], [1.0, 2.0], [1.5, 1.5]]
    >>> 0.0 <= bronars_power(p, x, n_sim=50, seed=0).power <= 1.0
    True
    """
    p, x = check_budget_data(prices, quantities, scale=True)
    n_sim = check_positive_int(n_sim, "n_sim")
    e = check_efficiency(efficiency)
    rng = check_random_state(seed)
    T, G = p.shape
    m = np.einsum("tg,tg->t", p, x)
    bad = 0
    cc = np.empty(n_sim) if with_ccei else None
    for i in range(n_sim):
        w = rng.dirichlet(np.ones(G), size=T)
        xs = w * (m[:, None] / p)
        if not _garp(p, xs, e).passed:
            bad += 1
        if cc is not None:
            cc[i] = _ccei(p, xs)
    power = bad / n_sim
    return PowerResult(power=power, n_sim=n_sim, n_violating=bad, efficiency=e,
                       stderr=float(np.sqrt(power * (1 - power) / n_sim)), ccei=cc)
