"""What the stakes designs share: environments that state point incentives (SPEC 1c).

``hate_speech_stakes`` and ``product_quality_stakes`` keep their base design's
prior, texts and questions and differ only by the environments of
:mod:`llmas.tasks.incentives`; this module turns those into task environments
and writes the part of the design record that describes them.
"""
from __future__ import annotations

from . import incentives as _incentives
from .base import Environment, Task

__all__ = ["StakesTask", "stakes_environments"]


def stakes_environments(task: str) -> tuple[Environment, ...]:
    """The incentive environments of ``task`` (``"hate_speech"`` or ``"product_quality"``) as task environments.

    >>> [e.name for e in stakes_environments("hate_speech")][:2]
    ['hate_miss_1', 'hate_miss_2']
    """
    return tuple(Environment(e.name, e.description, e.system) for e in _incentives.incentive_environments(task))


class StakesTask(Task):
    """Mixin placed before a base design: the design record names the stakes design and its incentives.

    ``base_task`` names the design whose incentive environments these are.
    """

    base_task: str = ""

    def design(self) -> dict:
        return {**super().design(), "task": self.name, "version": self.version, "description": self.description,
                "environments": [e.to_dict() for e in self.environments],
                "incentives": _incentives.design(self.base_task)}
