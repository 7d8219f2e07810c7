"""A fixed corpus of malformed files and argument sets for the ``llmsl`` command line (issue 12, items 6 and 8).

Every case must end with exit code 2, exactly one line on stderr (naming the
file, and the line or record where there is one), and no traceback anywhere.
No case may load a model: the backend factory is replaced by one that raises
``ModelLoaded`` (a ``BaseException`` the CLI does not catch), so a case that
reached it would fail loudly instead of downloading or loading weights.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmsl.cli import main

ROOT = Path(__file__).resolve().parents[1]

OK_REPLY = json.dumps({"is_insulting": True, "is_dehumanizing": False, "is_humiliating": False,
                       "promotes_violence": False, "promotes_genocide": False, "is_respectful": False})


class ModelLoaded(BaseException):
    """Raised by the patched backend factory: a case reached the model."""


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    import llmas.backends.factory as factory

    def boom(*a, **kw):
        raise ModelLoaded("the backend factory was called")

    monkeypatch.setattr(factory, "make_backend", boom)


def _actions_csv(n_env: int = 1) -> str:
    return "environment,state,action\n" + "".join(f"e{k},{x},{x}\n" for k in range(n_env) for x in range(6))


def _budget(rows: list[str]) -> str:
    return "subject,p1,p2,x1,x2\n" + "\n".join(rows) + "\n"


def _q(text: str) -> str:
    """One CSV field holding ``text``."""
    return '"' + text.replace('"', '""') + '"'


GOOD_BUDGET = ["s0,1,2,0.5,0.25", "s0,2,1,0.25,0.5"]

# (id, file name, content (str, bytes, or None for no file / "DIR" for a folder), extra arguments,
#  regex the one stderr line must match; "{f}" stands for the file's path)
FILE_CASES: list[tuple[str, str, object, list[str], str]] = [
    ("jsonl-int-first-line", "a.jsonl", "5\n", [], r"{f}:1: expected a JSON object"),
    ("json-list-of-ints", "a.json", "[1,2,3]", [], r"{f}: record 0: expected a JSON object"),
    ("json-object-not-list", "a.json", '{"state": 1, "action": 1}', [], r"{f}: expected a JSON list"),
    ("jsonl-list-mid-file", "a.jsonl", '{"state": 1, "action": 1}\n[1,2]\n', [], r"{f}:2: expected a JSON object"),
    ("jsonl-broken-json", "a.jsonl", '{"state": 1, "action": 1}\n\n{"state": 1,\n', [], r"{f}:3: not valid JSON"),
    ("jsonl-no-state-field", "a.jsonl", '{"state": 1, "action": 1}\n{"action": 2}\n', [], r"{f}:2: no 'state' field"),
    ("jsonl-deep-nesting", "a.jsonl", "[" * 5000 + "]" * 5000 + "\n", [], r"{f}:1: JSON nested deeper"),
    ("json-empty-file", "a.json", "", [], r"{f}: empty file"),
    ("json-empty-list", "a.json", "[]", [], r"{f}: no rows"),
    ("jsonl-empty-file", "a.jsonl", "", [], r"{f}: no rows"),
    ("jsonl-state-bool", "a.jsonl", '{"state": true, "action": 1}\n', [], r"{f}:1: state True is not an integer"),
    ("jsonl-state-null", "a.jsonl", '{"state": null, "action": 1}\n', [], r"{f}:1: state is empty"),
    ("jsonl-state-object", "a.jsonl", '{"state": {"a": 1}, "action": 1}\n', [], r"{f}:1: state .* not an integer"),
    ("jsonl-state-NaN", "a.jsonl", '{"state": NaN, "action": 1}\n', [], r"{f}:1: state nan is not an integer"),
    ("jsonl-state-1e400", "a.jsonl", '{"state": 1e400, "action": 1}\n', [], r"{f}:1: state inf is not an integer"),
    ("csv-no-state-column", "a.csv", "action\n1\n", [], r"{f}: needs a 'state' column"),
    ("csv-not-utf8", "a.csv", b"state,reply\n1,ok\n1,\xff\xfe\n", [], r"{f}:3: not UTF-8"),
    ("jsonl-not-utf8", "a.jsonl", b'{"state": 1, "reply": "\xe9"}\n', [], r"{f}:1: not UTF-8"),
    ("utf16-csv", "a.csv", "state,action\n1,1\n".encode("utf-16"), [], r"{f}:1: not UTF-8"),
    ("folder", "a.csv", "DIR", [], r"{f}: is a folder"),
    ("missing-file", "a.csv", None, [], r"{f}: no such file"),
    ("csv-empty-file", "a.csv", "", [], r"{f}: empty file"),
    ("csv-header-only", "a.csv", "state,action\n", [], r"{f}: no rows"),
    ("csv-blank-lines-only", "a.csv", "state,action\n\n\n", [], r"{f}: no rows"),
    ("csv-state-out-of-range", "a.csv", "state,action\n0,1\n6,1\n", [], r"{f}:3: state 6 outside 0\.\.5"),
    ("csv-state-negative", "a.csv", "state,action\n-1,1\n", [], r"{f}:2: state -1 outside"),
    ("csv-state-word", "a.csv", "state,action\nhigh,1\n", [], r"{f}:2: state 'high' is not an integer"),
    ("csv-state-float", "a.csv", "state,action\n1.5,1\n", [], r"{f}:2: state '1\.5' is not an integer"),
    ("csv-state-nan", "a.csv", "state,action\nnan,1\n", [], r"{f}:2: state 'nan' is not an integer"),
    ("csv-state-inf", "a.csv", "state,action\ninf,1\n", [], r"{f}:2: state 'inf' is not an integer"),
    ("csv-state-empty", "a.csv", "state,action\n0,1\n,1\n", [], r"{f}:3: state is empty"),
    ("csv-duplicate-header", "a.csv", "state,state,action\n1,1,1\n", [], r"{f}:1: .*more than once"),
    ("csv-too-few-fields", "a.csv", "state,action\n1,1\n1\n", [], r"{f}:3: 1 fields but the header has 2"),
    ("csv-too-many-fields", "a.csv", "state,action\n1,1,1\n", [], r"{f}:2: 3 fields but the header has 2"),
    ("csv-quote-never-closed", "a.csv", 'state,action\n1,"1\n2,2\n', [], r"{f}"),
    ("csv-nul-byte", "a.csv", "state,action\n1\x00,1\n", [], r"{f}:2"),
    ("csv-action-out-of-range", "a.csv", "state,action\n1,7\n", [], r"{f}:2: action 7 outside 0\.\.5"),
    ("csv-action-word", "a.csv", "state,action\n1,yes\n", [], r"{f}:2: action 'yes' is not an integer"),
    ("csv-no-answer-column", "a.csv", "state,text\n1,hello\n", [], r"{f}: needs an 'action' column or a reply"),
    ("csv-unknown-action-column", "a.csv", "state,action\n1,1\n", ["--action-column", "act"], r"{f}: no column 'act'"),
    ("csv-unknown-reply-column", "a.csv", "state,action\n1,1\n", ["--reply-column", "out"], r"{f}: no column 'out'"),
    ("csv-unknown-environment-column", "a.csv", "state,action\n1,1\n", ["--environment-column", "env"],
     r"{f}: no environment column 'env'"),
    ("csv-unknown-state-column", "a.csv", "state,action\n1,1\n", ["--state-column", "x"], r"{f}: needs a 'x' column"),
    ("csv-replies-unparsable", "a.csv", "state,reply\n" + "".join(f"{x},I cannot\n" for x in range(6)), [],
     r"{f}: no usable answers .*6 of 6 replies could not be parsed"),
    ("csv-a-state-without-answers", "a.csv", "state,reply\n" + "".join(f"{x},{_q(OK_REPLY)}\n"
                                                                     for x in range(5)), [],
     r"{f}: no usable answers .*\(all, state 5\)"),
    ("csv-environment-missing-a-state", "a.csv", _actions_csv(2) + "e2,0,0\n", [],
     r"{f}: no usable answers for 5 .*\(e2, state 1\)"),
    ("txt-extension", "a.txt", "state,action\n1,1\n", [], r"{f}: unsupported file type '\.txt'"),
    ("csv-read-as-json", "a.csv", "state,action\n1,1\n", ["--format", "json"], r"{f}: not valid JSON"),
    ("parquet-garbage", "a.parquet", "state,action\n1,1\n", [], r"{f}: not a readable Parquet file"),
    ("budget-missing-columns", "b.csv", "subject,p1,p2\ns,1,1\n", ["--task", "budget"],
     r"{f}: the budget task needs the columns"),
    ("budget-zero-price", "b.csv", _budget(GOOD_BUDGET + ["s1,0,1,1,1", "s1,1,1,1,1"]), ["--task", "budget"],
     r"{f}:4: p1 must be > 0"),
    ("budget-negative-price", "b.csv", _budget(["s0,1,-2,0.5,0.25", "s0,2,1,0.25,0.5"]), ["--task", "budget"],
     r"{f}:2: p2 must be > 0"),
    ("budget-price-word", "b.csv", _budget(["s0,one,2,0.5,0.25", "s0,2,1,0.25,0.5"]), ["--task", "budget"],
     r"{f}:2: p1 'one' is not a number"),
    ("budget-quantity-nan", "b.csv", _budget(["s0,1,2,nan,0.25", "s0,2,1,0.25,0.5"]), ["--task", "budget"],
     r"{f}:2: x1 'nan' is not a finite number"),
    ("budget-negative-quantity", "b.csv", _budget(["s0,1,2,-1,0.25", "s0,2,1,0.25,0.5"]), ["--task", "budget"],
     r"{f}:2: x1 must be >= 0"),
    ("budget-spends-nothing", "b.csv", _budget(["s0,1,2,0,0", "s0,2,1,0.25,0.5"]), ["--task", "budget"],
     r"{f}:2: the chosen bundle .* spends nothing"),
    ("budget-mixed-sizes", "b.csv", _budget(GOOD_BUDGET + ["s1,1,1,1,1"]), ["--task", "budget"],
     r"{f}: every subject needs the same number of budgets; subject 's1' has 1, subject 's0' has 2"),
    ("budget-one-budget-each", "b.csv", _budget(["s0,1,1,1,1", "s1,1,1,1,1"]), ["--task", "budget"],
     r"{f}: every subject needs at least 2 budgets"),
]

HERD_FILE_CASES: list[tuple[str, str, object, list[str], str]] = [
    ("herd-jsonl-int", "r.jsonl", "5\n", [], r"{f}:1: expected a JSON object"),
    ("herd-folder", "r.csv", "DIR", [], r"{f}: is a folder"),
    ("herd-not-utf8", "r.csv", b"state,label\n0,\xff\n", [], r"{f}:2: not UTF-8"),
    ("herd-state-out-of-range", "r.csv", "state,label\n0,1\n9,1\n", [], r"{f}:3: state 9 outside 0\.\.5"),
    ("herd-state-float", "r.csv", "state,label\n0.5,1\n", [], r"{f}:2: state '0\.5' is not an integer"),
    ("herd-header-only", "r.csv", "state,label\n", [], r"{f}: no rows"),
    ("herd-no-state-column", "r.csv", "text,label\nx,1\n", [], r"{f}: no state column"),
    ("herd-unknown-state-column", "r.csv", "state,label\n0,1\n", ["--state-column", "s"], r"{f}: no column 's'"),
    ("herd-no-answer-column", "r.csv", "state,text\n0,x\n", [], r"{f}: need a reply column"),
    ("herd-replies-unparsable", "r.jsonl", '{"state": 0, "response": "no"}\n{"state": 1, "response": "no"}\n', [],
     r"{f}: no parsed readings .*2 of 2 rows unusable"),
    ("herd-jsonl-no-state-field", "r.jsonl", '{"state": 0, "label": 1}\n{"label": 1}\n', [], r"{f}:2: no 'state'"),
    ("herd-duplicate-header", "r.csv", "state,label,label\n0,1,1\n", [], r"{f}:1: .*more than once"),
]

# (id, argv, regex of the one stderr line)
ARG_CASES: list[tuple[str, list[str], str]] = [
    ("no-command", [], r"^llmsl: error: .*COMMAND"),
    ("unknown-command", ["frobnicate"], r"^llmsl: error: .*invalid choice"),
    ("audit-file-no-file", ["audit-file", "--task", "hate_speech"], r"^llmsl audit-file: error: .*file"),
    ("audit-file-no-task", ["audit-file", "x.csv"], r"--task"),
    ("audit-file-unknown-task", ["audit-file", "x.csv", "--task", "nope"], r"--task: invalid choice"),
    ("audit-file-n-boot-negative", ["audit-file", "x.csv", "--task", "budget", "--n-boot", "-1"],
     r"--n-boot: expected an integer >= 0"),
    ("audit-file-n-boot-word", ["audit-file", "x.csv", "--task", "budget", "--n-boot", "many"], r"--n-boot"),
    ("audit-file-seed-negative", ["audit-file", "x.csv", "--task", "budget", "--seed", "-3"], r"--seed"),
    ("audit-file-n-jobs-zero", ["audit-file", "x.csv", "--task", "hate_speech", "--n-jobs", "0"],
     r"--n-jobs: expected an integer >= 1"),
    ("audit-n-jobs-word", ["audit", "--task", "hate_speech", "--n-jobs", "all"], r"--n-jobs"),
    ("audit-file-format-xml", ["audit-file", "x.csv", "--task", "budget", "--format", "xml"], r"--format"),
    ("audit-file-unknown-option", ["audit-file", "x.csv", "--task", "budget", "--frobnicate"], r"unrecognized"),
    ("audit-n-negative", ["audit", "--task", "hate_speech", "--n", "-1"], r"--n: expected an integer >= 0"),
    ("audit-unknown-task", ["audit", "--task", "nope"], r"--task: invalid choice"),
    ("audit-batch-size-zero", ["audit", "--task", "hate_speech", "--batch-size", "0"], r"--batch-size"),
    ("audit-timeout-zero", ["audit", "--task", "hate_speech", "--timeout", "0"], r"--timeout: expected a number > 0"),
    ("audit-timeout-nan", ["audit", "--task", "hate_speech", "--timeout", "nan"], r"--timeout"),
    ("audit-max-retries-negative", ["audit", "--task", "hate_speech", "--max-retries", "-1"], r"--max-retries"),
    ("audit-samples-zero", ["audit", "--task", "hate_speech", "--samples", "0"], r"--samples"),
    ("audit-mode-unknown", ["audit", "--task", "hate_speech", "--mode", "guess"], r"--mode"),
    ("herd-n-runs-zero", ["herd", "--n-runs", "0"], r"--n-runs: expected an integer >= 1"),
    ("herd-n-agents-negative", ["herd", "--n-agents", "-1"], r"--n-agents"),
    ("herd-prior-strength-inf", ["herd", "--prior-strength", "inf"], r"--prior-strength"),
    ("herd-labels-unknown", ["herd", "--labels", "ternary"], r"--labels"),
    ("control-discount-one", ["control", "--discount", "1"], r"--discount: expected a discount factor"),
    ("control-grid-size-zero", ["control", "--grid-size", "0"], r"--grid-size"),
    ("control-miss-cost-negative", ["control", "--miss-cost", "-1"], r"--miss-cost"),
]


def _check_one_line(capsys, rc: int, pattern: str | None = None) -> str:
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert rc == 2, (rc, out, err)
    assert len(lines) == 1, err
    assert "Traceback" not in out and "Traceback" not in err
    if pattern is not None:
        import re

        assert re.search(pattern, lines[0]), (pattern, lines[0])
    return lines[0]


def _materialize(tmp_path: Path, name: str, content: object) -> Path:
    f = tmp_path / name
    if content == "DIR":
        f.mkdir()
    elif isinstance(content, bytes):
        f.write_bytes(content)
    elif isinstance(content, str):
        f.write_text(content, encoding="utf-8")
    return f


def _regex(pattern: str, f: Path) -> str:
    import re

    return pattern.replace("{f}", re.escape(str(f)))


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_audit_file_bad_input_is_one_line(case, tmp_path, capsys):
    _, name, content, extra, pattern = case
    f = _materialize(tmp_path, name, content)
    argv = ["audit-file", str(f), "--task", "hate_speech", "--n-boot", "0", "--n-sim", "1",
            "--out", str(tmp_path / "out"), "--quiet", *extra]
    line = _check_one_line(capsys, main(argv), _regex(pattern, f))
    assert line.startswith("llmsl audit-file: error: ")
    assert not (tmp_path / "out").exists()  # a failed run leaves no empty report folder


@pytest.mark.parametrize("case", HERD_FILE_CASES, ids=[c[0] for c in HERD_FILE_CASES])
def test_herd_bad_responses_is_one_line(case, tmp_path, capsys):
    _, name, content, extra, pattern = case
    f = _materialize(tmp_path, name, content)
    argv = ["herd", "--responses", str(f), "--out", str(tmp_path / "out"), "--quiet", *extra]
    line = _check_one_line(capsys, main(argv), _regex(pattern, f))
    assert line.startswith("llmsl herd: error: ")


@pytest.mark.parametrize("case", ARG_CASES, ids=[c[0] for c in ARG_CASES])
def test_bad_arguments_are_one_line_before_any_model(case, tmp_path, capsys):
    _, argv, pattern = case
    rc = main([*argv, "--out", str(tmp_path / "out")] if argv else argv)
    _check_one_line(capsys, rc, pattern)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [
    ["audit", "--task", "hate_speech", "--corpus", "{tmp}/missing.csv"],
    ["audit", "--task", "hate_speech", "--corpus", "{tmp}"],
    ["herd", "--corpus", "{tmp}/missing.csv"],
    ["control", "--corpus", "{tmp}/missing.csv"],
], ids=["audit-corpus-missing", "audit-corpus-folder", "herd-corpus-missing", "control-corpus-missing"])
def test_bad_corpus_fails_before_the_model_loads(argv, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    rc = main([*argv, "--out", str(tmp_path / "out"), "--quiet"])
    line = _check_one_line(capsys, rc)
    assert str(tmp_path) in line


@pytest.mark.parametrize("kind", ["under-a-file", "not-sqlite", "folder"])
def test_bad_cache_fails_before_the_model_loads(kind, tmp_path, capsys):
    plain = tmp_path / "plain.txt"
    plain.write_text("not a database")
    cache = {"under-a-file": plain / "c.sqlite", "not-sqlite": plain, "folder": tmp_path}[kind]
    rc = main(["audit", "--task", "hate_speech", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
               "--cache", str(cache), "--out", str(tmp_path / "out"), "--quiet"])
    line = _check_one_line(capsys, rc)
    assert line.startswith(f"llmsl audit: error: --cache {cache}")


def test_corpus_has_at_least_50_cases():
    assert len(FILE_CASES) + len(HERD_FILE_CASES) + len(ARG_CASES) >= 50


def test_a_huge_field_is_read_not_rejected(tmp_path):
    """A CSV field far over Python's default limit (131,072 characters) is data: read and parsed."""
    from llmas.tables import read_table
    from llmsl.herd.tasks import load_responses

    note = "x" * 300_000
    f = tmp_path / "big.csv"
    f.write_text("state,reply\n" + "".join(f"{x},{_q(OK_REPLY + ' ' + note)}\n" for x in range(6)))
    rows = read_table(f)
    assert len(rows) == 6 and len(rows[0]["reply"]) == len(OK_REPLY) + 1 + len(note)
    d = load_responses(f, "hate_speech")
    assert d.n == 6 and d.n_failed == 0 and d.observations.tolist() == [1] * 6


@pytest.mark.parametrize("argv", [
    ["audit-file", "{f}", "--task", "hate_speech", "--out", "{tmp}/o"],
    ["herd", "--n-runs", "-5"],
], ids=["audit-file-bad-jsonl", "herd-bad-argument"])
def test_subprocess_one_line_no_traceback(argv, tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"state": 1, "action": 1}\n[1, 2]\n')
    argv = [a.replace("{f}", str(f)).replace("{tmp}", str(tmp_path)) for a in argv]
    p = subprocess.run([sys.executable, "-m", "llmsl", *argv], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
