"""Structured output from free-text model replies, validated against a schema.

Model text is never evaluated.  ``parse_json_reply`` tries, in order:

1. every ``{...}`` object in the text (inside code fences or prose; a missing
   closing brace at the end of the text is supplied), first as strict JSON,
   then after a lenient repair that rewrites, outside strings only: Python
   ``True``/``False``/``None``, single-quoted strings, unquoted keys
   (``{key: 1}``), and trailing commas before ``}`` or ``]``;
2. if no object satisfies the schema, each key is looked up on its own in the
   text (``"key": value`` or ``key = value``, quotes optional), which rescues
   replies whose JSON is broken beyond repair.

The first candidate that has every schema key with a value of the right type
wins.  Otherwise :class:`ParseError` is raised with the raw text and a reason.

Any text is safe to parse, whatever a model or a stored reply holds: every
scan is iterative, a candidate nested deeper than ``MAX_DEPTH`` (100) levels is
not handed to the JSON decoder (whose recursion would overflow) but skipped
with that reason, and at most ``MAX_CANDIDATES`` (1,000) objects are tried, so
the time is linear in the length of the text.

Schema format
-------------
A dict ``{key: type}`` with type one of ``bool``, ``int``, ``float``, ``str``,
or a tuple/list/set of allowed string values (an enumeration, matched
case-insensitively and returned in the schema's spelling).  Coercions:
``bool`` accepts JSON booleans and the strings ``"true"/"false"/"yes"/"no"``;
``int`` accepts integral floats; ``float`` accepts ints and numeric strings;
``str`` accepts strings only.  Keys outside the schema are ignored and not
returned.

Examples
--------
>>> parse_json_reply('Sure! ```json\\n{"is_insulting": True, "share": 0.5,}\\n```',
...                  {"is_insulting": bool, "share": float})
{'is_insulting': True, 'share': 0.5}
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ParseError", "ParseLog", "parse_json_reply", "parse_reply", "validate_schema", "repair_json",
           "MAX_DEPTH", "MAX_CANDIDATES"]

_TYPES = (bool, int, float, str)

#: Deepest nesting of ``{``/``[`` handed to the JSON decoder.
MAX_DEPTH = 100
#: Most ``{...}`` candidates tried in one reply.
MAX_CANDIDATES = 1000
_DQ_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class ParseError(ValueError):
    """A reply could not be parsed into the schema.

    Attributes
    ----------
    raw : str
        The reply text.
    reason : str
        Why it failed (missing keys, wrong types, no JSON object, ...).
    """

    def __init__(self, reason: str, raw: str):
        self.reason = reason
        self.raw = raw
        preview = raw if len(raw) <= 120 else raw[:117] + "..."
        super().__init__(f"{reason}; reply: {preview!r}")


def validate_schema(schema: Any) -> dict[str, Any]:
    """Check a schema dict (see the module docstring) and return a copy."""
    if not isinstance(schema, Mapping) or not schema:
        raise ValueError(f"schema must be a non-empty dict {{key: type}}, got {schema!r}")
    out: dict[str, Any] = {}
    for k, t in schema.items():
        if not isinstance(k, str) or not k:
            raise ValueError(f"schema keys must be non-empty str, got {k!r}")
        if t in _TYPES:
            out[k] = t
        elif isinstance(t, (tuple, list, set, frozenset)) and t and all(isinstance(v, str) for v in t):
            out[k] = tuple(t)
        else:
            raise ValueError(f"schema type of {k!r} must be bool, int, float, str or a tuple of str, got {t!r}")
    return out


# candidate extraction ------------------------------------------------------
def _objects(text: str) -> list[tuple[str, bool]]:
    """Balanced ``{...}`` substrings, outermost first, in order; braces in strings ignored.

    Each comes with a flag: True when closing braces were supplied (cut-off reply).
    At most ``MAX_CANDIDATES`` are returned.
    """
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n and len(out) < MAX_CANDIDATES:
        start = text.find("{", i)
        if start < 0:
            break
        depth, j, quote = 0, start, None
        while j < n:
            ch = text[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote or (ch == "\n" and quote == "'"):
                    quote = None
            elif ch in "\"'" and _opens_string(text, j):
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= n:  # unbalanced: the reply was cut off; close what is open
            out.append((text[start:].rstrip().rstrip(",") + "}" * max(depth, 1), True))
            break
        out.append((text[start:j + 1], False))
        i = j + 1
    return out


def _opens_string(text: str, j: int) -> bool:
    # An apostrophe inside a word (don't) is not a quote.
    if text[j] == "'":
        prev = text[j - 1] if j > 0 else " "
        return not prev.isalnum()
    return True


_BARE = {"True": "true", "False": "false", "None": "null", "true": "true", "false": "false",
         "null": "null", "NaN": "null"}


def repair_json(s: str) -> str:
    """Rewrite lenient JSON into strict JSON (see the module docstring); never evaluates.

    >>> repair_json("{'a': True, b: None,}")
    '{"a": true, "b": null}'
    """
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch in "\"'":
            # Copy a string, re-quoting single-quoted ones with double quotes.
            j, buf = i + 1, []
            while j < n and s[j] != ch:
                if s[j] == "\\" and j + 1 < n:
                    nxt = s[j + 1]
                    buf.append("'" if (ch == "'" and nxt == "'") else "\\" + nxt)
                    j += 2
                    continue
                buf.append('\\"' if (s[j] == '"' and ch == "'") else ("\\n" if s[j] == "\n" else s[j]))
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (s[j].isalnum() or s[j] in "_-"):
                j += 1
            word = s[i:j]
            k = j
            while k < n and s[k] in " \t":
                k += 1
            if k < n and s[k] == ":":
                out.append(json.dumps(word))  # unquoted key
            elif word in _BARE:
                out.append(_BARE[word])
            else:
                out.append(json.dumps(word))  # bare word value: keep it as a string
            i = j
        elif ch in "}]":
            # Drop a trailing comma before a closing bracket.
            k = len(out) - 1
            while k >= 0 and out[k].isspace():
                k -= 1
            if k >= 0 and out[k] == ",":
                del out[k]
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_BRACKET = re.compile(r"[{}\[\]]")


def _too_deep(s: str) -> bool:
    """Whether brackets outside double-quoted strings nest deeper than ``MAX_DEPTH`` (iterative)."""
    depth = 0
    for m in _BRACKET.finditer(_DQ_STRING.sub('""', s)):
        if m.group() in "{[":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif depth:
            depth -= 1
    return False


_TOO_DEEP = object()


def _load(candidate: str) -> tuple[Any, str] | object | None:
    """``(value, "json" | "repaired")``, ``_TOO_DEEP`` or None (not JSON even after repair)."""
    if _too_deep(candidate):
        return _TOO_DEEP
    try:
        return json.loads(candidate), "json"
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(repair_json(candidate)), "repaired"
    except (ValueError, RecursionError):
        return None


# coercion ------------------------------------------------------------------
def _coerce(value: Any, t: Any) -> tuple[bool, Any]:
    if isinstance(t, tuple):
        if isinstance(value, str):
            for v in t:
                if v.casefold() == value.strip().casefold():
                    return True, v
        return False, None
    if t is bool:
        if isinstance(value, bool):
            return True, value
        if isinstance(value, str) and value.strip().casefold() in ("true", "yes", "false", "no"):
            return True, value.strip().casefold() in ("true", "yes")
        return False, None
    if t is int:
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int):
            return True, value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return True, int(value)
        return False, None
    if t is float:
        if isinstance(value, bool):
            return False, None
        if isinstance(value, (int, float)):
            return (True, float(value)) if math.isfinite(value) else (False, None)
        if isinstance(value, str):
            try:
                v = float(value.strip().rstrip("%"))
            except ValueError:
                return False, None
            return (True, v) if math.isfinite(v) else (False, None)
        return False, None
    if t is str:
        return (True, value) if isinstance(value, str) else (False, None)
    return False, None


def _fit(obj: Any, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    if not isinstance(obj, dict):
        return None, "the JSON value is not an object"
    out, problems = {}, []
    for k, t in schema.items():
        if k not in obj:
            problems.append(f"missing key {k!r}")
            continue
        ok, v = _coerce(obj[k], t)
        if not ok:
            tname = t.__name__ if isinstance(t, type) else f"one of {list(t)}"
            problems.append(f"key {k!r} is {obj[k]!r}, not {tname}")
        else:
            out[k] = v
    return (out, "") if not problems else (None, "; ".join(problems))


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SCALAR = r"""("(?:[^"\\]|\\.)*"|'[^'\n]*'|""" + _NUM + r"""%?|[A-Za-z_]+)"""


