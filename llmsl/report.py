"""One report type for every command: verdict, explanation, tables, figures, provenance.

Every pipeline of :mod:`llmsl` (``audit``, ``audit-file``, ``herd``, ``chain``,
``control``, ``reproduce``, ``macro``, ``compare``) returns a :class:`Report`.
Like statsmodels' ``Summary``, one object holds the content and renders it
several ways from that single source:

- :meth:`Report.summary` -- plain text for the terminal;
- :meth:`Report.to_markdown` -- ``report.md``;
- :meth:`Report.to_dict` -- ``report.json``, strict JSON (``allow_nan=False``
  always succeeds: non-finite numbers become ``null``);
- :meth:`Report.save` -- the folder: ``report.json``, ``report.md`` and the PNGs.

A report states its **verdict** first (a short label such as
``consistent_uninformative`` and one headline sentence), then a paragraph in
plain words on what was tested and what a reader may conclude, including how
likely the test was to reject (its power) where that applies.  Every report
records how it was produced (:class:`Provenance`): the command line, package
versions, git commit, model and server (never a key), decoding parameters,
seed, wall time, and model calls versus answers read from the cache.

Examples
--------
>>> rep = Report("demo", "A demo", Verdict("ok", "Everything adds up."),
...              sections=[Section("Numbers", "Two numbers.",
...                                tables=[Table(["value"], [[1.5], [float("nan")]], index=["a", "b"])])],
...              results={"x": float("nan")})
>>> import json; json.loads(json.dumps(rep.to_dict(), allow_nan=False))["results"]
{'x': None}
>>> print(rep.summary().splitlines()[0])
A demo
"""
from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from llmsl_core import to_jsonable

__all__ = ["Report", "Verdict", "Section", "Table", "Figure", "Provenance", "to_jsonable", "package_versions",
           "git_commit", "fmt"]

log = logging.getLogger("llmsl")

#: packages whose versions every report records
PACKAGES = ("llmsl", "numpy", "scipy", "cvxpy", "highspy", "pandas", "torch", "transformers", "matplotlib",
            "aiohttp")


# --------------------------------------------------------------------------- plain values


def package_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Versions of Python and of ``packages`` (``None`` where not installed).

    >>> package_versions(("numpy",))["numpy"] == np.__version__
    True
    """
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """The git commit of the source tree holding ``path`` (this package by default), or ``None``."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def fmt(x: Any, digits: int = 3) -> str:
    """A number for a table cell: ``-`` for missing or non-finite values.

    >>> fmt(0.123456), fmt(None), fmt(float("nan")), fmt(7), fmt(1e-5), fmt(True)
    ('0.123', '-', '-', '7', '1e-05', 'yes')
    """
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if not math.isfinite(v):
            return "-"
        if v == 0:
            return "0"
        return f"{v:.{digits}g}" if abs(v) < 10 ** (-digits) or abs(v) >= 1e6 else f"{v:.{digits}f}"
    return str(x)


# --------------------------------------------------------------------------- parts of a report


@dataclass
class Verdict:
    """The headline of a report.

    Attributes
    ----------
    label : short machine-readable verdict (``consistent``, ``inconsistent``,
        ``consistent_uninformative``, ``herds``, ...).
    headline : one sentence stating the result with its key number.
    explanation : a paragraph in plain words: what was tested, how likely the test
        was to reject behaviour that is not what it looks for (its power), and
        what a reader may conclude.
    """

    label: str
    headline: str
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "headline": self.headline, "explanation": self.explanation}


@dataclass
class Table:
    """A table with column labels and, optionally, row labels.

    ``rows`` hold raw values (numbers are formatted with ``digits`` when
    rendered; ``to_dict`` keeps them as numbers).
    """

    columns: list[str]
    rows: list[list[Any]]
    index: list[str] | None = None
    title: str = ""
    index_name: str = ""
    digits: int = 3

    def __post_init__(self) -> None:
        for i, r in enumerate(self.rows):
            if len(r) != len(self.columns):
                raise ValueError(f"table {self.title!r}: row {i} has {len(r)} cells for {len(self.columns)} columns")
        if self.index is not None and len(self.index) != len(self.rows):
            raise ValueError(f"table {self.title!r}: {len(self.index)} row labels for {len(self.rows)} rows")

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        head = ([self.index_name or ""] if self.index is not None else []) + [str(c) for c in self.columns]
        body = []
        for i, r in enumerate(self.rows):
            cells = [fmt(v, self.digits) for v in r]
            body.append(([str(self.index[i])] if self.index is not None else []) + cells)
        return head, body

    def to_markdown(self) -> str:
        head, body = self._cells()
        lines = ([f"**{self.title}**", ""] if self.title else [])
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
        return "\n".join(lines)

    def to_text(self) -> str:
        head, body = self._cells()
        widths = [max(len(r[j]) for r in [head, *body]) for j in range(len(head))]
        lines = [self.title] if self.title else []
        lines.append("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in body]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({"title": self.title, "columns": self.columns, "index": self.index,
                            "index_name": self.index_name, "rows": self.rows})


