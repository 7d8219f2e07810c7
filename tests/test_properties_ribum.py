"""Revealed-preference properties for budget data, drawn with :mod:`ribum.strategies` (issue 16).

Index definitions (ribum/indices.py): Houtman-Maks ``value`` is the kept share
|S| / T, so it equals 1 iff GARP holds; ``varian_index(aggregate="min")`` is the
CCEI by definition and ``aggregate="mean"`` the mean of per-observation
efficiencies, which is at least the CCEI (all e_t = CCEI is feasible) and at
most 1; the money pump index is the mean over violating cycles (0 when none).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ribum import afriat_utility, bronars_power, ccei, garp, houtman_maks, money_pump_index, varian_index
from ribum.strategies import (
    PlantedViolation,
    afriat_concave_data,
    planted_violation,
    random_budget_data,
    rational_budget_data,
)

FAST = settings(max_examples=15, deadline=None)
MILP = settings(max_examples=8, deadline=None)


def any_budget_data():
    """Rational, planted-violation and arbitrary data: both outcomes of every test."""
    planted = planted_violation().map(lambda d: (d.prices, d.quantities))
    return st.one_of(rational_budget_data(), planted, random_budget_data(max_obs=6))


# ----------------------------------------------------------------------------- Afriat's theorem


@FAST
@given(rational_budget_data())
def test_utility_maximizers_satisfy_garp(data):
    p, x = data
    assert garp(p, x).passed
    assert ccei(p, x) == 1.0
    assert money_pump_index(p, x).value == 0.0


@settings(max_examples=5, deadline=None)
@given(afriat_concave_data(max_obs=6))
def test_afriat_utility_rationalizes_rational_data(data):
    p, x = data
    u = afriat_utility(p, x)
    spend = p @ x.T
    own = np.diag(spend)
    ux = u(x)
    affordable = spend <= own[:, None] * (1 - 1e-9)
    t, s = np.nonzero(affordable)
    assert np.all(ux[t] >= ux[s] - 1e-6 * (1 + np.abs(ux).max()))


# ----------------------------------------------------------------------------- CCEI


@FAST
@given(any_budget_data())
def test_ccei_in_unit_interval_and_garp_holds_just_below(data):
    p, x = data
    c = ccei(p, x)
    assert 0.0 < c <= 1.0
    assert garp(p, x, c * (1 - 1e-9)).passed
    if c < 1 - 1e-8:
        assert not garp(p, x, c * (1 + 1e-9)).passed


@FAST
@given(planted_violation())
def test_planted_violation_has_the_planted_ccei(d):
    assert ccei(d.prices, d.quantities) == d.ccei
    assert not garp(d.prices, d.quantities).passed
    assert garp(d.prices, d.quantities, d.ccei * (1 - 1e-9)).passed


@FAST
@given(any_budget_data(), st.data())
def test_garp_and_ccei_invariant_to_rescaling_units_and_permutations(data, draw):
    p, x = data
    T, G = p.shape
    g0, c0 = garp(p, x).passed, ccei(p, x)
    # rescale one observation's prices
    t = draw.draw(st.integers(0, T - 1))
    f = draw.draw(st.floats(1e-3, 1e3))
    p1 = p.copy()
    p1[t] *= f
    # units of goods: prices times s_g, quantities divided by s_g
    s = np.array(draw.draw(st.lists(st.floats(1e-2, 1e2), min_size=G, max_size=G)))
    # permutations of observations and goods
    po = np.asarray(draw.draw(st.permutations(range(T))))
    pg = np.asarray(draw.draw(st.permutations(range(G))))
    variants = [(p1, x), (p * s, x / s), (p[po], x[po]), (p[:, pg], x[:, pg])]
    for pv, xv in variants:
        assert garp(pv, xv).passed == g0
        assert ccei(pv, xv) == pytest.approx(c0, rel=1e-12, abs=0)


# ----------------------------------------------------------------------------- other indices


@MILP
@given(any_budget_data())
def test_houtman_maks_is_one_iff_garp(data):
    p, x = data
    assert (houtman_maks(p, x).value == 1.0) == garp(p, x).passed


@MILP
@given(any_budget_data())
def test_varian_mean_at_least_ccei_and_varian_min_equals_ccei(data):
    p, x = data
    c = ccei(p, x)
    vm = varian_index(p, x).value
    assert c - 1e-12 <= vm <= 1.0
    assert varian_index(p, x, aggregate="min").value == c


@MILP
@given(planted_violation())
def test_planted_violation_indices_in_closed_form(d):
    p, x = d.prices, d.quantities
    assert houtman_maks(p, x).value == pytest.approx(d.houtman_maks, abs=1e-12)
    assert varian_index(p, x).value == pytest.approx(d.varian_mean, abs=1e-9)
    mpi = money_pump_index(p, x)
    assert mpi.detail["n_cycles"] == 1
    assert mpi.value == pytest.approx(d.money_pump, rel=1e-12)


@FAST
@given(any_budget_data())
def test_money_pump_positive_iff_garp_fails(data):
    p, x = data
    assert (money_pump_index(p, x).value > 0) == (not garp(p, x).passed)


@settings(max_examples=8, deadline=None)
@given(planted_violation(max_rational=2))
def test_afriat_numbers_exist_below_the_ccei(d):
    # GARP_e fails at e = CCEI itself (the bottleneck cycle has strict arcs there), so the Afriat
    # inequalities U_s <= U_t + lam_t (p_t.x_s - e p_t.x_t) are solvable for every e < CCEI, not at it.
    p, x = d.prices, d.quantities
    e = d.ccei * (1 - 1e-6)
    u = afriat_utility(p, x, efficiency=e)
    spend = p @ x.T
    own = np.diag(spend)
    scale = 1 + np.abs(u.U).max() + (u.lam * own).max()
    slack = u.U[:, None] + u.lam[:, None] * (spend - e * own[:, None]) - u.U[None, :]  # [t, s] >= 0
    assert slack.min() >= -1e-7 * scale
    t, s = np.nonzero(spend <= e * own[:, None])
    assert np.all(u.U[t] >= u.U[s] - 1e-7 * scale)
    with pytest.raises(ValueError, match="CCEI"):
        afriat_utility(p, x, efficiency=min(1.0, d.ccei * (1 + 1e-6)))


_PLANTED_2 = PlantedViolation(prices=np.array([[1.0, 0.00390625], [0.0078125, 1.0]]), quantities=np.eye(2),
                              ccei=0.0078125, houtman_maks=0.5, varian_mean=0.50390625, money_pump=0.994140625,
                              cycle=(0, 1))


@settings(max_examples=8, deadline=None)
@given(planted_violation(max_rational=2))
@example(_PLANTED_2)
def test_afriat_utility_function_rationalizes_at_its_efficiency(d):
    # e-rationalization (Afriat 1972): e p_t.x_t >= p_t.x_s  =>  u(x_t) >= u(x_s)
    p, x = d.prices, d.quantities
    e = d.ccei * (1 - 1e-6)
    u = afriat_utility(p, x, efficiency=e)
    spend = p @ x.T
    own = np.diag(spend)
    ux = u(x)
    t, s = np.nonzero(spend <= e * own[:, None])
    assert np.all(ux[t] >= ux[s] - 1e-6 * (1 + np.abs(ux).max()))


@settings(max_examples=10, deadline=None)
@given(any_budget_data(), st.integers(0, 2**32 - 1))
def test_bronars_power_in_unit_interval(data, seed):
    p, x = data
    r = bronars_power(p, x, n_sim=20, seed=seed)
    assert 0.0 <= r.power <= 1.0
    assert r.n_violating == round(r.power * 20)
