"""Run an audit task against a backend: prompts -> answers -> kernels -> report.

Every model answer goes through the backend's response cache, so an audit
that is interrupted resumes where it stopped and a rerun makes no model call
(``report.n_calls == 0``) and reproduces the same numbers.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from ..corpora import Corpus, load_hate_speech, load_product_reviews
from ..tasks import budget as _budget
from ..tasks import get_task
from ..tasks import hate_speech as _hs
from ..tasks import product_quality as _pq
from .analysis import budget_analysis, ribum_analysis
from .report import AuditReport, ParseTally

#: default corpus items per state (hate speech) / per (rating, state) cell
#: (product quality) / subjects per framing (budget); sized so that the
#: default audit on SmolLM2-135M finishes in a few minutes on 2 CPU cores
DEFAULT_N = {"hate_speech": 10, "product_quality": 4, "budget": 1}
#: decoding of sampled replies (the paper sampled Mistral at T=0.7, top_p=0.7)
SAMPLING_DECODING = {"temperature": 0.7, "top_p": 0.7}
MAX_TOKENS = {"hate_speech": 160, "product_quality": 80, "budget": 40}


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="prompt")


def _chunked_choice_probs(backend, prompts: list, choices: Sequence[str], *, chunk: int, bar) -> tuple[np.ndarray, str]:
    out, method = [], "logprobs"
    for i in range(0, len(prompts), chunk):
        p = backend.choice_probs(prompts[i:i + chunk], list(choices))
        method = getattr(p, "method", None) or getattr(backend, "last_choice_method", None) or "logprobs"
        out.append(np.asarray(p, dtype=float))
        bar.update(len(prompts[i:i + chunk]))
    return np.concatenate(out, axis=0), method


def _chunked_complete(backend, prompts: list, *, chunk: int, bar, **decoding) -> list[str]:
    out: list[str] = []
    for i in range(0, len(prompts), chunk):
        out.extend(backend.complete_batch(prompts[i:i + chunk], **decoding))
        bar.update(len(prompts[i:i + chunk]))
    return out


def resolve_mode(backend, mode: str) -> str:
    """``"logprobs"`` or ``"sampling"`` for ``mode`` in auto/logprobs/sampling.

    ``auto`` reads choices exactly where the backend computes log-probabilities
    locally (transformers, planted agents) or says it can
    (``backend.supports_logprobs``; a remote backend is then probed with one
    question by :func:`audit`), and samples JSON replies otherwise.
    """
    if mode not in ("auto", "logprobs", "sampling"):
        raise ValueError(f"mode must be 'auto', 'logprobs' or 'sampling', got {mode!r}")
    if mode != "auto":
        return mode
    if getattr(backend, "name", "") in ("transformers", "planted") or getattr(backend, "supports_logprobs", False):
        return "logprobs"
    return "sampling"


def _probe_logprobs(be) -> str:
    """Ask a remote backend one Yes/No question: ``"logprobs"`` if it answered
    from log-probabilities, else ``"sampling"`` (JSON replies, the paper's design)."""
    p = be.choice_probs([_hs.question_prompt("Hello.", "is_insulting")], list(_hs.YES_NO))
    method = getattr(p, "method", None) or getattr(be, "last_choice_method", None)
    return "logprobs" if method == "logprobs" else "sampling"


def _make_backend(backend, model, base_url, cache):
    from ..backends.factory import make_backend

    return make_backend(backend, model=model, base_url=base_url, cache=cache)


def audit(task: str = "hate_speech", backend: Any = None, *, model: str | None = None,
          base_url: str | None = None, cache: Any = None, corpus: Corpus | None = None,
          n: int | None = None, mode: str = "auto", n_samples: int = 5, seed: int = 0,
          n_boot: int = 100, n_sim: int = 200, choice_rule: str = "mean",
          chunk_size: int = 16, progress: bool = True) -> AuditReport:
    """Audit a model's rationality on a task; return an :class:`AuditReport`.

    Parameters
    ----------
    task : ``"hate_speech"``, ``"product_quality"`` or ``"budget"``
        (designs in :mod:`llmas.tasks`).
    backend : a :class:`llmas.Backend`, or ``"transformers"`` / ``"openai"``
        built with ``model``, ``base_url`` and ``cache``; ``None`` is the default
        local model (SmolLM2-135M-Instruct).
    corpus : labelled corpus for the RIBUM tasks (default: the bundled one).
    n : items per state (hate speech), per (rating, state) cell (product
        quality) or subjects (personas) per framing (budget); ``None`` uses
        :data:`DEFAULT_N`, ``0`` the whole corpus (budget: all 12 personas).
    mode : ``"auto"``, ``"logprobs"`` (exact choice probabilities) or
        ``"sampling"`` (``n_samples`` sampled JSON replies per prompt).
    seed : seeds the subsample, the budget lines, sampling and bootstraps.
    n_boot : bootstrap replications of the RIBUM margin.
    n_sim : simulated uniformly random subjects per subject (Bronars' power, budget).
    choice_rule : ``"mean"`` or ``"mode"`` of the exact share distribution (budget).

    Example
    -------
    >>> from llmas.auditing import audit                              # doctest: +SKIP
    >>> report = audit("hate_speech")                              # doctest: +SKIP
    >>> print(report.summary()); report.save("report")             # doctest: +SKIP
    """
    design = get_task(task)
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 0):
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    for name, value, lo in (("n_samples", n_samples, 1), ("n_boot", n_boot, 0), ("n_sim", n_sim, 1),
                            ("chunk_size", chunk_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    if choice_rule not in ("mean", "mode"):
        raise ValueError(f"choice_rule must be 'mean' or 'mode', got {choice_rule!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    t0 = time.perf_counter()
    be = _make_backend(backend, model, base_url, cache)
    load_s = time.perf_counter() - t0
    calls0 = int(getattr(be, "n_calls", 0))
    m = resolve_mode(be, mode)
    if mode == "auto" and m == "logprobs" and getattr(be, "name", "") not in ("transformers", "planted"):
        m = _probe_logprobs(be)
    nn = DEFAULT_N[task] if n is None else (None if n == 0 else int(n))
    params = {"n": nn, "mode": m, "n_samples": n_samples if m == "sampling" else None, "seed": seed,
              "n_boot": n_boot, "chunk_size": chunk_size}
    t1 = time.perf_counter()
    if task == "budget":
        params.update(n_sim=n_sim, choice_rule=choice_rule)
        report = _run_budget(be, nn or len(_budget.PERSONAS), m, n_samples=n_samples, seed=seed,
                             n_sim=n_sim, rule=choice_rule, chunk=chunk_size,
                             progress=progress, params=params)
    else:
        report = _run_ribum(task, be, corpus, nn, m, n_samples=n_samples, seed=seed, n_boot=n_boot,
                            chunk=chunk_size, progress=progress, params=params)
    report.model = {"backend": getattr(be, "name", type(be).__name__), "model": str(getattr(be, "model", "")),
                    "class": type(be).__name__}
    report.n_calls = int(getattr(be, "n_calls", 0)) - calls0
    # a backend built by the caller reports its own load time
    report.timing = {"backend_load_s": float(getattr(be, "load_seconds", load_s) or load_s),
                     "run_s": time.perf_counter() - t1}
    report.design = design.design()
    return report


# --------------------------------------------------------------------------- RIBUM tasks


def _ribum_items(task: str, corpus: Corpus) -> tuple[list[tuple[int, int]], list[str]]:
    """(environment index, corpus position) of every item, and environment names."""
    if task == "hate_speech":
        envs = [e.name for e in _hs.ENVIRONMENTS]
        return [(k, i) for k in range(len(envs)) for i in range(len(corpus))], envs
    if corpus.environments is None:
        raise ValueError("product-quality corpora need star ratings (corpus.environments)")
    present = sorted(set(corpus.environments.tolist()))
    envs = [f"stars_{s}" for s in present]
    return [(present.index(int(corpus.environments[i])), i) for i in range(len(corpus))], envs


def _run_ribum(task, be, corpus, n, mode, *, n_samples, seed, n_boot, chunk, progress, params) -> AuditReport:
    design = get_task(task)
    if corpus is None:
        corpus = load_hate_speech() if task == "hate_speech" else load_product_reviews()
    if corpus.n_states != design.N_STATES:
        raise ValueError(f"corpus has {corpus.n_states} states, task {task} needs {design.N_STATES}")
    corpus = corpus.subsample(n, seed=seed)
    items, env_names = _ribum_items(task, corpus)
    K, X, A = len(env_names), design.N_STATES, design.N_ACTIONS
    item_env = np.array([k for k, _ in items])
    item_state = corpus.states[[i for _, i in items]]
    tally = ParseTally(env_names)
    decoding: dict[str, Any] = {}

    if mode == "logprobs":
        prompts = []
        for k, i in items:
            for flag in design.ACTION_FLAGS:
                if task == "hate_speech":
                    prompts.append(_hs.question_prompt(corpus.texts[i], flag, _hs.ENVIRONMENTS[k]))
                else:
                    prompts.append(_pq.question_prompt(corpus.texts[i], corpus.products[i],
                                                       int(corpus.environments[i]), flag))
        bar = _progress(len(prompts), f"audit {task}", progress)
        try:
            probs, method = _chunked_choice_probs(be, prompts, design.YES_NO, chunk=chunk, bar=bar)
        finally:
            bar.close()
        q = probs[:, 0].reshape(len(items), len(design.ACTION_FLAGS))
        item_probs = design.action_probs_from_yes(q)
        exact = method == "logprobs"
        params["choice_method"] = method
        params["decoding"] = {"choice_probs": list(design.YES_NO),
                              "rule": "exact next-token log-probabilities of each choice, normalized "
                                      "over the choices; no sampling" if method == "logprobs" else method}
        counts = np.zeros((K, X, A))
        np.add.at(counts, (item_env, item_state), item_probs)
        item_detail = {"p_yes": q.tolist(), "action_probs": item_probs.tolist()}
    else:
        prompts = []
        temps = []
        for k, i in items:
            if task == "hate_speech":
                prompts.append(_hs.json_prompt(corpus.texts[i], _hs.ENVIRONMENTS[k]))
                temps.append(_hs.ENVIRONMENTS[k].temperature)
            else:
                prompts.append(_pq.json_prompt(corpus.texts[i], corpus.products[i], int(corpus.environments[i])))
                temps.append(SAMPLING_DECODING["temperature"])
        decoding = {**SAMPLING_DECODING, "max_tokens": MAX_TOKENS[task]}
        replies: list[list[str]] = [[] for _ in items]
        bar = _progress(len(prompts) * n_samples, f"audit {task}", progress)
        try:
            for r in range(n_samples):
                for temp in sorted(set(temps)):
                    idx = [j for j, t in enumerate(temps) if t == temp]
                    got = _chunked_complete(be, [prompts[j] for j in idx], chunk=chunk, bar=bar,
                                            **{**decoding, "temperature": temp}, seed=seed * 10_000 + r)
                    for j, g in zip(idx, got):
                        replies[j].append(g)
        finally:
            bar.close()
        counts = np.zeros((K, X, A))
        item_actions = []
        for j, (k, i) in enumerate(items):
            acts = []
            for text in replies[j]:
                a = tally.parse(text, design.SCHEMA, env=k)
                if a is not None:
                    acts.append(int(design.action_from_flags(a)))
                    counts[k, corpus.states[i], acts[-1]] += 1
            item_actions.append(acts)
        exact = False
        item_probs = None
        item_detail = {"actions": item_actions}
        params["decoding"] = decoding

    rowsum = counts.sum(axis=2, keepdims=True)
    empty = np.argwhere(rowsum[..., 0] == 0)
    if len(empty):
        cells = ", ".join(f"({env_names[k]}, state {x})" for k, x in empty)
        raise ValueError(f"no usable answers for the cells {cells}: cannot estimate p_k(a|x) there "
                         f"(enlarge n, or check the parse failures{_failure_note(tally)})")
    kernels = counts / rowsum
    prior = corpus.state_frequencies()
    results = ribum_analysis(kernels, prior, counts, exact=exact, item_probs=item_probs, item_env=item_env,
                             item_state=item_state, n_boot=n_boot, seed=seed, env_names=env_names)
    results["environments"] = env_names
    results["items"] = {"ids": [corpus.ids[i] for _, i in items], "environment": item_env.tolist(),
                        "state": item_state.tolist(), **item_detail}
    return AuditReport(task=task, kind="ribum", mode=mode, seed=seed, parameters=params,
                       corpus=corpus.to_dict(), parse=tally.to_dict(), results=results)


# --------------------------------------------------------------------------- budget


def _run_budget(be, n_subjects, mode, *, n_samples, seed, n_sim, rule, chunk, progress,
                params) -> AuditReport:
    subjects = []  # (framing, persona, intercepts (25, 2))
    for f_idx, framing in enumerate(_budget.FRAMINGS):
        for j in range(n_subjects):
            persona = _budget.PERSONAS[j % len(_budget.PERSONAS)]
            lines = _budget.budget_lines(_budget.N_BUDGETS, seed=np.random.default_rng([seed, f_idx, j]))
            subjects.append((framing, persona, lines))
    T = _budget.N_BUDGETS
    tally = ParseTally([s[0] for s in subjects])
    if mode == "logprobs":
        prompts = [_budget.choice_prompt(f, p, M, N) for f, p, lines in subjects for M, N in lines]
        bar = _progress(len(prompts), "audit budget", progress)
        try:
            probs, method = _chunked_choice_probs(be, prompts, _budget.CHOICES, chunk=chunk, bar=bar)
        finally:
            bar.close()
        params["choice_method"] = method
        params["decoding"] = {"choice_probs": list(_budget.CHOICES),
                              "rule": f"{rule} of the exact share distribution over the choices"}
        shares = _budget.share_from_probs(probs, rule).reshape(len(subjects), T)
        detail = {"share_probs": probs.reshape(len(subjects), T, -1).tolist()}
    else:
        prompts = [_budget.json_prompt(f, p, M, N) for f, p, lines in subjects for M, N in lines]
        decoding = {**SAMPLING_DECODING, "max_tokens": MAX_TOKENS["budget"]}
        params["decoding"] = decoding
        got = []
        bar = _progress(len(prompts) * n_samples, "audit budget", progress)
        try:
            for r in range(n_samples):
                got.append(_chunked_complete(be, prompts, chunk=chunk, bar=bar, **decoding,
                                             seed=seed * 10_000 + r))
        finally:
            bar.close()
        shares = np.full(len(prompts), np.nan)
        for j in range(len(prompts)):
            vals = []
            for r in range(n_samples):
                d = tally.parse(got[r][j], _budget.SCHEMA, env=j // T,
                                check=lambda d: 0 <= d["percent"] <= 100 or "percent outside [0, 100]")
                if d is not None:
                    vals.append(d["percent"] / 100)
            if vals:
                shares[j] = float(np.mean(vals))
        shares = shares.reshape(len(subjects), T)
        detail = {"replies": [[g[j] for g in got] for j in range(len(prompts))]}
    keep = ~np.isnan(shares).any(axis=1)
    if not keep.any():
        raise ValueError("no subject has a usable answer for every budget line (see the parse failures"
                         f"{_failure_note(tally)})")
    names = [f"{f} / {p}" for f, p, _ in subjects]
    lines = np.stack([s[2] for s in subjects])
    prices = np.stack([_budget.prices(li) for li in lines])
    qty = np.stack([_budget.bundle(np.clip(sh, 0, 1), li) if k else np.full((T, 2), np.nan)
                    for sh, li, k in zip(shares, lines, keep)])
    results = budget_analysis(prices[keep], qty[keep], subjects=[n for n, k in zip(names, keep) if k],
                              n_sim=n_sim, seed=seed)
    results["dropped_subjects"] = [n for n, k in zip(names, keep) if not k]
    results["framing"] = [s[0] for s, k in zip(subjects, keep) if k]
    results["shares"] = shares[keep].tolist()
    results["intercepts"] = lines[keep].tolist()
    results["detail"] = detail
    results["verdict_text"] = budget_verdict(results)
    return AuditReport(task="budget", kind="budget", mode=mode, seed=seed, parameters=params, corpus=None,
                       parse=tally.to_dict(), results=results)


def _failure_note(tally: ParseTally) -> str:
    d = tally.to_dict()
    if not d["n_failed"]:
        return ""
    return f": {d['n_failed']} of {d['n_total']} replies unparsable, e.g. {d['failures'][0]['reason']!r}"


def budget_verdict(res: dict[str, Any]) -> str:
    """One paragraph on the budget results against random choices."""
    r = res["random"]
    text = (f"{100 * res['garp_pass_rate']:.0f}% of {res['n_subjects']} subjects satisfy GARP "
            f"(uniformly random choices on the same budgets: {100 * r['garp_pass_rate']:.0f}%); "
            f"median CCEI {res['ccei_median']:.3f} (random: {r['ccei_median']:.3f}); mean Bronars power "
            f"{res['bronars_power_mean']:.2f}.")
    shares = np.asarray(res["shares"])
    if shares.size and float(np.std(shares, axis=1).mean()) < 0.02:
        text += (" The budget shares hardly vary with prices (Cobb-Douglas-like constant shares), which "
                 "passes GARP trivially: read the pass rate together with the power and the share plot.")
    return text
