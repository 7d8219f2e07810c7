"""Planner experiments of issue 17: shocks, labour elasticity, regret curves, vote, social channel."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from llmas.backends.base import Backend
from macro import (
    US2018_RATES,
    BanditPlanner,
    ConstantHouseholds,
    Economy,
    EconomyConfig,
    FixedPlanner,
    RuleHouseholds,
    SaezPlanner,
    VotedPlanner,
    flat_tax_welfare,
    majority,
    measure_labor_elasticity,
    regret_curves,
    self_interest_votes,
)
from macro.bandit import default_planners, loglog_slope
from macro.experiment import okun_identity_gap, run_seeds, run_studies, social_herding, write_report
from macro.households import Observation, net_of_tax_rate
from macro.social import ExpectationChannel, run_chain
from macro.tax import US2018_MONTHLY_CUTOFFS


# ---------------------------------------------------------------------- 1. productivity shocks
def test_productivity_is_the_stated_ar1_drawn_from_the_seed():
    cfg = EconomyConfig(n_households=6, n_months=40, productivity=1.5, productivity_rho=0.8,
                        productivity_sigma=0.1)
    res = Economy(cfg, RuleHouseholds(), seed=7).run()
    eps = np.random.default_rng(np.random.SeedSequence(7).spawn(6)[4]).standard_normal(40)
    a = np.zeros(40)
    for t in range(1, 40):
        a[t] = 0.8 * a[t - 1] + 0.1 * eps[t - 1]
    np.testing.assert_allclose(res.monthly["productivity"], 1.5 * np.exp(a), rtol=1e-12)
    # output per hour and the wage paid per hour both move with exp(a_t)
    h = res.households
    np.testing.assert_allclose(res.monthly["production"],
                               1.5 * np.exp(a) * cfg.hours * h["worked"].sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(h["income"], cfg.hours * h["skill"] * h["worked"], rtol=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 0.05, 0.3])
def test_accounting_identities_hold_with_shocks(sigma):
    cfg = EconomyConfig(n_households=15, n_months=60, productivity_sigma=sigma, productivity_rho=0.5)
    res = Economy(cfg, RuleHouseholds(), seed=3).run()
    assert res.check_accounting() < 1e-9


def test_shocks_make_okun_empirical_and_without_them_it_is_an_identity():
    def runs(sigma):
        cfg = EconomyConfig(n_households=30, n_months=72, productivity_sigma=sigma)
        return [Economy(cfg, RuleHouseholds(), seed=s).run() for s in (0, 1)]

    assert okun_identity_gap(runs(0.0))["max_abs_gap"] < 1e-12
    assert okun_identity_gap(runs(0.03))["max_abs_gap"] > 1e-3


def test_without_shocks_the_model_is_unchanged_by_the_extra_streams():
    # sigma = 0: the first four random streams are those of spawn(4), so the run is the old one.
    cfg = EconomyConfig(n_households=8, n_months=30, productivity_sigma=0.0)
    res = Economy(cfg, RuleHouseholds(labor_elasticity=0.0), seed=5).run()
    assert np.all(res.monthly["productivity"] == 1.0)
    rng = np.random.default_rng(np.random.SeedSequence(5).spawn(4)[1])
    first_draw = rng.random(8)
    p_w = res.households["work_propensity"][0]
    np.testing.assert_array_equal(res.households["worked"][0], first_draw < p_w)


def test_bad_shock_parameters_raise():
    with pytest.raises(ValueError, match="productivity_rho"):
        EconomyConfig(productivity_rho=1.0)
    with pytest.raises(ValueError, match="productivity_sigma"):
        EconomyConfig(productivity_sigma=-0.1)


def test_curve_fit_reports_per_seed_slopes_with_an_interval():
    x = np.arange(6.0)
    from macro import fit_curve

    f = fit_curve([x, x, x], [1 - 2 * x, 2 - 3 * x, -4 * x])
    assert f.slope_per_seed == pytest.approx([-2.0, -3.0, -4.0])
    assert f.slope_seed_mean == pytest.approx(-3.0)
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert f.slope_seed_ci == pytest.approx((-3 - half, -3 + half))


# ---------------------------------------------------------------------- 2. labour elasticity
def _obs(rates, skill=(1.0, 5.0, 300.0)):
    n = len(skill)
    return Observation(month=3, skill=np.array(skill), savings=np.full(n, 100.0), last_income=np.zeros(n),
                       last_worked=np.zeros(n, bool), last_consumption=np.zeros(n), last_tax=np.zeros(n),
                       last_redistribution=np.zeros(n), price=1.0, interest_rate=0.0, hours=168.0,
                       tax_cutoffs=US2018_MONTHLY_CUTOFFS, tax_rates=np.asarray(rates, dtype=float))


def test_work_propensity_scales_with_the_net_of_tax_rate_to_the_elasticity():
    obs = _obs(US2018_RATES)
    # potential incomes 168, 840, 50400 a month: brackets 1 (< 808), 2 (< 3290), 7 (>= 42525)
    np.testing.assert_allclose(net_of_tax_rate(obs), [0.90, 0.88, 0.63])
    base = RuleHouseholds(labor_elasticity=0.0).work_propensity(obs)
    for e in (0.1, 0.7):
        p = RuleHouseholds(labor_elasticity=e).work_propensity(obs)
        np.testing.assert_allclose(p, base * np.array([0.90, 0.88, 0.63]) ** e, rtol=1e-12)
    # gamma = 0: exactly (1 - t)^e under a flat tax
    p = RuleHouseholds(gamma=0.0, labor_elasticity=0.4).work_propensity(_obs(np.full(7, 0.3)))
    np.testing.assert_allclose(p, 0.7 ** 0.4, rtol=1e-12)
    with pytest.raises(ValueError, match="labor_elasticity"):
        RuleHouseholds(labor_elasticity=-1.0)


@pytest.mark.parametrize("e", [0.0, 0.3, 1.0])
def test_elasticity_is_recovered_from_a_simulated_economy(e):
    # gamma = 0: E[hours] = hours (1 - t)^e exactly, so the estimate differs from e only by
    # Bernoulli noise (N T = 3000 draws per rate; se of the slope about 0.02).
    est = measure_labor_elasticity(EconomyConfig(n_households=50, n_months=60),
                                   lambda: RuleHouseholds(gamma=0.0, labor_elasticity=e),
                                   rates=(0.0, 0.2, 0.4, 0.6), seeds=range(3), burn_in=0)
    assert abs(est.elasticity - e) < 0.05
    assert len(est.per_seed) == 3 and np.array(est.hours).shape == (3, 4)
    json.dumps(est.to_dict(), allow_nan=False)


def test_elasticity_input_validation():
    cfg = EconomyConfig(n_households=5, n_months=12)
    with pytest.raises(ValueError, match="rates"):
        measure_labor_elasticity(cfg, RuleHouseholds, rates=(0.0, 1.0))
    with pytest.raises(ValueError, match="burn_in"):
        measure_labor_elasticity(cfg, RuleHouseholds, burn_in=12)
    with pytest.raises(ValueError, match="seeds"):
        flat_tax_welfare(cfg, RuleHouseholds, seeds=[])


def test_welfare_optimal_flat_tax_is_interior_with_default_parameters():
    w = flat_tax_welfare(EconomyConfig(n_households=100, n_months=120), RuleHouseholds,
                         rates=(0.0, 0.3, 0.6), seeds=range(3))
    assert w.interior and w.best_rate == 0.3
    assert all(w.welfare[s][1] > max(w.welfare[s][0], w.welfare[s][2]) for s in range(3))  # in every seed
    # and not with EconAgent's pre-tax rule (e = 0), where welfare rises with the tax
    w0 = flat_tax_welfare(EconomyConfig(n_households=100, n_months=120),
                          lambda: RuleHouseholds(labor_elasticity=0.0), rates=(0.0, 0.3, 0.6), seeds=range(2))
    assert w0.best_rate == 0.6 and not w0.interior


# ---------------------------------------------------------------------- 3. regret curves
def test_loglog_slope_of_power_laws():
    k = np.arange(1, 41)
    assert loglog_slope(k, 0.3 * k ** 0.5, 10) == pytest.approx(0.5)
    assert loglog_slope(k, 4.0 * k, 10) == pytest.approx(1.0)
    assert math.isnan(loglog_slope(k, -k, 10))


def test_regret_curves_invariants():
    cands = {"flat 0%": np.zeros(7), "flat 30%": np.full(7, 0.3), "US2018 x1": US2018_RATES}
    planners = {"greedy": lambda: BanditPlanner(cands, 0.0, interval=6),
                "eps=0.5": lambda: BanditPlanner(cands, 0.5, interval=6)}
    rc = regret_curves(EconomyConfig(n_households=10, n_months=48), RuleHouseholds, planners, cands,
                       seeds=range(4), period=6, n_boot=50)
    assert rc.n_periods == 8 and np.array(rc.regret["greedy"]).shape == (4, 8)
    # greedy never leaves its initial arm: its run is the fixed US2018 run
    assert rc.regret["greedy"] == rc.regret["fixed: US2018 x1"]
    # every fixed schedule ends with regret >= 0 against the best fixed schedule in hindsight,
    # and the best one ends at exactly 0
    for a, best in enumerate(rc.best_fixed):
        finals = [rc.regret[f"fixed: {c}"][a][-1] for c in cands]
        assert min(finals) >= 0 and rc.regret[f"fixed: {best}"][a][-1] == 0.0
    for n in rc.mean:
        assert all(lo <= m <= hi for lo, m, hi in zip(rc.ci_low[n], rc.mean[n], rc.ci_high[n], strict=False))
    json.dumps(rc.to_dict(), allow_nan=False)


def test_bandit_exploration_and_decay():
    cands = {f"flat {k}": np.full(7, k / 10) for k in range(4)}
    cfg = EconomyConfig(n_households=5, n_months=600)
    p = BanditPlanner(cands, epsilon=1.0, interval=6, initial="flat 2")
    Economy(cfg, RuleHouseholds(), p, seed=0).run()
    arms = [h["arm"] for h in p.history]
    assert arms[0] == "flat 2" and all(h["explore"] for h in p.history[1:])
    counts = np.array([arms[1:].count(k) for k in cands])
    assert counts.min() > 10                      # uniform over 4 arms, 99 draws
    d = BanditPlanner(cands, epsilon=1.0, decay=True, interval=6)
    Economy(cfg, RuleHouseholds(), d, seed=0).run()
    n_explore = sum(h["explore"] for h in d.history)
    assert 1 <= n_explore <= 15                   # E = sum_k 1/k over 99 periods, about 5.2
    assert sorted(default_planners(6)) == sorted(
        [f"{p} from {i}" for i in ("US2018 x1", "flat 0%") for p in
         ("greedy", "eps=0.05", "eps=0.1", "eps=0.2", "eps=1/k")])
    with pytest.raises(ValueError, match="initial"):
        BanditPlanner(cands, initial="nope")


# ---------------------------------------------------------------------- 4. the vote
def test_majority_rule_and_self_interest_votes():
    assert majority([True, True, False]) and not majority([True, False])
    assert not majority([True, True, False, False]) and majority([True, True, True, False])
    with pytest.raises(ValueError):
        majority([])
    z = np.array([0.0, 500.0, 2000.0, 10_000.0])
    # flat 20 % with rebate: revenue 2500, rebate 625 each; nets change by 625 - 0.2 z
    v = self_interest_votes(z, US2018_MONTHLY_CUTOFFS, np.zeros(7), np.full(7, 0.2))
    assert v.tolist() == [True, True, True, False]
    # no change: nobody strictly gains
    assert not self_interest_votes(z, US2018_MONTHLY_CUTOFFS, US2018_RATES, US2018_RATES).any()


class _Voters(ConstantHouseholds):
    def __init__(self, approve):
        super().__init__(1.0, 0.5)
        self.approve = np.asarray(approve, dtype=bool)

    def vote(self, obs, current, proposed):
        return self.approve


@pytest.mark.parametrize("approve,passes", [([1, 1, 1, 0, 0], True), ([1, 1, 0, 0, 0], False),
                                            ([1, 1, 0, 0], False), ([1, 1, 1, 0], True)])
def test_voted_planner_applies_only_majority_proposals(approve, passes):
    n = len(approve)
    vp = VotedPlanner(FixedPlanner(np.full(7, 0.3), interval=6))
    res = Economy(EconomyConfig(n_households=n, n_months=6), _Voters(approve), vp, seed=0).run()
    assert len(vp.votes) == 1 and vp.votes[0]["passed"] is passes
    assert vp.votes[0]["approval_rate"] == pytest.approx(np.mean(approve))
    expected = np.full(7, 0.3) if passes else US2018_RATES
    np.testing.assert_array_equal(res.tax_rates[0], expected)
    json.dumps(vp.to_dict(), allow_nan=False)


def test_vote_every_period_on_the_saez_planner():
    vp = VotedPlanner(SaezPlanner(interval=12, elasticity=0.2))
    res = Economy(EconomyConfig(n_households=40, n_months=60), RuleHouseholds(), vp, seed=1).run()
    assert [v["month"] for v in vp.votes] == [12, 24, 36, 48]        # Saez keeps month 0's schedule
    for v in vp.votes:
        k = v["month"]
        applied = res.tax_rates[k]
        np.testing.assert_allclose(applied, v["proposed"] if v["passed"] else v["current"])


class _VoteBackend(Backend):
    """Says Yes (p = 0.9) iff the proposal raises the household's after-tax pay plus rebate."""

    name = "vote-test"

    def __init__(self):
        super().__init__("vote-test-v1", cache=False)
        self.batches = []

    def _complete_missing(self, requests, store):
        self.batches.append(("complete", len(requests)))
        for i, _ in enumerate(requests):
            store(i, '{"work": 1, "consumption": 0.5}')

    def _choice_missing(self, requests, store):
        import re

        self.batches.append(("choice", len(requests)))
        for i, r in enumerate(requests):
            text = r["messages"][-1]["content"]
            nums = [float(x.replace(",", "")) for x in re.findall(r"\$([\d,]+\.\d+)", text)]
            # ballot order: rebate now, rebate proposed (shared by all ballots), own pay now, pay proposed
            now, then = nums[2] + nums[0], nums[3] + nums[1]
            p = 0.9 if then > now else 0.2
            store(i, {"logprobs": [math.log(p), math.log(1 - p)]})


