"""Plain JSON values from results: the one converter every ``to_dict`` uses."""
from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

__all__ = ["to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON values; non-finite floats become ``None``.

    Handles objects with ``to_dict()``, dataclasses, mappings, sequences, sets,
    numpy arrays and scalars, and paths.  JSON has no NaN, so a reader never
    mistakes a missing value for a number: ``json.dumps(to_jsonable(x),
    allow_nan=False)`` always succeeds.  Complex numbers have no JSON form and
    raise ``TypeError``.

    >>> to_jsonable({"a": np.array([1.0, np.nan]), 2: np.int64(3), "c": (np.bool_(True), -0.0)})
    {'a': [1.0, None], '2': 3, 'c': [True, 0.0]}
    """
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        # -0.0 prints as "-0.0", which reads as a sign where there is none
        return (v + 0.0) if math.isfinite(v) else None
    if isinstance(obj, (complex, np.complexfloating)):
        raise TypeError(f"complex value {obj!r} has no JSON form")
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, PurePath):
        return str(obj)
    if hasattr(obj, "to_dict") and not isinstance(obj, type):
        return to_jsonable(obj.to_dict())
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    return str(obj)
