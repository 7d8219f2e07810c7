"""The layers point one way: llmsl -> macro -> llmas -> {ribum, sociallearn, control}.

Each rule is checked in a fresh interpreter, so that nothing another test
imported can hide a violation.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout))


def test_numerical_packages_load_no_model_code():
    loaded = _loaded_after("import ribum, sociallearn, control")
    assert not loaded & {"torch", "transformers", "llmas", "llmsl", "macro", "httpx", "aiohttp"}, loaded


def test_llmas_loads_no_numerical_package():
    loaded = _loaded_after("import llmas, llmas.tasks, llmas.corpora, llmas.parsing, llmas.cache, llmas.tables")
    assert not loaded & {"ribum", "sociallearn", "control", "macro", "llmsl", "torch"}, loaded


def test_llmas_backends_load_no_numerical_package():
    loaded = _loaded_after("import llmas.backends.openai, llmas.backends.factory")
    assert not loaded & {"ribum", "sociallearn", "control", "macro", "llmsl"}, loaded


def test_macro_does_not_import_the_application_layer():
    loaded = _loaded_after("import macro, macro.experiment, macro.planner")
    assert "llmsl" not in loaded, loaded


def test_cli_help_is_light():
    """``llmsl --help`` imports no command module's heavy dependencies."""
    loaded = _loaded_after("import llmsl.cli; llmsl.cli.build_parser(['--help'])")
    assert not loaded & {"torch", "transformers", "cvxpy", "matplotlib"}, loaded


@pytest.mark.parametrize("argv", [["--version"], ["audit", "--help"]])
def test_python_m_llmsl(argv):
    out = subprocess.run([sys.executable, "-m", "llmsl", *argv], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "llmsl" in out.stdout
