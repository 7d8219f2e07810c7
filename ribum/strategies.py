"""Hypothesis strategies for revealed-preference theory (needs ``hypothesis``: ``pip install llmsl[testing]``).

Importing :mod:`ribum` never imports this module; import it explicitly in a test
suite. Every strategy draws its numbers through Hypothesis (so failures shrink)
and builds data whose truth is known by construction:

* budget data of utility maximizers (Cobb-Douglas, CES, Leontief, and a random
  concave utility through Afriat's construction): GARP holds, CCEI = 1;
* budget data with a planted violation of known size: CCEI, Houtman-Maks,
  Varian and the money pump index are known in closed form;
* rationally inattentive agents (Shannon cost, or a quadratic posterior-separable
  cost with an exact optimum) across environments: NIAS and NIAC hold for their
  true utilities and attention costs.

Example
-------
>>> from hypothesis import given, settings
>>> from ribum import garp
>>> @settings(max_examples=5, deadline=None)
... @given(rational_budget_data())
... def check(data):
...     assert garp(*data).passed
>>> check()
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "cobb_douglas_data",
    "ces_data",
    "leontief_data",
    "afriat_concave_data",
    "rational_budget_data",
    "random_budget_data",
    "PlantedViolation",
    "planted_violation",
    "InattentiveAgent",
    "shannon_agents",
    "quadratic_cost_agents",
    "inattentive_agents",
]

_POS = st.floats(0.2, 5.0, allow_nan=False, allow_infinity=False)


def _positive(shape) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=_POS)


@st.composite
def _budgets(draw, min_obs: int, max_obs: int, min_goods: int, max_goods: int):
    T = draw(st.integers(min_obs, max_obs))
    G = draw(st.integers(min_goods, max_goods))
    prices = draw(_positive((T, G)))
    income = draw(_positive((T,)))
    return prices, income


@st.composite
def cobb_douglas_data(draw, min_obs: int = 2, max_obs: int = 8, min_goods: int = 2, max_goods: int = 4):
    """Choices of a Cobb-Douglas consumer ``u(x) = sum_g a_g log x_g``: ``x_tg = a_g m_t / p_tg``.

    Serves Afriat's theorem (utility maximization => GARP, CCEI = 1).
    Example property: ``garp(p, x).passed and ccei(p, x) == 1.0``.

    Returns
    -------
    (prices, quantities) : two (T, G) arrays
    """
    p, m = draw(_budgets(min_obs, max_obs, min_goods, max_goods))
    a = draw(_positive((p.shape[1],)))
    a = a / a.sum()
    return p, a[None, :] * m[:, None] / p


@st.composite
def ces_data(draw, min_obs: int = 2, max_obs: int = 8, min_goods: int = 2, max_goods: int = 4):
    """Choices of a CES consumer ``u(x) = (sum_g a_g x_g^r)^(1/r)``, ``r in (-4, 0.8)`` (``r != 0``).

    Demand ``x_tg = m_t (a_g / p_tg)^s / sum_h p_th^(1-s) a_h^s`` with
    ``s = 1 / (1 - r)``. Serves Afriat's theorem (GARP holds, CCEI = 1) and the
    invariances of GARP and CCEI (example property: rescaling the prices of
    one observation leaves ``ccei`` unchanged).

    Returns
    -------
    (prices, quantities) : two (T, G) arrays
    """
    p, m = draw(_budgets(min_obs, max_obs, min_goods, max_goods))
    r = draw(st.floats(-4.0, 0.8).filter(lambda v: abs(v) > 0.05))
    a = draw(_positive((p.shape[1],)))
    s = 1.0 / (1.0 - r)
    w = (a[None, :] / p) ** s
    x = m[:, None] * w / (p * w).sum(axis=1, keepdims=True)
    return p, x


@st.composite
def leontief_data(draw, min_obs: int = 2, max_obs: int = 8, min_goods: int = 2, max_goods: int = 4):
    """Choices of a Leontief consumer ``u(x) = min_g x_g / a_g``: ``x_t = a m_t / (p_t . a)``.

    Serves Afriat's theorem with a non-differentiable utility (GARP holds, CCEI = 1);
    all bundles lie on one ray, so many budgets cross. Example property:
    ``houtman_maks(p, x).value == 1``.

    Returns
    -------
    (prices, quantities) : two (T, G) arrays
    """
    p, m = draw(_budgets(min_obs, max_obs, min_goods, max_goods))
    a = draw(_positive((p.shape[1],)))
    return p, a[None, :] * (m / (p @ a))[:, None]


@st.composite
def afriat_concave_data(draw, min_obs: int = 2, max_obs: int = 8, min_goods: int = 2, max_goods: int = 4,
                        max_pieces: int = 6):
    """Data rationalized by a random concave utility, through Afriat's construction.

    ``u(x) = min_k (c_k + b_k . x)`` with ``b_k > 0`` (concave, increasing). For
    each drawn bundle ``x_t`` the price is a supergradient of ``u`` at ``x_t``:
    ``p_t = b_k`` for the active piece ``k``. Then ``p_t . x <= p_t . x_t``
    implies ``u(x) <= u(x_t) + p_t . (x - x_t) <= u(x_t)``: ``x_t`` is optimal
    on its budget, so GARP holds (Afriat 1967, the converse direction of the
    theorem). Unlike the parametric families it reaches kinked, non-homothetic
    and non-convex-demand data. Example property: ``afriat_utility(p, x)``
    exists and ``u(x_t) >= u(x_s)`` whenever ``p_t . x_s <= p_t . x_t``.

    Returns
    -------
    (prices, quantities) : two (T, G) arrays
    """
    T = draw(st.integers(min_obs, max_obs))
    G = draw(st.integers(min_goods, max_goods))
    K = draw(st.integers(1, max_pieces))
    b = draw(_positive((K, G)))
    c = draw(hnp.arrays(np.float64, (K,), elements=st.floats(-5.0, 5.0)))
    x = draw(_positive((T, G)))
    k = np.argmin(c[None, :] + x @ b.T, axis=1)
    return b[k], x


@st.composite
def random_budget_data(draw, min_obs: int = 2, max_obs: int = 8, min_goods: int = 2, max_goods: int = 4):
    """Arbitrary budget data: positive prices and bundles with no behavioural model behind them.

    Serves the statements that hold for all data: ``0 < CCEI <= 1`` with GARP
    holding just below it (Afriat 1972), Houtman-Maks = 1 iff GARP, the money
    pump is positive iff GARP fails, Bronars' power lies in [0, 1]. Mixed with
    :func:`rational_budget_data` and :func:`planted_violation` it covers both
    outcomes of every test. Example property: ``0 < ccei(p, x) <= 1``.

    Returns
    -------
    (prices, quantities) : two (T, G) arrays
    """
    T = draw(st.integers(min_obs, max_obs))
    G = draw(st.integers(min_goods, max_goods))
    return draw(_positive((T, G))), draw(_positive((T, G)))


def rational_budget_data(min_obs: int = 2, max_obs: int = 8, min_goods: int = 2, max_goods: int = 4):
    """Any of :func:`cobb_douglas_data`, :func:`ces_data`, :func:`leontief_data`, :func:`afriat_concave_data`.

    Serves Afriat's theorem: every draw satisfies GARP (CCEI = 1, Houtman-Maks
    = 1, money pump = 0). Example property: ``garp(p, x).passed``.
    """
    kw = dict(min_obs=min_obs, max_obs=max_obs, min_goods=min_goods, max_goods=max_goods)
    return st.one_of(cobb_douglas_data(**kw), ces_data(**kw), leontief_data(**kw), afriat_concave_data(**kw))


class PlantedViolation(NamedTuple):
    """Budget data with one planted violating cycle and its indices in closed form."""

    prices: np.ndarray
    quantities: np.ndarray
    ccei: float
    houtman_maks: float
    varian_mean: float
    money_pump: float
    cycle: tuple[int, ...]


@st.composite
def planted_violation(draw, min_cycle: int = 2, max_cycle: int = 4, max_rational: int = 4):
    """Data whose only GARP violation is a planted cycle with CCEI exactly ``e0 < 1``.

    Construction. Observations ``i = 0..k-1`` buy one unit of good ``i``
    (``x_i = e_i``) at prices ``p_i[i] = 1``, ``p_i[i+1 mod k] = r_i`` with
    ``0 < r_i < 1``, ``max_i r_i = e0``, and a large price ``M`` on every other
    good. So ``E[i, i] = 1``, ``E[i, i+1] = r_i`` and every other ratio is
    ``M > 1``: the only cycle with ratios ``<= 1`` is ``0 -> 1 -> ... -> 0``.
    Rational observations (Cobb-Douglas, on their own goods, price ``M`` on
    the planted goods) are appended; no cycle crosses the two blocks. Hence,
    exactly (binary fractions, no rounding):

    * ``CCEI = max_i r_i = e0`` (Afriat 1972: the bottleneck cycle);
    * ``Houtman-Maks = (T - 1) / T`` (dropping one observation breaks the cycle);
    * ``Varian (mean) = (T - 1 + e0) / T`` (lower one efficiency, the largest ratio's);
    * ``money pump = sum_i (1 - r_i) / k`` (Echenique, Lee & Shum 2011, one cycle).

    The observations are shuffled. Example property:
    ``ccei(d.prices, d.quantities) == d.ccei``.

    Returns
    -------
    PlantedViolation
    """
    k = draw(st.integers(min_cycle, max_cycle))
    # dyadic ratios: exact in floating point, so the closed forms are exact
    num = draw(st.lists(st.integers(1, 255), min_size=k, max_size=k))
    r = np.array(num, dtype=float) / 256.0
    n_rat = draw(st.integers(0, max_rational))
    G_rat = draw(st.integers(2, 3)) if n_rat else 0
    T, G = k + n_rat, k + G_rat
    p = np.empty((T, G))
    x = np.zeros((T, G))
    if n_rat:
        pr = draw(_positive((n_rat, G_rat)))
        m = draw(_positive((n_rat,)))
        a = draw(_positive((G_rat,)))
        a = a / a.sum()
        xr = a[None, :] * m[:, None] / pr
        big = 2.0 ** np.ceil(np.log2(4.0 * max(float(m.max()), 1.0 / float(xr.sum(axis=1).min()), 1.0)))
    else:
        big = 4.0
    for i in range(k):
        p[i, :] = big
        p[i, i] = 1.0
        p[i, (i + 1) % k] = r[i]
        x[i, i] = 1.0
    if n_rat:
        p[k:, :k] = big
        p[k:, k:] = pr
        x[k:, k:] = xr
    perm = np.asarray(draw(st.permutations(range(T))))
    inv = np.argsort(perm)
    e0 = float(r.max())
    return PlantedViolation(
        prices=p[perm], quantities=x[perm], ccei=e0, houtman_maks=(T - 1) / T, varian_mean=(T - 1 + e0) / T,
        money_pump=float((1.0 - r).sum() / k), cycle=tuple(int(inv[i]) for i in range(k)),
    )


# ----------------------------------------------------------------------------- rational inattention


class InattentiveAgent(NamedTuple):
    """A rationally inattentive agent observed in ``K`` environments.

    ``kernels[k, x, a] = p_k(a | x)`` are optimal for ``utilities[k]`` under the
    attention cost ``lam * (sum_a p_k(a) T(mu_a) - T(prior))`` (posterior-separable);
    ``costs[k]`` is that cost at the optimum.
    """

    kernels: np.ndarray
    utilities: np.ndarray
    prior: np.ndarray
    costs: np.ndarray
    lam: float
    cost: str


def _prior(X: int):
    return _positive((X,)).map(lambda v: v / v.sum())


def _shannon_kkt_gap(kernels: np.ndarray, r: np.ndarray, prior: np.ndarray, lam: float) -> float:
    q = np.einsum("x,kxa->ka", prior, kernels)
    z = np.exp((r - r.max(axis=2, keepdims=True)) / lam)
    c = np.einsum("x,kxa->ka", prior, z / np.einsum("kb,kxb->kx", q, z)[:, :, None])
    used = q > 0
    return float(max(np.max(np.abs(c[used] - 1.0)), np.max(c[~used] - 1.0, initial=0.0)))


def _generic(r: np.ndarray) -> bool:
    """No two actions whose utilities differ by a constant across states (they would share a posterior)."""
    d = r[:, :, :, None] - r[:, :, None, :]  # (K, X, A, A)
    const = np.all(d == d[:, :1], axis=1)  # (K, A, A)
    A = r.shape[2]
    return not np.any(const[:, ~np.eye(A, dtype=bool)])


@st.composite
def shannon_agents(draw, min_envs: int = 1, max_envs: int = 3, min_states: int = 2, max_states: int = 3,
                   min_actions: int = 2, max_actions: int = 3, near_duplicate: bool | None = None):
    """Shannon rationally inattentive agents (Matejka & McKay 2015) across environments.

    Utilities ``r_k(x, a)`` in ``{0, 1/8, ..., 1}``, one unit cost ``lam`` for all
    environments (no two actions whose utilities differ by a constant, which
    would share one posterior and leave the NIAS margin at 0), a prior;
    kernels by Blahut-Arimoto
    (:func:`ribum.rational_inattention_kernel`), and the attention costs
    ``kappa_k = lam I_k(x; a)`` (nats). Serves Caplin & Dean (2015): such data
    satisfy NIAS and NIAC with the true ``(r, kappa)``, and
    :func:`ribum.check_ribum` accepts them. With ``near_duplicate=True`` the
    last environment repeats the first with utilities scaled by ``1 - eps``, ``eps <= 1e-3``,
    so two environments use nearly identical strategies (the hard case for the
    NIAC margin). Example property:
    ``niac(a.kernels, a.utilities, a.costs, a.prior).passed``.

    Returns
    -------
    InattentiveAgent
    """
    from .inattention import rational_inattention_kernel

    K = draw(st.integers(min_envs, max_envs))
    X = draw(st.integers(min_states, max_states))
    A = draw(st.integers(min_actions, max_actions))
    dup = draw(st.booleans()) if near_duplicate is None else near_duplicate
    if dup:
        K = max(K, 2)
    # utilities on a grid of eighths: a weakly dominated action loses at least 1/8 somewhere, so
    # Blahut-Arimoto (geometric in exp(-gap / lam)) converges well inside its iteration budget
    r = draw(hnp.arrays(np.int64, (K, X, A), elements=st.integers(0, 8)).filter(_generic)).astype(float) / 8.0
    if dup:
        # the same problem with stakes scaled by 1 - eps: the same as a unit cost lam / (1 - eps),
        # so the strategy moves by O(eps) and no near-tie (slow Blahut-Arimoto) is created
        eps = draw(st.floats(1e-6, 1e-3))
        r[-1] = r[0] * (1.0 - eps)
    lam = draw(st.floats(0.05, 1.0))
    prior = draw(_prior(X))
    kernels = rational_inattention_kernel(r, prior, lam, n_iter=2_000)
    # keep only draws where Blahut-Arimoto reached the optimum (Matejka-McKay conditions
    # sum_x pi(x) exp(r/lam) / sum_b q(b) exp(r_b/lam) <= 1, = 1 on the support); near a bifurcation
    # it converges sublinearly and the draw is rejected rather than waited for
    assume(_shannon_kkt_gap(kernels, r, prior, lam) < 1e-9)
    joint = prior[None, :, None] * kernels
    pa = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(joint > 0, joint / (prior[None, :, None] * pa), 1.0)
    costs = lam * (joint * np.log(ratio)).sum(axis=(1, 2))
    return InattentiveAgent(kernels, r, prior, costs, float(lam), "shannon")


def _quadratic_optimum(r: np.ndarray, pi0: float, lam: float) -> tuple[np.ndarray, float]:
    """Exact optimal kernel (2, A) and cost for two states and ``T(mu) = mu^2 + (1 - mu)^2``.

    The net value of a posterior ``mu = P(x = 0)`` is ``N(mu) = max_a f_a(mu)``,
    ``f_a(mu) = mu r(0,a) + (1-mu) r(1,a) - lam T(mu) = alpha_a + beta_a mu - 2 lam mu^2``
    with ``alpha_a = r(1,a) - lam``, ``beta_a = r(0,a) - r(1,a) + 2 lam``. The
    optimal strategy attains the concave envelope of ``N`` at ``pi0`` with at
    most two posteriors ``mu_1 <= pi0 <= mu_2``; by the first-order conditions
    each is an end point (0 or 1) or a point of tangency, so the candidates are:
    no information; the pair (0, 1); a tangent from an end point ``e`` to
    ``f_b`` (``2 lam m^2 - 4 lam e m + alpha_b + beta_b e - N(e) = 0``); and the
    bitangent of ``f_a`` and ``f_b``: equal slopes give
    ``mu_2 - mu_1 = d = (beta_b - beta_a) / (4 lam)`` and the chord condition
    ``alpha_b - alpha_a + beta_b d - 2 lam d^2 = (beta_a - 4 lam mu_1) d`` is
    linear in ``mu_1``. The best candidate chord is the envelope.
    """
    A = r.shape[1]
    alpha = r[1] - lam
    beta = r[0] - r[1] + 2.0 * lam

    def T(mu: float) -> float:
        return mu * mu + (1.0 - mu) ** 2

    def f(mu: float) -> np.ndarray:
        return mu * r[0] + (1.0 - mu) * r[1] - lam * T(mu)

    def N(mu: float) -> float:
        return float(f(mu).max())

    cands = [(0.0, 1.0)]
    for b in range(A):
        for e in (0.0, 1.0):
            c0 = alpha[b] + beta[b] * e - N(e)
            disc = 16.0 * lam * lam * e * e - 8.0 * lam * c0
            if disc >= 0:
                for m in ((4 * lam * e - np.sqrt(disc)) / (4 * lam), (4 * lam * e + np.sqrt(disc)) / (4 * lam)):
                    if 0.0 <= m <= 1.0:
                        cands.append((min(e, m), max(e, m)))
        for a in range(A):
            d = (beta[b] - beta[a]) / (4.0 * lam)
            if d <= 0:
                continue
            lhs = alpha[b] - alpha[a] + beta[b] * d - 2.0 * lam * d * d
            m1 = (beta[a] - lhs / d) / (4.0 * lam)
            if m1 >= 0.0 and m1 + d <= 1.0:
                cands.append((m1, m1 + d))
    best: tuple[float, float] | None = None
    best_val = N(pi0)
    for m1, m2 in cands:
        if not (m1 <= pi0 <= m2) or m2 - m1 < 1e-9:
            continue
        w2 = (pi0 - m1) / (m2 - m1)
        val = (1 - w2) * N(m1) + w2 * N(m2)
        if val > best_val + 1e-13:
            best, best_val = (m1, m2), val
    prior = np.array([pi0, 1.0 - pi0])
    joint = np.zeros((2, A))
    if best is None:
        joint[:, int(np.argmax(f(pi0)))] = prior
        return joint / prior[:, None], 0.0
    m1, m2 = best
    w2 = (pi0 - m1) / (m2 - m1)
    for w, m in ((1 - w2, m1), (w2, m2)):
        joint[:, int(np.argmax(f(m)))] += w * np.array([m, 1 - m])
    cost = lam * ((1 - w2) * T(m1) + w2 * T(m2) - T(pi0))
    return joint / prior[:, None], float(cost)


@st.composite
def quadratic_cost_agents(draw, min_envs: int = 1, max_envs: int = 3, min_actions: int = 2, max_actions: int = 3):
    """Two-state agents with the quadratic posterior-separable cost ``T(mu) = mu^2 + (1 - mu)^2``.

    Attention cost ``lam (sum_a p(a) T(mu_a) - T(pi0))`` (the expected
    reduction of the Gini/quadratic uncertainty, Caplin, Dean & Leahy 2022).
    Its optimum is computed exactly (concave envelope with closed-form
    bitangents), so the data are exactly NIAS/NIAC consistent: a second
    posterior-separable cost besides Shannon for Caplin & Dean's (2015)
    characterisation (NIAS and NIAC are necessary for every cost function).
    Example property: ``nias(a.kernels, a.utilities, a.prior).passed``.

    Returns
    -------
    InattentiveAgent
    """
    K = draw(st.integers(min_envs, max_envs))
    A = draw(st.integers(min_actions, max_actions))
    r = draw(hnp.arrays(np.float64, (K, 2, A), elements=st.floats(0.0, 1.0)))
    lam = draw(st.floats(0.05, 1.0))
    pi0 = draw(st.floats(0.1, 0.9))
    out = [_quadratic_optimum(r[k], pi0, lam) for k in range(K)]
    kernels = np.stack([o[0] for o in out])
    costs = np.array([o[1] for o in out])
    return InattentiveAgent(kernels, r, np.array([pi0, 1.0 - pi0]), costs, float(lam), "quadratic")


def inattentive_agents(**kwargs):
    """Either :func:`shannon_agents` or :func:`quadratic_cost_agents` (shared keyword arguments only).

    Serves the NIAS/NIAC characterisation for posterior-separable costs.
    Example property: relabelling actions, states or environments leaves
    ``check_ribum(...).margin`` unchanged.
    """
    shared = {k: v for k, v in kwargs.items() if k in ("min_envs", "max_envs", "min_actions", "max_actions")}
    return st.one_of(shannon_agents(**kwargs), quadratic_cost_agents(**shared))
