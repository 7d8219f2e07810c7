"""Embedded SQLite response cache.

Every model answer is stored under ``key = sha256(canonical JSON of the request)``
where the request holds the backend name, the model id, the operation
(``"complete"``, ``"choice_logprobs"``, ...), the messages or prompt, the choices,
the decoding parameters and the seed.  Canonical JSON means ``sort_keys=True``,
``separators=(",", ":")`` and ``ensure_ascii=False``, so two requests that are
equal as Python values get the same key on every machine.

Concurrency and durability: the database runs in WAL mode with a busy timeout;
each process has one connection, shared by its threads under a lock (a child
process after a fork opens its own); every ``put`` is committed immediately
(autocommit), so several processes and threads may write at once and an
interrupted run loses nothing that has already been answered.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ResponseCache", "canonical_json", "request_key", "default_cache_dir"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key      TEXT PRIMARY KEY,
    value    TEXT NOT NULL,
    op       TEXT NOT NULL DEFAULT '',
    backend  TEXT NOT NULL DEFAULT '',
    model    TEXT NOT NULL DEFAULT '',
    request  TEXT NOT NULL DEFAULT '',
    created  REAL NOT NULL
)
"""

logger = logging.getLogger("llmas")

# SQLite caps the number of host parameters per statement (999 on old builds).
_IN_CHUNK = 500


def default_cache_dir() -> Path:
    """The user cache directory of the toolkit.

    ``$LLMSL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/llmsl``, else
    ``~/.cache/llmsl``.  The directory is not created here.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os
    >>> old = os.environ.get("LLMSL_CACHE_DIR")
    >>> os.environ["LLMSL_CACHE_DIR"] = "/tmp/my-llmsl-cache"
    >>> default_cache_dir().as_posix()
    '/tmp/my-llmsl-cache'
    >>> del os.environ["LLMSL_CACHE_DIR"]
    >>> default_cache_dir().name
    'llmsl'
    >>> if old is not None:
    ...     os.environ["LLMSL_CACHE_DIR"] = old
    """
    env = os.environ.get("LLMSL_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "llmsl"


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text of ``obj`` (sorted keys, no spaces, UTF-8)."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cache request is not JSON-serializable: {exc}") from None


