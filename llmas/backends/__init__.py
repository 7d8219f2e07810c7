"""LLM backends: one small interface (:class:`Backend`), local and HTTP implementations.

Submodules are imported lazily so that ``import llmas.backends`` stays light.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "Backend": ".base",
    "BackendError": ".base",
    "ChoiceProbs": ".base",
    "TransformersBackend": ".transformers",
    "default_backend": ".transformers",
    "OpenAIBackend": ".openai",
    "make_backend": ".factory",
    "backend_from_args": ".factory",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
