"""Side-by-side LP solves (RibumLP.solve_many, n_jobs=) give the numbers of one-by-one solves."""
from __future__ import annotations

import time

import numpy as np
import pytest

import ribum
from llmsl_core import check_n_jobs
from ribum.inattention import RibumLP

COUNTS = np.array([[[40, 6, 4], [5, 38, 7], [6, 9, 35]],
                   [[30, 12, 8], [10, 31, 9], [9, 12, 29]],
                   [[45, 3, 2], [4, 44, 2], [3, 5, 42]]])


def test_bootstrap_margins_do_not_depend_on_threads():
    calls: list[tuple[int, int]] = []
    one = ribum.bootstrap_ribum(COUNTS, n_boot=12, seed=3)
    two = ribum.bootstrap_ribum(COUNTS, n_boot=12, seed=3, n_jobs=2, callback=lambda i, n: calls.append((i, n)))
    np.testing.assert_array_equal(one.margins, two.margins)
    assert one.pvalue == two.pvalue and np.array_equal(one.ci, two.ci)
    assert calls == [(i, 12) for i in range(1, 13)]  # in order, in the calling thread


@pytest.mark.parametrize("null", ["uniform", "matched"])
def test_power_does_not_depend_on_threads(null):
    k = COUNTS / COUNTS.sum(axis=2, keepdims=True)
    one = ribum.ribum_power(k, n=10, seed=5, null=null)
    two = ribum.ribum_power(k, n=10, seed=5, null=null, n_jobs=3)
    np.testing.assert_array_equal(one.margins, two.margins)
    assert one.n_fail == two.n_fail


def test_interrupt_cancels_the_solves_not_started():
    """A Ctrl-C (here raised by the progress callback) must not wait for every queued solve."""
    rng = np.random.default_rng(0)
    draws = [rng.dirichlet(np.ones(3), size=(3, 3)) for _ in range(30)]
    solved = []

    class Counting(RibumLP):
        def solve_direct(self, kernels, prior):
            solved.append(1)
            return super().solve_direct(kernels, prior)

    def stop(i, n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Counting(3, 3, 3).solve_many(draws, np.full(3, 1 / 3), n_jobs=2, callback=stop)
    time.sleep(1.0)  # queued solves that were not cancelled would run on meanwhile (30 take about 0.3 s)
    assert len(solved) <= 8  # the first results and the solves in flight (not all 30)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_n_jobs_is_one_error_naming_it(bad):
    with pytest.raises(ValueError, match="n_jobs"):
        check_n_jobs(bad)
    with pytest.raises(ValueError, match="n_jobs"):
        ribum.bootstrap_ribum(COUNTS, n_boot=2, n_jobs=bad)
    with pytest.raises(ValueError, match="n_jobs"):
        ribum.ribum_power(COUNTS / COUNTS.sum(axis=2, keepdims=True), n=2, n_jobs=bad)


def test_default_uses_the_available_cores():
    assert 1 <= check_n_jobs(None) <= 8


def test_solve_many_and_certified_pass_check_their_arguments():
    from ribum.inattention import certified_pass

    lp = RibumLP(2, 3, 3)
    k = COUNTS[:2] / COUNTS[:2].sum(axis=2, keepdims=True)
    with pytest.raises(ValueError, match="n_jobs"):
        lp.solve_many([k], np.full(3, 1 / 3), n_jobs="2")
    with pytest.raises(ValueError, match="callback"):
        lp.solve_many([k], np.full(3, 1 / 3), callback=3)
    with pytest.raises(ValueError, match="kernels rows must sum to 1"):
        certified_pass(2 * k)
    with pytest.raises(ValueError, match="tol"):
        certified_pass(k, tol=-1.0)
    assert certified_pass(k) is True  # distinct, informative posteriors
