"""Shared fixtures.

``shared_data`` points at ``../shared/data`` (real data nobody here wrote); tests
that need it skip with a reason when the folder is absent, so a fresh clone
passes on its own.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# On CI (CI=true) Hypothesis draws the same examples every run, so a submission
# cannot pass or fail by the luck of the draw; locally it explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LLMSL_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mhs_mistral(shared_data) -> Path:
    path = shared_data / "mhs_mistral"
    if not (path / "mistral7b_responses.csv").is_file():
        pytest.skip(f"{path}/mistral7b_responses.csv is absent")
    return path


# --- llmas fixtures: a tiny offline chat model and a backend on it ----------
@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer random GPT-2 with a locally trained tokenizer and a ChatML template."""
    from llmas.testing import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture
def tiny_backend(tiny_model_dir, tmp_path):
    """A TransformersBackend on the tiny model with a fresh cache in tmp (n_calls starts at 0)."""
    from llmas import ResponseCache, TransformersBackend

    return TransformersBackend(tiny_model_dir, cache=ResponseCache(tmp_path / "llmas_cache.sqlite"),
                               batch_size=4)
