r"""Scripted chain agents: backends whose social learning rule is known, to check ``llmsl chain``.

A :class:`ScriptedChainAgent` implements the backend interface (cached and
counted like a real model) and answers two kinds of prompt:

* the chain prompt of :meth:`llmas.tasks.base.Task.chain_prompt`: it finds its
  text in the prompt (hence the chain's state ``x``, through the task's
  coarsening), reads the shown history ``a_1..a_{k-1}`` and returns its exact
  action distribution

  ``p(a) = (1 - epsilon) sum_y B[x, y] D_k(a | y) + epsilon / A``

  where ``D_k`` is the decision rule of the script (the very rules the fit of
  :func:`sociallearn.fit_social_models` uses,
  :func:`sociallearn.social_models.decision_table`): ``"bayes"`` (the myopic
  Bayesian at the public belief of the history), ``"sensor"`` (history ignored:
  the decision on the private signal at the prior), ``"copy_last"``
  (the previous decision) or ``"majority"``. The private signal
  ``y ~ B[x, .]`` is integrated out, so the answer is exact;
* the labelling questions of the task without history (``llmsl herd``'s
  readings), answered by a planted rater
  (:class:`llmsl.audit.synthetic.PlantedAgent`) whose labels have the coarse
  likelihood ``B`` exactly, so that the ``B`` the pipeline estimates is the
  one the script uses.

The planted rater implements the ``hate_speech`` design; pass ``label_backend``
to script another task's labelling.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from llmas.backends.base import Backend
from llmas.tasks.base import user_text

__all__ = ["ScriptedChainAgent", "scripted_backend", "SCRIPTED_KINDS"]

SCRIPTED_KINDS = ("bayes", "sensor", "copy_last", "majority")
_LINE = re.compile(r"^(?:Agent \d+: |- )(.+)$")


class ScriptedChainAgent(Backend):
    """A backend that acts in a chain by a known rule (see the module docstring).

    Parameters
    ----------
    kind : one of :data:`SCRIPTED_KINDS`
    likelihood : array_like (X, Y)
        Coarse likelihood ``B[x, y]`` of the private signal (X = the chain's decisions).
    corpus : the corpus whose texts the chains use.
    task : str or Task
    labels : str
        The coarsening that defines the decisions (as in :func:`~llmsl.chain.run_chains`).
    prior : array_like (X,), optional
        Public prior ``pi_0`` of the Bayesian filter (uniform by default).
    epsilon : float
        Tremble: a uniformly random action with probability ``epsilon``.
    tie_rule : str
        Tie rule of the decision (as :class:`sociallearn.SocialLearningModel`).
    label_backend : Backend, optional
        Answers the labelling questions (default: a planted hate-speech rater with likelihood ``B``).
    """

    name = "scripted"
    supports_logprobs = True

    def __init__(self, kind: str, likelihood, corpus, *, task: Any = "hate_speech", labels: str = "binary",
                 prior=None, epsilon: float = 0.0, tie_rule: str = "uniform", label_backend: Backend | None = None,
                 cache=False):
        from llmas.tasks import get_task
        from sociallearn import SocialLearningModel, zero_one_cost

        if kind not in SCRIPTED_KINDS:
            raise ValueError(f"kind must be one of {SCRIPTED_KINDS}, got {kind!r}")
        eps = float(epsilon)
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon!r}")
        super().__init__(f"scripted-{kind}", cache=cache)
        self.task = get_task(task)
        self.labels = labels
        self.options = self.task.chain_options(labels)
        self.choices = list(self.task.chain_choices(labels))
        X = len(self.options)
        self.social_model = SocialLearningModel(np.asarray(likelihood, dtype=float), cost=zero_one_cost(X),
                                         tie_rule=tie_rule)
        self.prior = np.full(X, 1.0 / X) if prior is None else np.asarray(prior, dtype=float)
        self.kind, self.epsilon = kind, eps
        if labels == "full":
            smap = np.arange(self.task.n_states)
        else:
            c = self.task.coarsenings[labels]
            smap = np.arange(self.task.n_states) if c.state_map is None else np.asarray(c.state_map)
        # longest texts first, so that a text contained in another is not matched by mistake
        pairs = sorted(zip(corpus.texts, np.asarray(corpus.states).tolist(), strict=True), key=lambda p: -len(p[0]))
        self._texts = [(t, int(smap[s])) for t, s in pairs]
        self._names = {o: j for j, o in enumerate(self.options)}
        self._memo: dict[tuple, np.ndarray] = {}
        self.label_backend = label_backend if label_backend is not None else _planted_labeller(
            self.social_model.likelihood, corpus, self.task, labels, smap)

    def _key_extra(self) -> dict[str, Any]:
        return {"likelihood": np.round(self.social_model.likelihood, 12).tolist(), "epsilon": self.epsilon,
                "prior": np.round(self.prior, 12).tolist(), "tie_rule": self.social_model.tie_rule,
                "labels": self.labels}

    # ------------------------------------------------------------------ reading a chain prompt
    def _state(self, body: str) -> int:
        for text, x in self._texts:
            if text in body:
                return x
        raise ValueError("scripted chain agent: the prompt contains no text of its corpus")

    def _history(self, body: str) -> list[int]:
        if "decided '" in body and "Of the " in body:
            raise ValueError(f"the scripted {self.kind!r} agent needs the decisions in order (history 'full' "
                             "or 'last'), not their counts")
        hist = []
        for line in body.splitlines():
            m = _LINE.match(line.strip())
            if m and m.group(1) in self._names:
                hist.append(self._names[m.group(1)])
        if self.kind in ("bayes", "majority") and "most recent decisions" in body:
            raise ValueError(f"the scripted {self.kind!r} agent needs the full history, not the last decisions")
        return hist

    def action_probs(self, body: str) -> np.ndarray:
        """Exact action distribution (A,) of the agent whose chain prompt is ``body``."""
        x = self._state(body)
        hist = self._history(body) if self.kind != "sensor" else []
        key = (x, tuple(hist))
        if key not in self._memo:
            self._memo[key] = self._rule(x, hist)
        return self._memo[key].copy()

    def _rule(self, x: int, hist: list[int]) -> np.ndarray:
        from sociallearn import ChainData, public_beliefs
        from sociallearn.social_models import decision_table

        m = self.social_model
        X = m.n_states
        if hist:
            d = ChainData([x], [hist], self.prior, n_states=X, n_actions=m.n_actions)
            pi = public_beliefs(d, m)[:, -1]
        else:
            pi = self.prior[None, :]
        own = m.decision_probs(self.prior[None, :])
        h = np.asarray(hist, dtype=np.int64).reshape(1, len(hist))
        D = decision_table(self.kind, m, len(hist), h, pi, own, epsilon=self.epsilon)[0]  # (Y, A)
        return m.likelihood[x] @ D

    # ------------------------------------------------------------------ the backend interface
    def is_chain_prompt(self, messages) -> bool:
        """Whether ``messages`` is a chain prompt (it lists the decisions with their letters)."""
        body = user_text(messages)
        return all(f"{c}: {o}" in body for c, o in zip(self.choices, self.options, strict=True))

    def _choice_missing(self, requests, store) -> None:
        labelling = []
        for i, req in enumerate(requests):
            if list(req["choices"]) != self.choices or not self.is_chain_prompt(req["messages"]):
                labelling.append(i)
                continue
            p = self.action_probs(user_text(req["messages"]))
            store(i, {"logprobs": [float(np.log(v)) if v > 0 else -1e4 for v in p]})
        if labelling:
            self.label_backend._choice_missing([requests[i] for i in labelling],
                                               lambda j, v: store(labelling[j], v))

    def _complete_missing(self, requests, store) -> None:
        """A sampled reply: the letter of an action drawn from the exact distribution (seeded by the request);
        other prompts go to the labelling backend."""
        from llmsl.audit.synthetic import _unit_hash

        labelling = []
        for i, req in enumerate(requests):
            if not self.is_chain_prompt(req["messages"]):
                labelling.append(i)
                continue
            p = self.action_probs(user_text(req["messages"]))
            a = int(np.random.default_rng(_unit_hash(req)).choice(len(p), p=p / p.sum()))
            store(i, self.choices[a])
        if labelling:
            self.label_backend._complete_missing([requests[i] for i in labelling],
                                                 lambda j, v: store(labelling[j], v))


def _planted_labeller(B: np.ndarray, corpus, task, labels: str, smap: np.ndarray):
    """A planted rater whose coarse labels have likelihood ``B`` exactly (hate_speech design)."""
    from llmsl.audit.synthetic import PlantedAgent, hate_speech_locator

    Y = B.shape[1]
    if labels == "full":
        omap = np.arange(task.n_actions)
    else:
        c = task.coarsenings[labels]
        omap = np.arange(task.n_actions) if c.obs_map is None else np.asarray(c.obs_map)
    first = [int(np.flatnonzero(omap == y)[0]) for y in range(Y)]
    kern = np.zeros((task.n_states, task.n_actions))
    for xf in range(task.n_states):
        kern[xf, first] = B[smap[xf]]
    K = len(task.environments)
    return PlantedAgent(np.repeat(kern[None], K, axis=0), hate_speech_locator(corpus), task=task.name,
                        label="planted-coarse", cache=False)


def scripted_backend(kind: str, likelihood, corpus, **kwargs: Any) -> ScriptedChainAgent:
    """A :class:`ScriptedChainAgent` (keyword arguments as its constructor; no cache by default).

    >>> from llmas.tasks import get_task
    >>> corpus = get_task("hate_speech").load_corpus()
    >>> agent = scripted_backend("bayes", [[0.8, 0.2], [0.3, 0.7]], corpus)
    >>> t = get_task("hate_speech")
    >>> p = agent.choice_probs([t.chain_prompt(corpus, 59, t.environments[0], [])], agent.choices)
    >>> p.round(3).tolist()   # a hateful text, no history: P(a) = B[1, .]
    [[0.3, 0.7]]
    """
    return ScriptedChainAgent(kind, likelihood, corpus, **kwargs)
