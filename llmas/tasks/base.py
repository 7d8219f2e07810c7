"""The Task protocol of the audit designs, its registry, environments and chat messages."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


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


Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Coarsening:
    """A merge of states and observations into coarser labels (used by ``llmsl herd``).

    ``state_map[x]`` / ``obs_map[y]`` give the coarse index (``None``: keep as is).
    """

    state_map: tuple[int, ...] | None
    obs_map: tuple[int, ...] | None
    state_labels: tuple[str, ...] | None
    obs_labels: tuple[str, ...] | None
    description: str


class Task:
    """A versioned audit design: one subclass per design, registered by name.

    A task owns everything that turns texts of known state into prompts and
    replies into actions, so that no pipeline branches on a task's name:

    - ``state_names`` (X), ``action_names`` (A), ``environments`` (the decision
      problems k = 1..K, each an :class:`Environment`);
    - the **question form** (exact mode): ``questions`` asked one by one as
      Yes/No questions (:meth:`question_prompts`), whose P(``choices[0]``) values
      ``q`` (n, len(questions)) map to action probabilities by :meth:`action_law`;
    - the **JSON form** (sampled mode): :meth:`json_prompt`, parsed with
      ``schema`` and mapped to an action by :meth:`action_from_reply`;
    - the corpus: :meth:`load_corpus` and :meth:`items` (which texts are asked
      in which environment);
    - :meth:`design`, the JSON record stored in every report.

    ``kind`` says which analysis the answers feed: ``"ribum"`` (action kernels
    p_k(a|x), NIAS/NIAC) or ``"budget"`` (GARP/CCEI; see
    :class:`llmas.tasks.budget.BudgetTask`).  Subclass, set the class
    attributes, implement the methods, and decorate with :func:`register_task`;
    the audit, herd and chain commands then accept ``--task NAME``.

    Examples
    --------
    >>> from llmas.tasks import get_task
    >>> t = get_task("hate_speech")
    >>> t.n_states, t.n_actions, [e.name for e in t.environments]
    (6, 6, ['neutral', 'protect_users', 'protect_speech'])
    """

    name: str = ""
    version: str = "1.0"
    kind: str = "ribum"
    description: str = ""
    state_names: tuple[str, ...] = ()
    action_names: tuple[str, ...] = ()
    environments: tuple[Environment, ...] = (Environment("default", "one decision problem"),)
    questions: tuple[str, ...] = ()
    choices: tuple[str, ...] = ("Yes", "No")
    schema: dict[str, Any] = {}
    coarsenings: dict[str, Coarsening] = {}
    #: default corpus items per state (``--n``) and reply length in sampled mode
    default_n: int = 10
    max_tokens: int = 160
    #: known incentives Delta_k(x, a) (K, X, A) that the prompts of the environments state, or ``None``;
    #: a task with incentives gets the shared-utility NIAS/NIAC test (Caplin & Dean 2015)
    incentives: np.ndarray | None = None

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @property
    def n_actions(self) -> int:
        return len(self.action_names)

    # ------------------------------------------------------------------ corpus
    def load_corpus(self, source: str = "bundled", *, path: str | None = None) -> Any:
        """The labelled corpus (``llmas.corpora.Corpus``): ``source`` names a known corpus, ``path`` a file."""
        raise NotImplementedError(f"task {self.name!r} has no corpus loader")

    def items(self, corpus: Any) -> tuple[list[tuple[int, int]], list[str]]:
        """Which texts are asked where: ``(environment index, corpus position)`` pairs and environment names.

        By default every text is asked in every environment.
        """
        envs = [e.name for e in self.environments]
        return [(k, i) for k in range(len(envs)) for i in range(len(corpus))], envs

    def environment(self, corpus: Any, k: int, i: int) -> Environment:
        """The environment of item ``(k, i)`` (by default ``environments[k]``)."""
        return self.environments[k]

    # ------------------------------------------------------------------ prompts
    def question_prompts(self, corpus: Any, i: int, env: Environment) -> list[Messages]:
        """One Yes/No prompt per entry of ``questions`` about text ``i`` in ``env`` (exact mode)."""
        raise NotImplementedError(f"task {self.name!r} has no question form")

    def action_law(self, q: np.ndarray) -> np.ndarray:
        """Action probabilities (n, A) from P(``choices[0]``) of each question, ``q`` of shape (n, len(questions))."""
        raise NotImplementedError(f"task {self.name!r} has no question form")

    def json_prompt(self, corpus: Any, i: int, env: Environment) -> Messages:
        """The JSON-form prompt about text ``i`` in ``env`` (sampled mode)."""
        raise NotImplementedError(f"task {self.name!r} has no JSON form")

    def action_from_reply(self, reply: dict[str, Any]) -> int:
        """The action of a parsed JSON reply (a dict that matches ``schema``)."""
        raise NotImplementedError(f"task {self.name!r} has no JSON form")

    def sampling_temperature(self, env: Environment) -> float:
        """Temperature of sampled replies in ``env``."""
        return env.temperature

    # ------------------------------------------------------------------ chains of agents (``llmsl chain``)
    def chain_options(self, labels: str = "binary") -> tuple[str, ...]:
        """Names of the decisions of an agent in a chain: the states of the coarsening ``labels``.

        ``"full"`` (or a coarsening that keeps the states) gives ``state_names``.

        >>> from llmas.tasks import get_task
        >>> get_task("hate_speech").chain_options("binary")
        ('not hateful', 'hateful')
        """
        if labels == "full":
            return tuple(self.state_names)
        if labels not in self.coarsenings:
            raise ValueError(f"task {self.name!r} has no coarsening {labels!r}; expected 'full' or one of "
                             f"{sorted(self.coarsenings)}")
        c = self.coarsenings[labels]
        if c.state_map is None:
            return tuple(self.state_names)
        n = max(c.state_map) + 1
        return tuple(c.state_labels) if c.state_labels else tuple(f"class {j}" for j in range(n))

    def chain_choices(self, labels: str = "binary") -> tuple[str, ...]:
        """The replies an agent in a chain chooses from: one capital letter per decision (``A``, ``B``...)."""
        n = len(self.chain_options(labels))
        if n > 26:
            raise ValueError(f"a chain decision needs at most 26 options, got {n}")
        return tuple(chr(ord("A") + j) for j in range(n))

    def chain_prompt(self, corpus: Any, i: int, env: Environment, history, *, labels: str = "binary",
                     show: str = "full", last_m: int = 3) -> Messages:
        """The prompt of an agent in a chain: its own text ``i`` and the public history of earlier decisions.

        Parameters
        ----------
        corpus, i : the agent's private observation is ``corpus.texts[i]``.
        env : the environment (its system message frames the decision).
        history : sequence of int
            Decisions ``a_1..a_{k-1}`` of the earlier agents (indices into :meth:`chain_options`).
        labels : the coarsening whose states are the decisions.
        show : ``"full"`` (every earlier decision in order), ``"counts"`` (how many took each
            decision) or ``"last"`` (the last ``last_m`` decisions, oldest first, without the total).
        last_m : int

        Identical (text, shown history) pairs give identical prompts, so chains that share a
        history share its prompts.  The prompt holds, in this order, the instructions and the
        menu of decisions (the same for every agent), the shown history, the agent's text and
        the question, so prompts that share a history share a token prefix.

        >>> from llmas.tasks import get_task
        >>> t = get_task("hate_speech"); c = t.load_corpus()
        >>> m = t.chain_prompt(c, 0, t.environments[0], [1, 0])
        >>> "Agent 1: hateful" in m[-1]["content"], "Agent 2: not hateful" in m[-1]["content"]
        (True, True)
        """
        options = self.chain_options(labels)
        choices = self.chain_choices(labels)
        hist = [int(a) for a in history]
        if any(not 0 <= a < len(options) for a in hist):
            raise ValueError(f"history must hold decisions in 0..{len(options) - 1}, got {hist}")
        if show not in ("full", "counts", "last"):
            raise ValueError(f"show must be 'full', 'counts' or 'last', got {show!r}")
        if int(last_m) < 1:
            raise ValueError(f"last_m must be >= 1, got {last_m}")
        listed = " or ".join(f'"{o}"' for o in options)
        intro = (f"You are one agent in a sequence of agents. Each agent reads its own text and decides whether it "
                 f"is {listed}. All texts in this sequence have the same true answer, so the decisions of the "
                 "agents before you are evidence too; only decisions are shared, never texts.")
        if not hist:
            shown = "You are the first agent: nobody has decided yet."
        elif show == "full":
            shown = "Decisions of the agents before you, in order:\n" + "\n".join(
                f"Agent {j + 1}: {options[a]}" for j, a in enumerate(hist))
        elif show == "counts":
            counts = np.bincount(hist, minlength=len(options))
            shown = (f"Of the {len(hist)} agents before you, " + ", ".join(
                f"{int(n)} decided {options[a]!r}" for a, n in enumerate(counts)) + ".")
        else:
            tail = hist[-int(last_m):]
            shown = "The most recent decisions before yours, oldest first:\n" + "\n".join(f"- {options[a]}"
                                                                                            for a in tail)
        menu = "\n".join(f"{c}: {o}" for c, o in zip(choices, options, strict=True))
        # Order: what every agent shares, then the history, then the agent's own text: a model that
        # reuses the keys/values of common token prefixes computes each history once for all texts.
        user = (f"{intro}\nThe possible decisions:\n{menu}\nAnswer with the letter of your decision only.\n\n"
                f"{shown}\n\nYour text: {corpus.texts[i]}\n\nYour decision:")
        return messages(env, user)

    # ------------------------------------------------------------------ record
    def design(self) -> dict[str, Any]:
        """The design as a JSON-ready dict (stored in every report)."""
        return {"task": self.name, "version": self.version, "kind": self.kind, "description": self.description,
                "n_states": self.n_states, "n_actions": self.n_actions, "state_names": list(self.state_names),
                "action_names": list(self.action_names), "questions": list(self.questions),
                "choices": list(self.choices), "schema": {k: getattr(v, "__name__", str(v))
                                                          for k, v in self.schema.items()},
                "environments": [e.to_dict() for e in self.environments]}

    def __repr__(self) -> str:
        return f"<task {self.name} v{self.version} ({self.kind}): X={self.n_states}, A={self.n_actions}>"


_REGISTRY: dict[str, Task] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: register a :class:`Task` subclass under its ``name`` (one instance)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls()
    return cls


def get_task(name: str | Task) -> Task:
    """The registered task called ``name`` (a :class:`Task` instance is returned as is).

    Raises ``ValueError`` naming the known tasks otherwise.
    """
    if isinstance(name, Task):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(_REGISTRY)}") from None


def task_names(kind: str | None = None) -> list[str]:
    """Names of the registered tasks (of one ``kind`` if given)."""
    return sorted(n for n, t in _REGISTRY.items() if kind is None or t.kind == kind)
