r"""From action kernels or budget choices to verdicts (the numbers in a report).

RIBUM tasks (SPEC 1b): given the prior ``pi0`` (X,) and kernels ``p_k(a|x)``
(K, X, A), :func:`ribum_analysis` runs the NIAS + NIAC LP
(:func:`ribum.check_ribum`), a bootstrap of its margin, and measures how
informative the actions are about the state,

.. math::  I_k(X; A) = \sum_{x,a} \pi_0(x) p_k(a|x) \log_2 \frac{p_k(a|x)}{p_k(a)},

with a Dirichlet-posterior interval (:func:`sociallearn.informativeness`), so
that an uninformative model is reported as such and not as irrational (SPEC 4).

Budget tasks (SPEC 1a): :func:`budget_analysis` runs GARP, the CCEI, Afriat's
utility and Bronars' power per subject, and the same indices for uniformly
random choices on the same budgets.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from llmsl_core import check_stochastic, to_jsonable
from sociallearn import mutual_information

#: mutual information (bits) below which the actions count as uninformative
UNINFORMATIVE_BITS = 0.05


def validate_kernels(kernels, prior) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (K, X, A) row-stochastic and prior (X,) a distribution (:func:`llmsl_core.check_stochastic`)."""
    k = check_stochastic(kernels, "kernels", ndim=3)
    pi = check_stochastic(np.asarray(prior, dtype=float)[None, :], "prior")[0]
    if pi.shape != (k.shape[1],):
        raise ValueError(f"prior has {pi.size} states, kernels have X = {k.shape[1]}")
    return k, pi


def informativeness_block(counts, prior, kernels, *, exact: bool, n_samples: int, seed: int,
                          mi_boot=None) -> list[dict[str, Any]]:
    """How informative the actions are about the state, per environment.

    ``mutual_information_bits`` is ``I(X;A)`` of the kernel under the prior.
    ``informativeness`` holds :func:`sociallearn.informativeness` (mutual
    information, distance of the kernel from rank one, ...): for sampled
    answers on the counts, with Dirichlet-posterior credible intervals and a
    G-test of independence; for exact probabilities at the exact kernel
    (``prior_strength=0``, no posterior sampling: pseudo-counts are not
    observations), the interval of ``I(X;A)`` then coming from the text
    bootstrap (``mi_boot``, shape (n_boot, K)) as ``mi_interval_95``.
    """
    import sociallearn

    out = []
    for k in range(kernels.shape[0]):
        entry: dict[str, Any] = {"mutual_information_bits": mutual_information(kernels[k], prior)}
        if exact:
            info = sociallearn.informativeness(np.asarray(counts[k], dtype=float), n_samples=0, prior=prior,
                                               prior_strength=0.0)
            d = to_jsonable(info)
            d.pop("intervals", None)
            d.pop("p_value", None)  # a G-test on pseudo-counts would be meaningless
            entry["informativeness"] = d
            if mi_boot is not None and len(mi_boot):
                entry["mi_interval_95"] = np.quantile(np.asarray(mi_boot)[:, k], [0.025, 0.975]).tolist()
        else:
            info = sociallearn.informativeness(np.asarray(counts[k], dtype=float), n_samples=n_samples,
                                               seed=seed + k, prior=prior)
            entry["informativeness"] = to_jsonable(info)
            iv = entry["informativeness"].get("intervals", {}).get("mi_bits")
            if iv:
                entry["mi_interval_95"] = iv
        out.append(entry)
    return out


def _env_informative(entry: dict[str, Any], exact: bool) -> bool:
    """An environment is informative when ``I(X;A) >= UNINFORMATIVE_BITS`` and, for
    sampled answers, the G-test rejects independence of state and action at 5%."""
    if entry["mutual_information_bits"] < UNINFORMATIVE_BITS:
        return False
    if exact:
        return True
    p = (entry.get("informativeness") or {}).get("p_value")
    return p is not None and p < 0.05


