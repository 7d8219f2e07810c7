"""Backend for any OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama, OpenAI).

Transport
---------
One ``asyncio`` event loop runs in a background thread owned by the backend,
with one ``aiohttp`` session whose keep-alive pool holds ``max_concurrency``
connections and a semaphore of the same size.  The public methods stay
synchronous: each call submits its missing requests to the loop and the calling
thread stores every answer in the response cache the moment it arrives (so an
interrupted run resumes, and SQLite writes do not stall the loop).  Against a
server that answers after a latency ``L``, throughput approaches the ideal
``max_concurrency / L`` (``benchmarks/bench_http.py``).

Deadlines and caps
------------------
* ``timeout``: one deadline per attempt covering connect, sending and every
  read of the body (a server that trickles one byte every few seconds still
  fails at ``timeout``);
* ``run_deadline`` (optional): seconds of HTTP work allowed from the backend's
  first request; no attempt or retry starts after it and attempts in flight are
  cut at it;
* ``max_response_bytes``: the body is read in chunks and abandoned as soon as it
  grows past the cap (also when ``Content-Length`` announces more); such a
  reply is a failure (not retried: the server would send it again) and is never
  stored;
* ``retry_after_cap``: a server's ``Retry-After`` is honoured up to this many
  seconds.

Retries: HTTP 429, HTTP 5xx, timeouts, dropped connections and malformed
bodies are retried with exponential backoff and full jitter,

    delay_n ~ Uniform(0, min(backoff_max, backoff_base * 2**n)),

or after ``min(Retry-After, retry_after_cap)``.  Other HTTP errors (400, 401,
404, ...) are not retried.  After the last attempt a :class:`BackendError`
names, on one line, the server (URL without credentials or query), the number
of attempts and the last status.  No message, log record or cache entry holds
the API key or more than a short, redacted excerpt of a server's body.
Retries and fallbacks are logged on ``logging.getLogger("llmas")``.

Cache keys
----------
Every key holds the backend name, the server URL normalized by
:func:`server_id` (lower-case scheme and host, no default port, no
credentials, no query, no trailing slash), the model name, ``model_revision``
when given, the operation, the prompt format and the decoding parameters
(seed and sample index included).  So two servers never share an answer, even
under the same model name.  A server's ``system_fingerprint`` is *not* in the
key: it is only known after the first answer (a key that depended on it would
differ between the first and later requests of a run, and between a cached
rerun and the run that filled the cache).  It is recorded instead in
``backend.system_fingerprints`` and a change within one backend's life is
logged as a warning.  ``model_revision="auto"`` reads the model's entry in
``GET /models`` once, before the first look-up, and puts a hash of its stable
fields (``root``, ``parent``, ``max_model_len``, ``meta``; not the volatile
``created``) in the key; it then needs the server to answer even for a fully
cached rerun.

Choice probabilities
--------------------
``choice_method="logprobs"``: the ``/completions`` endpoint with ``echo``,
``logprobs=1`` and ``max_tokens=1`` scores the text ``render(prompt) + choice``
and sums the log-probabilities of the echoed tokens that make up the choice;
exact, like the local backend.  The prompt is rendered client-side with
``prompt_format`` (``"chatml"``: the ChatML template of SmolLM2/Qwen;
``"raw"``: the contents joined, for base models; or a callable
``messages -> str``).

Requests: the first prompt with several choices sends them all as one list
``prompt = [text + choice, ...]`` (no retry on an HTTP error).  If the server
refuses the list (HTTP 4xx other than 401/403/429, or 5xx; llama.cpp's server
takes one prompt per request) or answers with the wrong number of choices,
this and every later request sends one prompt per request, all (prompt,
choice) pairs concurrently within ``max_concurrency``.

Locating the choice's tokens, first rule that applies (the cache holds only
the summed log-probabilities, so keys and values do not depend on the rule):

1. ``text_offset``: if every echoed prompt token ``t_i`` (the tokens before
   the ``usage.completion_tokens`` generated ones, or before offset
   ``len(text)``) sits at its offset in the text sent, ``text[o_i:o_i+len(t_i)]
   == t_i`` with ``o_0 = 0`` and ``o_{i+1} = o_i + len(t_i)``, the tokens
   covering any character of the choice are summed (a token across the
   boundary counts: it is what the model scored).
2. Token texts from the end: the last echoed prompt tokens, joined until
   they are at least as long as the choice, must end with the choice and be
   a suffix of the text sent (a token across the boundary counts as in 1).
   This serves servers whose offsets skip special tokens (llama.cpp's counts
   characters of the text without ``<|im_start|>``/``<|im_end|>``).
3. Token counts: ``prefix = render(prompt)`` is echoed once (one extra request
   per distinct prefix, kept for the backend's life); the choice is the last
   ``k = usage.prompt_tokens(prefix + choice) - usage.prompt_tokens(prefix)``
   echoed tokens, accepted only if the echoed token texts of the prefix equal
   the first tokens of those of ``prefix + choice`` and the echoed counts
   differ by ``k`` as well (the tokenizer did not merge across the boundary).

Failure modes: rules 1 and 2 need the echoed token texts to spell the text
(byte pieces of a multi-byte character shown as ``bytes:...`` or U+FFFD do
not), rule 3 needs ``usage`` and a clean token boundary.  If no rule applies
the choice is not guessed: ``"auto"`` falls back to sampling (the reason in
the warning and in ``backend.choice_fallback_reason``), ``"logprobs"`` raises
:class:`BackendError`.  No rule can see log-probabilities the server itself
misplaces: llama.cpp's server reports each echoed log-probability one
position late unless the text starts with the model's BOS token (true of
ChatML prompts for SmolLM2/Qwen GGUFs, not of ``"raw"`` ones), see
abetlen/llama-cpp-python#1983.

``choice_method="sampling"``: ``n_samples`` replies from ``/chat/completions``
(``n=`` per request, topped up if the server returns fewer) at
``sample_temperature``; each reply is matched to the choice it starts with
(:func:`llmas.backends.base.match_choice`) and the frequencies are returned.

``choice_method="auto"`` (default) tries log-probabilities and falls back to
sampling, for the rest of the backend's life, if the server rejects the echo
request (HTTP 400/404/422), answers without log-probabilities or echoes tokens
in which no rule above finds the choice; the warning (and
``backend.choice_fallback_reason``) says which, with the server's own reason.  The result's ``.method`` (and
``backend.last_choice_method``) says which method ran.
"""
from __future__ import annotations

