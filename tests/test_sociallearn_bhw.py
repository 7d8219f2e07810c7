r"""Exact closed forms of the Bikhchandani-Hirshleifer-Welch (1992) binary model.

Model: states x in {0, 1}, uniform prior, signal y in {0, 1} with
P(y = x) = p > 1/2 (q = 1 - p), actions a in {0, 1}, cost c = 1 - I (take the
more likely state). Write pi for the public belief pi(0). T is the cascade time:
the number of agents who act before the public belief enters the cascade set.

Private posterior after a signal, from public pi: eta(0) = p pi / (p pi + q (1-pi))
after y = 0, eta(0) = q pi / (q pi + p (1-pi)) after y = 1. The agent picks 0
iff eta(0) > 1/2, so with y = 1 it picks 0 iff pi > p and is indifferent at
pi = p; symmetrically with y = 0 it is indifferent at pi = q.

At pi = 1/2 nobody is indifferent and the first agent reveals its signal:
pi_1 = p after a = 0 and pi_1 = q after a = 1. Let d be the net number of
revealed 0-signals; the public belief only visits pi = 1/2 (d = 0), p (d = 1),
q (d = -1) before a cascade, and the chain depends on the tie rule.

Tie rule "uniform" (coin flip). At pi = p: y = 0 -> a = 0; y = 1 -> tie -> a = 0
or 1 with probability 1/2 each. So P(a=0 | x=0) = p + q/2 and P(a=0 | x=1) =
q + p/2. After a = 0, pi_2 = p(p + q/2) / (p(p + q/2) + q(q + p/2)) > p (since
(2p - 1)(1 - p) > 0), a cascade on 0; after a = 1, pi_2 ∝ p q/2 : q p/2 = 1/2,
back to d = 0. Symmetric at pi = q. With x = 0 (and by symmetry for x = 1):
    C0 = p C1 + q C-1,  C1 = (p + q/2) + (q/2) C0,  C-1 = (p/2) C0
    => C0 (1 - pq) = p (p + q/2) = p (1 + p) / 2  =>  P(correct) = p (1 + p) / (2 (1 - p q)).
    E0 = 1 + p E1 + q E-1,  E1 = 1 + (q/2) E0,  E-1 = 1 + (p/2) E0
    => E0 = 2 + p q E0  =>  E[T] = 2 / (1 - p q).

Tie rule "own_signal". At pi = p, y = 1 -> tie -> the agent follows its signal,
a = 1: every action before a cascade reveals the signal. After a = 0 from pi = p,
pi_2 = p^2 / (p^2 + q^2) (cascade on 0); after a = 1, pi_2 = 1/2.
    C0 = p C1 + q C-1,  C1 = p + q C0,  C-1 = p C0
    => P(correct) = p^2 / (1 - 2pq) = p^2 / (p^2 + q^2);
    E0 = 1 + p E1 + q E-1,  E1 = 1 + q E0,  E-1 = 1 + p E0
    => E[T] = 2 / (1 - 2 p q) = 2 / (p^2 + q^2).

Tie rule "first" (lowest index, action 0). At pi = p an indifferent agent
(y = 1) picks 0 as does one with y = 0: pi = p is already in the cascade set
(on 0). At pi = q an indifferent agent (y = 0) picks 0, one with y = 1 picks 1:
P(a=1 | x=0) = q, P(a=1 | x=1) = p, so after a = 1 the belief is
q^2 / (q^2 + p^2) < q (cascade on 1) and after a = 0 it is back to 1/2.
The rule is asymmetric, so the answer depends on the state:
    x = 0: C0 = p + q p C0 => P(correct) = p / (1 - p q);
           E0 = 1 + q (1 + p E0) => E[T] = (1 + q) / (1 - p q);
    x = 1: C0 = p (p + q C0) => P(correct) = p^2 / (1 - p q);
           E0 = 1 + p (1 + q E0) => E[T] = (1 + p) / (1 - p q).
With the state drawn from the uniform prior the answers are the averages.

The simulator must match these within Monte Carlo error (5 standard errors) and
the exact lattice propagation (`cascade_distribution`) to 1e-10.
"""
from __future__ import annotations

import numpy as np
import pytest

from sociallearn import (
    SocialLearningModel,
    cascade_distribution,
    cascade_region,
    expected_cascade_time,
    herding_probability,
    simulate,
)


