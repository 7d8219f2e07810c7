"""End-to-end audits: planted agents with known rationality, the tiny model, reports."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmas.backends.base import Backend
from llmas.corpora import load_hate_speech
from llmsl.audit import audit
from llmsl.audit import synthetic as syn
from llmsl.report import Report


# ---------------------------------------------------------------- planted agents (exact)
def test_blahut_arimoto_is_a_fixed_point():
    r = syn.hate_speech_utilities()[1]
    pi = np.full(6, 1 / 6)
    k = syn.blahut_arimoto(r, pi, 0.7)
    pa = pi @ k
    w = pa * np.exp(r / 0.7)
    assert np.allclose(k, w / w.sum(axis=1, keepdims=True), atol=1e-9)


def test_planted_rational_agent_passes_with_exact_kernels():
    rep = audit("hate_speech", syn.planted_rational(), n=2, n_boot=10, progress=False, power_n=0)
    # the exact path recovers the planted kernels to machine precision
    assert np.allclose(rep.results["kernels"], syn.shannon_kernels(), atol=1e-9)
    assert rep.results["mode"] == "logprobs" and rep.results["exact"]
    assert rep.provenance.model_calls == 2 * 6 * 3 * 5
    assert rep.results["passed"] and rep.results["margin"] > 1e-4
    assert rep.verdict.label == "consistent"
    assert rep.results["niac_tested"]
    assert rep.results["bootstrap"]["fraction_passed"] == 1.0
    assert all(e["mutual_information_bits"] > 1.0 for e in rep.results["informativeness"])


def test_planted_irrational_agent_fails():
    rep = audit("hate_speech", syn.planted_irrational(), n=2, n_boot=10, progress=False, power_n=0)
    assert np.allclose(rep.results["kernels"], syn.split_kernels(syn.shannon_kernels()), atol=1e-9)
    assert not rep.results["passed"]
    assert rep.results["margin"] <= 1e-6
    assert rep.verdict.label == "inconsistent"          # informative, so a violation, not a lack of power


def test_uninformative_agent_is_reported_as_such():
    # same action distribution whatever the state, but spread over several actions:
    # every action reveals the prior, so the margin is 0 -- that is no information, not irrationality
    k = np.tile(np.array([0.4, 0.3, 0.1, 0.1, 0.05, 0.05]), (3, 6, 1))
    agent = syn.PlantedAgent(k, syn.hate_speech_locator(), label="flat")
    rep = audit("hate_speech", agent, n=2, n_boot=0, progress=False, power_n=0)
    assert not rep.results["passed"]
    assert rep.verdict.label == "uninformative"
    assert "not evidence of irrationality" in rep.results["verdict_text"]
    assert max(e["mutual_information_bits"] for e in rep.results["informativeness"]) < 1e-9


def test_consistent_uninformative_text_states_the_real_reason():
    """Sampled answers: I(X;A) = 0.125 bits (above the cut) but 10 replies give a G-test p = 0.19.
    The verdict is consistent_uninformative and its text must not claim I(X;A) < 0.05 bits."""
    from llmsl.audit.analysis import UNINFORMATIVE_BITS, ribum_analysis

    c = np.array([[[4.0, 1.0], [2.0, 3.0]]])
    out = ribum_analysis(c / c.sum(axis=2, keepdims=True), [0.5, 0.5], c, exact=False, n_boot=0,
                         n_info_samples=200, env_names=["neutral"])
    e = out["informativeness"][0]
    assert out["verdict"] == "consistent_uninformative" and out["passed"]
    assert e["mutual_information_bits"] > UNINFORMATIVE_BITS and e["informativeness"]["p_value"] > 0.05
    assert f"< {UNINFORMATIVE_BITS} bits in every" not in out["verdict_text"]
    assert f"neutral: I={e['mutual_information_bits']:.3g} bits, p={e['informativeness']['p_value']:.3g}" \
        in out["verdict_text"]


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), lam=st.floats(0.05, 0.3))
def test_property_any_shannon_agent_passes_its_split_fails(seed, lam):
    rng = np.random.default_rng(seed)
    k = syn.shannon_kernels(rng.uniform(0, 1, (3, 6, 6)), lam=lam)
    loc = syn.hate_speech_locator()
    rep = audit("hate_speech", syn.PlantedAgent(k, loc), n=1, n_boot=0, power_n=0, progress=False)
    assert rep.results["passed"], rep.results["margin"]
    a, b = np.argsort(-k[0].mean(axis=0))[:2]
    bad = audit("hate_speech", syn.PlantedAgent(syn.split_kernels(k, a, b), loc), n=1, n_boot=0, power_n=0,
                progress=False)
    assert not bad.results["passed"] and bad.results["margin"] <= 1e-6


# ---------------------------------------------------------------- planted agents (sampled)
def test_sampled_replies_malformed_ones_counted_not_fatal():
    agent = syn.planted_rational(malformed=0.25)
    rep = audit("hate_speech", agent, n=3, mode="sampling", n_samples=4, n_boot=20, progress=False, power_n=0)
    total = 3 * 6 * 3 * 4
    assert rep.results["parse"]["n_total"] == total
    assert 0.1 * total < rep.results["parse"]["n_failed"] < 0.4 * total
    assert rep.results["parse"]["n_ok"] + rep.results["parse"]["n_failed"] == total
    assert all(f["raw"].startswith("I am not able") for f in rep.results["parse"]["failures"])
    assert np.asarray(rep.results["counts"]).sum() == rep.results["parse"]["n_ok"]
    assert rep.results["bootstrap"]["kind"].startswith("response bootstrap")
    assert len(rep.results["bootstrap"]["margins"]) == 20
    assert rep.results["mode"] == "sampling" and not rep.results["exact"]


# ---------------------------------------------------------------- budget
def test_budget_planted_cobb_douglas_passes_and_random_fails():
    good = audit("budget", syn.PlantedBudgetAgent("rational"), n=1, n_sim=50, progress=False, power_n=0)
    r = good.results
    assert r["garp_pass_rate"] == 1.0 and r["ccei"] == [1.0] * 4
    assert all("U" in s["afriat"] for s in r["subjects"])
    # constant share per subject (Cobb-Douglas), the share a persona-specific number in [0.2, 0.8]
    shares = np.asarray(r["shares"])
    assert np.allclose(shares, shares[:, :1], atol=1e-12) and ((shares > 0.19) & (shares < 0.81)).all()
    bad = audit("budget", syn.PlantedBudgetAgent("random"), n=2, n_sim=50, progress=False, power_n=0)
    assert bad.results["garp_pass_rate"] < 0.5
    assert bad.results["ccei_median"] < 1.0
    assert bad.results["bronars_power_mean"] > 0.5


def test_budget_sampled_json_replies():
    rep = audit("budget", syn.PlantedBudgetAgent("rational"), n=1, mode="sampling", n_samples=2, n_sim=20,
                progress=False)
    assert rep.results["parse"]["n_ok"] == 4 * 25 * 2 and rep.results["parse"]["n_failed"] == 0
    assert rep.results["garp_pass_rate"] == 1.0
    assert rep.results["parameters"]["decoding"]["temperature"] == 0.7


class _OutOfRange(Backend):
    name = "oor"

    def _complete_missing(self, requests, store):
        for i, _ in enumerate(requests):
            store(i, '{"percent": 140}')

    def _choice_missing(self, requests, store):  # pragma: no cover - not used
        raise NotImplementedError


def test_budget_out_of_range_shares_are_parse_failures():
    with pytest.raises(ValueError, match="no subject has a usable answer"):
        audit("budget", _OutOfRange("o", cache=False), n=1, mode="sampling", n_samples=1, progress=False, power_n=0)


# ---------------------------------------------------------------- tiny model, every task
@pytest.mark.parametrize("task,n,n_prompts", [("hate_speech", 1, 6 * 3 * 5), ("product_quality", 1, 10 * 3),
                                              ("budget", 1, 4 * 25)])
def test_tiny_model_end_to_end_and_rerun_from_cache(tiny_backend, tmp_path, task, n, n_prompts):
    rep = audit(task, tiny_backend, n=n, n_boot=5, n_sim=20, progress=False, power_n=0)
    assert rep.provenance.model_calls == n_prompts
    assert rep.provenance.model["backend"] == "transformers"
    out = rep.save(tmp_path / "report")
    files = {p.name for p in out.iterdir()}
    assert {"report.json", "report.md"} <= files and any(f.endswith(".png") for f in files)
    d = json.loads((out / "report.json").read_text())
    assert d["results"]["design"]["version"] and d["results"]["task"] == task and d["provenance"]["versions"]["numpy"]
    back = Report.load(out)
    assert back.results == d["results"]
    again = audit(task, tiny_backend, n=n, n_boot=5, n_sim=20, progress=False, power_n=0)
    assert again.provenance.model_calls == 0
    assert json.dumps(again.to_dict()["results"]) == json.dumps(rep.to_dict()["results"])
    if task != "budget":
        k = np.asarray(d["results"]["kernels"])
        assert np.allclose(k.sum(axis=2), 1.0)
        assert "figures" in d and any(f.startswith("utility_") for f in d["figures"])


class _Garbage(Backend):
    """A backend whose every reply is unparsable."""

    name = "garbage"

    def _complete_missing(self, requests, store):
        for i, _ in enumerate(requests):
            store(i, "lorem ipsum")

    def _choice_missing(self, requests, store):  # pragma: no cover - not used
        raise NotImplementedError


def test_sampling_with_nothing_parsable_gives_clear_error():
    with pytest.raises(ValueError, match="parse failures"):
        audit("product_quality", _Garbage("g", cache=False), n=1, mode="sampling", n_samples=1, progress=False,
              power_n=0)


def test_top_level_api_and_bad_input():
    import llmsl.audit

    assert llmsl.audit.audit is audit and llmsl.audit.audit_file is not None
    with pytest.raises(ValueError, match="unknown task"):
        audit("chess", syn.planted_rational())
    with pytest.raises(ValueError, match="mode"):
        audit("hate_speech", syn.planted_rational(), mode="guess")
    with pytest.raises(ValueError, match="n must be"):
        audit("hate_speech", syn.planted_rational(), n=-1)
    with pytest.raises(ValueError, match="backend"):
        audit("hate_speech", "llama")
    for kw, msg in (({"n_boot": -1}, "n_boot"), ({"n_samples": 0}, "n_samples"), ({"seed": 1.5}, "seed"),
                    ({"choice_rule": "median"}, "choice_rule"), ({"chunk_size": 0}, "chunk_size")):
        with pytest.raises(ValueError, match=msg):
            audit("hate_speech", syn.planted_rational(), **kw)


def test_custom_corpus_prior_is_state_frequency():
    c = load_hate_speech()
    idx = np.concatenate([np.flatnonzero(c.states == s)[: 1 + s % 2] for s in range(6)])
    rep = audit("hate_speech", syn.planted_rational(c), corpus=c.take(idx), n=0, n_boot=0, progress=False, power_n=0)
    assert np.allclose(rep.results["prior"], np.bincount(c.states[idx]) / len(idx))
    assert rep.results["corpus"]["n"] == len(idx)


@pytest.mark.slow
def test_default_model_small_audit(tmp_path):
    from llmas import ResponseCache, default_backend

    be = default_backend(cache=ResponseCache(tmp_path / "c.sqlite"))
    rep = audit("hate_speech", be, n=1, n_boot=5, progress=False, power_n=0)
    assert rep.provenance.model_calls == 6 * 3 * 5
    assert "smollm2" in rep.provenance.model["model"].lower()
    q = np.asarray(rep.results["items"]["p_yes"])
    assert ((q > 0) & (q < 1)).all()
    assert rep.verdict.label in ("consistent", "consistent_uninformative", "inconsistent", "uninformative")
    rep.save(tmp_path / "r")
    assert (tmp_path / "r" / "utility_0_neutral.png").is_file()


def test_cli_audit_on_a_local_corpus_file(tiny_model_dir, tmp_path, capsys):
    from llmsl.cli import main

    corpus = tmp_path / "corpus.csv"
    corpus.write_text("text,hate_speech_score\n" + "\n".join(
        f"text number {i},{s}" for i, s in enumerate([-6.0, -1.0, 0.5, 1.5, 2.2, 4.0])) + "\n")
    code = main(["audit", "--task", "hate_speech", "--model", str(tiny_model_dir), "--corpus", str(corpus),
                 "--n", "0", "--n-boot", "0", "--power-n", "0", "--cache", str(tmp_path / "c.sqlite"),
                 "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 0
    d = json.loads((tmp_path / "r" / "report.json").read_text())
    assert d["results"]["corpus"]["name"] == str(corpus) and d["results"]["corpus"]["n_per_state"] == [1] * 6
    assert d["provenance"]["model_calls"] == 6 * 3 * 5 and "bootstrap" not in d["results"]
    assert capsys.readouterr().out == ""  # --quiet: no summary, no progress
    # a bad option value is reported, not raised
    assert main(["audit", "--task", "hate_speech", "--model", str(tiny_model_dir), "--corpus", str(corpus),
                 "--n-boot", "-1", "--out", str(tmp_path / "r2"), "--quiet"]) == 2
