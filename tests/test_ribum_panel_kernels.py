"""Kernels of ribum.analyze: the stacked cycle search (trimming + compacted Warshall)
against a brute-force reachability oracle, and the verdict-only / threaded panel
paths against the per-subject ribum.garp / ribum.ccei."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ribum
import ribum._graph as graph
import ribum.panel as panel_module
from ribum.panel import panel_garp_ccei


def on_cycle_oracle(W: np.ndarray) -> np.ndarray:
    """Nodes that reach themselves, by boolean matrix powers until the reach set stops growing."""
    out = []
    for A in W.astype(np.int64):
        R = A.copy()
        while True:
            nxt = ((R + R @ A) > 0).astype(np.int64)
            if np.array_equal(nxt, R):
                break
            R = nxt
        out.append(np.diag(R) > 0)
    return np.array(out).reshape(W.shape[:2])


def planted(rng, N, T, density, n_back):
    """Near-acyclic graphs: dense arcs along a random order plus a few arcs against it."""
    W = np.zeros((N, T, T), dtype=bool)
    for n in range(N):
        order = rng.permutation(T)
        fwd = np.triu(rng.random((T, T)) < density, 1)
        for _ in range(n_back):
            i, j = sorted(rng.integers(0, T, 2))
            if i != j:
                fwd[j, i] = True
        W[n] = fwd[np.ix_(np.argsort(order), np.argsort(order))]
    return W


@pytest.mark.parametrize("stop", [1, 32, 10**9])
@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 150), st.floats(0.0, 0.6), st.integers(0, 3), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_cycle_nodes_stack_equals_oracle(stop, N, T, density, n_back, structured, seed):
    rng = np.random.default_rng(seed)
    W = planted(rng, N, T, density, n_back) if structured else rng.random((N, T, T)) < density / 8
    W[:, np.arange(T), np.arange(T)] = False
    old = graph._TRIM_STOP
    graph._TRIM_STOP = stop  # 1: stop after one level; 10**9: trim to the end
    try:
        got = graph.cycle_nodes_stack(W)
    finally:
        graph._TRIM_STOP = old
    np.testing.assert_array_equal(got, on_cycle_oracle(W))


def test_cycle_nodes_stack_paths():
    rng = np.random.default_rng(0)
    # many survivors (closure in place), few survivors (compaction), none (all trimmed)
    for W in (rng.random((5, 90, 90)) < 0.3, planted(rng, 6, 120, 0.5, 2), planted(rng, 3, 100, 0.5, 0)):
        W[:, np.arange(W.shape[1]), np.arange(W.shape[1])] = False
        np.testing.assert_array_equal(graph.cycle_nodes_stack(W), on_cycle_oracle(W))
    assert graph.cycle_nodes_stack(np.zeros((0, 70, 70), dtype=bool)).shape == (0, 70)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 70), st.floats(0.0, 1.0), st.integers(1, 10**6),
       st.integers(0, 2**31 - 1))
def test_compact_groups(N, T, share, max_elements, seed):
    mask = np.random.default_rng(seed).random((N, T)) < share
    seen = []
    for rows, nodes, valid in graph.compact_groups(mask, max_elements):
        M = nodes.shape[1]
        for r, nd, v in zip(rows, nodes, valid, strict=True):
            marked = np.flatnonzero(mask[r])
            assert 1 <= marked.size <= M
            np.testing.assert_array_equal(nd[: marked.size], marked)
            np.testing.assert_array_equal(v, np.arange(M) < marked.size)
            assert len(set(nd.tolist())) == M
        seen.extend(rows.tolist())
    assert sorted(seen) == np.flatnonzero(mask.any(axis=1)).tolist()


def panel(N, T, G, noise, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 1.5, (N, T, G))
    m = rng.uniform(5, 10, (N, T))
    a = rng.dirichlet(np.ones(G) * 5, size=N)
    return p, a[:, None, :] * m[..., None] / p * np.exp(rng.normal(0, noise, (N, T, G)))


def threaded_run(p, x, e=1.0, **kw):
    """panel_garp_ccei in 2 threads, also for panels below the size that normally runs in one."""
    old = panel_module._PARALLEL_ELEMENTS
    panel_module._PARALLEL_ELEMENTS = 0
    try:
        return panel_garp_ccei(p, x, e, n_jobs=2, **kw)
    finally:
        panel_module._PARALLEL_ELEMENTS = old


def check_against_loop(p, x, e=1.0):
    full = panel_garp_ccei(p, x, e)
    fast = panel_garp_ccei(p, x, e, violations=False)
    threaded = threaded_run(p, x, e, chunk_size=3)
    assert fast[1] is None
    for i in range(p.shape[0]):
        g = ribum.garp(p[i], x[i], e)
        c = ribum.ccei(p[i], x[i])
        for ok, _, cc in (full, fast, threaded):
            assert bool(ok[i]) == g.passed, i
            assert cc[i] == c, (i, cc[i], c)  # exact, not approximate
        assert full[1][i] == threaded[1][i] == g.violations, i


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 14), st.integers(60, 130), st.sampled_from([2, 3, 5]), st.sampled_from([0.0, 0.02, 0.1, 0.6]),
       st.sampled_from([1.0, 0.9]), st.integers(0, 2**31 - 1))
def test_verdict_only_and_threads_equal_loop_large_T(N, T, G, noise, e, seed):
    p, x = panel(N, T, G, noise, seed)
    check_against_loop(p, x, e)


@pytest.mark.parametrize("first_noisy", [True, False])
def test_mixed_panels_both_orders(first_noisy):
    """The two-cycle search runs first or last depending on the first sub-block; both are exact."""
    p1, x1 = panel(15, 100, 4, 0.8, seed=1)
    p2, x2 = panel(15, 100, 4, 0.03, seed=2)
    if first_noisy:
        p, x = np.concatenate([p1, p2]), np.concatenate([x1, x2])
    else:
        p, x = np.concatenate([p2, p1]), np.concatenate([x2, x1])
    check_against_loop(p, x)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 8), st.integers(1, 3), st.booleans(), st.integers(0, 2**31 - 1))
def test_integer_panels_with_ties(N, T, G, repeat, seed):
    """Small integers give exact ties (weak arcs with ratio exactly 1, equal bundles) and longer cycles
    without a strict two-cycle; every path (counts, verdict only, threads) against the per-subject loop."""
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 4, (N, T, G)).astype(float)
    x = rng.integers(0, 4, (N, T, G)).astype(float)
    x[..., 0] += x.sum(axis=2) == 0  # no all-zero bundle
    if repeat and T > 1:
        x[:, -1] = x[:, 0]  # a repeated bundle in every subject
    check_against_loop(p, x)


def test_three_cycle_without_two_cycle():
    # GARP fails only through a three-cycle 0 P0 1 P0 2 P0 0 (no pair violates WARP).
    p = np.array([[[2.0, 1.0, 3.0], [3.0, 2.0, 1.0], [1.0, 3.0, 2.0]]])
    x = np.eye(3)[None]
    g = ribum.garp(p[0], x[0])
    assert not g.passed and ribum.warp(p[0], x[0]).passed
    ok, nv, cc = panel_garp_ccei(p, x, violations=False)
    assert not ok[0] and nv is None and cc[0] == ribum.ccei(p[0], x[0])


def test_n_jobs_validated():
    p, x = panel(220, 70, 3, 0.3, 5)  # N T^2 >= 2^20: split over the available cores (None)
    for u, v in zip(panel_garp_ccei(p, x), panel_garp_ccei(p, x, n_jobs=None), strict=True):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(ValueError, match="n_jobs"):
        panel_garp_ccei(*panel(2, 3, 2, 0.1, 0), n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs"):
        ribum.analyze(panel(2, 3, 2, 0.1, 0), n_jobs=0)
