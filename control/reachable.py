r"""Public beliefs a controller that reveals observations can reach, and their spacing.

Used to compare a threshold found by value iteration on a belief grid with one
found by simulation (SPSA): thresholds between two neighbouring reachable
beliefs give the same policy on every belief that carries weight.
"""
from __future__ import annotations

import numpy as np

__all__ = ["reachable_beliefs", "reachable_bracket"]


def reachable_beliefs(likelihood: np.ndarray, prior: np.ndarray, region: list[tuple[float, float]],
                      discount: float = 1.0, min_mass: float = 1e-3, max_depth: int = 200) -> np.ndarray:
    r"""Public beliefs ``pi(0)`` that a controller revealing observations visits with non-negligible weight.

    Starting from ``prior``, each belief strictly inside the continue
    ``region`` (intervals of ``pi(0)``) moves to ``T_y pi`` with probability
    ``sigma(pi, y)``; beyond the region the controller stops. A belief's weight
    is its discounted visitation probability ``sum_k rho^k P(pi_k = pi)``.
    Returned are the beliefs with weight ``>= min_mass`` (sorted): a threshold
    can move between two of them without changing the policy on any belief
    that carries weight ``>= min_mass``, so their spacing is the resolution at
    which a simulation-based optimizer (SPSA) can locate a threshold. With
    ``min_mass = 0`` and a regular lattice (symmetric ``B``) this is the plain
    lattice of reachable beliefs; for an asymmetric ``B`` the plain reachable
    set is dense, hence the weight.
    """
    B = np.asarray(likelihood, dtype=float)
    if B.shape[0] != 2:
        raise ValueError("reachable_beliefs needs X = 2 states")
    p0 = float(prior[0])
    if not 0 < p0 < 1:
        return np.array([p0])

    def inside(p):
        m = np.zeros(p.shape, bool)
        for a, b in region:
            m |= (p > a) & (p < b)
        return m

    weight: dict[float, float] = {}
    front = {round(p0, 12): (np.array([p0, 1 - p0]), 1.0)}
    for _ in range(max_depth):
        nxt: dict[float, tuple[np.ndarray, float]] = {}
        for key, (pi, m) in front.items():
            weight[key] = weight.get(key, 0.0) + m
            if not inside(np.array([pi[0]]))[0]:
                continue
            sig = pi @ B
            for y in np.flatnonzero(sig > 0):
                mm = m * discount * sig[y]
                if mm < min_mass * 1e-3:
                    continue
                q = pi * B[:, y] / sig[y]
                k2 = round(float(q[0]), 12)
                if k2 in nxt:
                    nxt[k2] = (nxt[k2][0], nxt[k2][1] + mm)
                else:
                    nxt[k2] = (q, mm)
        if not nxt:
            break
        front = nxt
    keep = np.array(sorted(k for k, w in weight.items() if w >= min_mass))
    return keep


def reachable_bracket(reachable: np.ndarray, t: float) -> tuple[float, float]:
    """The two reachable beliefs around ``t`` (0 / 1 where none lies on a side).

    Every threshold strictly between them gives the same policy on reachable
    beliefs: this is the lattice spacing within which value iteration and SPSA
    can be compared.
    """
    below = reachable[reachable <= t]
    above = reachable[reachable > t]
    return (float(below.max()) if below.size else 0.0, float(above.min()) if above.size else 1.0)
