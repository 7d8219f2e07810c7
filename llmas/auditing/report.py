"""The audit report: numbers, verdict, readable summary, and files on disk."""
from __future__ import annotations

import json
import platform
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .analysis import _jsonable

_PACKAGES = ("llmsl", "numpy", "scipy", "cvxpy", "torch", "transformers", "datasets", "matplotlib")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


class ParseTally:
    """Parses replies with :func:`llmas.parsing.parse_reply` and counts, per
    environment, what parsed and every failure (raw text and reason).

    ``check(d)`` may return ``True`` or a reason string that marks a parsed reply
    as a failure (for example a share outside [0, 100]).
    """

    def __init__(self, env_names: Sequence[str]):
        self.env_names = list(env_names)
        self.n_ok = Counter()
        self.n_failed = Counter()
        self.methods: Counter = Counter()
        self.failures: list[dict[str, Any]] = []

    def parse(self, text: str, schema: Mapping[str, Any], *, env: int = 0,
              check: Callable[[dict], Any] | None = None) -> dict[str, Any] | None:
        from ..parsing import ParseError, parse_reply

        index = sum(self.n_ok.values()) + sum(self.n_failed.values())
        try:
            value, how = parse_reply(text, schema)
            if check is not None:
                ok = check(value)
                if ok is not True:
                    raise ParseError(str(ok), text)
        except ParseError as exc:
            self.n_failed[env] += 1
            self.failures.append({"index": index, "environment": self._name(env), "raw": exc.raw,
                                  "reason": exc.reason})
            return None
        self.n_ok[env] += 1
        self.methods[how] += 1
        return value

    def _name(self, env: int) -> str:
        return self.env_names[env] if 0 <= env < len(self.env_names) else str(env)

    def to_dict(self) -> dict[str, Any]:
        ok, bad = sum(self.n_ok.values()), sum(self.n_failed.values())
        envs = sorted(set(self.n_ok) | set(self.n_failed))
        return {
            "n_total": ok + bad,
            "n_ok": ok,
            "n_failed": bad,
            "failure_rate": bad / (ok + bad) if ok + bad else 0.0,
            "methods": dict(self.methods),
            "by_environment": {self._name(e): {"n_ok": self.n_ok[e], "n_failed": self.n_failed[e]} for e in envs},
            "failures": self.failures,
        }


