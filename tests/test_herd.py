"""Tests of llmsl.herd: sensor readings, herding analysis, reveal-policy chains, reports."""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmsl.herd.analysis import analyze_herding
from llmsl.herd.sensor import SensorData
from llmsl.herd.tasks import get_herd_task, load_responses
from sociallearn import (
    SocialLearningModel,
    cascade_region,
    family_thresholds,
    herding_probability,
    prior_family,
    simulate_reveal_policy,
)


def exact_sensor(p: float = 0.7, n: int = 100) -> SensorData:
    """Readings whose frequencies are exactly a symmetric binary sensor of precision p."""
    k = int(round(p * n))
    x = np.repeat([0, 1], n)
    y = np.concatenate([np.r_[np.zeros(k), np.ones(n - k)], np.r_[np.ones(k), np.zeros(n - k)]]).astype(int)
    return SensorData(x, y, 2, 2)


# ----------------------------------------------------------------------------- SensorData
def test_sensor_counts_pools_and_coarsen():
    d = SensorData(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3, 3)
    assert d.counts().tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert [p.tolist() for p in d.pools()] == [[0, 1], [1], [2, 0, 2]]
    c = d.coarsen([0, 1, 1], [0, 1, 1])
    assert c.counts().tolist() == [[1, 1], [1, 3]]
    assert c.counts().sum() == d.counts().sum()


def test_sensor_expected_counts_coarsen_preserve_mass():
    ec = np.arange(12, dtype=float).reshape(3, 4)
    d = SensorData(np.array([0, 1, 2]), np.array([0, 1, 3]), 3, 4, expected_counts=ec)
    c = d.coarsen([0, 1, 1], [0, 0, 1, 1])
    assert np.allclose(c.counts(), [[0 + 1, 2 + 3], [4 + 5 + 8 + 9, 6 + 7 + 10 + 11]])


@pytest.mark.parametrize("kwargs, match", [
    (dict(states=[0, 1], observations=[0]), "same length"),
    (dict(states=[0, 3], observations=[0, 1]), "out of range"),
    (dict(states=[0.5, 1], observations=[0, 1]), "integer"),
    (dict(states=[0, np.nan], observations=[0, 1]), "integer"),
    (dict(states=[0, -1], observations=[0, 1]), "non-negative"),
])
def test_sensor_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SensorData(np.asarray(kwargs["states"]), np.asarray(kwargs["observations"]), 2, 2)


def test_coarsen_rejects_gappy_map():
    d = SensorData(np.array([0, 1]), np.array([0, 1]), 2, 2)
    with pytest.raises(ValueError, match="without gaps"):
        d.coarsen([0, 2])


def test_from_replies_counts_failures():
    d = SensorData.from_replies([0, 1, 1], ["0", "x", "1"], int, 2, 2)
    assert d.n == 2 and d.n_failed == 1
    assert d.failures[0]["index"] == 1 and d.failures[0]["raw"] == "x"


# ----------------------------------------------------------------------------- files
def test_load_responses_parses_replies_and_counts_failures(tmp_path):
    ok0 = '{"is_insulting": false, "is_dehumanizing": false, "is_humiliating": false, ' \
          '"promotes_violence": false, "promotes_genocide": false, "is_respectful": true}'
    ok3 = '{"is_insulting": true, "is_dehumanizing": false, "is_humiliating": true, ' \
          '"promotes_violence": false, "promotes_genocide": false, "is_respectful": false} and some prose'
    rows = [{"state": 0, "response": ok0}, {"state": 4, "response": ok3}, {"state": 5, "response": "I cannot."}]
    f = tmp_path / "r.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    d = load_responses(f)
    assert (d.n_states, d.n_obs) == (6, 6)
    assert d.states.tolist() == [0, 4] and d.observations.tolist() == [0, 3]  # last true flag: humiliating
    assert d.n_failed == 1 and d.failures[0]["state"] == 5
    b = load_responses(f, labels="binary")
    assert b.counts().tolist() == [[1, 0], [0, 1]]


def test_load_responses_labels_and_errors(tmp_path):
    f = tmp_path / "l.csv"
    f.write_text("x,label\n0,1\n1,1\n1,0.5\n")
    d = load_responses(f, "product_quality")
    assert d.counts()[:, 1].tolist() == [1, 1] and d.n_failed == 1
    g = tmp_path / "bad.csv"
    g.write_text("state,other\n0,1\n")
    with pytest.raises(ValueError, match="reply column"):
        load_responses(g)
    h = tmp_path / "oor.csv"
    h.write_text("state,label\n7,0\n")
    with pytest.raises(ValueError, match="outside"):
        load_responses(h)
    with pytest.raises(ValueError, match="unknown task"):
        get_herd_task("nope")


