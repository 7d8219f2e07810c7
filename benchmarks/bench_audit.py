"""Timings of the audit (issue 6 targets), printed as a table and written to bench_audit.json.

1. ``llmsl audit --task hate_speech`` (the README command) on the default model
   with a fresh response cache: target under 5 minutes on 2 cores, model load
   included; then the same command again, answered from the cache: target
   under 30 s.
2. The analysis alone (planted Shannon agent, exact kernels, 100-replication
   text bootstrap) and ``audit-file`` on the 240 Mistral-7B replies.

Usage: ``python benchmarks/bench_audit.py [--skip-model]``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MISTRAL = HERE.parent.parent / "shared" / "data" / "mhs_mistral" / "mistral7b_responses.csv"


def _cli(args: list[str]) -> tuple[float, dict]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "llmsl", *args], capture_output=True, text=True)
    dt = time.perf_counter() - t
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    rep = json.loads((Path(args[args.index("--out") + 1]) / "report.json").read_text())
    return dt, rep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-model", action="store_true", help="skip the default-model runs")
    ap.add_argument("--task", default="hate_speech")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not a.skip_model:
            cmd = ["audit", "--task", a.task, "--cache", str(tmp / "c.sqlite"), "--quiet"]
            dt, rep = _cli(cmd + ["--out", str(tmp / "r1")])
            rows.append((f"llmsl audit --task {a.task} (fresh response cache)", dt,
                         f"{rep['n_calls']} model calls, load {rep['timing']['backend_load_s']:.1f} s, "
                         f"target < 300 s"))
            dt2, rep2 = _cli(cmd + ["--out", str(tmp / "r2")])
            rows.append(("same command, rerun from cache", dt2, f"{rep2['n_calls']} model calls, target < 30 s"))
            rows.append(("  prompts/s in the first run", rep["n_calls"] / rep["timing"]["run_s"], ""))

        from llmsl.audit import audit, audit_file
        from llmsl.audit import synthetic as syn

        t = time.perf_counter()
        rep = audit("hate_speech", syn.planted_rational(), n=10, n_boot=100, progress=False)
        rows.append(("planted agent, n=10, 100-rep text bootstrap", time.perf_counter() - t,
                     f"margin {rep.margin:.4f}"))
        if MISTRAL.is_file():
            t = time.perf_counter()
            rep = audit_file(MISTRAL, "hate_speech", n_boot=200)
            rows.append(("audit-file, 240 Mistral-7B replies, 200-rep bootstrap", time.perf_counter() - t,
                         f"verdict {rep.verdict}"))
    print(f"{'benchmark':<60}{'value':>10}  note")
    for name, v, note in rows:
        print(f"{name:<60}{v:>10.2f}  {note}")
    (HERE / "bench_audit.json").write_text(json.dumps(
        [{"benchmark": n, "value": v, "note": note} for n, v, note in rows], indent=1) + "\n")


if __name__ == "__main__":
    main()
