"""ribum.compare: bootstrap intervals, permutation KS tests against exact
enumeration and scipy, Benjamini-Hochberg, result object and ECDF plot."""
from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control, ks_2samp

import ribum
from ribum.compare import _perm_test


def frame(seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "model": ["a"] * 25 + ["b"] * 30 + ["c"] * 15,
        "ccei": np.r_[np.minimum(1, rng.uniform(0.9, 1.1, 25)), rng.uniform(0.6, 1.0, 30),
                      np.round(rng.uniform(0.8, 1.0, 15), 1)],
        "houtman_maks": rng.uniform(0.8, 1.0, 70),
    })


def exact_perm_p(ya, yb):
    """Enumerate every relabeling: P(D_perm >= D_obs)."""
    z = np.r_[ya, yb]
    n, na = z.size, ya.size

    def ks(a, b):
        grid = np.unique(z)
        return np.max(np.abs((a[:, None] <= grid).mean(0) - (b[:, None] <= grid).mean(0)))

    d = ks(ya, yb)
    hits = total = 0
    for idx in combinations(range(n), na):
        mask = np.zeros(n, bool)
        mask[list(idx)] = True
        hits += ks(z[mask], z[~mask]) >= d - 1e-12
        total += 1
    return d, hits / total


def test_ks_statistic_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(20):
        ya = np.round(rng.uniform(0, 1, rng.integers(1, 15)), 1)
        yb = np.round(rng.uniform(0.2, 1, rng.integers(1, 15)), 1)
        d, _ = _perm_test(ya, yb, 10, rng)
        assert d == pytest.approx(ks_2samp(ya, yb).statistic, abs=1e-12)


def test_permutation_p_value_matches_enumeration():
    ya = np.array([1.0, 0.9, 1.0, 0.8])
    yb = np.array([0.7, 0.9, 0.6, 1.0, 0.75])
    d, p_exact = exact_perm_p(ya, yb)
    d_mc, p_mc = _perm_test(ya, yb, 20_000, np.random.default_rng(3))
    assert d_mc == pytest.approx(d)
    assert abs(p_mc - p_exact) < 0.015  # Monte Carlo error: sd <= 0.0036


def test_p_values_valid_under_null():
    """Same distribution in both groups: P(p <= 0.1) stays near 0.1 (not anti-conservative)."""
    rng = np.random.default_rng(5)
    ps = [_perm_test(rng.choice([0.8, 0.9, 1.0], 12), rng.choice([0.8, 0.9, 1.0], 9), 199, rng)[1]
          for _ in range(300)]
    assert np.mean(np.array(ps) <= 0.1) < 0.16


def test_compare_stats_tests_and_bh():
    df = frame()
    res = ribum.compare(df, "model", n_boot=500, n_perm=500, seed=0)
    assert res.metrics == ["ccei", "houtman_maks"]
    assert res.groups == ["a", "b", "c"]
    assert len(res.stats) == 6 and len(res.tests) == 6
    for s in res.stats:
        y = df.loc[df["model"] == s["group"], s["metric"]].to_numpy()
        assert s["n"] == y.size and s["mean"] == pytest.approx(y.mean()) and s["median"] == pytest.approx(np.median(y))
        assert s["mean_ci"][0] <= s["mean"] <= s["mean_ci"][1]
        assert s["median_ci"][0] <= s["median_ci"][1]
        assert s["share_one"] == pytest.approx(np.mean(y == 1.0))
    q = false_discovery_control([t["p_value"] for t in res.tests], method="bh")
    np.testing.assert_allclose([t["q_value"] for t in res.tests], q)
    assert all(t["q_value"] >= t["p_value"] for t in res.tests)
    big = {(t["metric"], t["group_a"], t["group_b"]): t for t in res.tests}
    assert big[("ccei", "a", "b")]["p_value"] < 0.01  # clearly different
    json.dumps(res.to_dict(), allow_nan=False)
    assert "permutation" in res.summary() and "houtman_maks" in res.summary()
    again = ribum.compare(df, "model", n_boot=500, n_perm=500, seed=0)
    assert again.to_dict() == res.to_dict()


def test_constant_group_and_single_member():
    df = pd.DataFrame({"g": ["x"] * 5 + ["y"], "ccei": [1.0] * 5 + [0.5]})
    res = ribum.compare(df, "g", n_boot=100, n_perm=100, seed=1)
    sx = [s for s in res.stats if s["group"] == "x"][0]
    assert sx["mean_ci"] == [1.0, 1.0] and sx["sd"] == 0.0
    sy = [s for s in res.stats if s["group"] == "y"][0]
    assert sy["sd"] is None
    json.dumps(res.to_dict(), allow_nan=False)


def test_analyze_then_compare_and_plot(tmp_path):
    rng = np.random.default_rng(2)
    sets, groups = [], []
    for g, noise in (("low", 0.05), ("high", 0.6)):
        for _ in range(15):
            p = rng.uniform(0.5, 1.5, (8, 2))
            x = 5 / (2 * p) * np.exp(rng.normal(0, noise, (8, 2)))
            sets.append((p, x))
            groups.append(g)
    out = ribum.analyze(sets, metrics=["ccei", "bronars_power", "predictive_success"], n_sim=30, seed=0)
    out["noise"] = groups
    res = ribum.compare(out, "noise", n_boot=200, n_perm=300, seed=0)
    assert res.metrics == ["ccei", "bronars_power", "predictive_success"]
    path = ribum.plot_ccei_ecdf(res, tmp_path / "ecdf.png")
    assert path.stat().st_size > 1000
    idx = out.set_index("noise", append=True)
    res2 = ribum.compare(idx, "noise", metrics="ccei", n_boot=50, n_perm=50, seed=0)
    assert res2.groups == ["low", "high"]


@pytest.mark.parametrize("kwargs,match", [
    ({"by": "nope"}, "neither a column"),
    ({"by": 3}, "by must be"),
    ({"by": "model", "metrics": ["zzz"]}, "not columns"),
    ({"by": "model", "n_boot": 0}, "n_boot"),
    ({"by": "model", "n_perm": -1}, "n_perm"),
    ({"by": "model", "level": 1.0}, "level"),
    ({"by": "model", "seed": 1.5}, "seed"),
])
def test_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ribum.compare(frame(), **kwargs)


def test_validation_data():
    with pytest.raises(ValueError, match="DataFrame"):
        ribum.compare([1, 2], "g")
    df = frame().assign(ccei=np.nan)
    with pytest.raises(ValueError, match="NaN"):
        ribum.compare(df, "model", metrics=["ccei"])
    with pytest.raises(ValueError, match="default metrics"):
        ribum.compare(pd.DataFrame({"g": [1], "z": [1.0]}), "g")
    res = ribum.compare(frame(), "model", metrics=["ccei"], n_boot=10, n_perm=10, seed=0)
    with pytest.raises(ValueError, match="was not compared"):
        ribum.plot_ccei_ecdf(res, "x.png", metric="houtman_maks")
