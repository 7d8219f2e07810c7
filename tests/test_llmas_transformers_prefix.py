"""TransformersBackend choice scoring over a token trie with stored prefix keys/values (issue 15, item 5).

Every score must stay that of the unpadded sequence, whatever prefixes the
prompts of a call share, whatever earlier calls left in the prefix store, and
however small the store and the forward passes are: checked against one
forward pass per (prompt, choice) on tiny GPT-2 (absolute positions) and
Llama (rotary positions, grouped key/value heads) models.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import llmas.backends.transformers as tfb
from llmas import TransformersBackend
from llmas.backends.base import normalize_messages

TOL = 1e-5


@pytest.fixture(scope="module")
def tiny_llama_dir(tiny_model_dir, tmp_path_factory):
    """A 2-layer random Llama (RoPE, 4 query / 2 key-value heads) with the tiny model's tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny_llama")
    for f in tiny_model_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            shutil.copy(f, out / f.name)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=400, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      rope_theta=10000.0, tie_word_embeddings=False)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # larger weights than the default init: scores that depend on the context
        for p in model.parameters():
            p.mul_(3.0)
    model.save_pretrained(out)
    return out


@pytest.fixture(params=["gpt2", "llama"])
def model_dir(request, tiny_model_dir, tiny_llama_dir):
    return tiny_model_dir if request.param == "gpt2" else tiny_llama_dir


def brute(be, messages, choice):
    """log P(choice | prompt) from one forward pass over the unpadded prompt + choice."""
    text = be.render(normalize_messages(messages))
    pids = be._encode(text)
    cids = be.choice_tokens(text, pids, choice)
    with torch.inference_mode():
        lp = torch.log_softmax(be.hf_model(torch.tensor([pids + cids])).logits[0].double(), -1)
    return sum(lp[len(pids) - 1 + j, cids[j]].item() for j in range(len(cids)))


def one_at_a_time(model_dir, prompts, choices):
    """Each prompt scored alone, with an empty prefix store (nothing shared with any other prompt)."""
    be = TransformersBackend(model_dir, cache=False, num_threads=1)
    out = []
    for p in prompts:
        be.__dict__.pop("_prefix_store", None)
        out.append(be.choice_probs([p], choices).logprobs[0])
    return np.array(out)


def group_prompts():
    """Prompts in groups whose shared prefixes have different lengths (a short one, a long one, nested)."""
    short = "Hi."
    long = "You are one agent in a sequence of agents; all texts have the same true answer. " * 3
    out = []
    for g, head in enumerate([short, long, long + "Agent 1: yes. Agent 2: no.", "x"]):
        for tail in ["Your text: the cat sat.", "Your text: a fool and a liar!", "?", "Your text: the cat"]:
            out.append(f"{head} {tail} Decide {g}.")
    return out


def test_group_prefixes_of_different_lengths_match_one_prompt_at_a_time(model_dir):
    prompts = group_prompts()
    choices = ["Yes", "No", "Yes, definitely", "A"]
    be = TransformersBackend(model_dir, cache=False, num_threads=1)
    got = be.choice_probs(prompts, choices).logprobs
    alone = one_at_a_time(model_dir, prompts, choices)
    np.testing.assert_allclose(got, alone, atol=TOL, rtol=0)
    ref = np.array([[brute(be, p, c) for c in choices] for p in prompts])
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


def trie_nodes(be, prompts, choices):
    """The token sequences scoring needs the keys/values of: prompt prefixes, prompt + leading choice tokens."""
    nodes = set()
    for p in prompts:
        text = be.render(normalize_messages(p))
        pids = be._encode(text)
        for c in choices:
            seq = pids + be.choice_tokens(text, pids, c)[:-1]
            nodes.update(tuple(seq[:k]) for k in range(1, len(seq) + 1))
    return nodes


def test_each_trie_node_is_computed_once(tiny_model_dir):
    prompts = group_prompts()
    choices = ["Yes, definitely", "Yes", "No way"]
    be = TransformersBackend(tiny_model_dir, cache=False, num_threads=1)
    be.choice_probs(prompts, choices)
    assert be.n_tokens_computed == len(trie_nodes(be, prompts, choices))
    plain = sum(len(be._encode(be.render(normalize_messages(p)))) for p in prompts)
    assert be.n_tokens_computed < plain / 2  # the shared prefixes are computed once