import asyncio
import base64
import collections
import concurrent.futures
import contextlib
import email.utils
import hashlib
import ipaddress
import json
import logging
import os
import re
import threading
import time
import urllib.parse
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from ..cache import ResponseCache, canonical_json
from .base import Backend, BackendError, ChoiceProbs, match_choice

__all__ = ["OpenAIBackend", "render_chatml", "render_raw", "server_id", "redact"]

logger = logging.getLogger("llmas")

#: Default cap on one response body, in bytes.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_EXCERPT = 120
_DONE = object()


class _NoLogprobs(Exception):
    """The server rejected the echo request or answered without log-probabilities."""


class _ListRejected(Exception):
    """The server refused a list of prompts on the echo route (it takes one per request)."""


class _Malformed(Exception):
    """The body is not what the endpoint promises (retryable)."""


class _TooLarge(Exception):
    """The body grew past ``max_response_bytes``."""


class _Stopped(Exception):
    """Another request of the same call failed; this one gives up quietly."""


class _Stop:
    """Shared by the requests of one call: set on the first failure (lives on the loop)."""

    def __init__(self) -> None:
        self.stop = False
        self.event = asyncio.Event()

    def set(self) -> None:
        self.stop = True
        self.event.set()

    async def sleep(self, seconds: float) -> None:
        """Sleep, waking early when the call is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), seconds)


def render_chatml(messages: list[dict[str, str]]) -> str:
    """ChatML text with the assistant turn opened (the template of SmolLM2 and Qwen).

    >>> render_chatml([{"role": "user", "content": "Hi"}])
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
    """
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + \
        "<|im_start|>assistant\n"


def render_raw(messages: list[dict[str, str]]) -> str:
    """The contents alone: one user message as is, a chat as ``role: content`` lines.

    >>> render_raw([{"role": "user", "content": "Hi"}])
    'Hi'
    """
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"


_FORMATS: dict[str, Callable[[list[dict[str, str]]], str]] = {"chatml": render_chatml, "raw": render_raw}


def server_id(url: str) -> str:
    """A server URL as it may appear in cache keys, reports and messages.

    Lower-case scheme and host, default port dropped, no user name or password,
    no query string or fragment (they may hold secrets), no trailing slash.

    Examples
    --------
    >>> server_id("HTTP://user:secret@LocalHost:80/v1/?api-key=abc")
    'http://localhost/v1'
    >>> server_id("https://api.example.com:8443/v1")
    'https://api.example.com:8443/v1'
    """
    p = urllib.parse.urlsplit(url)
    scheme = p.scheme.lower()
    host = (p.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = p.port
    except ValueError:
        port = None
    netloc = host if port is None or port == {"http": 80, "https": 443}.get(scheme) else f"{host}:{port}"
    return urllib.parse.urlunsplit((scheme, netloc, p.path.rstrip("/"), "", ""))


_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"),
    re.compile(r"""(?i)((?:authorization|api[-_]?key|x-api-key|token|password)["']?\s*[:=]\s*["']?)[^"',}\s]+"""),
]


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every secret and anything that looks like a credential replaced by ``***``.

    >>> redact("echo: Authorization: Bearer sk-123 and sk-123", ("sk-123",))
    'echo: Authorization: *** *** and ***'
    """
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    text = _SECRET_PATTERNS[0].sub("***", text)
    return _SECRET_PATTERNS[1].sub(lambda m: m.group(1) + "***", text)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _stable_model_fields(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("id", "root", "parent", "max_model_len", "meta") if k in entry}


