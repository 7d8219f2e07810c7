"""ResponseCache: keys, durability, concurrent writers (threads and processes)."""
from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading

import pytest

from llmas import ResponseCache
from llmas.cache import canonical_json, default_cache_dir, request_key


def test_key_is_sha256_of_canonical_json():
    import hashlib

    req = {"op": "complete", "model": "m", "messages": [{"role": "user", "content": "é"}], "seed": 1}
    assert request_key(req) == hashlib.sha256(canonical_json(req).encode()).hexdigest()
    assert request_key(req) == request_key(dict(reversed(list(req.items()))))
    assert request_key(req) != request_key({**req, "seed": 2})
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    with pytest.raises(ValueError, match="JSON-serializable"):
        request_key({"x": object()})
    with pytest.raises(ValueError, match="JSON-serializable"):
        request_key({"x": float("nan")})


def test_put_get_roundtrip_and_stats(tmp_path):
    c = ResponseCache(tmp_path / "c.sqlite")
    k = c.key({"a": 1})
    assert c.get(k) is None and k not in c
    c.put(k, {"logprobs": [-1.5, -0.25]}, request={"op": "choice_logprobs", "a": 1})
    assert c.get(k) == {"logprobs": [-1.5, -0.25]} and k in c and len(c) == 1
    assert c.get_many([k, "missing", k]) == {k: {"logprobs": [-1.5, -0.25]}}
    s = c.stats()
    assert s["entries"] == 1 and s["hits"] == 2 and s["misses"] == 2
    assert c.requests("choice_logprobs") == [{"op": "choice_logprobs", "a": 1}]
    # WAL mode is on.
    assert sqlite3.connect(c.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_committed_answers_survive_without_close(tmp_path):
    c = ResponseCache(tmp_path / "c.sqlite")
    for i in range(50):
        c.put(c.key({"i": i}), f"answer {i}")
    # A second, independent connection sees every answer at once (autocommit).
    other = sqlite3.connect(tmp_path / "c.sqlite")
    assert other.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 50


def test_default_path_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSL_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    assert ResponseCache().path == (tmp_path / "x" / "responses.sqlite").resolve()
    monkeypatch.delenv("LLMSL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "llmsl"


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="memory"):
        ResponseCache(":memory:")
    with pytest.raises(ValueError, match="directory"):
        ResponseCache(tmp_path)


def test_concurrent_thread_writers(tmp_path):
    c = ResponseCache(tmp_path / "c.sqlite")

    def writer(t):
        for i in range(100):
            c.put(c.key({"t": t, "i": i}), [t, i])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(c) == 600
    assert c.get(c.key({"t": 5, "i": 99})) == [5, 99]


def _proc_writer(path, p, n):
    c = ResponseCache(path, timeout=60)
    for i in range(n):
        c.put(c.key({"p": p, "i": i}), {"p": p, "i": i})


def test_concurrent_process_writers(tmp_path):
    path = tmp_path / "c.sqlite"
    ResponseCache(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_proc_writer, args=(path, p, 150)) for p in range(4)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join(120)
        assert pr.exitcode == 0
    c = ResponseCache(path)
    assert len(c) == 600
    assert all(c.get(c.key({"p": p, "i": 149})) == {"p": p, "i": 149} for p in range(4))


def test_pickled_cache_reopens(tmp_path):
    import pickle

    c = ResponseCache(tmp_path / "c.sqlite")
    c.put("k", "v")
    d = pickle.loads(pickle.dumps(c))
    assert d.get("k") == "v" and d.path == c.path


def test_undecodable_entries_are_misses_not_crashes(tmp_path, caplog):
    c = ResponseCache(tmp_path / "poison.sqlite")
    good, bad, deep = c.key({"a": 1}), c.key({"a": 2}), c.key({"a": 3})
    c.put(good, "fine")
    # Entries written by something else: not JSON, and JSON nested far deeper than the decoder's recursion.
    with sqlite3.connect(c.path) as db:
        db.execute("INSERT INTO responses (key, value, created) VALUES (?, ?, 0)", (bad, "{not json"))
        db.execute("INSERT INTO responses (key, value, created) VALUES (?, ?, 0)",
                   (deep, "[" * 100_000 + "]" * 100_000))
    assert c.get_many([good, bad, deep]) == {good: "fine"}
    assert c.get(bad, "default") == "default" and c.get(deep) is None
    assert any("does not decode" in r.getMessage() for r in caplog.records)
    c.put(bad, "recomputed")
    assert c.get(bad) == "recomputed"


def test_backend_counts_calls_and_cache_hits(tmp_path):
    from llmas.backends.base import Backend

    class Echo(Backend):
        name = "echo"

        def _complete_missing(self, requests, store):
            for i, r in enumerate(requests):
                store(i, r["messages"][-1]["content"].upper())

        def _choice_missing(self, requests, store):  # pragma: no cover - not used here
            raise AssertionError

    cache = ResponseCache(tmp_path / "counts.sqlite")
    be = Echo("m", cache=cache)
    assert be.complete_batch(["a", "b", "a"]) == ["A", "B", "A"]
    assert (be.n_calls, be.n_cache_hits) == (2, 1)  # the repeated prompt is answered once
    assert be.complete_batch(["a", "b", "c"]) == ["A", "B", "C"]
    assert (be.n_calls, be.n_cache_hits) == (3, 3)
    assert be.n_calls + be.n_cache_hits == 6