def test_later_calls_reuse_stored_prefixes_exactly(model_dir):
    prompts = group_prompts()
    choices = ["Yes", "No", "Yes, definitely"]
    be = TransformersBackend(model_dir, cache=False, num_threads=1)
    first = be.choice_probs(prompts[::2], choices).logprobs
    n1 = be.n_tokens_computed
    second = be.choice_probs(prompts[1::2], choices).logprobs
    # the second call computes only the nodes the first one did not store
    before, now = trie_nodes(be, prompts[::2], choices), trie_nodes(be, prompts[1::2], choices)
    assert be.n_tokens_computed - n1 == len(now - before) < len(now) * 0.8
    n2 = be.n_tokens_computed
    again = be.choice_probs(prompts, choices).logprobs  # all stored: only the read-out nodes are recomputed
    assert be.n_tokens_computed - n2 < len(prompts) * len(choices) * 3
    alone = one_at_a_time(model_dir, prompts, choices)
    np.testing.assert_allclose(first, alone[::2], atol=TOL, rtol=0)
    np.testing.assert_allclose(second, alone[1::2], atol=TOL, rtol=0)
    np.testing.assert_allclose(again, alone, atol=TOL, rtol=0)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_tiny_forward_passes_and_a_full_store_keep_the_scores(tiny_llama_dir, monkeypatch, attn):
    # 16 tokens per forward pass and a store of 64 tokens: many passes, many evictions
    monkeypatch.setattr(tfb, "_ROW_TOKENS", 16)
    per_token = 2 * 2 * 2 * 8 * 4  # layers x (keys, values) x heads x head_dim x float32
    monkeypatch.setattr(tfb, "_KV_STORE_BYTES", 10 * per_token)
    be = TransformersBackend(tiny_llama_dir, cache=False, num_threads=1, attn_implementation=attn)
    prompts = group_prompts()[::2]
    choices = ["Yes, definitely", "Yes", "No way"]
    calls = [prompts[:3], prompts[3:6], prompts[2:], prompts[:2]]
    got = [be.choice_probs(p, choices).logprobs for p in calls]
    st = be._prefix_store
    assert st.max_slots == 4 * 16 and st.used <= st.capacity
    assert be.n_tokens_computed > 4 * st.max_slots  # the store was full many times
    alone = one_at_a_time(tiny_llama_dir, prompts, choices)
    for p, g in zip(calls, got, strict=True):
        np.testing.assert_allclose(g, alone[[prompts.index(q) for q in p]], atol=TOL, rtol=0)


def test_the_store_stays_closed_under_ancestors(tiny_model_dir, monkeypatch):
    monkeypatch.setattr(tfb, "_ROW_TOKENS", 10)
    monkeypatch.setattr(tfb, "_KV_STORE_BYTES", 1)  # the smallest store: 4 forward passes' worth
    be = TransformersBackend(tiny_model_dir, cache=False, num_threads=1)
    prompts = group_prompts()
    for k in range(0, len(prompts), 4):
        be.choice_probs(prompts[k:k + 6], ["Yes", "No"])
        st = be._prefix_store
        stored = [v for v in range(1, len(st.parent)) if st.slot[v] >= 0]
        assert all(st.parent[v] == 0 or st.slot[st.parent[v]] >= 0 for v in stored)
        assert sorted(st.slot[v] for v in stored) == list(range(st.used)) and st.used <= st.max_slots
        assert all(st.slot[st.slot_node[s]] == s for s in range(st.used))


def test_property_calls_in_sequence_equal_brute_force(tiny_llama_dir, monkeypatch):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    monkeypatch.setattr(tfb, "_ROW_TOKENS", 11)
    monkeypatch.setattr(tfb, "_KV_STORE_BYTES", 1)
    be = TransformersBackend(tiny_llama_dir, cache=False, num_threads=1)
    heads = ["", "Is this text insulting? ", "Is this text insulting? Answer Yes or No. "]
    words = st.text(alphabet="abdeinorsty ,.?!'YN", min_size=0, max_size=20)

    @settings(max_examples=12, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(heads), words), min_size=1, max_size=5),
           st.lists(st.text(alphabet="YesNo ,", min_size=1, max_size=8), min_size=1, max_size=3, unique=True))
    def check(parts, choices):
        prompts = [h + w for h, w in parts]
        p = be.choice_probs(prompts, choices)
        ref = np.array([[brute(be, m, c) for c in choices] for m in prompts])
        np.testing.assert_allclose(p.logprobs, ref, atol=TOL, rtol=0)

    check()
