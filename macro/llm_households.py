"""LLM households (EconAgent-style) through any ``llmas`` backend.

Each month every household gets a prompt built from its own state (pay before
and after tax under the schedule in force, savings, the price, the interest
rate, last month's transfer), a memory of its last ``memory`` months and, every
``reflection_interval`` months, a short reflection on the last quarter written
by the model itself (EconAgent's quarterly reflection). The reply is parsed
with ``llmas.parse_json_reply`` against the schema
``{"work": float, "consumption": float}``; both numbers are clipped to [0, 1]
(work: the propensity p_w, the economy draws work ~ Bernoulli(p_w);
consumption: the share p_c of money spent on the good). A number in (1, 100]
is read as a percentage (models often answer "80" for 0.8).

Parse failures (no JSON, missing keys, non-numbers, NaN) are counted, their
raw text and reason kept (the first ``keep_failures``), and the household
falls back to its **previous valid decision**, or to ``initial_decision``
(default work 1, consumption 0.5) if it never had one. Calls for all households
of a month (and for all reflections) go to the backend in one
``complete_batch``, which batches forward passes and caches every answer, so a
rerun with the same seed is served from the cache (for speed on CPU give the backend a
``batch_size`` of at least N, so that a month is one forward batch).

Votes (:class:`macro.vote.VotedPlanner`): each household gets a ballot with its after-tax
pay and the lump-sum rebate under the current and the proposed schedule, and all ballots
of a vote go to the backend in one ``choice_probs(prompts, ["Yes", "No"])`` call;
household i approves iff P(Yes) > 1/2.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .households import HouseholdPolicy, MonthOutcome, Observation
from .tax import bracket_tax

SCHEMA = {"work": float, "consumption": float}

_JOBS = ("teacher", "nurse", "carpenter", "software developer", "cashier", "farmer", "electrician",
         "accountant", "truck driver", "chef", "mechanic", "librarian", "plumber", "artist",
         "engineer", "salesperson")
_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
          "Drew", "Parker", "Reese", "Rowan", "Skyler", "Emerson")


def parse_decision(text: str) -> tuple[float, float]:
    """(work, consumption) in [0, 1] from a reply; raises ``ValueError`` (with ``.reason``
    when it comes from llmas) if the reply does not follow the schema."""
    from llmas import parse_json_reply  # lazy: llmas pulls in its backends

    d = parse_json_reply(text, SCHEMA)
    w, c = float(d["work"]), float(d["consumption"])
    if not (np.isfinite(w) and np.isfinite(c)):
        raise ValueError(f"non-finite decision work={w}, consumption={c}")
    # Models often answer in percent; read numbers above 1 (up to 100) as percentages.
    w, c = (v / 100.0 if 1.0 < v <= 100.0 else v for v in (w, c))
    return float(np.clip(w, 0.0, 1.0)), float(np.clip(c, 0.0, 1.0))


class LLMHouseholds(HouseholdPolicy):
    """Households whose monthly work and consumption decisions come from an LLM.

    Parameters
    ----------
    backend : llmas.Backend
        Any backend (``llmas.TransformersBackend``, ``llmas.OpenAIBackend``...);
        its response cache makes reruns free.
    memory : int
        Months of personal history quoted in each prompt (EconAgent: 3).
    reflection_interval : int
        Every this many months each household writes a reflection on the
        period (0 disables reflections). EconAgent: quarterly (3).
    peer_sample : int
        If > 0, each prompt also says how many of ``peer_sample`` randomly chosen
        other households worked last month (the social channel).
    decoding : dict
        Decoding parameters (default greedy, ``max_tokens=32`` for decisions: the JSON
        reply takes about 20 tokens with SmolLM2's tokenizer, and a small model keeps
        writing after the closing brace until ``max_tokens``, which is pure waste).
        With ``temperature > 0`` the seed of month t is ``base + t``, ``base``
        drawn from the policy's generator, so a rerun hits the cache.
    reflection_tokens, reflection_chars : int
        Token budget of a reflection (40: "one or two sentences") and the characters
        of it quoted in later prompts (200).
    initial_decision : (float, float)
        Fallback (work, consumption) before a household's first valid reply.
    keep_failures : int
        How many failed replies to keep verbatim.

    Attributes
    ----------
    n_replies, n_parse_failures, n_reflections : int
    failures : list of dicts {"month", "household", "raw", "reason"}
    transcripts : list of the last month's (prompt, reply) per household
    """

    name = "LLM"

    def __init__(self, backend, *, memory: int = 3, reflection_interval: int = 3, peer_sample: int = 0,
                 decoding: dict | None = None, initial_decision: tuple[float, float] = (1.0, 0.5),
                 keep_failures: int = 20, progress: bool = False, reflection_tokens: int = 40,
                 reflection_chars: int = 200):
        for nm, v in (("memory", memory), ("reflection_interval", reflection_interval),
                      ("peer_sample", peer_sample), ("keep_failures", keep_failures),
                      ("reflection_chars", reflection_chars)):
            if int(v) != v or v < 0:
                raise ValueError(f"{nm} must be a non-negative integer, got {v}")
        w0, c0 = initial_decision
        if not (0 <= w0 <= 1 and 0 <= c0 <= 1):
            raise ValueError(f"initial_decision must lie in [0, 1]^2, got {initial_decision}")
        if not hasattr(backend, "complete_batch"):
            raise ValueError("backend must be an llmas Backend (with complete_batch)")
        self.backend = backend
        self.memory, self.reflection_interval = int(memory), int(reflection_interval)
        self.peer_sample = int(peer_sample)
        if int(reflection_tokens) != reflection_tokens or reflection_tokens < 1:
            raise ValueError(f"reflection_tokens must be a positive integer, got {reflection_tokens}")
        self.reflection_tokens, self.reflection_chars = int(reflection_tokens), int(reflection_chars)
        self.decoding = {"temperature": 0.0, "max_tokens": 32, **(decoding or {})}
        self.initial_decision = (float(w0), float(c0))
        self.keep_failures = int(keep_failures)
        self.progress = progress
        self.name = f"LLM({getattr(backend, 'model', '?')})"

    def reset(self, n_households, rng):
        super().reset(n_households, rng)
        n = n_households
        self.profiles = [{"name": _NAMES[i % len(_NAMES)] + (f" {i // len(_NAMES) + 1}" if i >= len(_NAMES) else ""),
                          "age": int(rng.integers(20, 61)), "job": _JOBS[int(rng.integers(len(_JOBS)))]}
                         for i in range(n)]
        self._seed_base = int(rng.integers(0, 2**31 - 1))
        self.memories = [deque(maxlen=max(self.memory, 1)) for _ in range(n)]
        self.reflections = [""] * n
        self.last_valid = np.tile(np.array(self.initial_decision, dtype=float), (n, 1))
        self._consumption = np.full(n, self.initial_decision[1])
        self.n_replies = self.n_parse_failures = self.n_reflections = 0
        self.failures: list[dict] = []
        self.transcripts: list[tuple] = []
        self.vote_probs: list[list[float]] = []
        self._calls_at_reset = getattr(self.backend, "n_calls", 0)

    # ---------------------------------------------------------------- prompts
    def _decoding(self, month: int, **over) -> dict:
        d = {**self.decoding, **over}
        if d.get("temperature", 0.0) > 0 and d.get("seed") is None:
            d["seed"] = self._seed_base + month
        return d

    def system_prompt(self, i: int) -> str:
        p = self.profiles[i]
        # Wording kept from the first version: with a shorter one SmolLM2-135M answers the
        # reflection request by repeating it instead of reflecting.
        return (f"You are {p['name']}, a {p['age']}-year-old {p['job']} living in a simple economy. "
                f"Each month you decide whether to work (168 hours at your hourly wage) and how much "
                f"of your money to spend on essential goods; unspent money is saved in a bank that "
                f"pays interest once a year. Income is taxed by brackets and all tax revenue is "
                f"returned to everyone in equal shares.")

    def prompt(self, obs: Observation, i: int, peer_note: str = "") -> list[dict]:
        gross = obs.hours * obs.skill[i]
        # On CPU the prompt's prefill dominates a month's cost (10 households x ~450 tokens
        # with the first wording), so the user message is kept compact: the household's own
        # after-tax pay replaces the full bracket table (~70 tokens); it is the number the
        # decision needs, and the planner's rates still act through it.
        net = gross - float(bracket_tax(gross, obs.tax_cutoffs, obs.tax_rates))
        hist = "\n".join(self.memories[i]) if self.memory else ""
        parts = [f"It is month {obs.month + 1}. Working this month would earn ${gross:,.2f} before tax "
                 f"(${net:,.2f} after tax).",
                 f"Your savings are ${obs.savings[i]:,.2f}. Goods cost ${obs.price:,.2f} per unit. "
                 f"Interest rate {100 * obs.interest_rate:.1f}% a year. Your share of last month's "
                 f"taxes: ${obs.last_redistribution[i]:,.2f}."]
        if hist:
            parts.append("Your recent months:\n" + hist)
        if self.reflections[i]:
            parts.append(f"Your reflection on the last quarter: {self.reflections[i]}")
        if peer_note:
            parts.append(peer_note)
        parts.append('Choose your willingness to work and the share of your money to spend, each '
                     'from 0 to 1. Reply with JSON only, like {"work": 0.8, "consumption": 0.4}.')
        return [{"role": "system", "content": self.system_prompt(i)},
                {"role": "user", "content": "\n".join(parts)}]

    def _peer_notes(self, obs: Observation) -> list[str]:
        n = obs.n_households
        if not self.peer_sample or obs.month == 0 or n < 2:
            return [""] * n
        k = min(self.peer_sample, n - 1)
        peers = self.rng.integers(0, n - 1, size=(n, k))
        peers = peers + (peers >= np.arange(n)[:, None])
        worked = obs.last_worked[peers].sum(axis=1)
        return [f"Of {k} households you know, {int(w)} worked last month." for w in worked]

    # ---------------------------------------------------------------- decisions
    def work_propensity(self, obs: Observation) -> np.ndarray:
        n = obs.n_households
        notes = self._peer_notes(obs)
        prompts = [self.prompt(obs, i, notes[i]) for i in range(n)]
        replies = self.backend.complete_batch(prompts, progress=self.progress, **self._decoding(obs.month))
        work = np.empty(n)
        cons = np.empty(n)
        for i, reply in enumerate(replies):
            self.n_replies += 1
            try:
                work[i], cons[i] = parse_decision(reply)
                self.last_valid[i] = (work[i], cons[i])
            except ValueError as err:
                self.n_parse_failures += 1
                if len(self.failures) < self.keep_failures:
                    self.failures.append({"month": obs.month, "household": i, "raw": reply,
                                          "reason": str(getattr(err, "reason", err))})
                work[i], cons[i] = self.last_valid[i]
        self.transcripts = list(zip(prompts, replies, strict=False))
        self._consumption = cons
        return work

    def consumption_share(self, obs: Observation, income: np.ndarray) -> np.ndarray:
        return self._consumption.copy()

    def end_month(self, obs: Observation, out: MonthOutcome) -> None:
        for i in range(obs.n_households):
            did = "worked" if out.worked[i] else "did not work"
            # One compact line per month (~30 tokens): every prompt quotes ``memory`` of them.
            self.memories[i].append(
                f"Month {out.month + 1}: {did}, earned ${out.income[i]:,.0f}, tax ${out.tax[i]:,.0f}, "
                f"got ${out.redistribution[i]:,.0f}, bought {out.consumption[i]:,.1f} units for "
                f"${out.spending[i]:,.0f}, savings ${out.savings[i]:,.0f}.")
        if self.reflection_interval and (out.month + 1) % self.reflection_interval == 0:
            self._reflect(out.month)

    def _reflect(self, month: int) -> None:
        prompts = [[{"role": "system", "content": self.system_prompt(i)},
                    {"role": "user", "content": "Your recent months:\n" + "\n".join(self.memories[i])
                     + "\nIn one or two sentences, reflect on how the economy and your finances went "
                       "this quarter and what you will do next."}] for i in range(self.n_households)]
        replies = self.backend.complete_batch(prompts, progress=self.progress,
                                              **self._decoding(month, max_tokens=self.reflection_tokens))
        self.n_reflections += len(replies)
        # Reflections are free text; keep them short so prompts stay bounded.
        self.reflections = [" ".join(r.split())[:self.reflection_chars] for r in replies]

    def vote_prompt(self, obs: Observation, i: int, current: np.ndarray, proposed: np.ndarray) -> list[dict]:
        """The household's ballot: its after-tax pay and rebate under both schedules (at last month's incomes)."""
        gross = obs.hours * obs.skill[i]
        z = obs.last_income

        def position(rates):
            net = gross - float(bracket_tax(gross, obs.tax_cutoffs, rates))
            rebate = float(bracket_tax(z, obs.tax_cutoffs, rates).mean())
            return net, rebate

        (n0, r0), (n1, r1) = position(current), position(proposed)
        cur = ", ".join(f"{100 * r:.0f}" for r in current)
        new = ", ".join(f"{100 * r:.0f}" for r in proposed)
        user = (f"The tax planner proposes new marginal tax rates for the income brackets: [{new}] percent "
                f"instead of the current [{cur}] percent. All tax revenue is shared equally among households.\n"
                f"Under the current rates a month of work pays you ${n0:,.2f} after tax and each household "
                f"receives ${r0:,.2f}; under the proposal you would get ${n1:,.2f} after tax and ${r1:,.2f}.\n"
                f"Do you vote for the proposal? Answer Yes or No.")
        return [{"role": "system", "content": self.system_prompt(i)}, {"role": "user", "content": user}]

    def vote(self, obs: Observation, current: np.ndarray, proposed: np.ndarray) -> np.ndarray:
        """Votes through the backend: one batched ``choice_probs(prompts, ["Yes", "No"])`` call;
        household i approves iff P(Yes) > 1/2 (exact next-token probabilities, no sampling)."""
        prompts = [self.vote_prompt(obs, i, current, proposed) for i in range(obs.n_households)]
        p = np.asarray(self.backend.choice_probs(prompts, ["Yes", "No"], progress=self.progress))
        self.vote_probs.append(p[:, 0].tolist())
        return p[:, 0] > 0.5

    def stats(self) -> dict:
        return {"n_replies": self.n_replies, "n_parse_failures": self.n_parse_failures,
                "parse_failure_rate": self.n_parse_failures / self.n_replies if self.n_replies else 0.0,
                "n_reflections": self.n_reflections,
                "model_calls": getattr(self.backend, "n_calls", 0) - self._calls_at_reset,
                "failures": self.failures, "vote_p_yes": self.vote_probs}

    def to_dict(self) -> dict:
        return {"name": self.name, "backend": getattr(self.backend, "name", None),
                "model": getattr(self.backend, "model", None), "decoding": self.decoding,
                "memory": self.memory, "reflection_interval": self.reflection_interval,
                "peer_sample": self.peer_sample, "initial_decision": list(self.initial_decision),
                "reflection_tokens": self.reflection_tokens, "reflection_chars": self.reflection_chars,
                "fallback": "previous valid decision, else initial_decision"}
