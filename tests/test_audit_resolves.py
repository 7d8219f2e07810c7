"""A large audit says up front how long its LP re-solves will take (issue 12: never appear to hang)."""
from __future__ import annotations

import logging

import pytest

from llmsl.audit.analysis import LONG_RESOLVES_S, _announce_resolves


def test_long_resolves_are_announced_once_with_the_estimate(caplog):
    with caplog.at_level(logging.WARNING, logger="llmsl"):
        # K = 300 as measured: one LP about 1,367 s; CLI defaults, two threads
        _announce_resolves(1367.0, 1, n_boot=200, power_n=50, n_jobs=2)
    (rec,) = caplog.records
    msg = rec.getMessage()
    assert "300 LP re-solves ahead (bootstrap 200, power 100)" in msg
    assert "each about 1367 s, 2 at a time: about 57.0 hours" in msg and "--n-boot" in msg


@pytest.mark.parametrize("lp_seconds, n_jobs", [(0.2, 1), (LONG_RESOLVES_S / 300 * 2 * 0.99, 2)])
def test_short_resolves_are_not_announced(caplog, lp_seconds, n_jobs):
    with caplog.at_level(logging.WARNING, logger="llmsl"):
        _announce_resolves(lp_seconds, 1, n_boot=200, power_n=50, n_jobs=n_jobs)
    assert caplog.records == []


def test_the_estimate_counts_every_test(caplog):
    with caplog.at_level(logging.WARNING, logger="llmsl"):
        _announce_resolves(20.0, 2, n_boot=100, power_n=50, n_jobs=1)  # 10 s per LP, 300 LPs
    (rec,) = caplog.records
    assert "300 LP re-solves ahead (bootstrap 100, power 200), each about 10 s, 1 at a time: about 50 minutes" \
        in rec.getMessage()