@dataclass
class Figure:
    """A PNG the report writes when saved.

    ``draw(path)`` writes the file (called by :meth:`Report.save`); ``name`` is
    the file name, ``caption`` says what it shows.
    """

    name: str
    caption: str
    draw: Callable[[Path], Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "caption": self.caption}


@dataclass
class Section:
    """A titled part of a report: markdown text, tables, figures and an optional preformatted block."""

    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    preformatted: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "text": self.text, "tables": [t.to_dict() for t in self.tables],
                "figures": [f.to_dict() for f in self.figures], "preformatted": self.preformatted}


@dataclass
class Provenance:
    """How a report was produced.

    Attributes
    ----------
    command : the command line (``argv``) or the Python call.
    versions : Python and package versions.
    git_commit : commit of the source tree when it is a git checkout.
    model : backend, model id, revision, server URL (credentials removed), class.
    decoding : decoding parameters (temperature, max tokens, choice method...).
    seed : the master seed.
    wall_time_s : seconds from the start of the run to the report.
    model_calls, cache_hits : answers obtained from the model in this run versus
        answers read from the response cache.
    created : UTC time stamp.
    """

    command: list[str] = field(default_factory=list)
    versions: dict[str, str | None] = field(default_factory=package_versions)
    git_commit: str | None = field(default_factory=git_commit)
    model: dict[str, Any] = field(default_factory=dict)
    decoding: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    wall_time_s: float | None = None
    model_calls: int | None = None
    cache_hits: int | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def record_backend(self, backend: Any, calls0: int = 0, hits0: int = 0) -> None:
        """Fill ``model``, ``model_calls`` and ``cache_hits`` from a backend (see :func:`backend_record`)."""
        self.model = backend_record(backend)
        if backend is not None:
            self.model_calls = int(getattr(backend, "n_calls", 0) or 0) - calls0
            hits = getattr(backend, "n_cache_hits", None)
            self.cache_hits = None if hits is None else int(hits) - hits0

    def lines(self) -> list[str]:
        m = self.model
        out = []
        if self.command:
            out.append("command: " + " ".join(self.command))
        if m:
            what = f"{m.get('backend', '?')} {m.get('model', '')}".strip()
            if m.get("revision"):
                what += f" (revision {m['revision']})"
            if m.get("base_url"):
                what += f" at {m['base_url']}"
            out.append("model: " + what)
        if self.model_calls is not None:
            calls = f"model calls this run: {self.model_calls}"
            if self.cache_hits is not None:
                calls += f"; answers read from the response cache: {self.cache_hits}"
            out.append(calls)
        if self.decoding:
            out.append("decoding: " + ", ".join(f"{k}={v}" for k, v in self.decoding.items()))
        tail = []
        if self.seed is not None:
            tail.append(f"seed {self.seed}")
        if self.wall_time_s is not None:
            tail.append(f"wall time {self.wall_time_s:.1f} s")
        v = self.versions
        tail.append(f"llmsl {v.get('llmsl')}, Python {v.get('python')}")
        if self.git_commit:
            tail.append(f"commit {self.git_commit[:12]}")
        out.append("; ".join(tail))
        return out

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))


def backend_record(backend: Any) -> dict[str, Any]:
    """What a report says about a backend: name, model id, revision, server URL; never a key.

    >>> backend_record(None)
    {}
    """
    if backend is None:
        return {}
    describe = getattr(backend, "describe", None)
    if callable(describe):
        rec = dict(describe())
    else:
        rec = {"backend": getattr(backend, "name", type(backend).__name__), "model": str(getattr(backend, "model", ""))}
        for attr in ("revision", "base_url"):
            val = getattr(backend, attr, None)
            if val:
                rec[attr] = str(val)
    rec.setdefault("class", type(backend).__name__)
    for secret in ("api_key", "key", "headers", "authorization"):
        rec.pop(secret, None)
    return rec


# --------------------------------------------------------------------------- the report


