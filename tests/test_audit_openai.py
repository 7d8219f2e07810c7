"""``llmsl audit`` against an OpenAI-compatible server (real HTTP on 127.0.0.1).

The server answers ``/v1/chat/completions`` with the replies of a planted
Shannon rational-inattention rater (some replies malformed), so the sampled
JSON path of the audit runs end to end over HTTP, through the cache.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmas.testing import LocalServer, chat_completion, send_json
from llmsl.audit import synthetic as syn
from llmsl.cli import main


@pytest.fixture
def planted_server():
    agent = syn.planted_rational(malformed=0.1)
    hits = {"n": 0}

    def respond(h, method, path, headers, body):
        if not path.endswith("/chat/completions"):
            return send_json(h, 404, {"error": "not found"})
        req = json.loads(body)
        hits["n"] += 1
        try:
            text = agent.complete(req["messages"], temperature=req.get("temperature", 1.0),
                                  top_p=req.get("top_p", 1.0), max_tokens=req.get("max_tokens", 256),
                                  seed=req.get("seed"))
        except ValueError:  # not a corpus prompt (the audit's log-probability probe)
            text = "No"
        send_json(h, 200, chat_completion([text] * req.get("n", 1)))

    with LocalServer(respond) as srv:
        yield srv.url, hits


def test_audit_over_openai_compatible_http(planted_server, tmp_path, monkeypatch):
    url, hits = planted_server
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["audit", "--task", "hate_speech", "--base-url", url, "--model", "planted", "--n", "2",
            "--samples", "3", "--n-boot", "10", "--power-n", "0", "--cache", str(tmp_path / "c.sqlite"), "--quiet"]
    assert main(args + ["--out", str(tmp_path / "r1")]) == 0
    rep = json.loads((tmp_path / "r1" / "report.json").read_text())
    n = 2 * 6 * 3 * 3
    assert rep["provenance"]["model"]["backend"] == "openai" and rep["results"]["mode"] == "sampling"
    # n replies plus the probe that found no echo log-probabilities (answered by sampling)
    assert rep["provenance"]["model_calls"] == n + 1 and hits["n"] == n + 1
    assert rep["results"]["parse"]["n_total"] == n and 0 < rep["results"]["parse"]["n_failed"] < 0.3 * n
    assert np.asarray(rep["results"]["counts"]).sum() == rep["results"]["parse"]["n_ok"]
    assert rep["results"]["parameters"]["decoding"]["top_p"] == 0.7
    assert rep["results"]["bootstrap"]["kind"].startswith("response bootstrap")
    # rerun: everything from the cache, nothing sent to the server
    assert main(args + ["--out", str(tmp_path / "r2")]) == 0
    rep2 = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert rep2["provenance"]["model_calls"] == 0 and hits["n"] == n + 1
    assert rep2["provenance"]["cache_hits"] == n + 1  # "model calls 0" explains itself
    assert rep2["results"] == rep["results"]
