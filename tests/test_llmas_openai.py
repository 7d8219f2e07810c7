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
