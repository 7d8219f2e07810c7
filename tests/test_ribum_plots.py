"""ribum.plots writes PNG files (Agg backend) without touching the numerical core."""
from __future__ import annotations

import numpy as np

import ribum
from ribum import plots


def test_plots_write_pngs(tmp_path):
    p = [[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]]
    x = [[2.0, 0.5], [0.5, 2.0], [1.0, 1.0]]
    u = ribum.afriat_utility(p, x)
    k = ribum.rational_inattention_kernel(np.random.default_rng(0).uniform(size=(3, 3, 3)), None, 0.1)
    res = ribum.check_ribum(k)
    boot = ribum.bootstrap_ribum(np.random.default_rng(0).multinomial(300, k), n_boot=8, seed=0)
    for path in (plots.plot_afriat_utility(u, tmp_path / "u.png"), plots.plot_utilities(res, tmp_path / "r.png"),
                 plots.plot_bootstrap(boot, tmp_path / "b.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_import_ribum_does_not_import_heavy_modules():
    import subprocess
    import sys

    code = "import sys, ribum; print(any(m in sys.modules for m in ('matplotlib', 'cvxpy', 'torch', 'llmas')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
