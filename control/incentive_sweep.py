r"""Incentive mechanism for the LLM sensor's estimated model (SPEC 3b): paid vs accuracy.

Wraps ``control.IncentiveProblem``: agents choose
``a_k = argmax_a [ r_a' eta_k + omega_a I_k - delta_a ]`` with utility
``r = -c``; the platform posts the minimal incentive ``I*(pi)`` that makes the
action reveal the private observation whenever the public belief lies in the
policy's pay region ``pi(0) in (t, 1 - t)`` (symmetric threshold ``t``), and
nothing otherwise (agents then act myopically and may herd). For a grid of
``t`` the sweep reports the expected incentive paid and the accuracy of the
final public estimate ``E[max_x pi_N(x)]``; SPSA then tunes ``t`` for the
objective ``payment + weight * (1 - accuracy)``.
"""
from __future__ import annotations

import numpy as np

from .incentives import IncentiveProblem
from .threshold import ThresholdPolicy

__all__ = ["incentive_sweep"]


def incentive_sweep(likelihood: np.ndarray, action_cost: np.ndarray, prior: np.ndarray, *,
                    thresholds: np.ndarray | None = None, weight: float = 5.0, n_agents: int = 50,
                    n_runs: int = 500, spsa_iter: int = 60, spsa_runs: int = 200, tau: float = 0.005, seed: int = 0,
                    progress: bool = False) -> dict:
    r"""Sweep the symmetric incentive threshold ``t`` and tune it by SPSA.

    Parameters
    ----------
    likelihood : array (2, Y)
    action_cost : array (2, A); the agents' utility is ``-action_cost``
    prior : array (2,)
    thresholds : array, optional
        Values of ``t`` in ``[0, 0.5]`` (default: 16 points in [0, 0.15], where herding starts
        for informative sensors, and 7 in [0.2, 0.5]): pay while ``t < pi(0) < 1 - t``.
    weight : float
        Price of a wrong final estimate in the platform's objective.
    n_agents, n_runs : int
    spsa_iter, spsa_runs : int
        SPSA iterations for the optimal ``t`` (0: skip) and runs per evaluation. SPSA
        starts from the best threshold of the sweep: where nothing is paid the
        objective is flat in ``t`` (zero gradient), so a start far inside that
        region never moves.
    tau : float
        Smoothing temperature of the SPSA policy; small, because the pay region's
        edge matters only within the narrow band of beliefs where herding starts
        (a wide smoothing moves the optimum of the smoothed objective).
    seed : int
        Every threshold of the sweep uses the same seed (common random numbers).

    Returns
    -------
    dict with ``sweep`` (``thresholds``, ``paid``, ``paid_se``, ``accuracy``,
    ``accuracy_se``, ``accuracy_realized``, ``objective``, ``objective_se``,
    ``paid_agents``), ``optimum`` (SPSA), ``params`` and a one-line ``summary``.
    """

    c = np.asarray(action_cost, dtype=float)
    prob = IncentiveProblem(likelihood, utility=-c)
    ts = (np.r_[np.linspace(0.0, 0.15, 16), np.linspace(0.2, 0.5, 7)] if thresholds is None
          else np.asarray(thresholds, dtype=float))
    if np.any((ts < 0) | (ts > 0.5)):
        raise ValueError("symmetric incentive thresholds must lie in [0, 0.5]")
    rows: dict[str, list[float]] = {k: [] for k in ("paid", "paid_se", "accuracy", "accuracy_se", "accuracy_realized",
                                                    "objective", "objective_se", "paid_agents")}
    it = ts
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(ts, desc="incentive sweep", unit="threshold")
    for t in it:
        pol = ThresholdPolicy.from_thresholds(float(t), tau=0.0, kind="symmetric")
        sim = prob.simulate(pol, prior, n_agents, n_runs, weight=weight, seed=seed)
        acc = sim.final_beliefs.max(axis=1)
        rows["paid"].append(sim.mean_payment)
        rows["paid_se"].append(float(sim.payments.std(ddof=1) / np.sqrt(sim.n_runs)))
        rows["accuracy"].append(sim.accuracy)
        rows["accuracy_se"].append(float(acc.std(ddof=1) / np.sqrt(sim.n_runs)))
        rows["accuracy_realized"].append(sim.accuracy_realized)
        rows["objective"].append(sim.objective)
        rows["objective_se"].append(sim.std_error)
        rows["paid_agents"].append(float(sim.paid_agents.mean()))
    sweep = {"thresholds": ts.tolist(), **rows}
    optimum = None
    if spsa_iter:
        t_start = float(np.clip(ts[int(np.argmin(rows["objective"]))], 0.005, 0.495))
        opt = prob.optimize_threshold(prior, n_agents, weight=weight, kind="symmetric", tau=tau,
                                      thresholds0=t_start, n_iter=int(spsa_iter), n_runs=int(spsa_runs), seed=seed,
                                      c=0.02, max_step=0.01)
        optimum = {"threshold": float(opt.thresholds[0]), "objective": opt.cost.mean,
                   "objective_se": opt.cost.std_error, "history": opt.threshold_history[:, 0].tolist(),
                   "n_iter": int(spsa_iter), "n_runs": int(spsa_runs), "start": t_start,
                   "spsa": {"c": 0.02, "max_step": 0.01, "tau": float(tau)}}
    best = int(np.argmin(rows["objective"]))
    summary = (f"incentives (weight {weight} per unit of error, {n_agents} agents): never paying gives accuracy "
               f"{rows['accuracy'][-1]:.3f} at cost 0; always paying gives accuracy {rows['accuracy'][0]:.3f} "
               f"for {rows['paid'][0]:.3f}; best swept t = {ts[best]:.3f} (objective {rows['objective'][best]:.4f})"
               + (f"; SPSA t = {optimum['threshold']:.3f} (objective {optimum['objective']:.4f})" if optimum else ""))
    params = {"utility": (-c).tolist(), "incentive_weights": "platform subsidizes one action of its choice",
              "weight": float(weight), "n_agents": int(n_agents), "n_runs": int(n_runs), "tau": float(tau),
              "seed": int(seed), "prior": np.asarray(prior, dtype=float).tolist(),
              "signals": "drawn from the estimated B (control.IncentiveProblem.simulate)"}
    return {"available": True, "sweep": sweep, "optimum": optimum, "params": params, "summary": summary}
