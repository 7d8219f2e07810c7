"""The social learning filter: Bayes' rule by brute force, simplex, cascade fixed
points, relabelling, tie rules and input validation (SPEC section 2)."""
from __future__ import annotations

from itertools import product

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sociallearn import TIE_RULES, SocialLearningModel

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------- strategies
@st.composite
def stochastic(draw, rows, cols, low=0.02):
    w = np.array(draw(st.lists(st.lists(st.floats(low, 1.0), min_size=cols, max_size=cols),
                               min_size=rows, max_size=rows)))
    return w / w.sum(axis=1, keepdims=True)


@st.composite
def models(draw, static=None, rules=TIE_RULES):
    X = draw(st.integers(2, 3))
    Y = draw(st.integers(2, 3))
    A = draw(st.integers(2, 3))
    B = draw(stochastic(X, Y))
    # costs on a coarse grid make exact ties between actions reasonably common
    c = np.array(draw(st.lists(st.lists(st.integers(0, 4), min_size=A, max_size=A), min_size=X, max_size=X)),
                 dtype=float)
    moving = draw(st.booleans()) if static is None else not static
    P = draw(stochastic(X, X)) if moving else None
    rule = draw(st.sampled_from(rules))
    return SocialLearningModel(B, cost=c, transition=P, tie_rule=rule)


@st.composite
def beliefs(draw, X, low=0.0):
    w = np.array(draw(st.lists(st.floats(low, 1.0), min_size=X, max_size=X)))
    assume(w.sum() > 1e-3)
    return w / w.sum()


# ---------------------------------------------------------------------- brute force
def brute_decision(c, post, y, rule, tol):
    """Independent P(a | y) from a posterior: argmin with the documented tie rule."""
    e = post @ c
    tied = e <= e.min() + tol
    out = np.zeros(c.shape[1])
    if rule == "first":
        out[np.flatnonzero(tied)[0]] = 1.0
    elif rule == "own_signal" and y < c.shape[1] and tied[y]:
        out[y] = 1.0
    else:
        out[tied] = 1.0 / tied.sum()
    return out


def brute_force_joint(model: SocialLearningModel, prior, actions):
    """P(x_n = x, a_1..a_n) by enumerating every state path and signal sequence.

    Agent i's decision comes from its posterior P(x_i | a_1..a_{i-1}, y_i), itself
    obtained by the same full enumeration over the first i-1 agents; nothing of
    the recursive filter is reused.
    """
    B, c, P = model.likelihood, model.cost, model.transition
    X, Y = B.shape
    n = len(actions)
    decisions: list[list[np.ndarray]] = []  # decisions[i][y] -> P(a | y) for agent i+1

    def joint(k):
        total = np.zeros(X)
        for xs in product(range(X), repeat=k + 1):
            w = prior[xs[0]]
            for i in range(1, k + 1):
                w *= P[xs[i - 1], xs[i]]
            if w == 0:
                continue
            for ys in product(range(Y), repeat=k):
                ww = w
                for i in range(k):
                    ww *= B[xs[i + 1], ys[i]] * decisions[i][ys[i]][actions[i]]
                    if ww == 0:
                        break
                total[xs[k]] += ww
        return total

    for k in range(n):
        jk = joint(k)  # P(x_k, a_1..a_k)
        if jk.sum() == 0:  # the prefix is impossible, so is the whole sequence
            return jk
        pred = jk @ P
        rules = []
        for y in range(Y):
            post = pred * B[:, y]
            post = post / post.sum() if post.sum() > 0 else pred / pred.sum()
            rules.append(brute_decision(c, post, y, model.tie_rule, model.tie_tol))
        decisions.append(rules)
    return joint(n)


def filter_path(model, prior, actions):
    pi = np.asarray(prior, float)
    prob = 1.0
    for a in actions:
        prob *= model.action_distribution(pi)[a]
        pi = model.public_update(pi, a)
    return pi, prob


