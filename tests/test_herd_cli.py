"""``llmsl herd`` / ``control`` / ``reproduce`` end to end (tiny random model, bundled data)."""
from __future__ import annotations

import json

import pytest

from llmsl.cli import main


def _herd(model_dir, cache, out, *extra):
    return main(["herd", "--model", str(model_dir), "--cache", str(cache), "--out", str(out), "--n-per-state", "2",
                 "--n-runs", "40", "--n-posterior", "10", "--n-priors", "3", "--quiet", *extra])


def test_herd_end_to_end_on_tiny_model_resumes_from_cache(tiny_model_dir, tmp_path):
    cache = tmp_path / "cache.sqlite"
    assert _herd(tiny_model_dir, cache, tmp_path / "r1") == 0
    d1 = json.loads((tmp_path / "r1" / "report.json").read_text())
    j1 = d1["results"]
    meta = j1["sensor"]["meta"]
    assert meta["mode"] == "logprobs" and meta["n_model_calls"] == 12 * 5  # 12 texts x 5 questions
    assert len(j1["likelihood"]["mean"]) == 6 and j1["sensor"]["n_parsed"] == 12 * 10
    assert d1["provenance"]["model_calls"] == 60 and d1["provenance"]["cache_hits"] == 0
    for f in d1["figures"]:
        assert (tmp_path / "r1" / f).is_file()
    # rerun: zero model calls, identical numbers
    assert _herd(tiny_model_dir, cache, tmp_path / "r2") == 0
    j2 = json.loads((tmp_path / "r2" / "report.json").read_text())["results"]
    assert j2["sensor"]["meta"]["n_model_calls"] == 0
    assert j2["likelihood"] == j1["likelihood"] and j2["herding_vs_prior"] == j1["herding_vs_prior"]


def test_herd_sample_mode_counts_unparsable_replies(tiny_model_dir, tmp_path, capsys):
    # a random-weight model writes no JSON: every reply is counted as a failure and the
    # command stops with a clear message instead of a traceback
    rc = _herd(tiny_model_dir, tmp_path / "c.sqlite", tmp_path / "r", "--mode", "sampling", "--max-tokens", "8")
    assert rc == 2
    assert "no parsed readings" in capsys.readouterr().err


def test_control_end_to_end_on_tiny_model(tiny_model_dir, tmp_path):
    rc = main(["control", "--model", str(tiny_model_dir), "--cache", str(tmp_path / "c.sqlite"),
               "--out", str(tmp_path / "rc"), "--n-per-state", "2", "--spsa-iter", "20", "--spsa-runs", "100",
               "--grid-size", "201", "--n-runs", "50", "--n-agents", "10", "--quiet"])
    assert rc == 0
    j = json.loads((tmp_path / "rc" / "report.json").read_text())["results"]
    assert len(j["likelihood"]["mean"]) == 2 and "stopping" in j and "incentives" in j


def test_herd_responses_file_and_bad_file(tmp_path, capsys):
    f = tmp_path / "l.csv"
    f.write_text("state,label\n" + "".join(f"{x},{(x + i) % 2}\n" for x in (0, 1) for i in range(10)))
    assert main(["herd", "--responses", str(f), "--labels", "binary", "--out", str(tmp_path / "o"),
                 "--n-runs", "30", "--n-posterior", "10", "--n-priors", "3", "--quiet"]) == 0
    assert (tmp_path / "o" / "report.md").is_file()
    assert main(["herd", "--responses", str(tmp_path / "missing.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and len(err.strip().splitlines()) == 1


def test_reproduce_bundled_fallback(tmp_path, monkeypatch):
    from llmsl.herd import reproduction as rp

    with pytest.raises(ValueError, match="mistral7b_responses.csv"):
        rp.find_mistral_data(tmp_path)
    monkeypatch.setattr(rp, "find_mistral_data", lambda data=None: None)
    rep = rp.reproduce(None, quick=True, progress=False)
    assert rep.results["source"]["kind"] == "bundled"
    assert rep.verdict.label == "reproduced_on_synthetic_data"
    rep.save(tmp_path / "rep")
    assert "say nothing about an LLM" in (tmp_path / "rep" / "report.md").read_text()
    for f in rep.figures:
        assert (tmp_path / "rep" / f).stat().st_size > 1000


def test_herd_product_quality_on_tiny_model(tiny_model_dir, tmp_path):
    rc = main(["herd", "--task", "product_quality", "--model", str(tiny_model_dir), "--cache",
               str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "o"), "--n-per-state", "1", "--n-runs", "30",
               "--n-posterior", "5", "--n-priors", "3", "--quiet"])
    assert rc == 0
    j = json.loads((tmp_path / "o" / "report.json").read_text())["results"]
    # one review per (star rating, quality) cell, three Yes/No questions each; 8 labels from three booleans
    assert (j["sensor"]["n_states"], j["sensor"]["n_obs"]) == (2, 8)
    assert j["sensor"]["meta"]["n_model_calls"] == 10 * 3
    assert abs(sum(map(sum, j["sensor"]["counts"])) - 10) < 1e-9  # expected counts: one unit per review


@pytest.mark.slow
def test_herd_on_default_model(tmp_path):
    rc = main(["herd", "--cache", str(tmp_path / "c.sqlite"), "--out", str(tmp_path / "o"), "--n-per-state", "2",
               "--n-runs", "100", "--n-posterior", "20", "--n-priors", "5", "--quiet"])
    assert rc == 0
    j = json.loads((tmp_path / "o" / "report.json").read_text())["results"]
    assert j["sensor"]["meta"]["choice_method"] == "logprobs"
    assert j["sensor"]["meta"]["n_model_calls"] == 12 * 5
    inf = j["informativeness"]
    assert 0 <= inf["estimate"]["mi_bits"] <= inf["entropy_bits"] + 1e-9
    assert "How informative" in (tmp_path / "o" / "report.md").read_text()
