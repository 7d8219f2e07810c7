"""The LLM as a sensor: labelled observations ``y`` of texts whose state ``x`` is known.

A :class:`SensorData` holds the pairs ``(x_i, y_i)`` from which the likelihood
``B[x, y] = P(y | x)`` of SPEC section 2 is estimated, plus everything needed to
resample the model's *real* labels per state when chains of agents are simulated
(an agent in state ``x`` observes a label drawn from the pool of labels the LLM
gave to texts of state ``x``).  Replies that could not be parsed are kept with
their reason and counted, never dropped silently.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SensorData"]


@dataclass
class SensorData:
    """Labelled sensor readings: state ``x_i`` and observation ``y_i`` of item ``i``.

    Attributes
    ----------
    states, observations : ndarray of int, shape (n,)
        Parsed pairs only; ``observations[i]`` in ``0..n_obs-1``.
    n_states, n_obs : int
        X and Y.
    state_labels, obs_labels : list of str
        Names of the states and observations (for plots and reports).
    failures : list of dict
        One entry per reply that could not be mapped to an observation:
        ``{"index", "state", "raw", "reason"}``.
    source : str
        Where the readings came from (a file, or ``backend:model``).
    meta : dict
        Free-form provenance (task design, decoding, ...), copied into reports.
    expected_counts : ndarray (X, Y), optional
        When the model's label distribution per item is known exactly (from
        log-probabilities), ``N[x, y] = sum_{i: x_i = x} P(y | text_i)``; the
        likelihood is then estimated from these counts, while ``observations``
        hold labels drawn from those distributions for resampling in chains.

    Example
    -------
    >>> d = SensorData(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2)
    >>> d.counts().tolist()
    [[1, 1], [0, 1]]
    """

    states: np.ndarray
    observations: np.ndarray
    n_states: int
    n_obs: int
    state_labels: list[str] = field(default_factory=list)
    obs_labels: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    source: str = ""
    meta: dict = field(default_factory=dict)
    expected_counts: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.states = _as_labels(self.states, "states")
        self.observations = _as_labels(self.observations, "observations")
        if self.states.shape != self.observations.shape:
            raise ValueError(
                f"states and observations must have the same length, got "
                f"{self.states.size} and {self.observations.size}")
        self.n_states, self.n_obs = int(self.n_states), int(self.n_obs)
        if self.n_states < 2 or self.n_obs < 2:
            raise ValueError(f"need at least 2 states and 2 observations, got X={self.n_states}, Y={self.n_obs}")
        if self.states.size and (self.states.max() >= self.n_states):
            raise ValueError(f"state {int(self.states.max())} out of range 0..{self.n_states - 1}")
        if self.observations.size and (self.observations.max() >= self.n_obs):
            raise ValueError(f"observation {int(self.observations.max())} out of range 0..{self.n_obs - 1}")
        if not self.state_labels:
            self.state_labels = [f"x={i}" for i in range(self.n_states)]
        if not self.obs_labels:
            self.obs_labels = [f"y={j}" for j in range(self.n_obs)]
        if len(self.state_labels) != self.n_states or len(self.obs_labels) != self.n_obs:
            raise ValueError("state_labels / obs_labels must have n_states / n_obs entries")
        if self.expected_counts is not None:
            ec = np.asarray(self.expected_counts, dtype=float)
            if ec.shape != (self.n_states, self.n_obs) or not np.all(np.isfinite(ec)) or np.any(ec < 0):
                raise ValueError(f"expected_counts must be a finite non-negative ({self.n_states}, {self.n_obs}) array")
            self.expected_counts = ec

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of parsed readings."""
        return int(self.states.size)

    @property
    def n_failed(self) -> int:
        """Number of replies that could not be mapped to an observation."""
        return len(self.failures)

    def counts(self) -> np.ndarray:
        """Confusion counts ``N[x, y] = #{i : x_i = x, y_i = y}``, shape (X, Y)
        (``expected_counts`` when the label distributions are exact)."""
        if self.expected_counts is not None:
            return self.expected_counts.copy()
        flat = np.bincount(self.states * self.n_obs + self.observations,
                           minlength=self.n_states * self.n_obs)
        return flat.reshape(self.n_states, self.n_obs)

    def pools(self) -> list[np.ndarray]:
        """The labels the model gave per state: ``pools()[x]`` is an int array.

        These are what simulated agents in state ``x`` observe (resampled with
        replacement), so the chains run on the model's real outputs rather than
        on draws from the estimated ``B``.
        """
        return [self.observations[self.states == x] for x in range(self.n_states)]

    def check_pools(self) -> None:
        """Raise ``ValueError`` when some state has no parsed reading to resample."""
        empty = [self.state_labels[x] for x, p in enumerate(self.pools()) if p.size == 0]
        if empty:
            raise ValueError(f"no parsed readings for state(s) {empty}: cannot resample their labels")

    def coarsen(self, state_map: Sequence[int] | None = None, obs_map: Sequence[int] | None = None, *,
                state_labels: Sequence[str] | None = None,
                obs_labels: Sequence[str] | None = None) -> SensorData:
        """Merge states and/or observations: new ``x' = state_map[x]``, ``y' = obs_map[y]``.

        Example: hate speech coarsened to "not hateful" vs "hateful" states and
        "no flag" vs "some flag" labels:
        ``d.coarsen([0, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1])``.
        """
        smap = np.arange(self.n_states) if state_map is None else _as_map(state_map, self.n_states, "state_map")
        omap = np.arange(self.n_obs) if obs_map is None else _as_map(obs_map, self.n_obs, "obs_map")
        nx, ny = int(smap.max()) + 1, int(omap.max()) + 1
        fails = [dict(f, state=int(smap[f["state"]]) if f.get("state") is not None else None)
                 for f in self.failures]
        ec = None
        if self.expected_counts is not None:
            ec = np.zeros((nx, ny))
            np.add.at(ec, (smap[:, None], omap[None, :]), self.expected_counts)
        return SensorData(
            smap[self.states], omap[self.observations], nx, ny,
            list(state_labels) if state_labels is not None else
            (self.state_labels if state_map is None else []),
            list(obs_labels) if obs_labels is not None else
            (self.obs_labels if obs_map is None else []),
            fails, self.source,
            dict(self.meta, coarsened={"state_map": smap.tolist(), "obs_map": omap.tolist()}), ec)

    def to_dict(self) -> dict:
        """JSON-ready provenance and counts (not the raw readings)."""
        return {
            "source": self.source,
            "n_states": self.n_states, "n_obs": self.n_obs,
            "state_labels": self.state_labels, "obs_labels": self.obs_labels,
            "n_parsed": self.n, "n_failed": self.n_failed,
            "per_state_parsed": np.bincount(self.states, minlength=self.n_states).tolist(),
            "counts": self.counts().tolist(),
            "counts_kind": "expected (exact label probabilities)" if self.expected_counts is not None else "observed",
            "failures": [{k: v for k, v in f.items()} for f in self.failures],
            "meta": self.meta,
        }

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_replies(cls, states: Sequence[int], replies: Sequence[Any], to_observation: Callable[[Any], int],
                     n_states: int, n_obs: int, **kwargs: Any) -> SensorData:
        """Map raw replies to observations with ``to_observation`` (raises ``ValueError`` on a bad reply).

        Replies that raise ``ValueError`` are recorded in ``failures`` with the
        exception text as the reason.
        """
        xs: list[int] = []
        ys: list[int] = []
        fails: list[dict] = []
        states = list(states)
        if len(states) != len(replies):
            raise ValueError(f"{len(states)} states but {len(replies)} replies")
        for i, (x, r) in enumerate(zip(states, replies, strict=True)):
            try:
                y = int(to_observation(r))
            except ValueError as exc:
                fails.append({"index": i, "state": int(x), "raw": str(r),
                              "reason": str(getattr(exc, "reason", exc))})
                continue
            if not 0 <= y < n_obs:
                fails.append({"index": i, "state": int(x), "raw": str(r),
                              "reason": f"observation {y} outside 0..{n_obs - 1}"})
                continue
            xs.append(int(x))
            ys.append(y)
        return cls(np.asarray(xs, dtype=np.int64), np.asarray(ys, dtype=np.int64), n_states, n_obs,
                   failures=fails, **kwargs)


def _as_labels(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must be integer labels (found NaN or fractional values)")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"{name} must be integer labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"{name} must be non-negative, found {int(arr.min())}")
    return arr


def _as_map(m: Sequence[int], n: int, name: str) -> np.ndarray:
    arr = _as_labels(m, name)
    if arr.size != n:
        raise ValueError(f"{name} must have {n} entries, got {arr.size}")
    used = np.unique(arr)
    if not np.array_equal(used, np.arange(used.size)):
        raise ValueError(f"{name} must map onto 0..k-1 without gaps, got {arr.tolist()}")
    return arr