def closed_form(rule: str, p: float, state: int) -> tuple[float, float]:
    """(P(correct cascade), E[T]) for the BHW model under ``rule`` given the state."""
    q = 1.0 - p
    if rule == "uniform":
        return p * (1 + p) / (2 * (1 - p * q)), 2 / (1 - p * q)
    if rule == "own_signal":
        return p * p / (p * p + q * q), 2 / (p * p + q * q)
    if rule == "first":
        if state == 0:
            return p / (1 - p * q), (1 + q) / (1 - p * q)
        return p * p / (1 - p * q), (1 + p) / (1 - p * q)
    raise AssertionError(rule)


RULES = ["uniform", "own_signal", "first"]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("p", [0.55, 0.7, 0.9])
@pytest.mark.parametrize("state", [0, 1])
def test_exact_propagation_matches_closed_form(rule, p, state):
    model = SocialLearningModel.binary_symmetric(p, rule)
    d = cascade_distribution(model, [0.5, 0.5], n_agents=2000, true_state=state)
    correct, mean_t = closed_form(rule, p, state)
    assert d.p_no_cascade < 1e-12
    assert d.p_correct_cascade == pytest.approx(correct, abs=1e-10)
    assert d.p_wrong_cascade == pytest.approx(1 - correct, abs=1e-10)
    assert d.mean_cascade_time == pytest.approx(mean_t, abs=1e-9)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("p", [0.6, 0.8])
@pytest.mark.parametrize("state", [0, 1])
def test_simulator_matches_closed_form(rule, p, state):
    model = SocialLearningModel.binary_symmetric(p, rule)
    res = simulate(model, [0.5, 0.5], n_agents=120, n_runs=60_000, true_state=state, seed=1234 + state)
    correct, mean_t = closed_form(rule, p, state)
    s = res.herding_stats()
    assert s["p_no_cascade"] < 1e-3
    assert abs(s["p_correct_cascade"] - correct) < 5 * np.sqrt(correct * (1 - correct) / res.n_runs)
    assert abs(s["mean_cascade_time"] - mean_t) < 5 * s["se_cascade_time"]
    # the herd action after the cascade is the one every later agent takes
    rows = np.flatnonzero(res.cascade_time < res.n_agents)
    last = res.actions[rows, -1]
    assert np.array_equal(last, res.cascade_action[rows])


@pytest.mark.parametrize("rule", RULES)
def test_prior_drawn_state_averages_the_two_states(rule):
    p = 0.7
    model = SocialLearningModel.binary_symmetric(p, rule)
    exact = [closed_form(rule, p, s) for s in (0, 1)]
    correct = 0.5 * (exact[0][0] + exact[1][0])
    mean_t = 0.5 * (exact[0][1] + exact[1][1])
    hp = herding_probability(model, [0.5, 0.5], n_agents=150, n_runs=50_000, seed=7)
    assert abs(hp.p_correct[0] - correct) < 5 * hp.se_correct[0]
    assert abs(hp.p_wrong[0] - (1 - correct)) < 5 * hp.se_wrong[0]
    et = expected_cascade_time(model, [0.5, 0.5], n_agents=150, n_runs=50_000, seed=8)
    assert abs(et.mean - mean_t) < 5 * et.se
    ex = expected_cascade_time(model, [0.5, 0.5], method="exact")
    assert ex.mean == pytest.approx(mean_t, abs=1e-9)


@pytest.mark.parametrize("p", [0.6, 0.75, 0.95])
def test_bhw_cascade_region(p):
    q = 1 - p
    for rule, upper_closed in (("uniform", False), ("own_signal", False), ("first", True)):
        reg = cascade_region(SocialLearningModel.binary_symmetric(p, rule))
        assert len(reg.intervals) == 2
        low, high = reg.intervals
        assert (low.lo, low.lo_closed, low.action) == (0.0, True, 1)
        assert low.hi == pytest.approx(q, abs=1e-12) and not low.hi_closed
        assert high.lo == pytest.approx(p, abs=1e-12) and high.lo_closed == upper_closed
        assert (high.hi, high.hi_closed, high.action) == (1.0, True, 0)
        np.testing.assert_allclose(reg.thresholds, [q, p], atol=1e-12)
