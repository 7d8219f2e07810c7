"""Informativeness of a sensor: mutual information, distance from rank one,
credible intervals and the independence test."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sociallearn import informativeness, mutual_information, rank_one_distance


def h2(p):
    return -p * np.log2(p) - (1 - p) * np.log2(1 - p)


@pytest.mark.parametrize("p", [0.5, 0.6, 0.9, 0.99])
def test_binary_symmetric_channel_closed_forms(p):
    B = [[p, 1 - p], [1 - p, p]]
    assert mutual_information(B, [0.5, 0.5]) == pytest.approx(1 - h2(p), abs=1e-12)
    d = rank_one_distance(B, [0.5, 0.5])
    assert d["tv_from_rank_one"] == pytest.approx(abs(p - 0.5))
    assert d["second_singular_value"] == pytest.approx(abs(2 * p - 1))
    assert d["maximal_correlation"] == pytest.approx(abs(2 * p - 1))


def test_extremes_and_hand_values():
    assert mutual_information(np.eye(4), np.full(4, 0.25)) == pytest.approx(2.0)
    assert mutual_information([[0.2, 0.8]] * 3, [0.2, 0.3, 0.5]) == 0.0
    d = rank_one_distance([[0.9, 0.1], [0.2, 0.8]], [0.5, 0.5])
    assert d["tv_from_rank_one"] == pytest.approx(0.35)
    # a state with prior zero does not count
    assert mutual_information([[1, 0], [0, 1]], [1.0, 0.0]) == 0.0


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 4), st.integers(2, 4), st.integers(0, 2**32 - 1))
def test_mi_bounds_and_relabelling_invariance(X, Y, seed):
    rng = np.random.default_rng(seed)
    B = rng.dirichlet(np.ones(Y), size=X)
    p = rng.dirichlet(np.ones(X))
    mi = mutual_information(B, p)
    hx = -np.sum(p * np.log2(p))
    assert -1e-12 <= mi <= min(hx, np.log2(Y)) + 1e-12
    sx, sy = rng.permutation(X), rng.permutation(Y)
    assert mutual_information(B[sx][:, sy], p[sx]) == pytest.approx(mi, abs=1e-12)
    d, d2 = rank_one_distance(B, p), rank_one_distance(B[sx][:, sy], p[sx])
    for k in d:
        assert d2[k] == pytest.approx(d[k], abs=1e-12)
    assert 0 <= d["maximal_correlation"] <= 1 + 1e-12


def test_large_counts_recover_exact_values_with_narrow_intervals():
    B = np.array([[0.8, 0.15, 0.05], [0.3, 0.4, 0.3]])
    info = informativeness(np.round(B * 1e6), n_samples=500, seed=0)
    exact = mutual_information(B, [0.5, 0.5])
    assert info.estimate["mi_bits"] == pytest.approx(exact, abs=1e-5)
    lo, hi = info.intervals["mi_bits"]
    assert lo <= exact <= hi and hi - lo < 0.005
    assert info.is_informative() and info.p_value < 1e-100
    assert info.entropy_bits == pytest.approx(1.0)


def test_uninformative_model_is_reported_as_such():
    # an LLM answering "yes" about 10% of the time whatever the text
    info = informativeness([[90, 10], [91, 9]], n_samples=1000, seed=1)
    assert not info.is_informative() and info.p_value > 0.5
    assert info.intervals["mi_bits"][1] < 0.05
    assert "UNINFORMATIVE" in info.summary()
    assert info.plugin["mi_bits"] == pytest.approx(
        mutual_information([[0.9, 0.1], [0.91, 0.09]], [0.5, 0.5]), abs=1e-12)
    json.dumps(info.to_dict())
    # every item with the same label: nothing depends on the state
    assert informativeness([[10, 0], [7, 0]], n_samples=0).p_value == 1.0


def test_prior_argument_and_point_only():
    info = informativeness([[30, 10], [5, 15]], n_samples=0, prior=[0.2, 0.8])
    np.testing.assert_allclose(info.state_probs, [0.2, 0.8])
    assert np.isnan(info.intervals["mi_bits"][0])
    mean_B = np.array([[31 / 42, 11 / 42], [6 / 22, 16 / 22]])
    assert info.mi_bits == pytest.approx(mutual_information(mean_B, [0.2, 0.8]))


@pytest.mark.parametrize("counts, kwargs, match", [
    ([[1, -1], [2, 2]], {}, "non-negative"),
    ([[1, np.nan], [2, 2]], {}, "NaN"),
    ([[0, 0], [0, 0]], {}, "all zero"),
    ([[1, 2], [3, 4]], {"prior": [1.0]}, "2 entries"),
    ([[1, 2], [3, 4]], {"level": 1.5}, "level"),
    ([1, 2], {}, "dimension"),
])
def test_bad_information_input(counts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        informativeness(counts, **kwargs)
