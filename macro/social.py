"""Social channel in expectations through the sociallearn filter (SPEC section 2).

Hidden state of month t: x_t = 1 if the price set for next month rose (P_{t+1} > P_t),
else 0 (the economy decides it at the end of month t from the market imbalance; households
do not see it). Each household i gets a private signal y_i ~ B[x_t, .] with
B = [[q, 1 - q], [1 - q, q]] (``precision`` q), drawn from the channel's own stream of
the economy's seed. Households then announce an expectation a in {0: "not up", 1: "up"}:

* a random sample of ``n_observed`` households speaks in a random order; each acts
  myopically on its private belief (the sociallearn model
  ``SocialLearningModel.binary_symmetric(q)``, 0-1 loss, uniform tie rule) given the
  public belief pi, and everybody updates pi by the social learning filter
  pi <- R^pi_a pi / sigma(pi, a) (:meth:`sociallearn.SocialLearningModel.public_update`);
* every other household acts on its own signal and the final public belief.

pi starts every month at ``prior``. Herding in expectations is then what sociallearn
measures in ``herd``: the public belief enters the cascade set
(:meth:`~sociallearn.SocialLearningModel.in_cascade`), after which announcements carry
no information; a cascade on the wrong expectation is a wrong herd. The channel reports
the empirical frequencies and the exact prediction of
:func:`sociallearn.herding_probability` (``method="exact"``) for the same model, prior
and chain length, mixed over the realized states.
"""
from __future__ import annotations

import numpy as np

from .metrics import _nan_to_none


