"""Vectorized Monte Carlo of social learning chains: consistency of recorded paths
with the filter, the two engines, real observations, moving states, validation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sociallearn import TIE_RULES, SocialLearningModel, cascade_distribution, simulate


def random_model(rng, X=3, Y=4, A=3, rule="uniform", moving=False):
    B = rng.dirichlet(np.ones(Y), size=X)
    P = rng.dirichlet(np.ones(X) * 3, size=X) if moving else None
    return SocialLearningModel(B, cost=rng.integers(0, 3, size=(X, A)).astype(float), transition=P, tie_rule=rule)


def check_paths_follow_filter(res, rows):
    m = res.model
    pb = res.public_beliefs
    for r in rows:
        for k in range(res.n_agents):
            np.testing.assert_allclose(pb[r, k + 1], m.public_update(pb[r, k], int(res.actions[r, k])), atol=1e-9)
        casc = m.in_cascade(pb[r])
        T = res.cascade_time[r]
        if T >= 0:
            assert not casc[:T].any() and casc[T]
        else:
            assert not casc.any()


@pytest.mark.parametrize("rule", TIE_RULES)
def test_recorded_paths_follow_the_filter_and_freeze(rule):
    rng = np.random.default_rng(5)
    m = random_model(rng, rule=rule)
    res = simulate(m, [0.3, 0.3, 0.4], n_agents=25, n_runs=400, seed=11)
    assert res.actions.shape == (400, 25) and res.public_beliefs.shape == (400, 26, 3)
    assert res.actions.dtype == np.int8
    check_paths_follow_filter(res, rows=range(0, 400, 23))
    for r in np.flatnonzero(res.cascaded)[:50]:
        T = res.cascade_time[r]
        assert np.all(res.public_beliefs[r, T:] == res.public_beliefs[r, T])
        if res.n_agents > T:
            assert np.all(res.actions[r, T:] == res.cascade_action[r])


@pytest.mark.parametrize("rule", TIE_RULES)
def test_lattice_and_direct_engines_agree_exactly(rule):
    rng = np.random.default_rng(1)
    m = random_model(rng, X=3, Y=3, A=3, rule=rule)
    kw = dict(n_agents=30, n_runs=2000, seed=42)
    a = simulate(m, [0.2, 0.5, 0.3], method="lattice", **kw)
    b = simulate(m, [0.2, 0.5, 0.3], method="direct", **kw)
    assert a.engine == "lattice" and b.engine == "direct"
    np.testing.assert_array_equal(a.actions, b.actions)
    np.testing.assert_array_equal(a.cascade_time, b.cascade_time)
    np.testing.assert_array_equal(a.cascade_action, b.cascade_action)
    np.testing.assert_allclose(a.public_beliefs, b.public_beliefs, atol=1e-9)


def test_seed_reproducibility_and_record_paths_off():
    m = SocialLearningModel.symmetric(4, 0.55)
    prior = np.full(4, 0.25)
    a = simulate(m, prior, 40, 3000, seed=3)
    b = simulate(m, prior, 40, 3000, seed=3)
    c = simulate(m, prior, 40, 3000, seed=4)
    d = simulate(m, prior, 40, 3000, seed=3, record_paths=False)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert not np.array_equal(a.actions, c.actions)
    np.testing.assert_array_equal(a.cascade_time, d.cascade_time)
    np.testing.assert_array_equal(a.cascade_action, d.cascade_action)
    assert d.actions.shape == (3000, 0)
    with pytest.raises(ValueError, match="not recorded"):
        _ = d.public_beliefs


def test_simulation_matches_exact_distribution_for_a_random_model():
    rng = np.random.default_rng(9)
    m = random_model(rng, X=3, Y=3, A=3)
    prior = np.array([0.5, 0.3, 0.2])
    exact = cascade_distribution(m, prior, n_agents=60)
    res = simulate(m, prior, 60, 40_000, seed=2)
    # joint law of (state, herd action) and the time distribution agree within 5 s.e.
    for x in range(3):
        for act in range(3):
            p = exact.prob[x, :, act].sum()
            emp = np.mean((res.true_state == x) & (res.cascade_action == act))
            assert abs(emp - p) <= 5 * np.sqrt(p * (1 - p) / res.n_runs) + 1e-12
    assert abs(res.herding_stats()["p_wrong_cascade"] - exact.p_wrong_cascade) < 5 * np.sqrt(
        exact.p_wrong_cascade * (1 - exact.p_wrong_cascade) / res.n_runs)


def test_prior_already_in_cascade():
    m = SocialLearningModel.binary_symmetric(0.7)
    res = simulate(m, [0.95, 0.05], 10, 50, true_state=1, seed=0)
    assert np.all(res.cascade_time == 0) and np.all(res.cascade_action == 0)
    assert np.all(res.actions == 0) and res.wrong_cascade.all()
    np.testing.assert_allclose(res.public_beliefs, np.broadcast_to([0.95, 0.05], (50, 11, 2)))


def test_observations_drive_the_signals():
    m = SocialLearningModel.binary_symmetric(0.7, "uniform")
    # every item of state 0 was labelled 0: two agents reveal 0, the public herds at T = 2
    res = simulate(m, [0.5, 0.5], 8, 300, true_state=0, seed=1, observations=[np.zeros(5, int), np.ones(5, int)])
    assert res.used_observations
    assert np.all(res.actions == 0) and np.all(res.cascade_time == 2) and not res.wrong_cascade.any()
    # observations drawn from B itself reproduce the model's herding law
    rng = np.random.default_rng(0)
    obs = [rng.choice(2, size=20_000, p=row) for row in m.likelihood]
    sim = simulate(m, [0.5, 0.5], 80, 40_000, seed=2, observations=obs)
    exact = cascade_distribution(m, [0.5, 0.5])
    p = exact.p_wrong_cascade
    assert abs(sim.herding_stats()["p_wrong_cascade"] - p) < 5 * np.sqrt(p * (1 - p) / sim.n_runs) + 0.005


@pytest.mark.parametrize("obs, match", [
    ([np.zeros(3, int)], "one array of labels per state"),
    ([np.array([0, 2]), np.array([1])], "outside 0..1"),
    ([np.array([0.5]), np.array([1])], "integer labels"),
    ([np.array([], int), np.array([1])], "empty"),
])
def test_bad_observations(obs, match):
    m = SocialLearningModel.binary_symmetric(0.7)
    with pytest.raises(ValueError, match=match):
        simulate(m, [0.5, 0.5], 5, 10, true_state=0, seed=0, observations=obs)


def test_observation_impossible_under_model():
    m = SocialLearningModel([[1.0, 0.0], [0.2, 0.8]], cost=1 - np.eye(2))
    with pytest.raises(ValueError, match="B\\[0, 1\\] = 0"):
        simulate(m, [0.5, 0.5], 5, 10, seed=0, observations=[np.array([0, 1]), np.array([1])])


def test_moving_state_uses_direct_engine_and_follows_the_filter():
    rng = np.random.default_rng(3)
    m = random_model(rng, X=2, Y=3, A=2, moving=True)
    res = simulate(m, [0.5, 0.5], 15, 20_000, seed=5)
    assert res.engine == "direct" and res.state_paths.shape == (20_000, 16)
    check_paths_follow_filter(res, rows=range(0, 20_000, 2500))
    # the state chain has the transition law P
    x0, x1 = res.state_paths[:, 0], res.state_paths[:, 1]
    for i in range(2):
        freq = np.mean(x1[x0 == i] == 0)
        n = np.sum(x0 == i)
        p = m.transition[i, 0]
        assert abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12
    with pytest.raises(ValueError, match="static state"):
        simulate(m, [0.5, 0.5], 5, 10, method="lattice")


def test_summary_and_to_dict():
    res = simulate(SocialLearningModel.binary_symmetric(0.6), [0.5, 0.5], 30, 1000, seed=0)
    text = res.summary()
    assert "P(wrong cascade)" in text and "lattice" in text
    d = json.loads(json.dumps(res.to_dict()))
    s = res.herding_stats()
    assert d["p_wrong_cascade"] == s["p_wrong_cascade"]
    assert s["p_wrong_cascade"] + s["p_correct_cascade"] + s["p_no_cascade"] == pytest.approx(1.0)


@pytest.mark.parametrize("args, kwargs, match", [
    (([0.6, 0.6], 5, 10), {}, "off the probability simplex"),
    (([0.2, 0.3, 0.5], 5, 10), {}, "2 entries per belief"),
    (([[0.5, 0.5]] * 2, 5, 10), {}, "one belief"),
    (([0.5, 0.5], 5, 0), {}, "n_runs must be >= 1"),
    (([0.5, 0.5], -1, 10), {}, "n_agents must be >= 0"),
    (([0.5, 0.5], 5, 10), {"true_state": 2}, "true_state must lie"),
    (([1.0, 0.0], 5, 10), {"true_state": 1}, "prior probability zero"),
    (([0.5, 0.5], 5, 10), {"method": "fast"}, "method must be"),
    (([0.5, 0.5], 5, 10), {"seed": "abc"}, "seed"),
])
def test_bad_simulate_input(args, kwargs, match):
    m = SocialLearningModel.binary_symmetric(0.7)
    with pytest.raises(ValueError, match=match):
        simulate(m, *args, **kwargs)


def test_inverse_cdf_never_draws_zero_probability_categories():
    from sociallearn.simulation import _cum_table, _draw

    probs = np.array([[0.1, 0.2, 0.7, 0.0], [0.0, 1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3, 0.0]])
    u = np.array([0.0, 0.05, 0.1, 0.31, 0.2999999999, 0.5, np.nextafter(1.0, 0.0)])
    for row in probs:
        draws = _draw(u, np.broadcast_to(_cum_table(row), (u.size, 3)))
        assert np.all(row[draws] > 0)
    np.testing.assert_array_equal(_draw(u, np.broadcast_to(_cum_table(probs[0]), (u.size, 3))),
                                  [0, 0, 1, 2, 1, 2, 2])


def test_lattice_size_guard():
    rng = np.random.default_rng(2)
    m = random_model(rng, X=3, Y=4, A=3)
    with pytest.raises(RuntimeError, match="max_states"):
        simulate(m, [0.3, 0.3, 0.4], 40, 2000, seed=0, max_states=3)