# ---------------------------------------------------------------------- Bayes' rule
@SETTINGS
@given(data=st.data())
def test_filter_is_bayes_rule_by_enumeration(data):
    model = data.draw(models())
    prior = data.draw(beliefs(model.n_states, low=0.05))
    n = data.draw(st.integers(1, 3))
    actions = data.draw(st.lists(st.integers(0, model.n_actions - 1), min_size=n, max_size=n))
    joint = brute_force_joint(model, prior, actions)
    if joint.sum() <= 1e-14:
        with pytest.raises(ValueError, match="probability zero"):
            filter_path(model, prior, actions)
        return
    pi, prob = filter_path(model, prior, actions)
    np.testing.assert_allclose(pi, joint / joint.sum(), atol=1e-9)
    assert prob == pytest.approx(joint.sum(), rel=1e-9, abs=1e-13)


@pytest.mark.parametrize("rule", TIE_RULES)
def test_bayes_rule_with_exact_ties(rule):
    # The symmetric model produces exact ties after one up and one down move.
    model = SocialLearningModel.binary_symmetric(0.7, rule)
    for actions in product(range(2), repeat=4):
        joint = brute_force_joint(model, np.array([0.5, 0.5]), list(actions))
        if joint.sum() == 0:
            with pytest.raises(ValueError):
                filter_path(model, [0.5, 0.5], actions)
            continue
        pi, prob = filter_path(model, [0.5, 0.5], actions)
        np.testing.assert_allclose(pi, joint / joint.sum(), atol=1e-12)
        assert prob == pytest.approx(joint.sum(), rel=1e-12)


def test_hand_computed_uniform_tie_update():
    # At pi = p the low-signal agent is indifferent: P(a=0 | x=0) = p + q/2 = 0.85.
    m = SocialLearningModel.binary_symmetric(0.7, "uniform")
    np.testing.assert_allclose(m.action_probs([0.7, 0.3]), [[0.85, 0.15], [0.65, 0.35]])
    np.testing.assert_allclose(m.public_update([0.7, 0.3], 0),
                               np.array([0.7 * 0.85, 0.3 * 0.65]) / (0.7 * 0.85 + 0.3 * 0.65))
    np.testing.assert_allclose(m.public_update([0.7, 0.3], 1), [0.5, 0.5])
    # R starts from zeros: a tie must not count both actions in full
    assert np.all(m.action_probs([0.7, 0.3]).sum(axis=1) == pytest.approx(1.0))


# ---------------------------------------------------------------------- simplex and rows
@SETTINGS
@given(data=st.data())
def test_beliefs_stay_on_simplex_and_rows_sum_to_one(data):
    model = data.draw(models())
    pis = np.stack([data.draw(beliefs(model.n_states)) for _ in range(4)])
    D = model.decision_probs(pis)
    Pa = model.action_probs(pis)
    assert D.shape == (4, model.n_obs, model.n_actions) and Pa.shape == (4, model.n_states, model.n_actions)
    np.testing.assert_allclose(D.sum(axis=2), 1.0, atol=1e-12)
    np.testing.assert_allclose(Pa.sum(axis=2), 1.0, atol=1e-12)
    assert np.all(D >= 0) and np.all(Pa >= 0)
    pred = model.predict(pis)
    for y in range(model.n_obs):
        ok = (pred @ model.likelihood[:, y]) > 0
        if ok.any():
            eta = model.private_belief(pis[ok], np.full(ok.sum(), y))
            assert np.all(eta >= 0)
            np.testing.assert_allclose(eta.sum(axis=1), 1.0, atol=1e-12)
    sigma = model.action_distribution(pis)
    for a in range(model.n_actions):
        ok = sigma[:, a] > 1e-12
        if ok.any():
            new = model.public_update(pis[ok], a)
            assert np.all(new >= 0)
            np.testing.assert_allclose(new.sum(axis=1), 1.0, atol=1e-12)


# ---------------------------------------------------------------------- cascades
@SETTINGS
@given(data=st.data())
def test_cascade_beliefs_are_fixed_points(data):
    model = data.draw(models())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    pi = data.draw(beliefs(model.n_states, low=0.01))
    checked = False
    for _ in range(40):  # walk the filter along random actions until a cascade
        if model.in_cascade(pi):
            sigma = model.action_distribution(pi)
            for a in np.flatnonzero(sigma > 1e-12):
                np.testing.assert_allclose(model.public_update(pi, int(a)), model.predict(pi), atol=1e-9)
            if model.is_static:
                herd = model.cascade_action(pi)
                assert herd >= 0 and sigma[herd] == sigma.max()
            checked = True
            break
        sigma = model.action_distribution(pi)
        a = int(rng.choice(model.n_actions, p=sigma / sigma.sum()))
        pi = model.public_update(pi, a)
    if not checked:
        assert model.cascade_action(pi) == -1


