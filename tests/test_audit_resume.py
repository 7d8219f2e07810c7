"""Kill an audit half way and rerun it: no repeated model calls, same report."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from llmsl.cli import main

N_PER_STATE = 1
N_PROMPTS = N_PER_STATE * 6 * 3 * 5  # texts x environments x questions


def _rows(db) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0


def _cmd(model, db, out):
    return [sys.executable, "-m", "llmsl", "audit", "--task", "hate_speech", "--model", str(model),
            "--cache", str(db), "--n", str(N_PER_STATE), "--batch-size", "2", "--n-boot", "5",
            "--power-n", "0", "--out", str(out), "--quiet"]


def test_killed_audit_resumes_without_repeated_calls(tiny_model_dir, tmp_path):
    db = tmp_path / "cache.sqlite"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cmd(tiny_model_dir, db, tmp_path / "r0"), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _rows(db) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.fail(f"audit ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = _rows(db)
    assert 0 < done_before < N_PROMPTS, done_before
    assert not (tmp_path / "r0" / "report.json").exists()

    # the reruns run in this process (torch is already imported here), through the same CLI
    assert main(_cmd(tiny_model_dir, db, tmp_path / "r1")[3:]) == 0
    rep1 = json.loads((tmp_path / "r1" / "report.json").read_text())
    # the resumed run computed exactly the answers the killed one had not stored
    assert rep1["provenance"]["model_calls"] == N_PROMPTS - done_before
    assert _rows(db) == N_PROMPTS

    assert main(_cmd(tiny_model_dir, db, tmp_path / "r2")[3:]) == 0
    rep2 = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert rep2["provenance"]["model_calls"] == 0
    assert rep2["results"] == rep1["results"]
    assert rep2["results"]["parse"] == rep1["results"]["parse"]
    assert (tmp_path / "r2" / "report.md").read_text().count("## Verdict") == 1
