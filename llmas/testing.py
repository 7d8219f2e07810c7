"""Test helpers: a tiny random-weight chat model built offline in about a second,
and a local HTTP server for testing HTTP backends.

``make_tiny_model(directory)`` trains a byte-level BPE tokenizer on a small
built-in corpus with the ``tokenizers`` package, gives it a ChatML chat template
(the format of SmolLM2 and Qwen), builds a 2-layer GPT-2 with random weights
drawn from an explicitly seeded ``torch.Generator``, and saves both with
``save_pretrained``.  Nothing is downloaded.  The weights are large enough
(std 0.4) that next-token distributions are far from uniform, so tests of
exact choice probabilities can tell a right answer from a wrong one.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["make_tiny_model", "TINY_CHAT_TEMPLATE", "LocalServer", "send_json", "chat_completion"]

TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = """
Is this text insulting? Answer Yes or No. Yes No Maybe yes no yes, definitely.
The product broke after two days. I would not recommend it. Great value, works well.
Hello there, how are you today? I am fine, thank you. What a lovely morning it is.
The public belief is updated by the social learning filter after each action.
Agents observe private signals and the actions of their predecessors, then herd.
{"is_insulting": true, "is_dehumanizing": false, "share": 0.25, "label": "good"}
Answer with a single word: positive, negative or neutral. Positive. Negative. Neutral.
Numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 0.5 -1 apples oranges bananas budget price.
"""


def make_tiny_model(directory: str | os.PathLike, *, seed: int = 0, vocab_size: int = 400,
                    n_layer: int = 2, n_embd: int = 32, n_positions: int = 512) -> Path:
    """Build and save a tiny GPT-2 chat model; return its folder.

    Parameters
    ----------
    directory : path
        Folder to write (created).  Loadable by ``TransformersBackend(directory)``.
    seed : int
        Seed of the weights (the tokenizer training is deterministic).

    Examples
    --------
    >>> import tempfile
    >>> path = make_tiny_model(tempfile.mkdtemp())          # doctest: +SKIP
    """
    import torch
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS.strip().splitlines() * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token="<|im_start|>", unk_token=None)
    fast.chat_template = TINY_CHAT_TEMPLATE
    fast.save_pretrained(out)

    cfg = GPT2Config(vocab_size=len(fast), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                     n_head=2, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                     pad_token_id=fast.pad_token_id)
    model = GPT2LMHeadModel(cfg)
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for _name, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.4)
    model.eval()
    model.save_pretrained(out)
    return out


def send_json(handler: BaseHTTPRequestHandler, code: int, payload: Any, headers: Any = ()) -> None:
    """Write one HTTP response with a JSON (or raw ``bytes``) body and a Content-Length."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for k, v in headers:
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


def chat_completion(texts: str | list[str], **extra: Any) -> dict[str, Any]:
    """The body of an OpenAI ``/v1/chat/completions`` reply with one choice per text (``extra`` keys added).

    >>> chat_completion(["Yes", "No"])["choices"][1]["message"]["content"]
    'No'
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    return {"object": "chat.completion",
            "choices": [{"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                        for i, t in enumerate(texts)], **extra}


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 whose replies a test writes.

    ``respond(handler, method, path, headers, body)`` is called for every
    request (``headers`` a dict, ``body`` the raw bytes); it writes the reply
    through ``handler`` (see :func:`send_json`).  ``requests`` records every
    ``(method, path, headers, body)``.  Use as a context manager.

    Examples
    --------
    >>> import urllib.request
    >>> def hello(h, method, path, headers, body):
    ...     send_json(h, 200, {"path": path})
    >>> with LocalServer(hello) as srv:
    ...     urllib.request.urlopen(srv.root + "/x").read()
    b'{"path": "/x"}'
    """

    def __init__(self, respond: Callable[..., None]):
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(n) if n else b""
                headers = dict(self.headers.items())
                with server.lock:
                    server.requests.append((self.command, self.path, headers, body))
                try:
                    respond(self, self.command, self.path, headers, body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = self.root + "/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    @property
    def count(self) -> int:
        """Requests received so far."""
        return len(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
