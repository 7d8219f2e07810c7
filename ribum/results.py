"""Result objects of :mod:`ribum` (dataclasses with ``summary()`` and ``to_dict()``)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from llmsl_core import to_jsonable


def _nanmin(a: np.ndarray) -> float:
    return float(np.nanmin(a)) if np.any(~np.isnan(a)) else float("nan")


class _Result:
    def to_dict(self) -> dict:
        """All fields as plain Python (JSON-serialisable) values."""
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self) if f.repr}  # type: ignore[arg-type]


@dataclass
class GarpResult(_Result):
    """Outcome of :func:`ribum.garp`.

    Attributes
    ----------
    passed : bool
        GARP_e holds.
    violations : int
        Number of ordered pairs (t, s) with t R*_e s and s P0_e t.
    efficiency : float
        The efficiency e at which the relations were built.
    n_observations : int
    n_on_cycle : int
        Observations that lie on some revealed-preference cycle (members of a
        strongly connected component of R0_e with two or more observations).
    cycles : list of list of int or None
        With ``cycles=True``: violating cycles [t1, ..., tk] meaning
        t1 P0_e t2 R0_e t3 ... tk R0_e t1 (the first arc strict), one per
        violating strict arc, shortest completion, at most ``max_cycles``.
    """

    passed: bool
    violations: int
    efficiency: float
    n_observations: int
    n_on_cycle: int
    cycles: list | None = None

    def summary(self) -> str:
        lines = [
            f"GARP at efficiency e = {self.efficiency:g}: {'PASSED' if self.passed else 'FAILED'}",
            f"  observations             {self.n_observations}",
            f"  violating pairs (t R* s, s P0 t)  {self.violations}",
            f"  observations on a cycle  {self.n_on_cycle}",
        ]
        if self.cycles:
            lines.append(f"  first violating cycles   {self.cycles[:5]}")
        return "\n".join(lines)


@dataclass
class IndexResult(_Result):
    """A goodness-of-fit index for budget data (Varian, Houtman-Maks, Money Pump).

    Attributes
    ----------
    name : str
    value : float
        The index.
    detail : dict
        Index-specific numbers (per-observation efficiencies, the kept subset,
        the per-cycle values, ...), documented by the function that made it.
    exact : bool
        False when a documented limit (cycle length, count) truncated the search.
    """

    name: str
    value: float
    detail: dict = field(default_factory=dict)
    exact: bool = True

    def summary(self) -> str:
        lines = [f"{self.name}: {self.value:.6g}{'' if self.exact else ' (truncated search, see detail)'}"]
        for k, v in self.detail.items():
            if isinstance(v, np.ndarray) and v.size > 8:
                v = f"array of shape {v.shape}"
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)

    def __float__(self) -> float:
        return float(self.value)


@dataclass
class PowerResult(_Result):
    """Bronars' power: share of uniformly random choices on the same budgets that violate GARP_e."""

    power: float
    n_sim: int
    n_violating: int
    efficiency: float
    stderr: float
    ccei: np.ndarray | None = None

    def summary(self) -> str:
        return (
            f"Bronars power at e = {self.efficiency:g}: {self.power:.4f} "
            f"(+- {self.stderr:.4f}, {self.n_violating}/{self.n_sim} random data sets violate GARP)"
        )


@dataclass
class SlackResult(_Result):
    """Per-constraint slack of NIAS or NIAC for given utilities (and costs).

    ``slack`` >= 0 means the constraint holds; entries that are not constraints are NaN.
    """

    name: str
    passed: bool
    slack: np.ndarray
    min_slack: float
    tol: float

    def summary(self) -> str:
        n = int(np.sum(~np.isnan(self.slack)))
        bad = int(np.sum(self.slack < -self.tol))
        return (
            f"{self.name}: {'PASSED' if self.passed else 'FAILED'} "
            f"({bad} of {n} constraints violated, min slack {self.min_slack:.6g})"
        )


