"""How ``llmsl audit-file`` scales with the number of environments K (issue 12, item 6).

For K in {10, 30, 100, 300} environments of the hate-speech design (X = 6
states, A = 6 actions), a CSV of ``--per-cell`` sampled answers per
(environment, state) is written, and ``llmsl audit-file`` runs on it end to end
(``llmsl.cli.main``, CLI defaults: 200 bootstrap replications) in a child
process with a wall-clock limit and a memory limit.  The time is split into

- ``read``: reading and tabulating the file (everything in ``audit_file`` before the analysis),
- ``lp``: the NIAS/NIAC max-margin LP, ``ribum.check_ribum`` (build and solve),
- ``bootstrap``: ``ribum.bootstrap_ribum`` (``n_boot`` re-solves through HiGHS),
- ``informativeness``: mutual information and its posterior interval per environment,
- ``power``: the Monte Carlo power of the tests (``ribum.ribum_power``, one LP per random draw),
- ``report``: writing report.md / report.json and drawing the figures,

and the LP's size (variables, constraint rows, nonzeros of ``ribum.inattention.RibumLP``)
and the time of one direct solve by each solver (``RibumLP.solve_clarabel`` and,
up to K = 50, ``RibumLP.solve_highs``; ``solve_direct``, what ``check_ribum`` and
each bootstrap or power replication use, picks Clarabel from 12,000 rows on) are
reported per K.  There is no peer program to
compare with: the target of the issue is under 60 s for K = 300, end to end.

Run: ``python benchmarks/bench_audit_file_scaling.py [--k 10 30 100 300] [--limit 600]``.
Prints a table and writes ``bench_audit_file_scaling.json`` next to this file.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from llmsl.audit.analysis import POWER_N  # noqa: E402

X = A = 6
#: Largest K at which the direct HiGHS solve is timed too (beside Clarabel's).
HIGHS_UP_TO = 50


def make_file(path: Path, K: int, per_cell: int, seed: int = 0) -> int:
    """Answers of K noisy-identity raters (accuracy 0.4-0.9 per environment); returns the row count."""
    rng = np.random.default_rng(seed)
    n = 0
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["environment", "state", "action"])
        for k in range(K):
            acc = rng.uniform(0.4, 0.9)
            for x in range(X):
                p = np.full(A, (1 - acc) / (A - 1))
                p[x] = acc
                for a in rng.choice(A, size=per_cell, p=p):
                    w.writerow([f"env{k}", x, int(a)])
                    n += 1
    return n


def lp_size(K: int) -> dict:
    from ribum.inattention import RibumLP

    t0 = time.perf_counter()
    lp = RibumLP(K, X, A)
    build = time.perf_counter() - t0
    return {"variables": int(lp.n_var), "constraints": int(lp.n_rows), "nonzeros": int(len(lp._rows)),
            "pattern_build_s": build}


def lp_only(K: int, per_cell: int) -> dict:
    """Run in the child: the LP alone on the file's kernels: ``check_ribum`` (what the audit calls) and one
    direct HiGHS solve (what each bootstrap and power replication costs)."""
    import ribum
    from ribum.inattention import RibumLP

    rng = np.random.default_rng(0)
    kern = np.empty((K, X, A))
    for k in range(K):
        acc = rng.uniform(0.4, 0.9)
        for x in range(X):
            p = np.full(A, (1 - acc) / (A - 1))
            p[x] = acc
            kern[k, x] = np.bincount(rng.choice(A, size=per_cell, p=p), minlength=A) + 1e-9
    kern /= kern.sum(axis=2, keepdims=True)
    prior = np.full(X, 1 / X)
    warm = np.full((2, X, A), 1 / A)  # pay the imports of scipy.optimize and CVXPY before timing
    RibumLP(2, X, A).solve_highs(warm, prior)
    ribum.check_ribum(warm, prior)
    size = lp_size(K)
    lp = RibumLP(K, X, A)
    t0 = time.perf_counter()
    lp.matrix(kern, prior)
    size["matrix_fill_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lp.solve_clarabel(kern, prior)
    size["clarabel_solve_s"] = time.perf_counter() - t0
    if K <= HIGHS_UP_TO:  # HiGHS's interior point takes over 300 s from K = 100 on
        t0 = time.perf_counter()
        lp.solve_highs(kern, prior)
        size["highs_solve_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = ribum.check_ribum(kern, prior)
    size["check_ribum_s"] = time.perf_counter() - t0
    size["check_ribum_solver"] = f"{getattr(res, 'solver', '?')} / {getattr(res, 'method', '?')}"
    size["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"K": K, "lp": size}


def one(K: int, per_cell: int, n_boot: int, out: Path, power_n: int = POWER_N, n_jobs: int | None = None) -> dict:
    """Run in the child: time the phases of one ``audit-file`` run."""
    import llmsl.audit as audit_pkg
    import llmsl.audit.analysis as analysis
    import llmsl.audit.from_file as from_file
    import ribum
    from llmsl.cli import main
    from llmsl.report import Report

    phases: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    ribum.check_ribum = timed("lp", ribum.check_ribum)
    analysis.counts_bootstrap = timed("bootstrap", analysis.counts_bootstrap)
    analysis.informativeness_block = timed("informativeness", analysis.informativeness_block)
    analysis.power_block = timed("power", analysis.power_block)
    from_file.ribum_analysis = timed("analysis", from_file.ribum_analysis)
    audit_pkg.audit_file = timed("audit_file", audit_pkg.audit_file)  # what ``llmsl audit-file`` calls
    Report.save = timed("report", Report.save)  # type: ignore[method-assign]

    data = out / f"k{K}.csv"
    rows = make_file(data, K, per_cell)
    size = lp_size(K)
    t0 = time.perf_counter()
    jobs = [] if n_jobs is None else ["--n-jobs", str(n_jobs)]
    rc = main(["audit-file", str(data), "--task", "hate_speech", "--n-boot", str(n_boot), "--power-n", str(power_n),
               "--out", str(out / f"report{K}"), "--quiet", *jobs])
    total = time.perf_counter() - t0
    phases["read"] = phases.pop("audit_file") - phases.pop("analysis")
    n_png = len(list((out / f"report{K}").glob("*.png")))
    return {"K": K, "rows": rows, "rc": rc, "total_s": total, "phases_s": phases, "lp": size, "n_png": n_png,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(args: argparse.Namespace, kind: str, K: int, tmp: str) -> dict:
    cmd = [sys.executable, __file__, f"--{kind}", str(K), "--per-cell", str(args.per_cell), "--n-boot",
           str(args.n_boot), "--power-n", str(args.power_n), "--mem-gb", str(args.mem_gb), "--tmp", tmp]
    if args.n_jobs is not None:
        cmd += ["--n-jobs", str(args.n_jobs)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.limit)
    except subprocess.TimeoutExpired:
        return {"K": K, "timed_out": True, "total_s": args.limit}
    if p.returncode == 0:
        return json.loads(p.stdout.strip().splitlines()[-1])
    return {"K": K, "failed": (p.stderr.strip().splitlines() or ["?"])[-1][:200], "total_s": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, nargs="+", default=[10, 30, 100, 300], help="numbers of environments")
    ap.add_argument("--full-k", type=int, nargs="*", default=None,
                    help="numbers of environments of the end-to-end runs (default: those of --k)")
    ap.add_argument("--per-cell", type=int, default=20, help="answers per (environment, state)")
    ap.add_argument("--n-boot", type=int, default=200, help="bootstrap replications (the CLI default: 200)")
    ap.add_argument("--power-n", type=int, default=POWER_N, help=f"power draws per null (the CLI default: {POWER_N})")
    ap.add_argument("--n-jobs", type=int, default=None,
                    help="threads for the bootstrap and power LPs (default: the CLI's, the available cores)")
    ap.add_argument("--limit", type=float, default=600, help="wall-clock limit of each child in seconds")
    ap.add_argument("--mem-gb", type=float, default=8, help="address-space limit of each child, GB")
    ap.add_argument("--json", default=str(HERE / "bench_audit_file_scaling.json"), help="where to write the JSON")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--lp", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None or args.lp is not None:
        resource.setrlimit(resource.RLIMIT_AS, (int(args.mem_gb * 2 ** 30),) * 2)
        res = lp_only(args.lp, args.per_cell) if args.lp is not None else \
            one(args.one, args.per_cell, args.n_boot, Path(args.tmp), args.power_n, args.n_jobs)
        print(json.dumps(res))
        return

    lps, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for K in args.k:
            r = _child(args, "lp", K, tmp)
            r.setdefault("lp", lp_size(K))
            lps.append(r)
            print(f"LP K={K}: {json.dumps(r)}", file=sys.stderr, flush=True)
        for K in args.k if args.full_k is None else args.full_k:
            r = _child(args, "one", K, tmp)
            runs.append(r)
            print(f"run K={K}: {json.dumps(r)}", file=sys.stderr, flush=True)

    print("The NIAS/NIAC LP (ribum.inattention.RibumLP) per number of environments K (X = A = 6)")
    print(f"{'K':>4} {'variables':>10} {'rows':>9} {'nonzeros':>10} {'fill s':>7} {'Clarabel s':>10} {'HiGHS s':>8} "
          f"{'check_ribum s':>13} {'RSS MB':>7}")
    for r in lps:
        lp = r["lp"]

        def f(key, w, lp=lp, r=r):
            if key in lp:
                return f"{lp[key]:{w}.2f}"
            skipped = key == "highs_solve_s" and r["K"] > HIGHS_UP_TO
            return ("-" if skipped else "timeout" if r.get("timed_out") else "fail").rjust(w)
        print(f"{r['K']:>4} {lp['variables']:>10} {lp['constraints']:>9} {lp['nonzeros']:>10} {f('matrix_fill_s', 7)} "
              f"{f('clarabel_solve_s', 10)} {f('highs_solve_s', 8)} {f('check_ribum_s', 13)} {f('max_rss_mb', 7)}")
    cols = ("read", "lp", "bootstrap", "informativeness", "power", "report")
    print(f"\nllmsl audit-file end to end (n_boot={args.n_boot}, power_n={args.power_n}, limit {args.limit:g} s)")
    print(f"{'K':>4} {'answers':>8} " + " ".join(f"{c:>9}" for c in cols) + f" {'total s':>8} {'PNGs':>5}")
    for r in runs:
        ph = r.get("phases_s", {})
        tot = f"{r['total_s']:8.1f}" if "phases_s" in r else \
            (">" if r.get("timed_out") else "fail ") + f"{r['total_s']:.0f}"
        print(f"{r['K']:>4} {r.get('rows', ''):>8} " + " ".join(f"{ph[c]:9.2f}" if c in ph else f"{'-':>9}"
                                                          for c in cols) + f" {tot:>8} {r.get('n_png', ''):>5}")
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(), "per_cell": args.per_cell, "n_boot": args.n_boot,
            "power_n": args.power_n, "n_jobs": args.n_jobs, "limit_s": args.limit, "mem_gb": args.mem_gb,
            "X": X, "A": A}
    Path(args.json).write_text(json.dumps({"meta": meta, "lp": lps, "runs": runs},
                                                                   indent=1))


if __name__ == "__main__":
    main()
