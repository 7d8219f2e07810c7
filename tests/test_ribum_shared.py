"""The shared-utility RIBUM test with known incentives (SPEC 1c; ribum.check_ribum(utilities="shared"))."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import ribum
from ribum.inattention import TOL, SharedRibumLP, _same_strategy, _shared_exempt

X = A = 6
BONUS = np.array([b * np.eye(X) for b in (0.0, 0.5, 1.0)])  # bonus 0, 0.5, 1 for the correct label


def shannon_population(seed: int, n: int, delta=BONUS, lam=(0.5, 2.0), lam_info=(0.05, 0.3), sign=1.0):
    """n Shannon rational-inattention agents, each with one utility r and the stated incentives.

    Agent i: r ~ U[0, 1]^(X x A), incentive scale lam_i, information cost lam_info_i (nats),
    prior ~ Dirichlet(3); kernel_k = argmax_p E[r + sign lam_i Delta_k] - lam_info_i I(X; A),
    all n K environments solved together by Blahut-Arimoto.
    """
    rng = np.random.default_rng(seed)
    K, Xs, As = delta.shape
    r = rng.uniform(0, 1, (n, 1, Xs, As))
    lam_lo, lam_hi = lam
    info_lo, info_hi = lam_info
    lam_i = rng.uniform(lam_lo, lam_hi, (n, 1, 1, 1))
    li = rng.uniform(info_lo, info_hi, (n, 1, 1, 1))
    prior = rng.dirichlet(3 * np.ones(Xs), size=n)
    u = (r + sign * lam_i * delta[None]) / li  # the kernel depends on u / lam_info only
    k = ribum.rational_inattention_kernel(u.reshape(n * K, Xs, As), np.repeat(prior, K, axis=0), 1.0)
    return r[:, 0], lam_i.ravel(), li.ravel(), prior, k.reshape(n, K, Xs, As)


def margins(kernels, priors, delta=BONUS):
    lp = SharedRibumLP(*kernels.shape[1:], delta)
    return np.array([lp.solve_highs(k, p)[0] for k, p in zip(kernels, priors, strict=True)])


def mutual_information(kernels, prior):
    return ribum.mutual_information(kernels, prior, base=np.e)  # Shannon costs are in nats


# ----------------------------------------------------------------------------- acceptance (issue 14, item 4)


def test_shannon_agents_pass_in_at_least_99_percent_of_200_draws():
    _, _, _, priors, kernels = shannon_population(2024, 200)
    m = margins(kernels, priors)
    assert np.all(m >= 0)
    assert np.mean(m > TOL) >= 0.99, np.sort(m)[:5]


def test_uniformly_random_kernels_fail_in_most_of_200_draws():
    # 6 x 6 Dirichlet(1) kernels in 3 environments with bonuses 0, 0.5, 1 for the correct label.
    # Measured (issue 14): about 0.85 with the uniform prior at this size (see test_ribum_power
    # for the design that raises it); the per-environment test fails none of them.
    rng = np.random.default_rng(7)
    kernels = rng.dirichlet(np.ones(A), size=(200, 3, X))
    priors = np.full((200, X), 1 / X)
    m = margins(kernels, priors)
    assert np.mean(m <= TOL) >= 0.75
    lp = ribum.inattention.RibumLP(3, X, A)
    assert np.mean([lp.solve_highs(k, p)[0] <= TOL for k, p in zip(kernels[:20], priors[:20], strict=True)]) <= 0.05


def test_agent_that_ignores_the_incentives_fails():
    # The same Shannon kernel (solved for environment 0's incentives) in every environment:
    # NIAC between environments with different incentives forces m* = 0.
    _, _, _, priors, kernels = shannon_population(5, 15)
    ignoring = np.repeat(kernels[:, :1], 3, axis=1)
    m = margins(ignoring, priors)
    # Agents that take two or more actions (the bonus then changes their relative payoffs) fail;
    # one that takes a single action is exempt (information too costly at every stake).
    n_used = ((priors[:, None, :, None] * ignoring).sum(axis=2) > 0).sum(axis=2)[:, 0]
    assert np.all(m[n_used >= 2] <= TOL) and np.sum(n_used >= 2) >= 10
    # ... while the same kernels pass when the incentives are the same in every environment
    # (one decision problem faced three times: exempt pairs, as in the per-environment test).
    same = np.repeat(BONUS[:1], 3, axis=0)
    assert np.mean(margins(ignoring, priors, same) > TOL) >= 0.9


def test_ignoring_agent_with_sampling_noise_fails_when_incentives_differ_enough():
    # Responses sampled from an agent that ignores the incentives (n = 400 per state): the
    # estimated kernels differ only by noise, which does not point in the incentives' direction.
    _, _, _, priors, kernels = shannon_population(11, 20)
    rng = np.random.default_rng(0)
    ignoring = np.repeat(kernels[:, :1], 3, axis=1)
    counts = rng.multinomial(400, ignoring)
    est = counts / 400
    m_far = margins(est, priors, np.array([b * np.eye(X) for b in (0.0, 5.0, 10.0)]))
    assert np.mean(m_far <= TOL) >= 0.8


def test_agents_that_respond_against_the_incentives_fail():
    _, _, _, priors, kernels = shannon_population(3, 20, sign=-1.0)
    assert np.mean(margins(kernels, priors) <= TOL) >= 0.9


# ----------------------------------------------------------------------------- theory and invariances


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
@example(seed=4004)  # environments 0 and 1 share a strategy: an exempt pair with slack 0
def test_shannon_agent_true_parameters_satisfy_the_constraints(seed):
    """Soundness of the generator and of the test: the true r + lam Delta_k satisfy NIAS, and NIAC
    with the true costs lam_info I_k(X; A); the LP's recovered r, lambda, kappa satisfy every
    constraint with its margin; the margin is never negative; an agent passes unless two
    environments with different incentives use the same strategy."""
    r, lam, li, priors, kernels = shannon_population(seed, 1)
    k, prior = kernels[0], priors[0]
    true_u = r[0][None] + lam[0] * BONUS
    assert ribum.nias(k, true_u, prior, tol=1e-8).passed
    assert ribum.niac(k, true_u, li[0] * mutual_information(k, prior), prior, tol=1e-8).passed
    res = ribum.check_ribum(k, prior, incentives=BONUS, utilities="shared")
    assert res.margin >= 0.0 and res.utilities_mode == "shared"
    assert 0 <= res.scale <= 10 and res.baseline.shape == (X, A)
    np.testing.assert_allclose(res.utilities, res.baseline[None] + res.scale * BONUS, atol=1e-12)
    assert ribum.nias(k, res.utilities, prior).min_slack >= res.margin - 1e-6
    # every NIAC pair holds with the margin, except pairs with the same strategy that the shared test
    # exempts (module docstring of ribum.inattention): those hold with margin 0
    slack = ribum.niac(k, res.utilities, res.costs, prior).slack
    target = np.where(_shared_exempt(prior[None, :, None] * k, BONUS), 0.0, res.margin)
    off = ~np.eye(3, dtype=bool)
    assert np.all(slack[off] >= target[off] - 1e-6), (slack, target)
    same = _same_strategy(prior[None, :, None] * k)
    if not same[~np.eye(3, dtype=bool)].any():
        assert res.passed


def _brute_force_margin(kernels, prior, delta, max_scale=10.0):
    """An independent LP written constraint by constraint (loops; CVXPY), no epigraph sharing."""
    import cvxpy as cp

    K, Xn, An = kernels.shape
    joint = prior[None, :, None] * kernels
    r = cp.Variable((Xn, An))
    lam = cp.Variable()
    kap = cp.Variable(K)
    m = cp.Variable()
    cons = [r >= 0, r <= 1, lam >= 0, lam <= max_scale, kap[0] == 0, m <= 1]
    uk = [r + lam * delta[k] for k in range(K)]
    for k in range(K):
        for a in range(An):
            pa = joint[k, :, a].sum()
            if pa <= 0:
                continue
            post = joint[k, :, a] / pa
            for b in range(An):
                if b != a:
                    cons.append(post @ (uk[k][:, a] - uk[k][:, b]) >= m)
    for k, j in itertools.permutations(range(K), 2):
        G = cp.sum(cp.multiply(joint[k], uk[k]))
        V = sum(cp.max(joint[j, :, a] @ uk[k]) for a in range(An))
        cons.append(G - kap[k] - (V - kap[j]) >= m)
    cp.Problem(cp.Maximize(m), cons).solve(solver="CLARABEL")
    return float(m.value)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 3), st.integers(2, 3), st.integers(2, 3))
def test_matches_an_independent_loop_built_lp(seed, K, Xn, An):
    rng = np.random.default_rng(seed)
    kernels = rng.dirichlet(np.ones(An), size=(K, Xn))
    prior = rng.dirichlet(2 * np.ones(Xn))
    delta = rng.normal(size=(K, Xn, An))
    res = ribum.check_ribum(kernels, prior, incentives=delta, utilities="shared")
    assert res.margin == pytest.approx(max(_brute_force_margin(kernels, prior, delta), 0.0), abs=1e-6)


def test_invariances_of_the_shared_test():
    _, _, _, priors, kernels = shannon_population(8, 1)
    k, prior = kernels[0], priors[0]
    base = ribum.check_ribum(k, prior, incentives=BONUS, utilities="shared")
    assert base.passed
    rng = np.random.default_rng(1)
    # (i) a state-dependent constant c_k(x) added to Delta_k changes nothing
    shifted = BONUS + rng.normal(size=(3, X, 1))
    assert ribum.check_ribum(k, prior, incentives=shifted, utilities="shared").margin == pytest.approx(
        base.margin, abs=1e-6)
    # (ii) relabelling states, actions and environments consistently changes nothing
    px, pa, pk = rng.permutation(X), rng.permutation(A), rng.permutation(3)
    perm = ribum.check_ribum(k[pk][:, px][:, :, pa], prior[px], incentives=BONUS[pk][:, px][:, :, pa],
                             utilities="shared")
    assert perm.margin == pytest.approx(base.margin, abs=1e-6)
    # (iii) the verdict does not depend on the cap on lambda or the units of Delta (homogeneity)
    for cap, scale in ((0.5, 1.0), (100.0, 1.0), (10.0, 0.01), (10.0, 50.0)):
        res = ribum.check_ribum(k, prior, incentives=scale * BONUS, utilities="shared", max_scale=cap)
        assert res.passed
    # with lambda capped, scaling Delta by s is scaling the cap by s
    a = ribum.check_ribum(k, prior, incentives=2 * BONUS, utilities="shared", max_scale=0.5)
    b = ribum.check_ribum(k, prior, incentives=BONUS, utilities="shared", max_scale=1.0)
    assert a.margin == pytest.approx(b.margin, abs=1e-6)


def test_lambda_zero_with_identical_utilities_forces_margin_zero_by_hand():
    # SPEC 1c: identical incentives in K = 2 environments but different strategies. Then the two
    # environments face one decision problem and NIAC pairs sum to <= 0: m* = 0.
    k = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]])
    delta = np.zeros((2, 2, 2))
    res = ribum.check_ribum(k, incentives=delta, utilities="shared")
    assert res.margin <= 1e-9 and not res.passed
    # the per-environment test passes the same data
    assert ribum.check_ribum(k).passed


def test_direction_of_the_response():
    # A bonus for the correct label in environment 0 only. Attending more there passes,
    # attending less there fails (lambda >= 0).
    k = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]])
    delta = np.array([np.eye(2), np.zeros((2, 2))])
    up = ribum.check_ribum(k, incentives=delta, utilities="shared")
    down = ribum.check_ribum(k[::-1], incentives=delta, utilities="shared")
    assert up.passed and up.scale > 0
    assert not down.passed and down.margin <= 1e-9
    # a shared (X, A) incentive table is broadcast to every environment
    same = ribum.check_ribum(k, incentives=np.eye(2), utilities="shared")
    assert not same.passed and same.margin <= 1e-9


def test_same_strategy_pairs_exempt_only_when_incentives_differ_on_unused_actions():
    # One action in every environment whatever the incentives: the incentives differ only on
    # actions it never takes, so a rational agent (information too costly) may keep its strategy:
    # the pairs are exempt, and the test passes on NIAS alone (and says nothing: see its power).
    k = np.zeros((3, X, A))
    k[:, :, 2] = 1.0
    res = ribum.check_ribum(k, incentives=BONUS, utilities="shared")
    assert res.passed and not res.notes
    # Two used actions whose relative payoff the incentives change: no response, m* = 0.
    k = np.zeros((3, X, A))
    k[:, :3, 0] = 1.0
    k[:, 3:, 1] = 1.0
    res = ribum.check_ribum(k, incentives=BONUS, utilities="shared")
    assert res.margin <= 1e-9 and not res.passed
    text = res.summary()
    assert "shared" in text and "lambda" in text and "m* = 0 " in text and "m* = -0" not in text
    assert any("behave identically although the incentives change" in n for n in res.notes)
    # The same kernels with incentives that differ only on the unused actions 2..5: exempt, pass.
    delta = np.zeros((3, X, A))
    delta[:, :, 2:] = np.arange(3)[:, None, None]
    assert ribum.check_ribum(k, incentives=delta, utilities="shared").passed
    # An uninformed agent that switches its action with the stakes: same attention, exempt, pass.
    k = np.zeros((3, X, A))
    k[0, :, 0] = k[1, :, 0] = k[2, :, 1] = 1.0
    delta = np.zeros((3, X, A))
    delta[:, :, 1] = [[0.0], [0.5], [2.0]]
    res = ribum.check_ribum(k, incentives=delta, utilities="shared")
    assert res.passed, res.summary()


def test_shared_result_to_dict_is_strict_json_and_sparsest_works():
    _, _, _, priors, kernels = shannon_population(9, 1)
    res = ribum.check_ribum(kernels[0], priors[0], incentives=BONUS, utilities="shared")
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["utilities_mode"] == "shared" and np.asarray(d["baseline"]).shape == (X, A)
    sp = ribum.check_ribum(kernels[0], priors[0], incentives=BONUS, utilities="shared", objective="sparsest")
    assert sp.objective == "sparsest" and sp.margin == pytest.approx(0.5 * res.margin)
    assert sp.baseline.sum() <= res.baseline.sum() + 1e-6
    assert ribum.nias(kernels[0], sp.utilities, priors[0]).min_slack >= sp.margin - 1e-6


def test_check_ribum_and_solve_highs_agree():
    _, _, _, priors, kernels = shannon_population(4, 3)
    lp = SharedRibumLP(3, X, A, BONUS)
    for k, p in zip(kernels, priors, strict=True):
        assert ribum.check_ribum(k, p, incentives=BONUS, utilities="shared").margin == pytest.approx(
            lp.solve_highs(k, p)[0], abs=1e-6)


def test_bootstrap_of_the_shared_test():
    _, _, _, priors, kernels = shannon_population(6, 1)
    counts = np.random.default_rng(0).multinomial(2000, kernels[0])
    res = ribum.bootstrap_ribum(counts, n_boot=20, seed=1, prior=priors[0], incentives=BONUS, utilities="shared")
    assert res.utilities_mode == "shared" and res.margins.shape == (20,) and np.all(res.margins >= 0)
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"utilities": "shared"}, "needs the known incentives"),
        ({"incentives": BONUS}, "only with utilities='shared'"),
        ({"utilities": "both"}, "utilities must be"),
        ({"utilities": "shared", "incentives": BONUS[:2]}, "incentives must have shape"),
        ({"utilities": "shared", "incentives": np.full((3, X, A), np.nan)}, "incentives contains NaN"),
        ({"utilities": "shared", "incentives": BONUS * 1j}, "incentives must be real"),
        ({"utilities": "shared", "incentives": BONUS, "max_scale": 0.0}, "max_scale"),
        ({"utilities": "shared", "incentives": BONUS, "max_scale": "big"}, "max_scale"),
    ],
)
def test_bad_shared_input(kwargs, match):
    k = np.full((3, X, A), 1 / A)
    with pytest.raises(ValueError, match=match):
        ribum.check_ribum(k, **kwargs)


# ----------------------------------------------------------------------------- designs with more power


BONUS4 = np.array([b * np.eye(X) for b in (0.0, 1 / 3, 2 / 3, 1.0)])


def test_four_incentive_environments_reject_random_kernels():
    # A fourth environment (bonuses 0, 1/3, 2/3, 1) raises the power against Dirichlet(1)
    # kernels from about 0.85 to about 1 (issue 14's target 0.9 is met here, not at K = 3).
    rng = np.random.default_rng(8)
    kernels = rng.dirichlet(np.ones(A), size=(100, 4, X))
    priors = np.full((100, X), 1 / X)
    assert np.mean(margins(kernels, priors, BONUS4) <= TOL) >= 0.9
    # ... and Shannon agents with these incentives still pass
    _, _, _, pri, ker = shannon_population(12, 50, delta=BONUS4)
    assert np.mean(margins(ker, pri, BONUS4) > TOL) >= 0.96


@pytest.mark.parametrize("task", ["hate_speech", "product_quality"])
def test_incentive_designs_of_the_tasks(task):
    from llmas.tasks import incentives as inc

    envs = inc.incentive_environments(task)
    delta = inc.incentives(task)
    K, Xn, An = delta.shape
    assert (Xn, An) == ((6, 6) if task == "hate_speech" else (2, 8)) and K == len(envs) >= 4
    for e, d in zip(envs, delta, strict=True):
        k = int(e.name.rsplit("_", 1)[1])
        assert f"costs you {k} point" in e.system and np.array_equal(e.delta, d)
        assert set(np.unique(d)) <= {0.0, -1.0, -float(k)}
    assert json.dumps(inc.design(task), allow_nan=False)
    # Shannon agents with one utility and these stated incentives pass the shared test ...
    _, _, _, pri, ker = shannon_population(13, 10, delta=delta, lam=(0.05, 0.2), lam_info=(0.1, 0.4))
    assert np.mean(margins(ker, pri, delta) > TOL) >= 0.9
    # ... and the design has power against random behaviour of its shape
    prior = np.full(Xn, 1 / Xn)
    power = ribum.ribum_power(ker[0], pri[0], n=30, seed=0, incentives=delta, utilities="shared")
    assert power.observed_passed and power.power >= 0.8, power.summary()
    assert ribum.ribum_power(ker[0], prior, n=10, seed=0).power <= 0.2  # the per-environment test: little
