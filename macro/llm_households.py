"""LLM households (EconAgent-style) through any ``llmas`` backend.

Each month every household decides a work propensity p_w (the economy draws
work ~ Bernoulli(p_w)) and a consumption share p_c of its money, from a prompt
built from the economy's state (price, interest rate, tax brackets, last month's
employment and tax rebate) and its own (pay before and after tax, savings, a
memory of its last ``memory`` months and, every ``reflection_interval`` months, a
short reflection on the period written by the model itself, EconAgent's quarterly
reflection). Two ways to read the decision from the model (``method``):

* ``"choice"`` (default where the backend has exact log-probabilities): the decision
  is a pair of levels on a grid of K = ``levels`` values v_k = k / (K - 1), asked as
  the reply ``"ab"`` (a two-digit code: work level a, spending level b; ``separator``
  puts text between the digits, e.g. ``" "``, at one more token per level). All K^2 replies
  are scored in one batched ``backend.choice_probs`` call per month,

      p_i(a, b) = exp(l_iab) / sum_a'b' exp(l_ia'b'),   l_iab = log P("ab" | prompt_i),

  exact from the model's token log-probabilities (or sample frequencies on a server
  without them, see ``llmas``). ``decision_rule`` turns p_i into the action:
  ``"sample"`` draws (a, b) ~ p_i with the policy's seeded generator (what a reply
  sampled at temperature 1, restricted to the grid, would give; p_w = v_a, p_c = v_b);
  ``"mean"`` takes p_w = E[v_a], p_c = E[v_b] (for work the same Bernoulli law of
  working as sampling, since P(work) = E[v_a]); ``"mode"`` takes the most likely pair
  (what greedy decoding would pick). Nothing is generated and nothing can fail to
  parse. For speed on CPU the prompt puts everything shared by all households
  first (system prompt, rules, the month's prices and taxes), so the backend encodes
  it once per call, and the household's own part (about 25 tokens) last.
* ``"generate"``: free generation of a JSON reply ``{"work": float, "consumption":
  float}`` (the first version, kept for servers that give no log-probabilities and
  for comparison), parsed with ``llmas.parse_json_reply``; both numbers are clipped
  to [0, 1]; a number in (1, 100] is read as a percentage (models often answer "80"
  for 0.8). Parse failures are counted, their raw text and reason kept (the first
  ``keep_failures``), and the household falls back to its **previous valid
  decision**, or to ``initial_decision`` (default work 1, consumption 0.5).

Either way all households of a month go to the backend in one batched call, which
caches every answer, so a rerun with the same seed is served from the cache (for
speed on CPU give the backend a ``batch_size`` of at least N).

Votes (:class:`macro.vote.VotedPlanner`): each household gets a ballot with the
proposed and current rates, the lump-sum rebate under both (shared by all ballots,
so placed first) and its own after-tax pay under both; all ballots of a vote go to
the backend in one ``choice_probs(prompts, ["Yes", "No"])`` call; household i
approves iff P(Yes) > 1/2.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from .households import HouseholdPolicy, MonthOutcome, Observation
from .tax import bracket_tax

SCHEMA = {"work": float, "consumption": float}
METHODS = ("auto", "choice", "generate")
DECISION_RULES = ("sample", "mean", "mode")

#: The economy's rules, in every system prompt (households, scored decisions, ballots).
_RULES = ("unspent money is saved in a bank that pays interest once a year. Income is taxed by brackets and "
          "all tax revenue is returned to everyone in equal shares.")

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


def decision_choices(levels: int, separator: str = "") -> list[str]:
    """The K^2 replies ``f"{a}{separator}{b}"`` scored in the choice method, work level a major.

    Reply ``a * K + b`` means work propensity a / (K - 1) and consumption share
    b / (K - 1), K = ``levels`` (2..10, so each level is one digit). Scoring reads the
    first digit from the prompt's own pass and costs one model token per choice
    prefix after it: K tokens per prompt without a separator, 2 K with a one-token one.

    Example
    -------
    >>> decision_choices(2)
    ['00', '01', '10', '11']
    >>> decision_choices(2, " ")[:2]
    ['0 0', '0 1']
    """
    if isinstance(levels, bool) or int(levels) != levels or not 2 <= levels <= 10:
        raise ValueError(f"levels must be an integer from 2 to 10 (one digit per level), got {levels!r}")
    if not isinstance(separator, str) or any(ch.isdigit() for ch in separator):
        raise ValueError(f"separator must be a str without digits, got {separator!r}")
    k = int(levels)
    return [f"{a}{separator}{b}" for a in range(k) for b in range(k)]


def decide_from_probs(probs, rule: str, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Work propensities and consumption shares (N,) from joint probabilities (N, K, K).

    ``probs[i, a, b]`` is the probability of work level a and spending level b, grid
    v_k = k / (K - 1). ``rule``: ``"sample"`` draws (a, b) ~ probs[i] by inverse CDF on
    one uniform per household from ``rng``; ``"mean"`` gives (E[v_a], E[v_b]);
    ``"mode"`` the grid values of the most likely pair (first one on ties).

    Example
    -------
    >>> p = np.array([[[0.0, 0.25], [0.75, 0.0]]])   # K = 2: P(work 0, spend 1) = 1/4, P(1, 0) = 3/4
    >>> decide_from_probs(p, "mean")
    (array([0.75]), array([0.25]))
    >>> decide_from_probs(p, "mode")
    (array([1.]), array([0.]))
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim != 3 or p.shape[1] != p.shape[2] or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (N, K, K) with K >= 2, got {p.shape}")
    if np.any(~np.isfinite(p)) or np.any(p < 0) or not np.allclose(p.sum(axis=(1, 2)), 1.0, atol=1e-6):
        raise ValueError("probs must be finite, non-negative, and sum to 1 over each household's K x K grid")
    n, k, _ = p.shape
    grid = np.arange(k) / (k - 1)
    if rule == "mean":
        return p.sum(axis=2) @ grid, p.sum(axis=1) @ grid
    if rule == "mode":
        j = p.reshape(n, -1).argmax(axis=1)
    elif rule == "sample":
        if rng is None:
            raise ValueError("rng: decision_rule 'sample' needs a numpy Generator")
        cdf = np.cumsum(p.reshape(n, -1), axis=1)
        u = rng.random(n) * cdf[:, -1]
        j = np.minimum((cdf <= u[:, None]).sum(axis=1), k * k - 1)
    else:
        raise ValueError(f"decision_rule must be one of {DECISION_RULES}, got {rule!r}")
    return grid[j // k], grid[j % k]


def _money(x: float) -> str:
    """Whole dollars: each digit is a token for SmolLM2, so cents would cost two more."""
    return f"${x:,.0f}"


class LLMHouseholds(HouseholdPolicy):
    """Households whose monthly work and consumption decisions come from an LLM.

    Parameters
    ----------
    backend : llmas.Backend
        Any backend (``llmas.TransformersBackend``, ``llmas.OpenAIBackend``...);
        its response cache makes reruns free.
    method : {"auto", "choice", "generate"}
        How the decision is read (module docstring): exact scoring of the K^2 grid
        replies with ``choice_probs``, or a generated JSON reply. ``"auto"``: choice
        when ``backend.supports_logprobs``, else generate.
    levels : int
        K, grid levels per decision in the choice method (default 6: 0, 0.2, ..., 1).
    separator : str
        Text between the two digits of a choice reply (default none: a two-digit code such
        as "41"; ``" "`` reads more like two answers and costs K more tokens per prompt).
    decision_rule : {"sample", "mean", "mode"}
        Choice method: how the exact distribution becomes the action (default sample,
        with the policy's generator, the economy's seeded stream).
    memory : int, optional
        Months of personal history quoted in each prompt (generate: a line of what it earned,
        paid, got, bought and saved each month; choice: whether it worked each month).
        Default: 3 (EconAgent) in the generate method, 1 in the choice method, where a
        longer history splits the households' shared token prefixes into more groups.
    reflection_interval : int, optional
        Every this many months each household writes a reflection on the period
        (0 disables reflections). Default: 3 (EconAgent's quarterly reflection) in the
        generate method, 0 in the choice method, where 40 generated tokens per
        household and quarter, plus the ~45 tokens of the reflection quoted in every
        later prompt, would cost more than all scored decisions together.
    peer_sample : int
        If > 0, each prompt also says how many of ``peer_sample`` randomly chosen
        other households worked last month (the social channel).
    decoding : dict
        Decoding parameters of generated text (decisions in the generate method, and
        reflections); default greedy, ``max_tokens=32`` for decisions (the JSON reply
        takes about 20 tokens with SmolLM2's tokenizer, and a small model keeps writing
        after the closing brace until ``max_tokens``, which is pure waste).
        With ``temperature > 0`` the seed of month t is ``base + t``, ``base``
        drawn from the policy's generator, so a rerun hits the cache.
    reflection_tokens, reflection_chars : int
        Token budget of a reflection (40: "one or two sentences") and the characters
        of it quoted in later prompts (200).
    initial_decision : (float, float)
        Fallback (work, consumption) before a household's first valid reply (generate).
    keep_failures : int
        How many failed replies to keep verbatim.

    Attributes
    ----------
    n_replies, n_parse_failures, n_reflections : int
        Decisions read (scored or generated), failed parses, reflections written.
    failures : list of dicts {"month", "household", "raw", "reason"}
    transcripts : list of the last month's (prompt, reply) per household; in the
        choice method the reply is the chosen (sample, mode) or most likely (mean) grid reply.
    last_probs : ndarray (N, K, K) or None
        The last month's decision distributions (choice method).

    Example
    -------
    A backend whose every reply is "10" is certain of (work 1, spend 0):

    >>> from llmas.backends.base import Backend
    >>> class Sure(Backend):
    ...     supports_logprobs = True
    ...     def _complete_missing(self, requests, store): ...
    ...     def _choice_missing(self, requests, store):
    ...         for i, r in enumerate(requests):
    ...             store(i, {"logprobs": [0.0 if c == "10" else -1e9 for c in r["choices"]]})
    >>> from macro import Economy, EconomyConfig
    >>> pol = LLMHouseholds(Sure("m", cache=False), levels=2)
    >>> res = Economy(EconomyConfig(n_households=3, n_months=2), pol, seed=0).run()
    >>> res.households["work_propensity"].tolist(), res.households["consumption_share"].tolist()
    ([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """

    name = "LLM"

    def __init__(self, backend, *, method: str = "auto", levels: int = 6, decision_rule: str = "sample",
                 separator: str = "",
                 memory: int | None = None, reflection_interval: int | None = None, peer_sample: int = 0,
                 decoding: dict | None = None, initial_decision: tuple[float, float] = (1.0, 0.5),
                 keep_failures: int = 20, progress: bool = False, reflection_tokens: int = 40,
                 reflection_chars: int = 200):
        if not hasattr(backend, "complete_batch"):
            raise ValueError("backend must be an llmas Backend (with complete_batch)")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if decision_rule not in DECISION_RULES:
            raise ValueError(f"decision_rule must be one of {DECISION_RULES}, got {decision_rule!r}")
        self.choices = decision_choices(levels, separator)
        self.levels, self.separator = int(levels), separator
        if method == "auto":
            method = "choice" if getattr(backend, "supports_logprobs", False) else "generate"
        if memory is None:
            memory = 1 if method == "choice" else 3
        if reflection_interval is None:
            reflection_interval = 0 if method == "choice" else 3
        for nm, v in (("memory", memory), ("reflection_interval", reflection_interval),
                      ("peer_sample", peer_sample), ("keep_failures", keep_failures),
                      ("reflection_chars", reflection_chars)):
            if isinstance(v, bool) or int(v) != v or v < 0:
                raise ValueError(f"{nm} must be a non-negative integer, got {v}")
        w0, c0 = initial_decision
        if not (0 <= w0 <= 1 and 0 <= c0 <= 1):
            raise ValueError(f"initial_decision must lie in [0, 1]^2, got {initial_decision}")
        self.backend = backend
        self.method, self.decision_rule = method, decision_rule
        self.memory, self.reflection_interval = int(memory), int(reflection_interval)
        self.peer_sample = int(peer_sample)
        if isinstance(reflection_tokens, bool) or int(reflection_tokens) != reflection_tokens or reflection_tokens < 1:
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
        # One record per past month: (month, worked, income, tax, redistribution, units, spending, savings).
        self.memories: list[deque] = [deque(maxlen=max(self.memory, 1)) for _ in range(n)]
        self.reflections = [""] * n
        self.last_valid = np.tile(np.array(self.initial_decision, dtype=float), (n, 1))
        self._consumption = np.full(n, self.initial_decision[1])
        self.n_replies = self.n_parse_failures = self.n_reflections = 0
        self.failures: list[dict] = []
        self.transcripts: list[tuple] = []
        self.vote_probs: list[list[float]] = []
        self.last_probs: np.ndarray | None = None
        self._top_prob_sum = 0.0
        self._expected_sd: list[tuple[float, float]] = []
        self._choice_methods: set[str] = set()
        self._calls_at_reset = getattr(self.backend, "n_calls", 0)

    # ---------------------------------------------------------------- prompts
    def _decoding(self, month: int, **over) -> dict:
        d = {**self.decoding, **over}
        if d.get("temperature", 0.0) > 0 and d.get("seed") is None:
            d["seed"] = self._seed_base + month
        return d

    def system_prompt(self, i: int) -> str:
        """The household's persona (generate method, reflections)."""
        p = self.profiles[i]
        # Wording kept from the first version: with a shorter one SmolLM2-135M answers the
        # reflection request by repeating it instead of reflecting.
        return (f"You are {p['name']}, a {p['age']}-year-old {p['job']} living in a simple economy. "
                f"Each month you decide whether to work (168 hours at your hourly wage) and how much "
                f"of your money to spend on essential goods; {_RULES}")

    def _memory_lines(self, i: int) -> list[str]:
        if not self.memory:
            return []
        # One compact line per month (~30 tokens): every prompt quotes ``memory`` of them.
        return [f"Month {t + 1}: {'worked' if w else 'did not work'}, earned ${z:,.0f}, tax ${tx:,.0f}, "
                f"got ${r:,.0f}, bought {u:,.1f} units for ${sp:,.0f}, savings ${s:,.0f}."
                for t, w, z, tx, r, u, sp, s in self.memories[i]]

    def prompt(self, obs: Observation, i: int, peer_note: str = "") -> list[dict]:
        """The generate method's prompt (a JSON reply asked for)."""
        gross = obs.hours * obs.skill[i]
        # On CPU the prompt's prefill dominates a month's cost (10 households x ~450 tokens
        # with the first wording), so the user message is kept compact: the household's own
        # after-tax pay replaces the full bracket table (~70 tokens); it is the number the
        # decision needs, and the planner's rates still act through it.
        net = gross - float(bracket_tax(gross, obs.tax_cutoffs, obs.tax_rates))
        hist = "\n".join(self._memory_lines(i))
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

    def choice_system_prompt(self, obs: Observation) -> str:
        """The choice method's system prompt: the rules and the answer format, the same for everyone."""
        top = self.levels - 1
        form = ("a two-digit code" if not self.separator else
                "two digits separated by a space" if self.separator == " " else
                f"two digits separated by {self.separator!r}")
        return (f"You are a household in a simple economy. Each month you decide whether to work "
                f"({obs.hours:g} hours at your hourly wage) and what share of your money (savings plus "
                f"pay after tax) to spend on essential goods; {_RULES} Answer with {form}: the first digit "
                f"says how willing you are to work this month, from 0 (not at all) to {top} (fully); the "
                f"second digit the share of your money you will spend, from 0 (nothing) to {top} (all of it).")

    def month_context(self, obs: Observation) -> str:
        """The part of the choice prompt shared by all households of a month (placed first)."""
        rates = ", ".join(f"{100 * r:.0f}%" for r in obs.tax_rates)
        s = f"Month {obs.month + 1}. Goods cost {_money(obs.price)} per unit"
        if obs.month > 0 and obs.price_history.size:
            change = 100 * (obs.price / obs.price_history[-1] - 1.0)
            s += f" ({change:+.1f}% on last month)"
        s += (f". The bank pays {100 * obs.interest_rate:.1f}% interest a year. Tax rates by bracket: "
              f"{rates}.")
        if obs.month > 0:
            s += (f" Last month {100 * float(np.mean(obs.last_worked)):.0f}% of households worked and "
                  f"each got {_money(float(np.mean(obs.last_redistribution)))} back from taxes.")
        return s

    def household_context(self, obs: Observation, i: int, peer_note: str = "") -> str:
        """The household's own part of the choice prompt, placed last and kept terse.

        Whether it worked in each of the last ``memory`` months, the peers' count, its job,
        then its after-tax pay and savings: words with few variants first, so households
        share long token prefixes (which a backend that encodes shared prefixes once
        computes once), and the numbers, a token per digit, last. Its spending is not
        quoted: it is in the savings. About 25 tokens with one month of memory, 10 to 15 of
        them shared with other households of the same job.
        """
        p = self.profiles[i]
        gross = obs.hours * obs.skill[i]
        net = gross - float(bracket_tax(gross, obs.tax_cutoffs, obs.tax_rates))
        past = list(self.memories[i])[-self.memory:] if self.memory else []
        parts = []
        if len(past) == 1:
            parts.append(f"Last month you {'worked' if past[0][1] else 'did not work'}.")
        elif past:
            did = ", ".join("worked" if rec[1] else "did not work" for rec in past)
            parts.append(f"In the past {len(past)} months (oldest first) you {did}.")
        if peer_note:
            parts.append(peer_note)
        parts.append(f"Your job: {p['job']}.")
        if self.reflections[i]:
            parts.append(f"Your reflection: {self.reflections[i]}")
        parts.append(f"Your pay after tax and savings: {_money(net)} and {_money(obs.savings[i])}.")
        return " ".join(parts)

    def choice_prompt(self, obs: Observation, i: int, peer_note: str = "") -> list[dict]:
        """The choice method's prompt: shared system prompt and month context first, the household last."""
        return [{"role": "system", "content": self.choice_system_prompt(obs)},
                {"role": "user", "content": self.month_context(obs) + "\n"
                 + self.household_context(obs, i, peer_note)}]

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
        if self.method == "choice":
            return self._decide_by_choice(obs)
        return self._decide_by_generation(obs)

    def _decide_by_choice(self, obs: Observation) -> np.ndarray:
        n, k = obs.n_households, self.levels
        notes = self._peer_notes(obs)
        prompts = [self.choice_prompt(obs, i, notes[i]) for i in range(n)]
        cp = self.backend.choice_probs(prompts, self.choices, progress=self.progress)
        self._choice_methods.add(str(getattr(cp, "method", None) or "logprobs"))
        probs = np.asarray(cp, dtype=float).reshape(n, k, k)
        work, cons = decide_from_probs(probs, self.decision_rule, self.rng)
        self.n_replies += n
        flat = probs.reshape(n, -1)
        self._top_prob_sum += float(flat.max(axis=1).sum())
        ew, ec = (work, cons) if self.decision_rule == "mean" else decide_from_probs(probs, "mean")
        self._expected_sd.append((float(ew.std()), float(ec.std())))
        if self.decision_rule == "mean":
            picked = flat.argmax(axis=1)
        else:
            picked = np.rint(work * (k - 1)).astype(int) * k + np.rint(cons * (k - 1)).astype(int)
        self.last_probs = probs
        self.last_valid = np.stack([work, cons], axis=1)
        self.transcripts = [(prompts[i], self.choices[int(picked[i])]) for i in range(n)]
        self._consumption = cons
        return work

    def _decide_by_generation(self, obs: Observation) -> np.ndarray:
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
            self.memories[i].append((out.month, bool(out.worked[i]), float(out.income[i]), float(out.tax[i]),
                                     float(out.redistribution[i]), float(out.consumption[i]),
                                     float(out.spending[i]), float(out.savings[i])))
        if self.reflection_interval and (out.month + 1) % self.reflection_interval == 0:
            self._reflect(out.month)

    def _reflect(self, month: int) -> None:
        prompts = [[{"role": "system", "content": self.system_prompt(i)},
                    {"role": "user", "content": "Your recent months:\n" + "\n".join(self._memory_lines(i))
                     + "\nIn one or two sentences, reflect on how the economy and your finances went "
                       "this quarter and what you will do next."}] for i in range(self.n_households)]
        replies = self.backend.complete_batch(prompts, progress=self.progress,
                                              **self._decoding(month, max_tokens=self.reflection_tokens))
        self.n_reflections += len(replies)
        # Reflections are free text; keep them short so prompts stay bounded.
        self.reflections = [" ".join(r.split())[:self.reflection_chars] for r in replies]

    def vote_prompt(self, obs: Observation, i: int, current: np.ndarray, proposed: np.ndarray) -> list[dict]:
        """The household's ballot: the rebate under both schedules (the same for everyone, first), then
        its own after-tax pay under both (at last month's incomes)."""
        gross = obs.hours * obs.skill[i]
        z = obs.last_income

        def position(rates):
            net = gross - float(bracket_tax(gross, obs.tax_cutoffs, rates))
            rebate = float(bracket_tax(z, obs.tax_cutoffs, rates).mean())
            return net, rebate

        (n0, r0), (n1, r1) = position(current), position(proposed)
        cur = ", ".join(f"{100 * r:.0f}" for r in current)
        new = ", ".join(f"{100 * r:.0f}" for r in proposed)
        p = self.profiles[i]
        user = (f"The tax planner proposes new marginal tax rates for the income brackets: [{new}] percent "
                f"instead of the current [{cur}] percent. All tax revenue is shared equally among households: "
                f"each household receives ${r0:,.2f} under the current rates and would receive ${r1:,.2f} "
                f"under the proposal.\n"
                f"You are a {p['age']}-year-old {p['job']}. Under the current rates a month of work pays you "
                f"${n0:,.2f} after tax; under the proposal you would get ${n1:,.2f}.\n"
                f"Do you vote for the proposal? Answer Yes or No.")
        system = ("You are a household in a simple economy. Each month you decide whether to work and how "
                  f"much of your money to spend on essential goods; {_RULES}")
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def vote(self, obs: Observation, current: np.ndarray, proposed: np.ndarray) -> np.ndarray:
        """Votes through the backend: one batched ``choice_probs(prompts, ["Yes", "No"])`` call;
        household i approves iff P(Yes) > 1/2 (exact next-token probabilities, no sampling)."""
        prompts = [self.vote_prompt(obs, i, current, proposed) for i in range(obs.n_households)]
        p = np.asarray(self.backend.choice_probs(prompts, ["Yes", "No"], progress=self.progress))
        self.vote_probs.append(p[:, 0].tolist())
        return p[:, 0] > 0.5

    def stats(self) -> dict:
        d = {"method": self.method, "n_replies": self.n_replies, "n_parse_failures": self.n_parse_failures,
             "parse_failure_rate": self.n_parse_failures / self.n_replies if self.n_replies else 0.0,
             "n_reflections": self.n_reflections,
             "model_calls": getattr(self.backend, "n_calls", 0) - self._calls_at_reset,
             "failures": self.failures, "vote_p_yes": self.vote_probs}
        if self.method == "choice":
            # How decided the model is: mean probability of its most likely (work, spend) pair
            # (1 / K^2 for a uniform distribution, 1 for a certain one).
            d["mean_top_prob"] = self._top_prob_sum / self.n_replies if self.n_replies else 0.0
            # How much the model's expected decision differs between households (mean over months of
            # the standard deviation across households): near 0, households differ only by the draw.
            sd = np.array(self._expected_sd).reshape(-1, 2)
            d["expected_work_sd"], d["expected_consumption_sd"] = (
                (float(sd[:, 0].mean()), float(sd[:, 1].mean())) if len(sd) else (0.0, 0.0))
            d["choice_method"] = sorted(self._choice_methods)
        return d

    def to_dict(self) -> dict:
        d = {"name": self.name, "backend": getattr(self.backend, "name", None),
             "model": getattr(self.backend, "model", None), "method": self.method, "decoding": self.decoding,
             "memory": self.memory, "reflection_interval": self.reflection_interval,
             "peer_sample": self.peer_sample, "initial_decision": list(self.initial_decision),
             "reflection_tokens": self.reflection_tokens, "reflection_chars": self.reflection_chars}
        if self.method == "choice":
            d.update(levels=self.levels, grid=[k / (self.levels - 1) for k in range(self.levels)],
                     decision_rule=self.decision_rule, separator=self.separator,
                     choices=f"'a{self.separator}b', a = work level, b = spending level",
                     fallback="none needed: every decision is read from the scored choices")
        else:
            d["fallback"] = "previous valid decision, else initial_decision"
        return d
