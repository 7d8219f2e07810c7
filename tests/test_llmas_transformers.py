"""TransformersBackend on the tiny offline model: exact choice probabilities, generation, cache."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from llmas import ChoiceProbs, ResponseCache, TransformersBackend
from llmas.backends.base import normalize_messages

PROMPTS = [
    "Is this text insulting? Answer Yes or No.",
    "Hello there, how are you today? I am fine, thank you. What a lovely morning it is. And you?",
    "x",
    [{"role": "system", "content": "Answer with one word."}, {"role": "user", "content": "Positive or negative?"}],
    "The product broke after two days.",
]
# "Yes" and "Yes, definitely" share their first token; " yes" starts with a space.
CHOICES = ["Yes", "No", "Yes, definitely", "Maybe", " yes"]


def brute_logprob(backend, messages, choice):
    """log P(choice | prompt) from one unpadded forward pass over prompt + choice."""
    text = backend.render(normalize_messages(messages))
    pids = backend._encode(text)
    cids = backend.choice_tokens(text, pids, choice)
    ids = torch.tensor([pids + cids])
    with torch.inference_mode():
        lp = torch.log_softmax(backend.hf_model(ids).logits[0].double(), -1)
    return sum(lp[len(pids) - 1 + j, cids[j]].item() for j in range(len(cids))), cids


def test_choice_probs_match_brute_force(tiny_backend):
    p = tiny_backend.choice_probs(PROMPTS, CHOICES)
    assert isinstance(p, ChoiceProbs) and p.method == "logprobs"
    assert tiny_backend.last_choice_method == "logprobs"
    assert p.shape == (len(PROMPTS), len(CHOICES))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    brute = np.array([[brute_logprob(tiny_backend, m, c)[0] for c in CHOICES] for m in PROMPTS])
    np.testing.assert_allclose(p.logprobs, brute, atol=2e-4)
    expected = np.exp(brute - brute.max(1, keepdims=True))
    np.testing.assert_allclose(np.asarray(p), expected / expected.sum(1, keepdims=True), atol=1e-4)


def test_multi_token_choices_are_not_first_token_scores(tiny_backend):
    _, yes = brute_logprob(tiny_backend, PROMPTS[0], "Yes")
    _, yes_def = brute_logprob(tiny_backend, PROMPTS[0], "Yes, definitely")
    assert len(yes_def) > 1 and yes_def[0] == yes[0]  # shared first token
    p = tiny_backend.choice_probs([PROMPTS[0]], ["Yes", "Yes, definitely"])
    # With first-token scoring the two would tie exactly.
    assert p.logprobs[0, 1] < p.logprobs[0, 0] - 1e-3


def test_batch_size_and_order_do_not_change_results(tiny_model_dir):
    a = TransformersBackend(tiny_model_dir, cache=False, batch_size=1).choice_probs(PROMPTS, CHOICES)
    b = TransformersBackend(tiny_model_dir, cache=False, batch_size=16).choice_probs(PROMPTS[::-1], CHOICES)
    np.testing.assert_allclose(a.logprobs, b.logprobs[::-1], atol=2e-4)


def test_single_token_choices_and_one_prompt(tiny_backend):
    p = tiny_backend.choice_probs("Is this text insulting?", ["Yes", "No"])
    brute = [brute_logprob(tiny_backend, "Is this text insulting?", c)[0] for c in ["Yes", "No"]]
    np.testing.assert_allclose(p.logprobs[0], brute, atol=2e-4)
    assert p.shape == (1, 2)


def test_cache_rerun_makes_zero_model_calls(tiny_backend, tiny_model_dir):
    p1 = tiny_backend.choice_probs(PROMPTS, CHOICES)
    assert tiny_backend.n_calls == len(PROMPTS)
    t1 = tiny_backend.complete_batch(PROMPTS[:3], max_tokens=6)
    assert tiny_backend.n_calls == len(PROMPTS) + 3
    again = TransformersBackend(tiny_model_dir, cache=tiny_backend.cache)
    p2 = again.choice_probs(PROMPTS, CHOICES)
    t2 = again.complete_batch(PROMPTS[:3], max_tokens=6)
    assert again.n_calls == 0
    np.testing.assert_array_equal(np.asarray(p1), np.asarray(p2))
    assert t1 == t2
    # A new prompt is the only call made.
    again.choice_probs(PROMPTS + ["a new prompt"], CHOICES)
    assert again.n_calls == 1


def test_cache_key_includes_the_weights_precision(tiny_backend, tiny_model_dir):
    """A bfloat16 copy of the model gives other numbers: it must not be served float32 answers."""
    p32 = tiny_backend.choice_probs(PROMPTS[:2], CHOICES)
    half = TransformersBackend(tiny_model_dir, cache=tiny_backend.cache, dtype=torch.bfloat16)
    p16 = half.choice_probs(PROMPTS[:2], CHOICES)
    assert half.n_calls == 2
    assert not np.array_equal(np.asarray(p32), np.asarray(p16))
    again = TransformersBackend(tiny_model_dir, cache=tiny_backend.cache, dtype=torch.bfloat16)
    np.testing.assert_array_equal(np.asarray(again.choice_probs(PROMPTS[:2], CHOICES)), np.asarray(p16))
    assert again.n_calls == 0


def test_greedy_completion_is_argmax_decoding(tiny_backend):
    msgs = "Hello there"
    text = tiny_backend.complete(msgs, max_tokens=5)
    assert isinstance(text, str)
    # Independent greedy decoding without cache or padding.
    ids = tiny_backend._encode(tiny_backend.render(normalize_messages(msgs)))
    out = []
    with torch.inference_mode():
        for _ in range(5):
            nxt = int(tiny_backend.hf_model(torch.tensor([ids + out])).logits[0, -1].argmax())
            if nxt in tiny_backend._eos_ids:
                break
            out.append(nxt)
    assert text == tiny_backend.tokenizer.decode(out, skip_special_tokens=True)
    # Batched with a longer prompt (left padding) gives the same text.
    assert tiny_backend.complete_batch([PROMPTS[1], msgs], max_tokens=5)[1] == text


def test_sampling_is_seeded_and_sample_index_gives_distinct_replayable_samples(tiny_backend, tiny_model_dir):
    a = tiny_backend.complete("Hello", temperature=1.0, max_tokens=8, seed=3)
    b = TransformersBackend(tiny_model_dir, cache=False).complete("Hello", temperature=1.0, max_tokens=8, seed=3)
    assert a == b
    samples = tiny_backend.complete_batch(["Hello"] * 6, temperature=1.5, max_tokens=8)
    assert len(set(samples)) > 1  # distinct samples, not six copies of one
    fresh = TransformersBackend(tiny_model_dir, cache=False)
    assert fresh.complete_batch(["Hello"] * 6, temperature=1.5, max_tokens=8) == samples
    assert fresh.complete("Hello", temperature=1.5, max_tokens=8, sample_index=2) == samples[2]


def test_top_p_tiny_keeps_only_the_top_token(tiny_backend):
    greedy = tiny_backend.complete("Hello", max_tokens=6)
    assert tiny_backend.complete("Hello", temperature=1.0, top_p=1e-9, max_tokens=6, seed=1) == greedy


@pytest.mark.parametrize("choices, match", [
    ([], "empty"),
    (["Yes", "Yes"], "duplicate"),
    (["Yes", 3], "choice 1"),
    (["Yes", ""], "empty string"),
    ("Yes", "list of str"),
])
def test_bad_choices(tiny_backend, choices, match):
    with pytest.raises(ValueError, match=match):
        tiny_backend.choice_probs(["hi"], choices)


@pytest.mark.parametrize("messages, match", [
    (3, "messages must be"),
    ([{"role": "user", "content": 3}], "content must be a str"),
    ([{"role": "robot", "content": "x"}], "role"),
    ([], "empty"),
    ([{"content": "x"}], "lacks"),
])
def test_bad_messages(tiny_backend, messages, match):
    with pytest.raises(ValueError, match=match):
        tiny_backend.complete(messages)


def test_bad_decoding_and_model_path(tiny_backend, tmp_path):
    with pytest.raises(ValueError, match="temperature"):
        tiny_backend.complete("hi", temperature=-1)
    with pytest.raises(ValueError, match="unknown decoding"):
        tiny_backend.complete("hi", temprature=0.5)
    with pytest.raises(ValueError, match="max_tokens"):
        tiny_backend.complete("hi", max_tokens=0)
    with pytest.raises(ValueError, match="unknown model path"):
        TransformersBackend(str(tmp_path / "no_such_model"), cache=False)
    with pytest.raises(ValueError, match="no config.json"):
        TransformersBackend(tmp_path, cache=False)
    with pytest.raises(ValueError, match="cache must be"):
        TransformersBackend(tmp_path, cache="yes")


def test_too_long_prompt_is_a_value_error(tiny_backend):
    with pytest.raises(ValueError, match="positions"):
        tiny_backend.choice_probs(["word " * 2000], ["Yes", "No"])


def test_choice_probs_pickles_with_attributes(tiny_backend):
    import pickle

    p = tiny_backend.choice_probs(PROMPTS[:2], ["Yes", "No"])
    q = pickle.loads(pickle.dumps(p))
    assert q.method == "logprobs" and q.choices == ("Yes", "No")
    np.testing.assert_array_equal(np.asarray(q), np.asarray(p))
    d = p.to_dict()
    assert d["method"] == "logprobs" and len(d["probs"]) == 2


def test_import_llmas_is_light():
    import subprocess
    import sys

    code = "import sys, llmas; llmas.ResponseCache; llmas.parse_json_reply; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cache_put_is_per_answer(tiny_backend):
    cache: ResponseCache = tiny_backend.cache
    tiny_backend.choice_probs(PROMPTS, ["Yes", "No"])
    assert len(cache) == len(PROMPTS)
    reqs = cache.requests("choice_logprobs")
    assert {r["model"] for r in reqs} == {tiny_backend.model}
    assert all(r["choices"] == ["Yes", "No"] for r in reqs)


@pytest.mark.parametrize("batch_size", [1, 2, 8])
def test_shared_prefix_and_nested_prompts_match_brute_force(tiny_model_dir, batch_size):
    # All prompts share the chat header and an instruction; one prompt is a prefix of another.
    texts = ["hi", "you are a fool and a liar", "hello there, how are you today", "x", ""]
    prompts = [f"Is this text insulting? Answer Yes or No. Text: {t}" for t in texts]
    prompts.append(prompts[1] + " and more")
    be = TransformersBackend(tiny_model_dir, cache=False, batch_size=batch_size)
    choices = ["Yes", "No", "Yes, definitely"]
    p = be.choice_probs(prompts, choices)
    brute = np.array([[brute_logprob(be, m, c)[0] for c in choices] for m in prompts])
    np.testing.assert_allclose(p.logprobs, brute, atol=2e-4)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_choice_trie_with_shared_multi_token_prefixes(tiny_model_dir, attn):
    be = TransformersBackend(tiny_model_dir, cache=False, batch_size=3, attn_implementation=attn)
    assert be.hf_model.config._attn_implementation == attn
    choices = ["Yes, definitely", "Yes, definitely not", "Yes", "No", "No way", "Maybe yes"]
    prompts = PROMPTS[:3] + ["Answer: "]
    p = be.choice_probs(prompts, choices)
    brute = np.array([[brute_logprob(be, m, c)[0] for c in choices] for m in prompts])
    np.testing.assert_allclose(p.logprobs, brute, atol=2e-4)


def test_property_batched_equals_brute_force(tiny_model_dir):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    be = TransformersBackend(tiny_model_dir, cache=False, batch_size=3)
    words = st.text(alphabet="abdeinorsty ,.?!'YN{}:\"", min_size=0, max_size=30)

    @settings(max_examples=15, deadline=None)
    @given(st.lists(words, min_size=1, max_size=5),
           st.lists(st.text(alphabet="YesNoMaybe ,.!", min_size=1, max_size=12), min_size=1, max_size=4,
                    unique=True))
    def check(prompts, choices):
        p = be.choice_probs(prompts, choices)
        brute = np.array([[brute_logprob(be, m, c)[0] for c in choices] for m in prompts])
        np.testing.assert_allclose(p.logprobs, brute, atol=5e-4)
        np.testing.assert_allclose(np.asarray(p).sum(1), 1.0, atol=1e-12)

    check()


# lazy model load (issue 11, item 6) --------------------------------------------------
def test_model_loads_on_the_first_cache_miss_only(tiny_model_dir, tmp_path, monkeypatch):
    cache = ResponseCache(tmp_path / "lazy.sqlite")
    first = TransformersBackend(tiny_model_dir, cache=cache)
    assert not first.loaded and first.load_seconds == 0.0
    p = first.choice_probs(PROMPTS[:2], ["Yes", "No"])
    text = first.complete(PROMPTS[0], max_tokens=4)
    assert first.loaded and first.load_seconds > 0

    def no_loading(self):
        raise AssertionError("the model was loaded for an answer that is in the cache")

    monkeypatch.setattr(TransformersBackend, "_load", no_loading)
    again = TransformersBackend(tiny_model_dir, cache=cache)
    np.testing.assert_array_equal(np.asarray(again.choice_probs(PROMPTS[:2], ["Yes", "No"])), np.asarray(p))
    assert again.complete(PROMPTS[0], max_tokens=4) == text
    assert (again.n_calls, again.n_cache_hits, again.loaded) == (0, 3, False)
    with pytest.raises(AssertionError, match="was loaded"):
        again.choice_probs(["a prompt never seen"], ["Yes", "No"])


def test_cached_rerun_never_imports_torch(tiny_model_dir, tmp_path):
    import subprocess
    import sys

    db = tmp_path / "rerun.sqlite"
    TransformersBackend(tiny_model_dir, cache=ResponseCache(db)).choice_probs(PROMPTS[:3], CHOICES)
    code = ("import sys; from llmas import TransformersBackend, ResponseCache; "
            f"be = TransformersBackend({str(tiny_model_dir)!r}, cache=ResponseCache({str(db)!r})); "
            f"p = be.choice_probs({PROMPTS[:3]!r}, {CHOICES!r}); "
            "print('torch' in sys.modules, be.loaded, be.n_calls, be.n_cache_hits)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "False", "0", "3"]


def test_cache_key_changes_when_the_weights_file_is_rewritten(tiny_model_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)  # copy2 keeps modification times
    cache = ResponseCache(tmp_path / "rev.sqlite")
    a = TransformersBackend(copy, cache=cache)
    a.choice_probs(PROMPTS[:1], ["Yes", "No"])
    assert TransformersBackend(copy, cache=cache)._key_extra() == a._key_extra()
    weights = next(copy.glob("*.safetensors"))
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # as a retraining would
    b = TransformersBackend(copy, cache=cache)
    assert b._key_extra()["revision"] != a._key_extra()["revision"]
    b.choice_probs(PROMPTS[:1], ["Yes", "No"])
    assert b.n_calls == 1 and b.n_cache_hits == 0


def test_default_backend_does_not_load_at_construction():
    import subprocess
    import sys

    code = ("import sys; from llmas import default_backend\n"
            "try:\n    be = default_backend(cache=False)\nexcept ValueError:\n    print('skip')\n"
            "else:\n    print('torch' in sys.modules, be.loaded)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    if out.stdout.strip() == "skip":
        pytest.skip("the default model's wheel is not installed")
    assert out.stdout.split() == ["False", "False"]