def text_bootstrap(item_probs, item_env, item_state, prior, n_states: int, n_envs: int, *,
                   n_boot: int, seed: int) -> dict[str, Any]:
    """Bootstrap of the RIBUM margin over the texts (exact-probability audits).

    With exact probabilities the only sampling variability is which texts the
    corpus holds: resample the items of every (environment, state) cell with
    replacement, average their exact action distributions into kernels and
    re-solve the LP.

    item_probs : (n_items, A); item_env, item_state : (n_items,) ints.
    """
    from ribum.inattention import TOL, RibumLP

    rng = np.random.default_rng(seed)
    cells = [[np.flatnonzero((item_env == k) & (item_state == x)) for x in range(n_states)]
             for k in range(n_envs)]
    A = item_probs.shape[1]
    # One LP whose sparsity pattern is built once; each resample only refills its
    # values and goes straight to HiGHS (no CVXPY compilation per replication).
    lp = RibumLP(n_envs, n_states, A)
    margins = np.empty(n_boot)
    mi = np.empty((n_boot, n_envs))
    for b in range(n_boot):
        kern = np.empty((n_envs, n_states, A))
        for k in range(n_envs):
            for x in range(n_states):
                idx = rng.choice(cells[k][x], size=len(cells[k][x]), replace=True)
                kern[k, x] = item_probs[idx].mean(axis=0)
        kern /= kern.sum(axis=2, keepdims=True)
        margins[b] = lp.solve_highs(kern, prior)[0]
        mi[b] = [mutual_information(kern[k], prior) for k in range(n_envs)]
    return {
        "kind": "text bootstrap (exact probabilities; texts resampled within each cell)",
        "n_boot": int(n_boot),
        "seed": int(seed),
        "margins": margins.tolist(),
        "fraction_passed": float(np.mean(margins > TOL)),
        "margin_interval_95": np.quantile(margins, [0.025, 0.975]).tolist(),
        "mi_bits": mi.tolist(),
    }


def counts_bootstrap(counts, prior, *, n_boot: int, seed: int) -> dict[str, Any]:
    """:func:`ribum.bootstrap_ribum` on sampled action counts (K, X, A)."""
    import ribum

    res = ribum.bootstrap_ribum(np.rint(counts).astype(int), n_boot=n_boot, seed=seed, prior=prior)
    return {"kind": "response bootstrap (ribum.bootstrap_ribum: responses resampled per state)",
            "n_boot": int(n_boot), "seed": int(seed),
            "margins": np.asarray(res.margins, dtype=float).tolist(),
            "fraction_passed": float(res.pass_rate),
            "margin_interval_95": np.asarray(res.ci, dtype=float).tolist(),
            "interval_level": float(res.level),
            "p_value": float(res.pvalue)}


