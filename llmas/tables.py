"""Reading a table of records from a file: CSV, JSON list, JSONL or Parquet.

One reader for every command that takes a file (``audit-file``, ``herd
--responses``, corpora given as a path).  The format is chosen explicitly, by
the ``format`` argument or else by the file's extension, never by sniffing the
content, so one file is always read one way.  Every problem is one
``ValueError`` naming the file, and the line where there is one.
"""
from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["read_table", "FORMATS", "table_format"]

#: extension -> format
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

#: nesting depth at which a JSON value is rejected (Python's parser recurses)
_MAX_DEPTH = 200


def table_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The format of ``path``: ``format`` if given, else from the extension.

    >>> table_format("answers.JSONL"), table_format("x.txt", "csv")
    ('jsonl', 'csv')
    """
    if format is not None:
        if format not in set(FORMATS.values()):
            raise ValueError(f"unknown table format {format!r}; expected one of {sorted(set(FORMATS.values()))}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unsupported file type {suffix or '(none)'!r}; use .csv, .json (a list of "
                         "records), .jsonl (one record per line) or .parquet")
    return FORMATS[suffix]


def _json(text: str, where: str) -> Any:
    depth = 0
    in_str = esc = False
    for ch in text:  # reject pathological nesting before json.loads recurses into it
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                raise ValueError(f"{where}: JSON nested deeper than {_MAX_DEPTH} levels")
        elif ch in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def _record(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object (a record with named fields), got "
                         f"{type(obj).__name__} {json.dumps(obj)[:40]}")
    return obj


def read_table(path: str | os.PathLike, format: str | None = None) -> list[dict[str, Any]]:
    """The rows of a table file as a list of dicts.

    Parameters
    ----------
    path : the file.
    format : ``"csv"`` (header line, any field size), ``"json"`` (a list of
        objects), ``"jsonl"`` (one object per line, blank lines skipped) or
        ``"parquet"``; ``None`` picks it from the extension.

    Raises ``ValueError`` naming the file (and the line) for a missing file, a
    folder, text that is not UTF-8, malformed JSON, or a record that is not an
    object.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_text('{"state": 1, "reply": "x"}\\n\\n{"state": 0}\\n')
    >>> read_table(p)
    [{'state': 1, 'reply': 'x'}, {'state': 0}]
    >>> _ = p.write_text('{"state": 1}\\n[1, 2]\\n')
    >>> read_table(p)
    Traceback (most recent call last):
    ...
    ValueError: ...a.jsonl:2: expected a JSON object (a record with named fields), got list [1, 2]
    """
    p = Path(path)
    fmt = table_format(p, format)
    if p.is_dir():
        raise ValueError(f"{p}: is a folder, not a file")
    if not p.is_file():
        raise ValueError(f"{p}: no such file")
    if fmt == "parquet":
        import pandas as pd

        try:
            return [dict(r) for r in pd.read_parquet(p).to_dict("records")]
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise ValueError(f"{p}: not a readable Parquet file ({type(exc).__name__})") from None
    try:
        if fmt == "csv":
            csv.field_size_limit(sys.maxsize)  # fields of any size are data, not an error
            with p.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                rows = []
                for row in reader:
                    if None in row:
                        raise ValueError(f"{p}:{reader.line_num}: more fields than the header has columns")
                    rows.append(dict(row))
                return rows
        if fmt == "json":
            data = _json(p.read_text(encoding="utf-8"), str(p))
            if not isinstance(data, list):
                raise ValueError(f"{p}: expected a JSON list of records, got {type(data).__name__}")
            return [_record(r, f"{p}: record {i}") for i, r in enumerate(data)]
        rows = []
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    rows.append(_record(_json(line, f"{p}:{lineno}"), f"{p}:{lineno}"))
        return rows
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except csv.Error as exc:
        raise ValueError(f"{p}: malformed CSV ({exc})") from None