def test_in_cascade_examples():
    m = SocialLearningModel.binary_symmetric(0.8)
    got = m.in_cascade([[0.5, 0.5], [0.8, 0.2], [0.81, 0.19], [0.0, 1.0], [1.0, 0.0]])
    assert got.tolist() == [False, False, True, True, True]
    assert m.cascade_action([[0.81, 0.19], [0.1, 0.9], [0.5, 0.5]]).tolist() == [0, 1, -1]
    # an uninformative sensor puts every belief in the cascade set
    flat = SocialLearningModel([[0.3, 0.7], [0.3, 0.7]], cost=1 - np.eye(2))
    assert flat.in_cascade(np.array([[0.5, 0.5], [0.55, 0.45]])).all()


def test_moving_state_prediction_and_cascade_drift():
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    m = SocialLearningModel([[0.9, 0.1], [0.1, 0.9]], cost=1 - np.eye(2), transition=P)
    pi = np.array([0.6, 0.4])
    np.testing.assert_allclose(m.predict(pi), pi @ P)
    eta = m.private_belief(pi, 0)
    pred = pi @ P
    np.testing.assert_allclose(eta, pred * [0.9, 0.1] / (pred @ [0.9, 0.1]))


# ---------------------------------------------------------------------- relabelling
@SETTINGS
@given(data=st.data())
def test_relabelling_commutes_with_the_filter_under_uniform_ties(data):
    model = data.draw(models(rules=("uniform",)))
    X, Y, A = model.n_states, model.n_obs, model.n_actions
    sx = np.array(data.draw(st.permutations(range(X))))
    sy = np.array(data.draw(st.permutations(range(Y))))
    sa = np.array(data.draw(st.permutations(range(A))))
    B2 = np.empty_like(model.likelihood)
    B2[np.ix_(sx, sy)] = model.likelihood
    c2 = np.empty_like(model.cost)
    c2[np.ix_(sx, sa)] = model.cost
    P2 = np.empty_like(model.transition)
    P2[np.ix_(sx, sx)] = model.transition
    other = SocialLearningModel(B2, cost=c2, transition=P2, tie_rule="uniform")
    pi = data.draw(beliefs(X, low=0.01))
    pi2 = np.empty(X)
    pi2[sx] = pi
    Pa, Pa2 = model.action_probs(pi), other.action_probs(pi2)
    np.testing.assert_allclose(Pa2[np.ix_(sx, sa)], Pa, atol=1e-12)
    D, D2 = model.decision_probs(pi), other.decision_probs(pi2)
    np.testing.assert_allclose(D2[np.ix_(sy, sa)], D, atol=1e-12)
    assert model.in_cascade(pi) == other.in_cascade(pi2)
    sigma = model.action_distribution(pi)
    for a in np.flatnonzero(sigma > 1e-12):
        new = model.public_update(pi, int(a))
        new2 = other.public_update(pi2, int(sa[a]))
        np.testing.assert_allclose(new2[sx], new, atol=1e-10)


# ---------------------------------------------------------------------- tie rules
def test_tie_rules_at_an_exact_tie():
    m = {r: SocialLearningModel.binary_symmetric(0.7, r) for r in TIE_RULES}
    # at pi = (0.7, 0.3) the agent with y = 1 has eta = (0.5, 0.5)
    np.testing.assert_allclose(m["uniform"].decision_probs([0.7, 0.3]), [[1, 0], [0.5, 0.5]])
    np.testing.assert_allclose(m["own_signal"].decision_probs([0.7, 0.3]), [[1, 0], [0, 1]])
    np.testing.assert_allclose(m["first"].decision_probs([0.7, 0.3]), [[1, 0], [1, 0]])
    # own_signal falls back to uniform when the signal is not among the tied actions
    c = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    m3 = SocialLearningModel([[0.5, 0.2, 0.3], [0.2, 0.5, 0.3]], cost=c, tie_rule="own_signal")
    np.testing.assert_allclose(m3.decision_probs([0.5, 0.5]), [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0]])


