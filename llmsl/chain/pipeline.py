r"""Chains of LLM agents that read each other's decisions: running them.

R chains of N agents act on texts of known state. Chain r has a true (coarse)
state ``x_r``; agent k of chain r reads its own text (its private observation),
sees the public history ``a_{r,1..k-1}`` (the decisions only, as in the social
learning model of SPEC section 2) and decides. Its prompt is the task's
:meth:`~llmas.tasks.base.Task.chain_prompt`.

Exact likelihoods. Where the backend reads log-probabilities,
``backend.choice_probs`` gives agent k's whole action distribution
``p_{r,k}(a)`` exactly; the realized action (the one the next agents see) is
drawn from it with the seed, and the chain's likelihood is exact. Elsewhere
``choice_probs`` samples replies and the realized action is a draw from their
frequencies (one sampled reply, in effect); only realized actions then enter
the analysis.

A prefix tree over histories. The text of position k in chains of state x is
drawn once per ``(k, x, slot)`` (``text_slots`` slots per state; chain r of
state x uses slot ``j mod text_slots``, j its rank among the chains of that
state): common random numbers. Chains of the same state and slot therefore see
the same prompt at position k whenever their shown histories agree (for every
chain at k = 1), so the run is a prefix tree over histories: each position
sends only its *distinct* prompts, in one backend call, and the saving versus
``R x N`` calls is reported. The uniform numbers that draw the actions are
fixed per (chain, position), so a rerun with the same seed reproduces every
action, and every answer comes from the backend's response cache (zero model
calls).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmsl_core import check_random_state, to_jsonable

__all__ = ["ChainRun", "run_chains", "allocate_states", "HISTORY_MODES"]

log = logging.getLogger("llmsl")

#: how the public history is shown to an agent
HISTORY_MODES = ("full", "counts", "last")


def allocate_states(n_chains: int, prior) -> np.ndarray:
    """True states of ``n_chains`` chains in proportion to ``prior`` (largest remainder), sorted.

    >>> allocate_states(5, [0.5, 0.5]).tolist()
    [0, 0, 0, 1, 1]
    """
    p = np.asarray(prior, dtype=float)
    exact = n_chains * p
    counts = np.floor(exact).astype(np.int64)
    rest = int(n_chains - counts.sum())
    if rest > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
    return np.repeat(np.arange(p.size), counts)


@dataclass
class ChainRun:
    """What :func:`run_chains` observed.

    Attributes
    ----------
    data : :class:`sociallearn.ChainData`
        States, realized actions, priors and (exact mode) the action probabilities.
    texts : ndarray (R, N)
        Corpus position of the text each agent read.
    slots : ndarray (R,)
        Text slot of each chain.
    options : tuple of str
        Names of the decisions (the coarse states).
    method : str
        ``"logprobs"`` (exact action probabilities) or ``"sampling"``.
    distinct_prompts : list of int
        Distinct prompts sent at each position (the nodes of the prefix tree).
    model_calls, cache_hits : int
        Answers computed by the model during the run, and read from the cache.
    """

    data: Any
    texts: np.ndarray
    slots: np.ndarray
    task: str
    labels: str
    options: tuple[str, ...]
    history: str
    last_m: int
    text_slots: int
    method: str
    distinct_prompts: list[int]
    model_calls: int
    cache_hits: int
    seed: int
    backend: dict = field(default_factory=dict)
    example_prompt: list = field(default_factory=list)

    @property
    def n_agent_decisions(self) -> int:
        """``R x N``: the calls a run without shared prompts would make."""
        return int(self.data.n_chains * self.data.n_agents)

    @property
    def n_distinct_prompts(self) -> int:
        return int(sum(self.distinct_prompts))

    @property
    def calls_saved(self) -> int:
        """``R x N`` minus the distinct prompts (the saving of the prefix tree)."""
        return self.n_agent_decisions - self.n_distinct_prompts

    def to_dict(self) -> dict:
        return to_jsonable({
            "task": self.task, "labels": self.labels, "options": list(self.options), "history": self.history,
            "last_m": self.last_m, "text_slots": self.text_slots, "method": self.method, "seed": self.seed,
            "n_chains": self.data.n_chains, "n_agents": self.data.n_agents,
            "agent_decisions": self.n_agent_decisions, "distinct_prompts": self.n_distinct_prompts,
            "distinct_prompts_per_position": self.distinct_prompts, "calls_saved_by_prefix_tree": self.calls_saved,
            "model_calls": self.model_calls, "cache_hits": self.cache_hits, "backend": self.backend,
            "states": self.data.states, "actions": self.data.actions, "texts": self.texts, "slots": self.slots,
            "action_probs": self.data.action_probs, "example_prompt": self.example_prompt})

    def summary(self) -> str:
        return (f"{self.data.n_chains} chains x {self.data.n_agents} agents ({self.task}, decisions "
                f"{list(self.options)}, history shown: {self.history}); {self.n_distinct_prompts} distinct prompts "
                f"for {self.n_agent_decisions} agent decisions ({self.calls_saved} saved by the prefix tree); "
                f"model calls {self.model_calls}, cache hits {self.cache_hits}; action probabilities: {self.method}")


def _coarse_states(task, corpus, labels: str) -> np.ndarray:
    states = np.asarray(corpus.states, dtype=np.int64)
    if labels == "full":
        return states
    c = task.coarsenings[labels]
    return states if c.state_map is None else np.asarray(c.state_map, dtype=np.int64)[states]


def run_chains(backend, task, corpus, *, n_chains: int, n_agents: int, labels: str = "binary",
               history: str = "full", last_m: int = 3, prior=None, text_slots: int = 4, environment: int = 0,
               seed: int = 0, progress: bool = False) -> ChainRun:
    r"""Run R chains of N LLM agents that see each other's decisions (see the module docstring).

    Agent k of chain r gets ``task.chain_prompt(corpus, i_{r,k}, env, a_{r,1..k-1})`` and
    ``p_{r,k} = backend.choice_probs(prompt, task.chain_choices(labels))``; its action is
    ``a_{r,k} = min{a : u_{r,k} < sum_{b <= a} p_{r,k}(b)}`` with ``u_{r,k} ~ U(0, 1)`` fixed by ``seed``.

    Parameters
    ----------
    backend : an :class:`llmas.backends.base.Backend` (cached, counted).
    task : str or Task
        A registered task with a corpus; its coarsening ``labels`` defines the decisions.
    corpus : the task's corpus (texts of known state).
    n_chains, n_agents : int
        R and N.
    labels : str
        ``"binary"`` (default) or another coarsening of the task, or ``"full"``.
    history : {"full", "counts", "last"}
        What an agent sees of the earlier decisions; ``last_m`` for ``"last"``.
    prior : array_like (X,), optional
        Share of chains in each state (also the public prior ``pi_0``); uniform by default.
    text_slots : int
        Independent text sequences per state (fewer slots: more shared prompts).
    environment : int
        Index of the task environment whose system message frames the decision.
    seed : int

    Returns
    -------
    ChainRun

    Examples
    --------
    >>> from llmsl.chain.scripted import scripted_backend
    >>> from llmas.tasks import get_task
    >>> corpus = get_task("hate_speech").load_corpus()
    >>> run = run_chains(scripted_backend("copy_last", [[0.8, 0.2], [0.3, 0.7]], corpus), "hate_speech", corpus,
    ...                  n_chains=20, n_agents=5, seed=0)
    >>> bool((run.data.actions == run.data.actions[:, :1]).all()), run.n_distinct_prompts < 100
    (True, True)
    """
    from llmas.tasks import get_task
    from sociallearn import ChainData

    from ..report import backend_record

    t = get_task(task)
    for name, v in (("n_chains", n_chains), ("n_agents", n_agents), ("text_slots", text_slots),
                    ("last_m", last_m)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if history not in HISTORY_MODES:
        raise ValueError(f"history must be one of {HISTORY_MODES}, got {history!r}")
    if not 0 <= int(environment) < len(t.environments):
        raise ValueError(f"environment must lie in 0..{len(t.environments) - 1}, got {environment}")
    options = t.chain_options(labels)
    choices = list(t.chain_choices(labels))
    X = len(options)
    if len(corpus) == 0:
        raise ValueError("the corpus is empty")
    pri = np.full(X, 1.0 / X) if prior is None else np.asarray(prior, dtype=float)
    if pri.shape != (X,) or not np.all(np.isfinite(pri)) or np.any(pri < 0) or abs(pri.sum() - 1) > 1e-9:
        raise ValueError(f"prior must be a probability vector of length {X}, got {prior!r}")
    coarse = _coarse_states(t, corpus, labels)
    pools = [np.flatnonzero(coarse == x) for x in range(X)]
    missing = [options[x] for x in range(X) if pri[x] > 0 and pools[x].size == 0]
    if missing:
        raise ValueError(f"the corpus has no text of state(s) {missing}")
    R, N, S = int(n_chains), int(n_agents), int(text_slots)
    seed = int(seed)
    states = allocate_states(R, pri)
    rank = np.zeros(R, dtype=np.int64)
    for x in range(X):
        idx = np.flatnonzero(states == x)
        rank[idx] = np.arange(idx.size)
    slots = rank % S
    # common random numbers: one text per (position, state, slot); one uniform per (chain, position)
    rng_text = check_random_state([seed, 1])
    table = np.zeros((N, X, S), dtype=np.int64)
    for x in range(X):
        if pools[x].size:
            table[:, x, :] = pools[x][rng_text.integers(0, pools[x].size, size=(N, S))]
    texts = table[:, states, slots].T.copy()  # (R, N)
    u = check_random_state([seed, 2]).random((R, N))
    env = t.environments[int(environment)]
    actions = np.zeros((R, N), dtype=np.int64)
    probs = np.zeros((R, N, X))
    distinct: list[int] = []
    methods: set[str] = set()
    calls0, hits0 = int(backend.n_calls), int(getattr(backend, "n_cache_hits", 0) or 0)
    example: list = []
    for k in range(N):
        keys: dict[str, int] = {}
        prompts: list[list[dict[str, str]]] = []
        node = np.zeros(R, dtype=np.int64)
        for r in range(R):
            msgs = t.chain_prompt(corpus, int(texts[r, k]), env, actions[r, :k], labels=labels, show=history,
                                  last_m=last_m)
            key = json.dumps(msgs, sort_keys=True)
            j = keys.get(key)
            if j is None:
                j = keys[key] = len(prompts)
                prompts.append(msgs)
            node[r] = j
        if k == min(2, N - 1):
            example = prompts[0]
        p = backend.choice_probs(prompts, choices, progress=progress)
        methods.add(str(getattr(p, "method", "logprobs")))
        P = np.asarray(p, dtype=float)[node]  # (R, X)
        cum = np.cumsum(P, axis=1)
        a = np.minimum((u[:, k:k + 1] * cum[:, -1:] >= cum).sum(axis=1), X - 1)
        actions[:, k] = a
        probs[:, k] = P
        distinct.append(len(prompts))
        log.info("chain position %d of %d: %d distinct prompts for %d chains", k + 1, N, len(prompts), R)
    method = "logprobs" if methods == {"logprobs"} else "sampling"
    data = ChainData(states, actions, pri, action_probs=probs if method == "logprobs" else None, n_states=X,
                     n_actions=X)
    return ChainRun(data=data, texts=texts, slots=slots, task=t.name, labels=labels, options=tuple(options),
                    history=history, last_m=int(last_m), text_slots=S, method=method, distinct_prompts=distinct,
                    model_calls=int(backend.n_calls) - calls0,
                    cache_hits=int(getattr(backend, "n_cache_hits", 0) or 0) - hits0, seed=seed,
                    backend=backend_record(backend), example_prompt=example)
