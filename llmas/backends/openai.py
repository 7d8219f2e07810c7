"""Backend for any OpenAI-compatible HTTP server (vLLM, llama.cpp server, Ollama, OpenAI).

Requests go through one ``httpx.Client`` shared by a thread pool of
``max_concurrency`` workers; every answer is stored in the response cache the
moment it arrives.  Failed requests are retried with exponential backoff and
full jitter,

    delay_n ~ Uniform(0, min(backoff_max, backoff_base * 2**n)),

or after the server's ``Retry-After`` when it sends one, on HTTP 429, HTTP 5xx,
timeouts, dropped connections and malformed bodies.  Other HTTP errors (400,
401, 404, ...) are not retried.  After the last retry a ``BackendError`` names
the endpoint, the number of attempts and the last error.

Choice probabilities
--------------------
``choice_method="logprobs"``: the ``/completions`` endpoint with ``echo`` and
``logprobs`` scores the text ``render(prompt) + choice`` and sums the
log-probabilities of the tokens that cover the choice's characters (found
through ``text_offset``); exact, like the local backend.  The prompt is
rendered client-side with ``prompt_format`` (``"chatml"``: the ChatML template
of SmolLM2/Qwen; ``"raw"``: the contents joined, for base models; or a
callable ``messages -> str``).

``choice_method="sampling"``: ``n_samples`` replies from ``/chat/completions``
(``n=`` per request, topped up if the server returns fewer) at
``sample_temperature``; each reply is matched to the choice it starts with
(:func:`llmas.backends.base.match_choice`) and the frequencies are returned.

``choice_method="auto"`` (default) tries log-probabilities and falls back to
sampling, for the rest of the backend's life, if the server does not offer
them.  The result's ``.method`` (and ``backend.last_choice_method``) says which.
"""
from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from ..cache import ResponseCache
from .base import Backend, BackendError, ChoiceProbs, match_choice

__all__ = ["OpenAIBackend", "render_chatml", "render_raw"]


class _NoLogprobs(Exception):
    """The server answered but offers no echo log-probabilities."""


class _Malformed(Exception):
    """The body is not what the endpoint promises (retryable)."""


def render_chatml(messages: list[dict[str, str]]) -> str:
    """ChatML text with the assistant turn opened (the template of SmolLM2 and Qwen)."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + \
        "<|im_start|>assistant\n"


def render_raw(messages: list[dict[str, str]]) -> str:
    """The contents alone: one user message as is, a chat as ``role: content`` lines."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"


_FORMATS: dict[str, Callable[[list[dict[str, str]]], str]] = {"chatml": render_chatml, "raw": render_raw}