def test_tie_tolerance_is_relative_to_cost_scale():
    B = [[0.7, 0.3], [0.3, 0.7]]
    for scale in (1e-6, 1.0, 1e6):
        m = SocialLearningModel(B, cost=scale * (1 - np.eye(2)), tie_rule="uniform")
        np.testing.assert_allclose(m.decision_probs([0.7, 0.3]), [[1, 0], [0.5, 0.5]])
        # a genuine (if small) preference is not a tie
        np.testing.assert_allclose(m.decision_probs([0.7 + 1e-6, 0.3 - 1e-6]), [[1, 0], [1, 0]])


def test_utility_is_negative_cost():
    B = [[0.7, 0.3], [0.3, 0.7]]
    a = SocialLearningModel(B, utility=np.eye(2))
    b = SocialLearningModel(B, cost=-np.eye(2))
    np.testing.assert_array_equal(a.cost, b.cost)
    np.testing.assert_allclose(a.action_probs([0.6, 0.4]), b.action_probs([0.6, 0.4]))


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, match", [
    (dict(likelihood=[[0.7, 0.2], [0.3, 0.7]], cost=np.eye(2)), "rows of likelihood must sum to 1"),
    (dict(likelihood=[[1.2, -0.2], [0.3, 0.7]], cost=np.eye(2)), "negative"),
    (dict(likelihood=[[np.nan, 1], [0.3, 0.7]], cost=np.eye(2)), "NaN"),
    (dict(likelihood=[[0.7, 0.3], [0.3, 0.7]], cost=np.eye(3)), "one row per state"),
    (dict(likelihood=[[0.7, 0.3], [0.3, 0.7]]), "exactly one of cost"),
    (dict(likelihood=[[0.7, 0.3], [0.3, 0.7]], cost=np.eye(2), utility=np.eye(2)), "exactly one of cost"),
    (dict(likelihood=[[0.7, 0.3], [0.3, 0.7]], cost=np.eye(2), transition=np.eye(3)), "transition must have shape"),
    (dict(likelihood=[[0.7, 0.3], [0.3, 0.7]], cost=np.eye(2), transition=[[0.5, 0.6], [0, 1]]), "rows of transition"),
    (dict(likelihood=[[0.7, 0.3], [0.3, 0.7]], cost=np.eye(2), tie_rule="random"), "tie_rule"),
    (dict(likelihood=[0.7, 0.3], cost=np.eye(2)), "dimension"),
])
def test_bad_model_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SocialLearningModel(**kwargs)


def test_bad_belief_and_action_input():
    m = SocialLearningModel.binary_symmetric(0.7)
    with pytest.raises(ValueError, match="off the probability simplex"):
        m.public_update([0.6, 0.6], 0)
    with pytest.raises(ValueError, match="off the probability simplex"):
        m.in_cascade([1.2, -0.2])
    with pytest.raises(ValueError, match="2 entries per belief"):
        m.action_probs([0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        m.action_probs([np.nan, 0.5])
    with pytest.raises(ValueError, match="actions must lie"):
        m.public_update([0.5, 0.5], 2)
    with pytest.raises(ValueError, match="integer"):
        m.public_update([0.5, 0.5], 0.5)
    with pytest.raises(ValueError, match="observations must lie"):
        m.private_belief([0.5, 0.5], 3)
    with pytest.raises(ValueError, match="entries but pi has"):
        m.public_update(np.full((3, 2), 0.5), [0, 1])
    degenerate = SocialLearningModel([[1.0, 0.0], [0.0, 1.0]], cost=1 - np.eye(2))
    with pytest.raises(ValueError, match="probability zero"):
        degenerate.private_belief([1.0, 0.0], 1)
    with pytest.raises(ValueError, match="probability zero"):
        degenerate.public_update([1.0, 0.0], 1)


def test_batched_methods_match_single_calls():
    rng = np.random.default_rng(0)
    B = rng.dirichlet(np.ones(4), size=3)
    m = SocialLearningModel(B, cost=rng.random((3, 3)), transition=rng.dirichlet(np.ones(3), size=3))
    pis = rng.dirichlet(np.ones(3), size=6)
    sigma = m.action_distribution(pis)
    acts = np.array([rng.choice(3, p=s / s.sum()) for s in sigma])
    batch = m.public_update(pis, acts)
    for i in range(6):
        np.testing.assert_allclose(batch[i], m.public_update(pis[i], int(acts[i])))
        np.testing.assert_allclose(m.action_probs(pis)[i], m.action_probs(pis[i]))
