"""LLM households and the LLM planner through the llmas Backend interface."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmas import ResponseCache
from llmas.backends.base import Backend
from macro import Economy, EconomyConfig, RuleHouseholds
from macro.llm_households import LLMHouseholds, decide_from_probs, decision_choices, parse_decision
from macro.planner import LLMPlanner, regret_study


class ScriptedBackend(Backend):
    """A deterministic 'model': replies computed from the prompt text.

    Decision prompts get {"work": w, "consumption": c} with w = 1 when savings are
    below 10 months of wages and 0.2 otherwise; every household whose name starts
    with "J" replies with prose (a parse failure); planner prompts get +5 points on
    every bracket.
    """

    name = "scripted"

    def __init__(self, cache=False):
        super().__init__("scripted-v1", cache=cache)

    def reply(self, messages):
        user = messages[-1]["content"]
        system = messages[0]["content"]
        if "bracket_1" in user:
            n = user.count('"bracket_')
            return "{" + ", ".join(f'"bracket_{k + 1}": 5' for k in range(n)) + "}"
        if "sentences, reflect" in user:
            return "Prices rose; I will save more."
        if system.startswith("You are J"):
            return "I think I will work hard this month!"
        wage = float(re.search(r"would earn \$([\d,]+\.\d+)", user).group(1).replace(",", ""))
        savings = float(re.search(r"savings are \$([\d,]+\.\d+)", user).group(1).replace(",", ""))
        w = 1.0 if savings < 10 * wage else 0.2
        return f'Sure. {{"work": {w}, "consumption": 0.3}}'

    def _complete_missing(self, requests, store):
        for i, r in enumerate(requests):
            store(i, self.reply(r["messages"]))

    def _choice_missing(self, requests, store):
        raise NotImplementedError


def test_parse_decision():
    assert parse_decision('{"work": 0.8, "consumption": 0.25}') == (0.8, 0.25)
    assert parse_decision('Here: {"work": 80, "consumption": 1.7}') == (0.8, 0.017)
    assert parse_decision('{"work": -1, "consumption": 0.5}') == (0.0, 0.5)
    for bad in ("no json here", '{"work": 0.5}', '{"work": "lots", "consumption": 0.1}'):
        with pytest.raises(ValueError):
            parse_decision(bad)


def test_llm_households_follow_replies_count_failures_and_hit_cache(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    cfg = EconomyConfig(n_households=6, skill_batches=1)

    def run():
        backend = ScriptedBackend(cache=cache)
        pol = LLMHouseholds(backend, memory=2, reflection_interval=3, peer_sample=2)
        res = Economy(cfg, pol, seed=7).run(6)
        return res, pol, backend

    res, pol, backend = run()
    res.check_accounting()
    # Households 9 ("Jordan") and 7 ("Jamie") don't exist with N = 6; "Jordan" is index 2.
    names = [p["name"] for p in pol.profiles]
    j = np.array([n.startswith("J") for n in names])
    assert j.any() and not j.all()
    assert pol.n_replies == 36 and pol.n_parse_failures == 6 * j.sum()
    assert pol.failures[0]["raw"].startswith("I think")
    h = res.households
    # Parse failures fall back to the initial decision (1, 0.5) as they never had a valid one.
    np.testing.assert_array_equal(h["work_propensity"][:, j], 1.0)
    np.testing.assert_array_equal(h["consumption_share"][:, j], 0.5)
    np.testing.assert_array_equal(h["consumption_share"][:, ~j], 0.3)
    # The scripted rule: work 1 while savings < 10 months of wages.
    rich = h["savings_start"] >= 10 * 168 * h["skill"]
    np.testing.assert_array_equal(h["work_propensity"][:, ~j], np.where(rich[:, ~j], 0.2, 1.0))
    assert pol.n_reflections == 2 * 6
    assert "reflection on the last quarter" in pol.transcripts[0][0][-1]["content"]
    assert "Month 5" in pol.transcripts[0][0][-1]["content"]  # memory of the last months
    assert backend.n_calls == 36 + 12
    # Rerun: identical economy, zero model calls (everything from the cache).
    res2, pol2, backend2 = run()
    assert backend2.n_calls == 0
    np.testing.assert_array_equal(res.monthly["price"], res2.monthly["price"])
    assert res2.policy_stats["model_calls"] == 0


def test_llm_planner_moves_rates_and_explores(tmp_path):
    cfg = EconomyConfig(n_households=8, n_months=36)
    backend = ScriptedBackend()
    planner = LLMPlanner(backend, interval=12, epsilon=0.0)
    res = Economy(cfg, RuleHouseholds(), planner, seed=0).run()
    r = res.tax_rates
    np.testing.assert_allclose(r[12], np.minimum(r[0] + 0.05, 1))
    np.testing.assert_allclose(r[24], np.minimum(r[0] + 0.10, 1))
    assert planner.n_parse_failures == 0 and planner.n_explored == 0
    explorer = LLMPlanner(backend, interval=12, epsilon=1.0)
    res = Economy(cfg, RuleHouseholds(), explorer, seed=0).run()
    assert explorer.n_explored == 2
    d = np.diff(res.tax_rates[[0, 12, 24]], axis=0)
    assert np.all(np.abs(d) <= 0.20 + 1e-12)
    with pytest.raises(ValueError, match="epsilon"):
        LLMPlanner(backend, epsilon=1.5)


def test_regret_study_with_llm_planner():
    cfg = EconomyConfig(n_households=8, n_months=36)
    backend = ScriptedBackend()
    out = regret_study(cfg, RuleHouseholds, lambda eps: LLMPlanner(backend, epsilon=eps),
                       epsilons=(0.0, 0.5), seed=1)
    best = out.best_per_period
    for key, w in out.planner_per_period.items():
        np.testing.assert_allclose(out.cumulative_regret[key], np.cumsum(best - w))
    # The best fixed schedule has the largest total welfare of the grid.
    assert out.grid_welfare[out.best_schedule] == max(out.grid_welfare.values())
    assert set(out.to_dict()["cumulative_regret"]) == {"eps=0", "eps=0.5"}


@pytest.fixture(scope="module")
def tiny_long_backend(tmp_path_factory):
    """The llmas tiny random model with room for our ~700-token prompts (its default is 512)."""
    from llmas import TransformersBackend
    from llmas.testing import make_tiny_model

    d = make_tiny_model(tmp_path_factory.mktemp("tiny_long"), n_positions=2048)
    return TransformersBackend(d, cache=ResponseCache(tmp_path_factory.mktemp("c") / "cache.sqlite"))


def test_run_with_the_tiny_random_model(tiny_long_backend):
    tiny_backend = tiny_long_backend
    # A random-weight model replies gibberish: every failure is counted, households
    # fall back to (1, 0.5), the books still close, and a rerun comes from the cache.
    cfg = EconomyConfig(n_households=3, skill_batches=1)
    pol = LLMHouseholds(tiny_backend, method="generate", memory=1, reflection_interval=2,
                        decoding={"max_tokens": 12})
    res = Economy(cfg, pol, seed=0).run(2)
    res.check_accounting()
    st = res.policy_stats
    assert st["n_replies"] == 6 and st["n_reflections"] == 3
    assert 0 <= st["n_parse_failures"] <= 6
    assert len(pol.failures) == st["n_parse_failures"]
    assert tiny_backend.n_calls == st["model_calls"] == 9
    failed = {(f["month"], f["household"]) for f in pol.failures}
    for t in range(2):
        for i in range(3):
            if (t, i) in failed and t == 0:  # never a valid reply yet: the initial decision
                assert res.households["work_propensity"][t, i] == 1.0
    calls = tiny_backend.n_calls
    res2 = Economy(cfg, LLMHouseholds(tiny_backend, method="generate", memory=1, reflection_interval=2,
                                      decoding={"max_tokens": 12}), seed=0).run(2)
    assert tiny_backend.n_calls == calls
    np.testing.assert_array_equal(res.households["work_propensity"], res2.households["work_propensity"])


def test_household_prompt_is_compact_and_quotes_after_tax_pay():
    # Prefill of the prompt dominates a month's cost on CPU: the prompt quotes the
    # household's own pay after tax instead of the bracket table, and stays short.
    from macro.tax import bracket_tax

    cfg = EconomyConfig(n_households=4, skill_batches=1)
    pol = LLMHouseholds(ScriptedBackend(), memory=3, reflection_interval=3)
    econ = Economy(cfg, pol, seed=2)
    econ.run(4)
    obs = econ.observe()
    for i in range(4):
        msgs = pol.prompt(obs, i)
        gross = 168 * obs.skill[i]
        net = gross - float(bracket_tax(gross, obs.tax_cutoffs, obs.tax_rates))
        assert f"${gross:,.2f} before tax (${net:,.2f} after tax)" in msgs[1]["content"]
        assert "Month 4:" in msgs[1]["content"] and "reflection" in msgs[1]["content"]
        # 3 memory lines and a reflection included: ~1120 characters, was ~1450.
        assert sum(len(m["content"]) for m in msgs) < 1300
    assert pol.to_dict()["reflection_tokens"] == 40
    with pytest.raises(ValueError, match="reflection_tokens"):
        LLMHouseholds(ScriptedBackend(), reflection_tokens=0)


class ConstantBackend(ScriptedBackend):
    """Every household copies the same JSON every month (what SmolLM2-135M does)."""

    def reply(self, messages):
        if "sentences, reflect" in messages[-1]["content"]:
            return "Nothing changed."
        return '{"work": 0.8, "consumption": 0.4}'


def test_report_flags_households_whose_decisions_never_vary():
    from macro.experiment import decision_spread, run_seeds

    cfg = EconomyConfig(n_households=5, n_months=24, skill_batches=1)
    const = run_seeds(cfg, lambda: LLMHouseholds(ConstantBackend()), seeds=[0], audit=False)
    spread = decision_spread(const.results)
    assert spread["distinct_decisions"] == 1
    assert spread["work_std"] < 1e-12 and spread["consumption_std"] < 1e-12
    assert "does not respond to its circumstances" in const.summary()
    assert const.to_dict()["decision_spread"]["distinct_decisions"] == 1

    varied = run_seeds(cfg, lambda: LLMHouseholds(ScriptedBackend()), seeds=[0], audit=False)
    s2 = decision_spread(varied.results)
    assert s2["distinct_decisions"] >= 2 and s2["consumption_std"] > 0
    assert "does not respond" not in varied.summary()


# ---------------------------------------------------------------- the choice method (scored grid replies)
class ChoiceBackend(Backend):
    """Exact 'log-probabilities' computed from the prompt, and a count of calls and prompts.

    Poor households (savings below 10 months of after-tax pay) put log-weight on "41"
    (work 0.8, spend 0.2), the others on "13"; a little weight on everything else.
    """

    name = "scripted-choice"
    supports_logprobs = True

    def __init__(self, cache=False):
        super().__init__("scripted-choice-v1", cache=cache)
        self.calls: list[int] = []

    def logprobs(self, messages, choices):
        user = messages[-1]["content"]
        m = re.search(r"Your pay after tax and savings: \$([\d,]+) and \$([\d,]+)", user)
        pay, savings = (float(g.replace(",", "")) for g in m.groups())
        best = "41" if savings < 10 * pay else "13"
        return [np.log(0.5) if c == best else np.log(0.5 / (len(choices) - 1)) for c in choices]

    def _complete_missing(self, requests, store):
        raise AssertionError("the choice method generates nothing")

    def _choice_missing(self, requests, store):
        self.calls.append(len(requests))
        for i, r in enumerate(requests):
            store(i, {"logprobs": self.logprobs(r["messages"], r["choices"])})


def test_decision_choices_and_argument_checks():
    assert decision_choices(6)[:3] == ["00", "01", "02"] and len(decision_choices(6)) == 36
    assert decision_choices(10, " ")[-1] == "9 9"
    with pytest.raises(ValueError, match="separator"):
        decision_choices(3, "1")
    for bad in (1, 11, 2.5, True):
        with pytest.raises(ValueError, match="levels"):
            decision_choices(bad)
    with pytest.raises(ValueError, match="method"):
        LLMHouseholds(ChoiceBackend(), method="greedy")
    with pytest.raises(ValueError, match="decision_rule"):
        LLMHouseholds(ChoiceBackend(), decision_rule="median")
    with pytest.raises(ValueError, match="rng"):
        decide_from_probs(np.full((1, 2, 2), 0.25), "sample")
    with pytest.raises(ValueError, match="sum to 1"):
        decide_from_probs(np.full((1, 2, 2), 0.3), "mean")
    # auto: scored choices where the backend has log-probabilities, generated JSON elsewhere
    assert LLMHouseholds(ChoiceBackend()).method == "choice"
    assert LLMHouseholds(ScriptedBackend()).method == "generate"
    # the defaults follow the method: cheap prompts for scoring, EconAgent's for generation
    c, g = LLMHouseholds(ChoiceBackend()), LLMHouseholds(ScriptedBackend())
    assert (c.memory, c.reflection_interval, g.memory, g.reflection_interval) == (1, 0, 3, 3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1), min_size=9, max_size=9), min_size=1, max_size=6),
       st.integers(0, 2**32 - 1))
def test_sampled_decisions_follow_the_inverse_cdf_and_never_hit_zero_cells(rows, seed):
    w = np.array(rows)
    w[:, 4] += 1e-3  # no all-zero row
    p = (w / w.sum(axis=1, keepdims=True)).reshape(-1, 3, 3)
    work, cons = decide_from_probs(p, "sample", np.random.default_rng(seed))
    u = np.random.default_rng(seed).random(len(p))
    grid = np.array([0.0, 0.5, 1.0])
    for i in range(len(p)):
        cdf = np.cumsum(p[i].ravel())
        j = min(int(np.searchsorted(cdf, u[i] * cdf[-1], side="right")), 8)
        assert (work[i], cons[i]) == (grid[j // 3], grid[j % 3])
        assert p[i].ravel()[j] > 0
    # mean: the marginal expectations; mode: the most likely cell
    mw, mc = decide_from_probs(p, "mean")
    np.testing.assert_allclose(mw, p.sum(axis=2) @ grid, rtol=1e-12)
    np.testing.assert_allclose(mc, p.sum(axis=1) @ grid, rtol=1e-12)
    ow, oc = decide_from_probs(p, "mode")
    j = p.reshape(len(p), -1).argmax(axis=1)
    np.testing.assert_array_equal(ow, grid[j // 3])
    np.testing.assert_array_equal(oc, grid[j % 3])


def test_sampled_decisions_have_the_scored_frequencies():
    p = np.array([[0.1, 0.2], [0.3, 0.4]])
    n = 40_000
    work, cons = decide_from_probs(np.broadcast_to(p, (n, 2, 2)), "sample", np.random.default_rng(3))
    freq = np.array([[np.mean((work == a) & (cons == b)) for b in (0.0, 1.0)] for a in (0.0, 1.0)])
    # 5 standard errors of a proportion with n = 40,000 is at most 0.0125
    np.testing.assert_allclose(freq, p, atol=5 * np.sqrt(0.25 / n))


@pytest.mark.parametrize("rule", ["mode", "mean", "sample"])
def test_choice_method_one_scored_call_a_month_and_free_reruns(tmp_path, rule):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    cfg = EconomyConfig(n_households=6, skill_batches=1)

    def run():
        be = ChoiceBackend(cache=cache)
        pol = LLMHouseholds(be, decision_rule=rule, peer_sample=2)
        return Economy(cfg, pol, seed=5).run(5), pol, be

    res, pol, be = run()
    res.check_accounting()
    assert pol.method == "choice" and be.calls == [6] * 5  # all households of a month in one call
    st_ = res.policy_stats
    assert st_["n_replies"] == 30 and st_["n_parse_failures"] == 0 and st_["model_calls"] == 30
    assert st_["choice_method"] == ["logprobs"]
    assert st_["mean_top_prob"] == pytest.approx(0.5)
    # E[work] is one of two values (poor / rich households): its spread across households is that of
    # a two-point law, at most half the distance between them
    gap = (0.5 - 1 / 70) * (0.8 - 0.2)
    assert 0 <= st_["expected_work_sd"] <= gap / 2 + 1e-12
    w, c = res.households["work_propensity"].ravel(), res.households["consumption_share"].ravel()
    pairs = set(zip(w.tolist(), c.tolist(), strict=True))
    best = [(0.8, 0.2), (0.2, 0.6)]  # "41" (poor) and "13" (rich)
    if rule == "mode":
        assert pairs <= set(best)
    elif rule == "mean":
        # P = 1/2 on the best cell, 1/70 on each of the 35 others; the 36 cells' levels sum to 6 * 3 = 18
        def expect(v):
            return 0.5 * v + (18 - v) / 70

        want = [(expect(bw), expect(bc)) for bw, bc in best]
        assert all(any(np.isclose(x, ew, rtol=1e-12) and np.isclose(y, ec, rtol=1e-12) for ew, ec in want)
                   for x, y in pairs)
    else:
        assert np.all(np.isin(np.round(w * 5, 9), np.arange(6))) and len(pairs) > 2
    # Rerun: the same decisions, every answer from the cache.
    res2, pol2, be2 = run()
    assert be2.calls == [] and res2.policy_stats["model_calls"] == 0
    np.testing.assert_array_equal(res.households["work_propensity"], res2.households["work_propensity"])
    np.testing.assert_array_equal(res.monthly["price"], res2.monthly["price"])


def test_choice_prompts_put_the_shared_part_first_and_the_household_part_short():
    from macro.tax import bracket_tax

    cfg = EconomyConfig(n_households=5, skill_batches=1)
    pol = LLMHouseholds(ChoiceBackend(), peer_sample=2)
    econ = Economy(cfg, pol, seed=1)
    econ.run(3)
    obs = econ.observe()
    prompts = [pol.choice_prompt(obs, i, "Of 2 households you know, 1 worked last month.") for i in range(5)]
    shared = pol.month_context(obs)
    assert len({p[0]["content"] for p in prompts}) == 1  # one system prompt for everyone
    for i, p in enumerate(prompts):
        user = p[1]["content"]
        assert user.startswith(shared + "\n")
        own = user[len(shared) + 1:]
        assert own == pol.household_context(obs, i, "Of 2 households you know, 1 worked last month.")
        assert own.startswith("Last month you ") and "Your job: " in own
        pay = obs.hours * obs.skill[i]
        pay -= float(bracket_tax(pay, obs.tax_cutoffs, obs.tax_rates))
        assert own.endswith(f"Your pay after tax and savings: ${pay:,.0f} and ${obs.savings[i]:,.0f}.")
        worked = "worked" if obs.last_worked[i] else "did not work"
        assert own.startswith(f"Last month you {worked}. Of 2 households")
        assert len(pol.household_context(obs, i)) < 120  # about 25 tokens with SmolLM2's tokenizer
    assert "Month 4." in shared and "Tax rates by bracket: " in shared
    # all after-tax pay and the month's facts come from the observation
    assert f"{100 * obs.interest_rate:.1f}%" in shared
    d = pol.to_dict()
    assert d["method"] == "choice" and d["levels"] == 6 and d["grid"][1] == 0.2
    # The ballot puts the rebate (the same for all) before the household's own pay.
    ballots = [pol.vote_prompt(obs, i, obs.tax_rates, np.minimum(obs.tax_rates + 0.1, 1)) for i in range(5)]
    heads = {b[1]["content"].split("You are a ")[0] for b in ballots}
    assert len(heads) == 1 and "each household receives $" in heads.pop()


def test_choice_method_on_the_tiny_random_model(tiny_long_backend):
    be = tiny_long_backend
    cfg = EconomyConfig(n_households=3, skill_batches=1)
    calls = be.n_calls
    pol = LLMHouseholds(be, decision_rule="mean")
    res = Economy(cfg, pol, seed=4).run(2)
    res.check_accounting()
    assert pol.method == "choice" and be.n_calls - calls == 6
    assert pol.last_probs.shape == (3, 6, 6)
    np.testing.assert_allclose(pol.last_probs.sum(axis=(1, 2)), 1.0, rtol=1e-9)
    grid = np.arange(6) / 5
    np.testing.assert_allclose(res.households["work_propensity"][-1], pol.last_probs.sum(axis=2) @ grid,
                               rtol=1e-12)
    calls = be.n_calls
    res2 = Economy(cfg, LLMHouseholds(be, decision_rule="mean"), seed=4).run(2)
    assert be.n_calls == calls
    np.testing.assert_array_equal(res.households["consumption_share"], res2.households["consumption_share"])


class FlatChoiceBackend(ChoiceBackend):
    """The same weight on every (work, spend) pair, whatever the household: a model that does not respond."""

    def logprobs(self, messages, choices):
        return [0.0] * len(choices)


class PayChoiceBackend(ChoiceBackend):
    """Weight (pay / 10,000)^(-a) on work level a: the lower the pay, the more work (a model that responds)."""

    def logprobs(self, messages, choices):
        m = re.search(r"Your pay after tax and savings: \$([\d,]+)", messages[-1]["content"])
        pay = float(m.group(1).replace(",", ""))
        return [-int(c[0]) * np.log(pay / 10_000) for c in choices]


def test_summary_of_scored_households_judges_response_by_the_expected_decision():
    from macro.experiment import RESPONSIVE_SD, run_seeds

    cfg = EconomyConfig(n_households=6, n_months=4, skill_batches=1)
    flat = run_seeds(cfg, lambda: LLMHouseholds(FlatChoiceBackend()), seeds=[0], audit=False)
    text = flat.summary()
    # draws differ, yet the model's expected decision is the same for every household
    assert flat.results[0].policy_stats["expected_work_sd"] < 1e-12
    assert "barely responds" in text and "does not respond" not in text
    assert "fallback: none needed" in text and "previous valid decision" not in text
    paid = run_seeds(cfg, lambda: LLMHouseholds(PayChoiceBackend()), seeds=[0], audit=False)
    assert paid.results[0].policy_stats["expected_work_sd"] >= RESPONSIVE_SD
    assert "barely responds" not in paid.summary()
