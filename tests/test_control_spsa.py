from __future__ import annotations

import numpy as np
import pytest

from control import spsa

OPT = np.array([0.7, -1.3, 2.0])
H = np.diag([1.0, 3.0, 0.5])


def noisy_quadratic(theta, seed):
    rng = np.random.default_rng(seed)
    d = theta - OPT
    # additive noise (cancels under common random numbers) and multiplicative noise (does not)
    return float(d @ H @ d * (1 + 0.1 * rng.normal()) + rng.normal(0, 0.5))


@pytest.mark.parametrize("paired", [True, False])
def test_spsa_converges_on_noisy_quadratic_from_many_seeds(paired):
    dist = []
    for s in range(20):
        res = spsa(noisy_quadratic, np.zeros(3), n_iter=1500, c=0.2, seed=s, paired=paired, average=True)
        dist.append(np.linalg.norm(res.theta - OPT))
    dist = np.array(dist)
    # started at distance 2.5; every seed ends close, and most very close
    assert dist.max() < (0.25 if paired else 0.5)
    assert np.median(dist) < (0.1 if paired else 0.25)


def test_common_random_numbers_reduce_error():
    err = {}
    for paired in (True, False):
        err[paired] = np.mean(
            [np.linalg.norm(spsa(noisy_quadratic, np.zeros(3), 400, c=0.2, seed=s, paired=paired).theta - OPT)
             for s in range(10)]
        )
    assert err[True] < err[False]


def test_projection_and_history():
    def f(th, seed):  # optimum outside the box
        return float(np.sum((th - 5.0) ** 2))

    res = spsa(f, [0.0, 0.0], 300, a=0.5, bounds=(-1.0, 2.0), seed=1)
    assert res.history.shape == (301, 2)
    assert np.all(res.history >= -1.0) and np.all(res.history <= 2.0)
    assert np.allclose(res.theta, 2.0, atol=1e-6)
    assert res.n_evals == 600 and not res.calibrated
    assert res.gradients.shape == (300, 2) and res.f_plus.shape == (300,)
    assert np.allclose(res.a_gains, 0.5 / (30 + np.arange(1, 301)) ** 0.602)
    assert np.allclose(res.c_gains, 0.1 / np.arange(1, 301) ** 0.101)


def test_deterministic_given_seed_and_seed_is_common():
    seen = []

    def f(th, seed):
        seen.append(seed)
        return noisy_quadratic(th, seed)

    r1 = spsa(f, np.zeros(3), 50, a=0.1, seed=7)
    assert all(seen[2 * k] == seen[2 * k + 1] == r1.seeds[k] for k in range(50))
    r2 = spsa(noisy_quadratic, np.zeros(3), 50, a=0.1, seed=7)
    assert np.array_equal(r1.history, r2.history)


def test_gain_calibration_sets_first_step():
    # one dimension: the central difference of a quadratic is its exact derivative 20 theta
    def f(th):
        return float(10.0 * th[0] ** 2)

    res = spsa(f, 1.0, 100, c=1e-3, target_step=0.05, seed=3)
    assert res.calibrated and res.n_evals == 2 * 5 + 2 * 100
    assert res.a / (res.A + 1) ** res.alpha * 20.0 == pytest.approx(0.05, rel=1e-9)
    assert res.history[0, 0] - res.history[1, 0] == pytest.approx(0.05, rel=1e-9)
    # with bounds the default target is 10% of the width
    res = spsa(f, 1.0, 100, c=1e-3, bounds=(-2.0, 2.0), seed=3)
    assert res.history[0, 0] - res.history[1, 0] == pytest.approx(0.4, rel=1e-9)


def test_objective_without_seed_and_averaging_index():
    def f(th):
        return float((th[0] - 2) ** 2)

    res = spsa(f, 0.0, 400, a=0.3, average=200, seed=0)
    assert res.average_from == 200
    assert np.allclose(res.theta_avg, res.history[200:].mean(axis=0))
    assert abs(res.theta[0] - 2) < 0.05
    assert "SPSA" in res.summary() and res.to_dict()["n_iter"] == 400


def test_callback_stops_early():
    res = spsa(lambda th: float(th @ th), np.ones(2), 100, a=0.1, seed=0, callback=lambda k, th, f: k == 9)
    assert res.n_iter == 10 and res.history.shape == (11, 2)


def test_bad_input():
    def f(th):
        return float(th @ th)

    with pytest.raises(ValueError, match="n_iter"):
        spsa(f, np.zeros(2), 0)
    with pytest.raises(ValueError, match="bounds"):
        spsa(f, np.zeros(2), 10, bounds=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="theta0"):
        spsa(f, [np.nan], 10)
    with pytest.raises(ValueError, match="returned nan"):
        spsa(lambda th: float("nan"), np.zeros(2), 10, a=0.1)
    with pytest.raises(ValueError, match="calibration"):
        spsa(lambda th: 1.0, np.zeros(2), 10)
    with pytest.raises(ValueError, match="c must"):
        spsa(f, np.zeros(2), 10, c=0)
