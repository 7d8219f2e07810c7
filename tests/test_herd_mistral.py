"""The herding and control pipelines on the real Mistral-7B replies (skipped without ../shared)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmsl.herd.analysis import analyze_herding
from llmsl.herd.control_analysis import analyze_control
from llmsl.herd.tasks import load_responses


@pytest.fixture(scope="module")
def mistral(mhs_mistral):
    f = mhs_mistral / "mistral7b_responses.csv"
    return load_responses(f), load_responses(f, labels="binary")


def test_mistral_replies_all_accounted_for(mistral):
    six, two = mistral
    assert six.n + six.n_failed == 240 and two.n + two.n_failed == 240
    assert np.bincount(six.states, minlength=6).sum() == six.n
    assert six.counts().shape == (6, 6)


def test_mistral_likelihood_and_herding(mistral):
    six, _ = mistral
    rep = analyze_herding(six, priors=np.linspace(0.05, 0.95, 7), n_agents=100, n_runs=300, n_posterior=40,
                          seed=0)
    B, lo, hi = rep.likelihood, rep.likelihood_lower, rep.likelihood_upper
    assert B.shape == (6, 6)
    assert np.allclose(B.sum(axis=1), 1)
    assert np.all(lo <= B + 1e-12) and np.all(hi + 1e-12 >= B) and np.all(hi - lo > 0)
    # not hateful texts are mostly labelled "no flag"; the model is informative
    assert B[0, 0] > 0.7 and rep.informativeness["informative_at_5pct"]
    # chains herd: a cascade in finite time with probability ~1
    assert np.all(rep.p_no_cascade < 0.01) and rep.reference_stats["p_no_cascade"] < 0.01
    assert np.all((rep.p_wrong >= 0) & (rep.p_wrong <= 1))


def test_mistral_control_vi_spsa(mistral):
    _, two = mistral
    rep = analyze_control(two, spsa_iter=300, spsa_runs=1000, grid_size=1001, incentives=False, seed=0)
    assert rep.vi_thresholds.size == 2 and rep.agree, rep.comparisons


def test_reproduce_quick_on_mistral(mhs_mistral, tmp_path):
    from llmsl.herd.reproduction import reproduce

    rep = reproduce(mhs_mistral, quick=True, progress=False)
    assert rep.results["source"]["kind"] == "mistral7b" and rep.verdict.label == "reproduced"
    rep.save(tmp_path / "rep")
    j = json.loads((tmp_path / "rep" / "report.json").read_text())["results"]
    assert set("abcd") <= set(j)
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "differ from the paper's code" in md
    cmp = j["reference_comparison"]       # the statements about the reference code carry its numbers
    assert f"{cmp['filter']['reference'][0]:.4f}" in md and f"{cmp['filter']['corrected'][0]:.4f}" in md
    assert f"{cmp['likelihood']['estimated']['mi_bits']:.4f} bits" in md
    assert ("they agree within the lattice" in md) == cmp["spsa"]["agree"] == j["c"]["agree"]
    for f in ("a_paper_prior_herd_actions.png", "b_heatmap_true_state_1.png", "d_incentive_sweep.png",
              "d_incentive_example.png", "a_wrong_herding.png", "c_value_function.png"):
        assert (tmp_path / "rep" / f).is_file(), f
    heat = np.asarray(j["b"]["true_state_1"]["correct_last"])
    assert heat.shape == (10, 10) and np.all((heat >= 0) & (heat <= 1))
