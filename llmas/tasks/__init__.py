"""Versioned audit task designs: prompts, parsing schemas, action mappings.

One module per design (:mod:`~llmas.tasks.hate_speech`,
:mod:`~llmas.tasks.product_quality`, :mod:`~llmas.tasks.budget`); each has
``NAME``, ``VERSION``, its prompt builders, ``SCHEMA`` and ``design()``.
"""
from __future__ import annotations

from types import ModuleType

from . import budget, hate_speech, product_quality
from .base import Environment

TASKS: dict[str, ModuleType] = {m.NAME: m for m in (hate_speech, product_quality, budget)}


def get_task(name: str) -> ModuleType:
    """The design module of task ``name`` (``hate_speech``, ``product_quality``, ``budget``).

    Returns the module (with ``NAME``, ``VERSION``, ``SCHEMA``, ``design()``, ...);
    ``ValueError`` for an unknown name.

    Examples
    --------
    >>> get_task("hate_speech").NAME
    'hate_speech'
    >>> sorted(TASKS) == ["budget", "hate_speech", "product_quality"]
    True
    """
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}") from None


__all__ = ["Environment", "TASKS", "get_task", "budget", "hate_speech", "product_quality"]