def ribum_analysis(kernels, prior, counts, *, exact: bool, item_probs=None, item_env=None,
                   item_state=None, n_boot: int = 100, seed: int = 0, n_info_samples: int = 2000,
                   env_names=None) -> dict[str, Any]:
    """NIAS/NIAC verdict, bootstrap and informativeness of one set of kernels.

    Parameters
    ----------
    kernels : (K, X, A) action kernels ``p_k(a|x)``.
    prior : (X,) prior ``pi0``.
    counts : (K, X, A) action counts (sampled) or pseudo-counts (sums of exact
        per-text probabilities); they set the width of the informativeness interval.
    exact : whether the kernels are exact (from log-probabilities).
    item_probs, item_env, item_state : per-item action distributions (n, A) and
        their environment and state; when given, the bootstrap resamples items
        (texts), otherwise responses (:func:`ribum.bootstrap_ribum` on ``counts``).
    n_boot : bootstrap replications (0 skips the bootstrap).

    Returns
    -------
    dict with ``kernels``, ``prior``, ``ribum`` (the LP result: passed, margin,
    utilities (K, X, A), costs (K,), binding constraints...), ``niac_tested``
    (``K >= 2``), ``bootstrap``, ``informativeness`` (per environment) and
    ``verdict`` / ``verdict_text``.
    """
    import ribum

    kernels, prior = validate_kernels(kernels, prior)
    counts = np.asarray(counts, dtype=float)
    if counts.shape != kernels.shape:
        raise ValueError(f"counts {counts.shape} and kernels {kernels.shape} differ in shape")
    K = kernels.shape[0]
    res = ribum.check_ribum(kernels, prior)
    out: dict[str, Any] = {
        "kernels": kernels.tolist(),
        "prior": prior.tolist(),
        "counts": counts.tolist(),
        "exact": bool(exact),
        "niac_tested": K >= 2,
        "ribum": to_jsonable(res),
        "passed": bool(res.passed),
        "margin": float(res.margin),
        "utilities": np.asarray(res.utilities, dtype=float).tolist(),
        "costs": np.asarray(res.costs, dtype=float).tolist(),
    }
    if K < 2:
        out["niac_note"] = ("one environment: NIAC compares environments and needs K >= 2, so only NIAS "
                            "(no improving action switch) is tested and the attention cost is not "
                            "identified. With one environment NIAS holds whenever the chosen actions reveal "
                            "distinct posteriors (the quadratic scoring rule r(x, a) = 2 p(x|a) - sum_y p(y|a)^2 "
                            "rationalizes them), so a pass here is weak evidence; it fails only when two "
                            "actions reveal the same posterior")
    if n_boot > 0:
        try:
            if item_probs is not None:
                out["bootstrap"] = text_bootstrap(np.asarray(item_probs), np.asarray(item_env),
                                                  np.asarray(item_state), prior, kernels.shape[1], K,
                                                  n_boot=n_boot, seed=seed)
            else:
                out["bootstrap"] = counts_bootstrap(counts, prior, n_boot=n_boot, seed=seed)
        except ValueError as exc:
            warnings.warn(f"bootstrap skipped: {exc}", RuntimeWarning, stacklevel=2)
            out["bootstrap"] = {"skipped": str(exc)}
    boot = out.get("bootstrap") or {}
    out["informativeness"] = informativeness_block(counts, prior, kernels, exact=exact, n_samples=n_info_samples,
                                                   seed=seed, mi_boot=boot.get("mi_bits"))
    for e in out["informativeness"]:
        e["informative"] = _env_informative(e, exact)
    out["uninformative_bits"] = UNINFORMATIVE_BITS
    out["informative"] = any(e["informative"] for e in out["informativeness"])
    names = list(env_names) if env_names is not None else [str(k) for k in range(K)]
    # Why the actions count as uninformative, with the numbers: an environment
    # is uninformative either by I(X;A) below the cut or (sampled answers) by a
    # G-test that does not reject independence, so the text names both.
    why_uninformative = (
        f"I(X;A) below {UNINFORMATIVE_BITS} bits, or no significant dependence (G-test p >= 0.05), in every "
        "environment: " + ", ".join(
            f"{n}: I={e['mutual_information_bits']:.3g} bits"
            + (f", p={p:.3g}" if (p := (e.get('informativeness') or {}).get('p_value')) is not None else "")
            for n, e in zip(names, out["informativeness"], strict=True)))
    if res.passed and out["informative"]:
        verdict = "consistent"
        text = (f"Consistent with rationally inattentive Bayesian utility maximization: "
                f"{'NIAS and NIAC hold' if K >= 2 else 'NIAS holds (NIAC untestable with one environment)'} "
                f"with margin {res.margin:.4g} > 0.")
    elif res.passed:
        verdict = "consistent_uninformative"
        text = (f"{'NIAS and NIAC hold' if K >= 2 else 'NIAS holds'} (margin {res.margin:.4g}), but the actions carry "
                f"almost no information about the state ({why_uninformative}), so the test has little power.")
    elif not out["informative"]:
        verdict = "uninformative"
        text = (f"Uninformative, not evidence of irrationality: the actions carry almost no information about "
                f"the state ({why_uninformative}), and the LP margin {res.margin:.3g} is not positive.")
    else:
        verdict = "inconsistent"
        text = (f"Inconsistent with RIBUM: no utilities satisfy NIAS{' and NIAC' if K >= 2 else ''} with a "
                f"positive margin (max margin {res.margin:.3g}); the actions are informative, so this is a "
                "violation, not a lack of power.")
    boot = out.get("bootstrap") or {}
    if "fraction_passed" in boot:
        text += f" Bootstrap: {100 * boot['fraction_passed']:.0f}% of {boot['n_boot']} replications pass"
        if "margin_interval_95" in boot:
            lo, hi = boot["margin_interval_95"]
            text += f", margin interval [{lo:.3g}, {hi:.3g}]"
        if "p_value" in boot:
            text += f", p-value {boot['p_value']:.3g}"
        text += "."
    if exact:
        text += " Choice probabilities are exact (from log-probabilities), not sampled."
    out["verdict"] = verdict
    out["verdict_text"] = text
    return out