def test_llm_households_vote_through_the_backend_in_one_batch():
    from macro.llm_households import LLMHouseholds

    be = _VoteBackend()
    pol = LLMHouseholds(be, reflection_interval=0)
    vp = VotedPlanner(FixedPlanner(np.full(7, 0.9), interval=3))
    econ = Economy(EconomyConfig(n_households=7, n_months=3), pol, vp, seed=0)
    econ.run()
    # month 0: one choice batch of 7 ballots (before the month's decisions), then one decision batch a month
    assert be.batches == [("choice", 7), ("complete", 7), ("complete", 7), ("complete", 7)]
    assert len(pol.vote_probs) == 1 and len(pol.vote_probs[0]) == 7
    # no income yet: the rebate is 0 under both; a 90 % tax lowers after-tax pay -> p(Yes) = 0.2 -> reject
    assert vp.votes[0]["approval_rate"] == 0.0 and not vp.votes[0]["passed"]


# ---------------------------------------------------------------------- 5. social channel
def test_chain_belief_equals_the_sociallearn_filter_on_a_hand_case():
    from sociallearn import SocialLearningModel

    m = SocialLearningModel.binary_symmetric(0.7)
    a, b, c = run_chain(m, [0.5, 0.5], np.array([0, 0, 1, 1]), np.random.default_rng(0))
    # first announcement reveals the signal: (0.7, 0.3); the second, agreeing, one gives
    # pi(0) = 0.7 * 0.85 / (0.7 * 0.85 + 0.3 * 0.65) = 0.595 / 0.79, a cascade: later signals are ignored
    assert a.tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(b[:, 0], [0.5, 0.7, 0.595 / 0.79, 0.595 / 0.79, 0.595 / 0.79], rtol=1e-12)
    assert c.tolist() == [False, False, True, True, True]


