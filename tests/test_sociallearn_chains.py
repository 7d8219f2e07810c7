"""Observed chains: the data container, the filter along observed histories, herding statistics against
the Bayesian prediction, and the empirical cascade threshold."""
from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sociallearn import SocialLearningModel
from sociallearn.chains import (
    ChainData,
    analyze_chains,
    cascade_threshold,
    herd_runs,
    own_signal_actions,
    public_beliefs,
    wilson_interval,
)
from sociallearn.testing import scripted_chains


# ---------------------------------------------------------------------- container
@pytest.mark.parametrize("kwargs, name", [
    (dict(states=[0, 1], actions=[0, 1], prior=[0.5, 0.5]), "actions"),
    (dict(states=[0, 2], actions=[[0], [1]], prior=[0.5, 0.5]), "states"),
    (dict(states=[0], actions=[[0], [1]], prior=[0.5, 0.5]), "states"),
    (dict(states=[0, 1], actions=[[0], [1]], prior=[0.6, 0.5]), "prior"),
    (dict(states=[0, 1], actions=[[0], [1]], prior=[[0.5, 0.5]] * 3), "prior"),
    (dict(states=[0, 1], actions=[[0], [1]], prior=[0.5, 0.5], signals=[[0, 1], [1, 0]]), "signals"),
    (dict(states=[0, 1], actions=[[0], [1]], prior=[0.5, 0.5], action_probs=[[[0.5, 0.6]], [[0.5, 0.5]]]),
     "action_probs"),
    (dict(states=[0, 1], actions=[[0], [1]], prior=[0.5, 0.5], action_probs=[[[0.0, 1.0]], [[0.5, 0.5]]]),
     "action_probs"),
    (dict(states=[0, 1], actions=[[0], [3]], prior=[0.5, 0.5], n_actions=2), "actions"),
    (dict(states=[0, 1], actions=[[0.5], [1]], prior=[0.5, 0.5]), "actions"),
])
def test_chain_data_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ChainData(**kwargs)


def test_chain_data_model_mismatch_and_subset():
    d = ChainData([0, 1, 1], [[0, 1], [1, 1], [0, 0]], [0.5, 0.5], signals=[[0, 1], [1, 1], [0, 2]])
    with pytest.raises(ValueError, match="signals"):
        public_beliefs(d, SocialLearningModel.binary_symmetric(0.7))
    with pytest.raises(ValueError, match="states"):
        public_beliefs(d, SocialLearningModel.symmetric(3, 0.6))
    s = d.subset([2, 2, 0])
    assert s.actions.tolist() == [[0, 0], [0, 0], [0, 1]] and s.signals.tolist() == [[0, 2], [0, 2], [0, 1]]
    json.dumps(d.to_dict(), allow_nan=False)


def test_public_beliefs_match_the_model_filter():
    m = SocialLearningModel([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]], cost=1 - np.eye(2))
    d = scripted_chains("bayes", m, [0.3, 0.7], 50, 10, seed=0)  # exact Bayesians: every action is on path
    pis = public_beliefs(d, m)
    for r in range(5):
        pi = d.priors[r]
        for k in range(10):
            pi = m.public_update(pi, d.actions[r, k])
            assert np.allclose(pis[r, k + 1], pi, atol=1e-12)


def test_off_path_action_leaves_the_belief_unchanged():
    m = SocialLearningModel.binary_symmetric(0.7)
    d = ChainData([0], [[0, 0, 1, 1]], [0.5, 0.5])
    pis = public_beliefs(d, m)
    assert m.in_cascade(pis[0, 2]) and np.allclose(pis[0, 2:], pis[0, 2])


def test_own_signal_actions():
    m = SocialLearningModel([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]], cost=1 - np.eye(2))
    d = ChainData([0, 1], [[0, 0, 0], [1, 1, 1]], [0.5, 0.5], signals=[[0, 1, 2], [2, 2, 0]])
    # y = 1 has likelihood ratio 1: a tie at the uniform prior, so no own action
    assert own_signal_actions(d, m).tolist() == [[0, -1, 1], [1, 1, 0]]
    d2 = ChainData([0, 1], [[0, 0, 0], [1, 1, 1]], [0.5, 0.5])
    assert own_signal_actions(d2, m).tolist() == [[0, 0, 0], [1, 1, 1]]


# ---------------------------------------------------------------------- herd runs and intervals
@settings(deadline=None, max_examples=60)
@given(st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=8), min_size=1, max_size=6).filter(
    lambda rows: len({len(r) for r in rows}) == 1), st.integers(1, 8))
def test_herd_runs_against_a_loop(rows, min_run):
    herded, t, a = herd_runs(rows, min_run)
    for r, row in enumerate(rows):
        s = len(row) - 1
        while s > 0 and row[s - 1] == row[-1]:
            s -= 1
        assert t[r] == s and a[r] == row[-1] and herded[r] == (len(row) - s >= min_run)


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 200), st.integers(1, 200))
def test_wilson_interval_properties(k, n):
    k = min(k, n)
    lo, hi = wilson_interval(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    lo99, hi99 = wilson_interval(k, n, level=0.99)
    assert lo99 <= lo + 1e-12 and hi99 >= hi - 1e-12


def test_wilson_interval_known_value_and_validation():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(0.27753279, abs=1e-7)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)
    with pytest.raises(ValueError, match="level"):
        wilson_interval(1, 3, level=1.0)


