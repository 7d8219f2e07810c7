r"""Chains of LLM agents against the theory of social learning.

Given the observed chains (:class:`~llmsl.chain.pipeline.ChainRun`) and the
same model's labels of the same corpus *without* history (``llmsl herd``'s
readings, a :class:`~llmsl.herd.SensorData` with the chain's coarsening):

1. the likelihood ``B`` is the Dirichlet posterior mean of the label counts
   (expected counts when the labels came with exact probabilities), with its
   informativeness (mutual information and the G-test of independence);
2. :func:`sociallearn.analyze_chains`: the probability of herding and of
   herding on the wrong action, the herd-time distribution, with intervals,
   beside the Bayesian filter with ``B`` (simulated, and the exact cascade law);
3. :func:`sociallearn.fit_social_models`: which model of social learning
   explains the actions (Bayesian filter, sensor alone, copy the last action,
   majority, logit), by maximum likelihood, with AIC, likelihood-ratio tests and
   the herding strength ``w`` (0 ignores others, 1 Bayesian, above 1 over-herds);
4. :func:`sociallearn.cascade_threshold` (binary decisions): the lead in the
   history at which agents stop following their own text, beside the
   theoretical cascade region;
5. the public beliefs along the observed histories (:func:`sociallearn.public_beliefs`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmsl_core import to_jsonable

from .pipeline import ChainRun

__all__ = ["ChainStudy", "analyze_chain_run"]


@dataclass
class ChainStudy:
    """Everything ``llmsl chain`` measured and inferred (see the module docstring)."""

    run: ChainRun
    sensor: Any
    likelihood: np.ndarray
    likelihood_lower: np.ndarray
    likelihood_upper: np.ndarray
    informativeness: dict
    model: Any
    herding: Any
    threshold: Any
    comparison: Any
    beliefs: np.ndarray
    params: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def informative(self) -> bool:
        """Whether the labels without history depend detectably on the state (G-test at 5%)."""
        return bool(self.informativeness.get("informative_at_5pct", False))

    def to_dict(self) -> dict:
        comp = self.comparison.to_dict()
        return to_jsonable({
            "log_likelihood": comp["log_likelihood"], "aic": comp["aic"],
            "herding_strength": comp["herding_strength"],
            "herding_strength_interval": comp["herding_strength_interval"], "best_model": comp["best_model"],
            "lr_tests": comp["lr_tests"], "model_comparison": comp,
            "herding": self.herding.to_dict(),
            "cascade_threshold": None if self.threshold is None else self.threshold.to_dict(),
            "likelihood": {"mean": self.likelihood, "lower": self.likelihood_lower, "upper": self.likelihood_upper,
                           "state_labels": list(self.sensor.state_labels), "obs_labels": list(self.sensor.obs_labels),
                           "counts": self.sensor.counts(), "source": self.sensor.source},
            "informativeness": self.informativeness, "informative": self.informative,
            "chains": self.run.to_dict(), "params": self.params, "timings": self.timings})

    def summary(self) -> str:
        parts = [self.run.summary(), self.herding.summary(), self.comparison.summary()]
        if self.threshold is not None:
            parts.append(self.threshold.summary())
        return "\n\n".join(parts)


def analyze_chain_run(run: ChainRun, sensor, *, prior_strength: float = 1.0, tie_rule: str = "uniform",
                      level: float = 0.95, n_boot: int = 1000, n_sim: int = 4000, seed: int = 0) -> ChainStudy:
    r"""Analyze observed chains against the Bayesian filter with the sensor's ``B`` (see the module docstring).

    Parameters
    ----------
    run : ChainRun
        From :func:`~llmsl.chain.run_chains`.
    sensor : SensorData
        The same model's labels of the corpus without history, coarsened to the chain's states
        (``sensor.n_states`` = the number of decisions).
    prior_strength : float
        Dirichlet pseudo-count per cell of ``B`` (0: the plug-in frequencies).
    tie_rule : str
        Tie rule of the Bayesian agents (``"uniform"``, ``"own_signal"``, ``"first"``).
    level : float
        Level of every interval.
    n_boot, n_sim : int
        Bootstrap resamples of chains; simulated Bayesian chains per prior.
    seed : int

    Returns
    -------
    ChainStudy

    Examples
    --------
    >>> from llmas.tasks import get_task
    >>> from llmsl.chain import run_chains, scripted_backend
    >>> from llmsl.herd import label_corpus
    >>> corpus = get_task("hate_speech").load_corpus()
    >>> agent = scripted_backend("bayes", [[0.8, 0.2], [0.3, 0.7]], corpus)
    >>> run = run_chains(agent, "hate_speech", corpus, n_chains=30, n_agents=5, seed=0)
    >>> sensor = label_corpus(agent, "hate_speech", corpus, labels="binary", mode="logprobs")
    >>> study = analyze_chain_run(run, sensor, prior_strength=0.0, n_boot=50, n_sim=200)
    >>> study.comparison.best_model, study.likelihood.round(3).tolist()
    ('bayes', [[0.8, 0.2], [0.3, 0.7]])
    """
    from sociallearn import (
        LikelihoodEstimate,
        SocialLearningModel,
        analyze_chains,
        cascade_threshold,
        fit_social_models,
        informativeness,
        public_beliefs,
        zero_one_cost,
    )

    from ..herd.sensor import SensorData

    if not isinstance(run, ChainRun):
        raise ValueError(f"run must be a ChainRun (from run_chains), got {type(run).__name__}")
    if not isinstance(sensor, SensorData):
        raise ValueError(f"sensor must be a SensorData (the model's labels without history), got "
                         f"{type(sensor).__name__}")
    X = run.data.n_states
    if sensor.n_states != X:
        raise ValueError(f"sensor has {sensor.n_states} states but the chains decide among {X}; label the corpus "
                         f"with the chain's coarsening (labels={run.labels!r})")
    ps = float(prior_strength)
    if not (np.isfinite(ps) and ps >= 0):
        raise ValueError(f"prior_strength must be a finite number >= 0, got {prior_strength!r}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    counts = np.asarray(sensor.counts(), dtype=float)
    if np.any(counts.sum(axis=1) <= 0):
        raise ValueError("the sensor has a state without readings: B cannot be estimated")
    est = LikelihoodEstimate.from_counts(counts, ps)
    B = est.mean
    lo, hi = est.intervals(level)
    info = informativeness(est, n_samples=1000, seed=[seed, 11]).to_dict()
    model = SocialLearningModel(B, cost=zero_one_cost(X), tie_rule=tie_rule)
    timings["likelihood"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    herding = analyze_chains(run.data, model, level=level, n_boot=n_boot, n_sim=n_sim, seed=[seed, 12])
    timings["herding"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    comparison = fit_social_models(run.data, model, level=level)
    timings["model_fit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    threshold = (cascade_threshold(run.data, model, level=level, n_boot=n_boot, seed=[seed, 13])
                 if run.data.n_actions == 2 else None)
    beliefs = public_beliefs(run.data, model)
    timings["threshold"] = time.perf_counter() - t0
    params = {"prior_strength": ps, "tie_rule": tie_rule, "level": level, "n_boot": n_boot, "n_sim": n_sim,
              "seed": seed}
    return ChainStudy(run=run, sensor=sensor, likelihood=B, likelihood_lower=lo, likelihood_upper=hi,
                      informativeness=info, model=model, herding=herding, threshold=threshold,
                      comparison=comparison, beliefs=beliefs, params=params, timings=timings)
