"""bootstrap_ribum: sampled responses of rational and of indifferent agents."""
from __future__ import annotations

import numpy as np
import pytest

import ribum


def shannon(seed, K=3, X=3, A=3, lam=0.1):
    rng = np.random.default_rng(seed)
    return ribum.rational_inattention_kernel(rng.uniform(0, 1, size=(K, X, A)), None, lam)


def split(k):
    out = np.concatenate([k, k[..., :1]], axis=2)
    out[..., 0] *= 0.5
    out[..., -1] *= 0.5
    return out


def test_rational_agent_gives_significant_evidence_of_consistency():
    k = shannon(3)
    counts = np.random.default_rng(0).multinomial(3000, k)
    res = ribum.bootstrap_ribum(counts, n_boot=40, seed=1)
    true = ribum.check_ribum(k).margin
    assert res.margin > 0 and res.pvalue <= 0.05
    assert res.ci[0] > 0 and res.ci[0] <= true + 0.02
    assert res.pass_rate == 1.0
    # The point estimate is the LP on counts / n, the same as check_ribum's.
    assert res.margin == pytest.approx(ribum.check_ribum(counts / counts.sum(axis=2, keepdims=True)).margin, abs=1e-6)


def test_indifferent_split_agent_is_not_called_consistent():
    # Sampled posteriors of the two split actions differ only by noise.
    k = split(shannon(3))
    assert not ribum.check_ribum(k).passed
    for seed in range(3):
        counts = np.random.default_rng(10 + seed).multinomial(400, k)
        res = ribum.bootstrap_ribum(counts, n_boot=40, seed=seed)
        assert res.pvalue > 0.05


def test_reproducible_and_serialisable():
    import json

    counts = np.random.default_rng(0).multinomial(200, shannon(1, K=2))
    a = ribum.bootstrap_ribum(counts, n_boot=10, seed=5)
    b = ribum.bootstrap_ribum(counts, n_boot=10, seed=5)
    assert np.array_equal(a.margins, b.margins)
    c = ribum.bootstrap_ribum(counts, n_boot=10, seed=np.random.default_rng(5), resample_exponent=None)
    assert c.margins.shape == (10,)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["n_boot"] == 10 and len(d["margins"]) == 10
    assert "p-value" in a.summary()


@pytest.mark.parametrize(
    "counts, match",
    [
        ([[[1.5, 2.0], [1.0, 1.0]]], "integers"),
        ([[[-1, 2], [1, 1]]], "non-negative"),
        ([[[0, 0], [1, 1]]], "no observations"),
        ([[1, 2], [1, 1]], "3-D"),
    ],
)
def test_bad_counts(counts, match):
    with pytest.raises(ValueError, match=match):
        ribum.bootstrap_ribum(counts, n_boot=2, seed=0)


def test_bad_bootstrap_arguments():
    counts = [[[5, 1], [1, 5]]]
    with pytest.raises(ValueError, match="n_boot"):
        ribum.bootstrap_ribum(counts, n_boot=0)
    with pytest.raises(ValueError, match="level"):
        ribum.bootstrap_ribum(counts, n_boot=2, level=1.5)
    with pytest.raises(ValueError, match="resample_exponent"):
        ribum.bootstrap_ribum(counts, n_boot=2, resample_exponent=2.0)


def test_bootstrap_survives_interior_point_failures_and_says_so(monkeypatch):
    import scipy.optimize

    real = scipy.optimize.linprog

    def flaky(*args, method=None, **kwargs):
        res = real(*args, method=method, **kwargs)
        if method == "highs-ipm":
            res.status, res.x = 4, None
        return res

    counts = np.random.default_rng(0).multinomial(200, shannon(1, K=2))
    ref = ribum.bootstrap_ribum(counts, n_boot=3, seed=5)
    assert "fell back" not in ref.solver
    monkeypatch.setattr(scipy.optimize, "linprog", flaky)
    res = ribum.bootstrap_ribum(counts, n_boot=3, seed=5)
    np.testing.assert_allclose(res.margins, ref.margins, atol=1e-6)
    assert "4 of 4 solves fell back" in res.solver