def test_channel_beliefs_follow_the_filter_and_herding_matches_the_exact_law():
    from sociallearn import SocialLearningModel

    ch = ExpectationChannel(precision=0.7, n_observed=6)
    cfg = EconomyConfig(n_households=20, n_months=400)
    res = Economy(cfg, RuleHouseholds(), seed=2, social=ch).run()
    m = SocialLearningModel.binary_symmetric(0.7)
    prices = res.monthly["price"]
    for rec in ch.months[:50]:
        pi = np.array([0.5, 0.5])
        for k, act in enumerate(rec["actions"]):
            pi = m.public_update(pi, act)
            assert pi[1] == pytest.approx(rec["public_belief_up"][k + 1], abs=1e-14)
        t = rec["month"]
        if t + 1 < cfg.n_months:
            assert rec["state"] == int(prices[t + 1] > prices[t])
    h = ch.herding()
    assert h["n_months"] == 400
    assert abs(h["p_wrong_cascade"] - h["exact_p_wrong_cascade"]) < 4 * h["se_wrong_cascade"] + 1e-9
    pooled = social_herding([res])
    assert pooled["p_wrong_cascade"] == pytest.approx(h["p_wrong_cascade"])
    json.dumps(res.to_dict(), allow_nan=False)


def test_channel_validation():
    for kw in ({"precision": 0.5}, {"n_observed": 0}, {"prior": (0.2, 0.2)}):
        with pytest.raises(ValueError):
            ExpectationChannel(**kw)
    with pytest.raises(ValueError, match="n_observed"):
        Economy(EconomyConfig(n_households=3), social=ExpectationChannel(n_observed=5))