def request_key(request: Mapping[str, Any]) -> str:
    """``sha256(canonical_json(request))`` as 64 hex digits.

    Examples
    --------
    >>> request_key({"b": 1, "a": [1, 2]}) == request_key({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(canonical_json(dict(request)).encode("utf-8")).hexdigest()


class ResponseCache:
    """SQLite store of model answers keyed by a hash of the request.

    Parameters
    ----------
    path : str or Path, optional
        Database file.  Default: ``default_cache_dir() / "responses.sqlite"``.
        The parent directory is created.  ``":memory:"`` is refused because an
        in-memory database cannot be shared between the threads of one backend.
    timeout : float
        Seconds a writer waits for a lock held by another writer.

    Attributes
    ----------
    path : Path
    hits, misses : int
        Look-ups answered from the cache / not found, since construction.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> c = ResponseCache(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
    >>> k = c.key({"op": "complete", "messages": "hi"})
    >>> c.put(k, "hello")
    >>> c.get(k)
    'hello'
    """

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = 60.0):
        if path is None:
            path = default_cache_dir() / "responses.sqlite"
        if str(path) == ":memory:":
            raise ValueError("ResponseCache needs a file path; ':memory:' cannot be shared across threads")
        self.path = Path(path).expanduser().resolve()
        if self.path.is_dir():
            raise ValueError(f"cache path {self.path} is a directory; give a file name")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = float(timeout)
        self.hits = 0
        self.misses = 0
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        # WAL lets readers run beside one writer and makes each commit cheap.
        self._execute("PRAGMA journal_mode=WAL")
        self._execute(_SCHEMA)

    # connections ----------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        # One connection per process, shared by its threads under self._lock
        # (a connection per thread would leak one per short-lived pool worker).
        # After a fork the child opens its own.
        if self._db is not None and self._pid == os.getpid():
            return self._db
        conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        # NORMAL is durable against a killed process in WAL mode (not against power loss).
        conn.execute("PRAGMA synchronous=NORMAL")
        self._db, self._pid = conn, os.getpid()
        return conn

    def _execute(self, sql: str, params=()) -> list[tuple]:
        with self._lock:
            return self._conn().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
            self._db = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):
        # Connections cannot be pickled; a copy in another process reopens the file.
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state):
        self.__init__(state["path"], timeout=state["timeout"])

    # keys -----------------------------------------------------------------
    @staticmethod
    def key(request: Mapping[str, Any]) -> str:
        """Hash key of a request mapping; see :func:`request_key`."""
        return request_key(request)

    # reads ----------------------------------------------------------------
    @staticmethod
    def _decode(key: str, text: Any) -> tuple[bool, Any]:
        """``(True, value)``, or ``(False, None)`` for a stored value that does not decode.

        Nothing stored can crash a rerun: an entry that is not valid JSON (or
        nests too deeply for the decoder) counts as missing and is recomputed.
        """
        try:
            return True, json.loads(text)
        except (ValueError, TypeError, RecursionError):
            logger.warning("cache entry %s... does not decode; it is treated as missing", str(key)[:12])
            return False, None

    def get(self, key: str, default: Any = None) -> Any:
        """Stored value (decoded from JSON) or ``default``."""
        rows = self._execute("SELECT value FROM responses WHERE key=?", (key,))
        ok, value = self._decode(key, rows[0][0]) if rows else (False, None)
        with self._lock:
            if not ok:
                self.misses += 1
            else:
                self.hits += 1
        return value if ok else default

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """``{key: value}`` for those of ``keys`` that are stored (one query per 500 keys)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, Any] = {}
        for i in range(0, len(keys), _IN_CHUNK):
            chunk = keys[i:i + _IN_CHUNK]
            q = f"SELECT key, value FROM responses WHERE key IN ({','.join('?' * len(chunk))})"
            for k, v in self._execute(q, chunk):
                ok, value = self._decode(k, v)
                if ok:
                    out[k] = value
        with self._lock:
            self.hits += len(out)
            self.misses += len(keys) - len(out)
        return out

    def __contains__(self, key: str) -> bool:
        return bool(self._execute("SELECT 1 FROM responses WHERE key=?", (key,)))

    def __len__(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM responses")[0][0])

    def requests(self, op: str | None = None) -> list[dict[str, Any]]:
        """Stored requests (decoded), optionally only those of one operation."""
        q = "SELECT request FROM responses" + (" WHERE op=?" if op else "") + " ORDER BY created"
        rows = self._execute(q, (op,) if op else ())
        return [json.loads(r[0]) for r in rows if r[0]]

    # writes ---------------------------------------------------------------
    def put(self, key: str, value: Any, *, request: Mapping[str, Any] | None = None) -> None:
        """Store ``value`` (JSON-serializable) under ``key`` and commit at once."""
        req = dict(request) if request is not None else {}
        self._execute(
            "INSERT OR REPLACE INTO responses (key, value, op, backend, model, request, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, canonical_json(value), str(req.get("op", "")), str(req.get("backend", "")),
             str(req.get("model", "")), canonical_json(req) if req else "", time.time()),
        )

    def clear(self) -> None:
        """Delete every stored answer."""
        self._execute("DELETE FROM responses")

    def stats(self) -> dict[str, Any]:
        """``{"path", "entries", "hits", "misses", "hit_rate"}``."""
        looked = self.hits + self.misses
        return {"path": str(self.path), "entries": len(self), "hits": self.hits,
                "misses": self.misses, "hit_rate": (self.hits / looked) if looked else float("nan")}

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"
