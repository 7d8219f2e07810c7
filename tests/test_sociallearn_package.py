"""Package hygiene: public API, import weight, and every docstring example runs."""
from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

import sociallearn

ISSUE_API = ["SocialLearningModel", "simulate", "cascade_region", "herding_probability",
             "expected_cascade_time", "estimate_likelihood", "informativeness"]


def test_public_api_exported():
    for name in ISSUE_API:
        assert name in sociallearn.__all__ and callable(getattr(sociallearn, name))
    for name in sociallearn.__all__:
        assert hasattr(sociallearn, name)


def test_import_is_pure_numerics():
    code = ("import sys, sociallearn; bad = [m for m in ('torch', 'transformers', 'cvxpy', 'llmas', "
            "'matplotlib', 'scipy') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("module", ["model", "simulation", "cascades", "estimation", "information", "plots"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"sociallearn.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
