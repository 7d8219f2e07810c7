"""Dirichlet-smoothed likelihood estimates, their credible intervals and the
propagation of their uncertainty to the herding thresholds."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import beta

from sociallearn import (
    LikelihoodEstimate,
    SocialLearningModel,
    cascade_region,
    estimate_likelihood,
    likelihood_intervals,
    posterior_samples,
    threshold_intervals,
)


def test_counts_and_posterior_mean_by_hand():
    states = [0, 0, 0, 0, 1, 1, 2]
    obs = [0, 1, 1, 2, 2, 2, 0]
    est = estimate_likelihood(states, obs, n_states=3, n_obs=3, prior_strength=1.0)
    np.testing.assert_array_equal(est.counts, [[1, 2, 1], [0, 0, 2], [1, 0, 0]])
    np.testing.assert_allclose(est.mean, [[2 / 7, 3 / 7, 2 / 7], [1 / 5, 1 / 5, 3 / 5], [2 / 4, 1 / 4, 1 / 4]])
    np.testing.assert_allclose(est.n_per_state, [4, 2, 1])
    raw = estimate_likelihood(states, obs, 3, 3, prior_strength=0.0)
    np.testing.assert_allclose(raw.mean, raw.mle)
    half = estimate_likelihood(states, obs, 3, 3, prior_strength=0.5)
    np.testing.assert_allclose(half.mean[1], [0.5 / 3.5, 0.5 / 3.5, 2.5 / 3.5])


def test_intervals_are_beta_quantiles_and_match_samples():
    est = LikelihoodEstimate.from_counts([[30, 10, 0], [5, 5, 20]], prior_strength=1.0)
    lo, hi = likelihood_intervals(est, level=0.9)
    a = est.alpha
    b = a.sum(axis=1, keepdims=True) - a
    np.testing.assert_allclose(lo, beta.ppf(0.05, a, b))
    np.testing.assert_allclose(hi, beta.ppf(0.95, a, b))
    samples = posterior_samples(est, 40_000, seed=0)
    assert samples.shape == (40_000, 2, 3)
    np.testing.assert_allclose(samples.sum(axis=2), 1.0)
    np.testing.assert_allclose(samples.mean(axis=0), est.mean, atol=0.004)
    np.testing.assert_allclose(np.quantile(samples, 0.05, axis=0), lo, atol=0.006)
    np.testing.assert_allclose(np.quantile(samples, 0.95, axis=0), hi, atol=0.006)
    # seeded samples are reproducible
    np.testing.assert_array_equal(est.sample(5, seed=3), est.sample(5, seed=3))


def test_threshold_intervals_cover_the_true_thresholds():
    # frequentist coverage of the 95% credible intervals over repeated audits
    B_true = np.array([[0.75, 0.25], [0.3, 0.7]])
    true = cascade_region(SocialLearningModel(B_true, cost=1 - np.eye(2))).thresholds
    rng = np.random.default_rng(4)
    states = np.repeat([0, 1], 300)
    covered = np.zeros(2)
    n_audits = 30
    for i in range(n_audits):
        obs = np.concatenate([rng.choice(2, 300, p=B_true[0]), rng.choice(2, 300, p=B_true[1])])
        ti = threshold_intervals(estimate_likelihood(states, obs, 2, 2), 1 - np.eye(2), n_samples=200, seed=i)
        assert ti.thresholds.shape == (2,) and ti.structure_agreement == pytest.approx(1.0)
        assert np.all(ti.lower <= ti.thresholds) and np.all(ti.thresholds <= ti.upper)
        covered += (ti.lower <= true) & (true <= ti.upper)
    assert np.all(covered / n_audits >= 0.8)
    json.dumps(ti.to_dict())
    assert "credible" in ti.summary()


def test_estimate_summary_and_dict():
    est = estimate_likelihood([0, 1, 1], [1, 0, 1], 2, 2)
    d = json.loads(json.dumps(est.to_dict()))
    assert d["mean"] == est.mean.tolist()
    assert "x=1 (n=2)" in est.summary()


@pytest.mark.parametrize("args, kwargs, match", [
    (([0, 1], [0], 2, 2), {}, "same length"),
    (([0, 2], [0, 1], 2, 2), {}, "states must lie"),
    (([0, 1], [0, 3], 2, 2), {}, "observations must lie"),
    (([0.5, 1], [0, 1], 2, 2), {}, "integer labels"),
    (([[0, 1]], [[0, 1]], 2, 2), {}, "1-D"),
    (([0, 1], [0, 1], 2, 2), {"prior_strength": -1}, "prior_strength"),
    (([0, 0], [0, 1], 2, 2), {"prior_strength": 0.0}, "state 1 has no observations"),
    (([0, 1], [0, 1], 0, 2), {}, "n_states"),
])
def test_bad_estimation_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_likelihood(*args, **kwargs)


def test_threshold_intervals_needs_two_states():
    est = LikelihoodEstimate.from_counts(np.ones((3, 3)))
    with pytest.raises(ValueError, match="X = 2"):
        threshold_intervals(est, 1 - np.eye(3))
    with pytest.raises(ValueError, match="negative"):
        LikelihoodEstimate.from_counts([[1, -1], [1, 1]])
