"""Solver banners never reach standard output (a command's stdout is its summary)."""
from __future__ import annotations

import subprocess
import sys


def test_highs_banner_is_silenced():
    code = ("import numpy as np, ribum\n"
            "ribum.check_ribum([[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]])\n"
            "p = np.array([[10, 7, 3], [8, 1, 1], [5, 1, 4]], float)\n"
            "x = np.array([[9, 5, 3], [8, 3, 10], [8, 5, 7]], float)\n"
            "ribum.houtman_maks(p, x)\n"
            "print('done')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout == "done\n", out.stdout
