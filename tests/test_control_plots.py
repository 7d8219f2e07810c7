from __future__ import annotations

import numpy as np

from control import StoppingProblem, optimize_threshold, value_iteration
from control.plots import plot_cost_vs_threshold, plot_spsa_path, plot_value_function


def test_plots_write_png(tmp_path):
    B = np.array([[0.7, 0.3], [0.3, 0.7]])
    prob = StoppingProblem.from_misclassification(B, [[0, 1], [1, 0]], 0.3, 0.9)
    sol = value_iteration(prob, grid_size=501)
    res = optimize_threshold(prob, [0.5, 0.5], kind="symmetric", n_iter=10, n_runs=100, seed=0)
    for name, fig in [
        ("v.png", plot_value_function(sol, tmp_path / "v.png")),
        ("s.png", plot_spsa_path(res, sol, tmp_path / "s.png")),
        ("c.png", plot_cost_vs_threshold(prob, [0.5, 0.5], np.linspace(0, 0.5, 6), n_runs=50,
                                         vi_solution=sol, path=tmp_path / "c.png")),
    ]:
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert len(fig.axes[0].lines) >= 2