@dataclass
class AuditReport:
    """Result of :func:`llmas.auditing.audit` or :func:`llmas.auditing.audit_file`.

    Attributes
    ----------
    task : design name (``hate_speech``, ``product_quality``, ``budget``).
    kind : ``"ribum"`` (NIAS/NIAC on action kernels) or ``"budget"`` (GARP/CCEI).
    mode : ``"logprobs"`` (exact choice probabilities), ``"sampling"`` (parsed
        sampled replies) or ``"file"`` (answers read from a file).
    seed : the audit's seed.
    parameters : every run parameter (n, samples, bootstrap size, decoding...).
    corpus : corpus summary (name, size per state, license) or ``None``.
    parse : parse counts (total, ok, failed, by environment, every failure).
    results : every number: for ``ribum``: ``kernels`` (K, X, A), ``prior``,
        ``counts``, ``ribum`` (the LP result), ``margin``, ``passed``,
        ``utilities``, ``costs``, ``bootstrap``, ``informativeness`` (per
        environment), ``verdict``, ``verdict_text``, ``items``; for ``budget``:
        per-subject GARP/CCEI/power/Afriat numbers, the random baseline,
        ``shares``, prices and quantities.
    design : the task design (prompts, schema, version).
    model : backend name, model id.
    n_calls : model invocations during this run (0 for a rerun from cache).
    timing, versions : seconds spent, package versions.
    figures : file names of the plots written by :meth:`save`.
    """

    task: str
    kind: str
    mode: str
    seed: int
    parameters: dict[str, Any]
    corpus: dict[str, Any] | None
    parse: dict[str, Any]
    results: dict[str, Any]
    design: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    n_calls: int = 0
    timing: dict[str, float] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=_versions)
    figures: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ numbers
    @property
    def verdict(self) -> str:
        """Short verdict: ``consistent``, ``inconsistent``, ``uninformative``,
        ``consistent_uninformative`` (RIBUM), or ``garp_pass_rate=...`` (budget)."""
        if self.kind == "ribum":
            return self.results["verdict"]
        return f"garp_pass_rate={self.results['garp_pass_rate']:.3f}"

    @property
    def passed(self) -> bool | None:
        """RIBUM verdict of the LP (``None`` for budget audits)."""
        return bool(self.results["passed"]) if self.kind == "ribum" else None

    @property
    def margin(self) -> float | None:
        """Optimal NIAS/NIAC margin m* (``None`` for budget audits)."""
        return float(self.results["margin"]) if self.kind == "ribum" else None

    def to_dict(self) -> dict[str, Any]:
        """Every number and parameter, JSON-ready."""
        return _jsonable({
            "task": self.task, "kind": self.kind, "mode": self.mode, "seed": self.seed,
            "verdict": self.verdict, "model": self.model, "design": self.design,
            "parameters": self.parameters, "corpus": self.corpus, "n_calls": self.n_calls,
            "parse": self.parse, "results": self.results, "timing": self.timing,
            "versions": self.versions, "figures": self.figures,
        })

    # ------------------------------------------------------------------ text
    def summary(self) -> str:
        """Readable multi-line summary."""
        head = [
            f"LLM rationality audit: task {self.task} (design v{self.design.get('version', '?')}), "
            f"mode {self.mode}",
            f"model: {self.model.get('backend', '?')} {self.model.get('model', '')}".rstrip(),
            f"model calls this run: {self.n_calls}; parse: {self.parse.get('n_ok', 0)} ok, "
            f"{self.parse.get('n_failed', 0)} failed",
        ]
        if self.corpus:
            head.append(f"corpus: {self.corpus['name']} (n = {self.corpus['n']}, per state "
                        f"{self.corpus['n_per_state']})")
        return "\n".join(head + [""] + (self._ribum_lines() if self.kind == "ribum" else self._budget_lines()))

    def _ribum_lines(self) -> list[str]:
        r = self.results
        envs = r["environments"]
        K = len(envs)
        lines = [f"VERDICT: {r['verdict'].upper()}", r["verdict_text"], "",
                 f"NIAS{' + NIAC' if r['niac_tested'] else ' only (K = 1: NIAC needs two environments)'}: "
                 f"margin m* = {r['margin']:.4g} ({'pass' if r['passed'] else 'fail'})",
                 "attention costs kappa: " + ", ".join(f"{e}={c:.3g}" for e, c in zip(envs, r["costs"]))]
        lines.append("informativeness I(X;A) [bits] per environment:")
        for e, inf in zip(envs, r["informativeness"]):
            iv = inf.get("mi_interval_95")
            p = (inf.get("informativeness") or {}).get("p_value")
            s = f"  {e:<16} {inf['mutual_information_bits']:.4f}"
            if iv:
                s += f"  95% interval [{iv[0]:.3f}, {iv[1]:.3f}]"
            tv = (inf.get("informativeness") or {}).get("estimate", {}).get("tv_from_rank_one")
            if tv is not None:
                s += f"  distance from rank one (TV) {tv:.3f}"
            if p is not None:
                s += f"  G-test p = {p:.3g}"
            lines.append(s)
        if K:
            k = np.asarray(r["kernels"])
            lines.append("action kernels p_k(a|x) (rows: states):")
            for i, e in enumerate(envs):
                lines.append(f"  [{e}]")
                for x in range(k.shape[1]):
                    lines.append("    " + " ".join(f"{v:.3f}" for v in k[i, x]))
        return lines

    def _budget_lines(self) -> list[str]:
        r = self.results
        lines = ["VERDICT: " + r["verdict_text"], "",
                 f"{'subject':<60}{'GARP':>6}{'CCEI':>8}{'power':>8}{'share':>8}"]
        for s in r["subjects"]:
            lines.append(f"{s['subject'][:58]:<60}{'yes' if s['garp'] else 'no':>6}{s['ccei']:>8.3f}"
                         f"{s['bronars_power']:>8.2f}{s['mean_share_good1']:>8.2f}")
        if r.get("dropped_subjects"):
            lines.append(f"dropped (unparsable answers): {len(r['dropped_subjects'])}")
        return lines

    def to_markdown(self) -> str:
        """The report.md text."""
        md = [f"# LLM rationality audit: `{self.task}`", "",
              f"- model: `{self.model.get('backend', '?')}` `{self.model.get('model', '')}`",
              f"- design: `{self.task}` version {self.design.get('version', '?')}; mode `{self.mode}`; "
              f"seed {self.seed}",
              f"- model calls this run: {self.n_calls}; replies parsed: {self.parse.get('n_ok', 0)}, "
              f"failed: {self.parse.get('n_failed', 0)}"]
        if self.corpus:
            md.append(f"- corpus: {self.corpus['name']} ({self.corpus['n']} items; license "
                      f"{self.corpus.get('license', '?')})")
        md += ["", "## Verdict", "", self.results["verdict_text"], "", "## Details", "", "```",
               self.summary(), "```", ""]
        if self.figures:
            md += ["## Figures", ""] + [f"![{f}]({f})" for f in self.figures] + [""]
        md += ["All numbers, the design, decoding parameters and versions are in `report.json`.", ""]
        return "\n".join(md)

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path, *, plots: bool = True) -> Path:
        """Write ``report.json``, the PNG plots and ``report.md`` into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        if plots:
            from . import plots as _plots

            self.figures = _plots.save_figures(self, out)
        (out / "report.json").write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n",
                                         encoding="utf-8")
        (out / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path) -> AuditReport:
        """Read a report back from its ``report.json`` (or the folder holding it)."""
        p = Path(path)
        if p.is_dir():
            p = p / "report.json"
        d = json.loads(p.read_text(encoding="utf-8"))
        return cls(task=d["task"], kind=d["kind"], mode=d["mode"], seed=d["seed"], parameters=d["parameters"],
                   corpus=d["corpus"], parse=d["parse"], results=d["results"], design=d["design"],
                   model=d["model"], n_calls=d["n_calls"], timing=d["timing"], versions=d["versions"],
                   figures=d.get("figures", []))

    def __repr__(self) -> str:
        return f"AuditReport(task={self.task!r}, mode={self.mode!r}, verdict={self.verdict!r})"