# ---------------------------------------------------------------------- analysis against theory
def test_analysis_of_bayesian_chains_agrees_with_the_prediction():
    m = SocialLearningModel.binary_symmetric(0.7)
    priors = np.repeat([[0.5, 0.5], [0.8, 0.2]], 200, axis=0)
    d = scripted_chains("bayes", m, priors, 400, 10, seed=3)
    res = analyze_chains(d, m, min_run=5, n_boot=300, n_sim=4000, seed=0)
    assert len(res.groups) == 2 and [g.n_chains for g in res.groups] == [200, 200]
    for g in res.groups:
        o, p = g.observed, g.predicted
        assert o["p_herd_ci"][0] <= p["p_herd"] <= o["p_herd_ci"][1]
        assert o["p_wrong_herd_ci"][0] <= p["p_wrong_herd"] <= o["p_wrong_herd_ci"][1]
        assert o["mean_herd_time_ci"][0] <= p["mean_herd_time"] <= o["mean_herd_time_ci"][1]
        assert sum(o["herd_time_pmf"]) == pytest.approx(o["p_herd"])
        # a Bayesian herd of 5 at the end is a cascade, and every cascade by agent 5 is such a herd
        assert g.exact_cascade is not None and g.exact_cascade["p_cascade"] >= p["p_herd"] - 0.03
    # a confident prior herds at once: the first group (uniform prior) herds later
    assert res.groups[1].observed["mean_herd_time"] < res.groups[0].observed["mean_herd_time"]
    json.dumps(res.to_dict(), allow_nan=False)
    assert "P(herd)" in res.summary()


def test_analysis_detects_copying_chains():
    m = SocialLearningModel.binary_symmetric(0.7)
    d = scripted_chains("copy_last", m, [0.5, 0.5], 300, 10, seed=1)
    g = analyze_chains(d, m, n_boot=200, n_sim=3000, seed=0).groups[0]
    # copiers herd from the first agent: wrong whenever the first signal is wrong (0.3)
    assert g.observed["p_herd"] == 1.0 and g.observed["mean_herd_time"] == 0.0
    assert g.observed["p_wrong_herd_ci"][0] <= 0.3 <= g.observed["p_wrong_herd_ci"][1]
    # Bayesian chains: the final run often starts after the first agent
    assert g.observed["herd_time_pmf"][0] == 1.0 and g.predicted["herd_time_pmf"][0] < 0.9


def test_analysis_validation():
    m = SocialLearningModel.binary_symmetric(0.7)
    d = scripted_chains("bayes", m, [0.5, 0.5], 5, 4, seed=0)
    for kw in (dict(min_run=5), dict(level=0.0), dict(n_boot=0)):
        with pytest.raises(ValueError):
            analyze_chains(d, m, **kw)
    with pytest.raises(ValueError, match="data"):
        analyze_chains("nope", m)


# ---------------------------------------------------------------------- cascade threshold
def test_cascade_threshold_of_scripts():
    m = SocialLearningModel.binary_symmetric(0.7)
    bay = cascade_threshold(scripted_chains("bayes", m, [0.5, 0.5], 300, 10, seed=0), m, n_boot=200, seed=0)
    # coin-flip ties: at lead 1 a disagreeing agent follows its signal half the time, so the
    # threshold is 2 with an interval reaching down to 1
    assert bay.threshold == 2 and bay.threshold_bayes == 2 and set(bay.threshold_interval) <= {1.0, 2.0}
    assert bay.follow_own[0] == pytest.approx(0.5, abs=0.1) and bay.follow_own_bayes[0] == 0.5
    mo = SocialLearningModel.binary_symmetric(0.7, tie_rule="own_signal")
    own = cascade_threshold(scripted_chains("bayes", mo, [0.5, 0.5], 300, 10, seed=0), mo, n_boot=200, seed=0)
    assert own.threshold == 2 and own.threshold_interval == (2.0, 2.0) and own.follow_own[0] == 1.0
    assert [iv["lo"] for iv in bay.cascade_region["intervals"]] == [0.0, 0.7]
    sen = cascade_threshold(scripted_chains("sensor", m, [0.5, 0.5], 300, 10, epsilon=0.1, seed=0), m,
                            n_boot=200, seed=0)
    assert sen.threshold is None and sen.threshold_interval == (None, None)
    well_sampled = sen.n_disagree >= 50
    # the Bayesian prediction on these (non-Bayesian) histories: a Bayesian would herd from lead 1 or 2
    assert np.all(sen.follow_own[well_sampled] > 0.85) and sen.threshold_bayes in (1, 2)
    cop = cascade_threshold(scripted_chains("copy_last", m, [0.5, 0.5], 300, 10, epsilon=0.2, seed=0), m,
                            n_boot=200, seed=0)
    assert cop.threshold == 1 and cop.threshold_interval == (1.0, 1.0)
    for r in (bay, sen, cop):
        json.dumps(r.to_dict(), allow_nan=False)
        assert "threshold" in r.summary()


def test_cascade_threshold_soft_counts_and_binary_only():
    m = SocialLearningModel.binary_symmetric(0.7)
    d = scripted_chains("bayes", m, [0.5, 0.5], 200, 8, seed=0, record_probs=True)
    ct = cascade_threshold(d, m, n_boot=100, seed=0)
    # with exact probabilities the share at lead 1 is the tie's 1/2 exactly
    assert ct.follow_own[0] == pytest.approx(0.5) and ct.threshold == 2
    m3 = SocialLearningModel.symmetric(3, 0.6)
    d3 = scripted_chains("bayes", m3, [1 / 3] * 3, 5, 4, seed=0)
    with pytest.raises(ValueError, match="binary"):
        cascade_threshold(d3, m3)


@pytest.mark.parametrize("module", ["sociallearn.chains"])
def test_docstring_examples(module):
    import importlib

    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
