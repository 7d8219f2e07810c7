r"""From action kernels or budget choices to verdicts (the numbers in a report).

RIBUM tasks (SPEC 1b): given the prior ``pi0`` (X,) and kernels ``p_k(a|x)``
(K, X, A), :func:`ribum_analysis` runs the NIAS + NIAC LP
(:func:`ribum.check_ribum`), a bootstrap of its margin, and measures how
informative the actions are about the state,

.. math::  I_k(X; A) = \sum_{x,a} \pi_0(x) p_k(a|x) \log_2 \frac{p_k(a|x)}{p_k(a)},

with a Dirichlet-posterior interval (:func:`sociallearn.informativeness`), so
that an uninformative model is reported as such and not as irrational (SPEC 4),
and the power of the test (:func:`power_block`, :func:`ribum.ribum_power`):
how often random kernels of the same shape fail it.

Tasks whose environments state incentives Delta_k(x, a) (SPEC 1c) are tested
twice: with one utility shared by every environment and the stated incentives
(``check_ribum(..., incentives=Delta, utilities="shared")``, the headline
verdict, a test that random behaviour fails) and with a free utility per
environment (SPEC 1b, the paper's test, reported for reproduction).

Budget tasks (SPEC 1a): :func:`budget_analysis` runs GARP, the CCEI, Afriat's
utility and Bronars' power per subject, and the same indices for uniformly
random choices on the same budgets.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np

from llmsl_core import check_n_jobs, check_stochastic, to_jsonable
from sociallearn import mutual_information

log = logging.getLogger("llmsl")

#: mutual information (bits) below which the actions count as uninformative
UNINFORMATIVE_BITS = 0.05
#: default Monte Carlo draws per null of the power (:func:`power_block`; 0 skips it)
POWER_N = 50
#: the two tests of an audit: a free utility per environment (SPEC 1b) and one shared utility with the
#: stated incentives (SPEC 1c)
TEST_LABELS = {"per_environment": "free-utility-per-environment", "shared": "shared-utility"}


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
                mb = np.asarray(mi_boot)[:, k]
                entry["mi_interval_95"] = np.quantile(mb, [0.025, 0.975]).tolist()
                entry["mi_interval_center"] = float(mb.mean())
                entry["mi_interval_kind"] = "text bootstrap"
        else:
            info = sociallearn.informativeness(np.asarray(counts[k], dtype=float), n_samples=n_samples,
                                               seed=seed + k, prior=prior)
            entry["informativeness"] = to_jsonable(info)
            iv = entry["informativeness"].get("intervals", {}).get("mi_bits")
            if iv:
                entry["mi_interval_95"] = iv
                entry["mi_interval_center"] = (entry["informativeness"].get("posterior_mean") or {}).get("mi_bits")
                entry["mi_interval_kind"] = "Dirichlet posterior"
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
                   n_boot: int, seed: int, incentives=None, callback=None, n_jobs: int = 1) -> dict[str, Any]:
    """Bootstrap of the RIBUM margin over the texts (exact-probability audits).

    With exact probabilities the only sampling variability is which texts the
    corpus holds: resample the items of every (environment, state) cell with
    replacement, average their exact action distributions into kernels and
    re-solve the LP (the shared-utility LP when ``incentives`` (K, X, A) are given).

    item_probs : (n_items, A); item_env, item_state : (n_items,) ints. ``callback(i, n_boot)``, if
    given, is called after each resample (progress bars); ``n_jobs`` threads solve the resamples'
    LPs side by side (:meth:`ribum.inattention.RibumLP.solve_many`; the result does not depend on it).
    """
    from ribum.inattention import TOL, RibumLP, SharedRibumLP

    rng = np.random.default_rng(seed)
    cells = [[np.flatnonzero((item_env == k) & (item_state == x)) for x in range(n_states)]
             for k in range(n_envs)]
    A = item_probs.shape[1]
    # One LP whose sparsity pattern is built once; each resample only refills its
    # values and goes straight to HiGHS (no CVXPY compilation per replication).
    lp = (RibumLP(n_envs, n_states, A) if incentives is None
          else SharedRibumLP(n_envs, n_states, A, np.asarray(incentives, dtype=float)))
    draws = []
    mi = np.empty((n_boot, n_envs))
    for b in range(n_boot):
        kern = np.empty((n_envs, n_states, A))
        for k in range(n_envs):
            for x in range(n_states):
                idx = rng.choice(cells[k][x], size=len(cells[k][x]), replace=True)
                kern[k, x] = item_probs[idx].mean(axis=0)
        kern /= kern.sum(axis=2, keepdims=True)
        mi[b] = [mutual_information(kern[k], prior) for k in range(n_envs)]
        draws.append(kern)
    margins, _ = lp.solve_many(draws, prior, n_jobs=n_jobs, callback=callback)
    return {
        "kind": "text bootstrap (exact probabilities; texts resampled within each cell)",
        "test": "per_environment" if incentives is None else "shared",
        "n_boot": int(n_boot),
        "seed": int(seed),
        "margins": margins.tolist(),
        "fraction_passed": float(np.mean(margins > TOL)),
        "margin_interval_95": np.quantile(margins, [0.025, 0.975]).tolist(),
        "mi_bits": mi.tolist(),
    }


def counts_bootstrap(counts, prior, *, n_boot: int, seed: int, incentives=None, callback=None,
                     n_jobs: int = 1) -> dict[str, Any]:
    """:func:`ribum.bootstrap_ribum` on sampled action counts (K, X, A) (shared test with ``incentives``)."""
    import ribum

    opts: dict[str, Any] = {} if incentives is None else {"incentives": incentives, "utilities": "shared"}
    res = ribum.bootstrap_ribum(np.rint(counts).astype(int), n_boot=n_boot, seed=seed, prior=prior,
                                callback=callback, n_jobs=n_jobs, **opts)
    return {"kind": "response bootstrap (ribum.bootstrap_ribum: responses resampled per state)",
            "test": "per_environment" if incentives is None else "shared",
            "n_boot": int(n_boot), "seed": int(seed),
            "margins": np.asarray(res.margins, dtype=float).tolist(),
            "fraction_passed": float(res.pass_rate),
            "margin_interval_95": np.asarray(res.ci, dtype=float).tolist(),
            "interval_level": float(res.level),
            "p_value": float(res.pvalue)}


def power_block(kernels, prior, *, n: int = POWER_N, seed: int = 0, incentives=None,
                callback=None, n_jobs: int = 1, observed: dict[str, float] | None = None) -> dict[str, Any]:
    r"""Power of the audit's RIBUM tests: how often random kernels of the same shape fail them.

    For each test (``per_environment``; also ``shared`` when ``incentives``
    (K, X, A) are given) and each null of :func:`ribum.ribum_power`
    (``uniform``: Dirichlet(1) rows; ``matched``: random rows with the observed
    I_k(X; A) per environment), ``n`` draws estimate

    .. math:: \text{power} = P_{\text{null}}(m^*(P) \le \text{tol}),

    with a 95% Wilson interval. The Monte Carlo streams come from
    ``numpy.random.SeedSequence(seed)``, one child per (test, null) in that order,
    so an audit's power is reproducible from its seed.

    Returns a dict: ``n``, ``seed``, ``level``, ``low_power_below`` (0.5),
    ``high_power_from`` (0.8) and ``tests[test][null]``
    (:meth:`ribum.RibumPowerResult.to_dict`: ``power``, ``ci``, ``n_fail``,
    null ``margins``, ``statement``...). ``callback(i, n)``, if given, is called after every draw of
    every (test, null) (progress bars); ``n_jobs`` threads solve the draws side by side (the
    result does not depend on it). ``observed`` maps a test to the observed m* the caller
    already has, which saves re-solving the observed LP once per null.

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> b = power_block(k, [0.5, 0.5], n=10, seed=0)
    >>> sorted(b["tests"]["per_environment"]), b["tests"]["per_environment"]["uniform"]["power"] < 0.5
    (['matched', 'uniform'], True)
    """
    import ribum
    from ribum.results import RibumPowerResult

    tests: list[tuple[str, dict[str, Any]]] = [("per_environment", {})]
    if incentives is not None:
        tests.append(("shared", {"incentives": incentives, "utilities": "shared"}))
    streams = iter(np.random.SeedSequence(seed).spawn(2 * len(tests)))
    out: dict[str, Any] = {"n": int(n), "seed": int(seed), "level": 0.95, "interval": "wilson",
                           "low_power_below": RibumPowerResult.LOW_POWER,
                           "high_power_from": RibumPowerResult.HIGH_POWER, "tests": {}}
    for test, opts in tests:
        out["tests"][test] = {}
        for null in ("uniform", "matched"):
            res = ribum.ribum_power(kernels, prior, n=n, seed=np.random.default_rng(next(streams)), null=null,
                                    callback=callback, n_jobs=n_jobs,
                                    observed_margin=(observed or {}).get(test), **opts)
            d = to_jsonable(res.to_dict())
            d.pop("seed", None)  # a Generator here: the block's seed and stream rule say where it came from
            out["tests"][test][null] = d
    return out


def _power_level(p: float, block: dict[str, Any]) -> str:
    return "little" if p < block["low_power_below"] else ("moderate" if p < block["high_power_from"] else "high")


def power_sentence(block: dict[str, Any], test: str, passed: bool, shape: tuple[int, int, int]) -> str:
    """Plain words on the power of ``test`` (from :func:`power_block`) and what a user may conclude."""
    t = block["tests"][test]
    u, m = t["uniform"], t["matched"]
    K, X, A = shape
    name = TEST_LABELS[test]
    s = (f"Power of the {name} test: uniformly random answers of the same shape ({K} environments x {X} states x "
         f"{A} actions) fail it with probability {u['power']:.2f} (95% interval {u['ci'][0]:.2f} to "
         f"{u['ci'][1]:.2f}, {u['n']} draws), random answers exactly as informative as the model's with "
         f"probability {m['power']:.2f} ({m['ci'][0]:.2f} to {m['ci'][1]:.2f}).")
    level = _power_level(u["power"], block)
    if level == "little":
        s += (f" The test had little power (below {block['low_power_below']:g}): random behaviour usually passes "
              "it too.")
        s += (" So this pass says little about rational inattention: it shows only that no two answers reveal "
              "the same belief and that no decision problem's strategy merely copies another's, which random "
              "answers also satisfy." if passed else
              " A failure of a test that random answers usually pass is telling: these answers are less "
              "consistent than random ones (typically several actions that reveal the same belief, as when the "
              "answers ignore the text).")
    elif level == "moderate":
        s += (" The test had moderate power: random behaviour often passes too, so a pass is only weak evidence."
              if passed else " The test had moderate power; the failure stands whatever the power.")
    else:
        s += (" The test had high power: random behaviour of this shape is usually rejected, so this pass is "
              "evidence that one utility and one attention cost explain the answers." if passed else
              " The test had high power; the failure means no single utility and attention cost explain the "
              "answers.")
    if _power_level(m["power"], block) == "little" and level != "little":
        s += (" Random answers as informative as the model's pass it more often, so the power rests on how much "
              "the answers depend on the text rather than on how they respond to the decision problems.")
    return s


#: A run whose LP re-solves are expected to take longer than this (seconds) says so first.
LONG_RESOLVES_S = 600.0


def _announce_resolves(lp_seconds: float, n_tests: int, n_boot: int, power_n: int, n_jobs: int) -> None:
    """One warning before re-solves expected to take long (large K), with the estimate and how to shorten it.

    ``lp_seconds`` is the time of the point-estimate LPs (one per test); the
    bootstrap re-solves the headline test ``n_boot`` times and the power every
    test ``2 power_n`` times, ``n_jobs`` at a time.
    """
    per_lp = lp_seconds / max(n_tests, 1)
    n_lps = n_boot + 2 * power_n * n_tests
    eta = per_lp * n_lps / max(n_jobs, 1)
    if eta > LONG_RESOLVES_S:
        when = f"{eta / 60:.0f} minutes" if eta < 7200 else f"{eta / 3600:.1f} hours"
        log.warning("%d LP re-solves ahead (bootstrap %d, power %d), each about %.0f s, %d at a time: about %s; "
                    "--n-boot and --power-n set how many", n_lps, n_boot, 2 * power_n * n_tests, per_lp, n_jobs,
                    when)


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(value)


def _lp_entry(res, K: int) -> dict[str, Any]:
    """The numbers of one LP result (one test) as stored in ``results``."""
    out = {"passed": bool(res.passed), "margin": float(res.margin), "ribum": to_jsonable(res),
           "utilities": np.asarray(res.utilities, dtype=float).tolist(),
           "costs": np.asarray(res.costs, dtype=float).tolist(), "niac_tested": K >= 2}
    if res.utilities_mode == "shared":
        out["scale"] = float(res.scale)
        out["baseline"] = np.asarray(res.baseline, dtype=float).tolist()
    return out


def _resampling_blocks(out: dict[str, Any], kernels, prior, counts, *, exact: bool, item_probs, item_env,
                       item_state, n_boot: int, seed: int, n_info_samples: int, delta, power_n: int,
                       tests: dict[str, Any], callback, n_jobs: int = 1) -> None:
    """The bootstrap, informativeness and power blocks of :func:`ribum_analysis`, written into ``out``."""
    K = kernels.shape[0]
    if n_boot > 0:
        try:
            if item_probs is not None:
                out["bootstrap"] = text_bootstrap(np.asarray(item_probs), np.asarray(item_env),
                                                  np.asarray(item_state), prior, kernels.shape[1], K,
                                                  n_boot=n_boot, seed=seed, incentives=delta, callback=callback,
                                                  n_jobs=n_jobs)
            else:
                out["bootstrap"] = counts_bootstrap(counts, prior, n_boot=n_boot, seed=seed, incentives=delta,
                                                    callback=callback, n_jobs=n_jobs)
        except ValueError as exc:
            warnings.warn(f"bootstrap skipped: {exc}", RuntimeWarning, stacklevel=3)
            out["bootstrap"] = {"skipped": str(exc)}
    boot = out.get("bootstrap") or {}
    out["informativeness"] = informativeness_block(counts, prior, kernels, exact=exact, n_samples=n_info_samples,
                                                   seed=seed, mi_boot=boot.get("mi_bits"))
    for e in out["informativeness"]:
        e["informative"] = _env_informative(e, exact)
    out["uninformative_bits"] = UNINFORMATIVE_BITS
    out["informative"] = any(e["informative"] for e in out["informativeness"])
    if power_n > 0:
        block = power_block(kernels, prior, n=power_n, seed=seed, incentives=delta, callback=callback,
                            n_jobs=n_jobs, observed={t: e["margin"] for t, e in tests.items()})
        for name, entry in tests.items():
            entry["power"] = block["tests"][name]
            entry["power_sentence"] = power_sentence(block, name, entry["passed"], kernels.shape)
        block["test"] = out["test"]
        block["sentence"] = tests[out["test"]]["power_sentence"]
        out["power"] = block


def ribum_analysis(kernels, prior, counts, *, exact: bool, item_probs=None, item_env=None,
                   item_state=None, n_boot: int = 100, seed: int = 0, n_info_samples: int = 2000,
                   env_names=None, incentives=None, power_n: int = POWER_N,
                   progress: bool = False, n_jobs: int | None = 1) -> dict[str, Any]:
    r"""NIAS/NIAC verdict, its power, bootstrap and informativeness of one set of kernels.

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
    incentives : (K, X, A) known incentives ``Delta_k(x, a)`` stated in the
        environments' prompts, or ``None``. When given, two tests are run:
        ``shared`` (one utility ``r(x, a)`` and ``r_k = r + lambda Delta_k``,
        SPEC 1c: the headline verdict, bootstrap and figures) and
        ``per_environment`` (a free ``r_k`` per environment, SPEC 1b, the
        paper's test, for reproduction).
    power_n : Monte Carlo draws per null for the power of each test
        (:func:`power_block`, seeded from ``seed``); 0 skips the power.
    progress : draw one progress bar (stderr) over the LP re-solves of the
        bootstrap and the power, the long part from about 30 environments on.
    n_jobs : threads that solve the LPs of the bootstrap and the power side by
        side (None: the available cores, at most 8); the numbers do not depend on it.

    Returns
    -------
    dict with ``kernels``, ``prior``, ``test`` (the headline test), ``tests``
    (every test: passed, margin, utilities (K, X, A), costs (K,), the LP
    result, for ``shared`` also lambda ``scale`` and ``baseline`` r (X, A), and
    its ``power``), the headline test's ``ribum``, ``passed``, ``margin``,
    ``utilities`` and ``costs``, ``niac_tested`` (``K >= 2``), ``bootstrap``,
    ``informativeness`` (per environment), ``power`` (:func:`power_block` plus
    ``sentence``, the plain-words statement of the headline test's power) and
    ``verdict`` / ``verdict_text``.

    Example
    -------
    >>> k = [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.4, 0.6]]]
    >>> out = ribum_analysis(k, [0.5, 0.5], [[[9, 1], [2, 8]], [[6, 4], [4, 6]]], exact=False, n_boot=0,
    ...                      n_info_samples=100, power_n=10)
    >>> out["verdict"], out["test"], "little power" in out["power"]["sentence"]
    ('consistent', 'per_environment', True)
    """
    import ribum

    kernels, prior = validate_kernels(kernels, prior)
    counts = np.asarray(counts, dtype=float)
    if counts.shape != kernels.shape:
        raise ValueError(f"counts {counts.shape} and kernels {kernels.shape} differ in shape")
    power_n = _check_count("power_n", power_n)
    n_jobs = check_n_jobs(n_jobs)
    K = kernels.shape[0]
    delta = None
    if incentives is not None:
        delta = np.asarray(incentives, dtype=float)
        if delta.shape != kernels.shape or not np.isfinite(delta).all():
            raise ValueError(f"incentives must be a finite (K, X, A) = {kernels.shape} array, got shape "
                             f"{delta.shape}")
    t0 = time.perf_counter()
    tests = {"per_environment": _lp_entry(ribum.check_ribum(kernels, prior), K)}
    if delta is not None:
        tests["shared"] = _lp_entry(ribum.check_ribum(kernels, prior, incentives=delta, utilities="shared"), K)
    _announce_resolves(time.perf_counter() - t0, len(tests), n_boot, power_n, n_jobs)
    test = "shared" if delta is not None else "per_environment"
    head = tests[test]
    passed, margin = head["passed"], head["margin"]
    out: dict[str, Any] = {
        "kernels": kernels.tolist(),
        "prior": prior.tolist(),
        "counts": counts.tolist(),
        "exact": bool(exact),
        "niac_tested": K >= 2,
        "test": test,
        "tests": tests,
        **{key: head[key] for key in ("ribum", "passed", "margin", "utilities", "costs")},
    }
    if delta is not None:
        out["incentives"] = delta.tolist()
    if K < 2:
        out["niac_note"] = ("one environment: NIAC compares environments and needs K >= 2, so only NIAS "
                            "(no improving action switch) is tested and the attention cost is not "
                            "identified. With one environment NIAS holds whenever the chosen actions reveal "
                            "distinct posteriors (the quadratic scoring rule r(x, a) = 2 p(x|a) - sum_y p(y|a)^2 "
                            "rationalizes them), so a pass here is weak evidence; it fails only when two "
                            "actions reveal the same posterior")
    from tqdm.auto import tqdm

    bar = tqdm(total=n_boot + 2 * power_n * len(tests), desc="RIBUM bootstrap and power", unit="LP",
               disable=not progress)
    try:
        _resampling_blocks(out, kernels, prior, counts, exact=exact, item_probs=item_probs, item_env=item_env,
                           item_state=item_state, n_boot=n_boot, seed=seed, n_info_samples=n_info_samples,
                           delta=delta, power_n=power_n, tests=tests, callback=lambda i, n: bar.update(1),
                           n_jobs=n_jobs)
    finally:
        bar.close()
    boot = out.get("bootstrap") or {}
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
    held = "NIAS and NIAC hold" if K >= 2 else "NIAS holds"
    if delta is not None:
        held += " with one utility shared by every environment and the stated incentives"
    if passed and out["informative"]:
        verdict = "consistent"
        text = (f"Consistent with rationally inattentive Bayesian utility maximization: "
                f"{held if K >= 2 else 'NIAS holds (NIAC untestable with one environment)'} "
                f"with margin {margin:.4g} > 0.")
    elif passed:
        verdict = "consistent_uninformative"
        text = (f"{held} (margin {margin:.4g}), but the actions carry "
                f"almost no information about the state ({why_uninformative}), so the test has little power.")
    elif not out["informative"]:
        verdict = "uninformative"
        text = (f"Uninformative, not evidence of irrationality: the actions carry almost no information about "
                f"the state ({why_uninformative}), and the LP margin {margin:.3g} is not positive.")
    else:
        verdict = "inconsistent"
        shared = " with one utility shared by every environment and the stated incentives" if delta is not None else ""
        text = (f"Inconsistent with RIBUM: no utilities satisfy NIAS{' and NIAC' if K >= 2 else ''}{shared} with a "
                f"positive margin (max margin {margin:.3g}); the actions are informative, so this is a "
                "violation, not a lack of power.")
    if delta is not None:
        pe = tests["per_environment"]
        text += (f" With a free utility per environment (the paper's test) the data "
                 f"{'pass' if pe['passed'] else 'fail'} (margin {pe['margin']:.4g}).")
    if "fraction_passed" in boot:
        text += f" Bootstrap: {100 * boot['fraction_passed']:.0f}% of {boot['n_boot']} replications pass"
        if "margin_interval_95" in boot:
            lo, hi = boot["margin_interval_95"]
            text += f", margin interval [{lo:.3g}, {hi:.3g}]"
        if "p_value" in boot:
            text += f", p-value {boot['p_value']:.3g}"
        text += "."
    if "power" in out:
        u = out["power"]["tests"][test]["uniform"]
        text += (f" Power against uniformly random answers: {u['power']:.2f}"
                 f"{' (little power)' if u['power'] < out['power']['low_power_below'] else ''}.")
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
