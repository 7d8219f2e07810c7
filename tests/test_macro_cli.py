"""``llmsl macro`` end to end on rule-based households, and its argument checks."""
from __future__ import annotations

import json

import pytest

from llmsl.cli import main


def test_cli_writes_report(tmp_path):
    out = tmp_path / "rep"
    rc = main(["macro", "--agents", "8", "--months", "36", "--seeds", "2", "--out", str(out),
               "--planner", "saez", "--regret", "--quiet"])
    assert rc == 0
    for f in ("report.json", "report.md", "series.png", "phillips.png", "okun.png", "regret.png"):
        assert (out / f).stat().st_size > 0
    d = json.loads((out / "report.json").read_text())
    r = d["results"]
    assert r["seeds"] == [0, 1] and len(r["runs"]) == 2
    assert r["config"]["n_households"] == 8 and "phillips_curve" in r and "okun_law" in r
    assert r["regret"]["best_schedule"] in r["regret"]["grid_welfare"]
    assert d["provenance"]["seed"] == 0 and d["provenance"]["command"][:2] == ["llmsl", "macro"]
    md = (out / "report.md").read_text()
    assert "Phillips" in md and md.count("## Verdict") == 1


def test_cli_rejects_regret_without_planner_before_running(tmp_path, capsys, monkeypatch):
    import macro.experiment

    def no_runs(*a, **k):
        raise AssertionError("the economy ran before the arguments were checked")

    monkeypatch.setattr(macro.experiment, "run_seeds", no_runs)
    out = tmp_path / "rep"
    assert main(["macro", "--agents", "4", "--months", "12", "--seeds", "1", "--out", str(out), "--regret"]) == 2
    err = capsys.readouterr().err
    assert "--regret needs --planner" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_rejects_bad_numbers_in_one_line(tmp_path, capsys):
    for argv in (["--agents", "0"], ["--months", "-3"], ["--seeds", "x"], ["--epsilon", "2", "--planner", "llm"]):
        rc = None
        try:
            rc = main(["macro", "--out", str(tmp_path / "o"), *argv])
        except SystemExit as exc:  # argparse errors exit 2 with one line
            rc = exc.code
        assert rc == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err


def test_cli_studies_are_in_the_report(tmp_path):
    out = tmp_path / "st"
    rc = main(["macro", "--agents", "6", "--months", "24", "--seeds", "2", "--regret-seeds", "2", "--studies",
               "--no-audit", "--out", str(out), "--quiet"])
    assert rc == 0
    d = json.loads((out / "report.json").read_text())
    st = d["results"]["studies"]
    assert {"elasticity", "flat_tax", "regret", "vote", "saez"} <= set(st)
    assert (out / "regret_horizon.png").is_file() and (out / "flat_tax.png").is_file()


def test_cli_passes_the_decision_options_to_llm_households(tmp_path, monkeypatch, capsys):
    import macro.llm_households as llm_households

    seen = {}

    class Stop(Exception):
        pass

    def fake(backend, **kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(llm_households, "LLMHouseholds", fake)
    monkeypatch.setattr("llmsl.cli.macro.backend_from_args", lambda args: object())
    with pytest.raises(Stop):
        main(["macro", "--households", "llm", "--decision-method", "choice", "--decision-rule", "mode",
              "--agents", "2", "--months", "1", "--seeds", "1", "--out", str(tmp_path / "o")])
    assert seen["method"] == "choice" and seen["decision_rule"] == "mode"
    # with rule-based households the options mean nothing: one line, exit 2, before any run
    assert main(["macro", "--decision-rule", "mean", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "--households llm" in err and len(err.strip().splitlines()) == 1
