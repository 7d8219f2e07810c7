"""Progress of the LP re-solves (bootstrap and power): callbacks in ribum, one bar in the audit."""
import numpy as np
import pytest

import ribum
from llmsl.audit.analysis import ribum_analysis

KERNELS = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
COUNTS = [[[45, 5], [8, 42]], [[30, 20], [18, 32]]]


def test_bootstrap_and_power_call_back_once_per_solve():
    seen = []
    res = ribum.bootstrap_ribum(COUNTS, n_boot=7, seed=0, callback=lambda i, n: seen.append((i, n)))
    assert seen == [(i, 7) for i in range(1, 8)]
    assert np.array_equal(res.margins, ribum.bootstrap_ribum(COUNTS, n_boot=7, seed=0).margins)
    seen.clear()
    pw = ribum.ribum_power(KERNELS, n=5, seed=1, callback=lambda i, n: seen.append((i, n)))
    assert seen == [(i, 5) for i in range(1, 6)]
    assert np.array_equal(pw.margins, ribum.ribum_power(KERNELS, n=5, seed=1).margins, equal_nan=True)


def test_audit_analysis_progress_bar_counts_every_solve(capsys):
    quiet = ribum_analysis(KERNELS, [0.5, 0.5], COUNTS, exact=False, n_boot=6, n_info_samples=50, power_n=4)
    assert capsys.readouterr().err == ""
    shown = ribum_analysis(KERNELS, [0.5, 0.5], COUNTS, exact=False, n_boot=6, n_info_samples=50, power_n=4,
                           progress=True)
    err = capsys.readouterr().err
    # 6 bootstrap resamples + 4 draws x 2 nulls of the power
    assert "RIBUM bootstrap and power" in err and "14/14" in err
    assert shown["bootstrap"]["margins"] == quiet["bootstrap"]["margins"]
    assert shown["power"]["tests"] == quiet["power"]["tests"]


def test_a_callback_that_is_not_callable_is_one_clear_error():
    with pytest.raises(ValueError, match="callback must be None or a callable"):
        ribum.bootstrap_ribum(COUNTS, n_boot=3, seed=0, callback=5)
    with pytest.raises(ValueError, match="callback must be None or a callable"):
        ribum.ribum_power(KERNELS, n=3, seed=0, callback="bar")
