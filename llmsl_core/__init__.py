"""The bottom layer shared by every llmsl package: input checks, seeds, JSON values.

``ribum``, ``sociallearn`` and ``control`` are siblings that must not import
each other's internals, yet they validate the same kinds of input and return
results that must serialize the same way.  Each of those jobs has one helper,
here; this package imports only numpy.

- :func:`check_random_state`: every ``seed=`` argument becomes a ``numpy.random.Generator``.
- :func:`check_n_jobs`: every ``n_jobs=`` argument (worker threads; None: the available cores).
- :func:`check_stochastic`: row-stochastic matrices and kernels, with one tolerance, :data:`STOCHASTIC_ATOL`.
- :func:`to_jsonable`: plain JSON values, non-finite floats as ``None``.
- :func:`mutual_information`: I(X; A) of a channel (or a stack of them) under a prior, in bits.
"""
from __future__ import annotations

from .checks import STOCHASTIC_ATOL, check_n_jobs, check_random_state, check_stochastic
from .information import mutual_information
from .jsonable import to_jsonable

__all__ = ["check_random_state", "check_n_jobs", "check_stochastic", "STOCHASTIC_ATOL", "to_jsonable",
           "mutual_information"]