@dataclass
class RibumResult(_Result):
    """Outcome of :func:`ribum.check_ribum` (the NIAS + NIAC linear program).

    Attributes
    ----------
    passed : bool
        ``margin > tol``: the kernels are consistent with rationally inattentive
        Bayesian utility maximisation with a strictly positive margin.
    margin : float
        Optimal margin m* (max-margin objective) or the fixed margin used
        (sparsest objective): the smallest slack over all NIAS and NIAC
        constraints, in expected-utility units with utilities in [0, 1].
    utilities : (K, X, A) array
        Recovered utilities r_k(x, a) in [0, 1].
    costs : (K,) array
        Recovered attention costs kappa_k (identified up to a constant; min 0).
    nias_slack : (K, A, A) array
        sum_x p_k(x|a) (r_k(x, a) - r_k(x, b)); NaN on the diagonal and for unchosen a.
    niac_slack : (K, K) array
        [G_k - kappa_k] - [V_kj - kappa_j]; NaN on the diagonal.
    binding_nias : (n, 3) int array
        (k, a, b) of NIAS constraints whose slack is within ``tol`` of the margin.
    binding_niac : (n, 2) int array
        (k, j) of binding NIAC constraints.
    objective, solver, status : str
    tol : float
    method : str
        The solver attempt that produced the answer (e.g. "HIGHS interior
        point") and the attempts that failed before it.
    """

    passed: bool
    margin: float
    utilities: np.ndarray
    costs: np.ndarray
    nias_slack: np.ndarray
    niac_slack: np.ndarray
    binding_nias: np.ndarray
    binding_niac: np.ndarray
    objective: str
    solver: str
    status: str
    tol: float
    prior: np.ndarray | None = field(default=None, repr=False)
    method: str = ""
    utilities_mode: str = "per_environment"
    baseline: np.ndarray | None = None
    scale: float | None = None
    incentives: np.ndarray | None = None
    max_scale: float | None = None
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """All fields as strict-JSON values (NaN and infinities become None)."""
        return super().to_dict()

    def summary(self) -> str:
        K, X, A = self.utilities.shape
        lines = [
            f"RIBUM test (NIAS + NIAC), objective '{self.objective}': {'PASSED' if self.passed else 'FAILED'}",
            f"  environments K={K}, states X={X}, actions A={A}",
            f"  margin m* = {self.margin:.6g}  (pass iff m* > {self.tol:g}; utilities normalised to [0, 1])",
            f"  min NIAS slack {_nanmin(self.nias_slack):.6g}, min NIAC slack {_nanmin(self.niac_slack):.6g}",
            f"  binding: {len(self.binding_nias)} NIAS (k, a, b), {len(self.binding_niac)} NIAC (k, j)",
            f"  attention costs kappa = {np.array2string(self.costs, precision=4)}",
            f"  solver {self.solver}, status {self.status}" + (f" ({self.method})" if self.method else ""),
        ]
        if self.utilities_mode == "shared":
            lines.insert(1, "  utilities: shared, r_k = r + lambda Delta_k with known incentives Delta_k "
                            f"(0 <= lambda <= {self.max_scale:g})")
            lines.insert(5, f"  incentive scale lambda = {self.scale:.6g}" + (
                "  (0: behaviour shows no response to the incentives)" if not self.scale else ""))
        else:
            lines.insert(1, "  utilities: a free r_k per environment (rejects little beyond duplicate posteriors)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class BootstrapResult(_Result):
    """Outcome of :func:`ribum.bootstrap_ribum`.

    Attributes
    ----------
    margin : float
        m* of the point estimate p_hat = counts / row sums.
    margins : (n_boot,) array
        m* of every bootstrap resample.
    pvalue : float
        m-out-of-n bootstrap p-value of H0 "m* = 0" (not strictly RIBUM-consistent)
        against m* > 0. Small values are evidence for consistency (exact
        definition in :func:`ribum.bootstrap_ribum`).
    ci : (2,) array
        Two-sided bootstrap interval for m* at level ``level``.
    pass_rate : float
        Share of resamples with m*_b > tol.
    """

    margin: float
    margins: np.ndarray
    pvalue: float
    ci: np.ndarray
    level: float
    pass_rate: float
    n_boot: int
    seed: int | None
    solver: str
    resample_exponent: float | None = None
    utilities_mode: str = "per_environment"
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """All fields as strict-JSON values (NaN and infinities become None)."""
        return super().to_dict()

    def summary(self) -> str:
        return "\n".join(
            [
                f"Bootstrap of the RIBUM max-margin LP ({self.utilities_mode} utilities)",
                f"  m* (point estimate)      {self.margin:.6g}",
                f"  bootstrap mean / sd      {self.margins.mean():.6g} / "
                f"{self.margins.std(ddof=1) if self.n_boot > 1 else float('nan'):.6g}",
                f"  {int(100 * self.level)}% interval           [{self.ci[0]:.6g}, {self.ci[1]:.6g}]",
                f"  p-value (H0: m* = 0)     {self.pvalue:.4g}  (small = evidence of consistency)",
                f"  resamples passing        {self.pass_rate:.3f} of {self.n_boot}",
            ]
            + [f"  note: {n}" for n in self.notes]
        )


@dataclass
class RibumPowerResult(_Result):
    """Outcome of :func:`ribum.ribum_power`: how often random behaviour of the same shape fails the test.

    Attributes
    ----------
    power : float
        Share of the ``n`` null draws that fail the test (m* <= tol).
    ci : (2,) array
        Monte Carlo interval for the power at level ``level`` (``interval``:
        "wilson" or "clopper-pearson").
    n, n_fail : int
    null : str
        "uniform" (Dirichlet(1) rows) or "matched" (the observed I(X;A) per environment).
    utilities_mode : str
        The test whose power this is ("per_environment" or "shared").
    observed_margin : float
        m* of the observed kernels (same LP).
    observed_passed : bool
    margins : (n,) array
        m* of every null draw whose LP was solved; NaN for a draw whose pass a
        certificate showed without it (:func:`ribum.inattention.certified_pass`).
    n_certified : int
        Draws settled by that certificate (they pass; their LP was not solved).
    target_information : (K,) array or None
        The observed I(X;A) in nats that the matched null reproduces.
    statement : str
        One plain-language sentence (also the first line of ``summary()``).
    """

    power: float
    ci: np.ndarray
    level: float
    interval: str
    n: int
    n_fail: int
    null: str
    utilities_mode: str
    observed_margin: float
    observed_passed: bool
    margins: np.ndarray
    target_information: np.ndarray | None
    tol: float
    seed: int | None
    shape: tuple
    notes: list = field(default_factory=list)
    n_certified: int = 0

    #: below this power a pass "says little"; from HIGH_POWER on the test has high power.
    LOW_POWER = 0.5
    HIGH_POWER = 0.8

    @property
    def statement(self) -> str:
        K, X, A = self.shape
        null = ("uniformly random rows" if self.null == "uniform"
                else "random rows as informative as the observed ones")
        lo, hi = self.ci
        head = (f"A random agent of this shape ({K} environments x {X} states x {A} actions, {null}) would fail "
                f"this test with probability {self.power:.2f} [{lo:.2f}, {hi:.2f}]")
        if self.power < self.LOW_POWER:
            tail = "the test had little power, so a pass says little about rational inattention."
        elif self.power < self.HIGH_POWER:
            tail = "the test had moderate power: random behaviour often passes too."
        else:
            tail = "the test had high power: random behaviour of this shape is usually rejected."
        return f"{head}: {tail}"

    def summary(self) -> str:
        lines = [
            self.statement,
            f"  RIBUM power ({self.utilities_mode} utilities), null '{self.null}': {self.n_fail} of {self.n} draws "
            f"fail (m* <= {self.tol:g}); {int(round(100 * self.level))}% {self.interval} interval "
            f"[{self.ci[0]:.4f}, {self.ci[1]:.4f}]",
            f"  observed m* = {self.observed_margin:.6g} ({'passes' if self.observed_passed else 'fails'})",
        ]
        if self.n_certified:
            lines.append(f"  {self.n_certified} of {self.n} draws shown to pass by a checked feasible point "
                         "(no LP solved for them)")
        if self.target_information is not None:
            info = np.array2string(self.target_information, precision=4)
            lines.append(f"  matched I(X;A) per environment (nats): {info}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = to_jsonable(super().to_dict())
        d["statement"] = self.statement
        return d
