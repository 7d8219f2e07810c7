"""NIAS/NIAC properties of rationally inattentive agents, drawn with :mod:`ribum.strategies` (issue 16)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ribum import check_ribum, niac, nias, rational_inattention_kernel
from ribum.strategies import InattentiveAgent, inattentive_agents, quadratic_cost_agents, shannon_agents

FAST = settings(max_examples=12, deadline=None)
LP = settings(max_examples=6, deadline=None)


@FAST
@given(inattentive_agents(near_duplicate=False))
def test_rational_agents_satisfy_nias_and_niac_with_true_utilities_and_costs(agent):
    # Caplin & Dean (2015): NIAS and NIAC are necessary for any posterior-separable cost
    assert nias(agent.kernels, agent.utilities, agent.prior, tol=1e-7).passed
    assert niac(agent.kernels, agent.utilities, agent.costs, agent.prior, tol=1e-7).passed


@FAST
@given(quadratic_cost_agents())
def test_quadratic_cost_optimum_beats_every_other_pair_of_posteriors(agent):
    # the exact concave-envelope optimum: no feasible two-posterior strategy does better
    r, lam, pi0 = agent.utilities, agent.lam, agent.prior[0]
    mu = np.linspace(0.0, 1.0, 101)
    net = (mu[:, None, None] * r[None, :, 0, :] + (1 - mu)[:, None, None] * r[None, :, 1, :]).max(axis=2)
    net = net - lam * (mu**2 + (1 - mu) ** 2)[:, None]  # (M, K)
    joint = agent.prior[None, :, None] * agent.kernels
    gross = np.einsum("kxa,kxa->k", joint, r)
    value = gross - agent.costs - lam * (pi0**2 + (1 - pi0) ** 2)
    lo, hi = mu <= pi0, mu >= pi0
    for i in np.flatnonzero(lo):
        for j in np.flatnonzero(hi):
            if mu[j] - mu[i] < 1e-12:
                chord = net[i]
            else:
                w = (pi0 - mu[i]) / (mu[j] - mu[i])
                chord = (1 - w) * net[i] + w * net[j]
            assert np.all(chord <= value + 1e-9)


@LP
@given(inattentive_agents(near_duplicate=False))
def test_rational_agents_pass_check_ribum(agent):
    res = check_ribum(agent.kernels, agent.prior)
    assert res.passed, res.margin


@LP
@given(inattentive_agents(near_duplicate=False), st.data())
def test_nias_niac_invariant_to_relabelling(agent, data):
    k, r, c, prior = agent.kernels, agent.utilities, agent.costs, agent.prior
    K, X, A = k.shape
    pa = np.asarray(data.draw(st.permutations(range(A))))
    px = np.asarray(data.draw(st.permutations(range(X))))
    pk = np.asarray(data.draw(st.permutations(range(K))))
    base = check_ribum(k, prior).margin
    n0 = nias(k, r, prior).min_slack
    c0 = niac(k, r, c, prior).min_slack
    for kv, rv, cv, prv in [
        (k[:, :, pa], r[:, :, pa], c, prior),  # actions
        (k[:, px, :], r[:, px, :], c, prior[px]),  # states
        (k[pk], r[pk], c[pk], prior),  # environments
    ]:
        assert check_ribum(kv, prv).margin == pytest.approx(base, abs=1e-7)
        assert nias(kv, rv, prv).min_slack == pytest.approx(n0, abs=1e-12)
        if K > 1:
            assert niac(kv, rv, cv, prv).min_slack == pytest.approx(c0, abs=1e-12)


def _near_duplicate_agent(eps: float) -> InattentiveAgent:
    r0 = np.array([[0.0, 0.375, 0.25], [0.25, 0.125, 0.25]])
    r = np.stack([r0, r0 * (1 - eps)])
    prior = np.array([0.5, 0.5])
    k = rational_inattention_kernel(r, prior, 1.0)
    return InattentiveAgent(k, r, prior, np.zeros(2), 1.0, "shannon")


@settings(max_examples=6, deadline=None)
@given(shannon_agents(near_duplicate=True))
@example(_near_duplicate_agent(1e-6))
def test_shannon_agents_with_nearly_identical_strategies_pass(agent):
    assert check_ribum(agent.kernels, agent.prior).passed
