"""Indicators, curves, welfare, planners, the ribum audit and the CLI report."""
from __future__ import annotations

import json

import numpy as np
import pytest

from macro import (
    ConstantHouseholds,
    Economy,
    EconomyConfig,
    RuleHouseholds,
    annual_indicators,
    fit_curve,
    okun_law,
    phillips_curve,
)
from macro.audit import audit_households, budgets
from macro.planner import FixedPlanner, SaezPlanner, optimize_rates_spsa, regret_study
from macro.tax import bracket_tax
from macro.welfare import SocialWelfare


@pytest.fixture(scope="module")
def runs():
    cfg = EconomyConfig(n_households=20, n_months=60)
    return [Economy(cfg, RuleHouseholds(), seed=s).run() for s in range(3)]


def test_annual_indicators_by_brute_force(runs):
    res = runs[0]
    a = annual_indicators(res)
    m = res.monthly
    assert a.n_years == 5
    for y in range(5):
        months = range(12 * y, 12 * y + 12)
        price = sum(m["price"][t] for t in months) / 12
        assert a.price[y] == pytest.approx(price)
        assert a.unemployment[y] == pytest.approx(1 - sum(m["employment"][t] for t in months) / 12)
        assert a.nominal_gdp[y] == pytest.approx(sum(m["price"][t] * m["production"][t] for t in months))
        assert a.real_gdp[y] == pytest.approx(sum(m["price"][0] * m["production"][t] for t in months))
        if y:
            prev = sum(m["price"][t - 12] for t in months) / 12
            assert a.inflation[y] == pytest.approx(price / prev - 1)
            w = np.mean(m["mean_wage"][12 * y:12 * y + 12]) / np.mean(m["mean_wage"][12 * y - 12:12 * y]) - 1
            assert a.wage_inflation[y] == pytest.approx(w)
    assert np.isnan(a.inflation[0]) and np.isnan(a.real_gdp_growth[0])
    d = a.to_dict()
    assert d["inflation"][0] is None and json.dumps(d)


def test_fit_curve_recovers_a_known_line():
    rng = np.random.default_rng(0)
    xs = [rng.uniform(0, 0.2, 30) for _ in range(4)]
    ys = [0.05 - 2.0 * x + rng.normal(0, 0.01, x.size) for x in xs]
    ys[0][3] = np.nan  # dropped, not propagated
    fit = fit_curve(xs, ys, "test")
    assert fit.n_points == 119 and fit.n_seeds == 4
    assert fit.slope_ci[0] < -2.0 < fit.slope_ci[1]
    assert fit.r < -0.9 and fit.p_value < 1e-10 and fit.holds
    assert fit.r_ci[0] <= fit.r <= fit.r_ci[1]
    assert all(r < -0.9 for r in fit.r_per_seed)
    flat = fit_curve([np.arange(5.0)], [np.ones(5)])
    assert np.isnan(flat.r) and not flat.holds
    with pytest.raises(ValueError, match="shapes differ"):
        fit_curve([np.ones(3)], [np.ones(4)])


def test_phillips_and_okun_use_the_annual_series(runs):
    ph, ok = phillips_curve(runs), okun_law(runs, unemployment="change")
    a = [r.annual() for r in runs]
    assert ph.n_points == sum(np.isfinite(v.wage_inflation[1:]).sum() for v in a)
    x = np.concatenate([v.real_gdp_growth[1:] for v in a])
    y = np.concatenate([v.unemployment_change[1:] for v in a])
    assert ok.r == pytest.approx(np.corrcoef(x, y)[0, 1])
    with pytest.raises(ValueError, match="growth"):
        okun_law(runs, unemployment="level")


def test_welfare_hand_case():
    sw = SocialWelfare(eta=0.5, labor_cost=2.0, weights="utilitarian")
    res = Economy(EconomyConfig(n_households=4), ConstantHouseholds(1.0, 0.5), seed=0).run(3)
    x, l = res.households["consumption_units"], res.households["worked"]
    u = 2 * (np.sqrt(1 + x) - 1) - 2.0 * l
    assert sw(res) == pytest.approx(u.mean())
    inv = SocialWelfare(eta=1.0, labor_cost=0.0, weights="inverse_income")
    g = 1 / np.maximum(res.households["income"].mean(0), 1)
    assert inv(res) == pytest.approx((np.log1p(x) * (g / g.mean())).mean())
    with pytest.raises(ValueError, match="weights"):
        SocialWelfare(weights="rawlsian")


def test_fixed_and_saez_planners():
    cfg = EconomyConfig(n_households=10, n_months=36)
    rates = np.full(7, 0.25)
    res = Economy(cfg, RuleHouseholds(), FixedPlanner(rates), seed=0).run()
    np.testing.assert_array_equal(res.tax_rates, np.tile(rates, (36, 1)))
    np.testing.assert_allclose(res.households["tax"], bracket_tax(res.households["income"], res.tax_cutoffs, rates))
    res = Economy(cfg, RuleHouseholds(), SaezPlanner(elasticity=0.5), seed=0).run()
    assert np.all(res.tax_rates[:12] == cfg.bracket_rates)  # no incomes seen yet
    assert not np.allclose(res.tax_rates[12], cfg.bracket_rates)
    assert np.all((res.tax_rates >= 0) & (res.tax_rates <= 1))
    res.check_accounting()


