"""Monetary policy: the Taylor rule of EconAgent (SPEC 5, step 4)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TaylorRule:
    """Nominal interest rate set once a year.

        r = max(0, r_n + pi_t + alpha_pi (pi - pi_t) + alpha_u (u_n - u))

    with annual inflation pi and unemployment rate u of the year just ended.

    Example
    -------
    >>> rule = TaylorRule()
    >>> round(rule(inflation=0.02, unemployment=0.04), 12)
    0.03
    >>> round(rule(inflation=0.10, unemployment=0.04), 12)
    0.07
    """

    r_natural: float = 0.01
    target_inflation: float = 0.02
    natural_unemployment: float = 0.04
    alpha_pi: float = 0.5
    alpha_u: float = 0.5

    def __call__(self, inflation: float, unemployment: float) -> float:
        if inflation != inflation or unemployment != unemployment:
            raise ValueError("Taylor rule inputs must not be NaN")
        r = (self.r_natural + self.target_inflation
             + self.alpha_pi * (inflation - self.target_inflation)
             + self.alpha_u * (self.natural_unemployment - unemployment))
        return max(0.0, r)

    def to_dict(self) -> dict:
        return asdict(self)