@dataclass
class Report:
    """The result of one ``llmsl`` command (or of the equivalent Python call).

    Attributes
    ----------
    kind : the command that produced it (``audit``, ``herd``...).
    title : the report's title.
    verdict : :class:`Verdict`, stated first in every rendering.
    sections : list of :class:`Section`, in reading order.
    results : every number, JSON-ready through :func:`to_jsonable` (the
        machine-readable content of ``report.json``).
    provenance : :class:`Provenance`.
    figures : file names written by the last :meth:`save`.
    """

    kind: str
    title: str
    verdict: Verdict
    sections: list[Section] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)
    figures: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ renderings
    def summary(self) -> str:
        """Plain text for the terminal: title, verdict, explanation, tables, provenance."""
        out = [self.title, "=" * min(len(self.title), 78),
               f"VERDICT: {self.verdict.label}: {self.verdict.headline}"]
        if self.verdict.explanation:
            out += ["", self.verdict.explanation]
        for s in self.sections:
            body = [t.to_text() for t in s.tables]
            if s.preformatted:
                body.append(s.preformatted)
            if body:
                out += ["", f"-- {s.title} --", *body]
        out += ["", *self.provenance.lines()]
        return "\n".join(out)

    def to_markdown(self) -> str:
        """The text of ``report.md``."""
        md = [f"# {self.title}", "", "## Verdict", "", f"**{self.verdict.label}**: {self.verdict.headline}", ""]
        if self.verdict.explanation:
            md += [self.verdict.explanation, ""]
        for s in self.sections:
            md += [f"## {s.title}", ""]
            if s.text:
                md += [s.text, ""]
            for t in s.tables:
                md += [t.to_markdown(), ""]
            if s.preformatted:
                md += ["```", s.preformatted, "```", ""]
            for f in s.figures:
                md += [f"![{f.caption}]({f.name})", "", f"*{f.caption}*", ""]
        md += ["## How this report was produced", ""]
        md += [f"- {line}" for line in self.provenance.lines()]
        md += ["", "Every number above, and more, is in `report.json`.", ""]
        return "\n".join(md)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON content of ``report.json`` (no NaN or infinity)."""
        return to_jsonable({
            "kind": self.kind, "title": self.title, "verdict": self.verdict.to_dict(),
            "sections": [s.to_dict() for s in self.sections], "results": self.results,
            "provenance": self.provenance.to_dict(), "figures": self.figures,
        })

    # ------------------------------------------------------------------ files
    def all_figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]

    def save(self, directory: str | os.PathLike, *, plots: bool = True) -> Path:
        """Write ``report.json``, ``report.md`` and (with ``plots``) the PNGs into ``directory``.

        Returns the folder.  ``report.json`` is written through a temporary file
        and renamed, so an interrupted save never leaves a truncated report.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        if plots:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            try:
                for f in self.all_figures():
                    if f.draw is None:
                        continue
                    f.draw(out / f.name)
                    if (out / f.name).exists():
                        written.append(f.name)
            finally:
                plt.close("all")
        self.figures = written
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"
        tmp = out / ".report.json.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / "report.json")
        (out / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        log.info("report written to %s", out)
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> Report:
        """Read a report back from ``report.json`` (or the folder holding it); figures are not redrawn."""
        p = Path(path)
        if p.is_dir():
            p = p / "report.json"
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{p}: no such report (expected a report folder or its report.json)") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{p}: not a report.json ({exc})") from None
        if not isinstance(d, dict) or not {"kind", "verdict", "results"} <= set(d):
            raise ValueError(f"{p}: not an llmsl report.json (keys kind, verdict and results are missing)")
        secs = [Section(s["title"], s.get("text", ""),
                        tables=[Table(t["columns"], t["rows"], index=t.get("index"), title=t.get("title", ""),
                                      index_name=t.get("index_name", "")) for t in s.get("tables", [])],
                        figures=[Figure(f["name"], f["caption"]) for f in s.get("figures", [])],
                        preformatted=s.get("preformatted", "")) for s in d.get("sections", [])]
        prov_d = d.get("provenance", {})
        prov = Provenance(**{k: v for k, v in prov_d.items() if k in Provenance.__dataclass_fields__})
        v = d["verdict"]
        return cls(kind=str(d["kind"]), title=str(d.get("title") or d["kind"]),
                   verdict=Verdict(v["label"], v["headline"], v.get("explanation", "")), sections=secs,
                   results=d["results"], provenance=prov, figures=d.get("figures", []))

    def __repr__(self) -> str:
        return f"Report(kind={self.kind!r}, verdict={self.verdict.label!r})"


def command_line(argv: Sequence[str] | None = None) -> list[str]:
    """The command line that produced a report: ``llmsl`` followed by ``argv``."""
    args = list(sys.argv[1:] if argv is None else argv)
    return ["llmsl", *args]
