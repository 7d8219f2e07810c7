"""Plots render to PNG files and draw what they claim."""
from __future__ import annotations

import numpy as np
import pytest

from sociallearn import (
    SocialLearningModel,
    cascade_distribution,
    cascade_region,
    herding_probability,
    plots,
    simulate,
)


@pytest.fixture(scope="module")
def result():
    return simulate(SocialLearningModel.binary_symmetric(0.7), [0.5, 0.5], 30, 500, seed=0)


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_belief_and_action_paths(tmp_path, result):
    fig = plots.plot_belief_paths(result, n_paths=7, path=tmp_path / "b.png")
    assert _is_png(tmp_path / "b.png")
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() != "None"]
    assert len(lines) == 7
    np.testing.assert_allclose(lines[3].get_ydata(), result.public_beliefs[3, :, 0])
    plots.plot_action_paths(result, path=tmp_path / "a.png")
    assert _is_png(tmp_path / "a.png")
    with pytest.raises(ValueError, match="state must lie"):
        plots.plot_belief_paths(result, state=2)


def test_histogram_herding_curve_and_regions(tmp_path, result):
    exact = cascade_distribution(result.model, [0.5, 0.5])
    plots.plot_cascade_time_histogram(result, exact=exact, path=tmp_path / "h.png")
    h = herding_probability(result.model, np.array([[p, 1 - p] for p in (0.2, 0.5, 0.8)]), n_runs=500, seed=1)
    fig = plots.plot_herding_vs_prior(h, path=tmp_path / "w.png")
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), h.p_wrong)
    plots.plot_cascade_region(cascade_region(result.model), path=tmp_path / "r2.png")
    plots.plot_cascade_region(cascade_region(SocialLearningModel.symmetric(3, 0.6), resolution=20),
                              path=tmp_path / "r3.png")
    for name in ("h", "w", "r2", "r3"):
        assert _is_png(tmp_path / f"{name}.png")
    with pytest.raises(ValueError, match="X = 2 or X = 3"):
        plots.plot_cascade_region(cascade_region(SocialLearningModel.symmetric(4, 0.6), resolution=4))