def run_chain(model, prior, signals, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the sociallearn chain on given signals.

    For k = 1..K: draw a_k from the decision rule P(a | y_k, pi_{k-1})
    (:meth:`~sociallearn.SocialLearningModel.decision_probs`; random only on ties), then
    pi_k = ``model.public_update(pi_{k-1}, a_k)``.

    Parameters
    ----------
    model : sociallearn.SocialLearningModel
    prior : array (X,)
    signals : int array (K,)
    rng : numpy.random.Generator
        Breaks ties.

    Returns
    -------
    actions (K,), beliefs (K + 1, X) with beliefs[0] = prior, and in_cascade (K + 1,) of each
    belief (``in_cascade[t]``: the belief after t announcements is in the cascade set).

    Example
    -------
    >>> from sociallearn import SocialLearningModel
    >>> m = SocialLearningModel.binary_symmetric(0.7)
    >>> a, b, c = run_chain(m, [0.5, 0.5], np.array([0, 0, 1]), np.random.default_rng(0))
    >>> a.tolist(), np.round(b[:, 0], 4).tolist(), c.tolist()
    ([0, 0, 0], [0.5, 0.7, 0.7532, 0.7532], [False, False, True, True])
    """
    pi = np.asarray(prior, dtype=float)
    signals = np.asarray(signals)
    if signals.ndim != 1 or signals.dtype.kind not in "iu":
        raise ValueError(f"signals must be a 1-D integer array, got {signals!r}")
    k = signals.size
    actions = np.empty(k, dtype=int)
    beliefs = np.empty((k + 1, pi.size))
    casc = np.empty(k + 1, dtype=bool)
    beliefs[0] = pi
    for j in range(k):
        casc[j] = bool(model.in_cascade(pi))
        p = model.decision_probs(pi)[int(signals[j])]
        actions[j] = int(rng.choice(p.size, p=p)) if np.count_nonzero(p) > 1 else int(np.argmax(p))
        pi = model.public_update(pi, actions[j])
        beliefs[j + 1] = pi
    casc[k] = bool(model.in_cascade(pi))
    return actions, beliefs, casc


class ExpectationChannel:
    """Households' expectations of the price change, learned socially (module docstring).

    Parameters
    ----------
    precision : float in (0.5, 1]
        q, the probability that a private signal equals the state.
    n_observed : int >= 1
        Households whose announcements are public each month (the chain length).
    prior : (float, float)
        Public belief over (not up, up) at the start of each month.

    Example
    -------
    >>> from macro import Economy, EconomyConfig
    >>> ch = ExpectationChannel(precision=0.7, n_observed=8)
    >>> res = Economy(EconomyConfig(n_households=20, n_months=24), seed=0, social=ch).run()
    >>> s = ch.herding()
    >>> s["n_months"], 0 <= s["p_cascade"] <= 1
    (24, True)
    """

    def __init__(self, precision: float = 0.7, n_observed: int = 10, prior=(0.5, 0.5)):
        from sociallearn import SocialLearningModel

        if not (np.isfinite(precision) and 0.5 < precision <= 1):
            raise ValueError(f"precision must lie in (0.5, 1], got {precision}")
        if int(n_observed) != n_observed or n_observed < 1:
            raise ValueError(f"n_observed must be a positive integer, got {n_observed}")
        prior = np.asarray(prior, dtype=float)
        if prior.shape != (2,) or np.any(prior < 0) or not np.isclose(prior.sum(), 1.0):
            raise ValueError(f"prior must be a probability vector of length 2, got {prior!r}")
        self.precision, self.n_observed, self.prior = float(precision), int(n_observed), prior
        self.model = SocialLearningModel.binary_symmetric(self.precision)

    def reset(self, economy) -> None:
        if self.n_observed > economy.config.n_households:
            raise ValueError(f"n_observed = {self.n_observed} exceeds the {economy.config.n_households} households")
        self.rng = economy._rng_social
        self.months: list[dict] = []

    def end_month(self, month: int, economy, price: float, new_price: float) -> None:
        n = economy.config.n_households
        x = int(new_price > price)
        y = np.where(self.rng.random(n) < self.precision, x, 1 - x)
        order = self.rng.permutation(n)
        chain = order[:self.n_observed]
        acts, beliefs, casc = run_chain(self.model, self.prior, y[chain], self.rng)
        rest = order[self.n_observed:]
        expect = np.empty(n, dtype=int)
        expect[chain] = acts
        if rest.size:
            d = self.model.decision_probs(beliefs[-1])[y[rest]]  # (n_rest, A)
            u = self.rng.random(rest.size)
            expect[rest] = (u[:, None] > np.cumsum(d, axis=1)).sum(axis=1)
        first = int(np.argmax(casc)) if casc.any() else -1
        herd = int(self.model.cascade_action(beliefs[-1])) if casc.any() else -1
        self.months.append({"month": month, "state": x, "actions": acts.tolist(),
                            "public_belief_up": beliefs[:, 1].tolist(), "cascade_at": first,
                            "cascade_action": herd, "wrong_cascade": bool(herd >= 0 and herd != x),
                            "share_expect_up": float(expect.mean()),
                            "share_correct": float((expect == x).mean())})

    def herding(self) -> dict:
        """Empirical herding in expectations against the exact sociallearn prediction.

        p_cascade, p_wrong_cascade: shares of months whose public belief entered the cascade
        set within ``n_observed`` announcements (after t = 0..n_observed of them) and of those on the wrong expectation;
        ``exact_*``: :func:`sociallearn.herding_probability` (exact) for each state, mixed
        with the realized state frequencies.
        """
        from sociallearn import herding_probability

        m = self.months
        n = len(m)
        if n == 0:
            return {"n_months": 0}
        states = np.array([r["state"] for r in m])
        casc = np.array([r["cascade_at"] >= 0 for r in m])
        wrong = np.array([r["wrong_cascade"] for r in m])
        exact_wrong = exact_casc = 0.0
        for x in (0, 1):
            f = float((states == x).mean())
            if f > 0:
                h = herding_probability(self.model, self.prior, n_agents=self.n_observed, true_state=x,
                                        method="exact")
                exact_wrong += f * float(h.p_wrong[0])
                exact_casc += f * float(h.p_wrong[0] + h.p_correct[0])
        times = [r["cascade_at"] for r in m if r["cascade_at"] >= 0]
        return _nan_to_none({
            "n_months": n, "share_up_months": float(states.mean()), "p_cascade": float(casc.mean()),
            "p_wrong_cascade": float(wrong.mean()),
            "se_wrong_cascade": float(np.sqrt(wrong.mean() * (1 - wrong.mean()) / n)),
            "exact_p_cascade": exact_casc, "exact_p_wrong_cascade": exact_wrong,
            "mean_cascade_at": float(np.mean(times)) if times else float("nan"),
            "mean_share_correct": float(np.mean([r["share_correct"] for r in m])),
            "correct_if_signals_only": self.precision})

    def to_dict(self) -> dict:
        return {"precision": self.precision, "n_observed": self.n_observed, "prior": self.prior.tolist(),
                "model": self.model.to_dict(), "herding": self.herding(),
                "months": getattr(self, "months", [])}