def _by_key(text: str, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    found: dict[str, Any] = {}
    for k in schema:
        m = re.search(r"""["']?\b""" + re.escape(k) + r"""\b["']?\s*[:=]\s*""" + _SCALAR, text)
        if not m:
            continue
        tok = m.group(1)
        if tok[:1] in "\"'":
            val: Any = tok[1:-1]
        elif tok in _BARE:
            val = json.loads(_BARE[tok])
        elif re.fullmatch(_NUM + "%?", tok):
            num = tok.rstrip("%")
            val = int(num) if re.fullmatch(r"[-+]?\d+", num) else float(num)
        else:
            val = tok
        found[k] = val
    return _fit(found, schema)


def parse_reply(text: str, schema: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Like :func:`parse_json_reply` but also returns how it parsed.

    The method is ``"json"`` (strict JSON), ``"repaired"`` (lenient JSON) or
    ``"keys"`` (key-by-key extraction from broken JSON).

    Parameters
    ----------
    text : str
        The raw reply.
    schema : dict
        ``{key: bool | int | float | str | tuple_of_allowed_str}``.

    Returns
    -------
    (dict, str)
        The parsed values (exactly the schema's keys) and the method.

    Raises
    ------
    ParseError (a ``ValueError``) when nothing fitting the schema is found.

    Examples
    --------
    >>> schema = {"ok": bool, "n": int}
    >>> parse_reply('{"ok": true, "n": 3}', schema)
    ({'ok': True, 'n': 3}, 'json')
    >>> parse_reply('Sure! {"ok": true, "n": 3', schema)
    ({'ok': True, 'n': 3}, 'repaired')
    >>> parse_reply('ok = false, n = 2', schema)
    ({'ok': False, 'n': 2}, 'keys')
    """
    if not isinstance(text, str):
        raise ParseError(f"reply is {type(text).__name__}, not str", repr(text))
    sch = validate_schema(schema)
    reasons: list[str] = []
    cands = _objects(text)
    too_deep = False
    for cand, supplied in cands:
        loaded = _load(cand)
        if loaded is _TOO_DEEP:
            too_deep = True
            continue
        if not isinstance(loaded, tuple):
            continue
        obj, how = loaded
        if supplied:  # closing braces were supplied
            how = "repaired"
        fitted, why = _fit(obj, sch)
        if fitted is not None:
            return fitted, how
        reasons.append(why)
    fitted, why = _by_key(text, sch)
    if fitted is not None:
        return fitted, "keys"
    if not cands:
        reason = "no JSON object in the reply" + (f" and key search failed: {why}" if why else "")
    elif not reasons:
        deep = f" (JSON nested deeper than {MAX_DEPTH} levels is not decoded)" if too_deep else ""
        reason = f"no parsable JSON object{deep}; key search failed: {why}"
    else:
        reason = f"JSON object does not fit the schema: {reasons[0]}"
    raise ParseError(reason, text)


def parse_json_reply(text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Parse a model reply into ``{key: value}`` following ``schema``.

    Parameters
    ----------
    text : str
        The raw reply.
    schema : dict
        ``{key: bool | int | float | str | tuple_of_allowed_str}``.

    Returns
    -------
    dict with exactly the schema's keys, values coerced to the schema's types.

    Raises
    ------
    ParseError (a ``ValueError``) with ``.raw`` and ``.reason``.
    ValueError if the schema itself is malformed.

    Examples
    --------
    >>> parse_json_reply("{'ok': 'yes', n: 3}", {"ok": bool, "n": int})
    {'ok': True, 'n': 3}
    """
    return parse_reply(text, schema)[0]


@dataclass
class ParseLog:
    """Parses replies and keeps count of successes and every failure.

    Attributes
    ----------
    n_ok, n_failed : int
    methods : Counter
        Successes by method ("json", "repaired", "keys").
    failures : list of dict
        ``{"index", "raw", "reason"}`` for each failed reply, in order.

    Examples
    --------
    >>> log = ParseLog({"ok": bool})
    >>> log.parse('{"ok": true}'), log.parse("no idea")
    ({'ok': True}, None)
    >>> log.n_ok, log.n_failed
    (1, 1)
    """

    schema: Mapping[str, Any]
    n_ok: int = 0
    n_failed: int = 0
    methods: Counter = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        self.schema = validate_schema(self.schema)

    def parse(self, text: str) -> dict[str, Any] | None:
        """Parsed dict, or None after recording the failure."""
        index = self.n_ok + self.n_failed
        try:
            value, how = parse_reply(text, self.schema)
        except ParseError as exc:
            self.n_failed += 1
            self.failures.append({"index": index, "raw": exc.raw, "reason": exc.reason})
            return None
        self.n_ok += 1
        self.methods[how] += 1
        return value

    def parse_many(self, texts: Iterable[str]) -> list[dict[str, Any] | None]:
        """``[self.parse(t) for t in texts]``."""
        return [self.parse(t) for t in texts]

    @property
    def n_total(self) -> int:
        return self.n_ok + self.n_failed

    @property
    def failure_rate(self) -> float:
        """Share of failed replies (NaN before any reply)."""
        return self.n_failed / self.n_total if self.n_total else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts, methods and failures (strict JSON: no NaN; ``failure_rate`` None when empty)."""
        return {"n_total": self.n_total, "n_ok": self.n_ok, "n_failed": self.n_failed,
                "failure_rate": self.failure_rate if self.n_total else None, "methods": dict(self.methods),
                "failures": list(self.failures)}

    def summary(self) -> str:
        """Human-readable account of the parse."""
        lines = [f"parsed {self.n_ok}/{self.n_total} replies ({self.n_failed} failed)"]
        if self.methods:
            lines.append("  by method: " + ", ".join(f"{k}={v}" for k, v in sorted(self.methods.items())))
        for f in self.failures[:10]:
            lines.append(f"  #{f['index']}: {f['reason']}")
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more")
        return "\n".join(lines)