# ---------------------------------------------------------------------- report
def test_studies_and_report_are_strict_json(tmp_path):
    cfg = EconomyConfig(n_households=10, n_months=36)
    rep = run_seeds(cfg, RuleHouseholds, [0, 1], audit=False, make_social=lambda: ExpectationChannel(n_observed=4))
    cands = {"flat 0%": np.zeros(7), "US2018 x1": US2018_RATES}
    rep.studies = run_studies(cfg, RuleHouseholds, seeds=[0, 1], regret_seeds=range(3),
                              elasticity_rates=(0.0, 0.5), flat_rates=(0.0, 0.3, 0.6),
                              planners={"greedy": lambda: BanditPlanner(cands, 0.0, interval=6)}, n_boot=20)
    out = write_report(rep, tmp_path / "r")
    d = json.loads((out / "report.json").read_text())
    assert d["config"]["productivity_rho"] == 0.9 and d["config"]["productivity_sigma"] == 0.03
    st = d["studies"]
    assert st["saez"]["elasticity"] == pytest.approx(np.clip(st["elasticity"]["elasticity"], 0, 2))
    assert set(st) == {"elasticity", "flat_tax", "saez", "regret", "vote", "config"}
    assert d["social_herding"]["n_months"] == 72 and d["okun_identity"]["max_abs_gap"] > 0
    assert "slope_seed_ci" in d["okun_law"]
    for f in ("series.png", "phillips.png", "okun.png", "regret_horizon.png", "flat_tax.png"):
        assert (out / f).stat().st_size > 0
    md = (out / "report.md").read_text()
    assert "arXiv 2310.10436" in md and "AR(1)" in md


def test_plots_mark_single_points_and_never_print_nan(tmp_path, monkeypatch):
    import macro.plots as plots

    figs = []
    monkeypatch.setattr(plots, "_save", lambda plt, fig, path: figs.append(fig) or path)
    res = Economy(EconomyConfig(n_households=5, n_months=24), seed=0).run()   # 2 years: one growth point
    plots.plot_series([res], tmp_path / "s.png")
    for ax in figs[-1].axes:
        assert sum(line.get_marker() == "o" for line in ax.lines) == 1      # the run's series, marked
    from macro import phillips_curve

    fit = phillips_curve([res])                      # one point: no fit
    plots.plot_curve(fit, tmp_path / "p.png")
    texts = [t.get_text() for ax in figs[-1].axes for t in ax.texts]
    legend_texts = [t.get_text() for ax in figs[-1].axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any("too few" in t for t in texts)
    assert legend_texts == ["seed 0"]  # the seed is named; no fitted line, so no "r = nan" entry
    assert not any("nan" in t for t in texts + legend_texts)
