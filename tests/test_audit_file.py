"""``llmsl audit-file``: answers a user already has, including the paper's Mistral-7B replies."""
from __future__ import annotations

import json

import numpy as np
import pytest

from llmsl.audit import audit_file
from llmsl.audit import synthetic as syn
from llmsl.cli import main

# counts of (state, action) of the 240 Mistral-7B replies, worked out by reading the
# six booleans of each reply and applying SPEC 1b's action rule
MISTRAL_COUNTS = np.array([
    [35, 2, 0, 2, 1, 0],
    [7, 10, 1, 12, 9, 1],
    [4, 9, 0, 13, 13, 1],
    [0, 9, 0, 21, 8, 2],
    [1, 5, 0, 8, 22, 4],
    [0, 1, 0, 7, 24, 8],
])


def test_mistral_replies(mhs_mistral, tmp_path):
    rep = audit_file(mhs_mistral / "mistral7b_responses.csv", "hate_speech", n_boot=50, seed=0)
    assert rep.results["parse"]["n_total"] == 240 and rep.results["parse"]["n_failed"] == 0
    assert rep.results["parameters"]["reply_column"] == "response"
    assert np.array_equal(np.asarray(rep.results["counts"])[0], MISTRAL_COUNTS)
    assert np.allclose(rep.results["prior"], 1 / 6)
    # one environment: NIAS only
    assert rep.results["niac_tested"] is False and "K >= 2" in rep.results["niac_note"]
    # action 2 (dehumanizing as the last flag) is chosen once, from state 1
    assert rep.results["informative"]
    assert rep.results["informativeness"][0]["mutual_information_bits"] == pytest.approx(0.55399, abs=1e-4)
    # NIAS holds: the six revealed posteriors are distinct, so with one environment a strictly
    # proper scoring rule rationalizes them; the optimal margin of the LP is unique
    assert rep.verdict.label == "consistent" and rep.results["passed"]
    assert rep.results["margin"] == pytest.approx(0.12942, abs=1e-4)
    assert len(rep.results["bootstrap"]["margins"]) == 50


def test_mistral_cli(mhs_mistral, tmp_path, capsys):
    code = main(["audit-file", str(mhs_mistral / "mistral7b_responses.csv"), "--task", "hate_speech",
                 "--n-boot", "20", "--out", str(tmp_path / "rep")])
    assert code == 0
    d = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert d["results"]["mode"] == "file" and d["results"]["parse"]["n_ok"] == 240
    assert (tmp_path / "rep" / "utility_0_all.png").is_file()
    assert "VERDICT" in capsys.readouterr().out


def _write_actions(path, kernels, n_per_state, seed):
    """Rows (environment, state, action) with counts n * p_k(a|x), rounded by largest remainder."""
    lines = ["environment,state,action"]
    for k, kern in enumerate(kernels):
        for x, row in enumerate(kern):
            c = np.floor(row * n_per_state).astype(int)
            rest = n_per_state - c.sum()
            c[np.argsort(-(row * n_per_state - c))[:rest]] += 1
            for a, m in enumerate(c):
                lines += [f"env{k},{x},{a}"] * int(m)
    path.write_text("\n".join(lines) + "\n")


def test_action_file_planted_agents(tmp_path):
    good = tmp_path / "good.csv"
    _write_actions(good, syn.shannon_kernels(lam=0.7), 2000, 0)
    rep = audit_file(good, "hate_speech", n_boot=0, power_n=0)
    assert rep.results["environments"] == ["env0", "env1", "env2"] and rep.results["niac_tested"]
    assert rep.results["passed"] and rep.verdict.label == "consistent"
    bad = tmp_path / "bad.csv"
    _write_actions(bad, syn.split_kernels(syn.shannon_kernels(lam=0.7)), 2000, 0)
    rep = audit_file(bad, "hate_speech", n_boot=0, power_n=0)
    assert not rep.results["passed"] and rep.verdict.label == "inconsistent"


def test_budget_file(tmp_path):
    p = tmp_path / "b.csv"
    rows = ["subject,p1,p2,x1,x2"]
    rng = np.random.default_rng(0)
    for s in range(2):
        for _ in range(10):
            p1, p2 = rng.uniform(0.5, 2, 2)
            rows.append(f"s{s},{p1},{p2},{0.5 / p1},{0.5 / p2}")   # Cobb-Douglas, half the income each
    # a strict WARP violation: at p=(1,2) (0,1) costs 2 > 1.8 for (1,0.4); at p=(2,1) the reverse
    rows += ["s2,1,2,0,1", "s2,2,1,1,0.4"]
    rows += ["s2,1,1,1,1"] * 8
    p.write_text("\n".join(rows) + "\n")
    rep = audit_file(p, "budget", n_sim=20)
    res = {s["subject"]: s for s in rep.results["subjects"]}
    assert res["s0"]["garp"] and res["s1"]["garp"] and res["s0"]["ccei"] == 1.0
    assert not res["s2"]["garp"] and res["s2"]["ccei"] < 1.0


def test_file_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("state,text\n0,hello\n")
    with pytest.raises(ValueError, match="reply column"):
        audit_file(p, "hate_speech")
    p.write_text("state,action\n0,9\n")
    with pytest.raises(ValueError, match="outside"):
        audit_file(p, "hate_speech")
    p.write_text("state,action\n0,1\n")
    with pytest.raises(ValueError, match="no usable answers"):
        audit_file(p, "hate_speech")
    p.write_text("subject,p1\n")
    with pytest.raises(ValueError):
        audit_file(p, "budget")
    with pytest.raises(ValueError, match="no such file"):
        audit_file(tmp_path / "none.csv", "hate_speech")