# --------------------------------------------------------------------------- budget


def budget_analysis(prices, quantities, *, subjects=None, n_sim: int = 200, seed: int = 0) -> dict[str, Any]:
    """Revealed-preference verdicts per subject, and for random choices.

    Parameters
    ----------
    prices, quantities : (S, T, 2) arrays (subjects, budgets, goods).
    n_sim : simulated uniformly random subjects per real subject, on the same
        budget lines (:func:`ribum.bronars_power`): their GARP failure rate is
        Bronars' power and their CCEIs the comparison distribution.

    Returns a dict with per-subject ``garp`` (bool), ``violations``, ``ccei``,
    ``bronars_power``, ``afriat`` (``U``, ``lam`` at efficiency 1, or just below
    the CCEI for data that fail GARP; or the error), and ``random`` (GARP pass
    rate and CCEIs of the simulated random subjects), plus summaries.
    """
    import ribum

    P = np.asarray(prices, dtype=float)
    Q = np.asarray(quantities, dtype=float)
    if P.ndim != 3 or P.shape != Q.shape or P.shape[2] != 2:
        raise ValueError(f"prices and quantities must both be (S, T, 2), got {P.shape} and {Q.shape}")
    S = P.shape[0]
    names = list(subjects) if subjects is not None else [f"subject {s}" for s in range(S)]
    rng = np.random.default_rng(seed)
    per = []
    rand_ccei: list[np.ndarray] = []
    rand_fail = 0
    for s in range(S):
        p, q = P[s], Q[s]
        g = ribum.garp(p, q)
        c = float(ribum.ccei(p, q))
        power = ribum.bronars_power(p, q, n_sim=n_sim, seed=int(rng.integers(2**31)), with_ccei=True)
        rand_ccei.append(np.asarray(power.ccei, dtype=float))
        rand_fail += int(power.n_violating)
        entry: dict[str, Any] = {
            "subject": names[s],
            "garp": bool(g.passed),
            "violations": int(g.violations),
            "ccei": c,
            "bronars_power": float(power.power),
            "mean_share_good1": float(np.mean(p[:, 0] * q[:, 0] / (p * q).sum(axis=1))),
        }
        # GARP_e holds for every e < CCEI, and at e = CCEI the critical arc closes a cycle
        eff = 1.0 if g.passed else c * (1.0 - 1e-6)
        try:
            u = ribum.afriat_utility(p, q, efficiency=eff)
            entry["afriat"] = {"efficiency": eff, "U": np.asarray(u.U).tolist(),
                               "lam": np.asarray(u.lam).tolist()}
        except ValueError as exc:
            entry["afriat"] = {"error": str(exc)}
        per.append(entry)
    cceis = np.array([e["ccei"] for e in per])
    rc = np.concatenate(rand_ccei) if rand_ccei else np.zeros(0)
    return {
        "subjects": per,
        "n_subjects": S,
        "n_budgets": int(P.shape[1]),
        "garp_pass_rate": float(np.mean([e["garp"] for e in per])),
        "ccei_mean": float(cceis.mean()),
        "ccei_median": float(np.median(cceis)),
        "ccei": cceis.tolist(),
        "bronars_power_mean": float(np.mean([e["bronars_power"] for e in per])),
        "random": {
            "n_per_subject": int(n_sim),
            "garp_pass_rate": float(1.0 - rand_fail / max(S * n_sim, 1)),
            "ccei_mean": float(rc.mean()) if rc.size else None,
            "ccei_median": float(np.median(rc)) if rc.size else None,
            "ccei": rc.tolist(),
        },
        "prices": P.tolist(),
        "quantities": Q.tolist(),
    }