class OpenAIBackend(Backend):
    """A model behind an OpenAI-compatible HTTP API.

    Parameters
    ----------
    model : str
        Model name as the server knows it.
    base_url : str
        Up to and including the version, e.g. ``"http://127.0.0.1:8000/v1"``.
    api_key_env : str or None
        Environment variable holding the API key (keys are never passed in
        code).  If it is unset, requests go without ``Authorization`` (local
        servers need none).
    cache : ResponseCache, None or False
    max_concurrency : int
        Requests in flight at once.
    timeout : float
        Seconds per request.
    max_retries : int
        Retries after the first attempt.
    backoff_base, backoff_max, retry_after_max : float
        Backoff schedule in seconds (see the module docstring).
    choice_method : {"auto", "logprobs", "sampling"}
    n_samples : int
        Replies per prompt when sampling.
    sample_temperature : float
    sample_max_tokens : int
    prompt_format : "chatml", "raw" or callable
        How chats are rendered for the ``/completions`` log-probability route.
    jitter_seed : int, optional
        Seed of the ``numpy.random.Generator`` drawing backoff delays.

    Attributes
    ----------
    n_requests : int
        HTTP requests sent, retries included.
    n_retries : int

    Examples
    --------
    >>> be = OpenAIBackend("qwen2.5-0.5b", "http://127.0.0.1:8000/v1")   # doctest: +SKIP
    >>> be.choice_probs(["Is the sky blue?"], ["Yes", "No"]).method    # doctest: +SKIP
    'logprobs'
    """

    name = "openai"

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1", *,
                 api_key_env: str | None = "OPENAI_API_KEY", cache: ResponseCache | None | bool = None,
                 max_concurrency: int = 8, timeout: float = 60.0, max_retries: int = 5,
                 backoff_base: float = 0.5, backoff_max: float = 30.0, retry_after_max: float = 120.0,
                 choice_method: str = "auto", n_samples: int = 20, sample_temperature: float = 1.0,
                 sample_max_tokens: int = 8, prompt_format: str | Callable = "chatml",
                 jitter_seed: int | None = None):
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty str, got {model!r}")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        for nm, v, lo in (("max_concurrency", max_concurrency, 1), ("max_retries", max_retries, 0),
                          ("n_samples", n_samples, 1), ("sample_max_tokens", sample_max_tokens, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{nm} must be an int >= {lo}, got {v!r}")
        for nm, v in (("timeout", timeout), ("backoff_base", backoff_base), ("backoff_max", backoff_max),
                      ("retry_after_max", retry_after_max)):
            if not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"{nm} must be a number >= 0, got {v!r}")
        if choice_method not in ("auto", "logprobs", "sampling"):
            raise ValueError(f"choice_method must be 'auto', 'logprobs' or 'sampling', got {choice_method!r}")
        if callable(prompt_format):
            self._render, self._format_name = prompt_format, getattr(prompt_format, "__name__", "custom")
        elif prompt_format in _FORMATS:
            self._render, self._format_name = _FORMATS[prompt_format], prompt_format
        else:
            raise ValueError(f"prompt_format must be 'chatml', 'raw' or a callable, got {prompt_format!r}")
        super().__init__(model, cache=cache)
        import httpx

        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max = float(backoff_base), float(backoff_max)
        self.retry_after_max = float(retry_after_max)
        self.choice_method = choice_method
        self.n_samples = n_samples
        self.sample_temperature = float(sample_temperature)
        self.sample_max_tokens = sample_max_tokens
        self._logprobs_ok: bool | None = {"logprobs": True, "sampling": False}.get(choice_method)
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency))
        self._rng = np.random.default_rng(jitter_seed)
        self._rng_lock = threading.Lock()
        self._stat_lock = threading.Lock()
        self.n_requests = 0
        self.n_retries = 0

    @property
    def supports_logprobs(self) -> bool:
        """False once the server has been found to offer no echo log-probabilities."""
        return self._logprobs_ok is not False

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # HTTP with retries -------------------------------------------------------
    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                secs = float(retry_after)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                    secs = when.timestamp() - time.time()
                except (TypeError, ValueError):
                    secs = None
            if secs is not None:
                return float(min(max(secs, 0.0), self.retry_after_max))
        with self._rng_lock:
            return float(self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2.0 ** attempt)))

    def _post(self, path: str, payload: dict[str, Any], check: Callable[[dict], Any]) -> Any:
        httpx = self._httpx
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after = None
            with self._stat_lock:
                self.n_requests += 1
            try:
                resp = self._client.post(path, json=payload)
            except httpx.TimeoutException as exc:
                last = f"timeout ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = f"connection error ({type(exc).__name__}: {exc})"
            else:
                code = resp.status_code
                if code == 429 or code >= 500:
                    last = f"HTTP {code}: {resp.text[:200]!r}"
                    retry_after = resp.headers.get("retry-after")
                elif code >= 400:
                    if code in (400, 404, 422) and path == "/completions" and payload.get("echo"):
                        raise _NoLogprobs(f"HTTP {code}: {resp.text[:200]}")
                    hint = (f" (is ${self.api_key_env} set to a valid key?)"
                            if code in (401, 403) and self.api_key_env else "")
                    raise BackendError(f"POST {self.base_url}{path} failed with HTTP {code}{hint}: "
                                       f"{resp.text[:500]}")
                else:
                    try:
                        return check(resp.json())
                    except _NoLogprobs:
                        raise
                    except (ValueError, KeyError, TypeError, IndexError, _Malformed) as exc:
                        last = f"malformed response body ({type(exc).__name__}: {exc}): {resp.text[:200]!r}"
            if attempt == self.max_retries:
                break
            with self._stat_lock:
                self.n_retries += 1
            time.sleep(self._delay(attempt, retry_after))
        raise BackendError(f"POST {self.base_url}{path} failed after {self.max_retries + 1} attempt(s); "
                           f"last error: {last}")

    def _pool(self, n: int, work: Callable[[int], Any], store: Callable[[int, Any], None]) -> None:
        """Run ``work(i)`` for i < n on the thread pool; each worker stores its answer at once."""
        if n == 0:
            return

        def run(i: int) -> None:
            store(i, work(i))  # committed the moment it arrives

        ex = ThreadPoolExecutor(max_workers=min(self.max_concurrency, n))
        try:
            futures = [ex.submit(run, i) for i in range(n)]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            errors = [f.exception() for f in done if f.exception() is not None]
            if errors:
                for f in pending:
                    f.cancel()
                raise errors[0]
        finally:
            # Requests already in flight finish and store their answers.
            ex.shutdown(wait=True, cancel_futures=True)

    # completions ------------------------------------------------------------
    def _complete_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        def check(body: dict) -> str:
            content = body["choices"][0]["message"]["content"]
            if content is not None and not isinstance(content, str):
                raise _Malformed("message content is not a string")
            return content or ""

        def work(i: int) -> str:
            r = requests[i]
            d = r["decoding"]
            payload = {"model": self.model, "messages": r["messages"], "temperature": d["temperature"],
                       "max_tokens": d["max_tokens"], "top_p": d["top_p"]}
            if d["seed"] is not None:
                payload["seed"] = d["seed"]
            return self._post("/chat/completions", payload, check)

        self._pool(len(requests), work, store)

    # choice probabilities -------------------------------------------------------
    def _choice_op(self) -> tuple[str, dict[str, Any]]:
        if self._logprobs_ok is False:
            return "choice_sample", {"n_samples": self.n_samples, "temperature": self.sample_temperature,
                                     "max_tokens": self.sample_max_tokens}
        return "choice_logprobs", {"prompt_format": self._format_name}

    def choice_probs(self, prompts: Any, choices: Any, *, progress: bool = False) -> ChoiceProbs:
        try:
            return super().choice_probs(prompts, choices, progress=progress)
        except _NoLogprobs as exc:
            if self.choice_method == "logprobs":
                raise BackendError(f"the server at {self.base_url} offers no echo log-probabilities on "
                                   f"/completions ({exc}); use choice_method='sampling'") from None
            self._logprobs_ok = False
            return super().choice_probs(prompts, choices, progress=progress)

    def _choice_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        if requests and requests[0]["op"] == "choice_sample":
            self._pool(len(requests), lambda i: self._sample_counts(requests[i]), store)
        else:
            self._pool(len(requests), lambda i: self._echo_logprobs(requests[i]), store)
            self._logprobs_ok = True

    def _echo_logprobs(self, r: dict[str, Any]) -> dict[str, Any]:
        prompt = self._render(r["messages"])
        texts = [prompt + c for c in r["choices"]]
        start = len(prompt)

        def check(body: dict) -> list[float]:
            chs = body["choices"]
            if not isinstance(chs, list) or len(chs) != len(texts):
                raise _Malformed(f"expected {len(texts)} choices, got {len(chs) if isinstance(chs, list) else chs!r}")
            out = [0.0] * len(texts)
            for pos, ch in enumerate(chs):
                j = int(ch.get("index", pos))
                lp = ch.get("logprobs")
                if not lp or lp.get("token_logprobs") is None or lp.get("text_offset") is None:
                    raise _NoLogprobs("the /completions reply carries no echo log-probabilities")
                end = len(texts[j])
                total, n = 0.0, 0
                for tok, tlp, off in zip(lp["tokens"], lp["token_logprobs"], lp["text_offset"]):
                    # Tokens covering any character of the choice (a token across the
                    # boundary counts: it is what the model scored).
                    if off < end and off + len(tok) > start:
                        if tlp is None:
                            raise _Malformed("null log-probability inside the choice")
                        total += float(tlp)
                        n += 1
                if n == 0:
                    raise _Malformed(f"no echoed token covers choice {r['choices'][j]!r}")
                out[j] = total
            return out

        payload = {"model": self.model, "prompt": texts, "max_tokens": 1, "temperature": 0.0,
                   "echo": True, "logprobs": 1}
        return {"logprobs": self._post("/completions", payload, check)}

    def _sample_counts(self, r: dict[str, Any]) -> dict[str, Any]:
        choices = r["choices"]
        counts = [0] * len(choices)
        got = 0

        def check(body: dict) -> list[str]:
            chs = body["choices"]
            if not isinstance(chs, list) or not chs:
                raise _Malformed("no choices in the reply")
            return [(c["message"]["content"] or "") for c in chs]

        for _ in range(r["n_samples"]):  # a server that ignores n= answers one per request
            if got >= r["n_samples"]:
                break
            payload = {"model": self.model, "messages": r["messages"], "n": r["n_samples"] - got,
                       "temperature": r["temperature"], "max_tokens": r["max_tokens"]}
            for text in self._post("/chat/completions", payload, check)[: r["n_samples"] - got]:
                k = match_choice(text, choices)
                if k is not None:
                    counts[k] += 1
                got += 1
        return {"counts": counts, "n": got}
