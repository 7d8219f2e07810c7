"""Writing report folders: ``report.json`` (every number and parameter), PNGs and ``report.md``."""
from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["to_jsonable", "versions", "write_json", "md_table", "fmt"]


def to_jsonable(obj: Any) -> Any:
    """Recursively convert numpy arrays/scalars, dataclasses and paths to JSON types.

    Non-finite floats become ``None`` (JSON has no NaN), so a reader never
    mistakes a missing value for a number.
    """
    if hasattr(obj, "to_dict") and not isinstance(obj, type):
        return to_jsonable(obj.to_dict())
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def versions() -> dict:
    """Versions of the interpreter and the packages that produce the numbers."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("llmsl", "numpy", "scipy", "torch", "transformers"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    out["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return out


def write_json(path: str | Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON (numpy-aware) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(payload), indent=2) + "\n", encoding="utf-8")
    return path


def fmt(x: Any, digits: int = 3) -> str:
    """Compact number formatting for markdown tables."""
    if x is None:
        return "-"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if not np.isfinite(x):
        return "-"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"


def md_table(header: list[str], rows: list[list[Any]], digits: int = 3) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(v if isinstance(v, str) else fmt(v, digits) for v in r) + " |")
    return "\n".join(lines)
