"""OpenAIBackend against hostile or broken local servers (issue 12, items 2, 3 and 5).

Deadlines (a server trickling bytes, Retry-After of a day, a run deadline),
the response size cap, cache keys that cannot cross servers, one-line errors,
and the API key absent from every message, log record and the cache.
"""
from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from llmas import BackendError, OpenAIBackend, ResponseCache
from llmas.backends.factory import make_backend
from llmas.backends.openai import server_id
from llmas.testing import LocalServer, send_json

KEY = "sk-SECRET-0123456789abcdef"


def chat_reply(text: str, **extra) -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}], **extra}


def answer(tag: str):
    """A server answering every chat with ``tag`` and the last user message."""

    def respond(h, method, path, headers, body):
        if path.endswith("/chat/completions"):
            msg = json.loads(body)["messages"][-1]["content"]
            return send_json(h, 200, chat_reply(f"{tag}: {msg}"))
        return send_json(h, 404, {"error": "no such path"})

    return respond


def make(url, tmp_path, **kw):
    kw.setdefault("cache", ResponseCache(tmp_path / "c.sqlite"))
    kw.setdefault("backoff_base", 0.001)
    kw.setdefault("jitter_seed", 0)
    kw.setdefault("timeout", 5.0)
    kw.setdefault("api_key_env", "LLMSL_TEST_KEY")
    return OpenAIBackend("same-name", url, **kw)


# deadlines ---------------------------------------------------------------------------
def test_trickling_server_times_out_at_the_overall_deadline(tmp_path):
    def trickle(h, method, path, headers, body):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(20):  # one byte every 0.25 s: every read succeeds, the whole never arrives
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.25)

    with LocalServer(trickle) as srv:
        be = make(srv.url, tmp_path, timeout=1.0, max_retries=0)
        t0 = time.perf_counter()
        with pytest.raises(BackendError, match=r"after 1 attempt\(s\); last error: no complete reply within 1 s"):
            be.complete("hello")
        assert time.perf_counter() - t0 < 2.5
        assert be.n_failed == 1 and len(be.cache) == 0


def test_retry_after_is_capped(tmp_path):
    def busy_once(h, method, path, headers, body):
        if len(srv.requests) == 1:
            return send_json(h, 429, {"error": "slow down"}, [("Retry-After", "100000")])
        return answer("A")(h, method, path, headers, body)

    with LocalServer(busy_once) as srv:
        be = make(srv.url, tmp_path, retry_after_cap=0.3)
        t0 = time.perf_counter()
        assert be.complete("q") == "A: q"
        assert 0.25 <= time.perf_counter() - t0 < 3.0
        assert be.n_retries == 1 and be.retry_after_max == 0.3


def test_run_deadline_stops_the_run_and_keeps_answers(tmp_path):
    def slow(h, method, path, headers, body):
        time.sleep(0.3)
        return answer("A")(h, method, path, headers, body)

    with LocalServer(slow) as srv:
        be = make(srv.url, tmp_path, max_concurrency=1, run_deadline=1.0)
        t0 = time.perf_counter()
        with pytest.raises(BackendError, match="run deadline of 1 s passed"):
            be.complete_batch([f"q{i}" for i in range(20)])
        assert time.perf_counter() - t0 < 3.0
        kept = len(be.cache)
        assert 1 <= kept <= 4 and be.n_calls == kept  # every answer received is stored


# size cap ------------------------------------------------------------------------------
@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_reply_is_a_failure_never_stored(tmp_path, chunked):
    big = json.dumps(chat_reply("x" * 300_000)).encode()

    def huge(h, method, path, headers, body):
        if not chunked:
            return send_json(h, 200, big)
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(0, len(big), 8192):
            part = big[i:i + 8192]
            h.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    with LocalServer(huge) as srv:
        be = make(srv.url, tmp_path, max_response_bytes=100_000)
        with pytest.raises(BackendError, match="larger than max_response_bytes=100000"):
            be.complete("q")
        assert srv.count == 1 and be.n_failed == 1 and len(be.cache) == 0
        assert make(srv.url, tmp_path, max_response_bytes=1_000_000, cache=False).complete("q") == "x" * 300_000


