"""ribum.analyze: the vectorized panel GARP / CCEI against the per-subject
ribum.garp / ribum.ccei (exact equality), inputs, metrics and validation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ribum
from ribum.panel import panel_garp_ccei

NOGARP_X = [[9, 5, 3], [8, 3, 10], [8, 5, 7]]
NOGARP_P = [[10, 7, 3], [8, 1, 1], [5, 1, 4]]


def per_subject(p, x, e=1.0):
    out = []
    for i in range(len(p)):
        g = ribum.garp(p[i], x[i], e)
        out.append((g.passed, g.violations, ribum.ccei(p[i], x[i])))
    return out


def assert_equal_to_loop(p, x, e=1.0, **kw):
    ok, nv, cc = panel_garp_ccei(p, x, e, **kw)
    for i, (g, v, c) in enumerate(per_subject(p, x, e)):
        assert bool(ok[i]) == g, i
        assert int(nv[i]) == v, i
        assert cc[i] == c, (i, cc[i], c)  # exact, not approximate


def noisy_panel(N, T, G, noise, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 1.5, (N, T, G))
    m = rng.uniform(5, 10, (N, T))
    a = rng.dirichlet(np.ones(G) * 5, size=N)
    return p, a[:, None, :] * m[..., None] / p * np.exp(rng.normal(0, noise, (N, T, G)))


# ----------------------------------------------------------------------------- exactness


def test_fixture_nogarp():
    df = ribum.analyze([(NOGARP_P, NOGARP_X)], metrics=["garp", "n_violations", "ccei"])
    assert not df["garp"].iloc[0]
    assert df["n_violations"].iloc[0] == 3
    assert df["ccei"].iloc[0] == 76 / 77


def test_ccei_one_while_garp_fails_at_one():
    # x_0 costs exactly its own budget at p_1's... : 0 R0 1 with ratio exactly 1, 1 P0 0 strictly.
    p = [[1.0, 1.0], [2.0, 1.0]]
    x = [[1.0, 1.0], [2.0, 0.0]]
    g = ribum.garp(p, x)
    assert not g.passed and ribum.ccei(p, x) == 1.0
    ok, nv, cc = panel_garp_ccei([p], [x])
    assert not ok[0] and nv[0] == g.violations and cc[0] == 1.0


@pytest.mark.parametrize("N,T,G,noise", [(60, 25, 2, 0.3), (60, 8, 3, 1.0), (12, 70, 4, 0.4), (40, 2, 2, 1.0),
                                         (30, 130, 3, 0.2)])
def test_random_panels_equal_loop(N, T, G, noise):
    p, x = noisy_panel(N, T, G, noise, seed=N + T)
    assert_equal_to_loop(p, x)


def test_chunking_and_efficiency():
    p, x = noisy_panel(40, 12, 3, 0.5, seed=3)
    a = panel_garp_ccei(p, x)
    b = panel_garp_ccei(p, x, chunk_size=1)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert_equal_to_loop(p, x, e=0.93)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 20), st.integers(2, 30), st.sampled_from([2, 3, 5]), st.floats(0.05, 2.0),
       st.integers(0, 2**31 - 1))
def test_float_panels(N, T, G, noise, seed):
    p, x = noisy_panel(N, T, G, noise, seed)
    assert_equal_to_loop(p, x)


def test_overflow_safe():
    P = np.array(NOGARP_P, float)
    X = np.array(NOGARP_X, float)
    ok, nv, cc = panel_garp_ccei(np.stack([P * 1e306, P]), np.stack([X * 1e3, X]))
    assert not ok.any() and list(nv) == [3, 3]
    assert abs(cc[0] - 76 / 77) < 1e-15 and cc[1] == 76 / 77


# ----------------------------------------------------------------------------- inputs


def test_dataframe_list_and_arrays_agree():
    rng = np.random.default_rng(0)
    sets = []
    for T in (3, 5, 3, 8, 1):
        p, x = noisy_panel(1, T, 2, 0.8, seed=int(rng.integers(1000)))
        sets.append((p[0], x[0]))
    labels = ["b", "a", "c", "d", "e"]
    rows = []
    for lab, (p, x) in zip(labels, sets, strict=True):
        for t in range(p.shape[0]):
            rows.append({"id": lab, "p1": p[t, 0], "p2": p[t, 1], "q1": x[t, 0], "q2": x[t, 1]})
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=1).sort_values("id", kind="stable")
    # shuffle subjects' blocks but keep each subject's rows in order
    df = pd.concat([df[df["id"] == lab] for lab in ["c", "a", "e", "b", "d"]])
    out = ribum.analyze(df, subject="id", prices=["p1", "p2"], quantities=["q1", "q2"],
                        metrics=["garp", "n_violations", "ccei"])
    assert list(out.index) == ["c", "a", "e", "b", "d"]
    assert out.index.name == "id"
    lst = ribum.analyze(sets, metrics=["garp", "n_violations", "ccei"])
    for i, lab in enumerate(labels):
        g = ribum.garp(*sets[i])
        assert out.loc[lab, "garp"] == lst.loc[i, "garp"] == g.passed
        assert out.loc[lab, "n_violations"] == lst.loc[i, "n_violations"] == g.violations
        assert out.loc[lab, "ccei"] == lst.loc[i, "ccei"] == ribum.ccei(*sets[i])
        assert out.loc[lab, "n_observations"] == sets[i][0].shape[0]
    p, x = noisy_panel(6, 4, 2, 0.8, seed=5)
    arr = ribum.analyze((p, x), metrics=["ccei"])
    assert list(arr.columns) == ["n_observations", "ccei"]
    assert arr["ccei"].tolist() == [ribum.ccei(p[i], x[i]) for i in range(6)]


def test_slow_metrics_and_power_match_functions():
    p, x = noisy_panel(3, 6, 2, 0.6, seed=11)
    sets = [(p[i], x[i]) for i in range(3)] + [(NOGARP_P, NOGARP_X)]
    df = ribum.analyze(sets, metrics=["garp", "houtman_maks", "varian", "money_pump", "bronars_power",
                                      "predictive_success"], n_sim=60, seed=7)
    assert list(df.columns) == ["n_observations", "garp", "houtman_maks", "varian_mean", "varian_min",
                                "money_pump_mean", "bronars_power", "predictive_success"]
    rng = np.random.default_rng(7)
    for i, (pi, xi) in enumerate(sets):
        assert df.loc[i, "houtman_maks"] == ribum.houtman_maks(pi, xi).value
        assert df.loc[i, "varian_mean"] == ribum.varian_index(pi, xi).value
        assert df.loc[i, "varian_min"] == ribum.ccei(pi, xi)
        assert df.loc[i, "money_pump_mean"] == ribum.money_pump_index(pi, xi).value
        # same generator, same draws in subject order: the power of ribum.bronars_power
        pw = ribum.bronars_power(pi, xi, n_sim=60, seed=rng).power
        assert df.loc[i, "bronars_power"] == pw
        assert df.loc[i, "predictive_success"] == float(df.loc[i, "garp"]) - (1.0 - pw)
    assert df["predictive_success"].between(-1, 1).all()


def test_power_single_subject_seed():
    p, x = noisy_panel(1, 5, 3, 0.3, seed=2)
    df = ribum.analyze([(p[0], x[0])], metrics=["bronars_power"], n_sim=200, seed=123)
    assert df["bronars_power"].iloc[0] == ribum.bronars_power(p[0], x[0], n_sim=200, seed=123).power


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kwargs,match", [
    ({"metrics": ["garp", "nope"]}, "unknown metric"),
    ({"metrics": []}, "metrics is empty"),
    ({"n_sim": 0}, "n_sim"),
    ({"chunk_size": 0}, "chunk_size"),
    ({"efficiency": 1.5}, "efficiency"),
    ({"seed": "x"}, "seed"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ribum.analyze([(NOGARP_P, NOGARP_X)], **kwargs)


def test_bad_data():
    df = pd.DataFrame({"id": [1, 1, 2], "p1": [1.0, 2.0, 1.0], "q1": [1.0, 1.0, 1.0], "s": ["a", "b", "c"]})
    with pytest.raises(ValueError, match="no column"):
        ribum.analyze(df, subject="id", prices=["p1"], quantities=["q9"])
    with pytest.raises(ValueError, match="not numeric"):
        ribum.analyze(df, subject="id", prices=["s"], quantities=["q1"])
    with pytest.raises(ValueError, match="must name its columns"):
        ribum.analyze(df)
    neg = df.assign(p1=[1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match="subject 1, observation 1"):
        ribum.analyze(neg, subject="id", prices=["p1"], quantities=["q1"])
    with pytest.raises(ValueError, match="complex"):
        ribum.analyze((np.ones((2, 3, 2)) * (1 + 1j), np.ones((2, 3, 2))))
    with pytest.raises(ValueError, match="same shape"):
        ribum.analyze((np.ones((2, 3, 2)), np.ones((2, 3, 3))))
    bad = np.ones((2, 3, 2))
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"quantities contains NaN or infinite values \(subject 1, observation 2\)"):
        ribum.analyze((np.ones((2, 3, 2)), bad))
    with pytest.raises(ValueError, match="must be real"):
        ribum.analyze([(NOGARP_P, np.array(NOGARP_X) * 1j)])
    with pytest.raises(ValueError, match=r"data\[1\]"):
        ribum.analyze([(NOGARP_P, NOGARP_X), (NOGARP_P,)])
    with pytest.raises(ValueError, match="all-zero"):
        ribum.analyze([(NOGARP_P, [[0, 0, 0], [1, 1, 1], [1, 1, 1]])])
    with pytest.raises(ValueError, match="data must be"):
        ribum.analyze("file.csv")
    with pytest.raises(ValueError, match="not a DataFrame"):
        ribum.analyze([(NOGARP_P, NOGARP_X)], subject="id")
