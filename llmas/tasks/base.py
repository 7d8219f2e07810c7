"""Pieces shared by the audit task designs: environments and chat messages."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Environment:
    """One decision problem (environment ``k`` of SPEC 1b) of an audit design.

    Attributes
    ----------
    name : short identifier used in reports (``"neutral"``, ``"stars_4"``...).
    description : one line for humans: what differs from the other environments.
    system : system message that states the decision problem (persona, stakes);
        ``None`` sends no system message.
    temperature : sampling temperature used when replies are sampled (ignored
        when choice probabilities are read exactly from log-probabilities).
    """

    name: str
    description: str
    system: str | None = None
    temperature: float = 0.7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def messages(env: Environment, user: str) -> list[dict[str, str]]:
    """Chat messages ``[system?, user]`` for one prompt in environment ``env``."""
    out: list[dict[str, str]] = []
    if env.system:
        out.append({"role": "system", "content": env.system})
    out.append({"role": "user", "content": user})
    return out


def user_text(msgs: list[dict[str, str]] | str) -> str:
    """The last user message of ``msgs`` (planted agents read the task from it)."""
    if isinstance(msgs, str):
        return msgs
    for m in reversed(msgs):
        if m.get("role") == "user":
            return m["content"]
    raise ValueError("messages contain no user message")


def system_text(msgs: list[dict[str, str]] | str) -> str | None:
    """The system message of ``msgs``, or ``None``."""
    if isinstance(msgs, str):
        return None
    for m in msgs:
        if m.get("role") == "system":
            return m["content"]
    return None
