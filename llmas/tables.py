"""Reading a table of records from a file: CSV, JSON list, JSONL or Parquet.

One reader for every command that takes a file (``audit-file``, ``herd
--responses``, corpora given as a path).  The format is chosen explicitly, by
the ``format`` argument or else by the file's extension, never by sniffing the
content, so one file is always read one way.  Every problem is one
``ValueError`` naming the file, and the line where there is one; the rows
returned remember where each came from (:meth:`Rows.where`), so that callers
checking the values can name the line too.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["read_table", "Rows", "FORMATS", "table_format"]

#: extension -> format
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

#: nesting depth at which a JSON value is rejected (Python's parser recurses)
_MAX_DEPTH = 200


class Rows(list):
    """The records of a table file (a ``list`` of dicts) that know where each record came from.

    ``rows.where(i)`` is ``"FILE:LINE"`` for CSV and JSONL (the record's last
    line), ``"FILE: record I"`` for a JSON list and ``"FILE: row I"`` for
    Parquet (0-based), ready to prefix an error message.  ``rows.columns``
    lists the columns (the CSV header, else the keys of the first record).

    >>> r = Rows([{"a": 1}], path="t.csv", lines=[2])
    >>> r.where(0), r.columns
    ('t.csv:2', ['a'])
    """

    def __init__(self, records: Any = (), *, path: str | os.PathLike = "", lines: list[int] | None = None,
                 unit: str = "record", columns: list[str] | None = None):
        super().__init__(records)
        self.path = str(path)
        self.lines = lines
        self.unit = unit
        self.columns = list(columns) if columns is not None else (list(self[0]) if len(self) else [])

    def where(self, i: int) -> str:
        """Where record ``i`` is: ``FILE:LINE`` or ``FILE: record I``."""
        if self.lines is not None:
            return f"{self.path}:{self.lines[i]}"
        return f"{self.path}: {self.unit} {i}"

    def field(self, i: int, column: str) -> Any:
        """The non-empty value in ``column`` of record ``i``; ``ValueError`` naming the line otherwise."""
        rec = self[i]
        if column not in rec:
            raise ValueError(f"{self.where(i)}: no {column!r} field")
        v = rec[column]
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ValueError(f"{self.where(i)}: {column} is empty")
        return v

    def number(self, i: int, column: str, *, positive: bool = False, nonnegative: bool = False) -> float:
        """The finite number in ``column`` of record ``i``; ``ValueError`` naming the line otherwise.

        >>> r = Rows([{"p": "1.5"}, {"p": "-1"}, {"p": "nan"}], path="t.csv", lines=[2, 3, 4])
        >>> r.number(0, "p")
        1.5
        >>> r.number(1, "p", positive=True)
        Traceback (most recent call last):
        ...
        ValueError: t.csv:3: p must be > 0, got '-1'
        """
        v = self.field(i, column)
        try:
            if isinstance(v, (bool, dict, list)):
                raise TypeError
            f = float(v)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.where(i)}: {column} {_show(v)} is not a number") from None
        if f != f or f in (float("inf"), float("-inf")):
            raise ValueError(f"{self.where(i)}: {column} {_show(v)} is not a finite number")
        if positive and f <= 0:
            raise ValueError(f"{self.where(i)}: {column} must be > 0, got {_show(v)}")
        if nonnegative and f < 0:
            raise ValueError(f"{self.where(i)}: {column} must be >= 0, got {_show(v)}")
        return f

    def integer(self, i: int, column: str, n: int | None = None) -> int:
        """The integer in ``column`` of record ``i`` (``"3"``, ``3`` or ``3.0``), in ``0..n-1`` when ``n`` is given.

        >>> r = Rows([{"state": "2"}, {"state": "1.5"}, {}], path="t.csv", lines=[2, 3, 4])
        >>> r.integer(0, "state", 6)
        2
        >>> r.integer(1, "state")
        Traceback (most recent call last):
        ...
        ValueError: t.csv:3: state '1.5' is not an integer
        >>> r.integer(2, "state")
        Traceback (most recent call last):
        ...
        ValueError: t.csv:4: no 'state' field
        """
        v = self.field(i, column)
        try:
            if isinstance(v, (bool, dict, list)):
                raise TypeError
            f = float(v.strip() if isinstance(v, str) else v)
            if f != int(f):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.where(i)}: {column} {_show(v)} is not an integer") from None
        k = int(f)
        if n is not None and not 0 <= k < n:
            raise ValueError(f"{self.where(i)}: {column} {k} outside 0..{n - 1}")
        return k


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


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
                         "records), .jsonl (one record per line) or .parquet, or give the format")
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
    except RecursionError:  # pragma: no cover - guarded by the depth check above
        raise ValueError(f"{where}: JSON nested too deeply") from None


def _record(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object (a record with named fields), got "
                         f"{type(obj).__name__} {json.dumps(obj)[:40]}")
    return obj


def _decode(p: Path) -> str:
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"{p}:{line}: not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x}); "
                         "save the file as UTF-8") from None


def _csv(p: Path, text: str) -> Rows:
    csv.field_size_limit(sys.maxsize)  # fields of any size are data, not an error
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{p}: empty file (expected a header line with the column names)")
        names = [h.strip() for h in header]
        dup = sorted({h for h in names if h and names.count(h) > 1})  # an unnamed index column is common
        if dup:
            raise ValueError(f"{p}:1: the header names the column(s) {dup} more than once")
        rows: list[dict[str, Any]] = []
        lines: list[int] = []
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip() and len(names) > 1):
                continue  # blank line
            if len(fields) != len(names):
                raise ValueError(f"{p}:{reader.line_num}: {len(fields)} fields but the header has "
                                 f"{len(names)} columns")
            rows.append(dict(zip(names, fields, strict=True)))
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise ValueError(f"{p}:{reader.line_num}: malformed CSV ({exc})") from None
    return Rows(rows, path=p, lines=lines, columns=names)


def read_table(path: str | os.PathLike, format: str | None = None) -> Rows:
    """The rows of a table file as a list of dicts (a :class:`Rows`, which also knows their lines).

    Parameters
    ----------
    path : the file.
    format : ``"csv"`` (header line, any field size), ``"json"`` (a list of
        objects), ``"jsonl"`` (one object per line, blank lines skipped) or
        ``"parquet"``; ``None`` picks it from the extension.

    Raises ``ValueError`` naming the file (and the line) for a missing file, a
    folder, text that is not UTF-8, malformed JSON or CSV, a CSV header naming
    a column twice, a CSV line with the wrong number of fields, or a record
    that is not an object.  A UTF-8 byte-order mark is skipped.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_text('{"state": 1, "reply": "x"}\\n\\n{"state": 0}\\n')
    >>> rows = read_table(p)
    >>> rows, rows.where(1).endswith("a.jsonl:3")
    ([{'state': 1, 'reply': 'x'}, {'state': 0}], True)
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
    if not p.exists():
        raise ValueError(f"{p}: no such file")
    if not p.is_file():
        raise ValueError(f"{p}: not a regular file")
    try:
        if fmt == "parquet":
            import pandas as pd

            try:
                frame = pd.read_parquet(p)
            except Exception as exc:  # pyarrow raises several unrelated types for a bad file
                raise ValueError(f"{p}: not a readable Parquet file ({type(exc).__name__})") from None
            return Rows([dict(r) for r in frame.to_dict("records")], path=p, unit="row",
                        columns=[str(c) for c in frame.columns])
        text = _decode(p)
    except PermissionError:
        raise ValueError(f"{p}: permission denied") from None
    except OSError as exc:
        raise ValueError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if fmt == "csv":
        return _csv(p, text)
    if fmt == "json":
        if not text.strip():
            raise ValueError(f"{p}: empty file (expected a JSON list of records)")
        data = _json(text, str(p))
        if not isinstance(data, list):
            raise ValueError(f"{p}: expected a JSON list of records, got {type(data).__name__}")
        return Rows([_record(r, f"{p}: record {i}") for i, r in enumerate(data)], path=p, unit="record")
    rows, lines = [], []
    for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028 may sit in a string
        if line.strip():
            rows.append(_record(_json(line, f"{p}:{lineno}"), f"{p}:{lineno}"))
            lines.append(lineno)
    return Rows(rows, path=p, lines=lines)
