"""Model comparison on the budget task: ``llmsl audit --task budget --model A --model B`` and ``llmsl compare DIR...``.

One multi-model audit through the command line (planted Cobb-Douglas and random
subjects as the two "models", paired with two server URLs) is the module's
fixture; the tests check its numbers against :func:`ribum.analyze` on the saved
per-model data, compare it with ``llmsl compare`` of the saved per-model report
folders, and check the one-line errors of the command line.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ribum
from llmsl.audit import synthetic as syn
from llmsl.cli import main
from llmsl.compare import METRICS, BudgetPanel, compare_panels, compare_reports, load_budget_report, published_rows
from llmsl.report import Report, Section, Verdict

N_SIM = 20
N_BOOT = 300
N_PERM = 300
URLS = {"rational": "http://127.0.0.1:9/v1", "random": "http://127.0.0.2:9/v1"}


def _strict(text: str):
    def bad(c):
        raise ValueError(f"non-strict JSON constant {c}")

    return json.loads(text, parse_constant=bad)


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    """``llmsl audit --task budget --base-url U1 --model rational --base-url U2 --model random``, planted backends."""
    out = tmp_path_factory.mktemp("multi") / "report"
    seen: list[tuple[str, str]] = []

    def fake_backend(args):
        seen.append((args.model, args.base_url))
        return syn.PlantedBudgetAgent(args.model)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("llmsl.cli.audit.backend_from_args", fake_backend)
        rc = main(["audit", "--task", "budget", "--base-url", URLS["rational"], "--model", "rational",
                   "--base-url", URLS["random"], "--model", "random", "--n", "2", "--n-sim", str(N_SIM),
                   "--out", str(out), "-q"])
    assert rc == 0
    return {"out": out, "seen": seen, "report": _strict((out / "report.json").read_text())}


def test_pairs_of_base_url_and_model_reach_the_backends(multi):
    assert multi["seen"] == [("rational", URLS["rational"]), ("random", URLS["random"])]


def test_one_report_with_table_tests_plot_and_per_model_folders(multi):
    out, rep = multi["out"], multi["report"]
    assert rep["kind"] == "compare"
    r = rep["results"]
    labels = ["planted-budget-rational", "planted-budget-random"]
    assert r["groups"] == labels
    assert (out / "ccei_ecdf.png").stat().st_size > 0 and rep["figures"] == ["ccei_ecdf.png"]
    for lab in labels:
        assert (out / "models" / lab / "report.json").is_file()
    md = (out / "report.md").read_text()
    for head in ("GARP pass rate", "CCEI mean", "CCEI median", "Houtman-Maks", "Bronars power", "predictive success",
                 "q (BH)", "uniform random (reference)", "![", "quoted, not measured"):
        assert head in md
    # one test per metric and pair, with BH q-values >= p-values
    assert len(r["tests"]) == len(METRICS)
    assert all(t["q_value"] >= t["p_value"] for t in r["tests"])
    # the planted rational subjects all pass GARP, the random ones all fail, and the verdict says they differ
    st = r["per_model"]
    assert st[labels[0]]["garp"]["mean"] == 1.0 and st[labels[0]]["ccei"]["median"] == 1.0
    assert st[labels[1]]["garp"]["mean"] == 0.0 and st[labels[1]]["ccei"]["median"] < 0.99
    assert rep["verdict"]["label"] == "models_differ"
    ccei_test = next(t for t in r["tests"] if t["metric"] == "ccei")
    assert ccei_test["D"] == 1.0 and ccei_test["q_value"] < 0.05
    # provenance adds up the two audits' model calls (4 framings x 2 subjects = 8 subjects x 25 budgets each)
    assert rep["provenance"]["model_calls"] == 2 * 8 * 25
    assert [m["model"] for m in rep["provenance"]["model"]["models"]] == labels


def test_per_model_numbers_equal_ribum_analyze_on_the_same_data(multi):
    r = multi["report"]["results"]
    for lab in r["groups"]:
        saved = _strict((multi["out"] / "models" / lab / "report.json").read_text())["results"]
        P, Q = np.asarray(saved["prices"]), np.asarray(saved["quantities"])
        ref = ribum.analyze((P, Q), metrics=list(METRICS), n_sim=N_SIM, seed=0)
        rows = [row for row in r["per_subject"] if row["model"] == lab]
        assert [row["subject"] for row in rows] == [s["subject"] for s in saved["subjects"]]
        for m in METRICS:
            got = np.array([row[m] for row in rows], dtype=float)
            want = ref[m].to_numpy(dtype=float)
            np.testing.assert_array_equal(got, want)
            stat = r["per_model"][lab][m]
            assert stat["n"] == len(want)
            assert stat["mean"] == pytest.approx(want.mean(), abs=1e-15)
            assert stat["median"] == pytest.approx(np.median(want), abs=1e-15)
            lo, hi = stat["mean_ci"]
            assert min(want) - 1e-12 <= lo <= hi <= max(want) + 1e-12
        # GARP and CCEI agree with the audit's own per-subject verdicts
        assert [row["garp"] for row in rows] == [s["garp"] for s in saved["subjects"]]
        np.testing.assert_allclose([row["ccei"] for row in rows], [s["ccei"] for s in saved["subjects"]], rtol=1e-12)


def test_compare_of_the_saved_folders_equals_the_multi_model_run(multi, tmp_path, capsys):
    dirs = [str(multi["out"] / "models" / lab) for lab in multi["report"]["results"]["groups"]]
    out = tmp_path / "cmp"
    assert main(["compare", *dirs, "--out", str(out), "-q"]) == 0
    got = _strict((out / "report.json").read_text())
    a, b = multi["report"]["results"], got["results"]
    for key in ("groups", "metrics", "n_sim", "seed", "per_model", "tests", "per_subject", "random_reference",
                "compare", "published"):
        assert a[key] == b[key], key
    assert a["origin"] == "audit" and b["origin"] == "reports"
    assert got["verdict"] == multi["report"]["verdict"]
    assert (out / "ccei_ecdf.png").is_file()


def test_label_names_groups_by_folder_and_repeats_are_numbered(multi):
    d = multi["out"] / "models" / "planted-budget-random"
    rep = compare_reports([d, d], label_by="folder", n_boot=50, n_perm=50)
    assert rep.results["groups"] == ["planted-budget-random", "planted-budget-random (2)"]
    # identical samples: no difference can be detected
    assert all(t["D"] == 0 and t["p_value"] == 1.0 for t in rep.results["tests"])
    assert rep.verdict.label == "no_detected_difference"


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(text)
    return folder


@pytest.mark.parametrize("case", ["missing", "empty", "not_json", "not_report", "ribum_audit", "compare_report",
                                  "no_prices"])
def test_bad_folders_exit_2_with_one_line(case, multi, tmp_path, capsys):
    if case == "missing":
        bad = tmp_path / "nope"
    elif case == "empty":
        bad = tmp_path / "empty"
        bad.mkdir()
    elif case == "not_json":
        bad = _write(tmp_path / "x", "{not json")
    elif case == "not_report":
        bad = _write(tmp_path / "x", "[1, 2]")
    elif case == "ribum_audit":
        bad = tmp_path / "x"
        Report("audit", "t", Verdict("consistent", "ok"), sections=[Section("s")],
               results={"task": "hate_speech", "kind": "ribum"}).save(bad, plots=False)
    elif case == "compare_report":
        bad = multi["out"]
    else:
        saved = _strict((multi["out"] / "models" / "planted-budget-random" / "report.json").read_text())
        del saved["results"]["prices"]
        bad = _write(tmp_path / "x", json.dumps(saved))
    good = multi["out"] / "models" / "planted-budget-rational"
    out = tmp_path / "out"
    rc = main(["compare", str(good), str(bad), "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 2
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmsl compare: error: ") and str(bad) in lines[0], cap.err
    assert "Traceback" not in cap.err and cap.out == ""
    assert not out.exists()  # the folder created for the run is removed again


def test_unpaired_base_urls_and_non_budget_tasks_are_one_line_errors(tmp_path, capsys, monkeypatch):
    def never(args):  # pragma: no cover - must not be reached
        raise AssertionError("no backend may be built")

    monkeypatch.setattr("llmsl.cli.audit.backend_from_args", never)
    rc = main(["audit", "--task", "budget", "--model", "a", "--model", "b", "--model", "c", "--base-url", "http://u1",
               "--base-url", "http://u2", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "2 --base-url for 3 --model" in err[0]
    rc = main(["audit", "--task", "hate_speech", "--model", "a", "--model", "b", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "budget task only" in err[0]


def test_single_model_keeps_a_single_model_audit(tmp_path, capsys, monkeypatch):
    got = []

    def fake(args):
        got.append((args.model, args.base_url))
        return syn.PlantedBudgetAgent("rational")

    monkeypatch.setattr("llmsl.cli.audit.backend_from_args", fake)
    out = tmp_path / "one"
    assert main(["audit", "--task", "budget", "--model", "rational", "--base-url", "http://u/v1", "--n", "1",
                 "--n-sim", "5", "--out", str(out), "-q"]) == 0
    assert got == [("rational", "http://u/v1")]
    rep = _strict((out / "report.json").read_text())
    assert rep["kind"] == "audit" and rep["results"]["kind"] == "budget" and not (out / "models").exists()
    # and that single report is a valid input of `llmsl compare`
    panel = load_budget_report(out)
    assert panel.label == "planted-budget-rational" and panel.n_subjects == 4


def test_single_panel_and_validation():
    rng = np.random.default_rng(0)
    P = rng.uniform(1, 2, (3, 5, 2))
    Q = rng.uniform(0, 1, (3, 5, 2))
    rep = compare_panels([BudgetPanel("m", P, Q, ["a", "b", "c"])], n_sim=10, n_boot=50, n_perm=50)
    assert rep.verdict.label == "single_model" and rep.results["tests"] == []
    json.dumps(rep.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="distinct labels"):
        compare_panels([BudgetPanel("m", P, Q, ["a", "b", "c"]), BudgetPanel("m", P, Q, ["a", "b", "c"])])
    with pytest.raises(ValueError, match=r"\(S, T, 2\)"):
        BudgetPanel("m", P[..., :1], Q[..., :1], ["a", "b", "c"])
    with pytest.raises(ValueError, match="subject names"):
        BudgetPanel("m", P, Q, ["a"])
    with pytest.raises(ValueError, match="n_sim"):
        compare_panels([BudgetPanel("m", P, Q, ["a", "b", "c"])], n_sim=0)


def test_published_table_quotes_or_says_not_verified():
    from ribum.published import PUBLISHED_RATIONALITY, SOURCES

    rows = published_rows()
    text = " ".join(r["source"] for r in rows)
    assert "Chen, Liu, Shan & Zhong (2023)" in text and "Choi, Fisman, Gale & Kariv (2007)" in text
    for r in rows:
        assert "quoted, not measured" in r["status"]
        if r["value"] is None:
            assert "figure not verified here" in r["status"]
        else:  # a number only with the place in the source it was read from
            assert r["where"] and isinstance(r["value"], (int, float))
    assert len(rows) >= len(SOURCES) and len(rows) >= len(PUBLISHED_RATIONALITY)
