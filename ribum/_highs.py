"""Keep HiGHS's licence banner off standard output.

HiGHS prints a two-line banner from C++ straight to file descriptor 1 the
first time a ``Highs`` object is built in a process (CVXPY builds one per
solve).  A command's standard output is its summary, and some users pipe it,
so the first object is built here with descriptor 1 pointed at ``/dev/null``;
HiGHS prints no banner after that.
"""
from __future__ import annotations

import os
import sys
import threading

__all__ = ["quiet_highs"]

_lock = threading.Lock()
_done = False


def quiet_highs() -> None:
    """Build the process's first ``highspy.Highs`` with standard output silenced (idempotent)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        _done = True
        try:
            import highspy
        except ImportError:  # pragma: no cover - highspy is a dependency
            return
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # no real descriptor 1 (embedded interpreters)
            highspy.Highs()
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
