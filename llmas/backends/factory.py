"""Building a backend from a kind name or from command-line arguments.

One place for the choice ``transformers`` (local) versus ``openai`` (an
OpenAI-compatible server), used by :func:`llmas.audit` and by the ``audit``,
``herd`` and ``control`` commands, so they accept the same options and give
the same errors.
"""
from __future__ import annotations

import argparse
from typing import Any

__all__ = ["make_backend", "backend_from_args"]


_HTTP_OPTIONS = ("timeout", "max_retries", "max_concurrency", "retry_after_cap", "max_response_bytes",
                 "run_deadline")


def make_backend(kind: Any = None, *, model: str | None = None, base_url: str | None = None, cache: Any = None,
                 api_key_env: str | None = "OPENAI_API_KEY", batch_size: int = 16,
                 timeout: float | None = None, max_retries: int | None = None, max_concurrency: int | None = None,
                 retry_after_cap: float | None = None, max_response_bytes: int | None = None,
                 run_deadline: float | None = None):
    """A backend of the given kind.

    Parameters
    ----------
    kind : ``"transformers"``, ``"openai"``, ``None`` or a backend object
        ``None`` means ``"openai"`` when ``base_url`` is given, else
        ``"transformers"``; a backend object is returned as is.
    model : model folder / Hugging Face id (transformers; ``None`` is the
        default SmolLM2-135M-Instruct) or the server's model name (openai).
    base_url : OpenAI-compatible server URL (openai).
    cache : ``ResponseCache``, ``None`` (the user cache) or ``False``.
    api_key_env : environment variable holding the API key (openai).
    batch_size : prompts per forward pass (transformers).
    timeout, max_retries, max_concurrency, retry_after_cap, max_response_bytes, run_deadline :
        HTTP limits of the openai backend (see :class:`~llmas.backends.openai.OpenAIBackend`);
        ``None`` keeps its default.  The transformers backend makes no HTTP
        requests and ignores them.

    Raises ``ValueError`` for an unknown kind or an openai backend without
    ``model`` and ``base_url``.

    >>> make_backend("openai", model="m")
    Traceback (most recent call last):
    ...
    ValueError: the openai backend needs a model name (--model) and a server URL (--base-url)
    """
    if kind is not None and not isinstance(kind, str):
        return kind
    kind = kind or ("openai" if base_url else "transformers")
    if kind == "openai":
        if not model or not base_url:
            raise ValueError("the openai backend needs a model name (--model) and a server URL (--base-url)")
        from .openai import OpenAIBackend

        given = dict(zip(_HTTP_OPTIONS, (timeout, max_retries, max_concurrency, retry_after_cap,
                                          max_response_bytes, run_deadline), strict=True))
        http: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        return OpenAIBackend(model, base_url, api_key_env=api_key_env, cache=cache, **http)
    if kind == "transformers":
        from .transformers import TransformersBackend

        return TransformersBackend(model, cache=cache, batch_size=batch_size)
    raise ValueError(f"backend must be 'transformers', 'openai' or a Backend object, got {kind!r}")


def backend_from_args(args: argparse.Namespace):
    """The backend that the options ``--backend --model --base-url --api-key-env --cache
    --no-cache --batch-size`` ask for, and the HTTP limits ``--timeout --max-retries
    --max-concurrency --retry-after-cap --max-response-bytes --run-deadline`` where
    the parser defines them."""
    from ..cache import ResponseCache

    cache: Any = False if args.no_cache else (ResponseCache(args.cache) if args.cache else None)
    http = {k: getattr(args, k, None) for k in _HTTP_OPTIONS}
    return make_backend(args.backend, model=args.model, base_url=args.base_url, cache=cache,
                        api_key_env=args.api_key_env, batch_size=args.batch_size, **http)