class _Echo:
    """The echoed tokens of one text: token texts, log-probabilities, offsets and usage counts.

    ``n_gen`` (``usage.completion_tokens``) and ``n_prompt`` (``usage.prompt_tokens``)
    are None when unknown (a list request sums usage over its prompts).
    """

    __slots__ = ("tokens", "lps", "offsets", "n_gen", "n_prompt")

    def __init__(self, tokens: list[str], lps: list[float | None], offsets: list[int] | None,
                 n_gen: int | None, n_prompt: int | None):
        self.tokens, self.lps, self.offsets, self.n_gen, self.n_prompt = tokens, lps, offsets, n_gen, n_prompt

    @classmethod
    def parse(cls, ch: Any, usage: Any) -> _Echo:
        lp = ch.get("logprobs")
        if not lp or lp.get("token_logprobs") is None or lp.get("tokens") is None:
            raise _NoLogprobs("answered the echo request without log-probabilities "
                              "(no tokens or token_logprobs)")
        tokens, lps, offs = lp["tokens"], lp["token_logprobs"], lp.get("text_offset")
        if not isinstance(tokens, list) or not isinstance(lps, list) or len(tokens) != len(lps) \
                or not all(isinstance(t, str) for t in tokens) \
                or not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in lps):
            raise _Malformed("tokens and token_logprobs are not lists of one length")
        if not isinstance(offs, list) or len(offs) != len(tokens) \
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs):
            offs = None

        def count(name: str) -> int | None:
            v = usage.get(name) if isinstance(usage, dict) else None
            return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None

        n_gen = count("completion_tokens")
        return cls(tokens, [None if v is None else float(v) for v in lps], offs,
                   n_gen if n_gen is not None and n_gen <= len(tokens) else None, count("prompt_tokens"))

    @classmethod
    def parse_body(cls, body: Any) -> _Echo:
        chs = body["choices"]
        if not isinstance(chs, list) or len(chs) != 1:
            got = len(chs) if isinstance(chs, list) else type(chs).__name__
            raise _Malformed(f"expected 1 choice, got {got}")
        return cls.parse(chs[0], body.get("usage"))

    def _n_echoed(self, text: str) -> int | None:
        """How many tokens echo the text (the rest were generated)."""
        if self.n_gen is not None:
            return len(self.tokens) - self.n_gen
        if self.offsets is not None:
            return sum(1 for o in self.offsets if o < len(text))
        return None

    def _sum(self, lo: int, hi: int) -> float | None:
        vals = self.lps[lo:hi]
        if hi <= lo or any(v is None or (not np.isfinite(v) and v != -np.inf) for v in vals):
            return None
        return float(sum(v for v in vals if v is not None))

    def by_offsets(self, text: str, start: int) -> float | None:
        """Rule 1: ``text_offset`` tiles the text sent exactly; sum the tokens over ``text[start:]``."""
        n = self._n_echoed(text)
        if self.offsets is None or n is None or n == 0:
            return None
        pos = 0
        for tok, off in zip(self.tokens[:n], self.offsets[:n], strict=True):
            if off != pos or text[pos:pos + len(tok)] != tok:
                return None
            pos += len(tok)
        if pos != len(text):
            return None
        idx = [i for i in range(n) if self.offsets[i] + len(self.tokens[i]) > start and self.offsets[i] < len(text)]
        return self._sum(idx[0], idx[-1] + 1) if idx else None

    def from_end(self, text: str, choice: str) -> float | None:
        """Rule 2: the last echoed tokens spell the choice (and are a suffix of the text)."""
        if self.n_gen is None:
            return None
        n = len(self.tokens) - self.n_gen
        k, joined = 0, ""
        while len(joined) < len(choice) and k < n:
            k += 1
            joined = self.tokens[n - k] + joined
        if not joined.endswith(choice) or not text.endswith(joined):
            return None
        return self._sum(n - k, n)

    def by_count(self, prefix: _Echo) -> float | None:
        """Rule 3: the tokens added to the prefix's, by ``usage.prompt_tokens``, checked on token texts."""
        if self.n_gen is None or self.n_prompt is None or prefix.n_gen is None or prefix.n_prompt is None:
            return None
        k = self.n_prompt - prefix.n_prompt
        n, m = len(self.tokens) - self.n_gen, len(prefix.tokens) - prefix.n_gen
        if k < 1 or n - m != k or self.tokens[:m] != prefix.tokens[:m]:
            return None
        return self._sum(m, n)


