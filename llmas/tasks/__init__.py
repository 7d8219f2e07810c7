"""Versioned audit task designs: the :class:`Task` protocol and its registry.

One module per design (:mod:`~llmas.tasks.hate_speech`,
:mod:`~llmas.tasks.product_quality`, :mod:`~llmas.tasks.budget`); each defines
its prompts, schema and action law as module functions and registers a
:class:`Task` subclass that the pipelines use.  A new design subclasses
:class:`Task` and is decorated with :func:`register_task`; no pipeline needs
to change.
"""
from __future__ import annotations

from . import budget, hate_speech, product_quality
from .base import Coarsening, Environment, Task, get_task, register_task, task_names
from .budget import BudgetTask
from .hate_speech import HateSpeechTask
from .product_quality import ProductQualityTask

__all__ = ["Task", "Environment", "Coarsening", "register_task", "get_task", "task_names", "HateSpeechTask",
           "ProductQualityTask", "BudgetTask", "budget", "hate_speech", "product_quality"]
