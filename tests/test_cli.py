"""Conventions of the ``llmsl`` command line (issue 11 item 5, issue 12 item 5).

``main(argv)`` never touches ``sys.argv``; ``--version``; help text on every
option of every command; ``--out``, ``--quiet``, ``-v`` and ``--debug`` on
every command; an unwritable ``--out`` fails in one line before any work;
``--debug`` shows the traceback; a backend that gives up is one line naming
the server, with every answer received kept in the cache; an API key never
reaches any output.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from llmas.testing import LocalServer, chat_completion, send_json
from llmsl.cli import COMMANDS, build_parser, main

OK_REPLY = json.dumps({"is_insulting": True, "is_dehumanizing": False, "is_humiliating": False,
                       "promotes_violence": False, "promotes_genocide": False, "is_respectful": False})


def _one_line(capsys, rc: int, code: int = 2) -> str:
    out, err = capsys.readouterr()
    assert rc == code, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in out + err
    return lines[0]


def _subparsers(command: str) -> argparse.ArgumentParser:
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


# --------------------------------------------------------------------------- conventions


def test_main_leaves_sys_argv_unchanged(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pytest-runner", "--some", "thing"])
    before = list(sys.argv)
    assert main(["--version"]) == 0
    assert main(["audit-file", str(tmp_path / "none.csv"), "--task", "hate_speech",
                 "--out", str(tmp_path / "o")]) == 2
    assert main(["herd", "--n-runs", "0"]) == 2
    assert sys.argv == before
    capsys.readouterr()


def test_version(capsys):
    from importlib import metadata

    assert main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert re.fullmatch(r"llmsl \S+", out), out
    with contextlib.suppress(metadata.PackageNotFoundError):  # a source tree without install: any version
        assert out == f"llmsl {metadata.version('llmsl')}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_every_command_has_help(command):
    p = _subparsers(command)
    assert p.description, command
    missing = [a.option_strings or [a.dest] for a in p._actions
               if not isinstance(a, argparse._HelpAction) and (not a.help or a.help == argparse.SUPPRESS)]
    assert not missing, f"{command}: options without help: {missing}"
    opts = {s for a in p._actions for s in a.option_strings}
    assert {"--out", "--quiet", "-v", "--debug"} <= opts, command
    top = build_parser([])
    assert all(a.help for a in top._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)))
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    assert all(c.help for c in sub._choices_actions)  # each command's line in ``llmsl --help``


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_of_every_command_exits_0(command, capsys):
    assert main([command, "--help"]) == 0
    assert "--out" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["under-a-file", "is-a-file"])
def test_unwritable_out_fails_in_one_line_before_any_work(kind, tmp_path, monkeypatch, capsys):
    import llmsl.cli.audit_file as cmd

    def no_work(args):
        raise AssertionError("the command ran although --out is unwritable")

    monkeypatch.setattr(cmd, "run", no_work)
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    out = blocker / "report" if kind == "under-a-file" else blocker
    data = tmp_path / "a.csv"
    data.write_text("state,action\n0,0\n")
    line = _one_line(capsys, main(["audit-file", str(data), "--task", "hate_speech", "--out", str(out)]))
    assert line.startswith("llmsl audit-file: error: ") and str(blocker) in line


def test_debug_shows_the_traceback(tmp_path, capsys):
    bad = tmp_path / "a.jsonl"
    bad.write_text("5\n")
    argv = ["audit-file", str(bad), "--task", "hate_speech", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    capsys.readouterr()
    with pytest.raises(ValueError, match="expected a JSON object"):
        main([*argv, "--debug"])
    p = subprocess.run([sys.executable, "-m", "llmsl", *argv, "--debug"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode != 0 and "Traceback (most recent call last)" in p.stderr
    assert "expected a JSON object" in p.stderr


# --------------------------------------------------------------------------- a backend that gives up


def _models(h, model: str = "m") -> None:
    send_json(h, 200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "test"}]})


def _chat(h, text: str) -> None:
    send_json(h, 200, chat_completion(text, id="x", model="m"))


def _audit_args(url: str, tmp_path: Path, *extra: str) -> list[str]:
    return ["audit", "--task", "hate_speech", "--base-url", url, "--model", "m", "--mode", "sampling",
            "--n", "1", "--samples", "1", "--n-boot", "0", "--power-n", "0", "--cache", str(tmp_path / "cache.sqlite"),
            "--out", str(tmp_path / "report"), *extra]


def test_backend_giving_up_is_one_line_naming_the_server(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def always_500(h, method, path, headers, body):
        send_json(h, 500, {"error": {"message": "internal error"}})

    with LocalServer(always_500) as srv:
        rc = main(_audit_args(srv.url, tmp_path, "--max-retries", "0", "--quiet"))
    line = _one_line(capsys, rc)
    assert line.startswith("llmsl audit: error: ")
    assert srv.root.removeprefix("http://") in line and "500" in line
    assert not (tmp_path / "report" / "report.json").exists()


def test_answers_received_before_the_give_up_stay_in_the_cache(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    state = {"ok_left": 5, "healthy": False}
    chats: list[int] = []

    def flaky(h, method, path, headers, body):
        if path.endswith("/models"):
            return _models(h)
        chats.append(path)
        if state["healthy"] or state["ok_left"] > 0:
            state["ok_left"] -= 1
            return _chat(h, OK_REPLY)
        send_json(h, 500, {"error": {"message": "overloaded"}})

    with LocalServer(flaky) as srv:
        rc = main(_audit_args(srv.url, tmp_path, "--max-retries", "0", "--max-concurrency", "1", "--quiet"))
        line = _one_line(capsys, rc)
        assert srv.root.removeprefix("http://") in line and "500" in line
        first = len(chats)
        assert first >= 6  # five answers, then failures (no retry; a request already queued may still go out)
        state["healthy"] = True
        assert main(_audit_args(srv.url, tmp_path, "--quiet")) == 0
        second = len(chats) - first
    rep = json.loads((tmp_path / "report" / "report.json").read_text())
    total = rep["results"]["parse"]["n_total"]
    # the five answers received before the give-up came from the cache; nothing was asked twice
    assert second == total - 5
    assert rep["provenance"]["cache_hits"] == 5


# --------------------------------------------------------------------------- the API key never leaks

def _echo_server(state: dict):
    """Replies carry the request headers (Authorization included); the first chat reply is unparsable, so that
    a raw reply reaches the report."""

    def echo(h, method, path, headers, body):
        if path.endswith("/models"):
            return _models(h)
        state["n"] += 1
        seen = json.dumps(headers)
        if state.get("fail"):
            return send_json(h, 500, {"error": {"message": f"bad request, headers were {seen}"}})
        if state["n"] == 1:
            return _chat(h, f"I will not answer. You sent {seen}")
        _chat(h, f"{OK_REPLY}\nrequest headers: {seen}")

    return echo


KEY = "sk-test-" + secrets.token_hex(16)


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


def test_api_key_never_in_the_error_line(tmp_path, capsys, api_key):
    state = {"n": 0, "fail": True}
    with LocalServer(_echo_server(state)) as srv:
        rc = main(_audit_args(srv.url, tmp_path, "--max-retries", "0"))
        assert any(h.get("Authorization") == f"Bearer {api_key}" for _, p, h, _ in srv.requests
                   if not p.endswith("/models")), "the key was not sent: the test would prove nothing"
    out, err = capsys.readouterr()
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert api_key not in out + err


@pytest.fixture(scope="module")
def echoed_run(tmp_path_factory):
    """One audit against the echoing server, with the key set: its stdout, stderr and folder."""
    tmp = tmp_path_factory.mktemp("echo")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", KEY)
    out, err = io.StringIO(), io.StringIO()
    try:
        with LocalServer(_echo_server({"n": 0})) as srv, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            rc = main(_audit_args(srv.url, tmp, "--samples", "2", "-v"))
        sent = [h.get("Authorization") for _, p, h, _ in srv.requests if not p.endswith("/models")]
    finally:
        mp.undo()
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue(), "dir": tmp, "sent": sent}


def test_api_key_never_in_stdout_stderr_or_the_report(echoed_run):
    r = echoed_run
    assert r["rc"] == 0, r["stderr"]
    assert r["sent"] and all(s == f"Bearer {KEY}" for s in r["sent"])
    rep_dir = r["dir"] / "report"
    texts = {"stdout": r["stdout"], "stderr": r["stderr"], "report.json": (rep_dir / "report.json").read_text(),
             "report.md": (rep_dir / "report.md").read_text()}
    assert json.loads(texts["report.json"])["results"]["parse"]["n_failed"] > 0  # raw replies are reported
    for where, text in texts.items():
        assert KEY not in text, f"the API key leaked into {where}"
        assert KEY[8:24] not in text, f"part of the API key leaked into {where}"


def test_api_key_never_in_the_cache_file(echoed_run):
    assert echoed_run["rc"] == 0
    stored = b"".join(p.read_bytes() for p in echoed_run["dir"].glob("cache.sqlite*"))
    assert stored and KEY.encode() not in stored


# --------------------------------------------------------------------------- many environments


def test_per_environment_figures_are_capped_and_say_so(tmp_path):
    """30 environments draw 12 utility heatmaps and a 12-panel kernel figure; the captions say so."""
    import numpy as np

    from llmsl.audit.plots import MAX_ENV_FIGURES, ribum_figures

    K, X, A = 30, 3, 3
    rng = np.random.default_rng(0)
    r = {"utilities": rng.random((K, X, A)).tolist(), "kernels": rng.dirichlet(np.ones(A), (K, X)).tolist(),
         "environments": [f"env{k}" for k in range(K)]}
    figs = ribum_figures(r, {})
    util = [f for f in figs if f.name.startswith("utility_")]
    assert len(util) == MAX_ENV_FIGURES == 12
    assert all(f"of {K}" in f.caption for f in util)
    kern = next(f for f in figs if f.name == "kernels.png")
    assert f"1 to 12 of {K}" in kern.caption and "report.json" in kern.caption
    kern.draw(tmp_path / "kernels.png")
    from PIL import Image

    w, _ = Image.open(tmp_path / "kernels.png").size
    assert w < 12 * 4 * 110 + 400  # twelve panels, not thirty
    few = ribum_figures({**r, "utilities": r["utilities"][:2], "kernels": r["kernels"][:2],
                         "environments": ["a", "b"]}, {})
    assert [f.name for f in few if f.name.startswith("utility_")] == ["utility_0_a.png", "utility_1_b.png"]
    assert all("drawn" not in f.caption for f in few)