def test_regret_of_a_fixed_candidate_is_zero():
    cfg = EconomyConfig(n_households=10, n_months=24)
    cands = {"a": np.full(7, 0.1), "b": np.full(7, 0.4)}
    out = regret_study(cfg, RuleHouseholds, lambda eps: FixedPlanner(cands["a"]), epsilons=(0.0,),
                       candidates=cands, seed=3)
    # Common random numbers: the planner that plays a candidate reproduces its welfare.
    if out.best_schedule == "a":
        np.testing.assert_allclose(out.cumulative_regret["eps=0"], 0.0, atol=1e-12)
    else:
        assert out.cumulative_regret["eps=0"][-1] == pytest.approx(
            out.grid_welfare["b"] - out.grid_welfare["a"])


def test_spsa_planner_improves_welfare():
    pytest.importorskip("control.spsa")
    cfg = EconomyConfig(n_households=10, n_months=24)
    sw = SocialWelfare()
    theta0 = np.full(7, 0.05)
    rates, out = optimize_rates_spsa(cfg, RuleHouseholds, n_iter=15, theta0=theta0, welfare=sw, seed=0)
    assert rates.shape == (7,) and np.all((rates >= 0) & (rates <= 1))

    def w(r):
        return np.mean([sw(Economy(cfg, RuleHouseholds(), FixedPlanner(r), seed=s).run()) for s in range(4)])
    assert w(rates) >= w(theta0) - 1e-9


def test_audit_budget_is_exact_and_ccei_in_range(runs):
    res = runs[0]
    p, x = budgets(res, 2)
    h, m = res.households, res.monthly
    full = res.config.hours * h["skill"][:, 2]
    tau = bracket_tax(full, res.tax_cutoffs, res.tax_rates[0]) / full
    wealth = h["savings_start"][:, 2] + m["redistribution"] / 20 + full * (1 - tau)
    np.testing.assert_allclose((p * x).sum(axis=1), wealth, rtol=1e-10)
    au = audit_households(res, households=[0, 1, 2])
    assert au.ccei.shape == (3,) and np.all((au.ccei > 0) & (au.ccei <= 1))
    assert np.all(au.garp_passed == (au.violations == 0))
    assert np.all(au.ccei[au.garp_passed] == 1.0)
    with pytest.raises(ValueError, match="household"):
        budgets(res, 99)


def test_audit_of_a_constant_share_household_passes():
    # Spending a constant share of money with no work (so no leisure trade-off)
    # is Cobb-Douglas over (consumption, money kept): GARP must hold.
    res = Economy(EconomyConfig(n_households=3, initial_savings=1e5), ConstantHouseholds(0.0, 0.3),
                  seed=0).run(30)
    au = audit_households(res)
    assert au.garp_passed.all() and np.all(au.ccei == 1.0)


def test_across_seed_correlation_interval_is_fisher_z_and_inside_minus_one_one():
    rng = np.random.default_rng(2)
    xs = [rng.uniform(0, 1, 12) for _ in range(3)]
    noise = (0.02, 0.4, 0.005)  # per-seed r near -1, about -0.6 and very near -1
    ys = [-x + rng.normal(0, s, x.size) for x, s in zip(xs, noise, strict=False)]
    fit = fit_curve(xs, ys)
    from scipy import stats

    z = np.arctanh(fit.r_per_seed)
    half = stats.t.ppf(0.975, 2) * z.std(ddof=1) / np.sqrt(3)
    assert fit.r_seed_mean == pytest.approx(np.tanh(z.mean()), rel=1e-12)
    assert fit.r_seed_ci[0] == pytest.approx(np.tanh(z.mean() - half), rel=1e-12)
    assert fit.r_seed_ci[1] == pytest.approx(np.tanh(z.mean() + half), rel=1e-12)
    # A t interval on raw r would reach below -1 here.
    r = np.array(fit.r_per_seed)
    assert r.mean() - stats.t.ppf(0.975, 2) * r.std(ddof=1) / np.sqrt(3) < -1
    assert -1 < fit.r_seed_ci[0] < fit.r_seed_mean < fit.r_seed_ci[1] < 1


def test_a_positive_correlation_is_reported_as_positive():
    rng = np.random.default_rng(0)
    xs = [rng.uniform(0, 1, 20) for _ in range(2)]
    fit = fit_curve(xs, [x + rng.normal(0, 0.1, x.size) for x in xs], "Phillips curve")
    assert fit.r > 0 and not fit.holds
    assert "positive correlation (significant at 5 %), OPPOSITE to the expected sign" in fit.summary()
    assert fit.to_dict()["verdict"] == fit.verdict
    neg = fit_curve(xs, [-x + rng.normal(0, 0.1, x.size) for x in xs])
    assert neg.verdict == "negative correlation (significant at 5 %), as expected (negative)"
