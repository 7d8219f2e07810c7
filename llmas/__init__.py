"""LLM agent layer: backends, response cache, structured-output parsing.

Names are exported lazily (module ``__getattr__``), so ``import llmas`` does not
import torch or transformers; the first use of a backend does.

Main names
----------
Backend, TransformersBackend, OpenAIBackend, default_backend
    LLM backends with ``complete``, ``complete_batch`` and ``choice_probs``.
ChoiceProbs, BackendError
ResponseCache
    SQLite cache of every model answer.
parse_json_reply, parse_reply, ParseError, ParseLog
    Schema-validated parsing of free-text replies.

Also: :mod:`llmas.tasks` (the Task protocol and the versioned designs),
:mod:`llmas.corpora` (corpus loaders), :mod:`llmas.tables` (reading table files).
The pipelines built on this layer live in :mod:`llmsl`.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Backend": "llmas.backends.base",
    "BackendError": "llmas.backends.base",
    "ChoiceProbs": "llmas.backends.base",
    "match_choice": "llmas.backends.base",
    "TransformersBackend": "llmas.backends.transformers",
    "default_backend": "llmas.backends.transformers",
    "OpenAIBackend": "llmas.backends.openai",
    "ResponseCache": "llmas.cache",
    "default_cache_dir": "llmas.cache",
    "parse_json_reply": "llmas.parsing",
    "parse_reply": "llmas.parsing",
    "ParseError": "llmas.parsing",
    "ParseLog": "llmas.parsing",
    "DEFAULT_MODEL_ID": "llmas.model_files",
}

__all__ = sorted(_EXPORTS)


_SUBMODULES = {"backends", "cache", "parsing", "model_files", "testing", "tasks", "corpora", "tables"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"llmas.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llmas' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