# ----------------------------------------------------------------------------- prior family and thresholds
def test_prior_family():
    fam = prior_family(4, np.linspace(0, 1, 5))
    assert np.allclose(fam.sum(axis=1), 1) and np.allclose(fam[:, 0], np.linspace(0, 1, 5))
    assert np.allclose(fam[:, 1], fam[:, 3])
    assert np.allclose(prior_family(2, 0.3), [0.3, 0.7])
    with pytest.raises(ValueError):
        prior_family(3, 1.5)


@pytest.mark.parametrize("p", [0.6, 0.7, 0.85])
def test_family_thresholds_match_exact_cascade_region(p):
    m = SocialLearningModel.binary_symmetric(p)
    th, member = family_thresholds(m, np.linspace(0, 1, 401))
    exact = cascade_region(m).thresholds
    assert th.size == exact.size and np.allclose(th, exact, atol=1e-9)
    # BHW: the cascade starts once the public likelihood ratio passes the signal's, pi(0) = p or 1 - p
    assert np.allclose(sorted(exact), [1 - p, p], atol=1e-9)


# ----------------------------------------------------------------------------- herding analysis
def test_analyze_herding_matches_exact_bhw():
    # prior_strength=0: B_hat is exactly the symmetric sensor of precision 0.7
    rep = analyze_herding(exact_sensor(0.7), priors=[0.5], n_agents=60, n_runs=4000, prior_strength=0,
                          n_posterior=50, seed=3)
    assert np.allclose(rep.likelihood, [[0.7, 0.3], [0.3, 0.7]])
    exact = herding_probability(SocialLearningModel.binary_symmetric(0.7), [0.5, 0.5], true_state=0,
                                method="exact", n_agents=60)
    # with resampled real labels (70% correct, iid) the wrong-cascade probability is the exact BHW one
    assert abs(rep.p_wrong_by_state[0, 0] - exact.p_wrong[0]) < 4 * rep.se_wrong_by_state[0, 0]
    assert [round(t.value, 9) for t in rep.thresholds] == [0.3, 0.7]
    for t in rep.thresholds:  # posterior intervals bracket the estimate
        assert t.lower <= t.value + 1e-12 and t.value - 1e-12 <= t.upper
    assert rep.reference_stats["p_no_cascade"] == 0.0


def test_analyze_herding_uninformative_sensor_is_reported_so():
    rng = np.random.default_rng(0)
    x = np.repeat([0, 1, 2], 60)
    y = rng.integers(0, 3, x.size)  # labels ignore the state
    rep = analyze_herding(SensorData(x, y, 3, 3), priors=[0.2, 0.5], n_runs=200, n_posterior=20, seed=1)
    assert rep.informativeness["informative_at_5pct"] is False
    assert rep.informativeness["estimate"]["mi_bits"] < 0.05
    assert rep.informativeness["p_value"] > 0.05
    assert "NOT distinguishable" in rep.summary()


def test_analyze_herding_bad_input():
    d = SensorData(np.array([0, 0]), np.array([0, 1]), 2, 2)  # no readings of state 1
    with pytest.raises(ValueError, match="no parsed readings"):
        analyze_herding(d)
    with pytest.raises(ValueError, match="strictly inside"):
        analyze_herding(exact_sensor(), priors=[0.0, 0.5])
    with pytest.raises(ValueError, match="cost must have shape"):
        analyze_herding(exact_sensor(), cost=np.zeros((3, 2)))


def test_report_writes_json_md_png(tmp_path):
    from llmsl.herd.report import herd_report

    rep = analyze_herding(exact_sensor(0.8), priors=[0.3, 0.6], n_runs=100, n_posterior=10, seed=0)
    out = herd_report(rep).save(tmp_path / "r")
    d = json.loads((out / "report.json").read_text())
    j = d["results"]
    assert j["params"]["seed"] == 0 and j["likelihood"]["mean"] == rep.likelihood.tolist()
    assert j["informativeness"]["estimate"]["mi_bits"] > 0
    assert d["verdict"]["label"] in ("herds", "rarely_herds")
    j["figures"] = d["figures"]
    md = (out / "report.md").read_text()
    assert "How informative" in md and "wrong_herding.png" in md
    for f in j["figures"]:
        assert (out / f).stat().st_size > 1000


# ----------------------------------------------------------------------------- reveal-policy chains
def test_reveal_all_is_bayes_on_observations():
    m = SocialLearningModel(np.array([[0.8, 0.2], [0.35, 0.65]]), cost=1 - np.eye(2))
    r = simulate_reveal_policy(m, [0.4, 0.6], lambda pi: np.ones(len(pi), bool), 25, 50, seed=2)
    assert r.revealed.all()
    n1 = r.actions.sum(axis=1)
    n0 = 25 - n1
    l0 = 0.4 * 0.8 ** n0 * 0.2 ** n1
    l1 = 0.6 * 0.35 ** n0 * 0.65 ** n1
    assert np.allclose(r.final_belief[:, 0], l0 / (l0 + l1))


