"""Run an audit task against a backend: prompts -> answers -> kernels -> report.

Every model answer goes through the backend's response cache, so an audit
that is interrupted resumes where it stopped and a rerun makes no model call
and reproduces the same numbers.  The task (:class:`llmas.tasks.Task`) owns
the prompts, the corpus and the action law; this module only schedules the
questions and hands the answers to the analysis.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from llmas.corpora import Corpus
from llmas.tasks import Task, get_task
from llmsl_core import check_n_jobs

from .analysis import POWER_N, budget_analysis, ribum_analysis
from .report import AuditResult, ParseTally

#: decoding of sampled replies (the paper sampled Mistral at T=0.7, top_p=0.7)
SAMPLING_DECODING = {"temperature": 0.7, "top_p": 0.7}


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
    probe = [{"role": "user", "content": 'Text: "Hello."\n\nIs this text insulting? Answer Yes or No.'}]
    p = be.choice_probs([probe], ["Yes", "No"])
    method = getattr(p, "method", None) or getattr(be, "last_choice_method", None)
    return "logprobs" if method == "logprobs" else "sampling"


def _make_backend(backend, model, base_url, cache):
    from llmas.backends.factory import make_backend

    return make_backend(backend, model=model, base_url=base_url, cache=cache)


def _check_int(name: str, value: Any, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")


def audit(task: str | Task = "hate_speech", backend: Any = None, *, model: str | None = None,
          base_url: str | None = None, cache: Any = None, corpus: Corpus | None = None,
          n: int | None = None, mode: str = "auto", n_samples: int = 5, seed: int = 0,
          n_boot: int = 100, n_sim: int = 200, choice_rule: str = "mean",
          chunk_size: int = 16, progress: bool = True, power_n: int = POWER_N, n_jobs: int | None = None):
    """Audit a model's rationality on a task; return a :class:`llmsl.report.Report`.

    Parameters
    ----------
    task : a registered task name (``"hate_speech"``, ``"product_quality"``,
        ``"budget"``) or a :class:`llmas.tasks.Task` instance.
    backend : a :class:`llmas.Backend`, or ``"transformers"`` / ``"openai"``
        built with ``model``, ``base_url`` and ``cache``; ``None`` is the default
        local model (SmolLM2-135M-Instruct), loaded on the first cache miss.
    corpus : labelled corpus for RIBUM tasks (default: the task's bundled one).
    n : items per state (RIBUM tasks; per (environment, state) cell where the
        task ties items to environments) or subjects per framing (budget);
        ``None`` uses the task's ``default_n``, ``0`` the whole corpus.
    mode : ``"auto"``, ``"logprobs"`` (exact choice probabilities) or
        ``"sampling"`` (``n_samples`` sampled JSON replies per prompt).
    seed : seeds the subsample, the budget lines, sampling and bootstraps.
    n_boot : bootstrap replications of the RIBUM margin.
    power_n : Monte Carlo draws per null for the power of the RIBUM test(s)
        (:func:`ribum.ribum_power` under uniformly random kernels and under
        random kernels as informative as the observed ones, seeded from
        ``seed``); 0 skips the power.
    n_sim : simulated uniformly random subjects per subject (Bronars' power, budget).
    n_jobs : threads that solve the RIBUM LPs of the bootstrap and the power side
        by side (``None``: the available cores, at most 8); the numbers do not depend on it.
    choice_rule : ``"mean"`` or ``"mode"`` of the exact share distribution (budget).

    The report's ``results`` hold every number; ``report.verdict.label`` is
    ``consistent``, ``consistent_uninformative``, ``uninformative`` or
    ``inconsistent`` for RIBUM tasks. A task whose environments state
    incentives (a ``Task.incentives`` array (K, X, A), e.g. ``hate_speech_stakes``)
    is tested with one utility shared by every environment and those
    incentives (the headline verdict) and with a free utility per environment
    (the paper's test); ``results["tests"]`` holds both, each with its power.

    Example
    -------
    >>> from llmsl.audit import audit                            # doctest: +SKIP
    >>> report = audit("hate_speech")                            # doctest: +SKIP
    >>> print(report.summary()); report.save("report")           # doctest: +SKIP
    """
    t = get_task(task)
    if n is not None:
        _check_int("n", n, 0)
    for name, value, lo in (("n_samples", n_samples, 1), ("n_boot", n_boot, 0), ("n_sim", n_sim, 1),
                            ("chunk_size", chunk_size, 1), ("seed", seed, 0), ("power_n", power_n, 0)):
        _check_int(name, value, lo)
    n_jobs = check_n_jobs(n_jobs)
    if choice_rule not in ("mean", "mode"):
        raise ValueError(f"choice_rule must be 'mean' or 'mode', got {choice_rule!r}")
    if mode not in ("auto", "logprobs", "sampling"):
        raise ValueError(f"mode must be 'auto', 'logprobs' or 'sampling', got {mode!r}")
    if t.kind not in _RUNNERS:
        raise ValueError(f"task {t.name!r} has kind {t.kind!r}; the audit runs kinds {sorted(_RUNNERS)}")
    if corpus is None and t.kind == "ribum":
        corpus = t.load_corpus()  # a bad corpus fails here, before any model is built or loaded
    t0 = time.perf_counter()
    be = _make_backend(backend, model, base_url, cache)
    calls0 = int(getattr(be, "n_calls", 0) or 0)
    hits0 = int(getattr(be, "n_cache_hits", 0) or 0)
    m = resolve_mode(be, mode)
    if mode == "auto" and m == "logprobs" and getattr(be, "name", "") not in ("transformers", "planted"):
        m = _probe_logprobs(be)
    nn = t.default_n if n is None else (None if n == 0 else int(n))
    params: dict[str, Any] = {"n": nn, "mode": m, "n_samples": n_samples if m == "sampling" else None,
                              "seed": seed, "n_boot": n_boot, "chunk_size": chunk_size}
    result = _RUNNERS[t.kind](t, be, corpus, nn, m, n_samples=n_samples, seed=seed, n_boot=n_boot, n_sim=n_sim,
                              rule=choice_rule, chunk=chunk_size, progress=progress, params=params,
                              power_n=power_n, n_jobs=n_jobs)
    result.design = t.design()
    return result.to_report(be, calls0=calls0, hits0=hits0, wall_time_s=time.perf_counter() - t0)


# --------------------------------------------------------------------------- RIBUM tasks


def _run_ribum(t: Task, be, corpus, n, mode, *, n_samples, seed, n_boot, chunk, progress, params,
               power_n: int = POWER_N, n_jobs: int = 1, **_: Any) -> AuditResult:
    if corpus.n_states != t.n_states:
        raise ValueError(f"corpus has {corpus.n_states} states, task {t.name} needs {t.n_states}")
    corpus = corpus.subsample(n, seed=seed)
    items, env_names = t.items(corpus)
    K, X, A = len(env_names), t.n_states, t.n_actions
    item_env = np.array([k for k, _ in items])
    item_state = corpus.states[[i for _, i in items]]
    envs = [t.environment(corpus, k, i) for k, i in items]
    tally = ParseTally(env_names)

    if mode == "logprobs":
        per_item = [t.question_prompts(corpus, i, env) for (k, i), env in zip(items, envs, strict=True)]
        n_q = len(per_item[0]) if per_item else 0
        prompts = [q for qs in per_item for q in qs]
        bar = _progress(len(prompts), f"audit {t.name}", progress)
        try:
            probs, method = _chunked_choice_probs(be, prompts, t.choices, chunk=chunk, bar=bar)
        finally:
            bar.close()
        q = probs[:, 0].reshape(len(items), n_q)
        item_probs = t.action_law(q)
        exact = method == "logprobs"
        params["choice_method"] = method
        params["decoding"] = {"choices": list(t.choices),
                              "rule": "exact next-token log-probabilities of each choice, normalized "
                                      "over the choices; no sampling" if exact else method}
        counts = np.zeros((K, X, A))
        np.add.at(counts, (item_env, item_state), item_probs)
        item_detail: dict[str, Any] = {"p_yes": q.tolist(), "action_probs": item_probs.tolist()}
    else:
        prompts = [t.json_prompt(corpus, i, env) for (k, i), env in zip(items, envs, strict=True)]
        temps = [t.sampling_temperature(env) for env in envs]
        decoding = {**SAMPLING_DECODING, "max_tokens": t.max_tokens}
        replies: list[list[str]] = [[] for _ in items]
        bar = _progress(len(prompts) * n_samples, f"audit {t.name}", progress)
        try:
            for r in range(n_samples):
                for temp in sorted(set(temps)):
                    idx = [j for j, tt in enumerate(temps) if tt == temp]
                    got = _chunked_complete(be, [prompts[j] for j in idx], chunk=chunk, bar=bar,
                                            **{**decoding, "temperature": temp}, seed=seed * 10_000 + r)
                    for j, g in zip(idx, got, strict=True):
                        replies[j].append(g)
        finally:
            bar.close()
        counts = np.zeros((K, X, A))
        item_actions = []
        for j, (k, i) in enumerate(items):
            acts = []
            for text in replies[j]:
                a = tally.parse(text, t.schema, env=k)
                if a is not None:
                    acts.append(int(t.action_from_reply(a)))
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
    params["power_n"] = power_n
    # A task whose environments state incentives is tested with one shared utility as well (no name branching)
    incentives = _task_incentives(t, env_names)
    results = ribum_analysis(kernels, prior, counts, exact=exact, item_probs=item_probs, item_env=item_env,
                             item_state=item_state, n_boot=n_boot, seed=seed, env_names=env_names,
                             incentives=incentives, power_n=power_n, progress=progress, n_jobs=n_jobs)
    results["environments"] = env_names
    results["items"] = {"ids": [corpus.ids[i] for _, i in items], "environment": item_env.tolist(),
                        "state": item_state.tolist(), **item_detail}
    return AuditResult(task=t.name, kind="ribum", mode=mode, seed=seed, parameters=params,
                       corpus=corpus.to_dict(), parse=tally.to_dict(), results=results)


def _task_incentives(t: Task, env_names: Sequence[str]) -> np.ndarray | None:
    """The task's stated incentives Delta (K, X, A) for the environments asked, or ``None``.

    ``Task.incentives`` lists one (X, A) matrix per entry of ``t.environments``;
    the rows of the environments that ``t.items`` used are picked by name.
    """
    delta = getattr(t, "incentives", None)
    if delta is None:
        return None
    delta = np.asarray(delta, dtype=float)
    names = [e.name for e in t.environments]
    if delta.shape != (len(names), t.n_states, t.n_actions):
        raise ValueError(f"task {t.name!r}: incentives have shape {delta.shape}, expected (K, X, A) = "
                         f"{(len(names), t.n_states, t.n_actions)}")
    missing = [e for e in env_names if e not in names]
    if missing:
        raise ValueError(f"task {t.name!r}: environments {missing} have no stated incentives")
    return delta[[names.index(e) for e in env_names]]


# --------------------------------------------------------------------------- budget


def _run_budget(t: Task, be, corpus, n, mode, *, n_samples, seed, n_sim, rule, chunk, progress, params,
                **_: Any) -> AuditResult:
    from llmas.tasks import budget as _budget

    params.update(n_sim=n_sim, choice_rule=rule)
    subjects = t.subjects(n or len(_budget.PERSONAS), seed=seed)  # type: ignore[attr-defined]
    T = _budget.N_BUDGETS
    tally = ParseTally([s[0] for s in subjects])
    if mode == "logprobs":
        prompts = [t.choice_prompt(f, p, M, N) for f, p, lines in subjects for M, N in lines]  # type: ignore[attr-defined]
        bar = _progress(len(prompts), f"audit {t.name}", progress)
        try:
            probs, method = _chunked_choice_probs(be, prompts, t.choices, chunk=chunk, bar=bar)
        finally:
            bar.close()
        params["choice_method"] = method
        params["decoding"] = {"choices": list(t.choices),
                              "rule": f"{rule} of the exact share distribution over the choices"}
        shares = t.share_from_probs(probs, rule).reshape(len(subjects), T)  # type: ignore[attr-defined]
        detail: dict[str, Any] = {"share_probs": probs.reshape(len(subjects), T, -1).tolist()}
    else:
        prompts = [t.budget_json_prompt(f, p, M, N) for f, p, lines in subjects for M, N in lines]  # type: ignore[attr-defined]
        decoding = {**SAMPLING_DECODING, "max_tokens": t.max_tokens}
        params["decoding"] = decoding
        got = []
        bar = _progress(len(prompts) * n_samples, f"audit {t.name}", progress)
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
                d = tally.parse(got[r][j], t.schema, env=j // T,
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
                    for sh, li, k in zip(shares, lines, keep, strict=True)])
    results = budget_analysis(prices[keep], qty[keep], subjects=[n for n, k in zip(names, keep, strict=True) if k],
                              n_sim=n_sim, seed=seed)
    results["dropped_subjects"] = [n for n, k in zip(names, keep, strict=True) if not k]
    results["framing"] = [s[0] for s, k in zip(subjects, keep, strict=True) if k]
    results["shares"] = shares[keep].tolist()
    results["intercepts"] = lines[keep].tolist()
    results["detail"] = detail
    results["verdict_text"] = budget_verdict(results)
    return AuditResult(task=t.name, kind="budget", mode=mode, seed=seed, parameters=params, corpus=None,
                       parse=tally.to_dict(), results=results)


#: analysis per task kind
_RUNNERS: dict[str, Callable[..., AuditResult]] = {"ribum": _run_ribum, "budget": _run_budget}


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
