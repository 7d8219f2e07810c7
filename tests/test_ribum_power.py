"""Power of the RIBUM test against random behaviour (ribum.ribum_power; SPEC 1c)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

import ribum
from llmsl_core import mutual_information
from ribum.ribum_power import _clopper_pearson, _wilson, matched_kernel

X = A = 6
BONUS = np.array([b * np.eye(X) for b in (0.0, 0.5, 1.0)])


def shannon(seed, delta=BONUS, lam=1.0, lam_info=0.15):
    rng = np.random.default_rng(seed)
    r = rng.uniform(0, 1, delta.shape[1:])
    prior = rng.dirichlet(3 * np.ones(delta.shape[1]))
    return prior, ribum.rational_inattention_kernel(r[None] + lam * delta, prior, lam_info)


def test_per_environment_test_has_little_power():
    prior, k = shannon(0)
    res = ribum.ribum_power(k, prior, n=30, seed=1)
    assert res.observed_passed and res.utilities_mode == "per_environment"
    assert res.power <= 0.1 and res.n == 30 and res.margins.shape == (30,)
    assert "little power" in res.statement and res.statement in res.summary()


def test_shared_test_has_power_and_says_so():
    prior, k = shannon(1)
    res = ribum.ribum_power(k, prior, n=60, seed=2, incentives=BONUS, utilities="shared")
    assert res.observed_passed
    assert res.power >= 0.6, res.summary()
    assert res.ci[0] <= res.power <= res.ci[1]
    assert "would fail this test with probability" in res.statement


def test_matched_null_reproduces_the_observed_information():
    prior, k = shannon(2)
    res = ribum.ribum_power(k, prior, n=10, seed=3, null="matched", incentives=BONUS, utilities="shared")
    np.testing.assert_allclose(res.target_information, mutual_information(k, prior))
    assert "as informative as the observed" in res.statement
    assert res.target_information is not None and not res.notes


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 6), st.integers(2, 6), st.floats(0.0, 1.0))
def test_matched_kernel_hits_the_target(seed, Xn, An, frac):
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.ones(Xn))
    reachable = min(float(-(prior * np.log2(np.where(prior > 0, prior, 1))).sum()), np.log2(An))
    target = frac * 0.9 * reachable
    k, ok = matched_kernel(rng, prior, An, target)
    assert k.shape == (Xn, An) and np.allclose(k.sum(axis=1), 1) and np.all(k >= 0)
    if ok:
        assert mutual_information(k, prior) == pytest.approx(target, abs=1e-9)


def test_matched_kernel_reports_an_unreachable_target():
    prior = np.full(3, 1 / 3)
    k, ok = matched_kernel(np.random.default_rng(0), prior, 3, np.log2(3) + 0.1)
    assert not ok and k.shape == (3, 3)


def test_mutual_information_closed_forms():
    assert mutual_information(np.eye(4), np.full(4, 0.25)) == pytest.approx(2.0)  # bits
    assert mutual_information(np.full((3, 2), 0.5), np.full(3, 1 / 3)) == pytest.approx(0.0, abs=1e-15)
    # binary symmetric channel: log 2 - H(e)
    e = 0.1
    h = -(e * np.log2(e) + (1 - e) * np.log2(1 - e))
    assert mutual_information([[1 - e, e], [e, 1 - e]], [0.5, 0.5]) == pytest.approx(1 - h)


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (37, 200), (199, 200)])
def test_intervals_match_scipy(k, n):
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    assert _clopper_pearson(k, n, 0.95) == pytest.approx((ci.low, ci.high), abs=1e-9)
    ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert _wilson(k, n, 0.95) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_power_is_reproducible_and_strict_json():
    prior, k = shannon(4)
    a = ribum.ribum_power(k, prior, n=12, seed=5, incentives=BONUS, utilities="shared", interval="clopper-pearson")
    b = ribum.ribum_power(k, prior, n=12, seed=5, incentives=BONUS, utilities="shared", interval="clopper-pearson")
    np.testing.assert_array_equal(a.margins, b.margins)
    d = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert d["statement"] == a.statement and d["null"] == "uniform" and d["n_fail"] == a.n_fail
    assert np.all(a.margins >= 0)


def test_zero_prior_state_is_dropped_with_a_note():
    prior, k = shannon(5)
    prior = prior.copy()
    prior[0] = 0.0
    prior /= prior.sum()
    res = ribum.ribum_power(k, prior, n=5, seed=0)
    assert any("prior 0" in n for n in res.notes)
    assert res.observed_margin >= 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"null": "gaussian"}, "null must be"),
        ({"n": 0}, "n must be >= 1"),
        ({"n": 2.5}, "n must be an integer"),
        ({"level": 1.0}, "level"),
        ({"interval": "normal"}, "interval must be"),
        ({"tol": -1.0}, "tol must be"),
        ({"seed": "x"}, "seed must be"),
        ({"utilities": "shared"}, "needs the known incentives"),
    ],
)
def test_bad_power_input(kwargs, match):
    k = np.full((2, 2, 2), 0.5)
    with pytest.raises(ValueError, match=match):
        ribum.ribum_power(k, **kwargs)


# ----------------------------------------------------------------------------- certificates of a pass


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), K=st.integers(1, 4), X_=st.integers(2, 4), A_=st.integers(2, 4),
       alpha=st.sampled_from([0.1, 0.5, 1.0, 5.0]), twist=st.sampled_from(["none", "permuted copy", "flat", "coarse"]))
def test_a_certified_pass_is_a_pass_of_the_lp(seed, K, X_, A_, alpha, twist):
    """Soundness: whenever certified_pass says so, the max-margin LP has m* > tol (degenerate kernels included)."""
    from ribum.inattention import TOL, RibumLP, certified_pass

    rng = np.random.default_rng(seed)
    kern = rng.dirichlet(np.full(A_, alpha), size=(K, X_))
    if twist == "permuted copy" and K >= 2:
        kern[1] = kern[0][:, rng.permutation(A_)]  # the same strategy, relabelled
    elif twist == "flat":
        kern[0] = 1.0 / A_  # no information in environment 0
    elif twist == "coarse":
        kern = np.round(kern, 1) + 1e-12
        kern /= kern.sum(axis=2, keepdims=True)
    prior = rng.dirichlet(np.ones(X_))
    if certified_pass(kern, prior, TOL):
        assert RibumLP(K, X_, A_).solve_direct(kern, prior)[0] > TOL


def test_certificates_change_no_verdict():
    """The power with certificates equals the power with every LP solved; certified draws carry NaN margins."""
    prior, k = shannon(4)
    fast = ribum.ribum_power(k, prior, n=12, seed=9)
    full = ribum.ribum_power(k, prior, n=12, seed=9, exact_margins=True)
    assert fast.n_fail == full.n_fail and fast.power == full.power and full.n_certified == 0
    assert fast.n_certified > 0 and np.isnan(fast.margins).sum() == fast.n_certified
    solved = ~np.isnan(fast.margins)
    np.testing.assert_array_equal(fast.margins[solved], full.margins[solved])
    assert np.all(full.margins[np.isnan(fast.margins)] > fast.tol)  # what was certified does pass
    assert "shown to pass by a checked feasible point" in fast.summary()
    json.dumps(fast.to_dict(), allow_nan=False)  # NaN margins become null


def test_shared_test_is_never_certified():
    prior, k = shannon(5)
    res = ribum.ribum_power(k, prior, n=5, seed=0, incentives=BONUS, utilities="shared")
    assert res.n_certified == 0 and not np.isnan(res.margins).any()


def test_observed_margin_given_is_used_and_checked():
    prior, k = shannon(6)
    res = ribum.ribum_power(k, prior, n=3, seed=0, observed_margin=0.25)
    assert res.observed_margin == 0.25 and res.observed_passed
    for bad in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="observed_margin"):
            ribum.ribum_power(k, prior, n=3, seed=0, observed_margin=bad)