class OpenAIBackend(Backend):
    """A model behind an OpenAI-compatible HTTP API (asyncio client, see the module docstring).

    Parameters
    ----------
    model : str
        Model name as the server knows it.
    base_url : str
        Up to and including the version, e.g. ``"http://127.0.0.1:8000/v1"``.
        Credentials in it are sent as HTTP basic auth and a query string is
        sent with every request; neither reaches keys, messages or logs.
    api_key_env : str or None
        Environment variable holding the API key (keys are never passed in
        code).  If it is unset, requests go without ``Authorization`` (local
        servers need none).  A key about to travel over plain ``http`` to a
        host that is not loopback is warned about once.
    cache : ResponseCache, None or False
    max_concurrency : int
        Requests in flight at once (and keep-alive connections).
    timeout : float
        Seconds per attempt: connect plus every read, as one deadline.
    max_retries : int
        Retries after the first attempt.
    backoff_base, backoff_max : float
        Backoff schedule in seconds (see the module docstring).
    retry_after_cap : float
        Longest wait honoured from a ``Retry-After`` header (seconds).
    max_response_bytes : int
        Cap on one response body (default 4 MiB).
    run_deadline : float, optional
        Seconds of HTTP work allowed from the first request of this backend.
    model_revision : str, optional
        Revision of the served model, part of every cache key; ``"auto"`` reads
        it from ``GET /models`` (see the module docstring).
    choice_method : {"auto", "logprobs", "sampling"}
    n_samples : int
        Replies per prompt when sampling.
    sample_temperature : float
    sample_max_tokens : int
    prompt_format : "chatml", "raw" or callable
        How chats are rendered for the ``/completions`` log-probability route.
    jitter_seed : int, optional
        Seed of the ``numpy.random.Generator`` drawing backoff delays.
    retry_after_max : float, optional
        Former name of ``retry_after_cap``.

    Attributes
    ----------
    server : str
        ``server_id(base_url)``: the URL as keys and messages show it.
    n_calls, n_cache_hits : int
        Answers computed by the server / read from the cache.
    n_requests : int
        HTTP requests sent, retries included.
    n_retries, n_failed : int
        Retries, and requests given up (after retries, over size or over time).
    system_fingerprints : set of str
        ``system_fingerprint`` values the server reported.
    choice_fallback_reason : str or None
        Why ``choice_method="auto"`` fell back to sampling (None while it has not).

    Examples
    --------
    >>> be = OpenAIBackend("qwen2.5-0.5b", "http://127.0.0.1:8000/v1", cache=False)
    >>> be.server, be.max_concurrency, be.timeout
    ('http://127.0.0.1:8000/v1', 32, 60.0)
    >>> be.choice_probs(["Is the sky blue?"], ["Yes", "No"]).method    # doctest: +SKIP
    'logprobs'
    """

    name = "openai"

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1", *,
                 api_key_env: str | None = "OPENAI_API_KEY", cache: ResponseCache | None | bool = None,
                 max_concurrency: int = 32, timeout: float = 60.0, max_retries: int = 5,
                 backoff_base: float = 0.5, backoff_max: float = 30.0, retry_after_cap: float = 30.0,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, run_deadline: float | None = None,
                 model_revision: str | None = None,
                 choice_method: str = "auto", n_samples: int = 20, sample_temperature: float = 1.0,
                 sample_max_tokens: int = 8, prompt_format: str | Callable = "chatml",
                 jitter_seed: int | None = None, retry_after_max: float | None = None):
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty str, got {model!r}")
        if not isinstance(base_url, str) or not base_url.lower().startswith(("http://", "https://")):
            shown = re.sub(r"^([^/]*//)?[^/@]*@", r"\1", base_url.split("?")[0]) if isinstance(base_url, str) \
                else type(base_url).__name__
            raise ValueError(f"base_url must start with http:// or https://, got {shown!r}")
        parts = urllib.parse.urlsplit(base_url)
        if not parts.hostname:
            raise ValueError(f"base_url has no host: {server_id(base_url)!r}")
        for nm, v, lo in (("max_concurrency", max_concurrency, 1), ("max_retries", max_retries, 0),
                          ("n_samples", n_samples, 1), ("sample_max_tokens", sample_max_tokens, 1),
                          ("max_response_bytes", max_response_bytes, 1)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{nm} must be an int >= {lo}, got {v!r}")
        if retry_after_max is not None:
            retry_after_cap = retry_after_max
        for nm, x, positive in (("timeout", timeout, True), ("backoff_base", backoff_base, False),
                                ("backoff_max", backoff_max, False), ("retry_after_cap", retry_after_cap, False),
                                ("run_deadline", run_deadline, True)):
            if nm == "run_deadline" and x is None:
                continue
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not np.isfinite(x) or x < 0 \
                    or (positive and x == 0):
                raise ValueError(f"{nm} must be a finite number {'> 0' if positive else '>= 0'}, got {x!r}")
        if choice_method not in ("auto", "logprobs", "sampling"):
            raise ValueError(f"choice_method must be 'auto', 'logprobs' or 'sampling', got {choice_method!r}")
        if model_revision is not None and (not isinstance(model_revision, str) or not model_revision):
            raise ValueError(f"model_revision must be a non-empty str or None, got {model_revision!r}")
        if callable(prompt_format):
            self._render, self._format_name = prompt_format, getattr(prompt_format, "__name__", "custom")
        elif prompt_format in _FORMATS:
            self._render, self._format_name = _FORMATS[prompt_format], prompt_format
        else:
            raise ValueError(f"prompt_format must be 'chatml', 'raw' or a callable, got {prompt_format!r}")
        super().__init__(model, cache=cache)
        self.server = server_id(base_url)
        self.base_url = self.server  # kept for callers of the former attribute (no credentials, no query)
        self._url_base = urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2],
                                                  parts.path.rstrip("/"), "", ""))
        self._params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        self.api_key_env = api_key_env
        key = os.environ.get(api_key_env) if api_key_env else None
        self._headers = {"Content-Type": "application/json"}
        basic = None
        if parts.username and not key:
            user = urllib.parse.unquote(parts.username)
            basic = base64.b64encode(f"{user}:{urllib.parse.unquote(parts.password or '')}".encode()).decode()
            self._headers["Authorization"] = f"Basic {basic}"
        # Query values may be keys too (``?api-key=...``): long ones are redacted like the key.
        self._secrets: tuple[str, ...] = tuple(
            s for s in (key, basic, parts.password and urllib.parse.unquote(parts.password),
                        *(v for _, v in self._params if len(v) >= 8)) if s)
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        if (key or basic) and parts.scheme.lower() == "http" and not _is_loopback(parts.hostname):
            what = f"the API key in ${api_key_env}" if key else "the password in base_url"
            logger.warning("%s will travel unencrypted over plain http to %s; use https", what, self.server)
        self.max_concurrency = int(max_concurrency)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff_base, self.backoff_max = float(backoff_base), float(backoff_max)
        self.retry_after_cap = float(retry_after_cap)
        self.max_response_bytes = int(max_response_bytes)
        self.run_deadline = None if run_deadline is None else float(run_deadline)
        self.model_revision = model_revision
        self._revision_key: str | None = None if model_revision == "auto" else model_revision
        self.choice_method = choice_method
        self.n_samples = n_samples
        self.sample_temperature = float(sample_temperature)
        self.sample_max_tokens = sample_max_tokens
        self._logprobs_ok: bool | None = {"logprobs": True, "sampling": False}.get(choice_method)
        #: Whether the echo route takes a list of prompts (None: not yet known).
        self._echo_list: bool | None = None
        self._prefix_echo: dict[str, asyncio.Future] = {}
        self.choice_fallback_reason: str | None = None
        self._rng = np.random.default_rng(jitter_seed)
        self._rng_lock = threading.Lock()
        self._loop_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: Any = None
        self._sem: asyncio.Semaphore | None = None
        self._pid = os.getpid()
        self._first_request: float | None = None
        self._finalizer: Any = None
        self.n_requests = 0
        self.n_retries = 0
        self.n_failed = 0
        self.system_fingerprints: set[str] = set()

    # attributes -----------------------------------------------------------------
    @property
    def supports_logprobs(self) -> bool:  # type: ignore[override]
        """False once the server has been found to offer no echo log-probabilities."""
        return self._logprobs_ok is not False

    @property
    def retry_after_max(self) -> float:
        """Former name of ``retry_after_cap``."""
        return self.retry_after_cap

    def describe(self) -> dict[str, Any]:
        """Name, model, server URL (no credentials, no query), revision, fingerprints and counts."""
        d = super().describe()
        d["base_url"] = self.server
        if self._revision_key is not None:
            d["revision"] = self._revision_key
        if self.system_fingerprints:
            d["system_fingerprints"] = sorted(self.system_fingerprints)
        if self.choice_fallback_reason is not None:
            d["choice_fallback_reason"] = self.choice_fallback_reason
        d.update(n_requests=self.n_requests, n_retries=self.n_retries, n_failed=self.n_failed)
        return d

    def _key_extra(self) -> dict[str, Any]:
        if self.model_revision == "auto" and self._revision_key is None:
            self._revision_key = self._fetch_revision()
        extra: dict[str, Any] = {"server": self.server}
        if self._revision_key is not None:
            extra["revision"] = self._revision_key
        return extra

    def _fetch_revision(self) -> str:
        async def get() -> Any:
            await self._ensure_session()
            code, _, body = await self._attempt("GET", "/models", None, self.timeout)
            if code != 200:
                raise BackendError(f"GET {self.server}/models answered HTTP {code}; "
                                   "model_revision='auto' needs it")
            return json.loads(body)

        try:
            data = self._call(get())
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"GET {self.server}/models failed ({type(exc).__name__}); "
                               "model_revision='auto' needs the server") from None
        entries = data.get("data") if isinstance(data, dict) else None
        entry = next((e for e in entries or [] if isinstance(e, dict) and e.get("id") == self.model), None)
        if entry is None:
            raise BackendError(f"{self.server}/models does not list the model {self.model!r}")
        return hashlib.sha256(canonical_json(_stable_model_fields(entry)).encode()).hexdigest()[:16]

    # the event loop -------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is not None and self._pid == os.getpid() and self._thread is not None \
                    and self._thread.is_alive():
                return self._loop
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_run_loop, args=(loop,), daemon=True, name="llmas-openai-loop")
            thread.start()
            self._loop, self._thread, self._pid = loop, thread, os.getpid()
            self._session, self._sem = None, None
            self._finalizer = weakref.finalize(self, _stop_loop, loop, thread, self._session_box())
            return loop

    def _session_box(self) -> list[Any]:
        self._box: list[Any] = []
        return self._box

    async def _ensure_session(self) -> None:
        if self._session is None:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=self.max_concurrency, limit_per_host=self.max_concurrency,
                                             keepalive_timeout=30.0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.timeout))
            self._box.append(self._session)
            self._sem = asyncio.Semaphore(self.max_concurrency)
            self._prefix_echo = {}

    def _call(self, coro: Awaitable[Any]) -> Any:
        loop = self._ensure_loop()
        fut: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(coro, loop)  # type: ignore[arg-type]
        try:
            return fut.result()
        except BaseException:
            fut.cancel()
            raise

    def close(self) -> None:
        """Close the connection pool and stop the event loop (a later call starts new ones)."""
        with self._loop_lock:
            if self._finalizer is not None:
                self._finalizer()
            self._loop = self._thread = self._session = self._sem = None

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # HTTP with deadlines, caps and retries ----------------------------------------
    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            secs: float | None
            try:
                secs = float(retry_after)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                    secs = when.timestamp() - time.time()
                except (TypeError, ValueError, IndexError, OverflowError):
                    secs = None
            if secs is not None and np.isfinite(secs):
                return float(min(max(secs, 0.0), self.retry_after_cap))
        with self._rng_lock:
            return float(self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2.0 ** attempt)))

    def _run_left(self) -> float:
        """Seconds left of the run deadline (inf without one)."""
        if self.run_deadline is None:
            return float("inf")
        if self._first_request is None:
            self._first_request = time.monotonic()
        return self.run_deadline - (time.monotonic() - self._first_request)

    def _excerpt(self, body: bytes) -> str:
        """The server's error message, on one line, at most 120 characters, secrets redacted."""
        text = body[:4096].decode("utf-8", "replace")
        try:
            obj = json.loads(text)
            err = obj.get("error", obj.get("detail", obj.get("message"))) if isinstance(obj, dict) else None
            if isinstance(err, dict):
                err = err.get("message", err.get("type"))
            if isinstance(err, str):
                text = err
        except (ValueError, RecursionError):
            pass
        text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
        text = redact(text, self._secrets)
        return text if len(text) <= _EXCERPT else text[:_EXCERPT - 3] + "..."

    async def _attempt(self, method: str, path: str, data: bytes | None, limit: float) -> tuple[int, Any, bytes]:
        """One request under one deadline; the body is read up to ``max_response_bytes``.

        Any occurrence of the API key in the body is replaced by ``***`` before
        the body is parsed, logged or stored.
        """
        assert self._session is not None
        cap = self.max_response_bytes
        async with asyncio.timeout(limit):
            async with self._session.request(method, self._url_base + path, data=data,
                                             params=self._params or None, allow_redirects=False) as resp:
                n = resp.content_length
                if n is not None and n > cap:
                    raise _TooLarge
                if n is not None and n <= 1 << 16:  # small announced body: one read, no loop
                    body = await resp.read()
                else:
                    buf = bytearray()
                    async for chunk in resp.content.iter_chunked(1 << 16):
                        buf += chunk
                        if len(buf) > cap:
                            raise _TooLarge
                    body = bytes(buf)
                if len(body) > cap:
                    raise _TooLarge
                status, retry_after = resp.status, resp.headers.get("Retry-After")
        for secret in self._secrets:  # a server that echoes the request never gets the key stored
            body = body.replace(secret.encode("utf-8"), b"***")
        return status, retry_after, body

    async def _post(self, path: str, payload: dict[str, Any], check: Callable[[Any], Any],
                    stop: _Stop, probe: bool = False) -> Any:
        """POST with retries; ``probe``: an HTTP error other than 401/403/429 raises
        :class:`_ListRejected` at once (a list of prompts the server may not take)."""
        import aiohttp

        data = json.dumps(payload).encode("utf-8")
        where = f"POST {self.server}{path}"
        last = ""
        attempts = 0
        for attempt in range(self.max_retries + 1):
            if stop.stop:
                raise _Stopped
            left = self._run_left()
            if left <= 0:
                break
            retry_after = None
            attempts += 1
            self.n_requests += 1
            limit = min(self.timeout, left)
            try:
                code, retry_after_h, body = await self._attempt("POST", path, data, limit)
            except TimeoutError:
                last = f"no complete reply within {limit:g} s"
            except _TooLarge:
                self.n_failed += 1
                raise BackendError(f"{where}: the reply is larger than max_response_bytes="
                                   f"{self.max_response_bytes}; not stored") from None
            except (aiohttp.ClientError, OSError) as exc:
                last = f"connection error ({type(exc).__name__})"
            else:
                if probe and code >= 400 and code not in (401, 403, 429):
                    reason = self._excerpt(body)
                    raise _ListRejected(f"HTTP {code}" + (f" ({reason})" if reason else ""))
                if code == 429 or code >= 500:
                    last = f"HTTP {code}"
                    retry_after = retry_after_h
                elif code >= 400:
                    reason = self._excerpt(body)
                    if code in (400, 404, 422) and path == "/completions" and payload.get("echo"):
                        raise _NoLogprobs(f"rejected the echo log-probability request with HTTP {code}"
                                          + (f" ({reason})" if reason else ""))
                    self.n_failed += 1
                    hint = (f" (is ${self.api_key_env} set to a valid key?)"
                            if code in (401, 403) and self.api_key_env else "")
                    raise BackendError(f"{where} failed with HTTP {code}{hint}"
                                       + (f": {reason}" if reason else ""))
                elif code >= 300:
                    self.n_failed += 1
                    raise BackendError(f"{where} answered HTTP {code} (a redirect); give the final URL")
                else:
                    try:
                        obj = json.loads(body)
                        fp = obj.get("system_fingerprint") if isinstance(obj, dict) else None
                        if isinstance(fp, str) and fp not in self.system_fingerprints:
                            if self.system_fingerprints:
                                logger.warning("%s reports a new system_fingerprint %r (before: %s); answers "
                                               "may come from a changed model", self.server, fp,
                                               sorted(self.system_fingerprints))
                            self.system_fingerprints.add(fp)
                        return check(obj)
                    except (_NoLogprobs, _ListRejected):
                        raise
                    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError,
                            _Malformed) as exc:
                        last = f"malformed reply body ({type(exc).__name__})"
            if attempt == self.max_retries:
                break
            delay = min(self._delay(attempt, retry_after), max(self._run_left(), 0.0))
            self.n_retries += 1
            logger.info("%s: %s; retry %d of %d in %.2f s", where, last, attempt + 1, self.max_retries, delay)
            await stop.sleep(delay)
        if stop.stop:
            raise _Stopped
        self.n_failed += 1
        if self._run_left() <= 0:
            raise BackendError(f"{where}: run deadline of {self.run_deadline:g} s passed after {attempts} "
                               f"attempt(s)" + (f"; last error: {last}" if last else ""))
        raise BackendError(f"{where} failed after {attempts} attempt(s); last error: {last}")

    def _gather(self, n: int, work: Callable[[int, _Stop], Awaitable[Any]],
                store: Callable[[int, Any], None]) -> None:
        """Run ``work(i)`` for i < n on the loop, at most ``max_concurrency`` at once.

        The calling thread stores each answer as it arrives.  On the first
        failure no new request starts; those in flight finish and are stored;
        the failure is raised.
        """
        if n == 0:
            return
        # Answers are handed to the calling thread in batches: the loop appends to
        # ``arrived`` and sets ``ready``; the caller takes everything there is.
        arrived: collections.deque = collections.deque()
        ready = threading.Event()
        box: list[_Stop] = []
        tasks: list[asyncio.Future] = []

        async def driver() -> None:
            try:
                stop = _Stop()
                box.append(stop)
                await self._ensure_session()
                sem = self._sem
                assert sem is not None

                async def one(i: int) -> None:
                    async with sem:
                        if stop.stop:
                            return
                        arrived.append((i, await work(i, stop)))
                        ready.set()

                tasks.extend(asyncio.ensure_future(one(i)) for i in range(n))
                done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                if pending:
                    stop.set()
                    await asyncio.wait(pending)
                errors: list[BaseException] = []
                for t in tasks:
                    exc = None if t.cancelled() else t.exception()
                    if exc is not None and not isinstance(exc, _Stopped):
                        errors.append(exc)
                if errors:
                    raise errors[0]
            finally:
                for t in tasks:
                    if not t.done():
                        t.cancel()
                arrived.append(_DONE)
                ready.set()

        loop = self._ensure_loop()
        fut = asyncio.run_coroutine_threadsafe(driver(), loop)
        try:
            finished = False
            while not finished:
                ready.wait()
                ready.clear()
                while arrived:
                    item = arrived.popleft()
                    if item is _DONE:
                        finished = True
                        break
                    store(*item)
        except BaseException:
            if box:
                loop.call_soon_threadsafe(box[0].set)
            fut.cancel()
            raise
        fut.result()

    # completions ------------------------------------------------------------------
    def _complete_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        def check(body: Any) -> str:
            content = body["choices"][0]["message"]["content"]
            if content is not None and not isinstance(content, str):
                raise _Malformed("message content is not a string")
            return content or ""

        async def work(i: int, stop: _Stop) -> str:
            r = requests[i]
            d = r["decoding"]
            payload = {"model": self.model, "messages": r["messages"], "temperature": d["temperature"],
                       "max_tokens": d["max_tokens"], "top_p": d["top_p"]}
            if d["seed"] is not None:
                payload["seed"] = d["seed"]
            return await self._post("/chat/completions", payload, check, stop)

        self._gather(len(requests), work, store)

    # choice probabilities -----------------------------------------------------------
    def _choice_op(self) -> tuple[str, dict[str, Any]]:
        if self._logprobs_ok is False:
            return "choice_sample", {"n_samples": self.n_samples, "temperature": self.sample_temperature,
                                     "max_tokens": self.sample_max_tokens}
        return "choice_logprobs", {"prompt_format": self._format_name}

    def choice_probs(self, prompts: Any, choices: Any, *, progress: bool = False) -> ChoiceProbs:
        try:
            return super().choice_probs(prompts, choices, progress=progress)
        except _NoLogprobs as exc:
            cause = f"{self.server}/completions {exc}"
            if self.choice_method == "logprobs":
                raise BackendError(f"{cause}; if the server offers no echo log-probabilities, use "
                                   "choice_method='sampling'") from None
            logger.warning("%s; falling back to sampling %d replies per prompt", cause, self.n_samples)
            self._logprobs_ok = False
            self.choice_fallback_reason = cause
            return super().choice_probs(prompts, choices, progress=progress)

    def _choice_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        if requests and requests[0]["op"] == "choice_sample":
            self._gather(len(requests), lambda i, stop: self._sample_counts(requests[i], stop), store)
            return
        prompts = [self._render(r["messages"]) for r in requests]
        todo = list(range(len(requests)))
        if self._echo_list is None:
            first = next((i for i, r in enumerate(requests) if len(r["choices"]) > 1), None)
            if first is not None:
                got: list[Any] = []

                async def probe(_i: int, stop: _Stop) -> Any:
                    try:
                        return await self._echo_list_request(prompts[first], requests[first]["choices"], stop,
                                                             probe=True)
                    except _ListRejected as exc:
                        logger.info("%s/completions refused %d prompts in one request (%s); sending one prompt "
                                    "per request", self.server, len(requests[first]["choices"]), exc)
                        return None

                self._gather(1, probe, lambda _i, v: got.append(v))
                self._echo_list = got[0] is not None
                if got[0] is not None:
                    store(first, got[0])
                    todo.remove(first)
        if self._echo_list:
            self._gather(len(todo), lambda k, stop: self._echo_list_request(
                prompts[todo[k]], requests[todo[k]]["choices"], stop), lambda k, v: store(todo[k], v))
        else:  # one prompt per request: every (prompt, choice) pair concurrently
            units = [(i, j) for i in todo for j in range(len(requests[i]["choices"]))]
            rows: dict[int, list[float]] = {i: [0.0] * len(requests[i]["choices"]) for i in todo}
            left = {i: len(requests[i]["choices"]) for i in todo}

            def store_unit(u: int, value: float) -> None:
                i, j = units[u]
                rows[i][j] = value
                left[i] -= 1
                if left[i] == 0:
                    store(i, {"logprobs": rows[i]})

            self._gather(len(units), lambda u, stop: self._echo_single(
                prompts[units[u][0]], requests[units[u][0]]["choices"][units[u][1]], stop), store_unit)
        self._logprobs_ok = True

    def _echo_payload(self, prompt: str | list[str]) -> dict[str, Any]:
        return {"model": self.model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0,
                "echo": True, "logprobs": 1}

    async def _echo_list_request(self, prompt: str, choices: list[str], stop: _Stop,
                                 probe: bool = False) -> dict[str, Any]:
        """All choices of one prompt in one request (``prompt`` a list); a choice that
        ``text_offset`` does not locate is asked again alone (rules 2 and 3)."""
        texts = [prompt + c for c in choices]

        def check(body: Any) -> list[_Echo]:
            chs = body["choices"]
            if not isinstance(chs, list) or len(chs) != len(texts):
                got = len(chs) if isinstance(chs, list) else type(chs).__name__
                if probe:
                    raise _ListRejected(f"answered {got} choices for {len(texts)} prompts")
                raise _Malformed(f"expected {len(texts)} choices, got {got}")
            out: list[_Echo | None] = [None] * len(texts)
            for pos, ch in enumerate(chs):
                j = int(ch.get("index", pos))
                if not 0 <= j < len(texts) or out[j] is not None:
                    raise _Malformed(f"choice index {j} out of range or repeated")
                out[j] = _Echo.parse(ch, None)  # usage sums over the list: no per-text counts
            return [e for e in out if e is not None]

        echoes = await self._post("/completions", self._echo_payload(texts), check, stop, probe=probe)
        out = []
        for c, text, e in zip(choices, texts, echoes, strict=True):
            v = e.by_offsets(text, len(prompt))
            out.append(v if v is not None else await self._echo_single(prompt, c, stop))
        return {"logprobs": out}

    async def _echo_single(self, prompt: str, choice: str, stop: _Stop) -> float:
        """Summed log-probability of ``choice`` after ``prompt`` from one echo request
        (rules 1 to 3 of the module docstring); :class:`_NoLogprobs` if no rule applies."""
        text = prompt + choice
        e = await self._post("/completions", self._echo_payload(text), _Echo.parse_body, stop)
        v = e.by_offsets(text, len(prompt))
        if v is None:
            v = e.from_end(text, choice)
        if v is None and e.n_gen is not None and e.n_prompt is not None:
            v = e.by_count(await self._prefix_echo_of(prompt))
        if v is None:
            raise _NoLogprobs(f"echoed tokens in which no rule finds the choice {choice!r} (text_offset does not "
                              "index the text sent, the token texts do not spell it, and the token counts of "
                              "usage do not isolate it)")
        return v

    async def _prefix_echo_of(self, prefix: str) -> _Echo:
        """The echo of ``prefix`` alone (one request per distinct prefix, kept while the loop lives)."""
        fut = self._prefix_echo.get(prefix)
        if fut is None:
            fut = asyncio.ensure_future(self._post("/completions", self._echo_payload(prefix), _Echo.parse_body,
                                                   _Stop()))
            self._prefix_echo[prefix] = fut

            def drop(f: asyncio.Future) -> None:
                if f.cancelled() or f.exception() is not None:
                    self._prefix_echo.pop(prefix, None)

            fut.add_done_callback(drop)
        return await asyncio.shield(fut)

    async def _sample_counts(self, r: dict[str, Any], stop: _Stop) -> dict[str, Any]:
        choices = r["choices"]
        counts = [0] * len(choices)
        got = 0

        def check(body: Any) -> list[str]:
            chs = body["choices"]
            if not isinstance(chs, list) or not chs:
                raise _Malformed("no choices in the reply")
            texts = [c["message"]["content"] or "" for c in chs]
            if not all(isinstance(t, str) for t in texts):
                raise _Malformed("message content is not a string")
            return texts

        for _ in range(r["n_samples"]):  # a server that ignores n= answers one per request
            if got >= r["n_samples"]:
                break
            payload = {"model": self.model, "messages": r["messages"], "n": r["n_samples"] - got,
                       "temperature": r["temperature"], "max_tokens": r["max_tokens"]}
            for text in (await self._post("/chat/completions", payload, check, stop))[: r["n_samples"] - got]:
                k = match_choice(text, choices)
                if k is not None:
                    counts[k] += 1
                got += 1
        return {"counts": counts, "n": got}


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, box: list[Any]) -> None:
    """Close the session on its loop, stop the loop and join its thread (idempotent)."""
    if loop.is_closed():
        return
    if threading.current_thread() is thread:  # collected on its own loop: just stop it
        loop.call_soon(loop.stop)
        return
    if thread.is_alive():
        async def close() -> None:
            for s in box:
                await s.close()

        with contextlib.suppress(Exception):  # best effort at shutdown
            asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
    if not thread.is_alive():
        loop.close()
