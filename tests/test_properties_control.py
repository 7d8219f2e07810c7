"""Properties of the belief-grid stopping solvers, drawn with :mod:`control.strategies` (issue 16)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from control import exact_value, policy_iteration, value_iteration
from control.dp import discretize
from control.strategies import stopping_problems, symmetric_stopping_problems, tp2_stopping_problems

FAST = settings(max_examples=12, deadline=None)


@FAST
@given(stopping_problems())
def test_value_iteration_equals_policy_iteration(prob):
    D = discretize(prob, 201)
    vi = value_iteration(D, tol=1e-11)
    pi = policy_iteration(D)
    assert vi.converged and pi.converged
    assert np.max(np.abs(vi.values - pi.values)) < 1e-9
    # the policies agree wherever the choice is not a near tie
    gap = np.abs(pi.continue_values - pi.stop_values)
    clear = gap > 1e-7
    assert np.array_equal(vi.continue_mask[clear], pi.continue_mask[clear])


@FAST
@given(stopping_problems())
def test_value_is_below_stop_cost_and_concave(prob):
    sol = value_iteration(prob, grid_size=201, tol=1e-11)
    assert np.all(sol.values <= sol.stop_values + 1e-12)
    # V = min(C_s, ...) with equality on the stop set
    stop = ~sol.continue_mask
    assert np.allclose(sol.values[stop], sol.stop_values[stop], atol=1e-9)
    # concave in pi(0) on the uniform grid: second differences <= 0 (up to the iteration error)
    assert np.all(np.diff(sol.values, 2) <= 2 * sol.error_bound + 1e-12)


@FAST
@given(symmetric_stopping_problems())
def test_symmetric_problem_symmetric_value_and_thresholds(prob):
    sol = value_iteration(prob, grid_size=201, tol=1e-11)
    assert np.allclose(sol.values, sol.values[::-1], atol=1e-9)
    region = sol.continue_region
    assert len(region) <= 1
    if region:
        lo, hi = region[0]
        assert abs(lo - (1.0 - hi)) < 1e-7


@FAST
@given(tp2_stopping_problems())
def test_tp2_gives_a_threshold_policy(prob):
    sol = value_iteration(prob, grid_size=201, tol=1e-11)
    assert len(sol.continue_region) <= 1
    assert not sol.continue_mask[0] and not sol.continue_mask[-1]  # certainty stops


@settings(max_examples=6, deadline=None)
@given(stopping_problems(max_obs=3), st.integers(0, 4))
def test_refining_the_grid_converges_monotonically_to_the_exact_value(prob, which):
    # Nested grids (n intervals -> 2n): the finer interpolant of a concave function lies above the
    # coarser one, so the grid values increase with refinement, and all stay below V*.
    p0 = [0.5, 0.25, 0.75, 0.125, 0.875][which]
    exact = exact_value(prob, [p0, 1 - p0], tol=1e-9)
    prev = -np.inf
    for n in (8, 16, 32, 64, 128):
        sol = value_iteration(prob, grid_size=n + 1, tol=1e-12)
        v = float(sol.value([p0, 1 - p0])[0])
        assert v >= prev - 1e-9
        assert v <= exact.upper[0] + sol.error_bound + 1e-9
        prev = v
    fine = value_iteration(prob, grid_size=1025, tol=1e-12)
    lo, up = fine.value_bounds([p0, 1 - p0])
    # and the bracket on the finest grid pins V* down
    assert lo[0] <= exact.lower[0] + 1e-9 and exact.upper[0] <= up[0] + 1e-9
    assert up[0] - lo[0] <= max(2e-3, 0.02 * exact.value[0])


@settings(max_examples=10, deadline=None)
@given(stopping_problems(max_obs=3), st.sampled_from([21, 101, 401]))
def test_discretization_bracket_covers_the_exact_value(prob, grid_size):
    sol = value_iteration(prob, grid_size=grid_size, tol=1e-11)
    bd = sol.discretization
    assert bd is not None
    pts = np.array([[0.5, 0.5], [0.1, 0.9], [0.8, 0.2], [0.37, 0.63]])
    exact = exact_value(prob, pts, tol=1e-9)
    lo, up = sol.value_bounds(pts)
    assert np.all(lo <= exact.lower + 1e-9)
    assert np.all(exact.upper <= up + 1e-9)
    # at the grid points too
    idx = np.array([0, grid_size // 3, grid_size // 2, grid_size - 1])
    ex_grid = exact_value(prob, sol.grid.points[idx], tol=1e-9)
    assert np.all(bd.lower[idx] <= ex_grid.lower + 1e-9)
    assert np.all(ex_grid.upper <= bd.upper[idx] + 1e-9)
    assert bd.max_gap >= 0