def test_reveal_none_replays_the_social_learning_filter():
    m = SocialLearningModel(np.array([[0.75, 0.25], [0.3, 0.7]]), cost=1 - np.eye(2))
    r = simulate_reveal_policy(m, [0.5, 0.5], lambda pi: np.zeros(len(pi), bool), 15, 30, seed=4,
                               record_beliefs=True)
    for run in range(5):
        pi = np.array([0.5, 0.5])
        for k in range(15):
            pi = m.public_update(pi, int(r.actions[run, k]))
            assert np.allclose(pi, r.beliefs[run, k + 1])
    # every chain has frozen in a cascade: the belief is in the cascade set at the end
    assert m.in_cascade(r.final_belief).all()


def test_reveal_policy_bad_input():
    m = SocialLearningModel(np.full((2, 3), 1 / 3), cost=1 - np.eye(2))
    with pytest.raises(ValueError, match="Y == A"):
        simulate_reveal_policy(m, [0.5, 0.5], lambda pi: pi[:, 0] > 0, 5, 5)
    m2 = SocialLearningModel.binary_symmetric(0.7)
    with pytest.raises(ValueError, match="n_runs"):
        simulate_reveal_policy(m2, [0.5, 0.5], lambda pi: pi[:, 0] > 0, 5)


# ----------------------------------------------------------------------------- reproduction vs reference code
def test_reference_code_comparison_by_hand():
    """Every number the reproduction reports about the reference code, derived by hand.

    B = [[0.8, 0.2], [0.4, 0.6]], 0-1 cost, uniform prior. After y = 0 the
    private belief is (0.8, 0.4)/1.2 = (2/3, 1/3) -> action 0; after y = 1 it is
    (0.2, 0.6)/0.8 = (1/4, 3/4) -> action 1; so P(a=0 | x) = B[x, 0] = (0.8, 0.4)
    and the corrected filter gives (0.4, 0.2)/0.6 = (2/3, 1/3), the reference
    (I + diag) filter (1.8, 1.4)/3.2 = (0.5625, 0.4375). Observation 0 leaves the
    agent indifferent at pi(0) = 0.4 / 1.2 = 1/3; counting both tied actions as
    taken gives sum_a P(a | x) = 1 + B[x, 0] = (1.8, 1.4).
    """
    from llmsl.herd.reproduction import REFERENCE_B, reference_code_comparison

    d = reference_code_comparison([[0.8, 0.2], [0.4, 0.6]])
    assert np.allclose(d["filter"]["P_a_given_x"], [0.8, 0.4])
    assert np.allclose(d["filter"]["corrected"], [2 / 3, 1 / 3])
    assert np.allclose(d["filter"]["reference"], [0.5625, 0.4375])
    assert np.allclose(d["ties"]["belief"], [1 / 3, 2 / 3]) and d["ties"]["n_tied_actions"] == 2
    assert np.allclose(d["ties"]["reference_sum"], [1.8, 1.4])
    assert np.allclose(d["ties"]["corrected_sum"], [1.0, 1.0])
    # I(x; y) of the hard-coded reference B under a uniform prior: 1 - h(0.3) bits
    h = -(0.3 * np.log2(0.3) + 0.7 * np.log2(0.7))
    assert np.isclose(d["likelihood"]["reference_hard_coded"]["mi_bits"], 1 - h)
    assert np.allclose(d["likelihood"]["reference_hard_coded"]["cascade_thresholds"], [0.3, 0.7])
    assert np.array_equal(d["likelihood"]["reference_hard_coded"]["B"], REFERENCE_B)
    with pytest.raises(ValueError, match="binary"):
        reference_code_comparison(np.full((3, 3), 1 / 3))


def test_reproduction_statements_follow_the_numbers():
    """report.md states what the computed comparison says, including a disagreement of SPSA."""
    from llmsl.herd.reproduction import _comparison_lines, reference_code_comparison

    cmp = reference_code_comparison([[0.8, 0.2], [0.4, 0.6]])
    text = "\n".join(_comparison_lines({**cmp, "spsa": {"agree": False, "vi_thresholds": [0.2, 0.8],
                                                         "spsa_thresholds": [0.5]}}))
    assert "do NOT agree" in text and "0.6667" in text and "0.5625" in text and "1.8000, 1.4000" in text
    assert "0.1245 bits (uniform prior), more than" in text          # 1 - ... = 0.1245 > 0.1187 bits
    weak = reference_code_comparison([[0.6, 0.4], [0.4, 0.6]])
    text = "\n".join(_comparison_lines({**weak, "spsa": {"agree": True, "vi_thresholds": [0.2, 0.8],
                                                          "spsa_thresholds": [0.21, 0.79]}}))
    assert "less than" in text and "they agree" in text and "NOT" not in text
