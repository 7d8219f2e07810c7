"""The README's promises: two commands, .ci/run runs the test one word for word,
and its Python examples run as printed."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_two_fresh_machine_commands_and_ci_runs_the_test_one():
    first, second = _blocks("bash")[:2]
    assert first.strip().startswith("bash scripts/setup.sh && ") and "llmsl audit" in first
    assert second.strip() == "bash scripts/setup.sh && .venv/bin/python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == second.strip()


def test_numerical_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = _blocks("python")[0]
    assert "import ribum" in code
    exec(compile(code, "README.md", "exec"), {})


@pytest.mark.slow
def test_llm_layer_example_runs(tmp_path, monkeypatch):
    from llmas.model_files import model_dir

    # A fresh response cache, but the converted default model where it already is.
    monkeypatch.setenv("LLMSL_MODEL_DIR", str(model_dir()))
    monkeypatch.setenv("LLMSL_CACHE_DIR", str(tmp_path))

    code = _blocks("python")[1]
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert ns["probs"].shape == (1, 2) and abs(float(ns["probs"].sum()) - 1) < 1e-9
    assert isinstance(ns["reply"], str) and ns["reply"]
    assert ns["report"].results["task"] == "hate_speech"
