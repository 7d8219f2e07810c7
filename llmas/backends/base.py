"""The backend interface shared by every LLM backend.

A backend answers two questions:

* ``complete(messages, **decoding) -> str``: a reply to a chat;
* ``choice_probs(prompts, choices) -> ChoiceProbs``: for each prompt, the
  probability of each candidate reply, normalized over the candidates,

      p(c | prompt) = exp(l_c) / sum_c' exp(l_c'),   l_c = sum_i log P(t_i^c | prompt, t_<i^c),

  where t^c are the tokens of choice c (exact, from log-probabilities), or the
  empirical frequencies of n sampled replies where the backend offers no
  log-probabilities.

The base class does everything that is not model-specific: input validation,
canonical cache keys, cache look-up, counting real model calls (``n_calls``)
and storing each answer the moment it arrives (so an interrupted run resumes).
Subclasses implement ``_complete_missing`` and ``_choice_missing``.
"""
from __future__ import annotations

import abc
import logging
import math
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..cache import ResponseCache, request_key

logger = logging.getLogger("llmas")

__all__ = [
    "Backend",
    "BackendError",
    "ChoiceProbs",
    "normalize_messages",
    "normalize_prompts",
    "normalize_choices",
    "normalize_decoding",
    "DECODING_DEFAULTS",
]

Message = dict[str, str]
Messages = list[Message]

#: Decoding parameters every backend understands, with their defaults.
#: ``sample_index`` only matters when ``temperature > 0`` and ``seed is None``:
#: it numbers independent samples so that each is cached and replayable.
DECODING_DEFAULTS: dict[str, Any] = {
    "temperature": 0.0,
    "max_tokens": 256,
    "top_p": 1.0,
    "seed": None,
    "sample_index": 0,
}

_ROLES = {"system", "user", "assistant"}


class BackendError(RuntimeError):
    """A model or server failed in a way retrying did not fix."""


