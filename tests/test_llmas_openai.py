"""OpenAIBackend over real HTTP on 127.0.0.1 against a fake OpenAI-compatible server.

The server injects faults (429 with Retry-After, 500, timeouts, dropped
connections, malformed bodies), counts requests and in-flight concurrency, and
scores echoed text with a known per-character log-probability so that the
exact choice probabilities can be checked by hand.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from llmas import BackendError, OpenAIBackend, ResponseCache
from llmas.backends.openai import render_chatml
from llmas.testing import LocalServer, send_json

SAMPLE_REPLIES = ["Yes", "No", "Yes, sure", "I don't know"]


def char_logprob(ch: str) -> float:
    """The fake model's log-probability of one character (one token per character)."""
    return -0.1 * (ord(ch) % 7 + 1)


class FakeServer:
    def __init__(self):
        self.faults: deque[str] = deque()
        self.lock = threading.Lock()
        self.count = 0
        self.paths: list[str] = []
        self.auth: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.echo_logprobs = True
        self.honor_n = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n))
                with server.lock:
                    server.count += 1
                    server.paths.append(self.path)
                    server.auth.append(self.headers.get("Authorization"))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    fault = server.faults.popleft() if server.faults else None
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    self.serve(fault, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def send(self, code, payload, headers=()):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def serve(self, fault, body):
                if fault == "429":
                    return self.send(429, {"error": "rate limited"}, [("Retry-After", "0")])
                if fault == "429-wait":
                    return self.send(429, {"error": "rate limited"}, [("Retry-After", "1")])
                if fault == "500":
                    return self.send(500, {"error": "boom"})
                if fault == "401":
                    return self.send(401, {"error": "bad key"})
                if fault == "malformed":
                    return self.send(200, b'{"choices": [ {"mess')
                if fault == "wrong-shape":
                    return self.send(200, {"object": "nothing useful"})
                if fault == "timeout":
                    time.sleep(1.5)
                    return self.send(200, {"error": "too late"})
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if self.path.endswith("/chat/completions"):
                    last = body["messages"][-1]["content"]
                    if last.startswith("ANSWER:"):  # a completion request
                        text = f"reply to {last} t={body['temperature']} s={body.get('seed')}"
                        return self.send(200, {"choices": [{"index": 0, "message": {"role": "assistant",
                                                                                    "content": text}}]})
                    k = body.get("n", 1) if server.honor_n else 1
                    chs = [{"index": i, "message": {"role": "assistant", "content": SAMPLE_REPLIES[i % 4]}}
                           for i in range(k)]
                    return self.send(200, {"choices": chs})
                if self.path.endswith("/completions"):
                    if not server.echo_logprobs:
                        return self.send(400, {"error": "echo is not supported"})
                    chs = []
                    for i, text in enumerate(body["prompt"]):
                        toks = list(text) + ["<gen>"]
                        chs.append({"index": i, "text": text + "<gen>", "logprobs": {
                            "tokens": toks,
                            "token_logprobs": [None] + [char_logprob(c) for c in text[1:]] + [-0.5],
                            "text_offset": list(range(len(text))) + [len(text)]}})
                    return self.send(200, {"choices": chs})
                return self.send(404, {"error": "no such path"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


def make(server, tmp_path, **kw):
    kw.setdefault("cache", ResponseCache(tmp_path / "http_cache.sqlite"))
    kw.setdefault("backoff_base", 0.001)
    kw.setdefault("jitter_seed", 0)
    kw.setdefault("timeout", 5.0)
    return OpenAIBackend("fake-model", server.url, api_key_env="LLMSL_TEST_KEY", **kw)


def test_complete_and_cache(server, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMSL_TEST_KEY", "sk-test-123")
    be = make(server, tmp_path)
    out = be.complete_batch([f"ANSWER: q{i}" for i in range(5)], seed=7)
    assert out == [f"reply to ANSWER: q{i} t=0.0 s=7" for i in range(5)]
    assert be.n_calls == 5 and server.count == 5
    assert set(server.auth) == {"Bearer sk-test-123"}
    be2 = make(server, tmp_path, cache=be.cache)
    assert be2.complete_batch([f"ANSWER: q{i}" for i in range(5)], seed=7) == out
    assert be2.n_calls == 0 and server.count == 5


def test_no_key_sends_no_authorization(server, tmp_path, monkeypatch):
    monkeypatch.delenv("LLMSL_TEST_KEY", raising=False)
    make(server, tmp_path).complete("ANSWER: x")
    assert server.auth == [None]


@pytest.mark.parametrize("fault", ["429", "500", "malformed", "wrong-shape", "drop", "timeout"])
def test_retries_each_fault_then_succeeds(server, tmp_path, fault):
    server.faults.extend([fault, fault])
    be = make(server, tmp_path, timeout=0.5)
    assert be.complete("ANSWER: q") == "reply to ANSWER: q t=0.0 s=None"
    assert server.count == 3 and be.n_retries == 2 and be.n_calls == 1


def test_retry_after_is_honoured(server, tmp_path):
    server.faults.append("429-wait")
    be = make(server, tmp_path, backoff_base=0.0)
    t0 = time.perf_counter()
    be.complete("ANSWER: q")
    assert time.perf_counter() - t0 >= 0.95
    assert server.count == 2


def test_clear_error_after_last_retry(server, tmp_path):
    server.faults.extend(["500"] * 10)
    be = make(server, tmp_path, max_retries=2)
    with pytest.raises(BackendError, match=r"after 3 attempt\(s\); last error: HTTP 500"):
        be.complete("ANSWER: q")
    assert server.count == 3 and be.n_calls == 0 and len(be.cache) == 0


def test_client_errors_are_not_retried(server, tmp_path):
    server.faults.append("401")
    be = make(server, tmp_path)
    with pytest.raises(BackendError, match=r"HTTP 401.*LLMSL_TEST_KEY"):
        be.complete("ANSWER: q")
    assert server.count == 1


def test_backoff_is_full_jitter_within_bounds(server, tmp_path):
    be = make(server, tmp_path, backoff_base=0.5, backoff_max=3.0)
    d = np.array([[be._delay(a, None) for _ in range(200)] for a in range(5)])
    caps = np.minimum(3.0, 0.5 * 2.0 ** np.arange(5))
    assert np.all(d >= 0) and np.all(d <= caps[:, None])
    assert np.all(d.max(axis=1) > 0.8 * caps)  # spread over the whole interval
    assert be._delay(0, "2") == 2.0
    assert be._delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


def test_concurrency_limit(server, tmp_path):
    server.delay = 0.1
    be = make(server, tmp_path, max_concurrency=3)
    be.complete_batch([f"ANSWER: {i}" for i in range(12)])
    assert 2 <= server.max_in_flight <= 3


def test_choice_probs_from_echo_logprobs_is_exact(server, tmp_path):
    be = make(server, tmp_path)
    prompts = ["Is this insulting?", [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]]
    choices = ["Yes", "No", "Yes, definitely"]
    p = be.choice_probs(prompts, choices)
    assert p.method == "logprobs" and be.last_choice_method == "logprobs" and be.supports_logprobs
    expected = np.array([[sum(char_logprob(ch) for ch in c) for c in choices]] * 2)
    np.testing.assert_allclose(p.logprobs, expected, atol=1e-12)
    w = np.exp(expected - expected.max(1, keepdims=True))
    np.testing.assert_allclose(np.asarray(p), w / w.sum(1, keepdims=True), atol=1e-12)
    assert server.count == 2 and set(server.paths) == {"/v1/completions"}
    assert render_chatml([{"role": "user", "content": "Hi"}]) == \
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_choice_probs_falls_back_to_sampling(server, tmp_path):
    server.echo_logprobs = False
    be = make(server, tmp_path, n_samples=10)
    p = be.choice_probs(["Q1", "Q2"], ["Yes", "No"])
    assert p.method == "sampling" and p.n_samples == 10 and not be.supports_logprobs
    # Replies i = 0..9 cycle through SAMPLE_REPLIES: Yes x3 + "Yes, sure" x2, No x3, unmatched x2.
    np.testing.assert_array_equal(p.counts, [[5, 3], [5, 3]])
    np.testing.assert_array_equal(p.n_unmatched, [2, 2])
    np.testing.assert_allclose(np.asarray(p), [[5 / 8, 3 / 8]] * 2)
    n = server.count
    assert make(server, tmp_path, cache=be.cache, n_samples=10, choice_method="sampling").choice_probs(
        ["Q1", "Q2"], ["Yes", "No"]).method == "sampling"
    assert server.count == n  # replayed from the cache


def test_sampling_tops_up_when_server_ignores_n(server, tmp_path):
    server.honor_n = False
    be = make(server, tmp_path, n_samples=4, choice_method="sampling")
    p = be.choice_probs(["Q"], ["Yes", "No"])
    assert server.count == 4 and p.n_samples == 4
    np.testing.assert_array_equal(p.counts, [[4, 0]])


def test_logprobs_forced_but_unsupported(server, tmp_path):
    server.echo_logprobs = False
    with pytest.raises(BackendError, match="no echo log-probabilities"):
        make(server, tmp_path, choice_method="logprobs").choice_probs(["Q"], ["Yes", "No"])


def test_bad_constructor_arguments(tmp_path):
    with pytest.raises(ValueError, match="base_url"):
        OpenAIBackend("m", "localhost:8000", cache=False)
    with pytest.raises(ValueError, match="max_concurrency"):
        OpenAIBackend("m", "http://x/v1", cache=False, max_concurrency=0)
    with pytest.raises(ValueError, match="choice_method"):
        OpenAIBackend("m", "http://x/v1", cache=False, choice_method="guess")
    with pytest.raises(ValueError, match="model"):
        OpenAIBackend("", "http://x/v1", cache=False)


RESUME_SCRIPT = textwrap.dedent("""
    import sys
    from llmas import OpenAIBackend, ResponseCache
    be = OpenAIBackend("fake-model", sys.argv[1], api_key_env=None, max_concurrency=2,
                       cache=ResponseCache(sys.argv[2]))
    be.complete_batch([f"ANSWER: item {i}" for i in range(40)])
    print("finished")
""")


def test_kill_and_resume(server, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(RESUME_SCRIPT)
    db = tmp_path / "resume.sqlite"
    server.delay = 0.05
    proc = subprocess.Popen([sys.executable, str(script), server.url, str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while server.count < 15 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    done = len(ResponseCache(db))
    assert 10 <= done < 40
    served = server.count
    server.delay = 0.0
    be = OpenAIBackend("fake-model", server.url, api_key_env=None, cache=ResponseCache(db))
    out = be.complete_batch([f"ANSWER: item {i}" for i in range(40)])
    assert out == [f"reply to ANSWER: item {i} t=0.0 s=None" for i in range(40)]
    # Only the missing answers were requested again.
    assert be.n_calls == 40 - done
    assert server.count - served == 40 - done
    assert len(ResponseCache(db)) == 40


# llama.cpp-like servers (one prompt per request, offsets without special tokens) ------------------------
SPECIALS = ("<|im_start|>", "<|im_end|>")
GEN_LOGPROB = -0.5
END_LOGPROB = -0.05  # of an echoed <|im_end|> (it echoes as "")


def fake_tokens(text: str) -> list[str]:
    """The fake tokenizer: one token per special token, else one per character."""
    out, i = [], 0
    while i < len(text):
        sp = next((s for s in SPECIALS if text.startswith(s, i)), None)
        out.append(sp or text[i])
        i += len(sp) if sp else 1
    return out


def llama_like(*, usage: bool = True, garble: bool = False, lists: bool = False):
    """A LocalServer responder that echoes like llama-cpp-python 0.3.36's server.

    One prompt per request (a list of several is an HTTP 500 with an empty message, unless
    ``lists``); the leading <|im_start|> (BOS) and every later one are not echoed, <|im_end|>
    echoes as ""; ``text_offset`` counts characters of the echoed (special-free) text.
    ``garble``: a non-ASCII character echoes as U+FFFD (a byte piece); its log-probability
    is still that of the character.  ``usage``: report prompt_tokens / completion_tokens.
    """

    def echo(text):
        toks = fake_tokens(text)
        shown, lps = [], []
        for t in toks:
            if t == "<|im_start|>":
                continue
            shown.append("" if t == "<|im_end|>" else ("\ufffd" if garble and ord(t) > 127 else t))
            lps.append(END_LOGPROB if t == "<|im_end|>" else char_logprob(t))
        lps[0] = None
        shown.append("!")
        lps.append(GEN_LOGPROB)
        offs = [sum(len(s) for s in shown[:i]) for i in range(len(shown))]
        return {"text": text + "!", "index": 0, "logprobs": {"tokens": shown, "token_logprobs": lps,
                                                             "text_offset": offs}}, len(toks)

    def respond(h, method, path, headers, body):
        req = json.loads(body)
        if path.endswith("/chat/completions"):
            k = req.get("n", 1)
            return send_json(h, 200, {"choices": [{"index": i, "message": {"content": "Oui"}} for i in range(k)]})
        prompt = req["prompt"]
        if isinstance(prompt, list) and len(prompt) > 1 and not lists:
            return send_json(h, 500, b"")
        texts = prompt if isinstance(prompt, list) else [prompt]
        answers = [echo(t) for t in texts]
        out = {"choices": [dict(a, index=i) for i, (a, _) in enumerate(answers)]}
        if usage:
            out["usage"] = {"prompt_tokens": sum(n for _, n in answers), "completion_tokens": len(texts)}
        send_json(h, 200, out)

    return respond


def completions_prompts(srv):
    return [json.loads(b)["prompt"] for _, p, _, b in srv.requests if p.endswith("/v1/completions")]


LLAMA_PROMPTS = ["Is this insulting?", [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                 "Is this insulting?"]


def expected_logprobs(choices, n_prompts=2):
    return np.array([[sum(char_logprob(ch) for ch in c) for c in choices]] * n_prompts)


def test_llama_like_server_one_prompt_per_request_exact(tmp_path):
    """The list is refused once (no retry), then one prompt per request; rule 2 locates the choice."""
    choices = ["Yes", "No", "Yes, definitely"]
    with LocalServer(llama_like()) as srv:
        be = make(srv, tmp_path, max_concurrency=4)
        p = be.choice_probs(LLAMA_PROMPTS[:2], choices)
        assert p.method == "logprobs" and be.choice_fallback_reason is None
        np.testing.assert_allclose(p.logprobs, expected_logprobs(choices), atol=1e-12)
        sent = completions_prompts(srv)
        assert isinstance(sent[0], list) and len(sent[0]) == 3  # the refused list, not retried
        assert all(isinstance(s, str) for s in sent[1:]) and len(sent) == 1 + 2 * 3
        # The backend remembers: later prompts go one per request at once; a rerun is cached.
        p2 = be.choice_probs(["Another question?"], choices)
        assert all(isinstance(s, str) for s in completions_prompts(srv)[7:]) and srv.count == 7 + 3
        np.testing.assert_allclose(p2.logprobs, expected_logprobs(choices, 1), atol=1e-12)
        n = srv.count
        be2 = make(srv, tmp_path, cache=be.cache)
        assert be2.choice_probs(LLAMA_PROMPTS[:2], choices).method == "logprobs" and srv.count == n


def test_llama_like_and_list_server_share_cache_keys_and_values(tmp_path):
    """How the answer was fetched is not in the key: the same URL gives the same keys and values."""
    choices = ["Yes", "No"]
    state = {"lists": True}

    def respond(*a):
        return llama_like(lists=state["lists"])(*a)

    with LocalServer(respond) as srv:
        be = make(srv, tmp_path)
        p_list = be.choice_probs(LLAMA_PROMPTS, choices)
        # Lists are taken; offsets without special tokens send each choice again alone (rules 2 and 3).
        assert be._echo_list is True and [type(s) for s in completions_prompts(srv)] == [list, str, str] * 2
        state["lists"] = False
        n = srv.count
        be2 = make(srv, tmp_path, cache=be.cache)
        assert be2.choice_probs(LLAMA_PROMPTS, choices).method == "logprobs" and srv.count == n  # same keys
        p_one = make(srv, tmp_path, cache=False).choice_probs(LLAMA_PROMPTS, choices)
        assert srv.count == n + 1 + 2 * 2  # the refused list, then 2 distinct prompts x 2 choices
    np.testing.assert_allclose(p_list.logprobs, p_one.logprobs, atol=1e-12)
    np.testing.assert_allclose(p_one.logprobs, expected_logprobs(choices, 3), atol=1e-12)


def test_garbled_token_texts_use_the_token_counts_of_a_prefix_echo(tmp_path):
    """Rule 3: token texts that do not spell the text; one extra echo per distinct prefix."""
    choices = ["Oui, très", "Non"]
    with LocalServer(llama_like(garble=True)) as srv:
        be = make(srv, tmp_path, max_concurrency=3)
        p = be.choice_probs(LLAMA_PROMPTS, choices)
        sent = completions_prompts(srv)
    assert p.method == "logprobs"
    np.testing.assert_allclose(p.logprobs, expected_logprobs(choices, 3), atol=1e-12)
    prefixes = {render_chatml([{"role": "user", "content": "Is this insulting?"}]),
                render_chatml(LLAMA_PROMPTS[1])}
    # "Non" is found from its token texts; "Oui, très" needs its prefix echoed, once per prefix.
    assert sorted(s for s in sent if isinstance(s, str) and s in prefixes) == sorted(prefixes)
    assert len(sent) == 1 + 2 * 2 + 2


@pytest.mark.parametrize("choice_method", ["auto", "logprobs"])
def test_no_rule_applies_falls_back_with_the_reason(tmp_path, choice_method, caplog):
    """Without usage counts and with garbled token texts nothing locates the choice: no number is guessed."""
    import logging

    caplog.set_level(logging.WARNING, logger="llmas")
    with LocalServer(llama_like(garble=True, usage=False)) as srv:
        be = make(srv, tmp_path, choice_method=choice_method, n_samples=3)
        if choice_method == "logprobs":
            with pytest.raises(BackendError, match="no rule finds the choice 'très'"):
                be.choice_probs(["Q"], ["très", "Oui"])
            return
        p = be.choice_probs(["Q"], ["très", "Oui"])
    assert p.method == "sampling" and not be.supports_logprobs and p.counts.tolist() == [[0, 3]]
    assert "no rule finds the choice 'très'" in be.choice_fallback_reason
    assert be.describe()["choice_fallback_reason"] == be.choice_fallback_reason
    assert any("no rule finds" in r.getMessage() and "falling back to sampling" in r.getMessage()
               for r in caplog.records)


def test_echo_rules_on_hand_made_echoes():
    """The three rules accept only what they can prove, e.g. a token across the boundary or a merge."""
    from llmas.backends.openai import _Echo

    text = "Q: a Yes"
    # Rule 1: offsets that tile the text; the token " Yes" crosses no boundary ("Q: a" + " Yes").
    e = _Echo(["Q", ":", " a", " Yes", "!"], [None, -1.0, -2.0, -3.0, -9.0], [0, 1, 2, 4, 8], 1, 4)
    assert e.by_offsets(text, 4) == -3.0 and e.from_end(text, " Yes") == -3.0
    # A token across the boundary counts in rules 1 and 2 (choice "es" after "Q: a Y").
    assert e.by_offsets(text, 6) == -3.0 and e.from_end(text, "es") == -3.0
    # Offsets of another text (special tokens skipped): rule 1 refuses, rule 2 still works.
    shifted = _Echo(["Q", ":", " a", " Yes", "!"], [None, -1.0, -2.0, -3.0, -9.0], [0, 0, 1, 3, 7], 1, 4)
    assert shifted.by_offsets(text, 4) is None and shifted.from_end(text, " Yes") == -3.0
    # Rule 2 needs the generated-token count, and token texts that end the text.
    assert _Echo(e.tokens, e.lps, None, None, None).from_end(text, " Yes") is None
    assert _Echo(["Q", ":", " a", " Y\ufffd", "!"], e.lps, None, 1, 4).from_end(text, " Yes") is None
    # Rule 3: prefix "Q: a" echoed as 3 tokens; prefix + " Yes" as 4 (usage 4 - 3 = 1 token).
    prefix = _Echo(["Q", ":", " a", "!"], [None, -1.0, -2.0, -9.0], None, 1, 3)
    assert e.by_count(prefix) == -3.0
    # A tokenizer that merged across the boundary ("Q: aY" + "es"): token texts differ, refused.
    merged = _Echo(["Q", ":", " aY", "es", "!"], [None, -1.0, -2.5, -3.0, -9.0], None, 1, 4)
    assert merged.by_count(_Echo(["Q", ":", " a", "!"], prefix.lps, None, 1, 3)) is None
    # Counts that disagree with the echoed tokens, or a null log-probability inside: refused.
    assert _Echo(e.tokens, e.lps, None, 1, 5).by_count(prefix) is None
    assert _Echo(e.tokens, [None, -1.0, -2.0, None, -9.0], e.offsets, 1, 4).by_offsets(text, 4) is None