def test_deeply_nested_reply_is_malformed_not_a_crash(tmp_path):
    def nested(h, method, path, headers, body):
        send_json(h, 200, b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    with LocalServer(nested) as srv:
        be = make(srv.url, tmp_path, max_retries=1)
        with pytest.raises(BackendError, match="malformed reply body"):
            be.complete("q")
        assert srv.count == 2


# cache keys ----------------------------------------------------------------------------
def test_two_servers_with_the_same_model_name_never_share_answers(tmp_path):
    cache = ResponseCache(tmp_path / "shared.sqlite")
    with LocalServer(answer("A")) as a, LocalServer(answer("B")) as b:
        prompts = [f"q{i}" for i in range(5)]
        be_a = make(a.url, tmp_path, cache=cache)
        be_b = make(b.url, tmp_path, cache=cache)
        assert be_a.complete_batch(prompts) == [f"A: {p}" for p in prompts]
        assert be_b.complete_batch(prompts) == [f"B: {p}" for p in prompts]
        assert (be_a.n_calls, be_a.n_cache_hits, be_b.n_calls, be_b.n_cache_hits) == (5, 0, 5, 0)
        # The same server under another spelling of its URL (credentials, slash, case) shares them.
        port = a.url.split(":")[2].split("/")[0]
        again = make(f"HTTP://user:pw@127.0.0.1:{port}/v1/", tmp_path, cache=cache, api_key_env=None)
        assert again.complete_batch(prompts) == [f"A: {p}" for p in prompts]
        assert again.n_calls == 0 and again.n_cache_hits == 5 and a.count == 5
        assert be_b.complete_batch(prompts) == [f"B: {p}" for p in prompts] and b.count == 5
    stored = cache.requests("complete")
    assert {r["server"] for r in stored} == {server_id(a.url), server_id(b.url)}
    assert not any("pw" in json.dumps(r) for r in stored)


def test_model_revision_auto_reads_stable_fields_of_the_models_route(tmp_path):
    meta = {"n_params": 135}

    def respond(h, method, path, headers, body):
        if path.endswith("/models"):
            return send_json(h, 200, {"data": [{"id": "same-name", "created": time.time(), "meta": dict(meta)}]})
        return answer("A")(h, method, path, headers, body)

    with LocalServer(respond) as srv:
        be = make(srv.url, tmp_path, model_revision="auto")
        be.complete("q")
        be2 = make(srv.url, tmp_path, model_revision="auto", cache=be.cache)
        be2.complete("q")  # "created" changed: still the same key
        assert be2.n_cache_hits == 1 and be2.n_calls == 0
        meta["n_params"] = 360  # another model behind the same URL and name
        be3 = make(srv.url, tmp_path, model_revision="auto", cache=be.cache)
        be3.complete("q")
        assert be3.n_calls == 1
        with pytest.raises(BackendError, match="does not list the model"):
            OpenAIBackend("other", srv.url, api_key_env=None, cache=be.cache, model_revision="auto").complete("q")


# errors and secrets ----------------------------------------------------------------------
def echo_headers(code: int):
    def respond(h, method, path, headers, body):
        if code == 200 and path.endswith("/chat/completions"):
            return send_json(h, 200, chat_reply("you sent " + json.dumps(headers)))
        return send_json(h, code, {"error": {"message": f"bad request, headers were {headers}"},
                                   "headers": headers}, [("Retry-After", "0")])

    return respond


def test_api_key_appears_in_no_message_log_or_cache(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("LLMSL_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG, logger="llmas")
    messages = []
    cache = ResponseCache(tmp_path / "secret.sqlite")
    for code in (500, 400, 401, 429):
        with LocalServer(echo_headers(code)) as srv:
            be = make(srv.url, tmp_path, cache=cache, max_retries=2)
            with pytest.raises(BackendError) as info:
                be.complete("q")
            exc = info.value
            assert srv.requests[0][2]["Authorization"] == f"Bearer {KEY}"  # the key was sent
            assert "\n" not in str(exc) and server_id(srv.url) in str(exc)
            messages += [str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__)]
            for choice_method in ("auto", "logprobs"):
                try:
                    be2 = make(srv.url, tmp_path, cache=cache, max_retries=1, choice_method=choice_method)
                    be2.choice_probs(["q"], ["Yes", "No"])
                except BackendError as e:
                    messages += [str(e), repr(e)]
    with LocalServer(echo_headers(200)) as srv:
        text = make(srv.url, tmp_path, cache=cache).complete("q")
        assert "Authorization" in text and "***" in text
    messages += [r.getMessage() for r in caplog.records]
    assert any("HTTP 500" in m for m in messages) and any("HTTP 400" in m for m in messages)
    assert not [m for m in messages if KEY in m or KEY[:12] in m]
    cache.close()
    for f in tmp_path.glob("secret.sqlite*"):
        assert KEY.encode() not in f.read_bytes()


def test_give_up_message_is_one_line_with_server_attempts_and_status(tmp_path):
    def down(h, method, path, headers, body):
        send_json(h, 503, b"<html>\nunavailable\n" + b"x" * 5000 + b"</html>")

    with LocalServer(down) as srv:
        be = make(srv.url.replace("http://", "http://admin:hunter2@") + "?api-key=qsecret", tmp_path,
                  max_retries=2, api_key_env=None)
        with pytest.raises(BackendError) as info:
            be.complete("q")
    msg = str(info.value)
    assert msg == f"POST {server_id(srv.url)}/chat/completions failed after 3 attempt(s); last error: HTTP 503"
    assert srv.requests[0][1].endswith("?api-key=qsecret")  # the query still reaches the server
    assert srv.requests[0][2]["Authorization"].startswith("Basic ")


def test_rejected_logprobs_route_names_the_servers_reason(tmp_path, caplog):
    def respond(h, method, path, headers, body):
        if path.endswith("/v1/completions"):
            return send_json(h, 400, {"error": {"message": "This model's maximum context length is 2048 tokens"}})
        k = json.loads(body).get("n", 1)
        return send_json(h, 200, {"choices": [{"index": i, "message": {"content": "Yes"}} for i in range(k)]})

    with LocalServer(respond) as srv:
        with pytest.raises(BackendError, match=r"/v1/completions rejected the echo log-probability request with "
                                               r"HTTP 400 \(This model's maximum context length is 2048 tokens\)"):
            make(srv.url, tmp_path, choice_method="logprobs").choice_probs(["q"], ["Yes", "No"])
        caplog.set_level(logging.WARNING, logger="llmas")
        p = make(srv.url, tmp_path, n_samples=4).choice_probs(["q"], ["Yes", "No"])
        assert p.method == "sampling"
        assert any("maximum context length" in r.getMessage() and "falling back to sampling" in r.getMessage()
                   for r in caplog.records)


def test_one_warning_for_a_key_over_plain_http_to_a_remote_host(monkeypatch, caplog):
    monkeypatch.setenv("LLMSL_TEST_KEY", KEY)
    caplog.set_level(logging.WARNING, logger="llmas")
    OpenAIBackend("m", "http://example.com/v1", api_key_env="LLMSL_TEST_KEY", cache=False)
    OpenAIBackend("m", "https://example.com/v1", api_key_env="LLMSL_TEST_KEY", cache=False)
    OpenAIBackend("m", "http://127.0.0.1:9/v1", api_key_env="LLMSL_TEST_KEY", cache=False)
    OpenAIBackend("m", "http://localhost:9/v1", api_key_env="LLMSL_TEST_KEY", cache=False)
    monkeypatch.delenv("LLMSL_TEST_KEY")
    OpenAIBackend("m", "http://example.com/v1", api_key_env="LLMSL_TEST_KEY", cache=False)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "plain http" in warned[0].getMessage() and KEY not in warned[0].getMessage()


def test_retries_and_cache_hits_are_logged(tmp_path, caplog):
    def flaky(h, method, path, headers, body):
        if len(srv.requests) == 1:
            return send_json(h, 500, {"error": "boom"})
        return answer("A")(h, method, path, headers, body)

    caplog.set_level(logging.INFO, logger="llmas")
    with LocalServer(flaky) as srv:
        be = make(srv.url, tmp_path)
        be.complete("q")
        be.complete("q")
    text = [r.getMessage() for r in caplog.records if r.name == "llmas"]
    assert any("HTTP 500; retry 1 of 5" in t for t in text)
    assert any("1 of 1 answer(s) read from the cache" in t for t in text)


# options -------------------------------------------------------------------------------
def test_factory_passes_http_limits():
    be = make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", cache=False, timeout=3.0,
                      max_retries=1, max_concurrency=7, retry_after_cap=2.0, max_response_bytes=1000,
                      run_deadline=60.0)
    assert (be.timeout, be.max_retries, be.max_concurrency, be.retry_after_cap, be.max_response_bytes,
            be.run_deadline) == (3.0, 1, 7, 2.0, 1000, 60.0)
    default = make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", cache=False, timeout=None)
    assert default.timeout == 60.0 and default.run_deadline is None
    with pytest.raises(ValueError, match="timeout"):
        make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", cache=False, timeout=0)
    with pytest.raises(ValueError, match="max_response_bytes"):
        make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", cache=False, max_response_bytes=0)
    with pytest.raises(ValueError, match="run_deadline"):
        make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", cache=False, run_deadline=-1)


def test_backend_is_usable_from_several_threads_and_after_close(tmp_path):
    with LocalServer(answer("A")) as srv:
        be = make(srv.url, tmp_path, cache=False)
        out: dict[int, list[str]] = {}

        def run(k: int) -> None:
            out[k] = be.complete_batch([f"t{k} q{i}" for i in range(10)])

        threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert out == {k: [f"A: t{k} q{i}" for i in range(10)] for k in range(3)}
        be.close()
        assert be.complete("again") == "A: again"
        be.close()


def test_describe_names_the_server_without_secrets(monkeypatch):
    monkeypatch.setenv("LLMSL_TEST_KEY", KEY)
    be = OpenAIBackend("m", "https://u:pw@Example.com:443/v1/?key=q", api_key_env="LLMSL_TEST_KEY", cache=False)
    d = be.describe()
    assert d["base_url"] == "https://example.com/v1" and d["backend"] == "openai" and d["n_calls"] == 0
    assert not any(s in json.dumps(d) for s in (KEY, "pw", "key=q")) and KEY not in repr(be)


def test_reply_without_logprobs_is_named_as_such(tmp_path):
    def respond(h, method, path, headers, body):
        prompts = json.loads(body)["prompt"]
        send_json(h, 200, {"choices": [{"index": i, "text": "x", "logprobs": None} for i in range(len(prompts))]})

    with LocalServer(respond) as srv, pytest.raises(BackendError, match="answered the echo request without log-prob"):
        make(srv.url, tmp_path, choice_method="logprobs").choice_probs(["q"], ["Yes", "No"])


def test_bad_base_url_message_holds_no_credentials():
    with pytest.raises(ValueError, match="base_url") as info:
        OpenAIBackend("m", "ftp://user:hunter2@host/v1?key=abc", cache=False)
    assert "hunter2" not in str(info.value) and "abc" not in str(info.value)