class ChoiceProbs(np.ndarray):
    """Choice probabilities, shape (n_prompts, n_choices), rows summing to 1.

    A plain ``numpy.ndarray`` with extra attributes:

    method : str
        ``"logprobs"`` (exact, from token log-probabilities) or ``"sampling"``
        (frequencies of ``n_samples`` sampled replies per prompt).
    choices : tuple of str
    n_samples : int or None
        Samples per prompt when ``method == "sampling"``.
    logprobs : ndarray or None
        Unnormalized total log-probabilities l_c (``method == "logprobs"``).
    counts : ndarray or None
        Matched sample counts, and ``n_unmatched`` the replies that matched no
        choice (``method == "sampling"``).
    """

    method: str
    choices: tuple[str, ...]
    n_samples: int | None
    logprobs: np.ndarray | None
    counts: np.ndarray | None
    n_unmatched: np.ndarray | None

    def __new__(cls, probs, *, method: str, choices: Sequence[str], n_samples: int | None = None,
                logprobs=None, counts=None, n_unmatched=None):
        obj = np.asarray(probs, dtype=float).view(cls)
        obj.method = method
        obj.choices = tuple(choices)
        obj.n_samples = n_samples
        obj.logprobs = None if logprobs is None else np.asarray(logprobs, dtype=float)
        obj.counts = None if counts is None else np.asarray(counts)
        obj.n_unmatched = None if n_unmatched is None else np.asarray(n_unmatched)
        return obj

    def __array_finalize__(self, obj):
        if obj is None:
            return
        for name in ("method", "choices", "n_samples", "logprobs", "counts", "n_unmatched"):
            setattr(self, name, getattr(obj, name, None))

    def __reduce__(self):
        # Pickle as a plain array plus attributes.
        return (_rebuild_choice_probs, (np.asarray(self), self.method, self.choices, self.n_samples,
                                        self.logprobs, self.counts, self.n_unmatched))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: probabilities, method, choices, samples."""
        d: dict[str, Any] = {"probs": np.asarray(self).tolist(), "method": self.method,
                             "choices": list(self.choices or ())}
        if self.n_samples is not None:
            d["n_samples"] = int(self.n_samples)
        if self.logprobs is not None:
            d["logprobs"] = self.logprobs.tolist()
        if self.counts is not None:
            d["counts"] = self.counts.tolist()
            d["n_unmatched"] = [] if self.n_unmatched is None else self.n_unmatched.tolist()
        return d


def _rebuild_choice_probs(arr, method, choices, n_samples, logprobs, counts, n_unmatched):
    return ChoiceProbs(arr, method=method, choices=choices, n_samples=n_samples, logprobs=logprobs,
                       counts=counts, n_unmatched=n_unmatched)


# validation -----------------------------------------------------------------
def normalize_messages(messages: Any) -> Messages:
    """A chat as a list of ``{"role", "content"}`` dicts.

    A ``str`` is one user message.  Roles must be system, user or assistant and
    every content a string; anything else raises ``ValueError``.
    """
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, Mapping) or not isinstance(messages, Sequence) or isinstance(messages, bytes):
        raise ValueError(f"messages must be a str or a list of {{'role', 'content'}} dicts, "
                         f"got {type(messages).__name__}")
    if len(messages) == 0:
        raise ValueError("messages is an empty list")
    out: Messages = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping):
            raise ValueError(f"message {i} must be a dict with 'role' and 'content', got {type(m).__name__}")
        if "role" not in m or "content" not in m:
            raise ValueError(f"message {i} lacks 'role' or 'content': {dict(m)!r}")
        role, content = m["role"], m["content"]
        if role not in _ROLES:
            raise ValueError(f"message {i} has role {role!r}; expected one of {sorted(_ROLES)}")
        if not isinstance(content, str):
            raise ValueError(f"message {i} content must be a str, got {type(content).__name__}")
        out.append({"role": role, "content": content})
    return out


def normalize_prompts(prompts: Any) -> list[Messages]:
    """A list of chats: a ``str`` or one chat (list of dicts) counts as one prompt."""
    if isinstance(prompts, str):
        return [normalize_messages(prompts)]
    if isinstance(prompts, Sequence) and prompts and all(isinstance(p, Mapping) for p in prompts):
        return [normalize_messages(prompts)]
    if not isinstance(prompts, Sequence) or isinstance(prompts, bytes):
        raise ValueError(f"prompts must be a list of str or of message lists, got {type(prompts).__name__}")
    if len(prompts) == 0:
        raise ValueError("prompts is empty")
    return [normalize_messages(p) for p in prompts]


def normalize_choices(choices: Any) -> list[str]:
    """Validated choices: a non-empty list of distinct, non-empty strings."""
    if isinstance(choices, str) or not isinstance(choices, Sequence):
        raise ValueError(f"choices must be a list of str, got {type(choices).__name__}")
    if len(choices) == 0:
        raise ValueError("choices is empty: give at least one candidate reply")
    for i, c in enumerate(choices):
        if not isinstance(c, str):
            raise ValueError(f"choice {i} must be a str, got {type(c).__name__}")
        if c == "":
            raise ValueError(f"choice {i} is the empty string")
    if len(set(choices)) != len(choices):
        dup = sorted({c for c in choices if list(choices).count(c) > 1})
        raise ValueError(f"choices contain duplicates: {dup}")
    return list(choices)


def normalize_decoding(decoding: Mapping[str, Any]) -> dict[str, Any]:
    """Decoding parameters with defaults filled in and values checked.

    Keys: ``temperature`` (>= 0; 0 is greedy), ``max_tokens`` (>= 1),
    ``top_p`` (in (0, 1]), ``seed`` (int or None), ``sample_index`` (>= 0).
    ``sample_index`` is dropped unless ``temperature > 0`` and ``seed is None``,
    because only then does it change the answer.
    """
    unknown = set(decoding) - set(DECODING_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown decoding parameter(s) {sorted(unknown)}; "
                         f"expected {sorted(DECODING_DEFAULTS)}")
    d = {**DECODING_DEFAULTS, **decoding}
    t = d["temperature"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {t!r}")
    mt = d["max_tokens"]
    if isinstance(mt, bool) or not isinstance(mt, (int, np.integer)) or mt < 1:
        raise ValueError(f"max_tokens must be an int >= 1, got {mt!r}")
    tp = d["top_p"]
    if isinstance(tp, bool) or not isinstance(tp, (int, float)) or not (0 < tp <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {tp!r}")
    s = d["seed"]
    if s is not None and (isinstance(s, bool) or not isinstance(s, (int, np.integer))):
        raise ValueError(f"seed must be an int or None, got {s!r}")
    si = d["sample_index"]
    if isinstance(si, bool) or not isinstance(si, (int, np.integer)) or si < 0:
        raise ValueError(f"sample_index must be an int >= 0, got {si!r}")
    out: dict[str, Any] = {"temperature": float(t), "max_tokens": int(mt), "top_p": float(tp),
                           "seed": None if s is None else int(s)}
    if out["temperature"] > 0 and out["seed"] is None:
        out["sample_index"] = int(si)
    return out


# the interface ----------------------------------------------------------------
class Backend(abc.ABC):
    """Abstract LLM backend with a response cache.

    Attributes
    ----------
    name : str
        Backend family, e.g. ``"transformers"`` or ``"openai"``.
    model : str
        Model id, part of every cache key.
    n_calls : int
        Answers the model actually computed (cache misses); a rerun served
        from the cache leaves it unchanged.
    n_cache_hits : int
        Requests answered from the cache (or by an identical request of the
        same call), so ``n_calls + n_cache_hits`` is the number of requests.
    cache : ResponseCache or None
    last_choice_method : str or None
        Method of the last ``choice_probs`` call (also on the result's ``.method``).
    supports_logprobs : bool
        Whether ``choice_probs`` is (expected to be) exact from log-probabilities.

    Subclassing: implement ``_complete_missing(requests, store)`` and
    ``_choice_missing(requests, store)``; each request is a dict with ``op``,
    ``messages`` (normalized), ``decoding`` or ``choices``; call
    ``store(i, value)`` as each answer arrives (the base class caches it and
    counts ``n_calls``).
    """

    name: str = "abstract"
    supports_logprobs: bool = False

    def __init__(self, model: str, *, cache: ResponseCache | None | bool = None):
        self.model = str(model)
        self._check_cache_arg(cache)
        if cache is False:
            self.cache = None
        elif cache is None or cache is True:
            self.cache = ResponseCache()
        else:
            self.cache = cache
        self.n_calls = 0
        self.n_cache_hits = 0
        self.last_choice_method: str | None = None
        self._count_lock = threading.Lock()

    @staticmethod
    def _check_cache_arg(cache: Any) -> None:
        if not (cache is None or isinstance(cache, (bool, ResponseCache))):
            raise ValueError(f"cache must be a ResponseCache, None (default cache) or False, got {cache!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, n_calls={self.n_calls})"

    def describe(self) -> dict[str, Any]:
        """What a report says about this backend (never a key): name, model id, counts.

        Subclasses add what identifies the model further (revision, server URL).

        >>> class Echo(Backend):
        ...     name = "echo"
        ...     def _complete_missing(self, requests, store): ...
        ...     def _choice_missing(self, requests, store): ...
        >>> Echo("m", cache=False).describe()
        {'backend': 'echo', 'model': 'm', 'n_calls': 0, 'n_cache_hits': 0}
        """
        return {"backend": self.name, "model": self.model, "n_calls": self.n_calls,
                "n_cache_hits": self.n_cache_hits}

    # public API -----------------------------------------------------------
    def complete(self, messages: Any, **decoding: Any) -> str:
        """Reply to one chat.

        Parameters
        ----------
        messages : str or list of {"role", "content"} dicts
        **decoding : temperature, max_tokens, top_p, seed, sample_index

        Returns
        -------
        str
            The reply text (special tokens removed).

        Examples
        --------
        >>> backend.complete("Say hi", max_tokens=5)    # doctest: +SKIP
        'Hi there!'
        """
        return self.complete_batch([messages], **decoding)[0]

    def complete_batch(self, list_of_messages: Sequence[Any], *, progress: bool = False,
                       **decoding: Any) -> list[str]:
        """Replies to many chats (batched or concurrent, cached).

        Identical chats in one call at ``temperature > 0`` without a seed get
        successive ``sample_index`` values (starting from the given one), so they
        are independent samples, each cached and replayable.

        Returns a list of ``len(list_of_messages)`` strings.
        """
        if isinstance(list_of_messages, str) or not isinstance(list_of_messages, Sequence):
            raise ValueError("complete_batch expects a list of chats (str or message lists)")
        chats = [normalize_messages(m) for m in list_of_messages]
        dec = normalize_decoding(decoding)
        requests = []
        seen: dict[str, int] = {}
        for msgs in chats:
            d = dict(dec)
            if "sample_index" in d:
                base = request_key({"m": msgs, "d": dec})
                d["sample_index"] = dec["sample_index"] + seen.get(base, 0)
                seen[base] = seen.get(base, 0) + 1
            requests.append(self._request("complete", messages=msgs, decoding=d))
        return self._run(requests, self._complete_missing, progress=progress, desc="complete")

    def choice_probs(self, prompts: Any, choices: Sequence[str], *, progress: bool = False) -> ChoiceProbs:
        """Probability of each choice as the reply to each prompt.

        ``p[i, c] = exp(l_ic) / sum_c' exp(l_ic')`` with ``l_ic`` the summed
        token log-probabilities of choice c as the start of the assistant reply
        to prompt i (exact; or sample frequencies if the backend must sample;
        see ``ChoiceProbs.method``).

        Parameters
        ----------
        prompts : str, one chat, or list of str / chats
        choices : list of distinct non-empty str, shared by all prompts

        Returns
        -------
        ChoiceProbs, shape (n_prompts, n_choices), rows summing to 1.

        Examples
        --------
        >>> p = backend.choice_probs(["Is the sky blue?"], ["Yes", "No"])  # doctest: +SKIP
        >>> p.shape, p.method                                           # doctest: +SKIP
        ((1, 2), 'logprobs')
        """
        chats = normalize_prompts(prompts)
        choices = normalize_choices(choices)
        op, extra = self._choice_op()
        requests = [self._request(op, messages=m, choices=choices, **extra) for m in chats]
        values = self._run(requests, self._choice_missing, progress=progress, desc="choice_probs")
        return self._assemble_choice_probs(values, choices)

    # helpers for subclasses -------------------------------------------------
    def _choice_op(self) -> tuple[str, dict[str, Any]]:
        """Operation name and extra key fields of ``choice_probs`` (subclasses may sample)."""
        return "choice_logprobs", {}

    def _request(self, op: str, **fields: Any) -> dict[str, Any]:
        return {"op": op, "backend": self.name, "model": self.model, **self._key_extra(), **fields}

    def _key_extra(self) -> dict[str, Any]:
        """Extra fields that identify the model beyond its id (e.g. a prompt format)."""
        return {}

    def _run(self, requests: list[dict[str, Any]], compute: Callable, *, progress: bool,
             desc: str) -> list[Any]:
        keys = [request_key(r) for r in requests]
        results: dict[str, Any] = self.cache.get_many(keys) if self.cache is not None else {}
        missing: dict[str, dict[str, Any]] = {}
        for k, r in zip(keys, requests, strict=True):
            if k not in results and k not in missing:
                missing[k] = r
        with self._count_lock:
            self.n_cache_hits += len(keys) - len(missing)
        if len(keys) > len(missing):
            logger.info("%s %s: %d of %d answer(s) read from the cache", self.name, desc,
                        len(keys) - len(missing), len(keys))
        if missing:
            todo = list(missing.items())
            bar = None
            if progress:
                from tqdm.auto import tqdm
                bar = tqdm(total=len(todo), desc=f"{self.name}:{desc}", leave=False)
            lock = threading.Lock()

            def store(i: int, value: Any) -> None:
                k, r = todo[i]
                if self.cache is not None:
                    self.cache.put(k, value, request=r)
                with lock:
                    results[k] = value
                    self.n_calls += 1
                    if bar is not None:
                        bar.update(1)

            try:
                compute([r for _, r in todo], store)
            finally:
                if bar is not None:
                    bar.close()
            lost = [k for k, _ in todo if k not in results]
            if lost:
                raise BackendError(f"{type(self).__name__} returned no answer for {len(lost)} request(s)")
        return [results[k] for k in keys]

    def _assemble_choice_probs(self, values: list[Any], choices: list[str]) -> ChoiceProbs:
        if all("logprobs" in v for v in values):
            lp = np.array([v["logprobs"] for v in values], dtype=float)
            m = lp.max(axis=1, keepdims=True)
            if not np.all(np.isfinite(m)):
                raise BackendError("a prompt gave -inf log-probability to every choice")
            w = np.exp(lp - m)
            probs = w / w.sum(axis=1, keepdims=True)
            self.last_choice_method = "logprobs"
            return ChoiceProbs(probs, method="logprobs", choices=choices, logprobs=lp)
        counts = np.array([v["counts"] for v in values], dtype=float)
        n = np.array([v["n"] for v in values], dtype=int)
        unmatched = n - counts.sum(axis=1).astype(int)
        tot = counts.sum(axis=1, keepdims=True)
        if np.any(tot == 0):
            warnings.warn(f"{int(np.sum(tot == 0))} prompt(s): no sampled reply matched any choice; "
                          "their row is uniform", RuntimeWarning, stacklevel=3)
        probs = np.where(tot > 0, counts / np.where(tot > 0, tot, 1), 1.0 / len(choices))
        self.last_choice_method = "sampling"
        return ChoiceProbs(probs, method="sampling", choices=choices, n_samples=int(n.max()),
                           counts=counts.astype(int), n_unmatched=unmatched)

    @abc.abstractmethod
    def _complete_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        """Compute the reply text for each request; call ``store(i, text)`` as each arrives."""

    @abc.abstractmethod
    def _choice_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        """For each request call ``store(i, {"logprobs": [...]})`` (or ``{"counts", "n"}``)."""


def match_choice(reply: str, choices: Sequence[str]) -> int | None:
    """Index of the choice a free-text reply starts with, or None.

    Case-insensitive, ignoring leading white space, quotes, asterisks and
    brackets; a choice must end at a word boundary ("No" does not match
    "Nope"); the longest matching choice wins ("Yes, definitely" over "Yes").

    Examples
    --------
    >>> match_choice('  "yes." I think', ["Yes", "No"])
    0
    >>> match_choice("Nope", ["Yes", "No"]) is None
    True
    """
    s = reply.strip().lstrip("\"'*`([ \t\n").casefold()
    best: int | None = None
    best_len = -1
    for i, c in enumerate(choices):
        cc = c.strip().casefold()
        if not cc or not s.startswith(cc):
            continue
        nxt = s[len(cc):len(cc) + 1]
        if nxt and nxt.isalnum() and cc[-1].isalnum():
            continue
        if len(cc) > best_len:
            best, best_len = i, len(cc)
    return best
