"""``llmsl chain``: chains of LLM agents that read each other's decisions.

Agents of known behaviour (scripted backends: exactly Bayesian, copy the last
decision, or ignore the history) run through the same pipeline as a model, and
must be recognised; the chain prompts are generic over tasks; the run is a
prefix tree over histories, cached and resumable; the command works on a local
transformers model and over an OpenAI-compatible HTTP server.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmas.cache import ResponseCache
from llmas.corpora import Corpus
from llmas.tasks import get_task
from llmas.tasks.base import Coarsening, Environment, Task
from llmas.testing import LocalServer, chat_completion, send_json
from llmsl.chain import analyze_chain_run, chain_report, run_chains, scripted_backend
from llmsl.cli import main
from llmsl.herd import label_corpus

B_TRUE = np.array([[0.8, 0.2], [0.3, 0.7]])
EPS = 0.05
# chain counts of the recognition tests: R chains x N agents, over SEEDS seeds per script
R, N, SEEDS = 60, 8, 20


@pytest.fixture(scope="module")
def corpus():
    return get_task("hate_speech").load_corpus()


@pytest.fixture(scope="module")
def sensors(corpus):
    """The labels without history of each script (its B is planted exactly)."""
    out = {}
    for kind in ("bayes", "sensor", "copy_last"):
        agent = scripted_backend(kind, B_TRUE, corpus, epsilon=EPS)
        out[kind] = label_corpus(agent, "hate_speech", corpus, labels="binary", mode="logprobs")
    return out


# --------------------------------------------------------------------------- the prompt (generic over tasks)
class _ToyTask(Task):
    name = "toy_chain"
    state_names = ("cold", "lukewarm", "hot")
    action_names = ("cold", "lukewarm", "hot")
    environments = (Environment("plain", "no framing"),)
    coarsenings = {"binary": Coarsening((0, 0, 1), (0, 0, 1), ("not hot", "hot"), ("not hot", "hot"), "hot or not")}


def _toy_corpus():
    return Corpus("toy", ["ice", "tea", "fire"], np.array([0, 1, 2]), 3)


def test_chain_prompt_is_generic_and_shows_the_history_three_ways():
    t, c = _ToyTask(), _toy_corpus()
    env = t.environments[0]
    assert t.chain_options("binary") == ("not hot", "hot") and t.chain_choices("binary") == ("A", "B")
    assert t.chain_options("full") == ("cold", "lukewarm", "hot") and t.chain_choices("full") == ("A", "B", "C")
    full = t.chain_prompt(c, 2, env, [1, 0, 1])[-1]["content"]
    assert "Agent 1: hot\nAgent 2: not hot\nAgent 3: hot" in full and "Your text: fire" in full
    assert "A: not hot\nB: hot" in full
    # counts: histories that are permutations of each other give the same prompt, full ones do not
    assert t.chain_prompt(c, 2, env, [1, 0, 1], show="counts") == t.chain_prompt(c, 2, env, [1, 1, 0], show="counts")
    assert t.chain_prompt(c, 2, env, [1, 0, 1]) != t.chain_prompt(c, 2, env, [1, 1, 0])
    last = t.chain_prompt(c, 0, env, [0, 0, 1, 1], show="last", last_m=2)[-1]["content"]
    assert "- hot\n- hot" in last and "not hot" not in last.split("oldest first:")[1].split("Your text")[0]
    assert "first agent" in t.chain_prompt(c, 0, env, [])[-1]["content"]
    with pytest.raises(ValueError, match="history"):
        t.chain_prompt(c, 0, env, [2])
    with pytest.raises(ValueError, match="show"):
        t.chain_prompt(c, 0, env, [0], show="sometimes")
    with pytest.raises(ValueError, match="coarsening"):
        t.chain_options("ternary")


# --------------------------------------------------------------------------- prefix tree, cache, resume
def test_prefix_tree_shares_prompts_and_a_rerun_makes_no_model_calls(corpus, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    agent = scripted_backend("bayes", B_TRUE, corpus, epsilon=EPS, cache=cache)
    run = run_chains(agent, "hate_speech", corpus, n_chains=40, n_agents=6, text_slots=2, seed=3)
    assert run.distinct_prompts[0] == 2 * 2  # first position: one prompt per (state, slot)
    assert run.model_calls == run.n_distinct_prompts < 40 * 6 and run.calls_saved == 240 - run.n_distinct_prompts
    # chains of one state and slot see the same text at every position
    same = (run.data.states == run.data.states[0]) & (run.slots == run.slots[0])
    assert (run.texts[same] == run.texts[0]).all()
    # exact probabilities: the realized action always has positive probability; priors uniform
    assert run.method == "logprobs" and run.data.action_probs is not None
    assert np.bincount(run.data.states).tolist() == [20, 20]
    again = scripted_backend("bayes", B_TRUE, corpus, epsilon=EPS, cache=ResponseCache(tmp_path / "c.sqlite"))
    run2 = run_chains(again, "hate_speech", corpus, n_chains=40, n_agents=6, text_slots=2, seed=3)
    assert run2.model_calls == 0 and run2.cache_hits == run.n_distinct_prompts
    np.testing.assert_array_equal(run2.data.actions, run.data.actions)
    np.testing.assert_array_equal(run2.data.action_probs, run.data.action_probs)
    # another seed: other texts and draws
    run3 = run_chains(again, "hate_speech", corpus, n_chains=40, n_agents=6, text_slots=2, seed=4)
    assert not np.array_equal(run3.data.actions, run.data.actions)


def test_copy_last_script_copies_and_history_modes_are_checked(corpus):
    agent = scripted_backend("copy_last", B_TRUE, corpus)
    run = run_chains(agent, "hate_speech", corpus, n_chains=30, n_agents=5, history="last", last_m=1, seed=0)
    assert (run.data.actions == run.data.actions[:, :1]).all()
    with pytest.raises(ValueError, match="in order"):
        run_chains(agent, "hate_speech", corpus, n_chains=4, n_agents=3, history="counts", seed=0)
    with pytest.raises(ValueError, match="history must be one of"):
        run_chains(agent, "hate_speech", corpus, n_chains=4, n_agents=3, history="all", seed=0)
    with pytest.raises(ValueError, match="n_chains"):
        run_chains(agent, "hate_speech", corpus, n_chains=0, n_agents=3)
    with pytest.raises(ValueError, match="prior"):
        run_chains(agent, "hate_speech", corpus, n_chains=4, n_agents=3, prior=[0.2, 0.2])


def test_scripted_bayesian_action_probabilities_are_exact(corpus):
    from sociallearn import ChainData, SocialLearningModel
    from sociallearn.social_models import predicted_action_probs

    agent = scripted_backend("bayes", B_TRUE, corpus, epsilon=EPS)
    run = run_chains(agent, "hate_speech", corpus, n_chains=20, n_agents=6, seed=1)
    d = run.data
    m = SocialLearningModel(B_TRUE, cost=1 - np.eye(2))
    q = predicted_action_probs(ChainData(d.states, d.actions, d.priors), m, "bayes", epsilon=EPS)
    np.testing.assert_allclose(d.action_probs, q, atol=1e-12)


# --------------------------------------------------------------------------- recognition of known agents
@pytest.mark.parametrize("kind", ["bayes", "sensor", "copy_last"])
def test_scripted_agents_are_recognised_in_95_percent_of_seeds(kind, corpus, sensors):
    agent = scripted_backend(kind, B_TRUE, corpus, epsilon=EPS)
    best, covered = [], []
    for seed in range(SEEDS):
        run = run_chains(agent, "hate_speech", corpus, n_chains=R, n_agents=N, seed=seed)
        study = analyze_chain_run(run, sensors[kind], n_boot=20, n_sim=100, seed=seed)
        comp = study.comparison
        best.append(comp.best_model)
        lo, hi = comp.herding_strength_interval
        covered.append(comp.herding_strength is not None and (lo is None or lo <= 1) and (hi is None or hi >= 1))
    assert np.mean([b == kind for b in best]) >= 0.95, best
    if kind == "bayes":
        # the Bayesian script's herding strength is 1 within its interval (95% profile-likelihood interval)
        assert np.mean(covered) >= 0.85, covered
        assert covered[0]


# --------------------------------------------------------------------------- the report and the command
def test_report_has_the_headline_numbers_and_strict_json(corpus, sensors, tmp_path):
    agent = scripted_backend("bayes", B_TRUE, corpus, epsilon=EPS)
    run = run_chains(agent, "hate_speech", corpus, n_chains=R, n_agents=N, seed=0)
    rep = chain_report(analyze_chain_run(run, sensors["bayes"], n_boot=50, n_sim=200))
    assert rep.verdict.label == "bayesian_herding" and "Bayesian" in rep.verdict.headline
    d = json.loads(json.dumps(rep.to_dict(), allow_nan=False))
    res = d["results"]
    assert {"log_likelihood", "aic", "herding_strength"} <= set(res)
    assert set(res["aic"]) == {"bayes", "sensor", "copy_last", "majority", "logit"}
    assert res["calls"]["distinct_prompts"] + res["calls"]["saved_by_prefix_tree"] == R * N
    rep.save(tmp_path / "r")
    assert {"herd_times.png", "follow_own_signal.png", "belief_paths.png"} <= set(rep.figures)
    for f in rep.figures:
        assert (tmp_path / "r" / f).stat().st_size > 1000


def test_uninformative_sensor_is_said_so(corpus):
    flat = np.array([[0.6, 0.4], [0.6, 0.4]])
    agent = scripted_backend("copy_last", flat, corpus, epsilon=EPS)
    run = run_chains(agent, "hate_speech", corpus, n_chains=40, n_agents=6, seed=0)
    sensor = label_corpus(agent, "hate_speech", corpus, labels="binary", mode="logprobs")
    rep = chain_report(analyze_chain_run(run, sensor, n_boot=20, n_sim=100))
    assert rep.verdict.label == "uninformative_sensor"
    assert "uninformative" in rep.verdict.headline and "history is all agents can use" in rep.verdict.headline


def test_analysis_checks_its_inputs(corpus, sensors):
    agent = scripted_backend("sensor", B_TRUE, corpus)
    run = run_chains(agent, "hate_speech", corpus, n_chains=4, n_agents=3, seed=0)
    full = label_corpus(agent, "hate_speech", corpus, labels="full", mode="logprobs")
    with pytest.raises(ValueError, match="coarsening"):
        analyze_chain_run(run, full)
    with pytest.raises(ValueError, match="ChainRun"):
        analyze_chain_run("run", sensors["sensor"])
    with pytest.raises(ValueError, match="prior_strength"):
        analyze_chain_run(run, sensors["sensor"], prior_strength=-1)


def test_cli_chain_end_to_end_with_a_scripted_backend_resumes(corpus, tmp_path, monkeypatch):
    import llmsl.cli.options as options

    cache = tmp_path / "c.sqlite"
    monkeypatch.setattr(options, "backend_from_args", lambda args: scripted_backend(
        "bayes", B_TRUE, corpus, epsilon=EPS, cache=ResponseCache(cache)))
    args = ["chain", "--n-chains", "40", "--n-agents", "6", "--n-boot", "50", "--n-sim", "200", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "r1")]) == 0
    d1 = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert d1["kind"] == "chain" and d1["verdict"]["label"] == "bayesian_herding"
    assert d1["provenance"]["model_calls"] > 0 and d1["results"]["best_model"] == "bayes"
    assert main(args + ["--out", str(tmp_path / "r2")]) == 0
    d2 = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert d2["provenance"]["model_calls"] == 0
    assert d2["results"]["aic"] == d1["results"]["aic"]
    assert d2["results"]["chains"]["actions"] == d1["results"]["chains"]["actions"]


def test_cli_chain_rejects_an_unknown_environment(tmp_path, capsys):
    assert main(["chain", "--environment", "nowhere", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "no environment 'nowhere'" in capsys.readouterr().err


def test_cli_chain_on_a_local_transformers_model(tiny_model_dir, tmp_path):
    args = ["chain", "--model", str(tiny_model_dir), "--cache", str(tmp_path / "c.sqlite"), "--n-per-state", "2",
            "--n-chains", "6", "--n-agents", "3", "--n-boot", "20", "--n-sim", "50", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "r1")]) == 0
    d = json.loads((tmp_path / "r1" / "report.json").read_text())
    res = d["results"]
    assert res["chains"]["method"] == "logprobs" and {"log_likelihood", "aic", "herding_strength"} <= set(res)
    assert d["provenance"]["model_calls"] == res["calls"]["distinct_prompts"] + 12 * 5
    assert main(args + ["--out", str(tmp_path / "r2")]) == 0
    assert json.loads((tmp_path / "r2" / "report.json").read_text())["provenance"]["model_calls"] == 0


@pytest.fixture
def scripted_server(corpus):
    """An OpenAI-compatible server whose replies come from the copy-last script (no log-probabilities)."""
    agent = scripted_backend("copy_last", B_TRUE, corpus, epsilon=EPS)
    hits = {"n": 0}

    def respond(h, method, path, headers, body):
        if not path.endswith("/chat/completions"):
            return send_json(h, 404, {"error": "not found"})
        req = json.loads(body)
        hits["n"] += 1
        texts = [agent.complete(req["messages"], temperature=1.0, sample_index=hits["n"] * 100 + i,
                                max_tokens=req.get("max_tokens", 256)) for i in range(int(req.get("n", 1)))]
        send_json(h, 200, chat_completion(texts))

    with LocalServer(respond) as srv:
        yield srv.url, hits


def test_cli_chain_over_an_openai_compatible_server(scripted_server, tmp_path, monkeypatch):
    url, hits = scripted_server
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = ["chain", "--base-url", url, "--model", "scripted", "--n-per-state", "2", "--n-chains", "8",
            "--n-agents", "4", "--n-boot", "20", "--n-sim", "50", "--cache", str(tmp_path / "c.sqlite"), "--quiet"]
    assert main(args + ["--out", str(tmp_path / "r1")]) == 0
    d = json.loads((tmp_path / "r1" / "report.json").read_text())
    res = d["results"]
    assert res["chains"]["method"] == "sampling" and d["provenance"]["model"]["backend"] == "openai"
    acts = np.asarray(res["chains"]["actions"])
    assert np.mean(acts == acts[:, :1]) > 0.7  # the copy-last script mostly copies (sampled replies)
    n_hits = hits["n"]
    assert main(args + ["--out", str(tmp_path / "r2")]) == 0
    d2 = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert d2["provenance"]["model_calls"] == 0 and hits["n"] == n_hits
    assert d2["results"]["chains"]["actions"] == res["chains"]["actions"]
